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
    constexpr int max_links = 40;              // as the kernel's own limit on a path's links
    constexpr std::size_t max_target = 4095;   // as the kernel's: git stores a link of any size
    std::deque<std::string> todo;
    for (auto& part : split_fields(path, '/')) todo.push_back(std::move(part));
    std::vector<std::string> done;  // the folders resolved so far, from the tree's root
    int links = 0;
    std::string last_link;  // "a/b is a link to ../c" (printable), for a message about where links led
    const auto refused = [&](const std::string& why) { return FollowedPath{std::nullopt, last_link + why}; };
    while (!todo.empty()) {
        const std::string part = std::move(todo.front());
        todo.pop_front();
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (done.empty())
                return last_link.empty() ? FollowedPath{std::nullopt, printable(path, 200) + " leads out of the commit's tree"}
                                         : refused(", outside the commit's tree");
            done.pop_back();
            continue;
        }
        done.push_back(part);
        const auto entry = lookup(joined(done));
        // Nothing there: an absent file is just absent, but a link must lead to a file.
        if (!entry) return links == 0 ? FollowedPath{} : refused(", which names nothing in the commit's tree");
        if (entry->kind == TreeEntryKind::Kind::link) {
            if (++links > max_links) return {std::nullopt, printable(path, 200) + " is a loop of links"};
            last_link = fmt::format("{} is a link to {}", printable(joined(done), 200), printable(entry->link_target, 200));
            if (entry->link_target.empty() || entry->link_target[0] == '/') return refused(", outside the commit's tree");
            if (entry->link_target.size() > max_target) return refused(", longer than any link a file system holds");
            done.pop_back();  // the target replaces the link, relative to the link's folder
            auto target = split_fields(entry->link_target, '/');
            todo.insert(todo.begin(), target.begin(), target.end());
            continue;
        }
        const bool last = todo.empty();
        const auto wanted = last ? TreeEntryKind::Kind::blob : TreeEntryKind::Kind::tree;
        if (entry->kind == wanted) continue;
        if (links == 0) return {};  // a folder (or submodule) where the file would be: no file
        return refused(entry->kind == TreeEntryKind::Kind::other ? ", which leads into a submodule"
                       : last                                    ? ", which is not a file"
                                                                 : ", which leads through a file");
    }
    if (done.empty()) return links == 0 ? FollowedPath{} : refused(", which names no file");
    return {joined(done), ""};
}

}  // namespace gm::git
