#!/usr/bin/env bash
# git model doctor: every check, its verdict and its fix, on a real repository. The container
# engine and git-model-bench are stand-ins here, so that each verdict can be forced (the
# installed programs are copied beside a fake git-model-bench); the real ones run once at the end.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
# An installation of our own: the real git-model and git-model-env, a scripted git-model-bench.
mkdir -p suite/bin fakes
cp "$GM_STAGE/bin/git-model" "$GM_STAGE/bin/git-model-env" suite/bin/
ln -s "$GM_STAGE/share" suite/share
cat >suite/bin/git-model-bench <<'BENCH'
#!/bin/sh
# FAKE_BENCH: pass, nogpu or fail
case "${FAKE_BENCH:-nogpu}" in
pass) echo '{"verdict": "pass", "devices": [{"index": 0, "name": "Fake GPU 80GB"}], "error": null}'; exit 0 ;;
nogpu) echo '{"verdict": "no_gpu", "devices": [], "error": {"message": "no NVIDIA driver (fake)"}}'; exit 3 ;;
fail) echo '{"verdict": "fail", "devices": [], "error": {"message": "GPU 0: triad result wrong (fake)"}}'; exit 1 ;;
esac
BENCH
cat >fakes/podman <<'PODMAN'
#!/bin/sh
# FAKE_PODMAN: ok or broken
[ "$1" = info ] || exit 0
[ "${FAKE_PODMAN:-ok}" = ok ] && { echo "host: fake"; exit 0; }
echo "Error: cannot re-exec process: fake namespace trouble" >&2
exit 125
PODMAN
chmod +x suite/bin/git-model-bench fakes/podman
export PATH="$TEST_DIR/suite/bin:$TEST_DIR/fakes:$PATH"
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"

# line NAME: the report's line for one check
line() { printf '%s\n' "$OUT" | grep -E "^[a-zA-Z]+ +$1 " || true; }
fix_of() { printf '%s\n' "$OUT" | grep -A1 -E "^[a-zA-Z]+ +$1 " | sed -n 's/^ *fix: //p'; }

make_repo repo
cd repo

# A fresh clone: no hooks, no identity, no .modelenv.yaml: exit 1, each problem with its fix.
run_expect 1 git model doctor
assert_contains "$(line git)" "ok    git        git version"
assert_contains "$(line programs)" "ok"
assert_contains "$(line programs)" "$TEST_DIR/suite/bin"
assert_contains "$(line hooks)" "FAIL"
assert_contains "$(line hooks)" "pre-commit missing, pre-push missing"
assert_eq "$(fix_of hooks)" "git model hooks install"
assert_contains "$(line modelenv)" "WARN"
assert_contains "$(line engine)" "ok    engine     podman works"
assert_contains "$(line gpus)" "WARN"
assert_contains "$(line gpus)" "no NVIDIA driver (fake)"
assert_contains "$(line config)" "FAIL"
assert_contains "$(line config)" "user.name unset"
assert_contains "$(fix_of config)" 'git config --global user.name "Your Name"'
assert_contains "$OUT" "2 problems, 2 warnings."
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" "$(printf '%s\n' "$OUT" | head -n 24 | wc -l)" "fits one screen"

# Run the fixes doctor printed: all in order, exit 0 (no GPU here is only a warning).
eval "$(fix_of hooks)" >/dev/null
git config --global user.name "Ana"
git config --global user.email "ana@example.com"
printf 'image: localhost/team/torch:2.3\ngpus: 1\n' >.modelenv.yaml
run_expect 0 git model doctor
assert_contains "$(line hooks)" "ok    hooks      pre-commit, pre-push installed in"
assert_contains "$(line modelenv)" "valid: image localhost/team/torch:2.3, 1 GPU"
assert_contains "$(line config)" "user Ana <ana@example.com>, base main"
assert_not_contains "$OUT" "FAIL"

# A passing GPU check names the GPUs; a failing one fails doctor.
run_expect 0 env FAKE_BENCH=pass git model doctor
assert_contains "$(line gpus)" "ok    gpus       0: Fake GPU 80GB"
run_expect 1 env FAKE_BENCH=fail git model doctor
assert_contains "$(line gpus)" "FAIL"
assert_contains "$(line gpus)" "triad result wrong"
assert_contains "$(fix_of gpus)" "git model bench"
run_expect 0 git model doctor --no-bench
assert_contains "$(line gpus)" "skip"

