#!/usr/bin/env bash
# A repository that belongs to another user: git-model opens it exactly when git does. Without
# safe.directory both refuse, and git-model says why in git's words (not "not a git repository");
# safe.directory = * (which libgit2 1.5 does not know) and a path in the file GIT_CONFIG_GLOBAL names
# work; a safe.directory the repository's own config sets is not believed, by git or by git-model, and a
# .git another user plants inside the caller's repository is not read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

OWNER=gmso-a-$$ MATE=gmso-b-$$
make_user "$OWNER"
make_user "$MATE"
make_group "gmso-g-$$" "$OWNER" "$MATE"
AREA="$TEST_DIR/area"
mkdir -m 2775 "$AREA"
chgrp "gmso-g-$$" "$AREA"
chown "$OWNER" "$AREA"
REPO="$AREA/repo"
as_user "$OWNER" git init -q --shared=group "$REPO"
as_user "$OWNER" git -C "$REPO" commit -q --allow-empty -m first
as_user "$OWNER" git -C "$REPO" config model.installHooks never
run_expect 0 as_user "$OWNER" git -C "$REPO" model start owners
mate_global() { as_user "$MATE" git config --global "$@"; }

# --- no safe.directory: refused by both, in git's words, with git's fix ------------------------------
run_expect 128 as_user "$MATE" git -C "$REPO" status
run_expect 1 as_user "$MATE" git -C "$REPO" model list
assert_contains "$ERR" "git refuses this repository: detected dubious ownership in repository at '$REPO'"
assert_contains "$ERR" "hint: if you trust its owner: git config --global --add safe.directory $REPO"
assert_not_contains "$ERR" "not a git repository"
run_expect 1 as_user "$MATE" git -C "$AREA/worktrees/feature/model-owners" model env status
assert_contains "$ERR" "git refuses this repository: detected dubious ownership"

run_expect 1 as_user "$MATE" git -C "$REPO" model doctor
assert_contains "$OUT" "FAIL  repository git refuses this repository: detected dubious ownership"

# --- the repository's own config cannot vouch for itself --------------------------------------------
as_user "$OWNER" git -C "$REPO" config safe.directory '*'
run_expect 1 as_user "$MATE" git -C "$REPO" model list
assert_contains "$ERR" "dubious ownership"
as_user "$OWNER" git -C "$REPO" config --unset safe.directory

# --- safe.directory = * (git knows it, libgit2 1.5 does not) ------------------------------------------
mate_global safe.directory '*'
run_expect 0 as_user "$MATE" git -C "$REPO" model list
assert_contains "$OUT" "owners"
run_expect 0 as_user "$MATE" git -C "$AREA/worktrees/feature/model-owners" model status
assert_contains "$OUT" "model:        owners"
# With the caller's GIT_DIR set (git --git-dir=...), each worktree is still judged by itself
run_expect 0 as_user "$MATE" env GIT_DIR="$REPO/.git" git -C "$REPO" model list
assert_contains "$OUT" "owners"
assert_contains "$OUT" "clean"
assert_not_contains "$OUT$ERR" "another user"

# --- a teammate's prune, even --force, leaves the owner's model: its worktree, git's record of it, its branch ---
worktrees_before=$(as_user "$OWNER" git -C "$REPO" worktree list --porcelain | grep -c '^worktree ')
run_expect 0 as_user "$MATE" git -C "$REPO" model prune --retention 0 --force --no-remote
assert_contains "$OUT" "it is $OWNER's (they made its worktree): only they, or root, prune it"
assert_eq "$(as_user "$OWNER" git -C "$REPO" worktree list --porcelain | grep -c '^worktree ')" "$worktrees_before" \
    "git still knows the owner's worktree"
