#!/usr/bin/env bash
# git model tag in a worktree with uncommitted changes: a warning on stderr, Model-Dirty with
# a hash of the changes in the tag, the flag in log/compare/status (text and JSON), and a
# refusal that tags nothing under model.tag.requireClean. A clean worktree records no flag.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model start alpha
wa="$TEST_DIR/worktrees/feature/model-alpha"
commit_at "$wa" "2026-01-01T10:00:00Z" "a1"
printf 'out/\n' >"$wa/.gitignore"
git -C "$wa" add .gitignore && git -C "$wa" commit -q -m "ignore outputs"
mkdir -p "$wa/out" && printf 'weights\n' >"$wa/out/ckpt.pt"   # ignored: never makes a worktree dirty

# --- clean: no warning, no flag ------------------------------------------------------------
run_expect 0 git -C "$wa" model tag --metric acc=0.5 --json
assert_not_contains "$ERR" "uncommitted" "clean worktree: no warning"
assert_eq "$(json_get "$OUT" 'd["dirty"], d["dirty_hash"]')" "False None" "clean: JSON flag"
assert_not_contains "$(git -C repo tag -l --format='%(contents)' model/alpha/v1)" "Model-Dirty" "clean: no trailer"

# --- a tracked modification: warned, tagged, marked ----------------------------------------
printf 'lr = 3e-4\n' >>"$wa/train.py"
run_expect 0 git -C "$wa" model tag --metric acc=0.6
assert_contains "$ERR" "warning: $wa has uncommitted changes: model/alpha/v2 records commit" "warning text"
assert_contains "$ERR" "model.tag.requireClean" "the warning names the setting"
assert_contains "$OUT" "Dirty: uncommitted changes (hash " "text output says so"
hash_modified=$(git -C repo tag -l --format='%(contents:trailers:key=Model-Dirty,valueonly)' model/alpha/v2 | head -1)
[ -n "$hash_modified" ] || fail "no Model-Dirty trailer in model/alpha/v2"
# the same state hashes the same; another state (staged, untracked) differently
run_expect 0 git -C "$wa" model tag --metric acc=0.6 --json --no-push
assert_eq "$(json_get "$OUT" 'd["dirty"]')" "True" "JSON flag"
assert_eq "$(json_get "$OUT" 'd["dirty_hash"]')" "$hash_modified" "same state, same hash"
git -C "$wa" add train.py                                       # staged only: still uncommitted
run_expect 0 git -C "$wa" model tag --metric acc=0.6 --json
assert_eq "$(json_get "$OUT" 'd["dirty_hash"]')" "$hash_modified" "staging the same content keeps the hash"
assert_contains "$ERR" "has uncommitted changes" "staged changes warn"
git -C "$wa" commit -q -m "lr"
printf 'notes\n' >"$wa/notes.txt"                              # an untracked, not ignored file
run_expect 0 git -C "$wa" model tag --metric acc=0.7 --json
assert_contains "$ERR" "has uncommitted changes" "untracked file warns"
hash_untracked=$(json_get "$OUT" 'd["dirty_hash"]')
[ "$hash_untracked" != "$hash_modified" ] || fail "different states got the same hash"
printf 'more\n' >>"$wa/notes.txt"
run_expect 0 git -C "$wa" model tag --metric acc=0.7 --json
[ "$(json_get "$OUT" 'd["dirty_hash"]')" != "$hash_untracked" ] || fail "changed content, same hash"
# tagging an older commit with --commit: the worktree's changes are not what it holds anyway
run_expect 0 git -C "$wa" model tag --metric acc=0.1 --commit HEAD~1 --json
assert_eq "$(json_get "$OUT" 'd["dirty"]')" "False" "--commit of an older commit is not marked"
assert_not_contains "$ERR" "uncommitted" "--commit of an older commit: no warning"

# --- log, compare, status show the flag ------------------------------------------------------
run_expect 0 git -C "$wa" model log
assert_contains "$OUT" "v2 (dirty)" "log text"
assert_not_contains "$(grep '^v1 ' <<<"$OUT")" "dirty" "clean snapshot unmarked in log"
run_expect 0 git -C "$wa" model log --json
assert_eq "$(json_get "$OUT" '[s["dirty"] for s in d["snapshots"]]')" "[False, True, True, True, True, True, False]" "log JSON"
run_expect 0 git -C "$wa" model compare v1 v2
assert_contains "$OUT" "model/alpha/v2 (" "compare header"
assert_contains "$OUT" ", dirty)" "compare header marks the dirty side"
assert_contains "$OUT" "Dirty: model/alpha/v2 was tagged with uncommitted changes" "compare says so"
assert_not_contains "$OUT" "Dirty: model/alpha/v1" "the clean side is not marked"
run_expect 0 git -C "$wa" model compare v1 v2 --json
assert_eq "$(json_get "$OUT" 'd["a"]["dirty"], d["b"]["dirty"], d["b"]["dirty_hash"] is not None')" \
    "False True True" "compare JSON"

# --- model.tag.requireClean: refused, nothing tagged ----------------------------------------
git -C repo config model.tag.requireClean true
before=$(git -C repo tag -l 'model/alpha/*' | sort)
run_expect 1 git -C "$wa" model tag --metric acc=0.8
assert_contains "$ERR" "error: model 'alpha' has uncommitted changes in $wa, and model.tag.requireClean is true"
assert_contains "$ERR" "commit them" "the refusal says what to do"
assert_eq "$(git -C repo tag -l 'model/alpha/*' | sort)" "$before" "nothing tagged"
run_expect 1 git -C repo model tag alpha --metric acc=0.8           # from the main worktree, naming the model
assert_eq "$(git -C repo tag -l 'model/alpha/*' | sort)" "$before" "nothing tagged from elsewhere either"
git -C repo config model.tag.requireClean maybe
run_expect 1 git -C "$wa" model tag --metric acc=0.8
assert_contains "$ERR" "model.tag.requireClean 'maybe' is not true or false"
git -C repo config model.tag.requireClean true
git -C "$wa" add notes.txt && git -C "$wa" commit -q -m "notes"
run_expect 0 git -C "$wa" model tag --metric acc=0.8 --json     # clean now: allowed, unmarked
assert_eq "$(json_get "$OUT" 'd["dirty"]')" "False" "clean under requireClean"
assert_not_contains "$ERR" "uncommitted" "no warning once clean"

# --- one reader of model.*, errors per key: another command's malformed key does not stop tag -------
git -C "$wa" commit -q --allow-empty -m "more"
run_expect 0 git -C "$wa" -c model.prune.retention=fortnight -c model.finish.merge=sometimes -c model.forge=svn \
    model tag --metric acc=0.85
assert_not_contains "$ERR" "fortnight" "tag does not read prune's retention"
run_expect 1 git -C "$wa" -c model.prune.retention=fortnight model prune --dry-run
assert_contains "$ERR" "model.prune.retention 'fortnight' is not a duration" "prune still names its own bad key"
run_expect 1 git -C "$wa" -c model.finish.merge=sometimes model finish --merge
assert_contains "$ERR" "model.finish.merge 'sometimes' is not allow or deny" "finish names its own bad key"
run_expect 0 git -C repo -c model.prune.retention=fortnight model start beta
