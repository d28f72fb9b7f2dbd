#!/usr/bin/env bash
# Finding: a lease's "user", "model", "repo", ... fields are free text that its writer chooses;
# only "uid" is checked against the file's owner. A hostile user's own lease can therefore be
# shown as held by root (or by a colleague) in `git model gpus`, in the refusal another user
# gets from `gpus release`, and in root's release message and history.log; and control
# characters pass through raw: terminal escapes reach root's terminal, a newline forges lines
# in history.log.
# Exit 1: any of these shows. Exit 0: the holder is named from the file's owner and text is escaped.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
H=gmred-$$-h V=gmred-$$-v
rt_user "$H"
rt_user "$V"
rt_repo "$V" v
as_user "$H" python3 - "$BOOK" <<'PY' || setup_failed "writing the lease"
import json, os, sys
book, uid = sys.argv[1], os.getuid()
lid = "00112233445566aa"
start = open("/proc/1/stat").read().rsplit(")", 1)[1].split()[19]
rec = {"version": 2, "id": lid, "gpu": "index-0", "index": 0, "uid": uid, "user": "root", "phase": "held",
       "since": 1, "boot_id": open("/proc/sys/kernel/random/boot_id").read().strip(),
       "holder": {"pid": 1, "start": int(start)}, "workload": {"pid": 0, "start": 0}, "engine": "podman",
       "container": "", "container_id": "", "model": "prod\u001b]0;owned\u0007",
       "repo": "/root/prod/.git\n2030-01-01 00:00 root: prepared the book (mode 1777)",
       "worktree": "/root/prod", "sweep": ""}
with open(os.path.join(book, "index-0.%d.%s.lease" % (uid, lid)), "w") as f:
    json.dump(rec, f)
PY
problems=()
out=$(as_user "$V" git -C repo model gpus)
printf '%s\n' "$out" | cat -v
grep -Eq "^0 +index-0 +- +root " <<<"$out" && problems+=("gpus shows $H's lease as held by root")
[[ "$out" == *$'\e'* ]] && problems+=("gpus prints a raw escape sequence")
refusal=$(as_user "$V" git -C repo model gpus release 0 2>&1)
echo "$refusal"
[[ "$refusal" == *"held by root;"* ]] && problems+=("$V is told GPU 0 is held by root")
release=$(git model gpus release 0 --dir "$BOOK")
printf '%s\n' "$release" | cat -v
[[ "$release" == *"held by root since"* ]] && problems+=("root's release says it released root's own lease")
echo "--- history.log:"; cat -v "$BOOK/history.log"
grep -q "held by root since" "$BOOK/history.log" && problems+=("history.log records a release of root's lease")
[ "$(grep -c "prepared the book" "$BOOK/history.log")" -gt 1 ] && problems+=("history.log holds a forged line")
[ ${#problems[@]} -gt 0 ] && reproduced "$(printf '%s; ' "${problems[@]}")"
held_up "the holder is named truthfully and text is escaped"
