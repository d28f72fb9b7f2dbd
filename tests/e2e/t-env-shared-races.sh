#!/usr/bin/env bash
# The shared GPU lease book against races and hostile input (the red team's findings on issue 12),
# with real Unix users, their own rootless podman, and one GPU (pool model.gpus 0): every check asks
# whether one GPU ends up used twice, or a user's lease, container or run is lost.
#  - two `env up` of one model at once: one starts it, the other finds it running; none removes the other's;
#  - `env down` during a slow `env up` waits for it and takes it down; root's release during the up stops it;
#  - `env up` killed -9 during the engine's start: its engine client finishes, the container holds the GPU;
#  - a sweep run whose podman client is killed: its container is removed before its GPU is given back;
#  - `sweep cancel` after a dead scheduler stops the host run and frees only this repository's sweep;
#  - a lease's holder is its file's owner, control characters are escaped, history.log keeps one line per entry;
#  - a non-UTF-8 name keeps `gpus --json` valid; oversized lease files are ignored;
#  - a link above the book that another user made is refused (root follows only root's own);
#  - a loaded driver whose nvidia-smi fails gives no GPU by index.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
export GIT_MODEL_LEASE_DIR="$BOOK"
USERS_ENV=("GIT_MODEL_LEASE_DIR=$BOOK")
V=gmtr-v-$$ H=gmtr-h-$$
make_user "$V"
user_import_image "$V"
make_user "$H"
VH=$(user_home "$V")
as_user "$V" git init -q repo
as_user "$V" sh -c 'printf "image: %s\ngpus: 1\n" "$1" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -q -m env' sh "$TEST_IMAGE"
as_user "$V" git -C repo config model.installHooks never
as_user "$V" git -C repo config model.gpus 0
as_user "$V" git -C repo config model.env.stopTimeout 1s
as_user "$V" git -C repo model start m1 >/dev/null
WT="$VH/worktrees/feature/model-m1"
up() { as_user "$V" git -C "$WT" model env up; }
down() { as_user "$V" git -C "$WT" model env down; }
containers() { as_user "$V" podman ps -a --format '{{.Names}}' | grep -c . || true; }
leases() { find "$BOOK" -name '*.lease' -user "$V" | wc -l; }
wait_lease() { for _ in $(seq 100); do [ "$(leases)" != 0 ] && return 0; sleep 0.1; done; fail "no lease was written"; }
# A slow engine, as when it pulls the image: 3 s before `podman run` starts.
SLOW="$VH/slow"
mkdir -p "$SLOW"
printf '#!/bin/sh\n[ "$1" = run ] && sleep 3\nexec /usr/bin/podman "$@"\n' >"$SLOW/podman"
chmod 755 "$SLOW/podman"
chown -R "$V:" "$SLOW"
slow_up() {
    local USERS_ENV=("${USERS_ENV[@]}" "PATH=$SLOW:$GM_STAGE/bin:/usr/bin:/bin")
    up >"$TEST_DIR/slow.out" 2>&1
}

# --- two ups of one model at once: one starts it, the other waits and finds it running -------------------
(rc=0; up >"$TEST_DIR/up1.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/up1.rc") &
(rc=0; up >"$TEST_DIR/up2.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/up2.rc") &
wait
assert_eq "$(cat "$TEST_DIR/up1.rc") $(cat "$TEST_DIR/up2.rc")" "0 0" "both ups"
assert_contains "$(cat "$TEST_DIR/up1.out" "$TEST_DIR/up2.out")" "is already running"
assert_eq "$(as_user "$V" podman ps --format '{{.Names}}' | grep -c .)" "1" "the environment runs"
assert_eq "$(leases)" "1" "one lease"
run_expect 0 down
assert_eq "$(containers)/$(leases)" "0/0" "down removed it and gave its GPU back"

# --- a down during a slow up waits for it, then takes the environment down --------------------------------
slow_up &
upper=$!
wait_lease
run_expect 0 down
wait "$upper" || fail "the slow up failed: $(cat "$TEST_DIR/slow.out")"
assert_eq "$(containers)/$(leases)" "0/0" "nothing runs, nothing is leased after the down"
assert_contains "$ERR" "waiting for another start or stop of the environment of 'm1'"
assert_contains "$OUT" "Environment of 'm1' is down"

# --- root's release during a slow up: the up does not start (no lease is made again) ---------------------
rc=0
slow_up &
upper=$!
wait_lease
run_expect 0 git model gpus release 0 --dir "$BOOK"
assert_contains "$OUT" "released GPU 0 (index-0) held by $V"
wait "$upper" || rc=$?
assert_eq "$rc" "1" "the up whose lease was given back"
assert_contains "$(cat "$TEST_DIR/slow.out")" "GPU 0 was given back while model 'm1' was starting"
assert_eq "$(containers)/$(leases)" "0/0" "the up removed what it made"

