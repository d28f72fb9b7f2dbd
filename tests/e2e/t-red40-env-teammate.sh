#!/usr/bin/env bash
# Red team (s40d), two real Unix users in one group-shared repository, one lease book: A's environment of a
# model runs in A's rootless podman. B's `env down` of that model said "was not running; nothing to stop"
# (exit 0) and B's `env status` "No environments", though the book B reads says A's container holds a GPU.
# Now B's down is refused (exit 1), naming A and the GPU, and B's status notes A's environment; A's
# container is untouched, and A's own down works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"

BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
USERS_ENV=("GIT_MODEL_LEASE_DIR=$BOOK")
A=gmte-a-$$ B=gmte-b-$$
make_user "$A"
make_user "$B"
make_group "gmte-g-$$" "$A" "$B"
user_import_image "$A"
AREA="$TEST_DIR/area"
mkdir -m 2775 "$AREA" && chgrp "gmte-g-$$" "$AREA"
as_group_writer "$A" git init -q --shared=group "$AREA/repo"
as_group_writer "$A" sh -c 'printf "image: %s\ngpus: 1\n" "$1" >"$2/.modelenv.yaml" && git -C "$2" add -A && git -C "$2" commit -q -m env' \
    sh "$TEST_IMAGE" "$AREA/repo"
as_group_writer "$A" git -C "$AREA/repo" config model.installHooks never
as_group_writer "$A" git -C "$AREA/repo" config model.gpus 0,1
as_group_writer "$A" git -C "$AREA/repo" config model.env.stopTimeout 1s
run_expect 0 as_group_writer "$A" git -C "$AREA/repo" model start team
WT="$AREA/worktrees/feature/model-team"
run_expect 0 as_group_writer "$A" git -C "$WT" model env up
as_user "$B" git config --global --add safe.directory '*'

run_expect 1 as_group_writer "$B" git -C "$WT" model env down
assert_contains "$ERR" "the environment of 'team' is $A's: it runs in their container engine (it holds GPU 0 in the lease book), which yours does not see"
assert_contains "$ERR" "only they (git model env down there) or root can take it down"
run_expect 0 as_group_writer "$B" git -C "$AREA/repo" model env status
assert_contains "$OUT$ERR" "model 'team' has an environment of $A's (GPU 0 leased to it): it runs in their container engine, so it is not listed here"
assert_eq "$(as_user "$A" podman ps -q | wc -l)" "1" "A's container runs on"
run_expect 0 as_group_writer "$A" git -C "$WT" model env down
assert_contains "$OUT" "Environment of 'team' is down"
run_expect 0 as_group_writer "$B" git -C "$WT" model env down
assert_contains "$OUT" "was not running; nothing to stop"

# (s42a) B takes the model over in a worktree of their own: A's state folder of it (0700) was refused
# with a bare "Permission denied"; now it names A and the fix.
run_expect 0 as_group_writer "$A" git -C "$AREA/repo" worktree remove "$WT"
run_expect 0 as_group_writer "$B" git -C "$AREA/repo" worktree add -q "$AREA/b-team" feature/model-team
user_import_image "$B"
run_expect 1 as_group_writer "$B" git -C "$AREA/b-team" model env up
assert_contains "$ERR" "git-model/env/team: it is $A's (mode 0700), and git-model keeps only your own files there"
assert_contains "$ERR" "ask $A (or root) to remove it"
assert_eq "$(as_user "$B" podman ps -aq | wc -l)" "0" "nothing started"
