// RepoReader through git's plumbing (rev-list, diff-tree, cat-file --batch, config --list):
// what the hooks use where libgit2 cannot open the repository (SHA-256 object names).
// Each bulk question is one git process, fed and read in bulk, so a push of many commits
// costs a handful of processes, not one per commit; the small ones asked commit after commit
// (following a linked .modelenv.yaml) go to one `git cat-file --batch` kept running.
#include "gitmodel/git/config.hpp"
#include "gitmodel/git/reader.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/proc/background.hpp"
#include "gitmodel/proc/process.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_set>
#include <sstream>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

// Runs git with argv (and input); returns its output, or throws with git's own message.
std::string git_output(std::vector<std::string> args, const std::optional<std::string>& input = std::nullopt) {
    // What git push sends, not what `git replace` shows: a replaced commit or blob would be judged
    // in place of the real one, which goes out.
    args.insert(args.begin(), {"git", "--no-replace-objects"});
    proc::RunOptions options;
    options.input = input;
    return proc::run_checked(args, options).out;
}

// Runs git for a yes/no question asked through its exit status.
bool git_succeeds(std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "--no-replace-objects"});
    return proc::run(args).ok();
}


class PlumbingConfig final : public ConfigView {
public:
    PlumbingConfig() {
        // -z: "key\nvalue\0", or "key\0" for a key without a value (git's "true").
        for (const auto& item : split_records(git_output({"config", "-z", "--list"}), '\0')) {
            if (item.empty()) continue;
            const auto newline = item.find('\n');
            const std::string key = Config::normalize_key(item.substr(0, newline));
            values_[key].push_back(newline == std::string::npos ? "true" : item.substr(newline + 1));
        }
    }
    std::optional<std::string> get_string(std::string_view key) const override {
        auto it = values_.find(Config::normalize_key(key));
        if (it == values_.end() || it->second.empty()) return std::nullopt;
        return it->second.back();
    }
    std::vector<std::string> get_all(std::string_view key) const override {
        auto it = values_.find(Config::normalize_key(key));
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }

private:
    std::map<std::string, std::vector<std::string>> values_;
};

bool is_hex(std::string_view text) { return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string::npos; }

