# Sweep helpers for end-to-end tests: sourced after lib.sh by the sweep tests.

# wait_sweep DIR ID TIMEOUT: waits until no run of the sweep is queued or running; fails after TIMEOUT seconds.
wait_sweep() {
    local dir=$1 id=$2 limit=$3 waited=0 states
    while :; do
        states=$(git -C "$dir" model sweep status "$id" --json | python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["runs"]))')
        case " $states " in *" queued "* | *" running "*) ;; *) return 0 ;; esac
        [ "$waited" -ge "$((limit * 4))" ] && fail "sweep $id still unfinished after ${limit}s: $states"
        sleep 0.25
        waited=$((waited + 1))
    done
}

# wait_run_state DIR ID RUN STATE TIMEOUT: waits until one run reaches a state.
wait_run_state() {
    local dir=$1 id=$2 run=$3 state=$4 limit=$5 waited=0
    until [ "$(git -C "$dir" model sweep status "$id" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['runs'][$run - 1]['state'])")" = "$state" ]; do
        [ "$waited" -ge "$((limit * 4))" ] && fail "run $run of sweep $id not $state after ${limit}s"
        sleep 0.25
        waited=$((waited + 1))
    done
}

# check_schedule FILE MAX_AT_ONCE: the lines "<run> <gpu> start|end <seconds>" that runs wrote show
# no two runs on one GPU at once and never more than MAX_AT_ONCE at once; prints the run count.
check_schedule() {
    python3 - "$1" "$2" <<'PY' || fail "schedule check failed: $(cat "$1")"
import sys, collections
events = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    run, gpu, what, t = line.split()
    events[run][what] = float(t)
    events[run]["gpu"] = gpu
spans = [(e["start"], e["end"], e["gpu"], run) for run, e in events.items()]
for gpu in {g for _, _, g, _ in spans}:
    mine = sorted(s for s in spans if s[2] == gpu)
    for a, b in zip(mine, mine[1:]):
        assert a[1] <= b[0], f"runs {a[3]} and {b[3]} overlap on GPU {gpu}"
    assert "," not in gpu, f"a run got more than one GPU: {gpu}"
points = sorted([(s, 1) for s, _, _, _ in spans] + [(e, -1) for _, e, _, _ in spans], key=lambda p: (p[0], p[1]))
now = peak = 0
for _, step in points:
    now += step
    peak = max(peak, now)
assert peak <= int(sys.argv[2]), f"{peak} runs at once"
print(len(spans))
PY
}

# The start most sweep tests share, in $TEST_DIR: a repository "repo" with a bare remote and no
# hooks, and model MODEL started, its worktree in $WT; with --push its branch is pushed upstream,
# with --no-remote the repository has no remote at all (what a local experiment has).
start_sweep_model() {  # MODEL [--push | --no-remote]
    if [ "${2:-}" = --no-remote ]; then make_repo repo; else make_remote_pair repo; fi
    git -C repo config model.installHooks never
    run_expect 0 git -C repo model start "$1"
    WT="$TEST_DIR/worktrees/feature/model-$1"
    [ "${2:-}" != --push ] || git -C "$WT" push -q -u origin "feature/model-$1"
}

# Makes git-model die (SIGKILL, no chance to clean up) while git checks out the worktree of the run
# whose folder ends in SUFFIX (sweep-1-3): a post-checkout hook of repo's kills git's parent. git
# itself finishes on its own. stop_killing_at_checkout takes the hook away.
kill_at_checkout_of() {  # SUFFIX [SIGNAL, default KILL]
    mkdir -p "$TEST_DIR/hooks"
    printf '#!/bin/sh\ncase "$PWD" in *%s) kill -%s "$(ps -o ppid= -p $PPID | tr -d " ")" ;; esac\n' "$1" "${2:-KILL}" \
        >"$TEST_DIR/hooks/post-checkout"
    chmod +x "$TEST_DIR/hooks/post-checkout"
    git -C repo config core.hooksPath "$TEST_DIR/hooks"
}
stop_killing_at_checkout() {
    sleep 0.5   # git itself finishes after its parent died
    git -C repo config --unset core.hooksPath
}
