#!/usr/bin/env python3
"""What the pre-push hook adds to a `git push`.

Two identical repositories push one new commit each to their own local bare
remote, interleaved: one with git-model's hooks installed (policy checks only,
model.bench.beforePush never), one without. Median of --runs pushes each
(default 30); also the bare cost of the hook itself (`git model hook pre-push`
fed one ref). Target: the hook adds at most 5 ms.
Usage: bench/hook-push.py [--runs N] [--prefix DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv, cwd, env, **kw):
    return subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--prefix")
    args = parser.parse_args()
    if args.runs < 20:
        sys.exit("--runs must be at least 20")
    scratch = tempfile.mkdtemp(prefix="gm-hook-bench-")
    env = dict(os.environ)
    env.update({"HOME": scratch, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@e",
                "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@e"})
    if args.prefix:
        env["PATH"] = os.path.join(os.path.abspath(args.prefix), "bin") + os.pathsep + env["PATH"]
    if not shutil.which("git-model", path=env["PATH"]):
        sys.exit("git-model is not on PATH (use --prefix)")
    try:
        repos = {}
        for name in ("with-hook", "without-hook"):
            bare = os.path.join(scratch, name + ".git")
            repo = os.path.join(scratch, name)
            run(["git", "init", "-q", "--bare", "-b", "main", bare], scratch, env)
            run(["git", "init", "-q", "-b", "main", repo], scratch, env)
            with open(os.path.join(repo, ".modelenv.yaml"), "w") as f:
                f.write("image: registry.example.com/team/pytorch:2.4.0\ngpus: 1\n")
            with open(os.path.join(repo, "work.py"), "w") as f:
                f.write("step = 0\n")
            for i in range(200):
                with open(os.path.join(repo, f"f{i}.py"), "w") as f:
                    f.write(f"x = {i}\n")
            run(["git", "add", "-A"], repo, env)
            run(["git", "commit", "-q", "-m", "init"], repo, env)
            run(["git", "remote", "add", "origin", bare], repo, env)
            run(["git", "push", "-q", "origin", "main"], repo, env)
            run(["git", "checkout", "-q", "-b", "feature/model-bench"], repo, env)
            run(["git", "push", "-q", "-u", "origin", "feature/model-bench"], repo, env)
            repos[name] = repo
        run(["git", "config", "model.bench.beforePush", "never"], repos["with-hook"], env)
        run(["git", "model", "hooks", "install"], repos["with-hook"], env)

        samples = {name: [] for name in repos}
        for i in range(args.runs + 2):
            order = list(repos) if i % 2 == 0 else list(reversed(list(repos)))
            for name in order:
                repo = repos[name]
                with open(os.path.join(repo, "work.py"), "a") as f:
                    f.write(f"step = {i}\n")
                run(["git", "commit", "-q", "-am", f"step {i}"], repo, env)
                start = time.perf_counter()
                run(["git", "push", "-q", "origin", "feature/model-bench"], repo, env)
                if i >= 2:  # two warm-up rounds
                    samples[name].append(time.perf_counter() - start)

        # The hook on its own, fed one ref the way git does.
        repo = repos["with-hook"]
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True, text=True).stdout.strip()
        line = f"refs/heads/feature/model-bench {head} refs/heads/feature/model-bench {'1' * 40}\n"
        hook_alone = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([os.path.join(repo, ".git", "hooks", "pre-push"), "origin", "x"], cwd=repo, env=env,
                           input=line, text=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            hook_alone.append(time.perf_counter() - start)

        with_hook = statistics.median(samples["with-hook"]) * 1000
        without = statistics.median(samples["without-hook"]) * 1000
        print(f"git push of one branch to a local bare remote, median of {args.runs} (ms)")
        print(f"  without hooks          {without:7.2f}")
        print(f"  with git-model hooks   {with_hook:7.2f}   ratio x{with_hook / without:.2f}")
        print(f"  added by the hook      {with_hook - without:7.2f}   target <= 5 ms -> "
              f"{'met' if with_hook - without <= 5 else 'MISSED'}")
        print(f"  the hook alone (shim + git-model hook pre-push), median {statistics.median(hook_alone) * 1000:.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