std::string hex_of(std::string_view raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (const unsigned char byte : raw) {
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

// One object as `git cat-file --batch` gives it.
struct BatchObject {
    std::string id;
    std::string type;
    std::string content;
};

// The entry `name` of a raw tree object ("<octal mode> <name>\0<raw id>" after one another):
// its kind, as git reads the mode (any regular file a blob, 160000 a submodule), and its id.
std::optional<std::pair<TreeEntryKind::Kind, std::string>> find_tree_entry(std::string_view tree, std::string_view name,
                                                                           std::size_t id_size) {
    std::size_t at = 0;
    while (at < tree.size()) {
        const auto space = tree.find(' ', at);
        const auto nul = space == std::string_view::npos ? space : tree.find('\0', space);
        if (nul == std::string_view::npos || nul + 1 + id_size > tree.size()) return std::nullopt;  // not a tree
        const auto next = nul + 1 + id_size;
        if (tree.substr(space + 1, nul - space - 1) == name) {
            unsigned mode = 0;
            for (const char digit : tree.substr(at, space - at)) mode = mode * 8 + static_cast<unsigned>(digit - '0');
            auto kind = TreeEntryKind::Kind::other;
            switch (mode & 0170000) {
                case 0040000: kind = TreeEntryKind::Kind::tree; break;
                case 0120000: kind = TreeEntryKind::Kind::link; break;
                case 0100000: kind = TreeEntryKind::Kind::blob; break;
                default: break;  // 0160000: a submodule's commit
            }
            return std::make_pair(kind, hex_of(tree.substr(nul + 1, id_size)));
        }
        at = next;
    }
    return std::nullopt;
}

// One record of git's raw -z output ("::m1 m2 m id1 id2 id ST"): the result's mode and id,
// which come last among the modes and the ids.
std::optional<std::pair<std::string, std::string>> result_of(const std::string& meta) {
    std::size_t colons = 0;
    while (colons < meta.size() && meta[colons] == ':') ++colons;
    std::string_view fields[32];
    std::size_t count = 0;
    for (std::size_t at = colons; at < meta.size() && count < 32;) {
        const auto space = meta.find(' ', at);
        const auto end = space == std::string::npos ? meta.size() : space;
        if (end > at) fields[count++] = std::string_view(meta).substr(at, end - at);
        at = end + 1;
    }
    if (colons == 0 || count != 2 * (colons + 1) + 1) return std::nullopt;
    return std::make_pair(std::string(fields[colons]), std::string(fields[2 * colons + 1]));
}

class PlumbingReader final : public RepoReader {
public:
    PlumbingReader() : config_() {
        const auto lines = split_records(git_output({"rev-parse", "--path-format=absolute", "--git-common-dir",
                                                     "--git-path", "hooks", "--show-object-format",
                                                     "--is-bare-repository"}),
                                         '\n');
        if (lines.size() < 4) throw Error("git rev-parse did not describe the repository");
        common_dir_ = lines[0];
        hooks_dir_ = lines[1];
        format_ = lines[2];
        if (lines[3] != "true") workdir_ = fs::path(first_line(git_output({"rev-parse", "--show-toplevel"})));
        // The first worktree git lists is the main one.
        for (const auto& line : split_records(git_output({"worktree", "list", "--porcelain"}), '\n')) {
            if (line.rfind("worktree ", 0) == 0) {
                main_worktree_ = line.substr(9);
                break;
            }
        }
        if (main_worktree_.empty() || lines[3] == "true") main_worktree_ = common_dir_;
    }

    std::string object_format() const override { return format_; }
    const ConfigView& config() const override { return config_; }
    fs::path common_dir() const override { return common_dir_; }
    fs::path hooks_dir() const override { return hooks_dir_; }
    std::optional<fs::path> workdir() const override { return workdir_; }
    fs::path main_worktree() const override { return main_worktree_; }

    std::optional<std::string> resolve_commit(std::string_view revision) override {
        const auto result = proc::run({"git", "--no-replace-objects", "rev-parse", "-q", "--verify", "--end-of-options",
                                       std::string(revision) + "^{commit}"});
        if (!result.ok()) return std::nullopt;
        return first_line(result.out);
    }
    bool has_commit(std::string_view id) override {
        return is_hex(id) && git_succeeds({"cat-file", "-e", std::string(id) + "^{commit}"});
    }
    bool is_ancestor(std::string_view ancestor, std::string_view descendant) override {
        return is_hex(ancestor) && is_hex(descendant) &&
               git_succeeds({"merge-base", "--is-ancestor", std::string(ancestor), std::string(descendant)});
    }
    std::optional<std::string> merge_base(std::string_view a, std::string_view b) override {
        if (!is_hex(a) || !is_hex(b)) return std::nullopt;
        const auto result = proc::run({"git", "--no-replace-objects", "merge-base", std::string(a), std::string(b)});
        if (!result.ok()) return std::nullopt;
        return first_line(result.out);
    }
    std::vector<std::string> ref_targets(std::string_view prefix) override {
        std::vector<std::string> out;
        for (const auto& line :
             split_records(git_output({"for-each-ref", "--format=%(objectname) %(objecttype) %(*objectname)",
                                       std::string(prefix)}),
                           '\n')) {
            std::istringstream fields(line);
            std::string id, type, peeled;
            fields >> id >> type >> peeled;
            if (type == "commit") out.push_back(id);
            else if (type == "tag" && !peeled.empty()) out.push_back(peeled);
        }
        return out;
    }

    std::vector<NewCommit> new_commits(const std::string& tip, const std::vector<std::string>& hide) override {
        return log_new_commits(*this, tip, hide);
    }

    std::vector<std::optional<std::uint64_t>> object_sizes(const std::vector<std::string>& ids) override {
        std::vector<std::optional<std::uint64_t>> out(ids.size());
        std::string input;
        for (const auto& id : ids) input += (is_hex(id) ? id : std::string("0")) + "\n";
        if (ids.empty()) return out;
        const auto lines =
            split_records(git_output({"cat-file", "--batch-check=%(objectname) %(objectsize)"}, input), '\n');
        for (std::size_t i = 0; i < ids.size() && i < lines.size(); ++i) {
            std::istringstream fields(lines[i]);
            std::string id, size;
            fields >> id >> size;
            if (!size.empty() && size.find_first_not_of("0123456789") == std::string::npos)
                out[i] = std::stoull(size);
        }
        return out;
    }

    std::vector<std::optional<std::string>> blob_ids(const std::vector<std::string>& names) override {
        std::vector<std::optional<std::string>> out(names.size());
        if (names.empty()) return out;
        std::string input;
        for (const auto& name : names) input += (name.find('\n') == std::string::npos ? name : std::string("0")) + "\n";
        const auto lines =
            split_records(git_output({"cat-file", "--batch-check=%(objectname) %(objecttype)"}, input), '\n');
        for (std::size_t i = 0; i < names.size() && i < lines.size(); ++i) {
            std::istringstream fields(lines[i]);
            std::string id, type;
            fields >> id >> type;
            if (type == "blob") out[i] = id;
        }
        return out;
    }

    std::vector<std::optional<std::string>> read_objects(const std::vector<std::string>& names) override {
        std::vector<std::optional<std::string>> out(names.size());
        std::vector<std::size_t> bulk;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const auto colon = names[i].find(':');
            if (colon != std::string::npos && is_hex(std::string_view(names[i]).substr(0, colon))) {
                out[i] = file_at(names[i].substr(0, colon), names[i].substr(colon + 1));
            } else if (names.size() <= few_objects) {  // not worth a process of their own
                auto found = object(names[i]);
                // a path names a file only: a folder's tree is not its content
                if (found && (colon == std::string::npos || found->type == "blob")) out[i] = std::move(found->content);
            } else {
                bulk.push_back(i);
            }
        }
        if (bulk.empty()) return out;
        std::string input;
        // cat-file --batch reads one name a line: a name with a line break cannot be asked for.
        for (const std::size_t i : bulk)
            input += (names[i].find('\n') == std::string::npos ? names[i] : std::string("0")) + "\n";
        const std::string text = git_output({"cat-file", "--batch"}, input);
        std::size_t at = 0;
        for (const std::size_t i : bulk) {
            if (at >= text.size()) break;
            const auto end = text.find('\n', at);
            if (end == std::string::npos) break;
            std::istringstream header(text.substr(at, end - at));
            at = end + 1;
            std::string id, type, size;
            header >> id >> type >> size;
            if (type == "missing" || type == "ambiguous" || size.empty() ||
                size.find_first_not_of("0123456789") != std::string::npos)
                continue;
            const std::size_t length = std::stoull(size);
            if (at + length > text.size()) break;
            // a path names a file only: a folder's tree is not its content
            if (names[i].find(':') == std::string::npos || type == "blob") out[i] = text.substr(at, length);
            at += length + 1;  // the content, then a line break
        }
        return out;
    }

    std::optional<TreeEntryKind> tree_entry(const std::string& commit, const std::string& path) override {
        if (!is_hex(commit)) return listed_tree_entry(commit, path);
        const auto entry = entry_at(commit, path);
        if (!entry) return std::nullopt;
        TreeEntryKind kind;
        kind.kind = entry->first;
        if (kind.kind == TreeEntryKind::Kind::link) {
            auto target = object(entry->second);
            kind.link_target = target ? std::move(target->content) : std::string();
        }
        return kind;
    }

    // tree_entry through `git ls-tree`, for a commit named otherwise than by its id.
    std::optional<TreeEntryKind> listed_tree_entry(const std::string& commit, const std::string& path) {
        // "<mode> <type> <id>\t<path>": one entry, or none.
        const auto records = split_records(
            git_output({"--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--", path}), '\0');
        const auto tab = records.empty() ? std::string::npos : records.front().find('\t');
        if (tab == std::string::npos || records.front().substr(tab + 1) != path) return std::nullopt;
        std::istringstream fields(records.front().substr(0, tab));
        std::string mode, type, id;
        fields >> mode >> type >> id;
        TreeEntryKind kind;
        if (mode == "040000") {
            kind.kind = TreeEntryKind::Kind::tree;
        } else if (mode == "120000") {
            kind.kind = TreeEntryKind::Kind::link;
            kind.link_target = read_objects({id}).front().value_or("");
        } else if (mode == "100644" || mode == "100755") {
            kind.kind = TreeEntryKind::Kind::blob;
        }
        return kind;
    }

    std::vector<StagedBlob> staged() override {
        std::string base = "HEAD";
        if (!resolve_commit("HEAD"))  // an unborn branch: everything staged is new
            base = first_line(git_output({"hash-object", "-t", "tree", "--stdin"}, std::string()));
        const auto tokens = split_records(git_output({"diff-index", "--cached", "-r", "--no-renames", "--no-abbrev",
                                                      "-z", "--ignore-submodules=all", base}),
                                          '\0');
        std::vector<StagedBlob> out;
        std::string paths;
        for (std::size_t i = 0; i + 1 < tokens.size(); i += 2) {
            const auto result = result_of(tokens[i]);
            if (!result) continue;
            const std::string& mode = result->first;
            if (mode != "100644" && mode != "100755" && mode != "120000") continue;  // deleted, submodule
            out.push_back({tokens[i + 1], result->second, ""});
            paths += tokens[i + 1] + '\0';
        }
        if (out.empty()) return out;
        // "path\0filter\0value\0" per path, in order; the index's .gitattributes as git commit sees it.
        const auto attrs = split_records(git_output({"check-attr", "-z", "--cached", "--stdin", "filter"}, paths), '\0');
        for (std::size_t i = 0, k = 0; i + 2 < attrs.size() && k < out.size(); i += 3, ++k) {
            const std::string& value = attrs[i + 2];
            if (value != "unspecified" && value != "unset" && value != "set") out[k].filter = value;
        }
        return out;
    }

private:
    // Up to this many objects are read through the kept cat-file, more through one of their own.
    static constexpr std::size_t few_objects = 4;

    // A tree through the kept cat-file, kept for the next question (commit after commit share most
    // of their folders); nullptr when `name` is no tree.
    std::shared_ptr<const BatchObject> tree_object(const std::string& name) {
        if (const auto kept = trees_.find(name); kept != trees_.end()) return kept->second;
        auto found = object(name);
        if (!found || found->type != "tree") return nullptr;
        if (tree_bytes_ > (std::size_t{32} << 20)) {  // a bound on what is kept
            trees_.clear();
            tree_bytes_ = 0;
        }
        tree_bytes_ += found->content.size();
        return trees_[name] = std::make_shared<const BatchObject>(std::move(*found));
    }

    // The entry at `path` of a commit's tree (its kind and id), walked folder by folder from the
    // root tree by object ids: never asked as "<commit>:<path>", which git reads without a
    // trailing carriage return and which cannot hold a line break. nullopt when nothing is there,
    // or a file, link or submodule stands on the way.
    std::optional<std::pair<TreeEntryKind::Kind, std::string>> entry_at(const std::string& commit,
                                                                        const std::string& path) {
        auto tree = tree_object(commit + "^{tree}");
        for (std::size_t at = 0; tree;) {
            const auto slash = path.find('/', at);
            const auto entry = find_tree_entry(
                tree->content, std::string_view(path).substr(at, slash == std::string::npos ? slash : slash - at),
                tree->id.size() / 2);
            if (!entry) return std::nullopt;
            if (slash == std::string::npos) return entry;
            if (entry->first != TreeEntryKind::Kind::tree) return std::nullopt;
            tree = tree_object(entry->second);
            at = slash + 1;
        }
        return std::nullopt;
    }

    // What "<commit>:<path>" names when it is a file (or a link: its target text); nullopt otherwise.
    std::optional<std::string> file_at(const std::string& commit, const std::string& path) {
        const auto entry = entry_at(commit, path);
        if (!entry || (entry->first != TreeEntryKind::Kind::blob && entry->first != TreeEntryKind::Kind::link))
            return std::nullopt;
        auto found = object(entry->second);
        if (!found) return std::nullopt;
        return std::move(found->content);
    }

    // One object through the kept `git cat-file --batch` (started on first use): nullopt when
    // there is none by that name (or the name has a line break, which cannot be asked).
    std::optional<BatchObject> object(const std::string& name) {
        // git reads the line without a trailing carriage return: no control character is sent
        if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            return std::nullopt;
        if (!objects_)
            objects_ = std::make_unique<proc::Conversation>(
                std::vector<std::string>{"git", "--no-replace-objects", "cat-file", "--batch"});
        objects_->send(name + "\n");
        // "<id> <type> <size>", or "<name> missing" (or "ambiguous")
        const std::string header = objects_->receive_line();
        const auto first = header.find(' ');
        const auto last = header.rfind(' ');
        if (first == std::string::npos || first == last) return std::nullopt;
        const std::string size = header.substr(last + 1);
        if (size.empty() || size.size() > 18 || size.find_first_not_of("0123456789") != std::string::npos ||
            !is_hex(header.substr(0, first)))
            return std::nullopt;
        BatchObject found{header.substr(0, first), header.substr(first + 1, last - first - 1), {}};
        found.content = objects_->receive(std::stoull(size));
        if (objects_->receive(1) != "\n") throw Error("git cat-file --batch: an object not followed by a line break");
        return found;
    }

    std::unique_ptr<proc::Conversation> objects_;  // the kept cat-file --batch, once started
    // Trees read, by what they were asked as (an id, "<commit>^{tree}"): both never change.
    std::map<std::string, std::shared_ptr<const BatchObject>> trees_;
    std::size_t tree_bytes_ = 0;
    PlumbingConfig config_;
    fs::path common_dir_;
    fs::path hooks_dir_;
    std::string format_;
    std::optional<fs::path> workdir_;
    fs::path main_worktree_;
};

}  // namespace

