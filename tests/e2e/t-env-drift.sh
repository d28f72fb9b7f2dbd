#!/usr/bin/env bash
# Environments follow their file and their image (issue 13, points 5, 7 and 8), with real podman:
# - a tag re-imported with another root is image drift against the branch's snapshot (which
#   records the image id that ran): a warning, a refusal under model.imageDrift = refuse, and
#   `env pin` rewrites the pin as tag@sha256:... keeping every other byte of the file;
# - after editing .modelenv.yaml, `env up` says the running container drifted, `env status` and
#   `git model status` show it, `env up --recreate` replaces it and the persist folders stay;
# - a model keeps its host ports across down/up while they are free, moves (saying who holds the
#   old one) when not; a fixed host port is used as written and refused on conflict naming the holder;
# - {model} gives each model its own persist folder;
# - `env check` validates the working tree's file on the base branch too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

DRIFT_IMAGE=localhost/gm-test-drift-$$:1
cleanup_images() { podman rmi -f "$DRIFT_IMAGE" $(cat "$TEST_DIR/image-ids" 2>/dev/null) >/dev/null 2>&1; return 0; }
trap 'gm_status=$?; podman_cleanup; cleanup_images; on_exit $gm_status' EXIT
# import_root MARK: a busybox root carrying MARK, imported as DRIFT_IMAGE (replacing the tag).
import_root() {
    local root="$TEST_DIR/root-$1"
    mkdir -p "$root/bin" "$root/www"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh sleep cat httpd id echo; do ln -sf busybox "$root/bin/$applet"; done
    echo "$1" >"$root/mark"
    echo "$1" >"$root/www/index.html"
    tar -C "$root" -cf "$TEST_DIR/$1.tar" .
    podman import -q "$TEST_DIR/$1.tar" "$DRIFT_IMAGE" >>"$TEST_DIR/image-ids"
}
LISTENER_PID=
trap 'gm_status=$?; [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null; podman_cleanup; cleanup_images; on_exit $gm_status' EXIT

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.env.stopTimeout 1s
git -C repo config model.env.readyTimeout 20s
write_modelenv repo
import_root first

# --- env check on the base branch (the main worktree, on main) ---------------------------------------
run_expect 0 git -C repo model env check
assert_contains "$OUT" "image: $TEST_IMAGE"
printf 'image: %s\nmemory: lots\n' "$TEST_IMAGE" >repo/.modelenv.yaml
run_expect 1 git -C repo model env check
assert_contains "$ERR" "$TEST_DIR/repo/.modelenv.yaml:2:9: 'memory' must be"
git -C repo checkout -q -- .modelenv.yaml

# --- image drift ---------------------------------------------------------------------------------------
run_expect 0 git -C repo model start img
W="$TEST_DIR/worktrees/feature/model-img"
cat >"$W/.modelenv.yaml" <<EOF
# the team's image, pinned by tag
image: $DRIFT_IMAGE   # re-imported below
ports:
  web: 8080     # a stand-in server
