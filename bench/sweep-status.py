#!/usr/bin/env python3
"""Benchmark of `git model sweep status` and `sweep report` on a 1,000-run sweep.

One sweep of --runs runs (default 1,000) is made with --export k8s, so that nothing is scheduled;
half the runs are given a metrics.json in their worktree and a `done` record's worth of state is
not faked: status and report read what a real sweep holds. Then, median of --repeat (default 15):
  git model sweep status <id>        git model sweep status <id> --json
  git model sweep report <id> --metric val/loss
Target: each under 200 ms (issue 16); the ratio printed is the median / 200 ms. `git status` in
the model's worktree is timed beside them as a yardstick of this machine's speed at the moment.
Uses git-model from PATH (or --prefix/bin).
Usage: bench/sweep-status.py [--runs 1000] [--repeat 15] [--prefix DIR] [--keep]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import git_model_path, isolated_env, median_ms, output, start_env_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--prefix", help="install prefix whose bin/ holds git-model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="gm-bench-sweep-status-")
    env = isolated_env(scratch, args.prefix)
    try:
        worktree = start_env_model(os.path.join(scratch, "repo"), "image: localhost/bench:1\n", "m", env)
        values = ",".join(str(k) for k in range(1, args.runs + 1))
        start = time.perf_counter()
        output(["git", "model", "sweep", "start", "--grid", f"k={values}", "--export", "k8s", "--", "true"], worktree, env)
        made = time.perf_counter() - start
        sweep = json.loads(output(["git", "model", "sweep", "status", "1", "--json"], worktree, env))
        runs = sweep["runs"] if isinstance(sweep, dict) else sweep[0]["runs"]
        for entry in runs[::2]:
            with open(os.path.join(entry["worktree"], "metrics.json"), "w") as f:
                json.dump({"val": {"loss": 1.0 / (1 + entry["run"])}, "acc": 0.5}, f)
        print(f"git-model: {git_model_path(env)}; a {args.runs}-run sweep "
              f"(made in {made:.1f} s), median of {args.repeat}")
        rows = [("sweep status 1", ["git", "model", "sweep", "status", "1"]),
                ("sweep status 1 --json", ["git", "model", "sweep", "status", "1", "--json"]),
                ("sweep report 1 --metric val/loss", ["git", "model", "sweep", "report", "1", "--metric", "val/loss"]),
                ("git status (yardstick)", ["git", "status", "--short"])]
        for name, argv in rows:
            ms = median_ms(argv, worktree, env, args.repeat, warm_up=False)
            target = "" if name.startswith("git status") else f"   {ms / 200:.2f}x the 200 ms target"
            print(f"{name:<36} {ms:8.1f} ms{target}")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
