#include "gitmodel/lifecycle/prune.hpp"

#include "gitmodel/core/error.hpp"
#include "gitmodel/git/history.hpp"
#include "gitmodel/lifecycle/environment.hpp"
#include "gitmodel/lifecycle/finish_record.hpp"
#include "gitmodel/lifecycle/git_tool.hpp"
#include "gitmodel/model/settings.hpp"
#include "gitmodel/naming/model_name.hpp"

#include <fmt/core.h>

#include <map>

namespace gm::lifecycle {

namespace fs = std::filesystem;

namespace {

std::string short_id(const std::string& id) { return id.substr(0, 10); }

// Whether path is the folder or inside it (both made absolute and normal first).
bool is_within(const fs::path& path, const fs::path& folder) {
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(path, ec);
    const fs::path f = fs::weakly_canonical(folder, ec);
    const auto relative = p.lexically_relative(f);
    return !relative.empty() && *relative.begin() != "..";
}

std::string archive_message(const PruneFacts& fact) {
    std::string merged = "no";
    if (fact.merged_by == MergedBy::merge_commit)
        merged = fmt::format("merge-commit {} {}", fact.merge_commit, *fact.merged_at);
    else if (fact.merged_by == MergedBy::finish_record)
        merged = fmt::format("finish-record {}", *fact.merged_at);
    return fmt::format("Archive of model {} ({}), removed by git model prune\n\n"
                       "Model-Archive: 1\nModel: {}\nBranch: {}\nBase: {}\nMerged: {}\n",
                       fact.model, fact.branch, fact.model, fact.branch, fact.base, merged);
}

}  // namespace

std::vector<PruneFacts> gather_prune_facts(const git::Repository& repo, const LifecycleSettings& settings) {
    const model::Settings model_settings = model::read_settings(repo);
    const git::Config config = repo.config();
    const auto recorded_bases = config.get_matching("branch.", ".modelbase");

    std::map<std::string, git::WorktreeInfo> by_branch;
    for (auto& worktree : repo.linked_worktrees())
        if (worktree.branch) by_branch.emplace(*worktree.branch, worktree);
    std::optional<std::string> main_branch;
    try {
        const auto main = git::Repository::open(repo.common_dir());
        if (main.workdir()) main_branch = main.current_branch();
    } catch (const Error&) {
    }
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);

    const bool remote_configured = git::remote_exists(repo, settings.remote);
    std::vector<std::pair<std::string, std::string>> tracking;
    if (remote_configured) tracking = git::remote_tracking_refs(repo, settings.remote);
    std::map<std::string, std::vector<std::string>> chains;  // tip -> first-parent line
    const auto chain_of = [&](const std::string& tip) -> const std::vector<std::string>& {
        auto it = chains.find(tip);
        if (it == chains.end()) it = chains.emplace(tip, git::first_parent_chain(repo, tip)).first;
        return it->second;
    };

    std::vector<PruneFacts> facts;
    for (const auto& branch : repo.branches_matching(std::string(naming::model_branch_prefix) + "*")) {
        const auto name = naming::model_from_branch(branch.name);
        if (!name) continue;
        PruneFacts fact;
        fact.model = *name;
        fact.branch = branch.name;
        fact.head = branch.target;
        fact.last_commit_time = branch.commit_time;
        fact.remote = settings.remote;
        const auto recorded = recorded_bases.find(fmt::format("branch.{}.modelbase", branch.name));
        fact.base = recorded != recorded_bases.end() && !recorded->second.empty() ? recorded->second
                                                                                   : model_settings.base_branch;

        // Where the base is: the local one and the remote's (a merge request lands there first).
        std::vector<std::string> tips;
        if (auto local = repo.resolve_commit(fact.base)) tips.push_back(*local);
        if (remote_configured)
            if (auto remote = repo.resolve_commit(fmt::format("refs/remotes/{}/{}", settings.remote, fact.base)))
                tips.push_back(*remote);
        fact.base_exists = !tips.empty();
        for (const auto& tip : tips) {
            const auto point = git::merge_point(repo, chain_of(tip), fact.head);
            if (!point) continue;
            fact.in_base = true;
            if (point->id != fact.head && point->parent_count >= 2 &&
                (!fact.merged_at || point->commit_time < *fact.merged_at)) {
                fact.merged_by = MergedBy::merge_commit;
                fact.merged_at = point->commit_time;
                fact.merge_commit = point->id;
            }
        }
        if (fact.in_base && fact.merged_by == MergedBy::none) {
            // Fast-forwarded (or rebased onto) the base: only a finish record says when.
            if (const auto record = read_finish_record(repo, fact.head)) {
                fact.merged_by = MergedBy::finish_record;
                fact.merged_at = record->finished_at;
            }
        }

        if (auto it = by_branch.find(branch.name); it != by_branch.end()) {
            fact.worktree = it->second.path;
            fact.worktree_missing = it->second.folder_missing;
            fact.worktree_locked = it->second.locked;
        } else if (main_branch == branch.name) {
            fact.worktree = model_settings.main_worktree;
            fact.worktree_main = true;
        }
        if (fact.worktree && !fact.worktree_missing && !fact.worktree_main) {
            fact.worktree_current = !ec && is_within(cwd, *fact.worktree);
            try {
                fact.dirty = repo.open_worktree(*fact.worktree).has_uncommitted_changes();
            } catch (const Error&) {
                fact.dirty = std::nullopt;
            }
        }
        if (remote_configured) {
            bool pushed = false;
            for (const auto& [ref, commit] : tracking) {
                if (repo.is_ancestor(fact.head, commit)) {
                    pushed = true;
                    break;
                }
            }
            fact.unpushed = !pushed;
        }
        const auto [tag, exists] =
            choose_archive_tag(archive_tag_name(settings.archive_form, fact.model, fact.branch), fact.head,
                               [&](const std::string& candidate) -> std::optional<std::string> {
                                   const auto found = git::find_tag(repo, candidate);
                                   if (!found) return std::nullopt;
                                   return found->target.empty() ? std::string("-") : found->target;
                               });
        fact.archive_tag = tag;
        fact.archive_tag_exists = exists;
        fact.environment = planned_environment_removal(repo, fact.model);
        facts.push_back(std::move(fact));
    }
    return facts;
}

