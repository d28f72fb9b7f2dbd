#!/usr/bin/env python3
"""How soon the local sweep scheduler starts the next run once a GPU frees, against a plain loop.

One GPU, --runs runs (default 20) of a command that writes two time stamps (the wall clock, one
clock for every container) to the model's persistent volume, --run-seconds apart (default 1: a
training run lasts far longer, and the scheduler makes the next run's container while one runs):
  git model sweep start --grid k=1..N -- sh -c '<stamp start; stamp end>'
      gap(k) = start stamp of run k+1 - end stamp of run k: the container's exit, the scheduler
      noticing it, giving back the GPU, taking it again, recording both runs, and the next
      container's start
  the same container (the scheduler's `podman create` argv from its GIT_MODEL_TRACE, as `podman run`), N times
  back to back from Python (the reference: the engine's own exit and start, nothing else)
The scheduler's own latency is the difference of the median gaps. Target: within 100 ms.
Uses podman with a containers.conf of its own and a busybox image it imports (no registry).
Removes everything it starts.
Each round runs the sweep, then the loop (--rounds, default 3): the machine's load drifts, and
the median of the rounds' differences is the figure.
Usage: bench/sweep-schedule.py [--runs N] [--run-seconds S] [--rounds R] [--prefix DIR] [--keep]
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import IMAGE, git_model_path, import_image, isolated_env, output, run, start_env_model, use_podman  # noqa: E402

# The wall clock in microseconds (busybox adjtimex only reads it): /proc/uptime counts in 10 ms steps.
STAMPS = ('stamp() {{ /bin/busybox adjtimex | while read k v; do case "$k" in time.tv_sec:) s=$v;; '
          'time.tv_usec:) echo "$GIT_MODEL_RUN $1 $s $v" >>/persist/logs/times;; esac; done; }}; '
          'stamp start; sleep {seconds}; stamp end')


def gaps(times_file):
    """Start of each run minus the end of the run before it, in ms, from '<run> start|end <s> <us>' lines."""
    starts, ends = {}, {}
    with open(times_file) as f:
        for line in f:
            who, what, seconds, micros = line.split()
            (starts if what == "start" else ends)[who] = int(seconds) + int(micros) / 1e6
    order = sorted(starts, key=lambda who: starts[who])
    return [(starts[b] - ends[a]) * 1000 for a, b in zip(order, order[1:]) if a in ends]


def wait_done(wt, env, sweep_id, limit):
    until = time.monotonic() + limit
    while time.monotonic() < until:
        view = json.loads(output(["git", "model", "sweep", "status", sweep_id, "--json"], wt, env))
        states = [r["state"] for r in view["runs"]]
        if not any(s in ("queued", "running") for s in states):
            return states
        time.sleep(0.5)
    sys.exit(f"the sweep did not finish within {limit} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--run-seconds", type=float, default=1.0, help="how long each run's command lasts")
    parser.add_argument("--rounds", type=int, default=3,
                        help="sweep, then loop, this many times: the machine's drift hits both sides alike")
    parser.add_argument("--prefix", help="install prefix whose bin/ holds git-model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-bench-schedule-")
    env = isolated_env(scratch, args.prefix)
    env["GIT_MODEL_LEASE_DIR"] = os.path.join(scratch, "leases")
    if not shutil.which("podman"):
        sys.exit("needs podman")
    print(f"git-model: {git_model_path(env)}; {args.rounds} rounds of {args.runs} runs of {args.run_seconds:g} s "
          "on one GPU")
    use_podman(scratch, env)
    repo = os.path.join(scratch, "repo")
    replayed = []
    try:
        import_image(scratch, env)
        wt = start_env_model(repo, f"image: {IMAGE}\ngpus: 1\n", "m", env)
        ours_all, reference_all, differences = [], [], []
        argv, first_sweep = None, None
        for round_number in range(1, args.rounds + 1):
            ours, sweep_id = sweep_gaps(args, repo, wt, env)
            if argv is None:
                argv, first_sweep = replay_argv(repo, sweep_id), sweep_id
            # The replays mount the first sweep's log folder: their times go there.
            reference = loop_gaps(args, argv, times_file(repo, first_sweep), env, replayed, round_number)
            a, b = statistics.median(ours), statistics.median(reference)
            print(f"round {round_number}: sweep scheduler {a:6.1f} ms, podman run loop {b:6.1f} ms: {a - b:+.1f} ms")
            ours_all += ours
            reference_all += reference
            differences.append(a - b)
        a, b = statistics.median(ours_all), statistics.median(reference_all)
        print(f"{'gap between runs, sweep scheduler':<44} {a:8.1f} ms   (min {min(ours_all):.1f}, max {max(ours_all):.1f})")
        print(f"{'gap between runs, podman run loop':<44} {b:8.1f} ms   (min {min(reference_all):.1f}, "
              f"max {max(reference_all):.1f})")
        print(f"the scheduler's own latency: {statistics.median(differences):+.1f} ms, the median of the rounds' "
              f"differences (target <= 100 ms); ratio {a / b:.2f}x the loop")
    finally:
        for name in replayed:
            run(["podman", "rm", "-f", "-t", "0", "--ignore", name], env=env, check=False)
        if os.path.isdir(repo):
            run(["git", "model", "sweep", "clean", "--all"], repo, env, check=False)
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def times_file(repo, sweep_id):
    """Where a sweep's runs' /persist/logs/times is on the host."""
    return os.path.join(repo, ".git", "git-model", "persist", "m", "logs", f"sweep-{sweep_id}", "times")


def sweep_gaps(args, repo, wt, env):
    """One sweep of args.runs runs: its gaps, and its id."""
    values = ",".join(str(k) for k in range(1, args.runs + 1))
    run(["git", "model", "sweep", "start", "--grid", f"k={values}", "--", "sh", "-c",
         STAMPS.format(seconds=args.run_seconds)], wt, dict(env, GIT_MODEL_TRACE="1"))
    sweep_id = json.loads(output(["git", "model", "sweep", "status", "--json"], wt, env))[-1]["id"]
    states = wait_done(wt, env, str(sweep_id), 60 + (10 + args.run_seconds) * args.runs)
    if any(s != "done" for s in states):
        sys.exit(f"not every run finished done: {states}")
    times = times_file(repo, sweep_id)
    ours = gaps(times)
    os.rename(times, times + ".sweep")
    return ours, sweep_id


def replay_argv(repo, sweep_id):
    """The sweep's first run's container, as the scheduler made it (`podman create`, then `start
    --attach`), as one `podman run`: its --persist/logs mount is that sweep's log folder."""
    log = os.path.join(repo, ".git", "git-model", "sweeps", str(sweep_id), "scheduler.log")
    with open(log) as f:
        line = next((l for l in f if l.startswith("trace: run: ") and ("'create'" in l or "'run'" in l)), None)
    if not line:
        sys.exit(f"no engine run traced in {log}: this git-model does not trace its spawned children")
    argv = shlex.split(line[len("trace: run: "):].strip())
    argv[argv.index("create") if "create" in argv else argv.index("run")] = "run"
    return argv


def loop_gaps(args, argv, times, env, replayed, round_number):
    """args.runs replays of argv back to back, under names of their own: their gaps, from times."""
    name_at = argv.index("--name") + 1
    for k in range(1, args.runs + 1):
        replay = list(argv)
        replay[name_at] = f"gm-bench-schedule-replay-{round_number}-{k}"
        replay[name_at + 1:name_at + 1] = ["--env", f"GIT_MODEL_RUN={k}"]  # over the run's --env-file
        replayed.append(replay[name_at])
        run(replay, env=env)  # --rm: gone when it returns, as in the sweep
    reference = gaps(times)
    os.rename(times, times + f".loop-{round_number}")
    return reference


if __name__ == "__main__":
    main()
