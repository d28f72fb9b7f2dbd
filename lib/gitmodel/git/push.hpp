#pragma once
// Talking to a remote with git itself (so that hooks, credentials and transports behave as
// with git): pushes judged ref by ref from `git push --porcelain`, what a forge said about a
// branch's review in its push output, and a remote's refs from `git ls-remote`. The parsers
// are pure and unit-tested; the runners are thin.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gitmodel/git/repository.hpp"
#include "gitmodel/proc/process.hpp"

namespace gm::git {

// One ref of a push as `git push --porcelain` reports it: "<flag>\t<from>:<to>\t<summary> (<reason>)".
struct PushedRef {
    char flag = '!';      // ' ' fast-forward, '+' forced, '-' deleted, '*' new, '=' up to date, '!' rejected
    std::string from;     // the local side ("refs/heads/x"; empty or "(delete)" for a deletion)
    std::string to;       // the remote ref ("refs/heads/x")
    std::string summary;  // "[new branch]", "1a2b..3c4d", "[up to date]", "[rejected]"
    std::string reason;   // "non-fast-forward", "stale info", "already exists", a server's text; may be empty

    // The remote ref changed (created, updated, forced or deleted).
    bool sent() const { return flag == ' ' || flag == '+' || flag == '-' || flag == '*'; }
    // The remote had it already: nothing was sent for it.
    bool up_to_date() const { return flag == '='; }
};

// Reads `git push --porcelain` standard output (the "To <url>" and "Done" lines are skipped).
std::vector<PushedRef> parse_push_porcelain(std::string_view out);

// A push to run.
// Set in the environment of every push git-model runs, so that its own pre-push hook can tell
// them from a push typed by hand (snapshots::hold_unpushed is for the latter only: git-model
// itself knows whether its push landed, and pushes again what did not).
inline constexpr const char* own_push_variable = "GIT_MODEL_OWN_PUSH";

struct PushRequest {
    std::string remote;
    std::vector<std::string> refspecs;                          // "refs/tags/x:refs/tags/x", ":refs/heads/y"
    std::vector<std::string> push_options;                      // --push-option values (GitLab's merge_request.*)
    std::vector<std::pair<std::string, std::string>> leases;    // --force-with-lease=<ref>:<expected object>
    std::optional<std::filesystem::path> where;                 // the worktree to run in (default: the repository's)
    bool show_messages = false;                                 // copy git's stderr (hooks, server) to ours live
};

// What became of a push.
struct PushResult {
    proc::RunResult run;
    std::vector<PushedRef> refs;

    // The porcelain line of a remote ref; nullptr when git did not report it (a hook refused the push).
    const PushedRef* find(std::string_view remote_ref) const;
    // Why a ref (or, when git reported none, the whole push) failed, in git's own words.
    std::string why(std::string_view remote_ref) const;
};

// Runs `git push --porcelain` (never a shell); never throws for a refused push: the result says.
PushResult push_refs(const git::Repository& repo, const PushRequest& request);

// What a forge said about a branch's review in the output of a push (the "remote:" lines).
struct ForgeReply {
    std::optional<std::string> review_url;  // GitLab "View merge request for <branch>:": one exists (or was just opened)
    std::optional<std::string> create_url;  // GitLab "To create a merge request for <branch>, visit:", GitHub's
                                            // "Create a pull request for '<branch>' on GitHub by visiting:"
};

// Finds those links for one branch in a push's standard error.
ForgeReply parse_forge_reply(std::string_view server_output, std::string_view branch);

// A ref of a remote as `git ls-remote` lists it.
struct RemoteRef {
    std::string object;                 // what the ref points at (a tag object for annotated tags)
    std::optional<std::string> peeled;  // the commit an annotated tag points at ("<ref>^{}" lines)

    // The commit: the peeled object when there is one.
    const std::string& commit() const { return peeled ? *peeled : object; }
};

// Reads `git ls-remote` output: full ref name -> its object and peeled commit.
std::map<std::string, RemoteRef> parse_ls_remote(std::string_view out);

// Which of a remote's URLs to read: the one git fetches from, or the one it pushes to
// (remote.<name>.pushurl, pushInsteadOf), for questions about what a push would change.
enum class RemoteSide { fetch, push };

// Lists a remote's refs (all, or those matching git's ls-remote patterns); throws gm::Error
// with git's message when the remote cannot be read.
std::map<std::string, RemoteRef> list_remote_refs(const git::Repository& repo, const std::string& remote,
                                                  const std::vector<std::string>& patterns,
                                                  RemoteSide side = RemoteSide::fetch);

// git's own words from an error output: the error:/fatal: lines (or the last line), without hints.
std::string git_said(std::string_view err);

}  // namespace gm::git
