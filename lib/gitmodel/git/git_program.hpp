#pragma once
// Running the git program for the steps where git's own behaviour must hold:
// checkout (filters, hooks), tags and notes (identity, GIT_COMMITTER_DATE), push
// (hooks, push options), merge, worktree removal. Always an argv, never a shell.
//
// Every run that must reach one named repository or folder goes through run_git, which removes
// the variables a caller (a hook, `git --git-dir=... model`) may have set to point git elsewhere.
// Runs that must see exactly the caller's repository as git sees it (reader_plumbing.cpp,
// team_file.cpp, the pre-commit and pre-push hooks' own git calls) keep the caller's environment.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

namespace gm::git {

// The variables through which a caller points git at a repository (git's own `local_repo_env`
// list, less the ones that carry the caller's configuration and object replacement, which hold
// for every repository): run_git removes exactly these.
const std::vector<std::string>& repository_variables();

// Runs `git <args>` (where options.cwd says) with repository_variables() removed, so that
// git finds the repository from the folder alone; the options' timeout and other settings hold.
proc::RunResult run_git(std::vector<std::string> args, proc::RunOptions options = {});

// Runs `git <args>` in a folder of the repository (default: this worktree, or
// the git dir of a bare repository), with our caller's GIT_DIR/GIT_WORK_TREE
// removed so that git finds exactly that repository.
proc::RunResult run_git(const git::Repository& repo, const std::vector<std::string>& args,
                        proc::RunOptions options = {}, const std::optional<std::filesystem::path>& where = {});

// Like run_git, but throws gm::Error with git's own message (and `doing`) when it fails.
proc::RunResult run_git_checked(const git::Repository& repo, const std::vector<std::string>& args,
                                const std::string& doing, proc::RunOptions options = {},
                                const std::optional<std::filesystem::path>& where = {});

// The blob ids of files of the worktree `options.cwd` as `git hash-object` makes them (its clean
// filters and attributes applied, or none with `raw`): one --stdin-paths batch for all, except a
// name that batch would misread (it reads a line each, unquotes one that starts with a double
// quote, drops a trailing CR), hashed on its own. git reads each file by path. nullopt when git
// could not hash them all (a file gone meanwhile, say).
std::optional<std::vector<std::string>> hash_worktree_files(const std::vector<std::string>& paths, bool raw,
                                                            proc::RunOptions options);

// "Now" as git would date a commit (GIT_COMMITTER_DATE honoured), in seconds
// since the epoch, so that retention and finish records are testable with controlled dates.
std::int64_t git_now(const git::Repository& repo);

// Who tags: the user (git's identity and date rules), or the tagged commit's committer at its
// date, so that every clone that tags that commit with that message makes the very same tag
// object (two clones' archive tags then never clash when one fetches the other's).
enum class Tagger { user, commit_committer };

// A tagger given outright: a snapshot renumbered keeps who made it and when.
struct TaggerIdentity {
    std::string name;
    std::string email;
    std::string date;  // git's raw form: "<seconds> <+hhmm>"
};

// Creates an annotated tag with git itself (git's identity rules, signing config). Returns
// false, changing nothing, when the tag exists already; throws otherwise.
bool create_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                          const std::string& message, Tagger tagger = Tagger::user);
bool create_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                          const std::string& message, const TaggerIdentity& tagger);

}  // namespace gm::git