# A broken engine, a broken .modelenv.yaml, a foreign hook, bad config values.
run_expect 1 env FAKE_PODMAN=broken git model doctor --no-bench
assert_contains "$(line engine)" "fake namespace trouble"
printf 'image: localhost/team/torch:2.3\ngpus: many\n' >.modelenv.yaml
run_expect 1 git model doctor --no-bench
assert_contains "$(line modelenv)" ".modelenv.yaml:2:7:"
assert_contains "$(fix_of modelenv)" "git model env check"
printf 'image: localhost/team/torch:2.3\n' >.modelenv.yaml
git model hooks uninstall >/dev/null
printf '#!/bin/sh\necho mine\n' >.git/hooks/pre-commit
chmod +x .git/hooks/pre-commit
run_expect 1 git model doctor --no-bench
assert_contains "$(line hooks)" "pre-commit is somebody else's"
assert_contains "$(fix_of hooks)" "git model hooks install --chain"
eval "$(fix_of hooks | sed 's/ *(.*//')" >/dev/null
git config model.engine lxc
git config model.bench.timeout soon
run_expect 1 git model doctor --no-bench
assert_contains "$(line config)" "model.engine is 'lxc'"
assert_contains "$(line config)" "model.bench.timeout is 'soon'"
git config --unset model.engine
git config --unset model.bench.timeout

# The pool: free GPUs and who holds the others (a configured pool where there is no driver).
if [ ! -e /proc/driver/nvidia/version ]; then
    git config model.gpus 0,1
    mkdir -p "$GIT_MODEL_LEASE_DIR"
    # Leases held by this test's shell (alive while it runs), written as git-model writes them.
    python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$GIT_MODEL_LEASE_DIR" index-0 0 bert --pid $$ --user ana >/dev/null
    run_expect 0 git model doctor --no-bench
    assert_contains "$(line pool)" "1 of 2 GPUs free (1); held: 0: bert ($(id -un))"  # the holder is the lease file's owner
    python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$GIT_MODEL_LEASE_DIR" index-1 1 gpt --pid $$ --user bo >/dev/null
    run_expect 0 git model doctor --no-bench
    assert_contains "$(line pool)" "WARN  pool       0 of 2 GPUs free"
    assert_contains "$(fix_of pool)" "git model env down"
    git config --unset model.gpus
fi

# --json: the same checks, the same exit code.
run_expect 0 git model doctor --json --no-bench
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == 1 and d["ok"] is True, d
names = [c["name"] for c in d["checks"]]
assert names == ["git", "programs", "hooks", "team", "modelenv", "engine", "gpus", "pool", "config", "fetch", "ownership"], names
assert all(c["status"] in ("ok", "warn", "fail", "skip") for c in d["checks"])
assert all(set(c) == {"name", "status", "detail", "fix"} for c in d["checks"])
' || fail "doctor --json"
CHECKS=$((CHECKS + 1))
rm .git/hooks/pre-push
run_expect 1 git model doctor --json --no-bench
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
hooks = [c for c in d["checks"] if c["name"] == "hooks"][0]
assert d["ok"] is False and hooks["status"] == "fail" and hooks["fix"] == "git model hooks install", d
' || fail "doctor --json after removing a hook"
CHECKS=$((CHECKS + 1))