command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
git -C "$W" commit -q -am "drift image"
first_id=$(podman image inspect -f '{{.Id}}' "$DRIFT_IMAGE")
run_expect 0 git -C "$W" model env up
assert_contains "$OUT" "image        $DRIFT_IMAGE (sha256:${first_id:0:12})"
container=$(printf '%s\n' "$OUT" | sed -n "s/.*up: container \(.*\)$/\1/p")
assert_eq "$(podman inspect -f '{{.Image}}' "$container")" "$first_id" "the container runs the inspected image"
run_expect 0 git -C "$W" model tag --metric acc=0.5
assert_contains "$OUT" "(ran as sha256:$first_id)"
assert_contains "$(git -C repo cat-file -p model/img/v1)" "Model-Image-Id: sha256:$first_id"
run_expect 0 git -C "$W" model log --json
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["image_id"]')" "sha256:$first_id" "log --json"
run_expect 0 git -C "$W" model env down
import_root second
second_id=$(podman image inspect -f '{{.Id}}' "$DRIFT_IMAGE")
[ "$first_id" != "$second_id" ] || fail "the re-import gave the same image"
run_expect 0 git -C "$W" model env up
assert_contains "$ERR" "warning: image drift: $DRIFT_IMAGE now resolves to sha256:${second_id:0:12}, but snapshot model/img/v1 ran sha256:${first_id:0:12}"
assert_contains "$ERR" "git model env pin"
run_expect 0 git -C "$W" model env down
git -C repo config model.imageDrift refuse
run_expect 1 git -C "$W" model env up
assert_contains "$ERR" "image drift"
assert_contains "$ERR" "model.imageDrift = refuse"
assert_contains "$ERR" "podman tag sha256:$first_id $DRIFT_IMAGE"
assert_eq "$(test_containers)" "" "a refused up starts nothing"
git -C repo config model.imageDrift sometimes
run_expect 1 git -C "$W" model env up
assert_contains "$ERR" "model.imageDrift is 'sometimes': expected warn or refuse"
git -C repo config model.imageDrift refuse

# env pin: the tag pin becomes tag@digest; every other byte stays
before=$(cat "$W/.modelenv.yaml")
run_expect 0 git -C "$W" model env pin
digest=$(podman image inspect -f '{{.Digest}}' "$DRIFT_IMAGE")
assert_contains "$OUT" "$DRIFT_IMAGE@$digest"
assert_eq "$(cat "$W/.modelenv.yaml")" "${before/image: $DRIFT_IMAGE /image: $DRIFT_IMAGE@$digest }" "only the pin changed"
run_expect 1 git -C "$W" model env pin
assert_contains "$ERR" "already pins the image by digest"
run_expect 0 git -C "$W" model env up
assert_not_contains "$ERR" "drift"
assert_eq "$(podman inspect -f '{{.Image}}' "$container")" "$second_id" "the pinned image runs"
git -C "$W" commit -q -am "pin by digest"
up_out=$OUT  # the ports section below reads the up's output

# env pin through a link to a file of the worktree (models sharing one file): that file is pinned,
# keeping its mode and ACL, and the link stays a link; a link out of the worktree is refused
mkdir -p "$W/envs"
sed "s|@$digest||" "$W/.modelenv.yaml" >"$W/envs/shared.yaml"
chmod 640 "$W/envs/shared.yaml"
setfacl -m u:nobody:r "$W/envs/shared.yaml"
rm "$W/.modelenv.yaml" && ln -s envs/shared.yaml "$W/.modelenv.yaml"
run_expect 0 git -C "$W" model env pin
[ -L "$W/.modelenv.yaml" ] || fail "the linked .modelenv.yaml became a plain file"
assert_contains "$(cat "$W/envs/shared.yaml")" "image: $DRIFT_IMAGE@$digest "
assert_eq "$(stat -c %a "$W/envs/shared.yaml")" "640" "the pinned file keeps its mode"
assert_contains "$(getfacl -cp "$W/envs/shared.yaml" 2>/dev/null)" "user:nobody:r--"
sed "s|@$digest||" "$W/envs/shared.yaml" >"$TEST_DIR/outside.yaml"
ln -sfn "$TEST_DIR/outside.yaml" "$W/.modelenv.yaml"
run_expect 1 git -C "$W" model env pin
assert_contains "$ERR" "is a link to $TEST_DIR/outside.yaml, which is not a file of its worktree; nothing was written"
assert_not_contains "$(cat "$TEST_DIR/outside.yaml")" "@sha256"
# nor read by any command: a link out (say, to a root-only file) would have its lines quoted in errors
printf 'root:SECRETHASH:19000:0:99999:7:::\n' >"$TEST_DIR/shadow-like"
chmod 600 "$TEST_DIR/shadow-like"
ln -sfn "$TEST_DIR/shadow-like" "$W/.modelenv.yaml"
for verb in check up; do
    run_expect 1 git -C "$W" model env "$verb"
    assert_contains "$ERR" "is a link to $TEST_DIR/shadow-like, which is not a file of its worktree: not read" "env $verb"
    assert_not_contains "$OUT$ERR" "SECRETHASH" "env $verb quotes nothing of it"
