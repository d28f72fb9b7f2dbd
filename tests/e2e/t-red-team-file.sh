#!/usr/bin/env bash
# Red team, the committed team file: a teammate's commit on the base branch must not make another
# clone push its work somewhere else. model.remote names a remote of *this* clone: taken from
# .gitmodel, `git model finish` in bob's clone pushed bob's branch to whichever of bob's remotes
# the file named (here "public", say an open-source upstream), and a name bob lacks broke finish
# for him. It is a machine key now: ignored in the team file (doctor lists it). And git followed
# include.path / includeIf in the team file (any file of the reader's machine became policy, a
# FIFO hung every command): the file is now read with --no-includes.
# Also held (asserted): a feature branch's own .gitmodel does not loosen policy; `git -c` does not
# override a team policy key; a broken file names .gitmodel:<line> and changes no ref.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-02-01T00:00:00Z" GIT_COMMITTER_DATE="2026-02-01T00:00:00Z"
remote="$TEST_DIR/team.git"
evil="$TEST_DIR/elsewhere.git"
git init -q --bare "$remote"
git init -q --bare "$evil"
make_repo alice
git -C alice remote add origin "$remote"
git -C alice push -q origin main
git clone -q "$remote" bob
git -C bob remote add public "$evil"     # bob's other remote: not where the team's work goes
for who in alice bob; do
    git -C $who config model.bench.beforePush never
    git -C $who config model.finish.merge allow
done

# --- alice commits a team file that names another "remote" and an include -----------------------
# include.path in the team file: git followed it when reading the blob, so any file on the reader's
# machine (one another local user wrote in /tmp, a FIFO, /dev/zero) became the team's policy.
printf '[model]\n    maxFileSize = 5g\n    allowedBranch = *\n' >"$TEST_DIR/loose.cfg"
mkfifo "$TEST_DIR/hang.fifo"
cat >alice/.gitmodel <<CFG
[model]
    remote = public
    maxFileSize = 1m
[include]
    path = $TEST_DIR/loose.cfg
[includeIf "gitdir:/"]
    path = $TEST_DIR/hang.fifo
CFG
git -C alice add .gitmodel
git -C alice commit -qm "team file"
git -C alice push -q origin main
git -C bob pull -q

rc=0; timeout 20 git -C bob model list >/dev/null 2>&1 || rc=$?
timeout 2 sh -c ': >"$1"' sh "$TEST_DIR/hang.fifo" 2>/dev/null || true   # frees a reader left blocked
[ "$rc" -ne 124 ] || fail "an includeIf naming a FIFO in the team file hangs every command"
run_expect 0 git -C bob model start resnet
wb="$TEST_DIR/worktrees/feature/model-resnet"
commit_at "$wb" "2026-02-02T10:00:00Z" "bob's work" resnet.py
run_expect 0 git -C "$wb" model tag --metric acc=0.8 --no-push
run_expect 0 git -C "$wb" model finish
# bob's work never lands in the place the team file named
assert_eq "$(git -C "$evil" for-each-ref --format='%(refname)' | wc -l)" "0" "nothing pushed to the team file's model.remote"
assert_eq "$(git -C "$remote" rev-parse -q --verify refs/heads/feature/model-resnet || true)" \
    "$(git -C bob rev-parse feature/model-resnet)" "bob's branch went to his own origin"

OUT=$(git -C bob model doctor 2>&1 || true)
assert_contains "$OUT" "model.remote in the team file is ignored (a setting of this machine, not the team's)"
run_expect 0 git -C bob model hooks install

# --- held: the policy from the base wins over a feature branch's copy, git -c and local config -----
head -c 2000000 /dev/urandom >"$wb/weights.bin"
printf '[model]\n    maxFileSize = 100m\n' >"$wb/.gitmodel"
git -C "$wb" add weights.bin .gitmodel
git -C "$wb" commit -q --no-verify -m "loosen"
before=$(git -C "$remote" for-each-ref | sha1sum)
run_expect 1 git -C "$wb" -c model.maxFileSize=100m push origin feature/model-resnet
assert_contains "$ERR" "weights.bin" "the team's 1m limit holds over git -c and the branch's own .gitmodel"
assert_eq "$(git -C "$remote" for-each-ref | sha1sum)" "$before" "nothing pushed"
git -C "$wb" reset -q --hard HEAD~1

# --- held: a broken team file on the base names .gitmodel:<line> and loses nothing -----------------
printf '[model]\n    maxFileSize = 1m\n  this is not config\n' >alice/.gitmodel
git -C alice commit -qam "broken"
git -C alice push -q origin main
git -C bob fetch -q
before=$(git -C bob for-each-ref | sha1sum)
run_expect 1 git -C "$wb" model list
assert_contains "$ERR" ".gitmodel:3" "the broken line is named"
assert_eq "$(git -C bob for-each-ref | sha1sum)" "$before" "no ref changed"

