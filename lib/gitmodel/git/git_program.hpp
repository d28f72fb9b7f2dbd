#pragma once
// Running the git program for the steps where git's own behaviour must hold:
// tags and notes (identity, GIT_COMMITTER_DATE), push (hooks, push options),
// merge, worktree removal. Always an argv, never a shell.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

namespace gm::lifecycle {

// Runs `git <args>` in a folder of the repository (default: this worktree, or
// the git dir of a bare repository), with our caller's GIT_DIR/GIT_WORK_TREE
// removed so that git finds exactly that repository.
proc::RunResult run_git(const git::Repository& repo, const std::vector<std::string>& args,
                        proc::RunOptions options = {}, const std::optional<std::filesystem::path>& where = {});

// Like run_git, but throws gm::Error with git's own message (and `doing`) when it fails.
proc::RunResult run_git_checked(const git::Repository& repo, const std::vector<std::string>& args,
                                const std::string& doing, proc::RunOptions options = {},
                                const std::optional<std::filesystem::path>& where = {});

// "Now" as git would date a commit (GIT_COMMITTER_DATE honoured), in seconds
// since the epoch, so that retention and finish records are testable with controlled dates.
std::int64_t git_now(const git::Repository& repo);

// Creates an annotated tag with git itself (git's identity and date rules, signing
// config). Returns false, changing nothing, when the tag exists already; throws otherwise.
bool create_annotated_tag(const git::Repository& repo, const std::string& name, const std::string& commit,
                          const std::string& message);

}  // namespace gm::lifecycle