PruneResult run_prune(const git::Repository& repo, const PruneRequest& request,
                      const std::function<void(const std::string&)>& say) {
    const LifecycleSettings settings = read_lifecycle_settings(repo);
    const model::Settings model_settings = model::read_settings(repo);
    PruneResult result;
    result.options.now = git_now(repo);
    result.options.retention_seconds = request.retention_seconds.value_or(settings.retention_seconds);
    result.options.force = request.force;
    result.plan = plan_prune(gather_prune_facts(repo, settings), result.options);
    result.outcomes.resize(result.plan.size());
    if (request.dry_run) return result;

    const fs::path main_dir = model_settings.main_worktree;
    // Forget worktrees whose folders are gone first: git (and libgit2) will not
    // delete a branch that a registered worktree still has checked out.
    run_git(repo, {"worktree", "prune"}, {}, main_dir);
    for (std::size_t i = 0; i < result.plan.size(); ++i) {
        const auto& decision = result.plan[i];
        if (!decision.prune) continue;
        const auto& fact = decision.facts;
        PruneOutcome outcome;
        try {
            if (!fact.archive_tag_exists) {
                if (!create_annotated_tag(repo, fact.archive_tag, fact.head, archive_message(fact))) {
                    const auto existing = git::find_tag(repo, fact.archive_tag);
                    if (!existing || existing->target != fact.head)
                        throw Error(fmt::format("tag {} appeared meanwhile at another commit", fact.archive_tag));
                }
            }
            say(fmt::format("{}: archived {} as {}", fact.model, short_id(fact.head), fact.archive_tag));
            if (fact.worktree && !fact.worktree_missing) {
                std::vector<std::string> args{"worktree", "remove"};
                if (request.force && (fact.dirty.value_or(true) || fact.worktree_locked)) args.push_back("--force");
                if (request.force && fact.worktree_locked) args.push_back("--force");
                args.push_back(fact.worktree->string());
                run_git_checked(repo, args, fmt::format("cannot remove the worktree {}", fact.worktree->string()), {},
                                main_dir);
                say(fmt::format("{}: removed the worktree {}", fact.model, fact.worktree->string()));
            }
            if (fact.worktree && fact.worktree_missing && fact.worktree_locked) {
                // Only --force gets here: a lock keeps `git worktree prune` off it.
                run_git_checked(repo, {"worktree", "unlock", fact.worktree->string()},
                                fmt::format("cannot unlock the worktree {}", fact.worktree->string()), {}, main_dir);
                run_git(repo, {"worktree", "prune"}, {}, main_dir);
                say(fmt::format("{}: forgot the worktree {}", fact.model, fact.worktree->string()));
            }
            remove_environment(repo, fact.model);
            for (const auto& line : fact.environment) say(fmt::format("{}: {}", fact.model, line));
            for (const auto& worktree : repo.linked_worktrees()) {
                if (worktree.branch == fact.branch)
                    throw Error(fmt::format("{} is still checked out in {}; the branch was kept", fact.branch,
                                            worktree.path.string()));
            }
            if (!git::delete_branch_ref_if_at(repo, fact.branch, fact.head)) {
                throw Error(fmt::format("the branch {} moved meanwhile; it was kept", fact.branch));
            }
            // Its configuration (modelBase, upstream) goes with it, as with `git branch -d`; absent is fine.
            run_git(repo, {"config", "--local", "--remove-section", "branch." + fact.branch}, {}, main_dir);
            say(fmt::format("{}: deleted the branch {}", fact.model, fact.branch));
            outcome.done = true;
        } catch (const Error& e) {
            outcome.error = e.what();
            ++result.failed;
            say(fmt::format("{}: FAILED: {}", fact.model, e.what()));
        }
        result.outcomes[i] = outcome;
    }
    run_git(repo, {"worktree", "prune"}, {}, main_dir);
    return result;
}

}  // namespace gm::lifecycle
