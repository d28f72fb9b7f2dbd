#!/usr/bin/env python3
"""Benchmark of `git model start` and `git model list` against their floors.

Side by side in one run, median of --runs runs each (default 15):
  start on a 5,000-file repository:
    git model start X                                           (ours)
    git worktree add -b feature/model-X ../worktrees/... main   (the floor; target: ours <= 1.05x:
                                                                  the worktrees lock costs nothing uncontended)
    git flow feature start X + git worktree add                 (Debian's git-flow, for comparison)
  20 starts on a 300-file repository, all at once and one after another (median of 5 rounds):
    every one must succeed; the lock serialises only git's worktree add, so at once takes
    no longer than in turn
  list with 1,000 model branches and 50 worktrees:
    git model list                                  on a 200-file repo (target: < 50 ms) and the 5,000-file one
    git branch --list 'feature/model-*' -vv         beside it

Uses git-model from PATH (or --prefix/bin). Prints each median and the ratios.
  and on a 200-file repo whose main holds a team file .gitmodel (read by every command)

Usage: bench/start-list.py [--runs N] [--prefix DIR] [--keep] [--list-only]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import git_model_path, isolated_env, make_source_repo, output, run, timed  # noqa: E402

def add_model_branches(repo, count, worktrees, env):
    head = output(["git", "rev-parse", "main"], repo, env)
    lines = "".join(f"create refs/heads/feature/model-m{i:04d} {head}\n" for i in range(count))
    run(["git", "update-ref", "--stdin"], repo, env, stdin=lines)
    root = os.path.join(os.path.dirname(repo), "worktrees")
    for i in range(worktrees):
        run(["git", "worktree", "add", "-q", os.path.join(root, f"feature/model-m{i:04d}"), f"feature/model-m{i:04d}"],
            repo, env)


def remove_worktrees(repo, env):
    out = output(["git", "worktree", "list", "--porcelain"], repo, env)
    paths = [line[9:] for line in out.splitlines() if line.startswith("worktree ")][1:]
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)
    run(["git", "worktree", "prune"], repo, env)


def median_of(samples):
    """The median of timings in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def twenty_starts(repo, env, rounds):
    """Wall time of 20 `git model start` at once and of 20 in turn, per round; exits on any failure."""
    at_once, in_turn = [], []
    for r in range(rounds):
        for mode, samples in (("at once", at_once), ("in turn", in_turn)):
            names = [f"c{r}{'a' if mode == 'at once' else 's'}{i}" for i in range(20)]
            start = time.perf_counter()
            if mode == "at once":
                procs = [subprocess.Popen(["git", "model", "start", n], cwd=repo, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True) for n in names]
                failed = [(n, p.communicate()[1]) for n, p in zip(names, procs) if p.wait() != 0]
            else:
                failed = []
                for n in names:
                    result = run(["git", "model", "start", n], repo, env, check=False)
                    if result.returncode != 0:
                        failed.append((n, result.stderr))
            samples.append(time.perf_counter() - start)
            if failed:
                sys.exit(f"{len(failed)} of 20 starts ({mode}) failed: {failed[0][1]}")
            remove_worktrees(repo, env)
    return at_once, in_turn


def list_figures(scratch, env, runs, big):
    """git model list beside git branch --list -vv: 1,000 model branches and 50 worktrees each."""
    small = os.path.join(scratch, "small", "repo")
    make_source_repo(small, 200, env)
    add_model_branches(small, 1000, 50, env)
    team = os.path.join(scratch, "team", "repo")
    make_source_repo(team, 200, env)
    with open(os.path.join(team, ".gitmodel"), "w") as f:
        f.write("[model]\n\tbaseBranch = main\n\tforge = gitlab\n[model \"prune\"]\n\tretention = 30d\n")
    run(["git", "add", ".gitmodel"], team, env)
    run(["git", "commit", "-q", "-m", "team file"], team, env)
    add_model_branches(team, 1000, 50, env)
    repos = [("200 files", small), ("200 + .gitmodel", team)]
    if big:
        add_model_branches(big, 1000, 50, env)
        repos.append(("5,000 files", big))
    lists = {}
    for label, repo in repos:
        ours, ref = [], []
        for i in range(runs):
            ours.append(timed(["git", "model", "list"], repo, env))
            ref.append(timed(["git", "branch", "--list", "feature/model-*", "-vv"], repo, env))
        lists[label] = (ours, ref)
    return lists


