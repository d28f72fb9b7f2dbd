#!/usr/bin/env bash
# Finding (older than issue 12; the launch code moved to env/launch.cpp in it): a repository or
# worktree path holding a comma or a newline cannot `env up`: podman splits the values of
# --env-file and --mount at commas (and newlines), so it reads a wrong env file ("parsing env
# file /home/u/com: no such file"); --mount values are comma-separated option lists as well
# (not checked on their own here: the env file fails first).
# Spaces work. Exit 1: a comma or newline path fails. Exit 0: every path works.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v
rt_user "$V" podman
failed=()
for d in 'with space' 'with,comma' $'with\nnewline'; do
    as_user "$V" sh -c 'mkdir -p "$1" && cd "$1" && git init -q r && printf "image: %s\ngpus: 1\n" "$2" >r/.modelenv.yaml &&
        git -C r add -A && git -C r commit -qm e && git -C r config model.installHooks never && git -C r config model.gpus 0 &&
        git -C r model start m >/dev/null' sh "$d" "$RT_IMAGE" || setup_failed "repository in [$d]"
    w="$(user_home "$V")/$d/worktrees/feature/model-m"
    echo "=== repository under [$d]"
    if out=$(as_user "$V" git -C "$w" model env up 2>&1); then
        echo "up: ok, CUDA_VISIBLE_DEVICES=$(as_user "$V" git -C "$w" model env exec -- sh -c 'echo $CUDA_VISIBLE_DEVICES')"
        as_user "$V" git -C "$w" model env down >/dev/null 2>&1
    else
        printf '%s\n' "$out" | head -3
        failed+=("[$d]")
    fi
done
[ ${#failed[@]} -gt 0 ] && reproduced "env up fails for repositories under ${failed[*]}"
held_up "env up works under every path"
