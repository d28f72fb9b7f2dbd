#!/usr/bin/env python3
"""`git model env up`, `env status` and `git model gpus` against the engine's own commands.

Side by side, medians of --runs (default 10):
  git model env up            vs  podman run -d with the very same arguments (taken from GIT_MODEL_TRACE)
                                  target: at most +10% or +150 ms, whichever is larger
  ... the same with three other users holding leases in the machine's book (as root: their
      lease files are owned by three other uids, each held by a running process)
  ... the same for a user (made for the run) in the group of a root `podman system service`'s
      socket, with model.engineHost naming it: `user: host` runs as that user, with the image's
      passwd and group plus theirs mounted (issue 19; as root only)
  git model env status (20 environments)  vs  podman ps --all --filter label=... --format json
                                  target: under 200 ms
  git model gpus with 8 GPUs, 4 of them held, and 100 past lease records (holders gone)
                                  target: under 100 ms
Uses podman with a containers.conf of its own and a busybox image it imports
(no registry needed). Removes everything it starts.
Usage: bench/env.py [--runs N] [--prefix DIR]
"""
import argparse
import json
import os
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import IMAGE, git_model_path, import_image, isolated_env, run, start_env_model, timed, use_podman  # noqa: E402


def write_lease(book, uid, gpu, index, model, pid, boot_id=None, container="", engine="podman"):
    """One lease file as git-model writes it, owned by uid (chown: root only)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = int(f.read().rsplit(")", 1)[1].split()[19])
    except OSError:
        start = 1  # the process is gone
    if boot_id is None:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot_id = f.read().strip()
    lease_id = secrets.token_hex(8)
    record = {"version": 2, "id": lease_id, "gpu": gpu, "index": index, "uid": uid, "user": str(uid), "phase": "held",
              "since": int(time.time()) - 3600, "boot_id": boot_id, "holder": {"pid": 0, "start": 0},
              "workload": {"pid": pid, "start": start}, "engine": engine, "container": container, "container_id": "",
              "repo": f"/home/u{uid}/repo/.git", "model": model, "worktree": f"/home/u{uid}/worktrees/{model}", "sweep": ""}
    path = os.path.join(book, f"{gpu}.{uid}.{lease_id}.lease")
    with open(path, "w") as f:
        json.dump(record, f)
    os.chmod(path, 0o644)
    os.chown(path, uid, uid)


def time_up(wt, env, engine_argv, name_at, runs, tag):
    ours, engine = [], []
    for i in range(runs + 1):
        t_ours = timed(["git", "model", "env", "up"], wt, env)
        run(["git", "model", "env", "down"], wt, env)
        replay = list(engine_argv)
        replay[name_at] = f"gm-bench-replay-{tag}-{i}"
        t_engine = timed(replay, env=env)
        run(["podman", "rm", "-f", "-t", "0", replay[name_at]], env=env)
        if i:  # the first round warms caches
            ours.append(t_ours)
            engine.append(t_engine)
    return statistics.median(ours) * 1000, statistics.median(engine) * 1000


def socket_user_up(args, env, scratch, prefix):
    """env up as a non-root user through a root podman service's socket, vs podman --url run -d."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        print("env up as a user through a rootful socket: SKIP (needs root, useradd and runuser)")
        return
    user, group = f"gmbench{os.getpid()}", f"gmbenchg{os.getpid()}"
    sock_dir = os.path.join(scratch, "engine")
    os.makedirs(sock_dir)
    service = None
    try:
        run(["useradd", "-m", "-s", "/bin/sh", user])
        run(["groupadd", group])
        run(["usermod", "-aG", group, user])
        home = subprocess.run(["getent", "passwd", user], capture_output=True, text=True).stdout.split(":")[5]
        sock = os.path.join(sock_dir, "podman.sock")
        service = subprocess.Popen(["podman", "system", "service", "--time=0", "unix://" + sock], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        shutil.chown(sock_dir, group=group)
        shutil.chown(sock, group=group)
        os.chmod(sock_dir, 0o770)
        os.chmod(sock, 0o660)
        os.chmod(scratch, 0o755)
        path = (os.path.join(prefix, "bin") + os.pathsep if prefix else "") + "/usr/local/bin:/usr/bin:/bin"
        as_user = ["runuser", "-u", user, "--", "env", "-i", f"HOME={home}", f"PATH={path}", "GIT_CONFIG_NOSYSTEM=1",
                   "GIT_AUTHOR_NAME=B", "GIT_AUTHOR_EMAIL=b@e", "GIT_COMMITTER_NAME=B", "GIT_COMMITTER_EMAIL=b@e",
                   f"GIT_MODEL_LEASE_DIR={home}/leases"]
        repo = os.path.join(home, "repo")
        run(as_user + ["git", "init", "-q", "-b", "main", repo])
        run(as_user + ["sh", "-c", f"printf 'image: {IMAGE}\\nmemory: 256m\\ncpus: 1\\nshm_size: 64m\\nenv:\\n  LR: 0.001\\n' "
                                   f">{repo}/.modelenv.yaml"])
        run(as_user + ["git", "-C", repo, "add", "-A"])
        run(as_user + ["git", "-C", repo, "commit", "-q", "-m", "env"])
        for key, value in (("model.installHooks", "never"), ("model.env.stopTimeout", "1s"),
                           ("model.engineHost", "unix://" + sock)):
            run(as_user + ["git", "-C", repo, "config", key, value])
        run(as_user + ["git", "-C", repo, "model", "start", "bench"])
        wt = os.path.join(home, "worktrees", "feature", "model-bench")
        traced = subprocess.run(as_user + ["GIT_MODEL_TRACE=1", "git", "-C", wt, "model", "env", "up"], capture_output=True,
                                text=True, check=True).stderr
        line = next(l for l in traced.splitlines() if l.startswith("trace: run: ") and "'run'" in l and "--detach" in l)
        engine_argv = shlex.split(line[len("trace: run: "):])
        name_at = engine_argv.index("--name") + 1
        run(as_user + ["git", "-C", wt, "model", "env", "down"])
        ours, engine = [], []
        for i in range(args.runs + 1):
            t_ours = timed(as_user + ["git", "-C", wt, "model", "env", "up"])
            run(as_user + ["git", "-C", wt, "model", "env", "down"])
            replay = list(engine_argv)
            replay[name_at] = f"gm-bench-replay-socket-{i}"
            t_engine = timed(as_user + replay)
            run(["podman", "rm", "-f", "-t", "0", replay[name_at]], env=env)
            if i:
                ours.append(t_ours)
                engine.append(t_engine)
        report_up("env up as a user through a rootful socket (--user, passwd and HOME mounted)",
                  statistics.median(ours) * 1000, statistics.median(engine) * 1000, args.runs)
    finally:
        out = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}} {{index .Labels \"io.git-model.repo\"}}"],
                             env=env, capture_output=True, text=True).stdout
        names = [l.split()[0] for l in out.splitlines() if l.startswith("gm-bench-replay-socket-") or f"/{user}/" in l]
        if names:
            subprocess.run(["podman", "rm", "-f", "-t", "0", *names], env=env, capture_output=True)
        if service:
            service.kill()
            service.wait()
        subprocess.run(["userdel", "-r", "-f", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


def report_up(title, o, e, runs):
    allowed = max(e * 1.10, e + 150)
    print(f"{title}, median of {runs} (ms)")
    print(f"  podman run -d (same arguments)  {e:8.1f}")
    print(f"  git model env up                {o:8.1f}   x{o / e:.2f}, +{o - e:.1f} ms")
    print(f"  target: <= {allowed:.1f} ms (max of +10% and +150 ms) -> {'met' if o <= allowed else 'MISSED'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--prefix")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="gm-env-bench-")
    env = isolated_env(scratch, args.prefix)
    env["GIT_MODEL_LEASE_DIR"] = os.path.join(scratch, "leases")
    if not shutil.which("podman"):
        sys.exit("needs podman")
    use_podman(scratch, env)
    repo = os.path.join(scratch, "repo")
    try:
        import_image(scratch, env)
        wt = start_env_model(repo, f"image: {IMAGE}\ngpus: 1\nmemory: 256m\ncpus: 1\nshm_size: 64m\nenv:\n  LR: 0.001\n",
                             "bench", env)

        # The exact `run` argv of git model env up, replayed under another name.
        traced = subprocess.run(["git", "model", "env", "up"], cwd=wt, env=dict(env, GIT_MODEL_TRACE="1"),
                                capture_output=True, text=True, check=True).stderr
        line = next(l for l in traced.splitlines() if l.startswith("trace: run: ") and "'run'" in l)
        engine_argv = shlex.split(line[len("trace: run: "):])
        name_at = engine_argv.index("--name") + 1
        run(["git", "model", "env", "down"], wt, env)

        o, e = time_up(wt, env, engine_argv, name_at, args.runs, "alone")
        report_up("env up", o, e, args.runs)

        # Three other users hold GPUs 1-3 of a pool of four (their files owned by their uids,
        # each held by a running process): env up judges and skips them, then takes GPU 0.
        book = env["GIT_MODEL_LEASE_DIR"]
        holders = []
        if os.geteuid() == 0:
            run(["git", "config", "model.gpus", "0,1,2,3"], repo, env)
            for k, uid in enumerate((61001, 61002, 61003)):
                holders.append(subprocess.Popen(["sleep", "600"]))
                write_lease(book, uid, f"index-{k + 1}", k + 1, f"m{k}", holders[-1].pid, container=f"gm-u{uid}-m{k}")
            o, e = time_up(wt, env, engine_argv, name_at, args.runs, "shared")
            report_up("env up with three other users holding leases", o, e, args.runs)
            for p in holders:
                p.kill()
                p.wait()
            for name in os.listdir(book):
                if name.endswith(".lease"):
                    os.unlink(os.path.join(book, name))
            run(["git", "config", "model.gpus", "0"], repo, env)
        else:
            print("env up with three other users holding leases: SKIP (needs root to own files as other uids)")

        socket_user_up(args, env, scratch, os.path.dirname(os.path.dirname(git_model_path(env))))

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

        # git model gpus: 8 GPUs, 4 held by four uids, and 100 past lease records of holders that are gone.
        for name in os.listdir(book):
            if name.endswith(".lease"):
                os.unlink(os.path.join(book, name))
        run(["git", "config", "model.gpus", "0,1,2,3,4,5,6,7"], repo, env)
        if os.geteuid() == 0:
            sleeper = subprocess.Popen(["sleep", "600"])
            gone = subprocess.Popen(["true"])
            gone.wait()
            try:
                for k in range(4):
                    write_lease(book, 62000 + k, f"index-{k}", k, f"held{k}", sleeper.pid, container=f"gm-held-{k}")
                for k in range(100):  # past records: processes gone, or another boot's
                    write_lease(book, 63000 + k % 7, f"index-{k % 8}", k % 8, f"old{k}", gone.pid,
                                boot_id=None if k % 2 else "00000000-0000-0000-0000-000000000000", engine="host")
                listing = [timed(["git", "model", "gpus"], repo, env) for _ in range(args.runs + 1)][1:]
                g = statistics.median(listing) * 1000
                print(f"git model gpus with 8 GPUs, 4 held, 100 past lease records, median of {args.runs} (ms)")
                print(f"  git model gpus                        {g:8.1f}")
                print(f"  target: < 100 ms -> {'met' if g < 100 else 'MISSED'}")
            finally:
                sleeper.kill()
                sleeper.wait()
        else:
            print("git model gpus with 100 past lease records: SKIP (needs root to own files as other uids)")
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
