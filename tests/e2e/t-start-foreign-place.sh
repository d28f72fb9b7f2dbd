#!/usr/bin/env bash
# A worktree folder another user controls is never used. The main worktree lives in a shared,
# world-writable (sticky) folder such as /tmp: a second user makes the future worktree folder of a
# model (or the worktree root) before the start. Used, its owner could swap the files the model's
# training runs. `start` and `sweep` refuse it, naming the folder and its owner, and make nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

ME=gmfp-v-$$ OTHER=gmfp-m-$$
make_user "$ME"
make_user "$OTHER"
SHARED="$TEST_DIR/shared"
mkdir -m 1777 "$SHARED"
REPO="$SHARED/repo"
as_user "$ME" git init -q "$REPO"
as_user "$ME" sh -c "cd '$REPO' && echo 'print(1)' >train.py && git add train.py && git commit -q -m first"
as_user "$ME" git -C "$REPO" config model.installHooks never
mine() { as_user "$ME" git -C "$REPO" "$@"; }
nothing_made() {  # MODEL
    assert_eq "$(mine branch --list "feature/model-$1")" "" "$1: no branch"
    assert_eq "$(mine worktree list --porcelain | grep -c "^worktree .*/model-$1\$" || true)" "0" "$1: no worktree registered"
}

# --- the other user made the model's worktree folder, empty and open to all -----------------------------
as_user "$OTHER" sh -c "umask 000; mkdir -p '$SHARED/worktrees/feature/model-x'"
run_expect 1 as_user "$ME" git -C "$REPO" model start x
assert_contains "$ERR" "the worktree $SHARED/worktrees/feature/model-x would be in a place another user controls: $SHARED/worktrees/feature/model-x belongs to $OTHER"
assert_contains "$ERR" "model.worktreeRoot"
nothing_made x
assert_eq "$(ls -A "$SHARED/worktrees/feature/model-x")" "" "nothing was checked out into the other user's folder"

# --- the other user owns only the worktree root (mode 755: only they can write there) ------------------
rm -rf "$SHARED/worktrees"
as_user "$OTHER" mkdir -m 755 "$SHARED/worktrees"
run_expect 1 as_user "$ME" git -C "$REPO" model start y
assert_contains "$ERR" "another user controls: $SHARED/worktrees belongs to $OTHER"
nothing_made y

# --- a link the other user made as the worktree root, to a folder of theirs -----------------------------
rm -rf "$SHARED/worktrees"
as_user "$OTHER" mkdir -m 777 "$SHARED/other-place"
as_user "$OTHER" ln -s "$SHARED/other-place" "$SHARED/worktrees"
run_expect 1 as_user "$ME" git -C "$REPO" model start y
assert_contains "$ERR" "$SHARED/worktrees is a link made by $OTHER"
nothing_made y
rm -rf "$SHARED/worktrees" "$SHARED/other-place"

# --- the folders gone: the start makes its own, and they are the user's ---------------------------------
run_expect 0 as_user "$ME" git -C "$REPO" model start x
assert_eq "$(stat -c %U "$SHARED/worktrees" "$SHARED/worktrees/feature" "$SHARED/worktrees/feature/model-x" | sort -u)" "$ME" \
    "the worktree and the folders above it are the user's"
# and the other user cannot plant a model folder in them (the sticky shared folder keeps them the user's)
run_expect 1 as_user "$OTHER" mkdir "$SHARED/worktrees/feature/model-z"

# --- the user's own folder on the way, open to anyone without the sticky bit (a careless chmod) --------
chmod 777 "$SHARED/worktrees/feature"
run_expect 1 as_user "$ME" git -C "$REPO" model start z
assert_contains "$ERR" "anyone may write to $SHARED/worktrees/feature (mode 777, without the sticky bit)"
nothing_made z
chmod 755 "$SHARED/worktrees/feature"
run_expect 0 as_user "$ME" git -C "$REPO" model start z

# --- a group other users are in may write to a folder on the way (not the user's private group) ---------
make_group "gmfp-g-$$" "$ME" "$OTHER"
chgrp "gmfp-g-$$" "$SHARED/worktrees/feature"
chmod 775 "$SHARED/worktrees/feature"
run_expect 1 as_user "$ME" git -C "$REPO" model start g
assert_contains "$ERR" "the members of group gmfp-g-$$ may write to $SHARED/worktrees/feature (mode 775, without the sticky bit)"
nothing_made g
chgrp "$(id -gn "$ME")" "$SHARED/worktrees/feature"      # the user's private group: nobody else is in it
run_expect 0 as_user "$ME" git -C "$REPO" model start g
chmod 755 "$SHARED/worktrees/feature"

# --- a umask that lets the group (or anyone) write: the folders the start makes are 755 all the same -----
as_user "$ME" git -C "$REPO" config model.worktreeRoot "$SHARED/umask-root"
run_expect 0 as_user "$ME" sh -c "umask 000; git -C '$REPO' model start u"
assert_eq "$(stat -c %a "$SHARED/umask-root" "$SHARED/umask-root/feature" "$SHARED/umask-root/feature/model-u" | sort -u)" "755" \
    "the worktree root, feature/ and the worktree's folder are 755"
as_user "$ME" git -C "$REPO" config --unset model.worktreeRoot

