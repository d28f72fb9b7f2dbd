#!/usr/bin/env bash
# A GPU server shared by several Unix users (made by the test, each with their own rootless
# podman) and one lease book prepared by `git model gpus init`: three users on a pool of two
# get distinct GPUs and the third is refused naming both holders, then served after a `down`;
# a hostile user who removes, replaces and links every name in the book and runs status, gpus
# and up cannot free or take a held GPU, and no file outside the book changes when root acts
# next; eight concurrent `env up` across three users never hand out a GPU twice; `gpus --json`
# names each holder; the machine's per-user limit holds against the users' own settings; a
# host sweep killed with -9 gives its GPUs back; a paused or stopped container keeps its GPU
# until `env down`; a lock held too long is a clear error, and the sweep scheduler waits it out.
# (No GPU here: the pool is model.gpus 0,1; each container's CUDA_VISIBLE_DEVICES shows its GPU.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
assert_contains "$OUT" "owner root, group root, mode 1777: every local user may take GPUs"
assert_eq "$(stat -c '%U %a' "$BOOK" "$BOOK/.lock" | tr '\n' ' ')" "root 1777 root 644 " "the book's folder and lock"
export GIT_MODEL_LEASE_DIR="$BOOK"
USERS_ENV=("GIT_MODEL_LEASE_DIR=$BOOK")

A=gmtl-a-$$ B=gmtl-b-$$ C=gmtl-c-$$ M=gmtl-m-$$
# user_repo USER MODEL...: ~/repo on the test image (gpus: 1, pool 0,1) and a worktree per model.
user_repo() {
    local u=$1 m
    shift
    as_user "$u" git init -q repo
    as_user "$u" sh -c 'printf "image: %s\ngpus: 1\n" "$1" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -q -m env' \
        sh "$TEST_IMAGE"
    as_user "$u" git -C repo config model.installHooks never
    as_user "$u" git -C repo config model.gpus 0,1
    as_user "$u" git -C repo config model.env.stopTimeout 1s
    for m in "$@"; do as_user "$u" git -C repo model start "$m" >/dev/null; done
}
wt() { echo "$(user_home "$1")/worktrees/feature/model-$2"; }
up() { as_user "$1" git -C "$(wt "$1" "$2")" model env up; }
down() { as_user "$1" git -C "$(wt "$1" "$2")" model env down; }
visible() { as_user "$1" git -C "$(wt "$1" "$2")" model env exec -- sh -c 'echo $CUDA_VISIBLE_DEVICES'; }
for u in $A $B $C $M; do make_user "$u"; user_import_image "$u"; done
user_repo "$A" a r1 r2 r3
user_repo "$B" b r4 r5 r6
user_repo "$C" c r7 r8
user_repo "$M" m

# --- three users on a pool of two --------------------------------------------------------------------
run_expect 0 up "$A" a
assert_contains "$OUT" "gpus         0"
run_expect 0 up "$B" b
assert_contains "$OUT" "gpus         1"
run_expect 1 up "$C" c
assert_contains "$ERR" "no GPU free for model 'c'"
assert_contains "$ERR" "GPU 0 (index-0) is held by model 'a' of $(user_home "$A")/repo/.git"
assert_contains "$ERR" "user $A"
assert_contains "$ERR" "GPU 1 (index-1) is held by model 'b'"
assert_contains "$ERR" "user $B"
assert_eq "$(as_user "$C" podman ps -aq | wc -l)" "0" "the refused up started nothing"
assert_eq "$(visible "$A" a)/$(visible "$B" b)" "0/1" "GPUs inside the containers"
# a signal to a user's `env exec` (no terminal) reaches the command in their rootless container
as_user "$A" git -C "$(wt "$A" a)" model env exec -- \
    sh -c 'trap "echo stopped > /workspace/stopped.txt; exit 5" TERM; sleep 600 & wait' </dev/null >/dev/null 2>&1 &
