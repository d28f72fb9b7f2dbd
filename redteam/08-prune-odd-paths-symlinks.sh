#!/usr/bin/env bash
# Issue 14: prune with worktrees under a root whose name has spaces, a newline and unicode; a tracked
# symlink in the worktree pointing at a folder outside it (data -> /elsewhere); an untracked symlink
# to a folder; a worktree moved by hand with a symlink left at the old place. Nothing outside the
# worktrees, and nothing untracked, may be deleted.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-08.XXXXXX); trap 'rm -rf "$T"' EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
git init -q "$T/repo"; cd "$T/repo"; echo x >README; git add -A; git commit -qm init
git config model.installHooks never
ROOT="$T/wt root
é 模型"
git config model.worktreeRoot "$ROOT"
OUT="$T/outside"; mkdir -p "$OUT/ds"; echo precious >"$OUT/ds/train.bin"; echo precious2 >"$OUT/other.txt"
found=0
mk() { git model start "$1" >/dev/null; WT="$ROOT/feature/model-$1"; [ -d "$WT" ] || { echo "no worktree at $WT"; exit 2; }; }
mk s1; ln -s "$OUT/ds" "$WT/data"; git -C "$WT" add data; git -C "$WT" commit -qm "data link"
mk s2; ln -s "$OUT" "$WT/scratch"   # untracked link
mk s4; echo "my notes" >"$WT/untracked-notes.txt"
git model list >"$T/list"; if grep -q "missing" "$T/list"; then found=1; echo "FINDING: git model list calls the worktree under a root with a newline 'missing':"; sed 's/^/    /' "$T/list"; fi
mk s3; git -C "$WT" commit -q --allow-empty -m w; mv "$WT" "$T/moved-s3"; ln -s "$T/moved-s3" "$WT"; echo mine >"$T/moved-s3/notes.txt"
for m in s1 s2 s3 s4; do git merge -q --no-ff -m "merge $m" "feature/model-$m"; done
git model prune --retention 0s >"$T/p" 2>&1 || true
sed 's/^/    /' "$T/p"
[ "$(cat "$OUT/ds/train.bin" 2>/dev/null)" = precious ] || { found=1; echo "FINDING: prune deleted $OUT/ds/train.bin through a tracked symlink"; }
[ "$(cat "$OUT/other.txt" 2>/dev/null)" = precious2 ] || { found=1; echo "FINDING: prune deleted $OUT/other.txt through an untracked symlink"; }
[ -e "$T/moved-s3/notes.txt" ] || { found=1; echo "FINDING: prune deleted notes.txt in the worktree moved by hand (old place a symlink)"; }
[ -e "$ROOT/feature/model-s4/untracked-notes.txt" ] || { found=1; echo "FINDING: prune (no --force) deleted an untracked file in the worktree under the odd root"; }
[ $found = 0 ] && echo OK; exit $found