# --- an ACL that lets the other user (or a group) write to a folder on the way -------------------------
if command -v setfacl >/dev/null; then
    as_user "$ME" setfacl -m "u:$OTHER:rwx" "$SHARED/worktrees/feature"
    run_expect 1 as_user "$ME" git -C "$REPO" model start acl
    assert_contains "$ERR" "another user controls: an ACL lets $OTHER write to $SHARED/worktrees/feature"
    nothing_made acl
    as_user "$ME" setfacl -b "$SHARED/worktrees/feature"
    as_user "$ME" setfacl -m "g:gmfp-g-$$:rwx" "$SHARED/worktrees"
    run_expect 1 as_user "$ME" git -C "$REPO" model start acl
    assert_contains "$ERR" "another user controls: an ACL lets the members of group gmfp-g-$$ write to $SHARED/worktrees"
    as_user "$ME" setfacl -b "$SHARED/worktrees"
    as_user "$ME" setfacl -m "u:$OTHER:rx" "$SHARED/worktrees"    # reading is no harm
    run_expect 0 as_user "$ME" git -C "$REPO" model start acl
    as_user "$ME" setfacl -b "$SHARED/worktrees"
else
    echo "SKIP: setfacl is not installed (apt-get install acl); the ACL cases are not run"
fi

# --- the worktree root is the user's, but inside a folder of the other user's (who may rename it) -------
as_user "$OTHER" mkdir -m 1777 "$SHARED/theirs"
as_user "$ME" mkdir "$SHARED/theirs/mine"
as_user "$ME" ln -s "$SHARED/theirs/mine" "$SHARED/my-link"
for root in "$SHARED/theirs/mine" "$SHARED/my-link"; do
    as_user "$ME" git -C "$REPO" config model.worktreeRoot "$root"
    run_expect 1 as_user "$ME" git -C "$REPO" model start a
    assert_contains "$ERR" "another user controls: $SHARED/theirs belongs to $OTHER"
    nothing_made a
done

# --- a link of the user's own, but in a folder anyone may rename it in -------------------------------------
mkdir -m 777 "$SHARED/open"                                       # root's, no sticky bit
as_user "$ME" mkdir "$SHARED/mine-real"
as_user "$ME" ln -s "$SHARED/mine-real" "$SHARED/open/wt"
as_user "$ME" git -C "$REPO" config model.worktreeRoot "$SHARED/open/wt"
run_expect 1 as_user "$ME" git -C "$REPO" model start a
assert_contains "$ERR" "another user controls: anyone may write to $SHARED/open (mode 777, without the sticky bit)"
nothing_made a
as_user "$ME" git -C "$REPO" config --unset model.worktreeRoot

# --- the repository itself in the other user's folder (a CI runner's work folder, a project's folder): -----
# whoever controls that folder controls the repository already; the start is not refused for it
as_user "$OTHER" mkdir -m 1777 "$SHARED/project"
as_user "$ME" git clone -q "$REPO" "$SHARED/project/clone"
as_user "$ME" git -C "$SHARED/project/clone" config model.installHooks never
run_expect 0 as_user "$ME" git -C "$SHARED/project/clone" model start p
assert_eq "$(stat -c %U "$SHARED/project/worktrees/feature/model-p")" "$ME" "the clone's worktree is the user's"

# --- the other user makes the folder between the checks and git's `worktree add` ------------------------
# A root-owned sticky root (as /tmp) with the worktree right in it: the other user may make any name
# there that does not exist yet. A `git` that lets them go first, right before the add, shows that
# the start has made the folder its own by then.
mkdir -m 1777 "$SHARED/sticky-root"
as_user "$ME" git -C "$REPO" config model.worktreeRoot "$SHARED/sticky-root"
as_user "$ME" git -C "$REPO" config model.worktreePath '{model}'
SYNC="$TEST_DIR/sync" WRAP="$TEST_DIR/wrap"
mkdir -m 1777 "$SYNC"
mkdir "$WRAP"
cat >"$WRAP/git" <<WRAPPER
#!/bin/sh
case "\$*" in
*"worktree add"*) touch "$SYNC/go"; while [ ! -e "$SYNC/done" ]; do sleep 0.05; done ;;
esac
exec /usr/bin/git "\$@"
WRAPPER
chmod 755 "$WRAP/git"
as_user "$OTHER" sh -c "while [ ! -e '$SYNC/go' ]; do sleep 0.05; done; mkdir -m 777 '$SHARED/sticky-root/r' 2>/dev/null; touch '$SYNC/done'" &
watcher=$!
# (git-model called directly: through `git model`, git would put its own exec path first on PATH)
run_expect 0 as_user "$ME" env PATH="$WRAP:$GM_STAGE/bin:/usr/bin:/bin" sh -c "cd '$REPO' && exec git-model start r"
assert_eq "$(ls "$SYNC")" "$(printf 'done\ngo')" "the other user's mkdir ran right before git's worktree add"
wait "$watcher"
assert_eq "$(stat -c %U "$SHARED/sticky-root/r")" "$ME" "the worktree folder is the user's: the other user's mkdir came too late"
as_user "$ME" git -C "$REPO" config --unset model.worktreeRoot
as_user "$ME" git -C "$REPO" config --unset model.worktreePath

# --- a sweep's run worktrees are refused the same way, before anything is made --------------------------
chmod 777 "$SHARED/worktrees/feature"
run_expect 1 as_user "$ME" git -C "$SHARED/worktrees/feature/model-z" model sweep start --gpus-per-run 0 --no-container --grid lr=1,2 -- true
assert_contains "$ERR" "anyone may write to $SHARED/worktrees/feature (mode 777, without the sticky bit)"
assert_eq "$(mine branch --list 'feature/model-z.sweep-*')" "" "the sweep made no run branch"
assert_eq "$(ls "$SHARED/worktrees/feature" | grep -c sweep || true)" "0" "nor a run worktree"
chmod 755 "$SHARED/worktrees/feature"
