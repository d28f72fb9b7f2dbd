#!/usr/bin/env bash
# Red team s42a: `env up` killed outright (kill -9) while it waited for the ports, after its
# container ran. The next `env up` found the container running and changed nothing, so the
# launch record still named the launch before: with the image's tag moved to other content
# meanwhile, `git model tag` recorded the old image id for a snapshot whose environment ran the
# new one. The running container's labels now rewrite a record that is not its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

IMAGE="localhost/gm-test-relaunch-$(basename "$TEST_DIR" | tr 'A-Z.' 'a-z-'):1"
podman tag "$TEST_IMAGE" "$IMAGE"
trap 'gm_status=$?; podman_cleanup; podman rmi -f "$IMAGE" >/dev/null 2>&1; on_exit $gm_status' EXIT
first=$(podman image inspect --format '{{.Id}}' "$IMAGE")

cd "$TEST_DIR"
start_env_model relaunch "ports:" "  web: 8091" 'command: ["sh", "-c", "sleep 4; exec httpd -f -p 8091 -h /www"]'
sed -i "s|^image: .*|image: $IMAGE|" "$WT/.modelenv.yaml"
git -C "$WT" commit -q -am "own image name"
git -C "$WT" config model.env.readyTimeout 30s
run_expect 0 git -C "$WT" model env up
run_expect 0 git -C "$WT" model env down

# The tag now names other content.
podman create -q --name "gm-relabel-$$" "$TEST_IMAGE" true >/dev/null
podman commit -q --change 'LABEL gm.test=second' "gm-relabel-$$" "$IMAGE" >/dev/null
podman rm -f "gm-relabel-$$" >/dev/null
second=$(podman image inspect --format '{{.Id}}' "$IMAGE")
[ "$first" != "$second" ] || fail "the image did not change"

(cd "$WT" && exec setsid git model env up >"$TEST_DIR/up.out" 2>&1) &
up=$!
for _ in $(seq 100); do [ -n "$(test_containers)" ] && break; sleep 0.1; done
sleep 1
kill -KILL -- "-$up" 2>/dev/null || kill -KILL "$up"
wait "$up" 2>/dev/null || true
assert_eq "$(podman inspect --format '{{.Image}}' "$(test_containers)")" "$second" "the new container runs the new content"

run_expect 0 git -C "$WT" model env up
assert_contains "$OUT" "already running"
git -C "$WT" commit -q --allow-empty -m work
run_expect 0 git -C "$WT" model tag --no-push
run_expect 0 git -C "$WT" model log --json
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["image_id"]')" "sha256:$second" "the snapshot names the image that ran"
run_expect 0 git -C "$WT" model env down
