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
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import isolated_env, make_source_repo, median_ms, output, run, use_podman, with_prefix  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--prefix", help="the build to measure (default: git-model on PATH)")
    parser.add_argument("--old-prefix", help="an older build to compare with (e.g. one installed before the change)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-env-resolve-bench-")
    new_env = isolated_env(scratch, args.prefix)
    new_env["GIT_MODEL_LEASE_DIR"] = os.path.join(scratch, "leases")
    use_podman(scratch, new_env)
    old_env = with_prefix(new_env, args.old_prefix) if args.old_prefix else None
    env = new_env
    repo = os.path.join(scratch, "repo")
    try:
        # a small project: 200 files
        make_source_repo(repo, 200, env, {".modelenv.yaml": "image: localhost/gm-bench-resolve:1\ngpus: 0\nmemory: 256m\n"})
        for key, value in (("model.installHooks", "never"), ("model.gpus", "0")):
            run(["git", "config", key, value], repo, env)
        head = output(["git", "rev-parse", "main"], repo, env)
        lines = "".join(f"create refs/heads/feature/model-m{i:04d} {head}\n" for i in range(args.models))
        run(["git", "update-ref", "--stdin"], repo, env, stdin=lines)
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
