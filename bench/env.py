#!/usr/bin/env python3
"""`git model env up` and `env status` against the engine's own commands.

Side by side, medians of --runs (default 10):
  git model env up            vs  podman run -d with the very same arguments (taken from GIT_MODEL_TRACE)
                                  target: at most +10% or +150 ms, whichever is larger
  git model env status (20 environments)  vs  podman ps --all --filter label=... --format json
                                  target: under 200 ms
Uses podman with a containers.conf of its own and a busybox image it imports
(no registry needed). Removes everything it starts.
Usage: bench/env.py [--runs N] [--prefix DIR]
"""
import argparse
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


def run(argv, cwd=None, env=None, check=True, capture=False):
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{r.stderr}")
    return r


def timed(argv, cwd=None, env=None):
    t = time.perf_counter()
    run(argv, cwd, env)
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--prefix")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-env-bench-")
    env = dict(os.environ)
    env.update({"HOME": scratch, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@e",
                "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@e",
                "CONTAINERS_CONF": os.path.join(scratch, "containers.conf"),
                "GIT_MODEL_LEASE_DIR": os.path.join(scratch, "leases")})
    if args.prefix:
        env["PATH"] = os.path.join(os.path.abspath(args.prefix), "bin") + os.pathsep + env["PATH"]
    if not shutil.which("git-model", path=env["PATH"]) or not shutil.which("podman"):
        sys.exit("needs git-model on PATH (--prefix) and podman")
    with open(env["CONTAINERS_CONF"], "w") as f:
        f.write(CONF)
    repo = os.path.join(scratch, "repo")
    try:
        if run(["podman", "image", "exists", IMAGE], env=env, check=False).returncode != 0:
            root = os.path.join(scratch, "root")
            os.makedirs(os.path.join(root, "bin"))
            shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
            for applet in ("sh", "sleep"):
                os.symlink("busybox", os.path.join(root, "bin", applet))
            run(["tar", "-C", root, "-cf", os.path.join(scratch, "root.tar"), "."])
            run(["podman", "import", "-q", os.path.join(scratch, "root.tar"), IMAGE], env=env)
        run(["git", "init", "-q", "-b", "main", repo], env=env)
        with open(os.path.join(repo, ".modelenv.yaml"), "w") as f:
            f.write(f"image: {IMAGE}\ngpus: 1\nmemory: 256m\ncpus: 1\nshm_size: 64m\nenv:\n  LR: 0.001\n")
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-q", "-m", "env"], repo, env)
        for key, value in (("model.gpus", "0"), ("model.installHooks", "never"), ("model.env.stopTimeout", "1s")):
            run(["git", "config", key, value], repo, env)
        run(["git", "model", "start", "bench"], repo, env)
        wt = os.path.join(scratch, "worktrees", "feature", "model-bench")

        # The exact `run` argv of git model env up, replayed under another name.
        traced = subprocess.run(["git", "model", "env", "up"], cwd=wt, env=dict(env, GIT_MODEL_TRACE="1"),
                                capture_output=True, text=True, check=True).stderr
        line = next(l for l in traced.splitlines() if l.startswith("trace: run: ") and "'run'" in l)
        engine_argv = shlex.split(line[len("trace: run: "):])
        name_at = engine_argv.index("--name") + 1
        run(["git", "model", "env", "down"], wt, env)

        ours, engine = [], []
        for i in range(args.runs + 1):
            t_ours = timed(["git", "model", "env", "up"], wt, env)
            run(["git", "model", "env", "down"], wt, env)
            replay = list(engine_argv)
            replay[name_at] = f"gm-bench-replay-{i}"
            t_engine = timed(replay, env=env)
            run(["podman", "rm", "-f", "-t", "0", replay[name_at]], env=env)
            if i:  # the first round warms caches
                ours.append(t_ours)
                engine.append(t_engine)
        o, e = statistics.median(ours) * 1000, statistics.median(engine) * 1000
        allowed = max(e * 1.10, e + 150)
        print(f"env up, median of {args.runs} (ms)")
        print(f"  podman run -d (same arguments)  {e:8.1f}")
        print(f"  git model env up                {o:8.1f}   x{o / e:.2f}, +{o - e:.1f} ms")
        print(f"  target: <= {allowed:.1f} ms (max of +10% and +150 ms) -> {'met' if o <= allowed else 'MISSED'}")

        # 20 environments, then status.
        run(["git", "config", "model.gpus", ",".join(str(i) for i in range(20))], repo, env)
        for i in range(20):
            run(["git", "model", "start", f"m{i:02d}"], repo, env)
            run(["git", "model", "env", "up"], os.path.join(scratch, "worktrees", "feature", f"model-m{i:02d}"), env)
        statuses, listings = [], []
        for i in range(args.runs + 1):
            t_status = timed(["git", "model", "env", "status"], repo, env)
            t_list = timed(["podman", "ps", "--all", "--filter", f"label=io.git-model.repo={repo}/.git", "--format", "json"],
                           env=env)
            if i:
                statuses.append(t_status)
                listings.append(t_list)
        s, l = statistics.median(statuses) * 1000, statistics.median(listings) * 1000
        print(f"env status with 20 environments, median of {args.runs} (ms)")
        print(f"  podman ps --filter ... --format json  {l:8.1f}")
        print(f"  git model env status                  {s:8.1f}   x{s / l:.2f}")
        print(f"  target: < 200 ms -> {'met' if s < 200 else 'MISSED'}")
    finally:
        out = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], env=env, capture_output=True, text=True).stdout
        names = [n for n in out.split() if n.startswith("gm-bench-replay-")]
        labels = subprocess.run(["podman", "ps", "-a", "--filter", f"label=io.git-model.repo={repo}/.git", "--format",
                                 "{{.Names}}"], env=env, capture_output=True, text=True).stdout.split()
        if names + labels:
            subprocess.run(["podman", "rm", "-f", "-t", "0", *names, *labels], env=env, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
