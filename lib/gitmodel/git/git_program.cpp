#include "gitmodel/git/git_program.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/history.hpp"

#include <fmt/core.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace gm::git {

namespace fs = std::filesystem;

namespace {

// The first line git said that is not a hint: its message.
std::string first_said_line(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || starts_with(line, "hint:")) continue;
        out = line;
        break;
    }
    return out;
}

}  // namespace

const std::vector<std::string>& repository_variables() {
    // git's environment.c local_repo_env (what git itself clears before running git in another
    // repository), less GIT_CONFIG, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT (the caller's
    // `git -c` settings), GIT_NO_REPLACE_OBJECTS and GIT_REPLACE_REF_BASE (how the caller asked
    // to read objects): those say what the user wants of every repository, not which one.
    static const std::vector<std::string> names{
        "GIT_DIR",           "GIT_WORK_TREE",    "GIT_IMPLICIT_WORK_TREE", "GIT_INDEX_FILE",
        "GIT_PREFIX",        "GIT_COMMON_DIR",   "GIT_OBJECT_DIRECTORY",   "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_GRAFT_FILE",    "GIT_SHALLOW_FILE"};
    return names;
}

proc::RunResult run_git(std::vector<std::string> args, proc::RunOptions options) {
    args.insert(args.begin(), "git");
    for (const auto& name : repository_variables()) options.env.emplace_back(name, std::nullopt);
    return proc::run(args, options);
}

proc::RunResult run_git(const git::Repository& repo, const std::vector<std::string>& args, proc::RunOptions options,
                        const std::optional<fs::path>& where) {
    std::vector<std::string> argv;
    if (where) {
        argv.insert(argv.end(), {"-C", where->string()});
    } else if (auto workdir = repo.workdir()) {
        argv.insert(argv.end(), {"-C", workdir->string()});
    } else {
        argv.push_back("--git-dir=" + repo.git_dir().string());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run_git(std::move(argv), std::move(options));
}

proc::RunResult run_git_checked(const git::Repository& repo, const std::vector<std::string>& args,
                                const std::string& doing, proc::RunOptions options,
                                const std::optional<fs::path>& where) {
    auto result = run_git(repo, args, options, where);
    if (!result.ok()) {
        const std::string said = first_said_line(result.err);
        throw Error(fmt::format("{}: `git {}` {}{}", doing, args.empty() ? "" : args.front(), result.describe(),
                                said.empty() ? "" : ": " + said));
    }
    return result;
}

std::optional<std::vector<std::string>> hash_worktree_files(const std::vector<std::string>& paths, bool raw,
                                                            proc::RunOptions options) {
    std::vector<std::string> ids(paths.size());
    std::vector<std::size_t> batch;
    std::string input;
    const std::vector<std::string> hash = raw ? std::vector<std::string>{"hash-object", "--no-filters"}
                                              : std::vector<std::string>{"hash-object"};
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (paths[i].find_first_of("\n\r") == std::string::npos && paths[i].rfind('"', 0) != 0) {
            batch.push_back(i);
            input += paths[i] + '\n';
            continue;
        }
        auto alone = hash;
        alone.insert(alone.end(), {"--", paths[i]});
        const auto hashed = run_git(alone, options);
        if (!hashed.ok()) return std::nullopt;
        ids[i] = trim_end(hashed.out, "\n");
    }
    if (batch.empty()) return ids;
    auto together = hash;
    together.push_back("--stdin-paths");
    options.input = input;
    const auto hashed = run_git(together, options);
    const auto lines = split_records(hashed.out, '\n');
    if (!hashed.ok() || lines.size() != batch.size()) return std::nullopt;
    for (std::size_t k = 0; k < batch.size(); ++k) ids[batch[k]] = lines[k];
    return ids;
}

std::int64_t git_now(const git::Repository& repo) {
    // `git var` needs an identity; the date is all we want, so any name does.
    proc::RunOptions options;
    options.env = {{"GIT_COMMITTER_NAME", "git-model"}, {"GIT_COMMITTER_EMAIL", "git-model@localhost"}};
    const auto result = run_git(repo, {"var", "GIT_COMMITTER_IDENT"}, options);
    if (result.ok()) {
        // "Name <email> 1767323045 +0000"
        const std::string text = trim_trailing_newlines(result.out);
        const auto close = text.rfind('>');
        if (close != std::string::npos) {
            std::istringstream in(text.substr(close + 1));
            long long seconds = 0;
            if (in >> seconds) return static_cast<std::int64_t>(seconds);
        }
    }
    throw Error(fmt::format("cannot read the date from git: {}", result.ok() ? "unexpected output" : result.describe()),
                "check GIT_COMMITTER_DATE: git must accept it");
}

namespace {

bool make_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                        const std::string& message, const std::optional<TaggerIdentity>& tagger) {
    proc::RunOptions options;
    options.input = message;
    if (tagger)
        options.env = {{"GIT_COMMITTER_NAME", tagger->name}, {"GIT_COMMITTER_EMAIL", tagger->email},
                       {"GIT_COMMITTER_DATE", tagger->date}};
    // With tag.gpgSign, gpg may ask for a passphrase on the terminal: no limit, in its group.
    options.timeout = std::nullopt;
    options.terminal = true;
    const auto result = run_git(repo, {"tag", "-a", "--cleanup=verbatim", "-F", "-", "--", name, commit}, options);
    if (result.ok()) return true;
    // Taken meanwhile: another process may still hold the ref's lock; wait for it to finish.
    const auto lock = repo.common_dir() / "refs" / "tags" / (name + ".lock");
    for (int i = 0; i < 80; ++i) {
        if (git::find_tag(repo, name)) return false;  // the caller picks another name
        std::error_code ec;
        if (!fs::exists(lock, ec)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (git::find_tag(repo, name)) return false;
    throw Error(fmt::format("cannot create tag {}: git tag {}{}", name, result.describe(),
                            first_said_line(result.err).empty() ? "" : ": " + first_said_line(result.err)),
                result.err.find("tell me who you are") != std::string::npos
                    ? "set your identity: git config user.name 'Your Name'; git config user.email you@example.com"
                    : "");
}

}  // namespace

bool create_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                          const std::string& message, Tagger tagger) {
    if (tagger == Tagger::user) return make_annotated_tag(repo, name, commit, message, std::nullopt);
    const auto who = run_git_checked(repo, {"log", "-1", "--format=%cn%x00%ce%x00%cd", "--date=raw", commit, "--"},
                                     "reading the committer of " + commit);
    const auto fields = split_records(trim_end(who.out, "\n"), '\0');
    if (fields.size() != 3) throw Error(fmt::format("cannot read the committer of {}", commit));
    return make_annotated_tag(repo, name, commit, message, TaggerIdentity{fields[0], fields[1], fields[2]});
}

bool create_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                          const std::string& message, const TaggerIdentity& tagger) {
    return make_annotated_tag(repo, name, commit, message, tagger);
}

}  // namespace gm::git