exec_job=$!
for _ in $(seq 100); do pgrep -u "$A" -f '^sleep 600$' >/dev/null && break; sleep 0.1; done
kill -TERM "$(pgrep -u "$A" -f '^git-model-env exec')"
rc=0; wait "$exec_job" || rc=$?
assert_eq "$rc" "5" "the command's exit code, after its TERM trap ran"
assert_eq "$(cat "$(wt "$A" a)/stopped.txt")" "stopped" "the command in the rootless container got the signal"
assert_eq "$(pgrep -u "$A" -f 'sleep 600' | wc -l)" "0" "nothing it started runs on"
rm -f "$(wt "$A" a)/stopped.txt"

# --- gpus --json names each holder -------------------------------------------------------------------------
run_expect 0 as_user "$C" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(g["index"], g["state"], [h["user"] for h in g["holders"]]) for g in d["gpus"]]')" \
    "[(0, 'held', ['$A']), (1, 'held', ['$B'])]" "gpus --json holders"
assert_eq "$(json_get "$OUT" '[g["holders"][0]["model"] for g in d["gpus"]]')" "['a', 'b']" "gpus --json models"
# Another user's container is judged by its host process, recorded in the lease: running.
assert_eq "$(json_get "$OUT" '[g["holders"][0]["state"] for g in d["gpus"]]')" "['running', 'running']" "gpus --json states"
assert_eq "$(json_get "$OUT" 'd["book"]["shared"]')" "True" "a shared book"
run_expect 0 as_user "$C" git model gpus
assert_contains "$OUT" "$A"
assert_contains "$OUT" "$(as_user "$A" podman ps --format '{{.Names}}')"

# --- a hostile user removes, replaces and links every name in the book ---------------------------------------
secret="$TEST_DIR/root-secret"
printf 'root only\n' >"$secret"
chmod 600 "$secret"
book_names=$(cd "$BOOK" && find . -mindepth 1 -maxdepth 1 ! -type d -printf '%f\n')  # bench-results/: below
# shellcheck disable=SC2086
book_before=$(cd "$BOOK" && sha256sum -- $book_names | sort)
as_user "$M" sh -c '
    cd "$1" || exit 1
    for f in * .lock; do
        rm -f "$f"; mv -f "$f" "$f.moved"; ln -sf "$2" "$f"; printf "{}" >"$f"; cp "$f" "$f.copy"
        case $f in *.lease) cp "$f" "${f%.*.lease}.$(printf %016x 3054)".lease ;; esac
    done
    me=$(id -u)
    ln -s "$2" "index-0.$me.0123456789abcdef.lease"; ln -s "$2" ".tmp-0123456789abcdef"; ln -s "$2" "history.log"
    mkfifo "index-1.$me.fedcba9876543210.lease"
    printf "{\"id\":\"00000000000000aa\",\"gpu\":\"index-0\",\"uid\":%s,\"phase\":\"held\"}" "$me" >"index-0.$me.00000000000000aa.lease"
    true' sh "$BOOK" "$secret" 2>/dev/null
