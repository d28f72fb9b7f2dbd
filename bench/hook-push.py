#!/usr/bin/env python3
"""What the pre-push hook adds to a `git push`.

1. An ordinary push: two identical repositories push one new commit each to
   their own local bare remote, interleaved: one with git-model's hooks
   installed (policy checks only, model.bench.beforePush never), one without.
   Median of --runs pushes each (default 30); also the bare cost of the hook
   itself (`git model hook pre-push` fed one ref). Target: at most +5 ms.
2. Large pushes, where the data policy reads every new commit and blob: a
   branch of 10,000 new commits (made with git fast-import), and a branch
   bringing 100 MB of new blobs (100 files of 1 MiB). Each is pushed to a fresh
   bare remote with the hooks and with --no-verify, alternating (median of
   --large-runs, default 5); and the hook alone is timed against
   `git rev-list --objects` over the same range (what git itself walks to
   build the pack). Target: the hook within 1.5x of that rev-list.
3. Through a linked .modelenv.yaml (a link to envs/shared.yaml) in a SHA-256 repository, whose
   objects go through git's plumbing (libgit2 cannot read them): a branch of 2,000 new commits
   whose last one changes the image (with its Image-Change: trailer), pushed with the hooks,
   against the same branch with a plain .modelenv.yaml (median of --large-runs). The
   frozen-image rule then follows the link at every pushed commit: a few lookups each, all
   through one `git cat-file --batch` kept running (0.40 s against 0.11 s on 2026-12-04, on a
   loaded machine; 15.2 s against 0.11 s with a git process per lookup). No target is set; a
   shortcut that skipped unchanged commits was backed out (deletions are not in what a commit
   introduces, and an image change got through).
Usage: bench/hook-push.py [--runs N] [--large-runs N] [--skip-large] [--prefix DIR]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import isolated_env, output as out, run, timed  # noqa: E402


def make_repo(scratch, name, env, files=200):
    bare = os.path.join(scratch, name + ".git")
    repo = os.path.join(scratch, name)
    run(["git", "init", "-q", "--bare", "-b", "main", bare], scratch, env)
    run(["git", "init", "-q", "-b", "main", repo], scratch, env)
    with open(os.path.join(repo, ".modelenv.yaml"), "w") as f:
        f.write("image: registry.example.com/team/pytorch:2.4.0\ngpus: 1\n")
    with open(os.path.join(repo, "work.py"), "w") as f:
        f.write("step = 0\n")
    for i in range(files):
        os.makedirs(os.path.join(repo, f"pkg{i % 10}"), exist_ok=True)
        with open(os.path.join(repo, f"pkg{i % 10}", f"f{i}.py"), "w") as f:
            f.write(f"x = {i}\n")
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "init"], repo, env)
    run(["git", "remote", "add", "origin", bare], repo, env)
    run(["git", "push", "-q", "origin", "main"], repo, env)
    return repo, bare


def ordinary(scratch, env, runs):
    repos = {}
    for name in ("with-hook", "without-hook"):
        repo, _ = make_repo(scratch, name, env)
        run(["git", "checkout", "-q", "-b", "feature/model-bench"], repo, env)
        run(["git", "push", "-q", "-u", "origin", "feature/model-bench"], repo, env)
        repos[name] = repo
    run(["git", "config", "model.bench.beforePush", "never"], repos["with-hook"], env)
    run(["git", "model", "hooks", "install"], repos["with-hook"], env)

    samples = {name: [] for name in repos}
    for i in range(runs + 2):
        order = list(repos) if i % 2 == 0 else list(reversed(list(repos)))
        for name in order:
            repo = repos[name]
            with open(os.path.join(repo, "work.py"), "a") as f:
                f.write(f"step = {i}\n")
            run(["git", "commit", "-q", "-am", f"step {i}"], repo, env)
            took = timed(["git", "push", "-q", "origin", "feature/model-bench"], repo, env)
            if i >= 2:  # two warm-up rounds
                samples[name].append(took)

    # The hook on its own, fed one ref the way git does.
    repo = repos["with-hook"]
    head = out(["git", "rev-parse", "HEAD"], repo, env)
    previous = out(["git", "rev-parse", "HEAD~1"], repo, env)
    line = f"refs/heads/feature/model-bench {head} refs/heads/feature/model-bench {previous}\n"
    hook_alone = []
    for _ in range(runs):
        hook_alone.append(timed([os.path.join(repo, ".git", "hooks", "pre-push"), "origin", "x"], repo, env, stdin=line))

    with_hook = statistics.median(samples["with-hook"]) * 1000
    without = statistics.median(samples["without-hook"]) * 1000
    print(f"git push of one new commit to a local bare remote, median of {runs} (ms)")
    print(f"  without hooks          {without:7.2f}")
    print(f"  with git-model hooks   {with_hook:7.2f}   ratio x{with_hook / without:.2f}")
    print(f"  added by the hook      {with_hook - without:7.2f}   target <= 5 ms -> "
          f"{'met' if with_hook - without <= 5 else 'MISSED'}")
    print(f"  the hook alone (shim + git-model hook pre-push), median {statistics.median(hook_alone) * 1000:.2f}")


def fast_import_commits(repo, env, count):
    base = out(["git", "rev-parse", "main"], repo, env)
    now = int(time.time())  # newer than main, as new work is
    lines = []
    for i in range(1, count + 1):
        msg = f"step {i}\n"
        body = f"step = {i}\n"
        lines.append(f"commit refs/heads/feature/model-long\nmark :{i}\n"
                     f"committer B <b@e> {now + i} +0000\ndata {len(msg)}\n{msg}")
        if i == 1:
            lines.append(f"from {base}\n")
        # each commit changes one file of the 200, in a different folder each time
        lines.append(f"M 100644 inline pkg{i % 10}/f{(i * 7) % 200}.py\ndata {len(body)}\n{body}\n")
    run(["git", "fast-import", "--quiet"], repo, env, stdin="".join(lines))
    return "feature/model-long"


def big_blobs(repo, env, files, size):
    run(["git", "checkout", "-q", "-b", "feature/model-blobs", "main"], repo, env)
    os.makedirs(os.path.join(repo, "assets"), exist_ok=True)
    for i in range(files):
        with open(os.path.join(repo, "assets", f"table{i}.txt"), "wb") as f:
            f.write(os.urandom(size))
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "assets"], repo, env)
    run(["git", "checkout", "-q", "main"], repo, env)
    return "feature/model-blobs"


def large(scratch, env, runs, repo, branch, what):
    tip = out(["git", "rev-parse", branch], repo, env)
    zero = "0" * len(tip)
    samples = {"hook": [], "no-verify": []}
    for i in range(runs):
        order = ["hook", "no-verify"] if i % 2 == 0 else ["no-verify", "hook"]
        for name in order:
            bare = os.path.join(scratch, f"{what}-{name}-{i}.git")
            # a fresh remote that has main, as the real one does
            run(["git", "init", "-q", "--bare", "-b", "main", bare], scratch, env)
            run(["git", "push", "-q", "--no-verify", bare, "main"], repo, env)
            argv = ["git", "push", "-q"] + (["--no-verify"] if name == "no-verify" else []) + [bare, branch]
            samples[name].append(timed(argv, repo, env))
            shutil.rmtree(bare)
    # The hook's program against the walk git does to build the pack, over the same range:
    # both started the same way (the shim's /bin/sh adds about 1 ms to the hook in a push).
    line = f"refs/heads/{branch} {tip} refs/heads/{branch} {zero}\n"
    hook, revlist = [], []
    for i in range(runs * 3):
        order = ["hook", "rev-list"] if i % 2 == 0 else ["rev-list", "hook"]
        for name in order:
            if name == "hook":
                hook.append(timed(["git-model", "hook", "pre-push", "origin", "x"], repo, env, stdin=line))
            else:
                revlist.append(timed(["git", "rev-list", "--objects", tip, "--not", "origin/main"], repo, env))
    h, r = statistics.median(hook) * 1000, statistics.median(revlist) * 1000
    pw, pn = statistics.median(samples["hook"]) * 1000, statistics.median(samples["no-verify"]) * 1000
    print(f"{what}, median of {runs} (ms)")
    print(f"  git push --no-verify   {pn:9.1f}")
    print(f"  git push (hooks)       {pw:9.1f}   +{pw - pn:.1f}, ratio x{pw / pn:.2f}")
    print(f"  the hook alone         {h:9.1f}   (git-model hook pre-push, median of {len(hook)})")
    print(f"  git rev-list --objects {r:9.1f}   hook / rev-list x{h / r:.2f}, target <= 1.5x -> "
          f"{'met' if h <= 1.5 * r else 'MISSED'}")


def linked_repo(scratch, env, name, linked, count):
    """A SHA-256 repository whose .modelenv.yaml is a link to envs/shared.yaml (or a plain copy),
    main pushed to its bare remote, and feature/model-x: count new commits, the last changing the image."""
    repo = os.path.join(scratch, name)
    bare = repo + ".git"
    run(["git", "init", "-q", "--bare", "--object-format=sha256", "-b", "main", bare], scratch, env)
    run(["git", "init", "-q", "--object-format=sha256", "-b", "main", repo], scratch, env)
    os.makedirs(os.path.join(repo, "envs"))
    with open(os.path.join(repo, "envs", "shared.yaml"), "w") as f:
        f.write("image: registry.example.com/team/pytorch:2.4.0\n")
    if linked:
        os.symlink("envs/shared.yaml", os.path.join(repo, ".modelenv.yaml"))
    else:
        shutil.copy(os.path.join(repo, "envs", "shared.yaml"), os.path.join(repo, ".modelenv.yaml"))
    with open(os.path.join(repo, "train.py"), "w") as f:
        f.write("step = 0\n")
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "env"], repo, env)
    run(["git", "remote", "add", "origin", bare], repo, env)
    run(["git", "push", "-q", "origin", "main"], repo, env)
    now = int(time.time())
    lines = []
    for i in range(1, count):
        msg, body = f"step {i}\n", f"step = {i}\n"
        lines.append(f"commit refs/heads/feature/model-x\nmark :{i}\ncommitter B <b@e> {now + i} +0000\n"
                     f"data {len(msg)}\n{msg}" + ("from refs/heads/main\n" if i == 1 else "") +
                     f"M 100644 inline train.py\ndata {len(body)}\n{body}\n")
    run(["git", "fast-import", "--quiet"], repo, env, stdin="".join(lines))
    run(["git", "checkout", "-q", "feature/model-x"], repo, env)
    for path in ["envs/shared.yaml"] + ([] if linked else [".modelenv.yaml"]):
        with open(os.path.join(repo, path), "w") as f:
            f.write("image: registry.example.com/team/pytorch:2.5.0\n")
    run(["git", "commit", "-q", "-am", "newer torch", "-m", "Image-Change: CUDA 12.4 kernels"], repo, env)
    run(["git", "config", "model.bench.beforePush", "never"], repo, env)
    run(["git", "model", "hooks", "install"], repo, env)
    return repo


def linked_push(scratch, env, runs, count=2000):
    samples = {}
    for name, linked in (("plain", False), ("linked", True)):
        repo = linked_repo(scratch, env, f"sha256-{name}", linked, count)
        samples[name] = []
        for i in range(runs):
            bare = os.path.join(scratch, f"sha256-{name}-{i}.git")
            run(["git", "init", "-q", "--bare", "--object-format=sha256", "-b", "main", bare], scratch, env)
            run(["git", "push", "-q", "--no-verify", bare, "main"], repo, env)
            samples[name].append(timed(["git", "push", "-q", bare, "feature/model-x"], repo, env))
            shutil.rmtree(bare)
    plain, linked = (statistics.median(samples[n]) * 1000 for n in ("plain", "linked"))
    print(f"{count:,} new commits through a linked .modelenv.yaml, SHA-256, median of {runs} (ms)")
    print(f"  git push, plain .modelenv.yaml   {plain:9.1f}")
    print(f"  git push, linked .modelenv.yaml  {linked:9.1f}   ratio x{linked / plain:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--large-runs", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--prefix")
    args = parser.parse_args()
    if args.runs < 20:
        sys.exit("--runs must be at least 20")
    scratch = tempfile.mkdtemp(prefix="gm-hook-bench-")
    env = isolated_env(scratch, args.prefix)
    try:
        ordinary(scratch, env, args.runs)
        if not args.skip_large:
            repo, _ = make_repo(scratch, "large", env)
            run(["git", "config", "model.bench.beforePush", "never"], repo, env)
            run(["git", "model", "hooks", "install"], repo, env)
            large(scratch, env, args.large_runs, repo, fast_import_commits(repo, env, 10000), "10,000 new commits")
            large(scratch, env, args.large_runs, repo, big_blobs(repo, env, 100, 1 << 20), "100 MB of new blobs")
            linked_push(scratch, env, args.large_runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
