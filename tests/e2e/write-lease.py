#!/usr/bin/env python3
"""Writes one GPU lease file the way git-model does (for tests and benchmarks that need
leases of holders they cannot start for real).

usage: write-lease.py BOOK GPU-ID INDEX MODEL [--pid PID] [--container NAME] [--user NAME]
                      [--since UNIX] [--boot-id ID] [--repo DIR] [--engine NAME]
The holder process is PID (default: this script's parent, e.g. the test's shell), recorded
with its start time; a pid that does not run makes a lease of a holder that is gone."""
import argparse
import json
import os
import secrets
import time


def start_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except OSError:
        return 1


p = argparse.ArgumentParser()
p.add_argument("book")
p.add_argument("gpu")
p.add_argument("index", type=int)
p.add_argument("model")
p.add_argument("--pid", type=int, default=os.getppid())
p.add_argument("--container", default="")
p.add_argument("--user", default="")
p.add_argument("--since", type=int, default=int(time.time()))
p.add_argument("--boot-id")
p.add_argument("--repo", default="/srv/repo/.git")
p.add_argument("--engine", default="host")
a = p.parse_args()
with open("/proc/sys/kernel/random/boot_id") as f:
    boot = f.read().strip()
uid = os.geteuid()
lease_id = secrets.token_hex(8)
record = {"version": 2, "id": lease_id, "gpu": a.gpu, "index": a.index, "uid": uid, "user": a.user or str(uid),
          "phase": "held", "since": a.since, "boot_id": a.boot_id or boot,
          "holder": {"pid": a.pid, "start": start_ticks(a.pid)}, "workload": {"pid": 0, "start": 0},
          "engine": a.engine, "container": a.container, "container_id": "", "repo": a.repo, "model": a.model,
          "worktree": "", "sweep": ""}
path = os.path.join(a.book, f"{a.gpu}.{uid}.{lease_id}.lease")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
with os.fdopen(fd, "w") as f:
    json.dump(record, f)
os.chmod(path, 0o644)
print(path)
