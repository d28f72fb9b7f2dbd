#!/usr/bin/env bash
# Red team (issue 17): `git model env up|down|check <model>` from the main worktree finds the
# model's worktree from git's records. In a shared model.worktreeRoot (a sticky, world-writable
# folder), once a model's worktree folder is gone another user can put a folder or a link of
# theirs at its path, with a .git file pointing back and a .modelenv.yaml of their choosing: its
# image and command would run as the caller, with the caller's persist folders mounted. Such a
# folder is refused, naming its owner; the caller's own folders (and own links) still work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

V=gmr17a-$$ A=gmr17b-$$
make_user "$V"
make_user "$A"
VH=$(user_home "$V")
AH=$(user_home "$A")
SHARED="$TEST_DIR/shared"
mkdir -m 1777 "$SHARED"

as_user "$V" git init -q repo
as_user "$V" sh -c 'printf "image: localhost/gm-red17-good:1\n" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -qm env'
as_user "$V" git -C repo config model.installHooks never
as_user "$V" git -C repo config model.worktreeRoot "$SHARED"
as_user "$V" git -C repo config model.worktreePath '{model}'
for m in kept gone linked ownlink; do run_expect 0 as_user "$V" git -C repo model start "$m"; done

# The caller's own worktree: used.
run_expect 0 as_user "$V" git -C repo model env check kept
assert_contains "$OUT" "localhost/gm-red17-good:1"

# A folder of the other user where a worktree was: refused, and its file is not read.
as_user "$V" rm -rf "$SHARED/gone"
as_user "$A" sh -c 'mkdir "$1" && printf "gitdir: %s\n" "$2" >"$1/.git" &&
    printf "image: localhost/gm-red17-evil:6\ncommand: [\"sh\", \"-c\", \"cat /persist/checkpoints/*\"]\n" >"$1/.modelenv.yaml"' \
    sh "$SHARED/gone" "$VH/repo/.git/worktrees/gone"
for verb in check up down; do
    run_expect 1 as_user "$V" git -C repo model env "$verb" gone
    assert_contains "$ERR" "the worktree of model 'gone' at $SHARED/gone belongs to $A" "env $verb gone"
    assert_not_contains "$OUT$ERR" "gm-red17-evil" "env $verb gone"
done

# A link of the other user's, to a folder of theirs, where a worktree was: refused too.
as_user "$V" rm -rf "$SHARED/linked"
as_user "$A" sh -c 'mkdir -p "$1" && printf "gitdir: %s\n" "$2" >"$1/.git" &&
    printf "image: localhost/gm-red17-evil:6\n" >"$1/.modelenv.yaml" && ln -s "$1" "$3"' \
    sh "$AH/decoy" "$VH/repo/.git/worktrees/linked" "$SHARED/linked"
run_expect 1 as_user "$V" git -C repo model env check linked
assert_contains "$ERR" "the worktree of model 'linked' at $SHARED/linked is a link made by $A"
assert_not_contains "$OUT" "gm-red17-evil" "env check linked"

# The caller's own link to their own moved worktree: still used.
as_user "$V" sh -c 'mv "$1" "$2" && ln -s "$2" "$1"' sh "$SHARED/ownlink" "$VH/moved"
run_expect 0 as_user "$V" git -C repo model env check ownlink
assert_contains "$OUT" "localhost/gm-red17-good:1"

# The same planted folder is refused by every command that reads or writes a model's worktree
# found from git's records: tag (the dirty state it records), finish (its dirty check and push),
# sweep start (its logs and checkpoints go under the model's worktree) and promote.
run_expect 1 as_user "$V" git -C repo model tag gone
assert_contains "$ERR" "the worktree of model 'gone' at $SHARED/gone belongs to $A" "tag gone"
run_expect 0 as_user "$V" git -C repo tag -l 'model/gone/*'
assert_eq "$OUT" "" "no snapshot of gone"
run_expect 1 as_user "$V" git -C repo model finish gone
assert_contains "$ERR" "the worktree of model 'gone' at $SHARED/gone belongs to $A" "finish gone"
run_expect 1 as_user "$V" git -C repo model sweep start gone --gpus-per-run 0 --grid lr=1,2 -- true
assert_contains "$ERR" "the worktree of model 'gone' at $SHARED/gone belongs to $A" "sweep start gone"
[ -z "$(ls -A "$SHARED/gone" | grep -v -e '^.git$' -e '^.modelenv.yaml$')" ] || fail "sweep start wrote into the planted folder: $(ls -A "$SHARED/gone")"
# The caller's own worktree is still tagged from the main worktree.
run_expect 0 as_user "$V" git -C repo model tag kept
