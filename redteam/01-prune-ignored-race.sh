#!/usr/bin/env bash
# Issue 14: prune judges a model's worktree (untracked/ignored files), creates the archive tag, then
# runs `git worktree remove` (which deletes ignored files without --force). An ignored file written
# in that window (a training job saving out/ckpt.pt) is deleted without a word and without --force.
# The writer here starts the moment the archive tag appears, i.e. after prune's last look.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-01.XXXXXX); BG=
trap '[ -n "$BG" ] && kill $BG 2>/dev/null; rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
git init -q "$T/repo"; cd "$T/repo"
printf 'out/\n' >.gitignore; echo x >README; git add -A; git commit -qm init
git config model.installHooks never
lost=0
for i in $(seq 1 8); do
    git model start "m$i" >/dev/null
    WT="$T/worktrees/feature/model-m$i"
    git -C "$WT" commit -q --allow-empty -m "work $i"
    git merge -q --no-ff -m "merge m$i" "feature/model-m$i"
    # The "training job": saves a checkpoint the moment prune has tagged the model (after its check).
    ( shopt -s nullglob
      for _ in $(seq 200000); do
          if [ -e "$T/repo/.git/refs/tags/archive/model/m$i" ]; then mkdir -p "$WT/out" && echo weights >"$WT/out/ckpt.pt" && echo written >"$T/w$i"; exit; fi
      done ) & BG=$!
    git model prune --retention 0s >"$T/prune$i.out" 2>&1 || true
    wait $BG || true; BG=
    if [ -e "$T/w$i" ] && [ ! -e "$WT/out/ckpt.pt" ]; then lost=$((lost + 1)); fi
done
if [ $lost -gt 0 ]; then
    echo "FINDING: in $lost of 8 prunes (no --force) a checkpoint written into an ignored folder of the worktree during prune was deleted"
    exit 1
fi
echo OK