namespace {

// The folders whose .gitattributes apply to a path ("" for the root), root first.
std::vector<std::string> folders_above(const std::string& path) {
    std::vector<std::string> dirs{""};
    for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        dirs.push_back(path.substr(0, slash));
    return dirs;
}

bool is_attributes_path(const std::string& path) {
    return path == ".gitattributes" || ends_with(path, "/.gitattributes");
}

// Fills each commit's .gitattributes without asking for every folder of every commit: a
// folder can hold one in a pushed commit only if a boundary commit has one there or a pushed
// commit adds, changes or deletes one there, and only those folders are looked up.
void add_attributes(RepoReader& reader, std::vector<NewCommit>& commits, std::set<std::string> touched) {
    std::unordered_set<std::string_view> ids, dirs{std::string_view()};
    ids.reserve(commits.size());
    for (const auto& commit : commits) ids.insert(commit.id);
    std::set<std::string> boundary;
    for (const auto& commit : commits) {
        for (const auto& parent : commit.parents)
            if (!ids.count(parent)) boundary.insert(parent);
        for (const auto& blob : commit.blobs)
            for (auto slash = blob.path.find('/'); slash != std::string::npos; slash = blob.path.find('/', slash + 1))
                dirs.insert(std::string_view(blob.path).substr(0, slash));
    }
    std::vector<std::string> names;
    std::vector<std::string> name_dirs;
    for (const auto& base : boundary) {
        for (const auto dir : dirs) {
            if (touched.count(std::string(dir))) continue;
            names.push_back(base + ":" + (dir.empty() ? "" : std::string(dir) + "/") + ".gitattributes");
            name_dirs.emplace_back(dir);
        }
    }
    const auto at_boundary = reader.blob_ids(names);
    for (std::size_t i = 0; i < at_boundary.size(); ++i)
        if (at_boundary[i]) touched.insert(name_dirs[i]);
    if (touched.empty()) return;  // no .gitattributes anywhere near the pushed files
    names.clear();
    std::vector<std::pair<std::size_t, std::string>> owners;
    for (std::size_t c = 0; c < commits.size(); ++c) {
        std::set<std::string> wanted;
        for (const auto& blob : commits[c].blobs)
            for (auto& dir : folders_above(blob.path))
                if (touched.count(dir)) wanted.insert(std::move(dir));
        for (const auto& dir : wanted) {
            names.push_back(commits[c].id + ":" + (dir.empty() ? "" : dir + "/") + ".gitattributes");
            owners.emplace_back(c, dir);
        }
    }
    const auto found = reader.blob_ids(names);
    for (std::size_t i = 0; i < found.size(); ++i)
        if (found[i]) commits[owners[i].first].attributes.push_back({owners[i].second, *found[i]});
}

}  // namespace