done
ln -sfn "$TEST_DIR/outside.yaml" "$W/.modelenv.yaml"
# nor one into the main worktree's .git: git's files, not the worktree's
cp "$TEST_DIR/outside.yaml" repo/.git/env.yaml
mv repo/.modelenv.yaml "$TEST_DIR/main-modelenv.yaml"
ln -s .git/env.yaml repo/.modelenv.yaml
run_expect 1 git -C repo model env pin
assert_contains "$ERR" "repo/.modelenv.yaml is a link to .git/env.yaml, which is not a file of its worktree"
assert_not_contains "$(cat repo/.git/env.yaml)" "@sha256"
rm repo/.modelenv.yaml repo/.git/env.yaml && mv "$TEST_DIR/main-modelenv.yaml" repo/.modelenv.yaml
# an edit saved while the engine answered (slowed here) is not lost: pin refuses, writing nothing
rm "$W/.modelenv.yaml" "$W/envs/shared.yaml" && rmdir "$W/envs"
git -C "$W" checkout -q .modelenv.yaml
sed -i "s|@$digest||" "$W/.modelenv.yaml"
mkdir -p "$TEST_DIR/slow-engine"
printf '#!/bin/sh\nsleep 2\nexec %s "$@"\n' "$(command -v podman)" >"$TEST_DIR/slow-engine/podman"
chmod +x "$TEST_DIR/slow-engine/podman"
PATH="$TEST_DIR/slow-engine:$PATH" git -C "$W" model env pin >"$TEST_DIR/pin.out" 2>&1 &
pin_pid=$!
sleep 1
printf '# tuned for two days\n' >>"$W/.modelenv.yaml"
rc=0; wait "$pin_pid" || rc=$?
assert_eq "$rc" "1" "pin of a file saved meanwhile"
assert_contains "$(cat "$TEST_DIR/pin.out")" "changed while it was being rewritten; nothing was written"
assert_contains "$(cat "$W/.modelenv.yaml")" "# tuned for two days"
git -C "$W" checkout -q .modelenv.yaml
OUT=$up_out