# --- env up killed -9 during the engine's start: its engine client finishes, the container keeps the GPU --
# (podman killed half way would leave a container only its storage knows, or a stale port forwarding.)
slow_up &
upper=$!
wait_lease
sleep 0.5
starting=$(as_user "$V" git -C repo model gpus --json)
env_up=$(pgrep -u "$(id -u "$V")" -x git-model-env | head -1)
[ -n "$env_up" ] || fail "no git-model-env process"
kill -9 "$env_up"
wait "$upper" 2>/dev/null || true
for _ in $(seq 100); do [ "$(as_user "$V" podman ps --format '{{.Names}}' | grep -c . || true)" = 1 ] && break; sleep 0.1; done
assert_eq "$(containers)/$(leases)" "1/1" "the container podman finished holds the GPU lease"
run_expect 0 as_user "$V" git -C repo model env status
assert_contains "$OUT" "running"
assert_not_contains "$ERR" "GPU 0 was still leased to"
# Nobody else gets the GPU while it runs.
run_expect 0 as_user "$V" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(g["state"], [h["state"] for h in g["holders"]]) for g in d["gpus"]]')" "[('held', ['running'])]" "the GPU of the killed up's container is held"
run_expect 0 down
assert_eq "$(containers)/$(leases)" "0/0" "down removed it and gave its GPU back"
assert_eq "$(json_get "$starting" '[(h["state"], h.get("starter_pid", 0) > 0) for g in d["gpus"] for h in g["holders"]]')" \
    "[('starting', True)]" "the starting lease named the engine's client"

# --- a sweep run whose podman client is killed: the container goes before its GPU is given back ----------
run_expect 0 as_user "$V" git -C "$WT" model sweep start --gpus-per-run 1 --grid x=1 -- sleep 120
run=""
for _ in $(seq 150); do
    run=$(as_user "$V" podman ps --filter label=io.git-model.sweep --format '{{.Names}}')
    [ -n "$run" ] && break
    sleep 0.2
done
[ -n "$run" ] || fail "the sweep's run container never ran"
client=$(pgrep -u "$(id -u "$V")" -f "podman start --attach $run" | head -1)
[ -n "$client" ] || fail "no podman client for $run"
kill -9 "$client"
for _ in $(seq 150); do
    state=$(as_user "$V" git -C "$WT" model sweep status 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["state"])')
    [ "$state" = running ] || break
    sleep 0.2
done
assert_eq "$state" "failed" "the run whose client was killed"
assert_eq "$(containers)/$(leases)" "0/0" "its container is gone, and only then its GPU"
assert_contains "$(as_user "$V" git -C "$WT" model sweep status 1 --json)" "outlived its engine client and was stopped and removed"

# --- sweep cancel after a dead scheduler: the host run stops; another repository's sweep 1 keeps its GPU ---
for r in repo2:y repo3:z; do
    as_user "$V" sh -c 'git init -q "$1" && cp repo/.modelenv.yaml "$1"/ && git -C "$1" add -A && git -C "$1" commit -qm e &&
        git -C "$1" config model.installHooks never && git -C "$1" config model.gpus 0,1 && git -C "$1" model start "$2" >/dev/null' \
        sh "${r%:*}" "${r#*:}"
done
mkdir -m 1777 "$TEST_DIR/out"
cmd='echo $$ >"$0/$GIT_MODEL_MODEL.pid"; echo "$CUDA_VISIBLE_DEVICES" >"$0/$GIT_MODEL_MODEL"; exec sleep 60'
YWT="$VH/worktrees/feature/model-y" ZWT="$VH/worktrees/feature/model-z"
run_expect 0 as_user "$V" git -C "$YWT" model sweep start --no-container --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$TEST_DIR/out"
run_expect 0 as_user "$V" git -C "$ZWT" model sweep start --no-container --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$TEST_DIR/out"
for f in y.sweep-1-1 z.sweep-1-1; do
    for _ in $(seq 100); do [ -s "$TEST_DIR/out/$f" ] && break; sleep 0.1; done
    [ -s "$TEST_DIR/out/$f" ] || fail "run $f never started"
done
sched=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$VH/repo3/.git/git-model/sweeps/1/scheduler.json")
run_pid=$(cat "$TEST_DIR/out/z.sweep-1-1.pid")
kill -9 "$sched"
sleep 0.3
run_expect 0 as_user "$V" git -C "$ZWT" model sweep cancel 1
assert_contains "$OUT" "1 unfinished run stopped"
run_expect 0 as_user "$V" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(h["model"], h["sweep_run"]) for g in d["gpus"] for h in g["holders"]]')" \
    "[('y.sweep-1-1', '1/1')]" "only repo2's live run holds a GPU"
for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$run_pid" 2>/dev/null && fail "the cancelled host run (pid $run_pid) still runs"
run_expect 0 as_user "$V" git -C "$YWT" model sweep cancel 1
assert_eq "$(leases)" "0" "every lease given back"

