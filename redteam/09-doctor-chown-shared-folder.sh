#!/usr/bin/env bash
# Issue 19 (doctor's ownership check): a persist folder shared by the team (persist: checkpoints:
# /data/team/{model}) holds a teammate's checkpoint. Doctor run by alice calls it a file she
# "cannot edit or delete" and tells her to take it over: `sudo chown -R alice ...` and, without sudo,
# through the rootful engine's socket `podman run --user 0:0 -v FOLDER:/fix IMAGE chown -R uid:gid /fix`,
# which works for any member of the socket's group and silently hands bob's files to alice.
# The check should only report files a container made (root / subordinate ids), not other users'.
GM_STAGE=${GM_STAGE:-/work/rt-prefix}; export GM_STAGE
GM_TEST_TMP=/tmp; export GM_TEST_TMP
. /work/wt-red19/tests/e2e/lib.sh
. /work/wt-red19/tests/e2e/users-lib.sh
trap 'gm_status=$?; users_cleanup; rm -rf "$TEST_DIR"; exit $gm_status' EXIT
A=rt19a-$$ B=rt19b-$$
make_user "$A"; make_user "$B"
TEAM=$TEST_DIR/team; mkdir -p "$TEAM"; chmod 1777 "$TEAM"; as_user "$B" sh -c "mkdir -m 1777 '$TEAM/m'"
as_user "$B" sh -c "echo bob-weights >'$TEAM/m/bob-ckpt.pt'"
as_user "$A" git init -q repo
as_user "$A" sh -c 'printf "image: localhost/whatever:1\npersist:\n  checkpoints: %s/{model}\n" "$1" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -qm env' sh "$TEAM"
as_user "$A" git -C repo config model.installHooks never
as_user "$A" git -C repo config model.engineHost "unix://$TEST_DIR/podman.sock"
as_user "$A" git -C repo model start m >/dev/null
out=$(as_user "$A" git -C repo model doctor --no-bench 2>&1 || true)
grep -i -A2 ownership <<<"$out" | sed 's/^/    /'
if grep -q "chown -R $(id -u "$A"):$(id -g "$A") $TEAM/m" <<<"$out"; then
    echo "FINDING: doctor tells $A to chown -R the shared folder $TEAM/m (with $B's file) to herself, via sudo or the engine"
    exit 1
fi
echo OK
