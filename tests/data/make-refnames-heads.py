#!/usr/bin/env python3
"""Derives refnames-heads.tsv from refnames.tsv (git's t1402 cases).

For every plain-mode row (no check-ref-format options), puts refs/heads/ in
front of the name and records what the real `git check-ref-format` says about
the result. The unit tests check gm::naming::check_refname against it.
Run from tests/data: ./make-refnames-heads.py > refnames-heads.tsv
"""
import re
import subprocess
import sys


def decode(field):
    return re.sub(rb"\\(\\|t|n|r|x[0-9a-fA-F]{2})",
                  lambda m: {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}.get(m.group(1), None)
                  or bytes([int(m.group(1)[1:], 16)]), field.encode())


def main():
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print("# Derived from refnames.tsv (git's t/t1402-check-ref-format.sh cases; see that file's header) by")
    print("# make-refnames-heads.py: each plain-mode row's name with refs/heads/ put in front, and the verdict of")
    print(f"# `git check-ref-format <refs/heads/name>` from {git}. Same escaping as refnames.tsv.")
    print("verdict\tname\tsource")
    for line in open("refnames.tsv", encoding="utf-8"):
        if line.startswith("#") or line.startswith("expected\t"):
            continue
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 7 or cols[1] != "":
            continue
        name = b"refs/heads/" + decode(cols[2])
        rc = subprocess.run([b"git", b"check-ref-format", name], capture_output=True).returncode
        print(f"{'valid' if rc == 0 else 'invalid'}\trefs/heads/{cols[2]}\t{cols[6]}")


if __name__ == "__main__":
    sys.exit(main())
