#!/usr/bin/env python3
"""Benchmark of creating a 100-run sweep against 100 plain `git worktree add -b`.

Side by side in one run, on the same repository (default 1,000 files), alternating,
median of --rounds rounds (default 5):
  git model sweep start m --grid k=1..100 --export k8s -- true
      (100 runs: a params.json commit, a branch and a worktree each; --export k8s so that
       nothing is scheduled and only the creation is timed)
  for k in 1..100: git worktree add -b sweep-k ../worktrees/sweep-k feature/model-m   (the reference)
Target: ours <= 1.2x the reference. Uses git-model from PATH (or --prefix/bin).
Usage: bench/sweep-create.py [--rounds N] [--runs 100] [--files 1000] [--prefix DIR] [--keep]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import git_model_path, isolated_env, make_source_repo, output, run  # noqa: E402


def make_repo(path, files, env):
    make_source_repo(path, files, env, {".modelenv.yaml": "image: localhost/bench:1\n"})
    run(["git", "config", "model.installHooks", "never"], path, env)
    run(["git", "model", "start", "m"], path, env)


def reset(repo, env):
    """Removes every worktree and branch but main and the model's, and every sweep record."""
    root = os.path.join(os.path.dirname(repo), "worktrees")
    for entry in os.listdir(os.path.join(root, "feature")) if os.path.isdir(os.path.join(root, "feature")) else []:
        if entry != "model-m":
            shutil.rmtree(os.path.join(root, "feature", entry))
    if os.path.isdir(os.path.join(root, "plain")):
        shutil.rmtree(os.path.join(root, "plain"))
    run(["git", "worktree", "prune"], repo, env)
    refs = output(["git", "for-each-ref", "--format=%(refname)", "refs/heads/"], repo, env).split()
    doomed = [r for r in refs if r not in ("refs/heads/main", "refs/heads/feature/model-m")]
    if doomed:
        run(["git", "update-ref", "--stdin"], repo, env, stdin="".join(f"delete {r}\n" for r in doomed))
    shutil.rmtree(os.path.join(repo, ".git", "git-model", "sweeps"), ignore_errors=True)
    run(["git", "gc", "-q", "--prune=now"], repo, env)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--prefix", help="install prefix whose bin/ holds git-model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="gm-bench-sweep-")
    env = isolated_env(scratch, args.prefix)
    print(f"git-model: {git_model_path(env)}; {args.runs} runs, "
          f"{args.files} files, {args.rounds} rounds")
    try:
        repo = os.path.join(scratch, "repo")
        make_repo(repo, args.files, env)
        worktree = os.path.join(scratch, "worktrees", "feature", "model-m")
        values = ",".join(str(k) for k in range(1, args.runs + 1))
        ours, plain = [], []
        for _ in range(args.rounds):
            reset(repo, env)
            start = time.perf_counter()
            run(["git", "model", "sweep", "start", "--grid", f"k={values}", "--export", "k8s", "--", "true"], worktree, env)
            ours.append(time.perf_counter() - start)
            reset(repo, env)
            start = time.perf_counter()
            for k in range(1, args.runs + 1):
                run(["git", "worktree", "add", "-q", "-b", f"plain-{k}",
                     os.path.join(scratch, "worktrees", "plain", f"run-{k}"), "feature/model-m"], repo, env)
            plain.append(time.perf_counter() - start)
        a, b = statistics.median(ours), statistics.median(plain)
        print(f"{'sweep start, ' + str(args.runs) + ' runs':<44} {a * 1000:9.0f} ms   (all: "
              + ", ".join(f"{x * 1000:.0f}" for x in ours) + ")")
        print(f"{str(args.runs) + ' x git worktree add -b (reference)':<44} {b * 1000:9.0f} ms   (all: "
              + ", ".join(f"{x * 1000:.0f}" for x in plain) + ")")
        print(f"ratio: {a / b:.3f}x the reference (target <= 1.2x)")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
