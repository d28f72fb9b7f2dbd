#!/usr/bin/env bash
# Issue 14: a tracked file the user edits locally after `git update-index --skip-worktree` (or
# --assume-unchanged), the usual way to keep a local config out of commits. Does prune (no --force)
# see the edit, or does `git worktree remove` delete it?
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-05.XXXXXX); trap 'rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
git init -q "$T/repo"; cd "$T/repo"
echo "lr: 0.1" >config.yaml; echo x >README; git add -A; git commit -qm init
git config model.installHooks never
found=0
for flag in --skip-worktree --assume-unchanged; do
    m=m${flag//-/}
    git model start "$m" >/dev/null
    W="$T/worktrees/feature/model-$m"
    git -C "$W" commit -q --allow-empty -m work
    git merge -q --no-ff -m "merge $m" "feature/model-$m"
    git -C "$W" update-index $flag config.yaml
    echo "lr: 0.0003  # a week of tuning" >"$W/config.yaml"
    git model prune --retention 0s >"$T/out" 2>&1 || true
    if [ ! -e "$W/config.yaml" ]; then
        found=1; echo "FINDING: prune (no --force) deleted the worktree with a local edit of a $flag file:"; sed 's/^/    /' "$T/out"
    else
        echo "held for $flag: $(grep -m1 keep "$T/out" || true)"
    fi
done
[ $found = 0 ] && echo OK; exit $found
