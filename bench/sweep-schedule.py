#!/usr/bin/env python3
"""How soon the local sweep scheduler starts the next run once a GPU frees, against a plain loop.

One GPU, --runs runs (default 20) of a command that only writes two time stamps (host uptime,
one clock for every container) to the model's persistent volume:
  git model sweep start --grid k=1..N -- sh -c '<stamp start; stamp end>'
      gap(k) = start stamp of run k+1 - end stamp of run k: the container's exit, the scheduler
      noticing it, giving back the GPU, taking it again, recording both runs, and the next
      container's start
  the same `podman run` argv (taken from the scheduler's GIT_MODEL_TRACE), replayed N times
  back to back from Python (the reference: the engine's own exit and start, nothing else)
The scheduler's own latency is the difference of the median gaps. Target: within 100 ms.
Uses podman with a containers.conf of its own and a busybox image it imports (no registry).
Removes everything it starts.
Usage: bench/sweep-schedule.py [--runs N] [--prefix DIR] [--keep]
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONF = '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n'
IMAGE = "localhost/gm-bench-busybox:1"
STAMPS = ('read u _ </proc/uptime; echo "$GIT_MODEL_RUN start $u" >>/persist/logs/times; '
          'read u _ </proc/uptime; echo "$GIT_MODEL_RUN end $u" >>/persist/logs/times')


def run(argv, cwd=None, env=None, check=True, capture=False):
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{r.stderr}")
    return r


def import_image(scratch, env):
    if run(["podman", "image", "exists", IMAGE], env=env, check=False).returncode == 0:
        return
    root = os.path.join(scratch, "root")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    for applet in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(root, "bin", applet))
    run(["tar", "-C", root, "-cf", os.path.join(scratch, "root.tar"), "."])
    run(["podman", "import", "-q", os.path.join(scratch, "root.tar"), IMAGE], env=env)


def gaps(times_file):
    """Start of each run minus the end of the run before it, in ms, from '<run> start|end <uptime>' lines."""
    starts, ends = {}, {}
    with open(times_file) as f:
        for line in f:
            who, what, t = line.split()
            (starts if what == "start" else ends)[who] = float(t)
    order = sorted(starts, key=lambda who: starts[who])
    return [(starts[b] - ends[a]) * 1000 for a, b in zip(order, order[1:]) if a in ends]


def wait_done(wt, env, sweep_id, limit):
    until = time.monotonic() + limit
    while time.monotonic() < until:
        view = json.loads(run(["git", "model", "sweep", "status", sweep_id, "--json"], wt, env, capture=True).stdout)
        states = [r["state"] for r in view["runs"]]
        if not any(s in ("queued", "running") for s in states):
            return states
        time.sleep(0.5)
    sys.exit(f"the sweep did not finish within {limit} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--prefix", help="install prefix whose bin/ holds git-model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-bench-schedule-")
    env = dict(os.environ)
    env.update({"HOME": scratch, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@e",
                "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@e",
                "CONTAINERS_CONF": os.path.join(scratch, "containers.conf"),
                "GIT_MODEL_LEASE_DIR": os.path.join(scratch, "leases")})
    env.pop("GIT_DIR", None)
    if args.prefix:
        env["PATH"] = os.path.join(os.path.abspath(args.prefix), "bin") + os.pathsep + env["PATH"]
    if not shutil.which("git-model", path=env["PATH"]) or not shutil.which("podman"):
        sys.exit("needs git-model on PATH (--prefix) and podman")
    print(f"git-model: {shutil.which('git-model', path=env['PATH'])}; {args.runs} runs on one GPU")
    with open(env["CONTAINERS_CONF"], "w") as f:
        f.write(CONF)
    repo = os.path.join(scratch, "repo")
    replayed = []
    try:
        import_image(scratch, env)
        run(["git", "init", "-q", "-b", "main", repo], env=env)
        with open(os.path.join(repo, ".modelenv.yaml"), "w") as f:
            f.write(f"image: {IMAGE}\ngpus: 1\n")
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-q", "-m", "env"], repo, env)
        for key, value in (("model.gpus", "0"), ("model.installHooks", "never"), ("model.env.stopTimeout", "1s")):
            run(["git", "config", key, value], repo, env)
        run(["git", "model", "start", "m"], repo, env)
        wt = os.path.join(scratch, "worktrees", "feature", "model-m")

        values = ",".join(str(k) for k in range(1, args.runs + 1))
        run(["git", "model", "sweep", "start", "--grid", f"k={values}", "--", "sh", "-c", STAMPS], wt,
            dict(env, GIT_MODEL_TRACE="1"))
        sweep_id = json.loads(run(["git", "model", "sweep", "status", "--json"], wt, env, capture=True).stdout)[-1]["id"]
        states = wait_done(wt, env, str(sweep_id), 60 + 10 * args.runs)
        if any(s != "done" for s in states):
            sys.exit(f"not every run finished done: {states}")
        # Where the runs' /persist/logs is on the host: the one file named times under the model's volume.
        persist = os.path.join(repo, ".git", "git-model", "persist", "m")
        found = [os.path.join(d, "times") for d, _, names in os.walk(persist) if "times" in names]
        if len(found) != 1:
            sys.exit(f"expected one times file under {persist}, found {found}")
        times = found[0]
        ours = gaps(times)
        os.rename(times, times + ".sweep")

        # The first run's engine argv, as the scheduler ran it, replayed under other names.
        log = os.path.join(repo, ".git", "git-model", "sweeps", str(sweep_id), "scheduler.log")
        with open(log) as f:
            line = next((l for l in f if l.startswith("trace: run: ") and "'run'" in l), None)
        if not line:
            sys.exit(f"no engine run traced in {log}: this git-model does not trace its spawned children")
        argv = shlex.split(line[len("trace: run: "):].strip())
        name_at = argv.index("--name") + 1
        for k in range(1, args.runs + 1):
            replay = list(argv)
            replay[name_at] = f"gm-bench-schedule-replay-{k}"
            replay[name_at + 1:name_at + 1] = ["--env", f"GIT_MODEL_RUN={k}"]  # over the run's --env-file
            replayed.append(replay[name_at])
            run(replay, env=env)  # --rm: gone when it returns, as in the sweep
        reference = gaps(times)

        a, b = statistics.median(ours), statistics.median(reference)
        print(f"{'gap between runs, sweep scheduler':<44} {a:8.1f} ms   (min {min(ours):.1f}, max {max(ours):.1f})")
        print(f"{'gap between runs, podman run loop':<44} {b:8.1f} ms   (min {min(reference):.1f}, "
              f"max {max(reference):.1f})")
        print(f"the scheduler's own latency: {a - b:+.1f} ms (target <= 100 ms); ratio {a / b:.2f}x the loop")
    finally:
        for name in replayed:
            run(["podman", "rm", "-f", "-t", "0", "--ignore", name], env=env, check=False)
        if os.path.isdir(repo):
            run(["git", "model", "sweep", "clean", "--all"], repo, env, check=False)
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
