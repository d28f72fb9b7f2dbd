#!/usr/bin/env bash
# `git model start --no-worktree` killed outright (SIGKILL: an OOM kill, a closed CI job) half way
# through its switch leaves the worktree half switched, HEAD unmoved, and no chance to undo it.
# Its journal record names the worktree, the commit it left and the moment the switch began, so
# the next start undoes what the switch wrote, on the same terms as an interrupted start does
# itself (only files still exactly the base's, written since the switch began; the user's own
# files and edits stay), and then starts: before, it refused with "uncommitted changes" that were
# the base's. A user who has committed since (HEAD moved) has made those files theirs: untouched.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
# killed_at_switch REPO: main adds zz.bin and data/new.txt and changes a.txt; REPO is on work,
# and a start's switch to main is killed (git-model and its git, SIGKILL) while git writes zz.bin.
killed_at_switch() {
    make_repo "$1"
    git -C "$1" config model.installHooks never
    echo base >"$1/a.txt" && git -C "$1" add -A && git -C "$1" commit -q -m base
    git -C "$1" switch -q -c work
    echo work >"$1/a.txt" && git -C "$1" commit -q -am work
    git -C "$1" switch -q main
    echo main2 >"$1/a.txt" && echo zz >"$1/zz.bin" && mkdir "$1/data" && echo "base row" >"$1/data/new.txt"
    git -C "$1" add -A && git -C "$1" commit -q -m main2
    git -C "$1" switch -q work
    mkdir -p "$(git -C "$1" rev-parse --git-common-dir)/info"
    echo "zz* filter=kill" >>"$(git -C "$1" rev-parse --path-format=absolute --git-common-dir)/info/attributes"
    # the filter's parent is git's switch, whose parent is git-model
    git -C "$1" config filter.kill.smudge \
        "if [ ! -e '$TEST_DIR/$1.killed' ]; then : >'$TEST_DIR/$1.killed'; kill -KILL \"\$(ps -o ppid= -p \$PPID | tr -d ' ')\" \$PPID; fi; cat"
    git -C "$1" config filter.kill.clean cat
    run_expect 137 git -C "$1" model start --no-worktree m1 --base main
    assert_eq "$(git -C "$1" symbolic-ref HEAD)" "refs/heads/work" "the killed switch left HEAD on work"
    assert_eq "$(cat "$1/a.txt")" "main2" "the killed switch had written main's a.txt"
}

# --- the next start undoes the switch's files, keeps the user's, and starts ---------------------
killed_at_switch repo
[ -e repo/data/new.txt ] || fail "the killed switch had not written data/new.txt (git's order changed?)"
echo "my notes" >repo/notes.txt                       # the user's own file, made after the kill
run_expect 0 git -C repo model list
assert_contains "$ERR" "\`git model start m1\` (pid"
# The killed git left its index.lock: git-model, like git, never takes it for stale on its own.
# Nothing is touched then, and the record stays for the next start.
[ -e repo/.git/index.lock ] || fail "the killed git left no index.lock (git changed?)"
run_expect 1 git -C repo model start --no-worktree m2 --base main
assert_contains "$ERR" "could not put back the 1 file the interrupted switch had changed"
assert_contains "$ERR" "index.lock"
assert_contains "$ERR" "removed 1 file the switch had written"   # the base's data/new.txt: no index needed
assert_no_path repo/data
assert_eq "$(cat repo/a.txt)" "main2" "nothing was put back while git could not write"
assert_branch_exists repo feature/model-m1
assert_no_branch repo feature/model-m2
rm repo/.git/index.lock                               # as git's message tells the user
run_expect 0 git -C repo model start --no-worktree m2 --base main
assert_contains "$ERR" "in $TEST_DIR/repo: put back 1 file the interrupted switch had changed"
assert_contains "$ERR" "rolled back the interrupted \`git model start m1\`"
assert_no_branch repo feature/model-m1
assert_eq "$(git -C repo symbolic-ref HEAD)" "refs/heads/feature/model-m2" "the new start switched"
assert_eq "$(git -C repo status --porcelain)" "?? notes.txt" "only the user's own file is besides the base"
assert_eq "$(cat repo/notes.txt)" "my notes" "the user's file is kept"
assert_no_path repo/.git/git-model/pending/m1

# --- an edit the user made after the kill, in a file the switch wrote, is theirs: kept -----------
killed_at_switch edited
rm edited/.git/index.lock
echo "my own text" >edited/data/new.txt
run_expect 1 git -C edited model start --no-worktree m2 --base main
assert_contains "$ERR" "left 1 file the base adds, written since the switch began but no longer as the base has it (data/new.txt)"
assert_contains "$ERR" "put back 1 file the interrupted switch had changed"
assert_eq "$(cat edited/data/new.txt)" "my own text" "the user's edit is kept"
assert_eq "$(cat edited/a.txt)" "work" "a.txt is work's again"
assert_eq "$(git -C edited symbolic-ref HEAD)" "refs/heads/work" "still on work"

# --- the user committed since the kill: HEAD moved, what is there is theirs -----------------------
killed_at_switch committed
rm committed/.git/index.lock
git -C committed add -A && git -C committed commit -q -m "kept what was there"
run_expect 0 git -C committed model start --no-worktree m2 --base main
assert_not_contains "$ERR" "put back"
assert_not_contains "$ERR" "removed"
assert_eq "$(git -C committed show work:a.txt)" "main2" "the user's commit is as they made it"
assert_no_branch committed feature/model-m1