# --- a lease's holder is its file's owner; its text reaches no terminal or log raw --------------------------
as_user "$H" python3 - "$BOOK" <<'PY'
import json, os, subprocess, sys
book, uid = sys.argv[1], os.getuid()
lid = "00112233445566aa"
# The lease's holder is a process of its own user (users_cleanup ends it): one of another user's holds nothing.
holder = subprocess.Popen(["sleep", "600"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
start = open("/proc/%d/stat" % holder.pid).read().rsplit(")", 1)[1].split()[19]
rec = {"version": 2, "id": lid, "gpu": "index-0", "index": 0, "uid": uid, "user": "root", "phase": "held",
       "since": 1, "boot_id": open("/proc/sys/kernel/random/boot_id").read().strip(),
       "holder": {"pid": holder.pid, "start": int(start)}, "workload": {"pid": 0, "start": 0}, "engine": "host",
       "container": "", "container_id": "", "model": "prod\u001b]0;owned\u0007",
       "repo": "/root/prod/.git\n2030-01-01 00:00 root: prepared the book (mode 1777)", "worktree": "/root/prod", "sweep": ""}
with open(os.path.join(book, "index-0.%d.%s.lease" % (uid, lid)), "w") as f:
    json.dump(rec, f)
open(os.path.join(os.fsencode(book), b"a-junk-\xff"), "w").close()
for i in range(200):  # oversized lease files: ignored without being read in full
    with open(os.path.join(book, "index-1.%d.%016x.lease" % (uid, i)), "w") as f:
        f.write(" " * 20000)
PY
run_expect 0 as_user "$V" git -C repo model gpus
assert_contains "$OUT" "$H  prod\\x1b]0;owned\\x07" "the holder column"
assert_not_contains "$OUT" $'\e' "the listing"
assert_contains "$OUT" "a-junk-\\xff: not a lease file"
run_expect 0 as_user "$V" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(g["index"], [h["user"] for h in g["holders"]]) for g in d["gpus"]]')" "[(0, ['$H'])]" \
    "gpus --json: the holder is the file's owner"
assert_eq "$(json_get "$OUT" 'sum("larger than 16384 bytes" in i["why"] for i in d["ignored"])')" "200" "oversized leases"
run_expect 1 as_user "$V" git -C repo model gpus release 0
assert_contains "$ERR" "GPU 0 is held by $H; only they or root can give it back"
run_expect 0 git model gpus release 0 --dir "$BOOK"
assert_contains "$OUT" "held by $H since"
assert_not_contains "$OUT" $'\e' "root's release message"
assert_eq "$(grep -c . "$BOOK/history.log")/$(grep -cv '^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9] [a-z]' "$BOOK/history.log")" \
    "3/0" "history.log: one dated line per entry (prepared, released twice)"
assert_contains "$(tail -1 "$BOOK/history.log")" "root: released GPU 0 (index-0) held by $H"

# --- a link above the book that another user made is refused; root's own link is followed ------------------
mkdir -m 1777 "$TEST_DIR/pub"
mkdir -m 755 "$TEST_DIR/rootonly"
as_user "$H" ln -s "$TEST_DIR/rootonly" "$TEST_DIR/pub/gm"
run_expect 1 git model gpus init --dir "$TEST_DIR/pub/gm/book"
assert_contains "$ERR" "the folder $TEST_DIR/pub/gm above it is a symbolic link that $H made"
assert_no_path "$TEST_DIR/rootonly/book"
ln -s "$TEST_DIR/rootonly" "$TEST_DIR/rootlink"
run_expect 0 git model gpus init --dir "$TEST_DIR/rootlink/deeper/book"
assert_eq "$(stat -c '%U %a' "$TEST_DIR/rootonly/deeper" "$TEST_DIR/rootonly/deeper/book" | tr '\n' ' ')" "root 755 root 1777 " \
    "the book behind root's link and the folder made on the way"

# --- a loaded driver whose nvidia-smi fails: no GPU is taken by index ---------------------------------------
mkdir -p "$TEST_DIR/fakebin"
printf '#!/bin/sh\necho "Failed to initialize NVML: Driver/library version mismatch"\nexit 18\n' >"$TEST_DIR/fakebin/nvidia-smi"
chmod 755 "$TEST_DIR/fakebin/nvidia-smi"
cd "$TEST_DIR"
make_repo rootrepo
git -C rootrepo config model.installHooks never
git -C rootrepo config model.gpus 0
write_modelenv rootrepo "gpus: 1"
git -C rootrepo model start p >/dev/null
with_fake_driver() {
    unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /proc/driver && mkdir /proc/driver/nvidia &&
        echo "NVRM version: fake" >/proc/driver/nvidia/version && PATH="$0:$PATH" exec "$@"' "$TEST_DIR/fakebin" "$@"
}
if with_fake_driver true 2>/dev/null; then
    run_expect 3 with_fake_driver git -C "$TEST_DIR/worktrees/feature/model-p" model sweep start --no-container \
        --gpus-per-run 1 --grid x=1 -- true
    assert_contains "$ERR" "an NVIDIA driver is loaded, but its GPUs cannot be listed"
    assert_contains "$ERR" "Driver/library version mismatch"
    run_expect 0 with_fake_driver git -C rootrepo model gpus
    assert_contains "$OUT" "Warning: an NVIDIA driver is loaded but its GPUs cannot be listed"
else
    echo "SKIP: no private mount namespace here (unshare -m) to fake a loaded driver"
fi