namespace {

// Reads `git log -z --raw` output as it arrives: a "\x01<id> <parents>" header per commit,
// then ":<modes> <ids> <status>" and "<path>" pairs, every token ended by a NUL.
class LogParser {
public:
    void feed(std::string_view chunk) {
        pending_.append(chunk);
        std::size_t at = 0;
        for (auto end = pending_.find('\0', at); end != std::string::npos; end = pending_.find('\0', at)) {
            token(std::string_view(pending_).substr(at, end - at));
            at = end + 1;
        }
        pending_.erase(0, at);
    }
    std::vector<NewCommit>& commits() { return out_; }
    std::set<std::string>& touched() { return touched_; }

private:
    void token(std::string_view t) {
        if (meta_) {  // the path of the record before
            record(*meta_, std::string(t));
            meta_.reset();
            return;
        }
        while (!t.empty() && t.front() == '\n') t.remove_prefix(1);
        if (t.empty()) return;
        if (t.front() == ':') {
            meta_ = std::string(t);
            return;
        }
        if (t.front() != '\x01') return;
        t.remove_prefix(1);
        NewCommit commit;
        std::size_t from = 0;
        for (auto end = t.find(' '); from <= t.size(); end = t.find(' ', from)) {
            const auto word = t.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
            if (!word.empty()) (commit.id.empty() ? commit.id : commit.parents.emplace_back()) = std::string(word);
            if (end == std::string_view::npos) break;
            from = end + 1;
        }
        out_.push_back(std::move(commit));
    }
    void record(const std::string& meta, std::string path) {
        auto result = result_of(meta);
        if (out_.empty() || !result) return;
        if (is_attributes_path(path)) touched_.insert(path.size() > 15 ? path.substr(0, path.size() - 15) : "");
        const std::string& mode = result->first;
        if (mode == "100644" || mode == "100755" || mode == "120000")
            out_.back().blobs.push_back({std::move(path), std::move(result->second)});
    }