# --- ports stay across down/up; a port someone else took moves, saying who --------------------------------
url=$(printf '%s\n' "$OUT" | awk '$1 == "web" {print $2}')
port=${url##*:}; port=${port%/}
assert_eq "$(http_get "$url")" "second" "the port serves"
run_expect 0 git -C "$W" model env down
run_expect 0 git -C "$W" model env up
assert_contains "$OUT" "web          http://127.0.0.1:$port/"
run_expect 0 git -C "$W" model env down
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(300)' "$port" &
LISTENER_PID=$!
for _ in $(seq 50); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break; sleep 0.1; done
run_expect 0 git -C "$W" model env up
assert_contains "$ERR" "port web moved from $port to"
assert_contains "$ERR" "process $LISTENER_PID (python3) of user root holds $port"
moved=$(printf '%s\n' "$OUT" | awk '$1 == "web" {print $2}')
moved=${moved##*:}; moved=${moved%/}
[ "$moved" != "$port" ] || fail "the port did not move"
kill "$LISTENER_PID"; wait "$LISTENER_PID" 2>/dev/null || true; LISTENER_PID=

# --- a fixed host port: used as written, refused on conflict naming the holder ----------------------------
run_expect 0 git -C repo model start fixed
F="$TEST_DIR/worktrees/feature/model-fixed"
printf 'image: %s\nports:\n  web: "%s:8080"\ncommand: ["httpd", "-f", "-p", "8080", "-h", "/www"]\n' "$TEST_IMAGE" "$moved" >"$F/.modelenv.yaml"
run_expect 0 git -C "$F" model env check
assert_contains "$OUT" "port: web -> 8080 (fixed host port $moved)"
run_expect 1 git -C "$F" model env up
assert_contains "$ERR" "host port $moved (ports.web: '$moved:8080') is taken by the environment of model 'img' (container $container"
assert_eq "$(test_containers | grep -c fixed || true)" "0" "the refused up started nothing"
run_expect 0 git -C "$W" model env down
run_expect 0 git -C "$F" model env up
assert_contains "$OUT" "web          http://127.0.0.1:$moved/"
assert_eq "$(http_get "http://127.0.0.1:$moved/")" "hello from the container" "the fixed port serves"
run_expect 0 git -C "$F" model env down

# --- drift between the running container and its file; --recreate ----------------------------------------
run_expect 0 git -C repo model start drift
D="$TEST_DIR/worktrees/feature/model-drift"
printf 'image: %s\nmemory: 96m\npersist:\n  checkpoints: %s/ckpt/{model}\n' "$TEST_IMAGE" "$TEST_DIR" >"$D/.modelenv.yaml"
git -C "$D" commit -q -am "96m"
run_expect 0 git -C "$D" model env up
run_expect 0 git -C "$D" model env exec -- sh -c 'echo epoch-1 >/persist/checkpoints/ckpt.pt'
sed -i 's/memory: 96m/memory: 128m/' "$D/.modelenv.yaml"
git -C "$D" commit -q -am "128m"
run_expect 0 git -C "$D" model env up
assert_contains "$OUT" "already running"
assert_contains "$ERR" "changed since the container started: memory_bytes: 100663296 -> 134217728"
assert_contains "$ERR" "git model env up --recreate"
run_expect 0 git -C "$D" model env status
assert_contains "$OUT" "drift from .modelenv.yaml at the tip of its branch: memory_bytes: 100663296 -> 134217728"
run_expect 0 git -C "$D" model env status --json
assert_eq "$(json_get "$OUT" '[e["drift"] for e in d["environments"] if e["model"] == "drift"][0]')" \
    "['memory_bytes: 100663296 -> 134217728']" "status --json drift"
run_expect 0 git -C "$D" model status
assert_contains "$OUT" "env drift:    memory_bytes: 100663296 -> 134217728"
assert_contains "$OUT" "environment:  running (container gm-repo-drift-" "status: the environment in one pair of parentheses"
assert_not_contains "$(grep '^environment:' <<<"$OUT")" "))" "status: no doubled parentheses"
run_expect 0 git -C "$D" model env up --recreate
assert_contains "$OUT" "Environment of 'drift' is recreated"
run_expect 0 git -C "$D" model env exec -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes
assert_eq "$OUT" "134217728" "the new memory limit"
run_expect 0 git -C "$D" model env exec -- cat /persist/checkpoints/ckpt.pt
assert_eq "$OUT" "epoch-1" "persist folders survive --recreate"
run_expect 0 git -C "$D" model env status --json
assert_eq "$(json_get "$OUT" '[e["drift"] for e in d["environments"] if e["model"] == "drift"][0]')" "[]" "no drift after --recreate"

# --- {model}: each model its own persist folder ---------------------------------------------------------
run_expect 0 git -C repo model start other
O="$TEST_DIR/worktrees/feature/model-other"
cp "$D/.modelenv.yaml" "$O/.modelenv.yaml"
run_expect 0 git -C "$O" model env up
run_expect 0 git -C "$O" model env exec -- sh -c 'echo other-1 >/persist/checkpoints/ckpt.pt'
assert_eq "$(cat "$TEST_DIR/ckpt/drift/ckpt.pt")" "epoch-1" "model drift's checkpoint"
assert_eq "$(cat "$TEST_DIR/ckpt/other/ckpt.pt")" "other-1" "model other's checkpoint"
run_expect 0 git -C "$O" model env down
run_expect 0 git -C "$D" model env down
