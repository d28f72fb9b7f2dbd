#!/usr/bin/env bash
# Issue 14: a `git model start` killed -9 while git checks out leaves a half-made worktree; the next
# start rolls it back. A file the user put there meanwhile (untracked, or ignored) must survive.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-02.XXXXXX); trap 'rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
git init -q "$T/repo"; cd "$T/repo"
mkdir d; for i in $(seq 3000); do echo $i >d/f$i; done
dd if=/dev/urandom of=big bs=1M count=150 2>/dev/null
printf '*.pt\n' >.gitignore
git add -A; git commit -qm init; git config model.installHooks never
found=0 tried=0
for kind in untracked ignored; do
  for delay in 0.1 0.2 0.35; do
    m="k-$kind-${delay/./}"
    W="$T/worktrees/feature/model-$m"
    git-model start "$m" >/dev/null 2>&1 & p=$!
    sleep "$delay"; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
    # wait for the orphaned `git worktree add` to finish
    for _ in $(seq 100); do [ -e "$T/repo/.git/worktrees/model-$m/index.lock" ] || break; sleep 0.1; done
    [ -d "$W" ] || continue
    git worktree list --porcelain | grep -q "being created" || continue  # start got past its lock: not half-made
    tried=$((tried + 1))
    if [ $kind = untracked ]; then f="$W/notes.txt"; else f="$W/mine.pt"; fi
    echo "user work" >"$f"
    git-model start "other-$m" >"$T/out" 2>&1 || true
    if [ ! -e "$f" ]; then
        found=1; echo "FINDING: the rollback of a killed start deleted the user's $kind file $f:"; sed 's/^/    /' "$T/out"
    fi
  done
done
[ $tried -gt 0 ] || { echo "SKIP: never caught start half-way"; exit 0; }
[ $found = 0 ] && echo "OK ($tried half-made worktrees judged)"
exit $found
