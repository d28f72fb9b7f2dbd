#include "gitmodel/git/history.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/handle.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace gm::git {

namespace {

using TagHandle = Handle<git_tag, git_tag_free>;
using NoteHandle = Handle<git_note, git_note_free>;

constexpr std::string_view tags_prefix = "refs/tags/";

// Everything TagInfo holds about one reference under refs/tags/.
TagInfo read_tag_ref(git_repository* repo, git_reference* ref) {
    TagInfo info;
    info.name = std::string(git_reference_name(ref)).substr(tags_prefix.size());
    git_object* peeled = nullptr;
    if (git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0) {
        ObjectHandle owner(peeled);
        info.target = to_hex(*git_object_id(peeled));
    }
    const git_oid* direct = git_reference_target(ref);
    if (!direct) return info;
    git_tag* raw = nullptr;
    if (git_tag_lookup(&raw, repo, direct) != 0) {
        git_error_clear();
        return info;  // a lightweight tag: the ref names a commit (or another object) directly
    }
    TagHandle tag(raw);
    info.annotated = true;
    if (const char* message = git_tag_message(raw)) info.message = message;
    if (const git_signature* tagger = git_tag_tagger(raw)) {
        info.tagger_time = static_cast<std::int64_t>(tagger->when.time);
        info.tagger_offset_minutes = tagger->when.offset;
        info.tagger = fmt::format("{} <{}>", tagger->name ? tagger->name : "", tagger->email ? tagger->email : "");
    }
    return info;
}

}  // namespace

std::vector<TagInfo> tags_matching(const Repository& repo, std::string_view glob) {
    std::vector<TagInfo> out;
    git_reference_iterator* raw = nullptr;
    const std::string full_glob = std::string(tags_prefix) + std::string(glob);
    check(git_reference_iterator_glob_new(&raw, repo.raw(), full_glob.c_str()), "cannot list tags");
    IteratorHandle iterator(raw);
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, iterator.get()) == 0) {
        ReferenceHandle ref(ref_raw);
        if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;
        out.push_back(read_tag_ref(repo.raw(), ref.get()));
    }
    return out;
}

std::optional<TagInfo> find_tag(const Repository& repo, std::string_view name) {
    git_reference* raw = nullptr;
    const std::string full = std::string(tags_prefix) + std::string(name);
    if (git_reference_lookup(&raw, repo.raw(), full.c_str()) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    ReferenceHandle ref(raw);
    if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) return std::nullopt;
    return read_tag_ref(repo.raw(), ref.get());
}

std::optional<CommitSummary> commit_summary(const Repository& repo, std::string_view commit) {
    git_oid oid;
    if (!parse_oid(oid, commit)) return std::nullopt;
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo.raw(), &oid) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    CommitHandle owner(raw);
    CommitSummary summary;
    summary.id = to_hex(oid);
    const char* message = git_commit_message(raw);
    std::string text = message ? message : "";
    summary.subject = text.substr(0, text.find('\n'));
    summary.commit_time = static_cast<std::int64_t>(git_commit_time(raw));
    summary.parent_count = git_commit_parentcount(raw);
    return summary;
}

namespace {

struct OidHash {
    std::size_t operator()(const git_oid& oid) const noexcept {
        std::size_t value = 0;
        std::memcpy(&value, oid.id, sizeof value);
        return value;
    }
};

struct OidEqual {
    bool operator()(const git_oid& a, const git_oid& b) const noexcept { return git_oid_equal(&a, &b); }
};

using OidSet = std::unordered_set<git_oid, OidHash, OidEqual>;

// Visits every commit reachable from the starts (each once), skipping `stop`; calls visit in BFS order.
template <typename Visit>
void walk_graph(git_repository* repo, std::vector<git_oid> starts, const OidSet* stop, OidSet& seen, Visit&& visit) {
    std::deque<git_oid> queue;
    for (const auto& start : starts)
        if ((!stop || !stop->count(start)) && seen.insert(start).second) queue.push_back(start);
    while (!queue.empty()) {
        const git_oid oid = queue.front();
        queue.pop_front();
        git_commit* raw = nullptr;
        if (git_commit_lookup(&raw, repo, &oid) != 0) {
            git_error_clear();
            continue;  // a shallow clone's boundary
        }
        CommitHandle commit(raw);
        visit(oid);
        for (unsigned i = 0; i < git_commit_parentcount(raw); ++i) {
            const git_oid parent = *git_commit_parent_id(raw, i);
            if ((!stop || !stop->count(parent)) && seen.insert(parent).second) queue.push_back(parent);
        }
    }
}

}  // namespace

