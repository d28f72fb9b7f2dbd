#!/usr/bin/env bash
# Red team: two `git model sweep extend` of one sweep at the same time (a teammate and a script, or two
# terminals). Each must either add its runs under numbers of its own or refuse with nothing made; afterwards
# every run the sweep's record names has its branch and worktree, and no branch or worktree of the sweep is
# left that the record does not name. A later sweep command must not remove runs the record names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1 -- true
wait_sweep "$WT" 1 60

# Both plan their runs while a third command holds the repository's worktrees lock (`git model start` of
# another model, its checkout slowed by a hook), then make them one after the other.
mkdir -p "$TEST_DIR/hooks"
printf '#!/bin/sh\ncase "$PWD" in *model-blocker) sleep 3 ;; esac\n' >"$TEST_DIR/hooks/post-checkout"
chmod +x "$TEST_DIR/hooks/post-checkout"
git -C repo config core.hooksPath "$TEST_DIR/hooks"
bg() {  # NAME CMD...: runs CMD in the background, its output and status in NAME.out/.err/.rc
    local name=$1
    shift
    (rc=0; "$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" || rc=$?; echo "$rc" >"$TEST_DIR/$name.rc") &
}
bg blocker git -C repo model start blocker
sleep 1
bg a git -C "$WT" model sweep extend 1 --grid lr=a,b,c
bg b git -C "$WT" model sweep extend 1 --grid lr=x,y,z
wait
git -C repo config --unset core.hooksPath
echo "A: rc $(cat a.rc): $(cat a.out a.err)"
echo "B: rc $(cat b.rc): $(cat b.out b.err)"
assert_eq "$(cat blocker.rc)" 0 "the blocker started"
wait_sweep "$WT" 1 60

check_consistent() {
    local what=$1 names branches
    run_expect 0 git -C "$WT" model sweep status 1 --json
    names=$(json_get "$OUT" '" ".join(str(r["run"]) for r in d["runs"])')
    branches=$(git -C repo for-each-ref --format='%(refname:short)' 'refs/heads/feature/model-net.sweep-1-*' |
        sed 's/.*sweep-1-//' | sort -n | tr '\n' ' ' | sed 's/ $//')
    assert_eq "$branches" "$names" "$what: the runs' branches are the runs the record names"
    for n in $names; do
        assert_contains "$(git_worktrees repo)" "model-net.sweep-1-$n" "$what: run $n has its worktree"
    done
    assert_eq "$(json_get "$OUT" '" ".join(sorted(set(str(r["params"]["lr"]) for r in d["runs"])))' | wc -w)" \
        "$(json_get "$OUT" 'len(d["runs"])')" "$what: one run per parameter set (nothing double-counted)"
}
check_consistent "after the two extends"
# Every added parameter set is in the record exactly once if its extend said so.
run_expect 0 git -C "$WT" model sweep status 1 --json
LRS=$(json_get "$OUT" '" ".join(str(r["params"]["lr"]) for r in d["runs"])')
[ "$(cat a.rc)" = 0 ] && for v in a b c; do assert_contains " $LRS " " $v " "A said it added lr=$v"; done
[ "$(cat b.rc)" = 0 ] && for v in x y z; do assert_contains " $LRS " " $v " "B said it added lr=$v"; done
# Another sweep command later keeps them all.
run_expect 0 git -C "$WT" model sweep status
check_consistent "after a later sweep command"
