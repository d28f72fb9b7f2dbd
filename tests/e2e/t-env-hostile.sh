#!/usr/bin/env bash
# What code in a container (an untrusted image, a pip package) must not be able to do to the
# next `env up`:
# - a linked worktree's container has the common .git dir mounted read-write (git works
#   there), but git-model's own folders in it read-only: it cannot replace its persist folder
#   with a link to a host folder (the persist folder itself stays writable at /persist);
# - a link left in .git/git-model (by an older version's container) is never followed:
#   env up refuses it, naming the link, and starts nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
git init -q repo
cd repo
write_modelenv . 'command: ["sleep", "600"]'
git config model.installHooks never
git config model.env.stopTimeout 1s
git model start m >/dev/null
cd "$TEST_DIR/worktrees/feature/model-m"
common="$TEST_DIR/repo/.git"
P="$common/git-model/persist/m/checkpoints"
SECRET="$TEST_DIR/host-secret"
mkdir -p "$SECRET"
echo "secret" >"$SECRET/shadow"

run_expect 0 git-model-env up
# The container writes its checkpoints as before...
run_expect 0 git-model-env exec -- sh -c 'echo step1 >/persist/checkpoints/ckpt'
assert_eq "$(cat "$P/ckpt")" "step1" "a checkpoint written in the container"
# ...and may still write in the common dir (git needs it), but not re-point git-model's folders.
run_expect 0 git-model-env exec -- sh -c "echo x >'$common/container-wrote'"
assert_eq "$(cat "$common/container-wrote")" "x" "a file the container wrote in the common dir"
run_expect 1 git-model-env exec -- sh -c "busybox rm -rf '$P' && busybox ln -s '$SECRET' '$P'"
CHECKS=$((CHECKS + 1))
[ -d "$P" ] && [ ! -L "$P" ] || fail "the container replaced its persist folder: $(ls -ld "$P")"
assert_eq "$(cat "$P/ckpt")" "step1" "the checkpoint after the container's attempt"
run_expect 1 git-model-env exec -- sh -c "busybox mv '$common/git-model/env' '$common/git-model/env.old'"
assert_dir "$common/git-model/env/m"
run_expect 0 git-model-env down

# A link already there (an older version's container made it): refused, nothing started.
rm -rf "$P"
ln -s "$SECRET" "$P"
run_expect 1 git-model-env up
assert_contains "$ERR" "$P is a link (to $SECRET)" "env up's error"
assert_contains "$ERR" "rm $P" "env up's fix"
ours=$(podman ps -a --filter label=io.git-model.managed=1 --format '{{index .Labels "io.git-model.repo"}}' |
    awk -v dir="$TEST_DIR" 'index($0, dir) == 1' | wc -l)
assert_eq "$ours" "0" "containers left by the refused start"
# The same for the state folder and the folders above the persist folder.
rm "$P"
mv "$common/git-model/env/m" "$TEST_DIR/state-elsewhere"
ln -s "$TEST_DIR/state-elsewhere" "$common/git-model/env/m"
run_expect 1 git-model-env up
assert_contains "$ERR" "$common/git-model/env/m is a link" "env up's error for the state folder"
rm "$common/git-model/env/m"
mv "$common/git-model/persist" "$TEST_DIR/persist-elsewhere"
ln -s "$TEST_DIR/persist-elsewhere" "$common/git-model/persist"
run_expect 1 git-model-env up
assert_contains "$ERR" "$common/git-model/persist is a link" "env up's error for the persist root"
rm "$common/git-model/persist"
# Once removed, env up makes the folders afresh.
run_expect 0 git-model-env up
assert_dir "$P"
run_expect 0 git-model-env down
# A persist folder the user named outside .git may be a link the user made: followed.
mkdir -p "$TEST_DIR/scratch-real"
ln -s "$TEST_DIR/scratch-real" "$TEST_DIR/scratch"
write_modelenv . 'command: ["sleep", "600"]' 'persist:' "  checkpoints: $TEST_DIR/scratch/{model}"
run_expect 0 git-model-env up
run_expect 0 git-model-env exec -- sh -c 'echo mine >/persist/checkpoints/c'
assert_eq "$(cat "$TEST_DIR/scratch-real/m/c")" "mine" "a checkpoint through the user's own link"
run_expect 0 git-model-env down

# A container of the environment's name that git model did not make for it (the model's own removed
# by hand, another made with its name, here labelled for another repository): up, exec and down
# refuse it, naming it, and leave it as it is.
run_expect 0 git-model-env up
name=$(test_containers)
podman rm -f -t 0 "$name" >/dev/null
podman run -d --name "$name" --label io.git-model.managed=1 --label "io.git-model.repo=$TEST_DIR/elsewhere/.git" \
    "$TEST_IMAGE" sleep 600 >/dev/null
for verb in up down; do
    run_expect 1 git-model-env $verb
    assert_contains "$ERR" "the container $name was not made by git model for the environment of 'm' here (it is labelled for the repository $TEST_DIR/elsewhere/.git); nothing was changed"
    assert_contains "$ERR" "podman rm -f $name"
done
run_expect 1 git-model-env exec -- touch /tmp/entered
assert_contains "$ERR" "the container $name was not made by git model"
assert_eq "$(podman inspect -f '{{.State.Status}}' "$name")" "running" "the other container left as it was"
assert_eq "$(podman exec "$name" sh -c 'test -e /tmp/entered && echo entered || echo not')" "not" "exec did not enter it"
# prune of the merged model keeps it, and that container: not prune's to remove, as it is not down's
git -C "$TEST_DIR/repo" merge -q --no-ff feature/model-m -m "merge m"
run_expect 0 git -C "$TEST_DIR/repo" model prune --retention 0 --dry-run
assert_contains "$OUT" "the container $name was not made by git model for the environment of 'm' here"
run_expect 0 git -C "$TEST_DIR/repo" model prune --retention 0 --force
assert_contains "$OUT" "the container $name was not made by git model for the environment of 'm' here"
assert_contains "$OUT" "0 pruned"
assert_eq "$(podman inspect -f '{{.State.Status}}' "$name")" "running" "prune left it as it was"
assert_branch_exists "$TEST_DIR/repo" feature/model-m
assert_dir "$TEST_DIR/worktrees/feature/model-m"
podman rm -f -t 0 "$name" >/dev/null
run_expect 0 git-model-env up
run_expect 0 git-model-env down
