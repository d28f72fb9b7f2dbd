#!/usr/bin/env bash
# Finding: when the book's lock is held by a process that inherited it (the locker forked and
# exited: `flock` semantics), the lock-timeout error names the *original* locker's pid from
# /proc/locks, which is dead, and, once that pid is reused, an innocent process of another user.
# git-model-env(1): "one that stays taken is for root to stop, by that pid" - root would kill
# the wrong process, while the real holder keeps the lock. Pid reuse is made deterministic
# here with /proc/sys/kernel/ns_last_pid (on a busy server it happens by itself).
# Exit 1: the error names a process that does not hold the lock. Exit 0: it names the holder.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
H=gmred-$$-h V=gmred-$$-v W=gmred-$$-w
rt_user "$H"
rt_user "$V"
rt_user "$W"
rt_repo "$V" v
as_user "$V" git -C repo config model.leaseLockTimeout 1s
as_user "$H" python3 - "$BOOK/.lock" >"$RT_DIR/locker" <<'PY'
import fcntl, os, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX)
child = os.fork()
if child == 0:
    os.setsid(); fd = os.open("/dev/null", os.O_RDWR); [os.dup2(fd, i) for i in (0, 1, 2)]
    time.sleep(600); os._exit(0)
print(os.getpid(), child, flush=True)
os._exit(0)
PY
read -r locker holder <"$RT_DIR/locker"
sleep 0.3
echo "the lock was taken by $H's pid $locker (exited); it is held by its child $holder"
wuid=$(id -u "$W")
for _ in $(seq 30); do
    python3 - "$locker" "$wuid" <<'PY'
import os, sys
p, uid = int(sys.argv[1]), int(sys.argv[2])
open("/proc/sys/kernel/ns_last_pid", "w").write(str(p - 1))
if os.fork() == 0:
    os.setsid(); os.setgid(uid); os.setuid(uid)
    fd = os.open("/dev/null", os.O_RDWR); [os.dup2(fd, i) for i in (0, 1, 2)]
    os.execvp("sleep", ["sleep", "600"])
PY
    [ "$(ps -o uid= -p "$locker" 2>/dev/null | tr -d " ")" = "$wuid" ] && break
done
echo "pid $locker now: $(ps -o user:32=,comm= -p "$locker" 2>/dev/null || echo '(none)')"
err=$(as_user "$V" git -C repo model gpus release 0 2>&1)
echo "$err"
[[ "$err" == *"gave up waiting"* ]] || setup_failed "no lock timeout"
if [[ "$err" == *"process $locker "* || "$err" == *"process $locker" ]] && [[ "$err" != *"process $holder"* ]]; then
    reproduced "the error names pid $locker ($(ps -o user:32=,comm= -p "$locker" 2>/dev/null || echo dead)), not $H's holder $holder"
fi
held_up "the error names the process that holds the lock"
