#!/usr/bin/env bash
# git model list on 1,000 model branches and 50 worktrees: every model listed, right states.
# (Speed is measured by bench/start-list.sh, not here.)
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
base=$(git -C repo rev-parse main)
# 1,000 branches in one go through update-ref, like a team's long history of experiments.
for i in $(seq -w 1 1000); do echo "create refs/heads/feature/model-m$i $base"; done | git -C repo update-ref --stdin
for i in $(seq -w 1 50); do
    git -C repo worktree add -q "$TEST_DIR/worktrees/feature/model-m00$i" "feature/model-m00$i" 2>/dev/null \
        || git -C repo worktree add -q "$TEST_DIR/worktrees/feature/model-m0$i" "feature/model-m0$i"
done
echo dirty >"$TEST_DIR/worktrees/feature/model-m0001/x.txt"
run_expect 0 git -C repo model list --json
summary=$(printf '%s' "$OUT" | python3 -c '
import json, sys
m = json.load(sys.stdin)["models"]
present = sum(1 for x in m if x["worktree_state"] == "present")
dirty = sorted(x["name"] for x in m if x["dirty"])
print(len(m), present, ",".join(dirty))')
assert_eq "$summary" "1000 50 m0001" "1,000 models, 50 worktrees, one dirty"
run_expect 0 git -C repo model list
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "1001" "table has a header and 1,000 rows"
