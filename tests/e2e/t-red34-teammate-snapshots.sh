#!/usr/bin/env bash
# Red team (s34b), snapshot tags a teammate pushed by hand and the victim's everyday commands:
#   - terminal control sequences in the message, Model-Image, Model-Dirty and commit subjects
#     reached the terminal raw through log, best, compare and status: now shown escaped;
#   - a tag of 200,000 Metric lines made every log/best/compare/status take minutes (the
#     reader compared each metric with every other): a snapshot now records 1,000 at most, a
#     tag with more is skipped with a warning, and lookups go by name;
#   - a tag numbered v999999999 stopped every later `tag` with "run out of snapshot numbers",
#     naming nothing: the error now names the tag and how to delete it.
# And list prints a worktree path holding a newline or an escape escaped, on one line.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q --bare remote.git
git clone -q remote.git victim 2>/dev/null
cd victim
echo hi >README && git add README && git commit -qm init && git push -q origin main 2>/dev/null
git config model.installHooks never
run_expect 0 git model start x
wt="$TEST_DIR/worktrees/feature/model-x"
cd "$wt"
echo a >a && git add a && git commit -qm a
run_expect 0 git model tag --metric acc=0.5
commit=$(git rev-parse HEAD)
git push -q -u origin feature/model-x 2>/dev/null

# The teammate's clone: hand-made annotated tags, pushed.
git clone -q "$TEST_DIR/remote.git" "$TEST_DIR/mate" 2>/dev/null
push_tag() {  # NAME MESSAGE-FILE
    local id
    id=$( (printf 'object %s\ntype commit\ntag %s\ntagger Mate <m@x> 1700000000 +0000\n\n' "$commit" "$1"; cat "$2") |
        git -C "$TEST_DIR/mate" hash-object -t tag -w --stdin)
    git -C "$TEST_DIR/mate" update-ref "refs/tags/$1" "$id"
    git -C "$TEST_DIR/mate" push -q origin "refs/tags/$1" 2>/dev/null
}
printf 'Snapshot v2 of model x\e]0;PWNED\a\e[2K\r\e[31mfake line\e[0m\n\nModel-Snapshot: 1\nModel: x\nModel-Version: 2\nModel-Image: evil\e[5m/img:1\nModel-Dirty: \e[32mdd\nMetric: acc=0.99\n' >"$TEST_DIR/v2"
push_tag model/x/v2 "$TEST_DIR/v2"
{ printf 'Snapshot v3 of model x\n\nModel-Snapshot: 1\nModel: x\nModel-Version: 3\nModel-Image: none\n'
  python3 -c 'import sys; sys.stdout.write("".join("Metric: m%d=1\n" % i for i in range(200000)))'; } >"$TEST_DIR/v3"
push_tag model/x/v3 "$TEST_DIR/v3"
git fetch -q origin --tags

no_controls() {  # WHAT: $OUT and $ERR hold no escape, carriage return or bell
    CHECKS=$((CHECKS + 1))
    if printf '%s%s' "$OUT" "$ERR" | grep -q $'[\e\r\a]'; then fail "raw control characters in the output of $1"; fi
}
run_expect 0 git model log x
no_controls "log"
assert_contains "$OUT" 'Snapshot v2 of model x\x1b]0;PWNED\x07\x1b[2K\r\x1b[31mfake line\x1b[0m' "the subject, escaped"
assert_contains "$OUT" 'evil\x1b[5m/img:1' "the image, escaped"
assert_contains "$ERR" "model/x/v3" "the tag with too many metrics is named"
assert_contains "$ERR" "more than 1000 metrics"
assert_not_contains "$OUT" "m199999" "and not read"
run_expect 0 git model best x --metric acc
no_controls "best"
assert_contains "$OUT" "model/x/v2"
run_expect 0 git model compare model/x/v1 model/x/v2
no_controls "compare"
assert_contains "$OUT" 'Image: changed: (none) -> evil\x1b[5m/img:1'
assert_contains "$OUT" 'hash \x1b[32mdd)'
run_expect 0 git model status
no_controls "status"

# A commit subject with escapes, between two snapshots: compare lists it escaped.
git commit -q --allow-empty -m $'subject \e[31mred\e[0m'
run_expect 0 git model tag --metric acc=0.6
run_expect 0 git model compare model/x/v1 model/x/v4
no_controls "compare's commit list"
assert_contains "$OUT" 'subject \x1b[31mred\x1b[0m'

# A teammate's v999999999: tag stops, naming the tag and the way out; nothing is made.
printf 'oops\n\nModel-Snapshot: 1\nModel: x\nModel-Version: 999999999\nModel-Image: none\n' >"$TEST_DIR/vmax"
push_tag model/x/v999999999 "$TEST_DIR/vmax"
git commit -q --allow-empty -m more
before=$(git tag -l 'model/x/*' | sort)
run_expect 1 git model tag --metric acc=0.7
assert_contains "$ERR" "model 'x' has run out of snapshot numbers: model/x/v999999999 holds the largest one"
assert_contains "$ERR" "git push <remote> --delete refs/tags/model/x/v999999999"
assert_eq "$(git tag -l 'model/x/*' | sort)" "$before" "no tag made"

# A worktree moved to a path holding a newline and an escape: list's row stays one line, escaped.
cd "$TEST_DIR/victim"
git worktree move "$wt" "$TEST_DIR/odd"$'\n'$'\e[31m'"place"
run_expect 0 git model list
no_controls "list"
assert_contains "$OUT" "$TEST_DIR/odd\\n\\x1b[31mplace"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "2" "a header and x: one line each"