    std::string pending_;
    std::optional<std::string> meta_;
    std::vector<NewCommit> out_;
    std::set<std::string> touched_;  // folders whose .gitattributes a pushed commit changes
};

}  // namespace

std::vector<NewCommit> log_new_commits(RepoReader& reader, const std::string& tip, const std::vector<std::string>& hide) {
    if (!is_hex(tip)) throw Error(fmt::format("'{}' is not a commit id", tip));
    std::string revisions = tip + "\n";
    for (const auto& id : hide)
        if (is_hex(id)) revisions += "^" + id + "\n";
    // One git process walks the range and diffs each commit: -c lists, for a merge, only the
    // paths that differ from every parent. --ignore-missing: a remote's commit this
    // repository never saw hides nothing. Its output is read while git still writes it.
    LogParser parser;
    proc::RunOptions options;
    options.input = revisions;
    options.on_stdout = [&](std::string_view chunk) { parser.feed(chunk); };
    options.env.emplace_back("GIT_FLUSH", "0");  // buffered: not one write (and one wake-up here) per commit
    proc::run_checked({"git", "--no-replace-objects", "log", "--stdin", "--ignore-missing", "--no-show-signature", "--no-color",
                       "--format=%x01%H %P", "-z", "--raw", "-c", "--root", "--no-renames", "--no-abbrev"},
                      options);
    add_attributes(reader, parser.commits(), std::move(parser.touched()));
    return std::move(parser.commits());
}

std::unique_ptr<RepoReader> open_plumbing_reader() { return std::make_unique<PlumbingReader>(); }

}  // namespace gm::git
