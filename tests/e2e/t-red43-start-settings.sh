#!/usr/bin/env bash
# Red team s43b: model.worktreeRoot written "~/worktrees" (as git's own path keys are) made a folder
# named "~" inside the main worktree; it is the home folder, as git reads it. And `start --no-worktree`
# whose switch git completed before it failed (a post-checkout hook) said "nothing was changed"
# while the branch was made and checked out; it says the model was started.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.worktreeRoot "~/wts"
run_expect 0 git -C repo model start alpha
assert_dir "$HOME/wts/feature/model-alpha"
assert_no_path "repo/~"
git -C repo config model.worktreeRoot "~no-such-user-gm/wts"
run_expect 1 git -C repo model start beta
assert_contains "$ERR" "model.worktreeRoot is '~no-such-user-gm/wts': ~no-such-user-gm names no home folder known here"
assert_no_branch repo feature/model-beta
git -C repo config --unset model.worktreeRoot

printf '#!/bin/sh\necho "post-checkout hook fails" >&2\nexit 1\n' >repo/.git/hooks/post-checkout
chmod +x repo/.git/hooks/post-checkout
run_expect 1 git -C repo model start --no-worktree gamma
assert_contains "$ERR" "the model was started all the same: its branch feature/model-gamma is checked out here"
assert_not_contains "$ERR" "nothing was changed"
assert_eq "$(git -C repo symbolic-ref HEAD)" "refs/heads/feature/model-gamma" "the branch is checked out"
assert_eq "$(git -C repo config branch.feature/model-gamma.modelBase)" "main" "its base is recorded"
run_expect 0 git -C repo model list
assert_contains "$OUT" "gamma"

# --- (s43b) a switch killed part way (here by a SIGINT to git alone, at its 1000th deletion): the files it
# changed are put back as HEAD has them, the files it wrote go, the branch goes, and the error says so -------
if command -v strace >/dev/null; then
    rm repo/.git/hooks/post-checkout
    git -C repo switch -q main
    git -C repo switch -q -c work
    mkdir repo/big
    for i in $(seq 2000); do echo "$i" >"repo/big/f$i"; done
    git -C repo add big && git -C repo commit -q -m big
    git -C repo switch -q main
    echo "main's own" >repo/only-main.txt && git -C repo add only-main.txt && git -C repo commit -q -m "only on main"
    git -C repo switch -q work
    echo "an untracked file of the user's" >repo/mine.txt
    rc=0
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -qq -f -o /dev/null -e trace=unlink,unlinkat \
        -e inject=unlink,unlinkat:signal=INT:when=1000 git -C repo model start --no-worktree delta --base main \
        >"$TEST_DIR/out" 2>&1 || rc=$?
    assert_eq "$rc" "1" "the interrupted start fails: $(cat "$TEST_DIR/out")"
    assert_contains "$(cat "$TEST_DIR/out")" "files the interrupted switch had changed, as"
    assert_eq "$(git -C repo symbolic-ref HEAD)" "refs/heads/work" "still on work"
    assert_eq "$(git -C repo status --porcelain)" "?? mine.txt" "work's files all back, the user's file kept, nothing of main's left"
    assert_no_branch repo feature/model-delta
    run_expect 0 git -C repo model start --no-worktree delta --base main
    assert_eq "$(cat repo/only-main.txt)" "main's own" "the next start switches"
fi

# --- (s43d) the restore undoes only what the switch wrote -------------------------------------------
# boom REPO PATTERN: files matching PATTERN are written through a smudge filter that sends SIGINT to
# the git running it (a Ctrl-C that reached git alone), so the switch dies part way.
boom() {
    echo "$2 filter=boom" >>"$1/.git/info/attributes"
    git -C "$1" config filter.boom.smudge 'kill -INT $PPID; sleep 1; cat'
    git -C "$1" config filter.boom.clean cat
}
two_branches() {  # REPO: main adds zz.txt and changes a.txt; work (checked out) changes a.txt
    make_repo "$1"
    git -C "$1" config model.installHooks never
    echo base >"$1/a.txt" && echo 'lr=1' >"$1/config.local" && git -C "$1" add -A && git -C "$1" commit -q -m init
    echo zz >"$1/zz.txt" && echo main2 >"$1/a.txt" && git -C "$1" add -A && git -C "$1" commit -q -m main2
    git -C "$1" switch -q -c work HEAD~1
    echo work >"$1/a.txt" && git -C "$1" commit -q -a -m work
}
# A file marked assume-unchanged (a local edit of a tracked config) that the switch never touches
# keeps the edit: git's status hides it, and `reset --hard` would have rewritten it.
two_branches au
git -C au update-index --assume-unchanged config.local
echo 'lr=0.001  # my tuned value' >au/config.local
boom au 'zz*'
run_expect 1 git -C au model start --no-worktree m1 --base main
assert_contains "$ERR" "put back 1 file the interrupted switch had changed"
assert_eq "$(cat au/config.local)" "lr=0.001  # my tuned value" "the assume-unchanged edit is kept"
assert_eq "$(cat au/a.txt)" "work" "the file the switch changed is back"
assert_eq "$(git -C au symbolic-ref HEAD)" "refs/heads/work" "still on work"
assert_no_branch au feature/model-m1

