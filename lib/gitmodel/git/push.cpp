#include "gitmodel/git/push.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/core/text.hpp"
#include "gitmodel/git/git_program.hpp"

#include <fmt/core.h>


namespace gm::git {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// A server's line without git's "remote: " prefix (and the colour resets some servers add).
std::string_view server_text(std::string_view line) {
    line = trim(line);
    if (starts_with(line, "remote:")) line.remove_prefix(7);
    while (ends_with(line, "\x1b[K")) line.remove_suffix(3);
    return trim(line);
}

bool is_url(std::string_view text) { return starts_with(text, "https://") || starts_with(text, "http://"); }

// The first URL on the lines after `at`, skipping blank ones.
std::optional<std::string> url_after(const std::vector<std::string_view>& lines, std::size_t at) {
    for (std::size_t i = at + 1; i < lines.size() && i <= at + 3; ++i) {
        const auto text = server_text(lines[i]);
        if (text.empty()) continue;
        if (is_url(text)) return std::string(text.substr(0, text.find_first_of(" \t")));
        return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

std::vector<PushedRef> parse_push_porcelain(std::string_view out) {
    std::vector<PushedRef> refs;
    for (auto line : lines_of(out)) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() < 3 || line[1] != '\t') continue;  // "To <url>", "Done"
        PushedRef ref;
        ref.flag = line[0];
        const auto rest = line.substr(2);
        const auto tab = rest.find('\t');
        const auto refs_part = rest.substr(0, tab);
        const auto colon = refs_part.rfind(':');
        if (colon == std::string_view::npos) continue;
        ref.from = std::string(refs_part.substr(0, colon));
        ref.to = std::string(refs_part.substr(colon + 1));
        if (tab != std::string_view::npos) {
            auto summary = rest.substr(tab + 1);
            // "[rejected] (non-fast-forward)": the reason is the last parenthesised part.
            if (!summary.empty() && summary.back() == ')') {
                const auto open = summary.rfind(" (");
                if (open != std::string_view::npos) {
                    ref.reason = std::string(summary.substr(open + 2, summary.size() - open - 3));
                    summary = summary.substr(0, open);
                }
            }
            ref.summary = std::string(trim(summary));
        }
        refs.push_back(std::move(ref));
    }
    return refs;
}

std::string git_said(std::string_view err) {
    std::vector<std::string> kept;
    for (auto line : lines_of(err)) {
        line = trim(line);
        if (line.empty() || starts_with(line, "hint:") || starts_with(line, "To ")) continue;
        if (starts_with(line, "error: failed to push some refs")) continue;
        kept.emplace_back(line);
    }
    if (kept.empty()) {
        for (auto line : lines_of(err))
            if (!trim(line).empty()) kept.assign(1, std::string(trim(line)));
    }
    return join(kept, "\n");
}

const PushedRef* PushResult::find(std::string_view remote_ref) const {
    for (const auto& ref : refs)
        if (ref.to == remote_ref) return &ref;
    return nullptr;
}

std::string PushResult::why(std::string_view remote_ref) const {
    if (const auto* ref = find(remote_ref); ref && !ref->sent() && !ref->up_to_date()) {
        std::string text = ref->summary;
        if (!ref->reason.empty()) text += " (" + ref->reason + ")";
        // A server's hook says why in "remote:" lines.
        std::vector<std::string> server;
        for (const auto line : lines_of(run.err))
            if (starts_with(trim(line), "remote:") && !server_text(line).empty()) server.emplace_back(server_text(line));
        if (!server.empty()) text += ": " + join(server, "; ");
        return text;
    }
    const std::string said = git_said(run.err);
    return said.empty() ? fmt::format("git push {}", run.describe()) : said;
}

PushResult push_refs(const git::Repository& repo, const PushRequest& request) {
    std::vector<std::string> args{"push", "--porcelain"};
    for (const auto& option : request.push_options) {
        args.push_back("--push-option");
        args.push_back(option);
    }
    for (const auto& [ref, expected] : request.leases) args.push_back(fmt::format("--force-with-lease={}:{}", ref, expected));
    args.push_back("--");
    args.push_back(request.remote);
    args.insert(args.end(), request.refspecs.begin(), request.refspecs.end());
    proc::RunOptions options;
    options.tee_stderr = request.show_messages;
    // No limit, in the terminal's group: a push may upload large files (Git LFS, hours on a slow
    // link) and ask for a password or passphrase; Ctrl-C stops it.
    options.timeout = std::nullopt;
    options.terminal = true;
    // git's words are parsed (rejection reasons, the server's links): keep them in English.
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}, {own_push_variable, "1"}};
    PushResult result;
    result.run = run_git(repo, args, options, request.where);
    result.refs = parse_push_porcelain(result.run.out);
    return result;
}

ForgeReply parse_forge_reply(std::string_view server_output, std::string_view branch) {
    ForgeReply reply;
    const auto lines = lines_of(server_output);
    const std::string view = fmt::format("View merge request for {}:", branch);
    const std::string create = fmt::format("To create a merge request for {}, visit:", branch);
    const std::string github = fmt::format("Create a pull request for '{}' on GitHub by visiting:", branch);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto text = server_text(lines[i]);
        if (text == view) {
            if (auto url = url_after(lines, i)) reply.review_url = url;
        } else if (text == create || text == github) {
            if (auto url = url_after(lines, i)) reply.create_url = url;
        }
    }
    return reply;
}

std::map<std::string, RemoteRef> parse_ls_remote(std::string_view out) {
    std::map<std::string, RemoteRef> refs;
    for (auto line : lines_of(out)) {
        line = trim(line);
        const auto tab = line.find('\t');
        if (tab == std::string_view::npos) continue;
        const std::string object(line.substr(0, tab));
        std::string name(trim(line.substr(tab + 1)));
        if (ends_with(name, "^{}")) {
            name.resize(name.size() - 3);
            refs[name].peeled = object;
        } else {
            refs[name].object = object;
        }
    }
    return refs;
}

std::map<std::string, RemoteRef> list_remote_refs(const git::Repository& repo, const std::string& remote,
                                                  const std::vector<std::string>& patterns, RemoteSide side) {
    proc::RunOptions options;
    options.env = {{"LC_ALL", "C"}, {"LANGUAGE", std::nullopt}};
    std::string where = remote;
    if (side == RemoteSide::push) {
        const auto url = run_git(repo, {"remote", "get-url", "--push", "--", remote}, options);
        if (url.ok() && !url.out.empty()) {
            where = url.out.substr(0, url.out.find('\n'));
            if (where.empty()) where = remote;
        }
    }
    std::vector<std::string> args{"ls-remote", "--", where};
    args.insert(args.end(), patterns.begin(), patterns.end());
    // The remote may ask for a password: no limit, in the terminal's group (Ctrl-C stops it).
    options.timeout = std::nullopt;
    options.terminal = true;
    const auto result = run_git(repo, args, options);
    if (!result.ok()) {
        const std::string said = git_said(result.err);
        throw Error(fmt::format("cannot read the refs of {}: `git ls-remote` {}{}", remote, result.describe(),
                                said.empty() ? "" : ": " + said),
                    // Never the URL itself: it may carry a token (https://oauth2:<token>@host/...).
                    where == remote ? fmt::format("check that the remote answers: git ls-remote {}", remote)
                                    : fmt::format("check that the remote answers: git ls-remote \"$(git remote get-url "
                                                  "--push {})\"",
                                                  remote));
    }
    return parse_ls_remote(result.out);
}

}  // namespace gm::git