run_expect 0 as_user "$OWNER" git -C "$AREA/worktrees/feature/model-owners" status --short
run_expect 0 as_user "$OWNER" git -C "$REPO" rev-parse --verify -q refs/heads/feature/model-owners
assert_eq "$(as_user "$OWNER" git -C "$REPO" tag -l 'archive/*')" "" "no archive tag made for it"
# its folder moved away (or on a disk not mounted): nothing here says whose it is (a branch's reflog does
# not: a teammate's git gc rewrites it as theirs), so it stays
as_user "$OWNER" mv "$AREA/worktrees/feature/model-owners" "$AREA/owners-moved"
run_expect 0 as_user "$MATE" git -C "$REPO" model prune --retention 0 --force --no-remote
assert_contains "$OUT" "its worktree's folder is gone (moved, or on a disk not mounted), and in a repository other users share prune cannot tell whose it is"
assert_eq "$(as_user "$OWNER" git -C "$REPO" worktree list --porcelain | grep -c '^worktree ')" "$worktrees_before" \
    "git still knows the moved worktree"
as_user "$OWNER" mv "$AREA/owners-moved" "$AREA/worktrees/feature/model-owners"
run_expect 0 as_user "$OWNER" git -C "$AREA/worktrees/feature/model-owners" status --short

# --- an empty value resets the list, as in git --------------------------------------------------------
mate_global --add safe.directory ''
run_expect 1 as_user "$MATE" git -C "$REPO" model list
assert_contains "$ERR" "dubious ownership"
mate_global --unset-all safe.directory

# --- the exact path, in the file GIT_CONFIG_GLOBAL names ---------------------------------------------
MATE_HOME=$(user_home "$MATE")
printf '[safe]\n\tdirectory = %s\n' "$REPO" >"$MATE_HOME/other.gitconfig"
chown "$MATE" "$MATE_HOME/other.gitconfig"
run_expect 0 as_user "$MATE" env GIT_CONFIG_GLOBAL="$MATE_HOME/other.gitconfig" git -C "$REPO" model list
assert_contains "$OUT" "owners"

# --- a .git planted by another user in a folder of the caller's repository that others may write to: libgit2
# takes it for a repository (git does not: its HEAD names no ref) -- git's yes, about the caller's own, is not
# taken for it, and none of its settings (hooks path, base branch) is read ---------------------------------
MINE="$TEST_DIR/mine"
mkdir "$MINE" && chown "$MATE" "$MINE"
as_user "$MATE" git init -q "$MINE"
as_user "$MATE" git -C "$MINE" commit -q --allow-empty -m first
as_user "$MATE" git -C "$MINE" config model.installHooks never
mkdir -m 777 "$MINE/scratch"
as_user "$OWNER" sh -c "mkdir '$MINE/scratch/data' && git init -q '$MINE/scratch/data' &&
    git -C '$MINE/scratch/data' config core.hooksPath '$TEST_DIR/planted-hooks' && echo garbage >'$MINE/scratch/data/.git/HEAD'"
run_expect 0 as_user "$MATE" git -C "$MINE/scratch/data" rev-parse --absolute-git-dir
assert_eq "$OUT" "$MINE/.git" "git passes over the planted .git"
run_expect 1 as_user "$MATE" git -C "$MINE/scratch/data" model hooks install
assert_contains "$ERR" "$MINE/scratch/data/.git belongs to another user, and git does not take it for this repository (git finds $MINE/.git)"
[ ! -e "$TEST_DIR/planted-hooks" ] || fail "hooks were written where the planted config pointed"
run_expect 1 as_user "$MATE" git -C "$MINE/scratch/data" model start planted
assert_eq "$(as_user "$MATE" git -C "$MINE" branch --list 'feature/*')" "" "no branch made"

# --- a teammate's start in the group's repository: git-model's state there is the owner's (made with the
# owner's umask, not core.sharedRepository), so it is refused before anything is made --------------------
mate_global safe.directory "$REPO"
run_expect 1 as_user "$MATE" git -C "$REPO" model start mates
assert_contains "$ERR" "Permission denied"
assert_eq "$(git -c safe.directory='*' -C "$REPO" branch --list 'feature/model-mates')" "" "no branch made"
assert_eq "$(git -c safe.directory='*' -C "$REPO" worktree list | grep -c mates || true)" "0" "no worktree made"
[ ! -e "$AREA/worktrees/feature/model-mates" ] || fail "a worktree folder was left"
run_expect 0 as_user "$OWNER" git -C "$REPO" model list
assert_contains "$OUT" "owners"
assert_not_contains "$OUT" "mates"