# git refuses the switch up front (an untracked file of the user's in the way) and writes nothing:
# nothing is undone, and a file of the user's equal to the base's (copied from it) stays.
make_repo refused
git -C refused config model.installHooks never
echo base >refused/a.txt && git -C refused add -A && git -C refused commit -q -m init
mkdir refused/tools && printf '#!/bin/sh\necho eval\n' >refused/tools/eval.sh && echo other >refused/notes.txt
git -C refused add -A && git -C refused commit -q -m main2
git -C refused switch -q -c work HEAD~1
echo work >refused/a.txt && git -C refused commit -q -a -m work
mkdir refused/tools && git -C refused show main:tools/eval.sh >refused/tools/eval.sh
echo "my notes" >refused/notes.txt
run_expect 1 git -C refused model start --no-worktree m1 --base main
assert_contains "$ERR" "would be overwritten"
assert_not_contains "$ERR" "removed"
assert_eq "$(git -C refused show main:tools/eval.sh)" "$(cat refused/tools/eval.sh)" "the user's copy stays"
assert_eq "$(cat refused/notes.txt)" "my notes" "the user's notes stay"
assert_no_branch refused feature/model-m1

# With end-of-line conversion (eol=crlf) the base's new files git wrote differ from their blobs
# byte for byte; through the path's filters they are the base's, and go.
make_repo crlf
git -C crlf config model.installHooks never
echo '*.txt text eol=crlf' >crlf/.gitattributes
echo base >crlf/a.txt && git -C crlf add -A && git -C crlf commit -q -m init
mkdir crlf/data && for i in 1 2 3; do echo "row $i" >"crlf/data/b$i.txt"; done
echo zz >crlf/zz.bin && echo main2 >crlf/a.txt && git -C crlf add -A && git -C crlf commit -q -m main2
git -C crlf switch -q -c work HEAD~1
echo work >crlf/a.txt && git -C crlf commit -q -a -m work
boom crlf 'zz*'
run_expect 1 git -C crlf model start --no-worktree m1 --base main
assert_contains "$ERR" "removed 3 files the switch had written"
assert_eq "$(git -C crlf status --porcelain)" "" "nothing of main's left, a.txt as work has it"
assert_no_path crlf/data

# A submodule edit that makes git refuse the switch (submodule.recurse) is the user's: kept.
if git -c protocol.file.allow=always --version >/dev/null; then
    make_repo subrepo
    echo v1 >subrepo/lib.py && git -C subrepo add -A && git -C subrepo commit -q -m s1
    s1=$(git -C subrepo rev-parse HEAD)
    echo v2 >subrepo/lib.py && git -C subrepo commit -q -a -m s2
    make_repo sm
    git -C sm config model.installHooks never
    echo base >sm/a.txt
    git -C sm -c protocol.file.allow=always submodule -q add "$TEST_DIR/subrepo" sub
    git -C sm/sub checkout -q "$s1" && git -C sm add -A && git -C sm commit -q -m init
    git -C sm/sub checkout -q main 2>/dev/null || git -C sm/sub checkout -q master
    echo main2 >sm/a.txt && git -C sm add -A && git -C sm commit -q -m main2
    git -C sm switch -q -c work HEAD~1
    git -C sm submodule -q update
    echo work >sm/a.txt && git -C sm commit -q -a -m work
    git -C sm config submodule.recurse true
    echo "my unsaved experiment" >>sm/sub/lib.py
    run_expect 1 git -C sm model start --no-worktree m1 --base main
    assert_contains "$(cat sm/sub/lib.py)" "my unsaved experiment"
    assert_eq "$(git -C sm symbolic-ref HEAD)" "refs/heads/work" "still on work"
    assert_no_branch sm feature/model-m1
fi

