#!/usr/bin/env bash
# Finding: the machine's fair-share limits (model.maxGpusPerUser, model.maxLeaseHours) are read
# from the file GIT_CONFIG_SYSTEM names whenever root owns it and only root can write it. Any
# user can point it at one of the many root-owned files that hold no such key, e.g. git's own
# /usr/share/git-core/templates/info/exclude (comments only, a valid config), and the limits
# vanish: git-model-env(1) says "a user cannot lift them".
# /etc/gitconfig is not changed: a copy with the limit is bind-mounted over it in a private
# mount namespace of this script only.
# Exit 1: a second GPU is taken over the limit of 1. Exit 0: refused.
[ -n "${RT_IN_NS:-}" ] || RT_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
RT_POOL=0,1
. "$(dirname "$0")/rt-lib.sh"
{ cat /etc/gitconfig 2>/dev/null; printf '[model]\n\tmaxGpusPerUser = 1\n'; } >"$RT_DIR/gitconfig"
chmod 644 "$RT_DIR/gitconfig"
[ -f /etc/gitconfig ] || setup_failed "no /etc/gitconfig to bind-mount over (this script never creates one)"
mount --bind "$RT_DIR/gitconfig" /etc/gitconfig || setup_failed "bind mount over /etc/gitconfig"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v
rt_user "$V" podman
rt_repo "$V" m1 m2
decoy=/usr/share/git-core/templates/info/exclude
[ -f "$decoy" ] && [ "$(stat -c %u "$decoy")" = 0 ] || { decoy="$RT_DIR/any-root-file"; : >"$decoy"; chmod 644 "$decoy"; }
as_user "$V" git -C "$(wt "$V" m1)" model env up >/dev/null || setup_failed "first up"
echo "--- second up, honest"
if as_user "$V" git -C "$(wt "$V" m2)" model env up; then setup_failed "the limit of /etc/gitconfig did not apply"; fi
echo "--- second up, GIT_CONFIG_SYSTEM=$decoy ($(stat -c '%U %a' "$decoy"))"
RT_ENV=("GIT_CONFIG_SYSTEM=$decoy")
if as_user "$V" git -C "$(wt "$V" m2)" model env up; then
    as_user "$V" git -C repo model gpus | head -4
    reproduced "GIT_CONFIG_SYSTEM=$decoy lifted model.maxGpusPerUser=1: $V holds 2 GPUs"
fi
held_up "the limit held"
