#pragma once
// The intent journal that makes `git model start` all-or-nothing.
//
// Creating a model takes several steps (branch, worktree registration,
// checkout, config). Before the first one, start writes what it is about to
// do into <common dir>/git-model/pending/<model>; after the last, it removes
// the record. A record whose process is gone marks an interrupted start
// (killed, power loss, full disk): the next start of that model, and `list`,
// roll its leftovers back, so nothing half-made survives and the same command
// succeeds when run again. The record also serialises two starts of one model.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gitmodel/git/repository.hpp"

namespace gm::model {

// What a start intends to create, so that a later run can undo exactly that.
struct Intent {
    std::string model;
    std::string branch;
    std::string base_commit;                  // the branch is deleted only while it still points here
    std::optional<std::filesystem::path> worktree;  // empty for --no-worktree
    long pid = 0;                             // the process doing the work
};

// A claimed journal entry; removes its record when the start commits or is rolled back.
class PendingStart {
public:
    // Claims the model: writes the record, failing if another live process holds it.
    static PendingStart claim(const git::Repository& repo, const Intent& intent);
    PendingStart(PendingStart&& other) noexcept;
    PendingStart& operator=(PendingStart&&) = delete;
    PendingStart(const PendingStart&) = delete;
    ~PendingStart();

    // The work is complete: forget the record.
    void commit();

private:
    explicit PendingStart(std::filesystem::path record);
    std::filesystem::path record_;
};

// Undoes the leftovers of one interrupted start: its worktree (unless it holds
// changes someone made since) and its branch (unless it moved). Returns a line
// per thing undone, for the user.
std::vector<std::string> roll_back(git::Repository& repo, const Intent& intent);

// Finds records of starts whose process has died and rolls each back; returns
// what was done. Called by start and list so that no half-made model lingers.
std::vector<std::string> recover_interrupted_starts(git::Repository& repo);

}  // namespace gm::model
