#!/usr/bin/env bash
# Red team: two `git model sweep resume` of one sweep at the same time (two terminals, or a teammate), and a
# resume racing an extend. Only one scheduler may run the sweep: every run is started once, never twice at
# once in its worktree; the other command is refused (the sweep is running) or hands its runs to that scheduler.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --grid lr=1,2 -- \
    sh -c 'echo "start $GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"; [ -f "$GIT_MODEL_LOGS/fixed" ] || exit 1; sleep 2; echo "end $GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"'
wait_sweep "$WT" 1 60
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-1"
touch "$LOGS/fixed"
: >"$LOGS/calls"
bg() {  # NAME CMD...: runs CMD in the background, its output and status in NAME.out/.err/.rc
    local name=$1
    shift
    (rc=0; "$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" || rc=$?; echo "$rc" >"$TEST_DIR/$name.rc") &
}
bg a git -C "$WT" model sweep resume 1
bg b git -C "$WT" model sweep resume 1
bg c git -C "$WT" model sweep extend 1 --grid lr=3
wait
for n in a b c; do echo "$n: rc $(cat $n.rc): $(cat $n.out $n.err)"; done
wait_sweep "$WT" 1 60
sleep 2.5   # a second scheduler's second start would show by now
# Each run started at most once; when a resume won its turn, it started runs 1 and 2, and the other command(s) were
# refused because the sweep runs (an extend that came first starts the scheduler, and both resumes are refused).
python3 - "$LOGS/calls" <<'PY' || fail "a run started twice: $(tr '\n' ' ' <"$LOGS/calls")"
import sys, collections
starts = collections.Counter(line.split()[1] for line in open(sys.argv[1]) if line.startswith("start"))
assert all(n == 1 for n in starts.values()), starts
PY
RESUMED=$(cat a.rc b.rc | grep -c '^0$' || true)
[ "$RESUMED" -le 1 ] || fail "both resumes resumed"
for n in a b; do
    [ "$(cat $n.rc)" = 0 ] || assert_contains "$(cat $n.err)" "sweep 1 is still running"
done
assert_eq "$(cat c.rc)" "0" "the extend added its run"
run_expect 0 git -C "$WT" model sweep status 1 --json
if [ "$RESUMED" = 1 ]; then
    assert_eq "$(tr '\n' ' ' <"$LOGS/calls")" "start 1 end 1 start 2 end 2 start 3 end 3 " "one start per run, one at a time"
    assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done" "all done"
else
    assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "failed failed done" "the extend ran its run only"
fi
