#!/usr/bin/env bash
# One data policy at commit and at push, through real `git commit` and real
# `git push` to a bare remote via the installed hooks: data patterns in any case,
# a clone without git-lfs (the .gitattributes says LFS, the blob is the file), a
# --no-verify commit, a cherry-pick and a rebase bringing a checkpoint to a push,
# blobs the remote already has, allowed paths, and tags.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
git -C repo checkout -q -b feature/model-data

refused_commit() {  # WHAT PATH: git commit fails naming PATH, nothing committed
    local before
    before=$(git -C repo rev-parse HEAD)
    run_expect 1 git -C repo commit -q -m "$1"
    assert_contains "$ERR" "commit refused by the pre-commit hook" "$1"
    assert_contains "$ERR" "$2" "$1 names $2"
    assert_eq "$(git -C repo rev-parse HEAD)" "$before" "$1: nothing committed"
    git -C repo reset -q
}

refused_push() {  # WHAT PATH GIT-PUSH-ARGS...: the push fails naming PATH; the remote is unchanged
    local what=$1 path=$2 before
    shift 2
    before=$(remote_refs "$remote")
    run_expect 1 "$@"
    assert_contains "$ERR" "push refused by the pre-push hook" "$what"
    assert_contains "$ERR" "[rule: data]" "$what"
    assert_contains "$ERR" "$path" "$what names $path"
    assert_eq "$(remote_refs "$remote")" "$before" "$what: remote unchanged"
}

remote_has_blob() {  # PATH-IN-COMMIT: whether the remote holds the object
    git -C "$remote" cat-file -e "$1" 2>/dev/null
}

# --- data patterns ignore case, at commit ----------------------------------------------------
for path in model.PT runs/ckpt.Pth DATA/a.csv weights.SafeTensors; do
    mkdir -p "repo/$(dirname "$path")"
    printf 'x' >"repo/$path"
    git -C repo add "$path"
    refused_commit "upper case $path" "$path"
    rm -f "repo/$path"
done

# --- a --no-verify commit of a checkpoint does not reach the remote ---------------------------
head -c $((20 * 1024 * 1024)) /dev/urandom >repo/checkpoint.pt
git -C repo add checkpoint.pt
git -C repo commit -q --no-verify -m "checkpoint, hook bypassed"
ckpt_blob=$(git -C repo rev-parse HEAD:checkpoint.pt)
echo "later work" >repo/later.py && git -C repo add later.py && git -C repo commit -q -m "later work"
refused_push "--no-verify checkpoint" checkpoint.pt git -C repo push origin feature/model-data
assert_contains "$ERR" "larger than model.maxFileSize"
assert_contains "$ERR" "commit $(git -C repo rev-parse HEAD~1 | cut -c1-10) adds checkpoint.pt"
CHECKS=$((CHECKS + 1)); ! remote_has_blob "$ckpt_blob" || fail "the checkpoint reached the remote"
# the same bytes at an upper-case name are refused at push too
git -C repo reset -q --hard HEAD~2
printf 'tiny' >repo/Model.PTH
git -C repo add Model.PTH && git -C repo commit -q --no-verify -m "upper case, bypassed"
refused_push "upper case at push" Model.PTH git -C repo push origin feature/model-data
git -C repo reset -q --hard HEAD~1
run_expect 0 git -C repo push origin feature/model-data
assert_eq "$(git -C "$remote" rev-parse feature/model-data)" "$(git -C repo rev-parse HEAD)" "clean push arrives"

# --- a cherry-pick (pre-commit does not run) brings a checkpoint -------------------------------
git -C repo checkout -q -b scratch main
mkdir -p repo/out && head -c 4096 /dev/urandom >repo/out/epoch3.ckpt
git -C repo add out && git -C repo commit -q --no-verify -m "scratch checkpoint"
picked=$(git -C repo rev-parse HEAD)
git -C repo checkout -q feature/model-data
run_expect 0 git -C repo cherry-pick "$picked"
refused_push "cherry-pick" out/epoch3.ckpt git -C repo push origin feature/model-data
assert_contains "$ERR" "matches '*.ckpt'"
git -C repo reset -q --hard origin/feature/model-data

# --- a rebase onto a base that carries data (a local main, never pushed) -----------------------
git -C repo checkout -q main
mkdir -p repo/data && printf 'a,b\n1,2\n' >repo/data/train.csv
git -C repo add data && git -C repo commit -q --no-verify -m "data on local main"
git -C repo checkout -q feature/model-data
run_expect 0 git -C repo rebase -q main
refused_push "rebase onto local data" data/train.csv git -C repo push --force origin feature/model-data
git -C repo checkout -q main && git -C repo reset -q --hard origin/main
git -C repo checkout -q feature/model-data && git -C repo reset -q --hard origin/feature/model-data

# --- what the remote already has is not judged again ------------------------------------------
git -C repo checkout -q -b feature/model-admin
printf 'fixture' >repo/golden.npy
git -C repo add golden.npy && git -C repo commit -q --no-verify -m "golden fixture, put there by an admin"
git -C repo push -q --no-verify origin feature/model-admin
echo "more" >repo/more.py && git -C repo add more.py && git -C repo commit -q -m "more"
run_expect 0 git -C repo push origin feature/model-admin   # golden.npy is on the remote already
git -C repo checkout -q -b feature/model-child
echo "child" >repo/child.py && git -C repo add child.py && git -C repo commit -q -m "child"
run_expect 0 git -C repo push origin feature/model-child  # a new branch on top of it: still nothing new

