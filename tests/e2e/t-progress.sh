#!/usr/bin/env bash
# Progress on long work, as git shows it: on a terminal only (run here under a pseudo-terminal
# with script(1)), never when standard error is piped, and never with --quiet. Sweep creation
# counts its runs ("run 3/5"), prune counts the models it prunes ("model 2/3").
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || { echo "SKIP: script(1) is not installed"; exit 125; }

# on_terminal CMD...: runs CMD with stdin, stdout and stderr on a pseudo-terminal; $OUT gets all it wrote.
on_terminal() {
    local expected=$1 quoted="" word
    shift
    for word in "$@"; do quoted+=" $(printf '%q' "$word")"; done
    run_expect 0 script -q -e -c "${quoted# }; echo \"[exit \$?]\"" /dev/null
    assert_contains "$OUT" "[exit $expected]" "exit code under a terminal: $*"
}

cd "$TEST_DIR"
make_remote_pair repo
git -C repo config model.installHooks never
printf 'image: registry.example.com/team/pytorch:2.4.0\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml
git -C repo commit -q -m environment
git -C repo push -q origin main
run_expect 0 git -C repo model start net
WT="$TEST_DIR/worktrees/feature/model-net"

# --- sweep creation -------------------------------------------------------------------------------
on_terminal 0 git -C "$WT" model sweep start --export k8s --grid lr=1,2,3,4,5 -- true
assert_contains "$OUT" "Creating runs: run 1/5 (lr=1)" "first run"
assert_contains "$OUT" "Creating runs: run 3/5 (lr=3)" "a run in the middle"
assert_contains "$OUT" "Creating runs: run 5/5, done." "the end"
assert_contains "$OUT" "Sweep 1 of model net: 5 runs, written as a Kubernetes Indexed Job" "the result as before"
# piped: stdout and stderr are files, nothing of the progress line
run_expect 0 git -C "$WT" model sweep start --export k8s --grid lr=1,2,3 -- true
assert_not_contains "$ERR" "Creating runs" "piped: no progress on stderr"
assert_not_contains "$OUT" "Creating runs" "piped: no progress on stdout"
assert_contains "$OUT" "Sweep 2 of model net: 3 runs" "piped: the result"
# --quiet on a terminal: none either
on_terminal 0 git -C "$WT" model sweep start --quiet --export k8s --grid lr=1,2 -- true
assert_not_contains "$OUT" "Creating runs" "--quiet: no progress"
assert_contains "$OUT" "Sweep 3 of model net: 2 runs" "--quiet: the result"
# one run: "1 run", never "1 runs"
run_expect 0 git -C "$WT" model sweep start --export k8s --grid lr=1 -- true
assert_contains "$OUT" "Sweep 4 of model net: 1 run, written" "singular"

# --- prune ----------------------------------------------------------------------------------------
for m in a b c; do
    run_expect 0 git -C repo model start "$m"
    commit_at "$TEST_DIR/worktrees/feature/model-$m" "2026-01-10T10:00:00Z" "$m work" "$m.txt"
    git -C repo merge -q --no-ff -m "Merge $m" "feature/model-$m"
done
git -C repo push -q origin main
on_terminal 0 git -C repo model prune --retention 0 --dry-run
assert_not_contains "$OUT" "Pruning: model" "a dry run prunes nothing, counts nothing"
on_terminal 0 git -C repo model prune --retention 0
assert_contains "$OUT" "Pruning: model 1/3 (a)" "first model"
assert_contains "$OUT" "Pruning: model 2/3 (b)" "second model"
assert_contains "$OUT" "Pruning: model 3/3, done." "the end"
assert_contains "$OUT" "b: deleted the branch feature/model-b" "what was done, on lines of their own"
assert_contains "$OUT" "Summary: 3 pruned" "the summary as before"
for m in d e; do
    run_expect 0 git -C repo model start "$m"
    commit_at "$TEST_DIR/worktrees/feature/model-$m" "2026-01-10T10:00:00Z" "$m work" "$m.txt"
    git -C repo merge -q --no-ff -m "Merge $m" "feature/model-$m"
done
git -C repo push -q origin main
run_expect 0 git -C repo model prune --retention 0
assert_not_contains "$ERR" "Pruning: model" "piped: no progress"
assert_not_contains "$ERR" "deleted the branch" "piped: the live lines stay off too"
assert_contains "$OUT" "Summary: 2 pruned" "piped: the summary"
run_expect 0 git -C repo model start f
commit_at "$TEST_DIR/worktrees/feature/model-f" "2026-01-10T10:00:00Z" "f work" "f.txt"
git -C repo merge -q --no-ff -m "Merge f" "feature/model-f"
git -C repo push -q origin main
on_terminal 0 git -C repo model prune --retention 0 -q
assert_not_contains "$OUT" "Pruning: model" "-q: no progress"
assert_contains "$OUT" "Summary: 1 pruned" "-q: the summary"