# --- (s44b) moved, or copied with its record: the worktree is found by its git dir, not the path --
killed_at_switch moved
rm moved/.git/index.lock
mv moved moved2
run_expect 0 git -C moved2 model start --no-worktree m2 --base main
assert_contains "$ERR" "in $TEST_DIR/moved2: put back 1 file the interrupted switch had changed"
assert_eq "$(git -C moved2 status --porcelain)" "" "the moved repository was undone, then switched"
killed_at_switch orig
rm orig/.git/index.lock
cp -a orig copy
run_expect 0 git -C copy model start --no-worktree m2 --base main
assert_contains "$ERR" "in $TEST_DIR/copy: put back 1 file the interrupted switch had changed"
assert_not_contains "$ERR" "$TEST_DIR/orig"
assert_eq "$(cat orig/a.txt)" "main2" "the original repository is not the copy's to undo"
assert_eq "$(cat orig/data/new.txt)" "base row" "nothing of the original's was removed"
[ -e orig/.git/git-model/pending/m1 ] || fail "the original's own record went"

# --- (s44b) a user's own empty folder where the base adds a file stays, with its mode --------------
make_repo own
git -C own config model.installHooks never
git -C own switch -q -c work && git -C own switch -q main
mkdir own/data && echo "base row" >own/data/new.txt && echo zz >own/zz.bin && git -C own add -A && git -C own commit -q -m main2
git -C own switch -q work
mkdir -m 0711 own/data
echo "zz* filter=boom" >>own/.git/info/attributes
git -C own config filter.boom.smudge 'kill -INT $PPID; sleep 1; cat'
git -C own config filter.boom.clean cat
run_expect 1 git -C own model start --no-worktree m1 --base main
assert_contains "$ERR" "removed 1 file the switch had written"
assert_eq "$(stat -c %a own/data)" "711" "the user's folder, made before the start, is kept"

# --- (s44b) a record that is a hard link (a group member's plant, in a shared repository) is no one's
killed_at_switch planted
rm planted/.git/index.lock
git -C planted add -A && git -C planted commit -q -m "kept what was there"   # a record of its own no more undoes
mkdir victim && echo "my uncommitted work" >victim/a.txt
printf '{"model":"evil","branch":"feature/model-evil","base":"main","base_commit":"%s","worktree":null,"pid":999999,"start_ticks":1,"switched":"%s","switched_git_dir":"","head_before":"%s","switch_began":[0,0]}' \
    "$(git -C planted rev-parse main)" "$TEST_DIR/victim" "$(git -C planted rev-parse HEAD)" >planted/.git/description
ln planted/.git/description planted/.git/git-model/pending/evil
run_expect 0 git -C planted model start --no-worktree m2 --base main
assert_not_contains "$ERR" "evil"
assert_eq "$(cat victim/a.txt)" "my uncommitted work" "nothing outside was touched"
[ -e planted/.git/git-model/pending/evil ] || fail "the hard-linked record was taken for ours and rolled back"

# --- (s44c) a record file anyone else may write (a group-writable file of ours moved in) is no one's
killed_at_switch moved_in
rm moved_in/.git/index.lock
git -C moved_in add -A && git -C moved_in commit -q -m "kept what was there"
printf '{"model":"evil","branch":"feature/model-evil","base":"main","base_commit":"%s","worktree":null,"pid":999999,"start_ticks":1,"switched":null,"switched_git_dir":"","head_before":"%s","switch_began":[0,0]}' \
    "$(git -C moved_in rev-parse main)" "$(git -C moved_in rev-parse HEAD)" >moved_in/.git/description
chmod 664 moved_in/.git/description && mv moved_in/.git/description moved_in/.git/git-model/pending/evil
run_expect 0 git -C moved_in model start --no-worktree m2 --base main
[ -e moved_in/.git/git-model/pending/evil ] || fail "a group-writable record was taken for ours and rolled back"

# --- (s44c) a separate git dir, and a linked worktree whose git record names another repository --
mkdir gitdirs
git init -q --separate-git-dir="$TEST_DIR/gitdirs/sep.git" sep
killed_at_switch sep
rm gitdirs/sep.git/index.lock
run_expect 0 git -C sep model start --no-worktree m2 --base main
assert_contains "$ERR" "in $TEST_DIR/sep: put back 1 file the interrupted switch had changed"

killed_at_switch lk                                    # (its own kill; then the same in a linked worktree)
rm lk/.git/index.lock
git -C lk model start --no-worktree m0 --base main >/dev/null 2>&1 && git -C lk switch -q work
git -C lk worktree add -q -b work2 "$TEST_DIR/lkwt" work
kill_in_lkwt() {
    rm -f "$TEST_DIR/lk.killed"
    run_expect 137 git -C lkwt model start --no-worktree m1 --base main
    rm -f lk/.git/worktrees/lkwt/index.lock
    assert_eq "$(cat lkwt/a.txt)" "main2" "the killed switch had written main's a.txt in the linked worktree"
}
kill_in_lkwt
run_expect 0 git -C lk model start --no-worktree m3 --base work
assert_contains "$ERR" "in $TEST_DIR/lkwt: put back 1 file the interrupted switch had changed"
assert_eq "$(git -C lkwt status --porcelain)" "" "the linked worktree is undone"
kill_in_lkwt
git clone -q lk private && git -C private checkout -q work2
echo "my uncommitted edit" >private/a.txt && mkdir -p private/data && echo "base row" >private/data/new.txt
echo "$TEST_DIR/private/.git" >lk/.git/worktrees/lkwt/gitdir   # a group member's redirect
run_expect 0 git -C lk model start --no-worktree m4 --base work
assert_contains "$ERR" "did not undo the interrupted switch of $TEST_DIR/lkwt"
assert_eq "$(cat private/a.txt)" "my uncommitted edit" "another repository is never undone"
assert_eq "$(cat private/data/new.txt)" "base row" "another repository's file is never removed"
