#!/usr/bin/env bash
# pre-commit through real `git commit`: big files and data/checkpoint patterns
# refused, Git LFS files and allowed paths let through, the rules configurable.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model hooks install
head_before=$(git -C repo rev-parse HEAD)

refused() {  # WHAT FILE...: git commit fails, nothing committed, the file named
    local what=$1
    shift
    run_expect 1 git -C repo commit -q -m "$what"
    assert_contains "$ERR" "commit refused by the pre-commit hook" "$what"
    for f in "$@"; do assert_contains "$ERR" "$f" "$what names $f"; done
    assert_eq "$(git -C repo rev-parse HEAD)" "$head_before" "$what: nothing committed"
}

# a checkpoint, by pattern, at any depth
mkdir -p repo/checkpoints/epoch3
printf 'tiny' >repo/checkpoints/epoch3/model.pt
git -C repo add checkpoints
refused "checkpoint" checkpoints/epoch3/model.pt
assert_contains "$ERR" "matches '*.pt'"
assert_contains "$ERR" "mounts"
assert_contains "$ERR" "git lfs track"
git -C repo reset -q

# a data folder and several offenders at once
mkdir -p repo/data && printf 'a,b\n' >repo/data/train.csv && printf 'x' >repo/features.npy
git -C repo add data features.npy
refused "data" data/train.csv features.npy
assert_contains "$ERR" "2 files"
git -C repo reset -q

# a big file of any name
head -c $((11 * 1024 * 1024)) /dev/zero >repo/big.txt
git -C repo add big.txt
refused "big file" big.txt
assert_contains "$ERR" "larger than model.maxFileSize (10 MiB)"
git -C repo config model.maxFileSize 20m
run_expect 0 git -C repo commit -q -m "big but allowed by size"
head_before=$(git -C repo rev-parse HEAD)
git -C repo config model.maxFileSize 1k
echo "small change" >>repo/README.md && git -C repo add README.md
run_expect 0 git -C repo commit -q -m "a small file is fine"    # big.txt is not staged again
head_before=$(git -C repo rev-parse HEAD)
git -C repo config model.maxFileSize lots
echo "x" >>repo/README.md && git -C repo add README.md
run_expect 1 git -C repo commit -q -m "bad config"
assert_contains "$ERR" "model.maxFileSize 'lots' is not a size"
git -C repo config --unset model.maxFileSize
git -C repo commit -q -m "readme"
head_before=$(git -C repo rev-parse HEAD)

# allowed on purpose
printf 'fixture' >repo/tests.npz
git -C repo add tests.npz
refused "fixture" tests.npz
git -C repo config --add model.allowPath 'tests.npz'
run_expect 0 git -C repo commit -q -m "fixture allowed"
head_before=$(git -C repo rev-parse HEAD)

# patterns: added and removed
git -C repo config --add model.dataPattern '*.mlmodel'
git -C repo config --add model.dataPattern '!*.bin'
printf 'o' >repo/model.mlmodel && printf 'b' >repo/vocab.bin
git -C repo add model.mlmodel vocab.bin
refused "added pattern" model.mlmodel
assert_not_contains "$ERR" "vocab.bin"
git -C repo reset -q model.mlmodel
run_expect 0 git -C repo commit -q -m "vocab.bin allowed by !*.bin"
head_before=$(git -C repo rev-parse HEAD)

# Git LFS: a .pt file stored through LFS is fine
git -C repo lfs install --local --skip-repo >/dev/null
git -C repo lfs track '*.pt' >/dev/null
git -C repo add .gitattributes checkpoints/epoch3/model.pt
run_expect 0 git -C repo commit -q -m "checkpoint through LFS"
assert_contains "$(git -C repo cat-file -p HEAD:checkpoints/epoch3/model.pt)" "git-lfs.github.com/spec"

# deleting data that was committed before is always fine
git -C repo rm -q tests.npz
run_expect 0 git -C repo commit -q -m "remove the fixture"

# from a linked worktree too
run_expect 0 git -C repo model start beta
wt="$TEST_DIR/worktrees/feature/model-beta"
printf 'w' >"$wt/weights.safetensors"
git -C "$wt" add weights.safetensors
run_expect 1 git -C "$wt" commit -q -m "weights"
assert_contains "$ERR" "weights.safetensors"
