#!/usr/bin/env bash
# Issue 19: a hostile (or just odd) image's /etc/passwd keeps an account for the caller's uid
# ahead of the one env up generates: the generated passwd drops image lines whose uid field is the
# string "<uid>", but "0<uid>" names the same uid to libc/busybox. Inside, the caller's uid is then
# the image's account (its name, its HOME); sshd's "AllowUsers <login>" names a user that no longer
# maps to the uid. Real Unix user, own rootless podman (keep-id), user: host.
GM_STAGE=${GM_STAGE:-/work/rt-prefix}; export GM_STAGE
GM_TEST_TMP=/tmp; export GM_TEST_TMP
. /work/wt-red19/tests/e2e/lib.sh
. /work/wt-red19/tests/e2e/podman-lib.sh
. /work/wt-red19/tests/e2e/users-lib.sh
U=rt19u-$$
make_user "$U"; uid=$(id -u "$U"); H=$(user_home "$U")
IMG=localhost/rt19-lead0-$$:1
trap 'gm_status=$?; users_cleanup; podman_cleanup; podman rmi -f "$IMG" >/dev/null 2>&1; rm -rf "$TEST_DIR"; exit $gm_status' EXIT
# A glibc image (Debian bookworm, as most ML images are) with one extra passwd line.
BASE=localhost/gm-test-bookworm-minbase:1
podman image exists "$BASE" || { echo "SKIP: $BASE is not here"; exit 0; }
mkdir -p "$TEST_DIR/ctx"
printf 'FROM %s\nRUN printf "evil:x:0%s:0:evil:/evil:/bin/sh\\n" >>/etc/passwd && mkdir -p /evil\n' "$BASE" "$uid" >"$TEST_DIR/ctx/Containerfile"
podman build -q --network none -t "$IMG" "$TEST_DIR/ctx" >/dev/null
podman save -q --format oci-archive -o "$TEST_DIR/i.tar" "$IMG" >/dev/null; chmod 644 "$TEST_DIR/i.tar"; chmod 755 "$TEST_DIR"
podman rmi -f "$IMG" >/dev/null 2>&1 || true
as_user "$U" podman load -q -i "$TEST_DIR/i.tar" >/dev/null
as_user "$U" git init -q repo
as_user "$U" sh -c 'printf "image: %s\ncommand: [\"sleep\", \"600\"]\n" "$1" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -qm env' sh "$IMG"
as_user "$U" git -C repo config model.installHooks never
as_user "$U" git -C repo config model.env.stopTimeout 1s
as_user "$U" git -C repo model start m >/dev/null
W=$H/worktrees/feature/model-m
in_wt() { as_user "$U" sh -c 'cd "$1" && shift && exec "$@"' sh "$W" "$@"; }
in_wt git model env up >"$TEST_DIR/up" 2>&1 || { cat "$TEST_DIR/up"; exit 1; }
grep 'user ' "$TEST_DIR/up" || true
name=$(in_wt git model env exec -- id -un 2>&1 || true)
home=$(in_wt git model env exec -- sh -c 'echo $HOME' 2>&1 || true)
echo "inside: uid $uid is '$name'; HOME=$home"
in_wt git model env exec -- grep -e evil -e "$U" /etc/passwd | sed 's/^/    passwd: /'
in_wt git model env down >/dev/null 2>&1 || true
if [ "$name" = evil ]; then
    echo "FINDING: the image's 'evil:x:0$uid:...' line survives in the generated passwd; uid $uid is 'evil' inside, not $U"
    exit 1
fi
echo OK; exit 0