CommitRange commits_reachable_only_from(const Repository& repo, std::string_view tip,
                                        const std::vector<std::string>& exclude, std::size_t limit) {
    CommitRange range;
    git_oid start;
    if (!parse_oid(start, tip)) return range;
    std::vector<git_oid> hidden_starts;
    for (const auto& id : exclude) {
        git_oid oid;
        if (parse_oid(oid, id)) hidden_starts.push_back(oid);
    }
    OidSet hidden;
    walk_graph(repo.raw(), hidden_starts, nullptr, hidden, [](const git_oid&) {});
    OidSet seen;
    walk_graph(repo.raw(), {start}, &hidden, seen, [&](const git_oid& oid) {
        ++range.total;
        if (range.commits.size() < limit) range.commits.push_back(to_hex(oid));
    });
    return range;
}

std::vector<std::string> first_parent_chain(const Repository& repo, std::string_view tip) {
    std::vector<std::string> chain;
    git_oid oid;
    if (!parse_oid(oid, tip)) return chain;
    for (;;) {
        git_commit* raw = nullptr;
        if (git_commit_lookup(&raw, repo.raw(), &oid) != 0) {
            git_error_clear();
            break;  // a shallow or broken history ends the line here
        }
        CommitHandle owner(raw);
        chain.push_back(to_hex(oid));
        if (git_commit_parentcount(raw) == 0) break;
        oid = *git_commit_parent_id(raw, 0);
    }
    return chain;
}

std::optional<CommitSummary> merge_point(const Repository& repo, const std::vector<std::string>& chain,
                                         std::string_view commit) {
    git_oid target;
    if (chain.empty() || !parse_oid(target, commit)) return std::nullopt;
    const auto contains = [&](std::size_t index) {
        git_oid here;
        if (!parse_oid(here, chain[index])) return false;
        if (git_oid_equal(&here, &target)) return true;
        return git_graph_descendant_of(repo.raw(), &here, &target) == 1;
    };
    if (!contains(0)) return std::nullopt;
    // Containment holds for a prefix of the chain (newest first): find its last element.
    std::size_t low = 0, high = chain.size() - 1;  // contains(low) is true
    while (low < high) {
        const std::size_t mid = low + (high - low + 1) / 2;
        if (contains(mid)) low = mid;
        else high = mid - 1;
    }
    return commit_summary(repo, chain[low]);
}

// Remotes are read from the configuration directly: git_remote_lookup runs
// libgit2 1.5's regex-based insteadOf scan, which leaks PCRE2 match data.
bool remote_exists(const Repository& repo, std::string_view remote) {
    const Config config = repo.config();
    return config.get_string(fmt::format("remote.{}.url", remote)).has_value() ||
           config.get_string(fmt::format("remote.{}.pushurl", remote)).has_value();
}

namespace {

// Rewrites a URL with url.<base>.insteadOf as git does: the longest matching prefix wins.
std::string apply_insteadof(const Repository& repo, const std::string& url) {
    git_config* raw = nullptr;
    if (git_repository_config_snapshot(&raw, repo.raw()) != 0) {
        git_error_clear();
        return url;
    }
    ConfigHandle config(raw);
    git_config_iterator* iterator_raw = nullptr;
    if (git_config_iterator_new(&iterator_raw, raw) != 0) {
        git_error_clear();
        return url;
    }
    ConfigIteratorHandle iterator(iterator_raw);
    constexpr std::string_view prefix = "url.", suffix = ".insteadof";
    std::string best_base, best_match;
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, iterator.get()) == 0) {
        const std::string_view name = entry->name;
        if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
            name.substr(name.size() - suffix.size()) != suffix || !entry->value)
            continue;
        const std::string_view match = entry->value;
        if (match.empty() || url.compare(0, match.size(), match) != 0 || match.size() <= best_match.size()) continue;
        best_match = std::string(match);
        best_base = std::string(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
    }
    if (best_match.empty()) return url;
    return best_base + url.substr(best_match.size());
}

}  // namespace

