#!/usr/bin/env bash
# SHA-256 repositories (git init --object-format=sha256), which libgit2 1.5 cannot
# open: the hooks work through git's plumbing (install, status, pre-commit, and
# pre-push through real pushes to a SHA-256 bare remote), and every other command
# refuses clearly, naming why, instead of failing on the way.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q --bare --object-format=sha256 repo.git
git init -q --object-format=sha256 repo
printf 'image: registry.example.com/team/pytorch:2.4.0\n' >repo/.modelenv.yaml
printf '*.dat filter=lfs diff=lfs merge=lfs -text\n' >repo/.gitattributes
echo "step = 0" >repo/train.py
git -C repo add -A && git -C repo commit -q -m "initial"
git -C repo remote add origin "$TEST_DIR/repo.git"
git -C repo push -q origin main
assert_eq "$(git -C repo rev-parse --show-object-format)" "sha256" "object format"
git -C repo config model.bench.beforePush never
remote="$TEST_DIR/repo.git"

# --- the hooks: install and status -----------------------------------------------------------
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "pre-push: installed $TEST_DIR/repo/.git/hooks/pre-push"
run_expect 0 git -C repo model hooks status
assert_contains "$OUT" "pre-commit  installed"
assert_contains "$OUT" "pre-push    installed"

# --- pre-commit --------------------------------------------------------------------------------
git -C repo checkout -q -b feature/model-sha
printf 'x' >repo/Model.PT && git -C repo add Model.PT
run_expect 1 git -C repo commit -q -m "checkpoint"
assert_contains "$ERR" "Model.PT: looks like training data"
git -C repo reset -q && rm repo/Model.PT
head -c 2048 /dev/urandom >repo/table.dat && git -C repo add table.dat
run_expect 1 git -C repo commit -q -m "an LFS file without LFS"
assert_contains "$ERR" "table.dat: is stored through Git LFS"
git -C repo reset -q && rm repo/table.dat
echo "step = 1" >repo/train.py && git -C repo add train.py
run_expect 0 git -C repo commit -q -m "work"

# --- pre-push: allowed pushes arrive, refused ones change nothing ------------------------------
run_expect 0 git -C repo push origin feature/model-sha
assert_eq "$(git -C "$remote" rev-parse feature/model-sha)" "$(git -C repo rev-parse HEAD)" "SHA-256 push arrived"
before=$(remote_refs "$remote")
run_expect 1 git -C repo push origin HEAD:main
assert_contains "$ERR" "[rule: protected-branch]"
assert_eq "$(remote_refs "$remote")" "$before" "protected main: remote unchanged"
head -c $((11 * 1024 * 1024)) /dev/urandom >repo/big.log
git -C repo add big.log && git -C repo commit -q --no-verify -m "a big log, hook bypassed"
run_expect 1 git -C repo push origin feature/model-sha
assert_contains "$ERR" "[rule: data]"
assert_contains "$ERR" "big.log, which"
assert_eq "$(remote_refs "$remote")" "$before" "data: remote unchanged"
# (s40g) `git replace` of the big commit by a clean one: git push sends the real commit, so the hook judges it
big=$(git -C repo rev-parse HEAD)
git -C repo reset -q --hard HEAD~1
echo clean >repo/clean.txt && git -C repo add clean.txt && git -C repo commit -q -m clean
clean=$(git -C repo rev-parse HEAD)
git -C repo replace -f "$big" "$clean"
git -C repo update-ref refs/heads/feature/model-sha "$big"
run_expect 1 git -C repo push origin feature/model-sha
assert_contains "$ERR" "big.log, which" "the replaced commit is judged as it is"
assert_eq "$(remote_refs "$remote")" "$before" "replace: remote unchanged"
git -C repo replace -d "$big" >/dev/null
git -C repo reset -q --hard "$clean~1"
printf 'image: registry.example.com/team/pytorch:2.5.0\n' >repo/.modelenv.yaml
git -C repo commit -q -am "newer pytorch"
run_expect 1 git -C repo push origin feature/model-sha
assert_contains "$ERR" "[rule: frozen-image]"
git -C repo commit -q --amend -m "newer pytorch" -m "Image-Change: a reason"
run_expect 0 git -C repo push origin feature/model-sha
run_expect 1 git -C repo push origin HEAD:refs/heads/experiment
assert_contains "$ERR" "[rule: branch-name]"

# --- everything else refuses, saying why ------------------------------------------------------
for cmd in list status "start beta" "tag --metric acc=1" log prune; do
    before=$(repo_state repo)
    run_expect 1 git -C repo model $cmd
    assert_contains "$ERR" "SHA-256" "git model $cmd"
    assert_contains "$ERR" "only the hooks work" "git model $cmd"
    assert_eq "$(repo_state repo)" "$before" "git model $cmd changed nothing"
done
run_expect 0 git -C repo model hooks uninstall
assert_no_path repo/.git/hooks/pre-commit
assert_not_contains "$(cat repo/.git/hooks/pre-push 2>/dev/null || true)" "git-model-shim" "pre-push after uninstall"