run_expect 0 as_user "$M" git -C repo model env status
run_expect 0 as_user "$M" git -C repo model gpus
run_expect 1 as_user "$M" git -C "$(wt "$M" m)" model env up
assert_contains "$ERR" "no GPU free for model 'm'"
assert_eq "$(as_user "$M" podman ps -aq | wc -l)" "0" "the hostile user got no container"
# shellcheck disable=SC2086
assert_eq "$(cd "$BOOK" && sha256sum -- $book_names | sort)" "$book_before" "the holders' leases, the lock and the log are untouched"
assert_eq "$(stat -c %U "$BOOK/bench-results")" "root" "the bench's results folder (gpus init made it) is still root's"
assert_eq "$(find "$BOOK" -name '*.lease' ! -user "$M" | wc -l)" "2" "no lease file but the holders' two belongs to anyone but the hostile user"
assert_eq "$(visible "$A" a)/$(visible "$B" b)" "0/1" "the holders keep their GPUs"
run_expect 0 as_user "$C" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[[h["user"] for h in g["holders"]] for g in d["gpus"]]')" "[['$A'], ['$B']]" "planted files hold nothing"
assert_contains "$(json_get "$OUT" '" ".join(i["why"] for i in d["ignored"])')" "symbolic link"
# Root acts next: the listing, the environments, a release (logged); nothing outside the book changes.
run_expect 0 git model gpus --dir "$BOOK"
run_expect 0 git model gpus release 1 --dir "$BOOK"
assert_contains "$OUT" "released GPU 1 (index-1) held by $B"
assert_contains "$OUT" "model 'b' of $(user_home "$B")/repo/.git"
assert_contains "$(cat "$BOOK/history.log")" "root: released GPU 1 (index-1) held by $B"
assert_eq "$(cat "$secret") $(stat -c '%U %a' "$secret")" "root only root 600" "the file behind the planted links"
run_expect 1 as_user "$C" git model gpus release 0
assert_contains "$ERR" "GPU 0 is held by $A; only they or root can give it back"
run_expect 0 down "$B" b

# --- a book for one group only --------------------------------------------------------------------------------
G=gmtl-g-$$
make_group "$G" "$A"
run_expect 0 git model gpus init --dir "$TEST_DIR/group-book" --group "$G"
assert_contains "$OUT" "owner root, group $G, mode 1770: members of group $G may take GPUs"
assert_eq "$(stat -c '%U:%G %a' "$TEST_DIR/group-book/.lock")" "root:$G 640" "the group book's lock"
run_expect 0 as_user "$A" git -C repo model gpus --dir "$TEST_DIR/group-book"
run_expect 1 as_user "$C" git -C repo model gpus --dir "$TEST_DIR/group-book"
assert_contains "$ERR" "cannot use the GPU lease book"
assert_contains "$ERR" "usermod -aG"
run_expect 1 as_user "$C" git model gpus init --dir "$TEST_DIR/mine"
assert_contains "$ERR" "only root can prepare a shared GPU lease book"

# --- ... and the third user is served after a down ----------------------------------------------------------
run_expect 0 down "$A" a
run_expect 0 up "$C" c
assert_eq "$(visible "$C" c)" "0" "c gets the freed GPU"
run_expect 0 down "$C" c

# --- eight concurrent ups across three users on a pool of two ------------------------------------------------
race=("$A r1" "$A r2" "$A r3" "$B r4" "$B r5" "$B r6" "$C r7" "$C r8")
for i in "${!race[@]}"; do
    # shellcheck disable=SC2086
    (rc=0; up ${race[$i]} >"$TEST_DIR/race$i.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/race$i.rc") &
done
wait
winners=0
for i in "${!race[@]}"; do
    rc=$(cat "$TEST_DIR/race$i.rc")
    if [ "$rc" = 0 ]; then
        winners=$((winners + 1))
    else
        assert_eq "$rc" "1" "loser ${race[$i]} exit code"
        assert_contains "$(cat "$TEST_DIR/race$i.out")" "no GPU free" "loser ${race[$i]} message"
    fi
done
assert_eq "$winners" "2" "two winners"
gpus=$(for u in $A $B $C; do
    for c in $(as_user "$u" podman ps --format '{{.Names}}'); do as_user "$u" podman exec "$c" sh -c 'echo $CUDA_VISIBLE_DEVICES'; done
done | sort | tr '\n' ' ')
assert_eq "$gpus" "0 1 " "the two winners hold distinct GPUs, read inside their containers"
for i in "${!race[@]}"; do down ${race[$i]} >/dev/null; done
assert_eq "$(find "$BOOK" -name '*.lease' ! -user "$M" | wc -l)" "0" "every lease given back; only the hostile user's planted files are left"