# (s43e) A file the user saves while a long switch runs (an editor's autosave during an LFS checkout)
# is theirs, not the switch's: kept, and named, when the switch is then interrupted.
# interrupted_start_saving REPO LINE: `start --no-worktree m1 --base main` in REPO, whose switch a slow
# smudge filter (an LFS checkout's shape) holds for 3 s and then interrupts (Ctrl-C); meanwhile the
# user appends LINE to a.txt, which the switch had already written. The start must fail (exit 1).
interrupted_start_saving() {
    local repo=$1 line=$2 starting rc=0
    echo "zz* filter=slow" >>"$repo/.git/info/attributes"
    git -C "$repo" config filter.slow.smudge \
        "if [ ! -e '$TEST_DIR/$repo.once' ]; then touch '$TEST_DIR/$repo.once'; sleep 3; kill -INT \$PPID; sleep 1; fi; cat"
    git -C "$repo" config filter.slow.clean cat
    git -C "$repo" model start --no-worktree m1 --base main >"$TEST_DIR/out" 2>&1 &
    starting=$!
    for _ in $(seq 50); do grep -q main2 "$repo/a.txt" 2>/dev/null && break; sleep 0.1; done
    echo "$line" >>"$repo/a.txt"
    wait "$starting" || rc=$?
    assert_eq "$rc" "1" "the interrupted start fails: $(cat "$TEST_DIR/out")"
}
two_branches during
interrupted_start_saving during "USER WORK"
assert_contains "$(cat during/a.txt)" "USER WORK"
assert_contains "$(cat "$TEST_DIR/out")" "left as it is the 1 change the switch did not make (a.txt)"
assert_no_path during/zz.txt
assert_no_branch during feature/model-m1

# (s43e) The base's new files with a newline in a name are told apart too: all of them go.
make_repo nl
git -C nl config model.installHooks never
echo base >nl/a.txt && git -C nl add -A && git -C nl commit -q -m init
echo main2 >nl/a.txt && echo zz >nl/zz.bin && printf 'new\n' >"nl/$(printf 'n\nl')" && echo new2 >nl/n && echo new3 >nl/o.txt
git -C nl add -A && git -C nl commit -q -m "names"
git -C nl switch -q -c work HEAD~1
echo work >nl/a.txt && git -C nl commit -q -a -m work
boom nl 'zz*'
run_expect 1 git -C nl model start --no-worktree m2 --base main
assert_contains "$ERR" "removed 3 files the switch had written"
assert_eq "$(git -C nl status --porcelain --untracked-files=all)" "" "none of main's files left"

# (s43f) An ignored file of the user's (a local .env) where the base has a file: git's switch would
# overwrite it without asking, so the start refuses first, naming it, and changes nothing.
two_branches ign
git -C ign switch -q main
printf 'DEFAULTS=1\n' >ign/.env && git -C ign add -f .env && git -C ign commit -q -m "main's .env"
git -C ign switch -q work
echo ".env" >ign/.gitignore && git -C ign add .gitignore && git -C ign commit -q -m ignore
printf 'SECRET_TOKEN=my-only-copy\n' >ign/.env
run_expect 1 git -C ign model start --no-worktree m1 --base main
assert_contains "$ERR" "the base has files where ignored files of yours are (.env)"
assert_eq "$(cat ign/.env)" "SECRET_TOKEN=my-only-copy" "the ignored file is untouched"
assert_no_branch ign feature/model-m1
mkdir ign/d && echo "a build" >ign/d/out && echo "d" >>ign/.git/info/exclude
run_expect 0 git -C ign model start --no-worktree m2 --base work   # nothing of the base's in the way

# (s43e) A clean filter that drops what the user adds (nbstripout and a notebook's outputs): the file
# the user saved during the switch is judged as checked out, not through the clean filter: kept.
two_branches strip
echo "a.txt filter=strip" >>strip/.git/info/attributes
git -C strip config filter.strip.clean "grep -v '^OUT:' || true"
interrupted_start_saving strip "OUT: accuracy 0.97 (6 h of training)"
assert_contains "$(cat strip/a.txt)" "OUT: accuracy 0.97"
assert_no_branch strip feature/model-m1

# (s43g) Ignored files inside a folder where the base has a file, and an ignored link where the base
# needs a folder (beside an ignored .env): refused, naming them, nothing touched.
make_repo ign2
git -C ign2 config model.installHooks never
printf '*.o\ndata\n.env\n' >ign2/.gitignore && git -C ign2 add -A && git -C ign2 commit -q -m ignores
git -C ign2 switch -q -c base
echo "a file now" >ign2/build && mkdir ign2/data && echo readme >ign2/data/README.md && printf 'DEFAULTS=1\n' >ign2/.env
git -C ign2 add -f build data .env && git -C ign2 commit -q -m base
git -C ign2 switch -q main 2>/dev/null || git -C ign2 switch -q master
mkdir ign2/build && echo object >ign2/build/x.o
mkdir "$TEST_DIR/big" && echo r >"$TEST_DIR/big/README.md" && ln -s "$TEST_DIR/big" ign2/data
printf 'SECRET=only-copy\n' >ign2/.env
run_expect 1 git -C ign2 model start --no-worktree m1 --base base
assert_contains "$ERR" "ignored files of yours are"
assert_contains "$ERR" "build/x.o"
assert_eq "$(cat ign2/build/x.o)" "object" "the ignored build output is untouched"
assert_eq "$(cat ign2/.env)" "SECRET=only-copy" "the ignored .env is untouched"
assert_eq "$(readlink ign2/data)" "$TEST_DIR/big" "the ignored link is untouched"
assert_no_branch ign2 feature/model-m1