# --- a repository shared through a POSIX ACL (a private group, mode 755 or 775): shared all the same. A model
# without a worktree folder cannot say whose it is, so not even its repository's owner prunes it with --force --
OWN_HOME=$(user_home "$OWNER")
as_user "$OWNER" git init -q "$OWN_HOME/acl-repo"
as_user "$OWNER" git -C "$OWN_HOME/acl-repo" commit -q --allow-empty -m first
as_user "$OWNER" git -C "$OWN_HOME/acl-repo" branch feature/model-nowt
as_user "$OWNER" git -C "$OWN_HOME/acl-repo" config model.installHooks never
setfacl -R -m "u:$MATE:rwX" "$OWN_HOME/acl-repo/.git"
run_expect 0 as_user "$OWNER" git -C "$OWN_HOME/acl-repo" model prune --retention 0 --force --no-remote
assert_contains "$OUT" "it has no worktree, and in a repository other users share prune cannot tell whose it is"
run_expect 0 as_user "$OWNER" git -C "$OWN_HOME/acl-repo" rev-parse --verify -q refs/heads/feature/model-nowt
setfacl -R -b "$OWN_HOME/acl-repo/.git"
run_expect 0 as_user "$OWNER" git -C "$OWN_HOME/acl-repo" model prune --retention 0 --force --no-remote
assert_contains "$OUT" "nowt"
run_expect 1 as_user "$OWNER" git -C "$OWN_HOME/acl-repo" rev-parse --verify -q refs/heads/feature/model-nowt

# --- a group-shared repository: a teammate's killed start is theirs to roll back ------------------------------
# The mate's start is killed during its checkout. The owner's next start neither deletes the mate's files nor
# fails on them: it names the mate's start as kept and makes its own model; the mate's next start rolls theirs back.
TEAM="$TEST_DIR/team"
mkdir -m 2775 "$TEAM" && chgrp "gmso-g-$$" "$TEAM"
MATE_WT="$TEST_DIR/mate-worktrees"
mkdir "$MATE_WT" && chown "$MATE" "$MATE_WT"
as_group_writer "$OWNER" git init -q --shared=group "$TEAM/repo"
as_group_writer "$OWNER" git -C "$TEAM/repo" commit -q --allow-empty -m first
as_group_writer "$OWNER" git -C "$TEAM/repo" config model.installHooks never
mate_global --add safe.directory "$TEAM/repo"
mate_global model.worktreeRoot "$MATE_WT"
printf '#!/bin/sh\n[ "$USER" = "%s" ] && sleep 60\nexit 0\n' "$MATE" >"$TEAM/repo/.git/hooks/post-checkout"
chmod 775 "$TEAM/repo/.git/hooks/post-checkout"
as_group_writer "$MATE" git -C "$TEAM/repo" model start slow >"$TEST_DIR/mate-start.out" 2>&1 &
mate_start=$!
for _ in $(seq 1 200); do [ -e "$TEAM/repo/.git/worktrees/model-slow/locked" ] && pgrep -u "$MATE" -x sleep >/dev/null && break; sleep 0.1; done
pkill -KILL -u "$MATE" -x git-model
pkill -KILL -u "$MATE" -x sleep
wait "$mate_start" 2>/dev/null || true
rm "$TEAM/repo/.git/hooks/post-checkout"
run_expect 0 as_group_writer "$OWNER" git -C "$TEAM/repo" model start quick
assert_contains "$ERR" "kept: $MATE's interrupted \`git model start slow\`"
assert_contains "$ERR" "is theirs to roll back; their next \`git model start\` does it"
run_expect 0 as_user "$OWNER" git -C "$TEAM/repo" rev-parse --verify -q refs/heads/feature/model-slow
run_expect 0 as_group_writer "$OWNER" git -C "$TEAM/repo" model list
assert_contains "$ERR" "$MATE's \`git model start slow\`"
assert_contains "$ERR" "their next \`git model start\` rolls back what it left"
run_expect 0 as_group_writer "$MATE" git -C "$TEAM/repo" model start other
assert_contains "$ERR" "rolled back the interrupted \`git model start slow\`"
run_expect 1 as_user "$OWNER" git -C "$TEAM/repo" rev-parse --verify -q refs/heads/feature/model-slow
[ ! -e "$MATE_WT/feature/model-slow" ] || fail "the mate's half-made worktree was left"
