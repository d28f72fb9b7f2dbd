#!/usr/bin/env python3
"""What naming the model costs `git model env`: the target resolved from the main worktree
with 200 models (each in a worktree of its own).

`git model env up|down|exec|check|pin <model>` first finds the model's worktree. It used to list
every model for that (ahead/behind of each, a status scan of every worktree), so it cost a whole
`git model list`; now it looks up one branch and where it is checked out.

Side by side, medians of --runs (default 15), from the main worktree:
  git model env check m0100          the cheapest action that resolves the target (no engine):
                                     this build, and --old-prefix's build when given
  git model env down m0100           the same through the engine (podman ps), when podman is here
  git model list                     the reference: what resolving by name cost before
Prints the ratios (old / new, list / new). Timings are printed, never judged pass/fail.

Usage: bench/env-resolve.py [--runs N] [--models N] [--prefix DIR] [--old-prefix DIR] [--keep]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONF = '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n'


def run(argv, cwd, env, check=True):
    r = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{r.stderr}")
    return r


def median_ms(argv, cwd, env, runs):
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        run(argv, cwd, env)
        if i:  # the first round warms caches
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def with_prefix(env, prefix):
    env = dict(env)
    env["PATH"] = os.path.join(os.path.abspath(prefix), "bin") + os.pathsep + env["PATH"]
    if not shutil.which("git-model", path=env["PATH"]):
        sys.exit(f"no git-model in {prefix}/bin")
    return env


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--prefix", help="the build to measure (default: git-model on PATH)")
    parser.add_argument("--old-prefix", help="an older build to compare with (e.g. one installed before the change)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-env-resolve-bench-")
    env = dict(os.environ)
    env.update({"HOME": scratch, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@e",
                "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@e",
                "CONTAINERS_CONF": os.path.join(scratch, "containers.conf"),
                "GIT_MODEL_LEASE_DIR": os.path.join(scratch, "leases")})
    new_env = with_prefix(env, args.prefix) if args.prefix else env
    if not shutil.which("git-model", path=new_env["PATH"]):
        sys.exit("needs git-model on PATH (or --prefix)")
    old_env = with_prefix(env, args.old_prefix) if args.old_prefix else None
    with open(env["CONTAINERS_CONF"], "w") as f:
        f.write(CONF)
    repo = os.path.join(scratch, "repo")
    try:
        os.makedirs(repo)
        run(["git", "init", "-q", "-b", "main"], repo, env)
        for i in range(200):  # a small project: 200 files
            sub = os.path.join(repo, "src", f"pkg{i // 50}")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, f"module{i:03d}.py"), "w") as f:
                f.write(f"# module {i}\n" + "x = 1\n" * 20)
        with open(os.path.join(repo, ".modelenv.yaml"), "w") as f:
            f.write("image: localhost/gm-bench-resolve:1\ngpus: 0\nmemory: 256m\n")
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-q", "-m", "initial"], repo, env)
        for key, value in (("model.installHooks", "never"), ("model.gpus", "0")):
            run(["git", "config", key, value], repo, env)
        head = subprocess.run(["git", "rev-parse", "main"], cwd=repo, env=env, capture_output=True, text=True).stdout.strip()
        lines = "".join(f"create refs/heads/feature/model-m{i:04d} {head}\n" for i in range(args.models))
        subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, env=env, input=lines, text=True, check=True)
        for i in range(args.models):
            run(["git", "worktree", "add", "-q", os.path.join(scratch, "worktrees", f"m{i:04d}"),
                 f"feature/model-m{i:04d}"], repo, env)
        name = f"m{args.models // 2:04d}"

        print(f"resolving one model by name from the main worktree, {args.models} models each in a worktree, "
              f"median of {args.runs} (ms)")
        listed = median_ms(["git", "model", "list"], repo, new_env, args.runs)
        check_new = median_ms(["git", "model", "env", "check", name], repo, new_env, args.runs)
        print(f"  git model list (the reference)      {listed:8.1f}")
        print(f"  git model env check {name}         {check_new:8.1f}   list / this: x{listed / check_new:.1f}")
        if old_env:
            check_old = median_ms(["git", "model", "env", "check", name], repo, old_env, args.runs)
            print(f"  ... the same, --old-prefix's build  {check_old:8.1f}   old / new: x{check_old / check_new:.1f}")
        if shutil.which("podman"):
            down_new = median_ms(["git", "model", "env", "down", name], repo, new_env, args.runs)
            print(f"  git model env down {name}          {down_new:8.1f}   (not running: resolve + podman)")
            if old_env:
                down_old = median_ms(["git", "model", "env", "down", name], repo, old_env, args.runs)
                print(f"  ... the same, --old-prefix's build  {down_old:8.1f}   old / new: x{down_old / down_new:.1f}")
        else:
            print("  git model env down: SKIP (no podman here)")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