# --- the machine's per-user limit: root's, in the book (gpus init) or /etc/gitconfig, never a user's file -------
run_expect 0 git model gpus init --dir "$BOOK" --max-gpus-per-user 1
assert_contains "$OUT" "limits ($BOOK/config): 1 GPU per user"
assert_eq "$(stat -c '%U %a' "$BOOK/config")" "root 644" "the book's config"
as_user "$A" git config --global model.maxGpusPerUser 5  # a user's own settings cannot lift it
as_user "$A" git -C repo config model.maxGpusPerUser 5
run_expect 0 up "$A" r1
run_expect 1 up "$A" r2
assert_contains "$ERR" "this machine allows 1 GPU per user (model.maxGpusPerUser, set by root in $BOOK/config)"
assert_contains "$ERR" "you hold 1 and model 'r2' asks for 1 more"
assert_contains "$ERR" "is held by model 'r1'"
# Nor can a root-owned file of the user's choosing lift it (it holds no limit): GIT_CONFIG_SYSTEM is not read for them.
printf '[model]\n\tgpus = 0,1\n' >"$TEST_DIR/nolimits.gitconfig"
chmod 644 "$TEST_DIR/nolimits.gitconfig"
USERS_ENV+=("GIT_CONFIG_SYSTEM=$TEST_DIR/nolimits.gitconfig")
run_expect 1 up "$A" r2
assert_contains "$ERR" "allows 1 GPU per user"
USERS_ENV=("GIT_MODEL_LEASE_DIR=$BOOK")
run_expect 0 up "$B" r4  # the other GPU is free for someone else
run_expect 0 down "$A" r1
run_expect 0 down "$B" r4
# M writes lease files by hand (the book is open to all) for both GPUs, naming a live process of
# M's and no time. They stay honoured (a GPU in use is never handed out twice), but `gpus` marks
# the one past the limit and the timeless ones overdue, and a refused up names M for root.
run_expect 0 git model gpus init --dir "$BOOK" --max-gpus-per-user 1 --max-lease-hours 1
as_user "$M" sleep 300 &
for _ in $(seq 50); do hog=$(pgrep -u "$M" -x sleep | head -1 || true); [ -n "$hog" ] && break; sleep 0.1; done
for i in 0 1; do
    as_user "$M" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "index-$i" "$i" hog --pid "$hog" --since "$i" \
        --repo "$(user_home "$M")/repo/.git" >/dev/null
done
run_expect 1 up "$A" r1
assert_contains "$ERR" "no GPU free for model 'r1'"
assert_contains "$ERR" "$M (uid $(id -u "$M")) holds 2 GPUs, over this machine's limit of 1 per user ($BOOK/config): root can free them with \`git model gpus release <gpu>\`"
run_expect 0 as_user "$A" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(g["index"], g["holders"][0]["over_limit"], g["holders"][0]["overdue"]) for g in d["gpus"]]')" \
    "[(0, False, True), (1, True, True)]" "the newer lease past the limit; both without a real time overdue"
run_expect 0 as_user "$A" git -C repo model gpus
assert_contains "$OUT" "over the limit (1 per user)"
assert_contains "$OUT" "overdue (> 1 h)"
run_expect 0 git model gpus release 0 --dir "$BOOK"
run_expect 0 git model gpus release 1 --dir "$BOOK"
kill "$hog"
run_expect 0 git model gpus init --dir "$BOOK" --max-gpus-per-user 0 --max-lease-hours 0
assert_contains "$OUT" "no limits"
assert_contains "$(cat "$BOOK/history.log")" "root: set the limits: model.maxGpusPerUser 1"

# --- a host sweep killed with -9 gives its GPUs back --------------------------------------------------------
run_expect 0 as_user "$A" git -C "$(wt "$A" a)" model sweep start --no-container --gpus-per-run 2 --grid x=1 -- sleep 300
for _ in $(seq 100); do
    [ "$(as_user "$A" git -C repo model gpus --json | python3 -c 'import json,sys; print(sum(len(g["holders"]) for g in json.load(sys.stdin)["gpus"]))')" = 2 ] && break
    sleep 0.1
