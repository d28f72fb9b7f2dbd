#!/usr/bin/env bash
# Issue 20: `git model start` (new names, and the name of a model being pruned) while `git model prune`
# works through many models. Afterwards every started model must have its branch and worktree, every
# pruned one neither, and no worktree may stay locked or half-made.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-07.XXXXXX); trap 'rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
git init -q "$T/repo"; cd "$T/repo"; echo x >README; git add -A; git commit -qm init
git config model.installHooks never
for i in $(seq -w 1 20); do
    git model start "p$i" >/dev/null
    git -C "$T/worktrees/feature/model-p$i" commit -q --allow-empty -m "w$i"
    git merge -q --no-ff -m "merge p$i" "feature/model-p$i"
done
git model prune --retention 0s >"$T/prune" 2>&1 & P=$!
pids=()
for n in n1 n2 n3 n4 n5 p15 p20; do sleep 0.05; git model start "$n" >"$T/s-$n" 2>&1 & pids+=($!); done
wait $P || true; for p in "${pids[@]}"; do wait $p || true; done
found=0
for n in n1 n2 n3 n4 n5 p15 p20; do
    if grep -q "^Started" "$T/s-$n"; then
        w="$T/worktrees/feature/model-$n"
        git rev-parse -q --verify "refs/heads/feature/model-$n" >/dev/null || { found=1; echo "FINDING: start $n said Started but its branch is gone"; }
        [ -f "$w/README" ] || { found=1; echo "FINDING: start $n said Started but its worktree $w is missing/empty"; }
    fi
done
locked=$(git worktree list --porcelain | grep -c '^locked' || true)
[ "$locked" = 0 ] || { found=1; echo "FINDING: $locked worktree(s) left locked:"; git worktree list --porcelain | grep -B3 locked; }
for b in $(git for-each-ref --format='%(refname:short)' refs/heads/feature/); do
    git worktree list --porcelain | grep -q "branch refs/heads/$b\$" || { found=1; echo "FINDING: branch $b is left without a worktree"; }
done
grep -h "error\|FAILED" "$T/prune" "$T"/s-* | sed 's/^/  note: /' || true
[ $found = 0 ] && echo OK; exit $found