# fetch: with a remote, git fetch must bring teammates' snapshot tags and finish notes.
run_expect 1 git model doctor --no-bench                  # (the pre-push hook is still missing)
assert_contains "$(line fetch)" "skip  fetch      no remote 'origin'"
git init -q --bare "$TEST_DIR/team.git"
git remote add origin "$TEST_DIR/team.git"
run_expect 1 git model doctor --no-bench                  # (the hook is still missing)
assert_contains "$(line fetch)" "WARN  fetch      git fetch origin does not bring every tag"
assert_contains "$(line fetch)" "or the finish notes"
assert_contains "$(fix_of fetch)" "git model hooks install   (or: git config remote.origin.tagOpt --tags; git config --add remote.origin.fetch '+refs/notes/git-model*:refs/notes/remotes/origin/git-model*')"
git config model.tag.push maybe
run_expect 1 git model doctor --no-bench
assert_contains "$(line config)" "model.tag.push is 'maybe' (expected true or false)"
git config --unset model.tag.push
eval "$(fix_of fetch | sed 's/ *(.*//')" >/dev/null
run_expect 0 git model doctor --no-bench
assert_contains "$(line fetch)" "ok    fetch      git fetch origin brings teammates' snapshot tags and finish notes"
assert_eq "$(git config remote.origin.tagOpt)" "--tags" "hooks install set tag fetching"
assert_eq "$(git config --get-all remote.origin.fetch | tail -1)" "+refs/notes/git-model*:refs/notes/remotes/origin/git-model*" "and the notes refspec"
run_expect 0 git model hooks install                        # a second time adds nothing
assert_eq "$(git config --get-all remote.origin.fetch | grep -c notes)" "1" "the notes refspec once"
# The remote has no finish notes yet (no finish so far): git fetch and git pull still work.
run_expect 0 git fetch origin
# An exact refspec, as git-model wrote before: git fetch fails on it; doctor says so, and
# hooks install replaces it with the pattern.
git config --unset-all remote.origin.fetch 'notes'
git config --add remote.origin.fetch '+refs/notes/git-model:refs/notes/remotes/origin/git-model'
run_expect 128 git fetch origin
run_expect 0 git model doctor --no-bench
assert_contains "$(line fetch)" "WARN  fetch      remote.origin.fetch names refs/notes/git-model exactly: \`git fetch origin\` and \`git pull\` fail while origin has no finish notes"
run_expect 0 git model hooks install
assert_contains "$OUT" "fetch: git fetch origin no longer fails while it has no finish notes"
assert_eq "$(git config --get-all remote.origin.fetch | grep notes)" "+refs/notes/git-model*:refs/notes/remotes/origin/git-model*" "the pattern replaced the exact refspec"
run_expect 0 git fetch origin
run_expect 0 git model doctor --no-bench
# (s40h) `git remote rename origin upstream` leaves the notes refspec storing them under origin's name,
# where git model does not read them (upstream is the team's remote now): doctor warns, hooks install fixes
git remote rename origin upstream 2>/dev/null
run_expect 0 git model doctor --no-bench
assert_contains "$(line fetch)" "WARN  fetch      git fetch upstream does not bring the finish notes"
run_expect 0 git model hooks install
assert_contains "$OUT" "fetch: git fetch upstream now stores the finish notes in refs/notes/remotes/upstream/git-model"
assert_eq "$(git config --get-all remote.upstream.fetch | grep notes)" "+refs/notes/git-model*:refs/notes/remotes/upstream/git-model*" "the refspec names upstream"
run_expect 0 git model doctor --no-bench
assert_contains "$(line fetch)" "ok    fetch      git fetch upstream brings teammates' snapshot tags and finish notes"
git remote remove upstream

# The suite not on PATH: which program, and the PATH line that fixes it.
run_expect 1 env PATH="/usr/bin:/bin:$TEST_DIR/fakes" "$TEST_DIR/suite/bin/git-model" doctor --no-bench
assert_contains "$(line programs)" "not on PATH: git-model, git-model-env, git-model-bench"
assert_contains "$(fix_of programs)" "export PATH=$TEST_DIR/suite/bin:\"\$PATH\""

# Outside a repository the repository's checks are skipped.
mkdir -p "$TEST_DIR/outside"
cd "$TEST_DIR/outside"
run_expect 0 env GIT_CEILING_DIRECTORIES="$TEST_DIR" git model doctor --no-bench
assert_contains "$(line hooks)" "skip  hooks      not inside a git repository"

# The real installation, real engine and real git-model-bench: runs, answers, never crashes.
cd "$TEST_DIR/repo"
rc=0
env PATH="$GM_STAGE/bin:${PATH#*fakes:}" git model doctor --json >"$TEST_DIR/real.json" 2>"$TEST_DIR/real.err" || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || fail "real doctor exited $rc: $(cat "$TEST_DIR/real.err")"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TEST_DIR/real.json" || fail "real doctor's JSON"
CHECKS=$((CHECKS + 2))