done
run_expect 0 as_user "$A" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[g["holders"][0]["sweep_run"] for g in d["gpus"]]')" "['1/1', '1/1']" "the sweep run holds both"
for pid in $(json_get "$OUT" '" ".join(str(p) for p in {g["holders"][0]["pid"] for g in d["gpus"]} | {g["holders"][0]["workload_pid"] for g in d["gpus"]})'); do
    kill -9 "$pid"
done
run_expect 0 up "$C" c
assert_eq "$(visible "$C" c)" "0" "a GPU of the killed sweep"
run_expect 0 as_user "$C" git -C repo model gpus --json
assert_eq "$(json_get "$OUT" '[(h["user"], h["state"]) for h in d["stale"]]')" "[('$A', 'gone'), ('$A', 'gone')]" \
    "the killed sweep's leases are shown as gone (only $A or root may remove their files)"
run_expect 0 down "$C" c

# --- root: a paused, then a stopped container keeps its GPU until down ---------------------------------------
cd "$TEST_DIR"
make_repo rootrepo
git -C rootrepo config model.installHooks never
git -C rootrepo config model.gpus 0
git -C rootrepo config model.env.stopTimeout 1s
write_modelenv rootrepo "gpus: 1"
run_expect 0 git -C rootrepo model start p
run_expect 0 git -C rootrepo model start q
RWT="$TEST_DIR/worktrees/feature/model"
run_expect 0 git -C "$RWT-p" model env up
podman pause "$(test_containers | grep -- '-p-')" >/dev/null
run_expect 0 git -C rootrepo model env status
run_expect 1 git -C "$RWT-q" model env up
assert_contains "$ERR" "GPU 0 (index-0) is held by model 'p'"
run_expect 0 git -C "$RWT-p" model env up
assert_contains "$ERR" "paused"
podman unpause "$(test_containers | grep -- '-p-')" >/dev/null
podman stop -t 0 "$(test_containers | grep -- '-p-')" >/dev/null
run_expect 0 git -C rootrepo model env status
run_expect 1 git -C "$RWT-q" model env up
assert_contains "$ERR" "held by model 'p'"
run_expect 0 git -C "$RWT-p" model env down
run_expect 0 git -C "$RWT-q" model env up
run_expect 0 git -C "$RWT-q" model env down

# --- a lock held too long: a clear error for up; the sweep scheduler waits and retries ---------------------
git -C rootrepo config model.leaseLockTimeout 1s
# The process that takes the lock forks and ends: its child holds it (a lock passes with the open file),
# while /proc/locks still names the ended taker. The error names the holder the kernel confirms.
python3 -c 'import fcntl, os, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
if os.fork() == 0:
    print("locked", os.getpid(), flush=True)
    time.sleep(120)
os._exit(0)' "$BOOK/.lock" >"$TEST_DIR/holder.out" &
taker=$!
until grep -q locked "$TEST_DIR/holder.out"; do sleep 0.1; done
wait "$taker"
holder=$(awk '{print $2}' "$TEST_DIR/holder.out")
run_expect 1 git -C "$RWT-q" model env up
assert_contains "$ERR" "gave up waiting 1 s for the lock $BOOK/.lock"
assert_contains "$ERR" "process $holder (python3) of root holds it"
assert_not_contains "$ERR" "process $taker " "the ended taker named as the holder"
run_expect 0 git -C "$RWT-q" model sweep start --gpus-per-run 1 --grid x=1 -- true
SCHEDULER_LOG="$TEST_DIR/rootrepo/.git/git-model/sweeps/1/scheduler.log"
for _ in $(seq 600); do
    grep -q "waits for the GPU lease book" "$SCHEDULER_LOG" 2>/dev/null && break
    sleep 0.1
done
assert_contains "$(cat "$SCHEDULER_LOG")" "run 1 waits for the GPU lease book: gave up waiting 1 s for the lock"
kill "$holder"
wait "$holder" 2>/dev/null || true
wait_sweep "$RWT-q" 1 60
run_expect 0 git -C "$RWT-q" model sweep status 1 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "done" "the scheduler waited out the lock, then ran the run"