# --- an allowed path passes at push as at commit ----------------------------------------------
printf 'fixture' >repo/tests.npz
git -C repo add tests.npz && git -C repo commit -q --no-verify -m "fixture"
refused_push "fixture not allowed" tests.npz git -C repo push origin feature/model-child
git -C repo config --add model.allowPath tests.npz
run_expect 0 git -C repo push origin feature/model-child

# --- a tag brings its commits' blobs too ------------------------------------------------------
git -C repo checkout -q -b scratch2 main
printf 'w' >repo/w.bin && git -C repo add w.bin && git -C repo commit -q --no-verify -m "weights"
git -C repo tag -a -m "release" tagged-weights
before=$(remote_refs "$remote")
run_expect 1 git -C repo push origin tagged-weights
assert_contains "$ERR" "w.bin"
assert_eq "$(remote_refs "$remote")" "$before" "tag push: remote unchanged"

# --- a clone without git-lfs: .gitattributes says LFS, the blob is the file itself -------------
cd "$TEST_DIR"
git init -q --bare lfs.git
git init -q lfsup
git -C lfsup lfs install --local >/dev/null 2>&1 || true   # the uploader has LFS (when installed here)
printf '*.pt filter=lfs diff=lfs merge=lfs -text\n*.dat filter=lfs diff=lfs merge=lfs -text\n' >lfsup/.gitattributes
echo "# models" >lfsup/README.md
git -C lfsup add -A && git -C lfsup commit -q -m "track through LFS"
git -C lfsup push -q "$TEST_DIR/lfs.git" HEAD:main
git clone -q lfs.git nolfs 2>/dev/null
git -C nolfs config model.bench.beforePush never
run_expect 0 git -C nolfs model hooks install
git -C nolfs checkout -q -b feature/model-weights
CHECKS=$((CHECKS + 1)); [ -z "$(git -C nolfs config --get filter.lfs.clean || true)" ] || fail "the clone has an LFS filter"
head -c $((30 * 1024 * 1024)) /dev/urandom >nolfs/model.pt
git -C nolfs add model.pt
run_expect 1 git -C nolfs commit -q -m "weights without LFS"
assert_contains "$ERR" "model.pt: is stored through Git LFS"
assert_contains "$ERR" "not an LFS pointer"
assert_contains "$ERR" "install git-lfs"
git -C nolfs reset -q
# small and named like nothing the patterns know: LFS should still have stored it
head -c 2048 /dev/urandom >nolfs/table.dat
git -C nolfs add table.dat
run_expect 1 git -C nolfs commit -q -m "a small LFS file without LFS"
assert_contains "$ERR" "table.dat: is stored through Git LFS"
git -C nolfs commit -q --no-verify -m "bypassed"
before=$(remote_refs "$TEST_DIR/lfs.git")
run_expect 1 git -C nolfs push origin feature/model-weights
assert_contains "$ERR" "table.dat, which is stored through Git LFS"
assert_contains "$ERR" "git lfs migrate import"
assert_eq "$(remote_refs "$TEST_DIR/lfs.git")" "$before" "LFS-less push: remote unchanged"
git -C nolfs reset -q --hard origin/main

# --- (s40f) a tag of a file or a folder (no commit) would bring its blobs past the data policy: refused ----
head -c $((2 * 1024 * 1024)) /dev/urandom >"$TEST_DIR/loose.pt"
blob=$(git -C repo hash-object -w "$TEST_DIR/loose.pt")
git -C repo tag -a -m "weights" weights-blob "$blob"
before=$(remote_refs "$remote")
run_expect 1 git -C repo push origin weights-blob
assert_contains "$ERR" "refs/tags/weights-blob points at"
assert_contains "$ERR" "which is no commit (a tag of a file or a folder?)"
assert_contains "$ERR" "[rule: not-a-commit]"
git -C repo tag weights-tree "$(printf '100644 blob %s\tmodel.pt\n' "$blob" | git -C repo mktree)"
run_expect 1 git -C repo push origin weights-tree
assert_contains "$ERR" "[rule: not-a-commit]"
run_expect 1 git -C repo push origin "$blob:refs/heads/feature/model-blob"
assert_contains "$ERR" "[rule: not-a-commit]" "a blob pushed to a branch (the remote stores the pack before it refuses the ref)"
assert_eq "$(remote_refs "$remote")" "$before" "neither tag nor the blob branch reached the remote"
CHECKS=$((CHECKS + 1)); remote_has_blob "$blob" && fail "the loose blob reached the remote"
git -C repo tag -d weights-blob weights-tree >/dev/null

# with git-lfs set up, the same files enter as pointers, at commit and at push
if command -v git-lfs >/dev/null; then
    git -C nolfs lfs install --local --skip-repo >/dev/null
    run_expect 0 git -C nolfs model hooks install
    head -c 4096 /dev/urandom >nolfs/table.dat
    head -c $((1024 * 1024)) /dev/urandom >nolfs/model.pt
    git -C nolfs add table.dat model.pt
    run_expect 0 git -C nolfs commit -q -m "through LFS"
    assert_contains "$(git -C nolfs cat-file -p HEAD:model.pt)" "git-lfs.github.com/spec/v1"
    run_expect 0 git -C nolfs push origin feature/model-weights
    assert_eq "$(git -C "$TEST_DIR/lfs.git" rev-parse feature/model-weights)" "$(git -C nolfs rev-parse HEAD)" \
        "LFS push arrives"
else
    echo "SKIP: git-lfs is not installed; the case with LFS set up is not run"
fi