std::optional<std::string> remote_url(const Repository& repo, std::string_view remote) {
    const Config config = repo.config();
    if (auto url = config.get_string(fmt::format("remote.{}.url", remote)); url && !url->empty())
        return apply_insteadof(repo, *url);
    if (auto push = config.get_string(fmt::format("remote.{}.pushurl", remote)); push && !push->empty())
        return *push;
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> refs_matching(const Repository& repo, std::string_view glob) {
    std::vector<std::pair<std::string, std::string>> out;
    git_reference_iterator* raw = nullptr;
    const std::string pattern(glob);
    check(git_reference_iterator_glob_new(&raw, repo.raw(), pattern.c_str()), "cannot list references");
    IteratorHandle iterator(raw);
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, iterator.get()) == 0) {
        ReferenceHandle ref(ref_raw);
        if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;  // origin/HEAD
        git_object* peeled = nullptr;
        if (git_reference_peel(&peeled, ref.get(), GIT_OBJECT_COMMIT) != 0) {
            git_error_clear();
            continue;
        }
        ObjectHandle owner(peeled);
        out.emplace_back(git_reference_name(ref.get()), to_hex(*git_object_id(peeled)));
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> remote_tracking_refs(const Repository& repo,
                                                                      std::string_view remote) {
    return refs_matching(repo, fmt::format("refs/remotes/{}/*", remote));
}

std::optional<std::string> ref_object(const Repository& repo, std::string_view full_name) {
    git_reference* raw = nullptr;
    if (git_reference_lookup(&raw, repo.raw(), std::string(full_name).c_str()) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    ReferenceHandle ref(raw);
    const git_oid* target = git_reference_target(raw);
    if (!target) return std::nullopt;
    return to_hex(*target);
}

bool delete_branch_ref_if_at(const Repository& repo, std::string_view name, std::string_view commit) {
    return delete_ref_if_at(repo, "refs/heads/" + std::string(name), commit);
}

bool delete_ref_if_at(const Repository& repo, std::string_view full_name, std::string_view object) {
    git_reference* raw = nullptr;
    const std::string full(full_name);
    if (git_reference_lookup(&raw, repo.raw(), full.c_str()) != 0) {
        git_error_clear();
        return false;
    }
    ReferenceHandle ref(raw);
    const git_oid* target = git_reference_target(raw);
    if (!target || to_hex(*target) != object) return false;
    // The refdb deletes only if the ref still has the target it was read with. A lock another
    // git holds (its own update of the ref, a pack-refs or gc on packed-refs) is waited for a
    // moment, with a growing pause, as git's core.filesRefLockTimeout does.
    auto pause = std::chrono::milliseconds(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (;;) {
        if (git_reference_delete(raw) == 0) return true;
        const git_error* error = git_error_last();
        const std::string why = error && error->message ? error->message : "unknown libgit2 error";
        git_error_clear();
        // Moved or gone meanwhile: not this call's to delete.
        if (ref_object(repo, full) != std::optional<std::string>(std::string(object))) return false;
        if (std::chrono::steady_clock::now() >= deadline) {
            // "failed to lock file '<path>.lock' for writing: ": the message names the file
            constexpr std::string_view lock_words = "failed to lock file '";
            const auto start = why.find(lock_words);
            const auto end = start == std::string::npos ? start : why.find('\'', start + lock_words.size());
            if (end == std::string::npos) throw Error(fmt::format("cannot delete {}: {}", full, why));
            throw Error(fmt::format("cannot delete {}: {} is there (another git command holds it, or one that was "
                                    "killed left it: then remove that file)",
                                    full, why.substr(start + lock_words.size(), end - start - lock_words.size())));
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

std::optional<std::string> read_note(const Repository& repo, std::string_view notes_ref, std::string_view commit) {
    git_oid oid;
    if (!parse_oid(oid, commit)) return std::nullopt;
    git_note* raw = nullptr;
    if (git_note_read(&raw, repo.raw(), std::string(notes_ref).c_str(), &oid) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    NoteHandle note(raw);
    const char* message = git_note_message(raw);
    return std::string(message ? message : "");
}

}  // namespace gm::git
