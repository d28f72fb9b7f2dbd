#include "gitmodel/git/tree_links.hpp"

#include "gitmodel/core/text.hpp"

#include <fmt/core.h>

#include <deque>
#include <vector>

namespace gm::git {

namespace {

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
    return out;
}

}  // namespace

FollowedPath follow_tree_links(const std::string& path, const TreeLookup& lookup) {
    constexpr int max_links = 40;  // as the kernel's own limit on a path's links
    std::deque<std::string> todo;
    for (auto& part : split_fields(path, '/')) todo.push_back(std::move(part));
    std::vector<std::string> done;  // the folders resolved so far, from the tree's root
    int links = 0;
    std::string last_link;  // "a/b" -> "../c" (quoted), for a message about where links led
    const auto outside = [&] {
        return FollowedPath{std::nullopt, last_link.empty() ? fmt::format("{} leads out of the commit's tree", path)
                                                            : fmt::format("{}, outside the commit's tree", last_link)};
    };
    while (!todo.empty()) {
        const std::string part = std::move(todo.front());
        todo.pop_front();
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (done.empty()) return outside();
            done.pop_back();
            continue;
        }
        done.push_back(part);
        const auto entry = lookup(joined(done));
        if (!entry) return {};
        if (entry->kind == TreeEntryKind::Kind::link) {
            if (++links > max_links) return {std::nullopt, fmt::format("{} is a loop of links", path)};
            last_link = fmt::format("{} is a link to {}", joined(done), entry->link_target);
            if (entry->link_target.empty() || entry->link_target[0] == '/') return outside();
            done.pop_back();  // the target replaces the link, relative to the link's folder
            auto target = split_fields(entry->link_target, '/');
            todo.insert(todo.begin(), target.begin(), target.end());
            continue;
        }
        const bool last = todo.empty();
        if (last ? entry->kind != TreeEntryKind::Kind::blob : entry->kind != TreeEntryKind::Kind::tree) return {};
    }
    if (done.empty()) return {};
    return {joined(done), ""};
}

}  // namespace gm::git