def print_lists(lists):
    print()
    print("list, 1,000 model branches, 50 worktrees (median ms)")
    for label, (ours, ref) in lists.items():
        o, r = median_of(ours), median_of(ref)
        print(f"  {label:<16} git model list {o:8.1f}   git branch --list -vv {r:8.1f}   ratio x{o / r:.2f}")
    o = median_of(lists["200 files"][0])
    print(f"  target: git model list < 50 ms on the 200-file repository -> {'met' if o < 50 else 'MISSED'} ({o:.1f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--prefix", help="install prefix whose bin/ holds git-model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--list-only", action="store_true", help="measure list only (no start figures)")
    args = parser.parse_args()
    if args.runs < 10:
        sys.exit("--runs must be at least 10")

    scratch = tempfile.mkdtemp(prefix="gm-bench-")
    env = isolated_env(scratch, args.prefix)
    has_flow = shutil.which("git-flow", path=env["PATH"]) is not None
    print(f"git-model: {git_model_path(env)}; runs per figure: {args.runs}")

    try:
        if args.list_only:
            lists = list_figures(scratch, env, args.runs, None)
            print_lists(lists)
            return
        big = os.path.join(scratch, "big", "repo")
        make_source_repo(big, 5000, env)
        starts = {"git model start": [], "git worktree add -b (floor)": [], "git flow feature start + worktree add": []}
        root = os.path.join(scratch, "big", "worktrees")
        if has_flow:
            run(["git", "flow", "init", "-d"], big, env)
            run(["git", "checkout", "-q", "main"], big, env)
        for i in range(args.runs):
            # Alternate the order so that neither side always runs on a warmer cache.
            order = ["ours", "floor"] if i % 2 == 0 else ["floor", "ours"]
            for which in order:
                if which == "ours":
                    starts["git model start"].append(timed(["git", "model", "start", f"a{i}"], big, env))
                else:
                    starts["git worktree add -b (floor)"].append(timed(
                        ["git", "worktree", "add", "-q", "-b", f"feature/model-b{i}",
                         os.path.join(root, f"feature/model-b{i}"), "main"], big, env))
            if has_flow:
                t = timed(["git", "flow", "feature", "start", f"c{i}"], big, env)
                run(["git", "checkout", "-q", "main"], big, env)
                t += timed(["git", "worktree", "add", "-q", os.path.join(root, f"feature/c{i}"), f"feature/c{i}"], big, env)
                starts["git flow feature start + worktree add"].append(t)
            remove_worktrees(big, env)
        if not has_flow:
            del starts["git flow feature start + worktree add"]

        mid = os.path.join(scratch, "mid", "repo")
        make_source_repo(mid, 300, env)
        run(["git", "config", "model.installHooks", "never"], mid, env)
        at_once, in_turn = twenty_starts(mid, env, 5)

        remove_worktrees(big, env)
        lists = list_figures(scratch, env, args.runs, big)

        print()
        print("start, 5,000-file repository (median ms)")
        floor = median_of(starts["git worktree add -b (floor)"])
        for name, samples in starts.items():
            print(f"  {name:<42} {median_of(samples):8.1f}   x{median_of(samples) / floor:.2f} of the floor")
        ratio = median_of(starts["git model start"]) / floor
        print(f"  target: git model start <= 1.05x the floor -> {'met' if ratio <= 1.05 else 'MISSED'} ({ratio:.2f}x)")
        print()
        print("20 starts, 300-file repository (median of 5 rounds, ms of wall time for all 20; none failed)")
        o, t = median_of(at_once), median_of(in_turn)
        print(f"  all at once {o:8.1f}   one after another {t:8.1f}   ratio x{o / t:.2f}")
        print_lists(lists)
    finally:
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
