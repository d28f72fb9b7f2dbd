#!/usr/bin/env bash
# git model hooks install/uninstall/status: the folder git really uses, never
# overwriting a foreign hook nor a shim its user changed, --chain/--force/--manual, Git LFS chained, upgrades,
# and a shim whose suite is gone.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
hooks=repo/.git/hooks

# --- install into the common dir's hooks/, also when run from a linked worktree ------
run_expect 0 git -C repo model start alpha
run_expect 0 git -C "$TEST_DIR/worktrees/feature/model-alpha" model hooks install
assert_contains "$OUT" "pre-push: installed $TEST_DIR/repo/.git/hooks/pre-push"
CHECKS=$((CHECKS + 1)); [ -x "$hooks/pre-push" ] && [ -x "$hooks/pre-commit" ] || fail "hooks not executable"
assert_contains "$(cat "$hooks/pre-push")" "git-model-shim: 1"
assert_no_path "$TEST_DIR/repo/.git/worktrees/model-alpha/hooks"
run_expect 0 git -C repo model hooks status
assert_contains "$OUT" "pre-push    installed"
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "already installed"
run_expect 0 git -C repo model hooks status --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((h["name"], h["state"]) for h in d["hooks"]))')" \
    "[('pre-commit', 'installed'), ('pre-push', 'installed')]" "status JSON"

# --- an older shim of ours is upgraded (by a suite that ships version 2) ------------------
cp -r "$GM_STAGE/share/git-model/hooks" "$TEST_DIR/newer-hooks"
sed -i 's/^# git-model-shim: 1$/# git-model-shim: 2/' "$TEST_DIR/newer-hooks/pre-push" "$TEST_DIR/newer-hooks/pre-commit"
run_expect 0 env GIT_MODEL_HOOKS_DIR="$TEST_DIR/newer-hooks" git -C repo model hooks status
assert_contains "$OUT" "pre-push    outdated"
run_expect 0 env GIT_MODEL_HOOKS_DIR="$TEST_DIR/newer-hooks" git -C repo model hooks install
assert_contains "$OUT" "pre-push: upgraded from shim version 1"
assert_eq "$(cat "$hooks/pre-push")" "$(cat "$TEST_DIR/newer-hooks/pre-push")" "upgraded shim"
cp "$GM_STAGE/share/git-model/hooks/pre-push" "$GM_STAGE/share/git-model/hooks/pre-commit" "$hooks/"

# --- a shim its user changed (a lint line added) is never rewritten nor removed without --force -------
sed -i 's/^if command -v git-model/echo "my lint ran" >>"$HOME\/lint.log"\nif command -v git-model/' "$hooks/pre-push"
edited=$(cat "$hooks/pre-push")
assert_contains "$edited" "my lint ran" "the user's line is in the shim"
run_expect 0 git -C repo model hooks status
assert_contains "$OUT" "pre-push    edited (git-model's, changed since it was installed: kept"
run_expect 1 git -C repo model doctor
assert_contains "$OUT" "pre-push changed since it was installed"
run_expect 1 git -C repo model hooks install
assert_contains "$ERR" "(git-model's, changed since it was installed)"
assert_contains "$ERR" "my lint ran" "the changed hook is shown"
run_expect 1 git -C repo model hooks install --chain
assert_contains "$ERR" "it would run git-model's checks twice"
run_expect 0 git -C repo model hooks uninstall
assert_contains "$OUT" "pre-push: git-model's, but changed since it was installed: left alone"
assert_eq "$(cat "$hooks/pre-push")" "$edited" "the changed shim kept by install, --chain and uninstall"
run_expect 0 git -C repo model hooks install --force
assert_eq "$(cat "$hooks/pre-push.git-model-backup")" "$edited" "--force keeps the changed shim as a backup"
assert_eq "$(cat "$hooks/pre-push")" "$(cat "$GM_STAGE/share/git-model/hooks/pre-push")" "--force installs the shim"
rm "$hooks/pre-push.git-model-backup"
# a link to the shipped shim is installed as it is; a link to a changed copy is the user's
ln -sf "$GM_STAGE/share/git-model/hooks/pre-push" "$hooks/pre-push"
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "pre-push: already installed"
printf '%s\n' "$edited" >"$TEST_DIR/my-pre-push"
ln -sf "$TEST_DIR/my-pre-push" "$hooks/pre-push"
run_expect 1 git -C repo model hooks install
assert_contains "$ERR" "changed since it was installed, a link"
CHECKS=$((CHECKS + 1)); [ -L "$hooks/pre-push" ] || fail "the user's link was replaced"
cp --remove-destination "$GM_STAGE/share/git-model/hooks/pre-push" "$hooks/pre-push"

# --- the shim without its x bit: git skips it, so status and doctor say so, and install fixes it ----
chmod -x "$hooks/pre-push"
run_expect 0 git -C repo model hooks status
assert_contains "$OUT" "pre-push    outdated (not executable, so git skips it: run \`git model hooks install\`)"
run_expect 1 git -C repo model doctor
assert_contains "$OUT" "pre-push not executable (git skips it)"
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "pre-push: rewritten, executable again (git skipped it)"
CHECKS=$((CHECKS + 1)); [ -x "$hooks/pre-push" ] || fail "the shim is still not executable"

# --- uninstall removes only ours ----------------------------------------------------------
run_expect 0 git -C repo model hooks uninstall
assert_no_path "$hooks/pre-push"
assert_no_path "$hooks/pre-commit"
assert_contains "$(ls "$hooks")" "pre-push.sample" "git's samples untouched"

# --- a foreign hook: refused, shown, nothing changed ------------------------------------
printf '#!/bin/sh\n# team linter\necho "foreign pre-push ran: $*" >>"$HOME/foreign.log"\ncat >>"$HOME/foreign.log"\nexit 0\n' >"$hooks/pre-push"
chmod +x "$hooks/pre-push"
foreign=$(cat "$hooks/pre-push")
run_expect 1 git -C repo model hooks install
assert_contains "$ERR" "did not write"
assert_contains "$ERR" "team linter" "the foreign hook is shown"
assert_contains "$ERR" "--chain"
assert_contains "$ERR" "--force"
assert_contains "$ERR" "--manual"
assert_eq "$(cat "$hooks/pre-push")" "$foreign" "foreign hook untouched"
assert_no_path "$hooks/pre-commit"   # all or nothing: not even the free hook was installed

# --manual prints the lines and changes nothing
run_expect 0 git -C repo model hooks install --manual
assert_contains "$OUT" 'git-model hook pre-push "$@"'
assert_eq "$(cat "$hooks/pre-push")" "$foreign" "--manual changed nothing"
assert_no_path "$hooks/pre-commit"

# --chain keeps it and runs it after ours
run_expect 0 git -C repo model hooks install --chain
assert_contains "$OUT" "now runs after ours"
assert_eq "$(cat "$hooks/pre-push.git-model-chained")" "$foreign" "chained copy"
run_expect 0 git -C repo model hooks status
assert_contains "$OUT" "then runs"
run_expect 0 git -C repo model hooks uninstall
assert_eq "$(cat "$hooks/pre-push")" "$foreign" "uninstall restores the chained hook"
assert_no_path "$hooks/pre-push.git-model-chained"

# --force replaces it and keeps a backup; uninstall puts it back
run_expect 0 git -C repo model hooks install --force
assert_contains "$OUT" "kept as"
assert_eq "$(cat "$hooks/pre-push.git-model-backup")" "$foreign" "backup"
assert_contains "$(cat "$hooks/pre-push")" "git-model-shim"
run_expect 0 git -C repo model hooks uninstall
assert_eq "$(cat "$hooks/pre-push")" "$foreign" "uninstall restores the backup"
run_expect 2 git -C repo model hooks install --chain --force
run_expect 2 git -C repo model hooks uninstall --chain
run_expect 2 git -C repo model hooks frob
rm "$hooks/pre-push"

# --- core.hooksPath (relative to the worktree, and absolute) ----------------------------
git -C repo config core.hooksPath .githooks
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "$TEST_DIR/repo/.githooks/pre-push"
CHECKS=$((CHECKS + 1)); [ -x repo/.githooks/pre-push ] || fail "not installed in core.hooksPath"
git -C repo config core.hooksPath "$TEST_DIR/shared-hooks"
run_expect 0 git -C repo model hooks install
CHECKS=$((CHECKS + 1)); [ -x "$TEST_DIR/shared-hooks/pre-commit" ] || fail "not installed in absolute core.hooksPath"
git -C repo config --unset core.hooksPath

# --- a core.hooksPath of the user's global config (or the system's, git -c) runs in every repository ------
# git-model's hooks there would hold every other repository of the user to this one's rules: not written,
# not even by `start`, which says why and how to give the repository a folder of its own.
mkdir "$TEST_DIR/my-hooks"
git config --global core.hooksPath "$TEST_DIR/my-hooks"
run_expect 1 git -C repo model hooks install
assert_contains "$ERR" "core.hooksPath names $TEST_DIR/my-hooks, set in the global configuration ($HOME/.gitconfig): git runs the hooks there in every repository"
assert_contains "$ERR" "nothing was written"
assert_contains "$ERR" "git config --local core.hooksPath $TEST_DIR/repo/.git/hooks"
assert_eq "$(ls -A "$TEST_DIR/my-hooks")" "" "nothing in the global hooks folder"
# doctor's fix is the one that works here, not the install that refuses
run_expect 1 git -C repo model doctor --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print([c for c in json.load(sys.stdin)["checks"] if c["name"] == "hooks"][0]["fix"])')" \
    "give this repository a hooks folder of its own: git config --local core.hooksPath $TEST_DIR/repo/.git/hooks (the hooks of the shared folder then no longer run here), then git model hooks install" \
    "doctor's fix for a global core.hooksPath"
run_expect 1 git -C repo -c core.hooksPath="$TEST_DIR/my-hooks" model hooks install
assert_contains "$ERR" "set in the command line's configuration (git -c)"
git -C repo config model.installHooks always
run_expect 0 git -C repo model start globalhooks
assert_contains "$ERR" "hint: git-model's hooks are not installed: core.hooksPath names $TEST_DIR/my-hooks"
assert_eq "$(ls -A "$TEST_DIR/my-hooks")" "" "start wrote nothing there either"
git -C repo config --unset model.installHooks
# the repository's own setting, to the same folder, is the user's choice for this repository
git -C repo config --local core.hooksPath "$TEST_DIR/my-hooks"
run_expect 0 git -C repo model hooks install
CHECKS=$((CHECKS + 1)); [ -x "$TEST_DIR/my-hooks/pre-push" ] || fail "not installed where the repository's own config says"
git -C repo config --local --unset core.hooksPath
git config --global --unset core.hooksPath

# --- a committed hooks folder (husky style: core.hooksPath=.githooks, the hooks tracked) ----------------
# Every worktree runs its own branch's copy, and a shim written there would change the team's hook at
# the next commit: refused, even with --chain or --force, and nothing is written.
make_repo tracked
mkdir tracked/.githooks
printf '#!/bin/sh\necho team pre-commit\n' >tracked/.githooks/pre-commit
chmod +x tracked/.githooks/pre-commit
git -C tracked add .githooks
git -C tracked commit -q -m "team hooks"
git config --global core.hooksPath .githooks
for policy in "" --chain --force; do
    run_expect 1 git -C tracked model hooks install $policy
    assert_contains "$ERR" "the hooks folder $TEST_DIR/tracked/.githooks holds hooks the repository tracks (.githooks/pre-commit)"
    assert_eq "$(git -C tracked status --porcelain --untracked-files=all)" "" "install $policy changed nothing in the worktree"
done
assert_eq "$(git -C tracked config --local core.hooksPath || true)" "" "core.hooksPath was not pinned"
git config --global --unset core.hooksPath

# --- Git LFS's pre-push is chained without asking ---------------------------------------
make_repo lfsrepo
git -C lfsrepo lfs install --local >/dev/null
lfs_hook=$(cat lfsrepo/.git/hooks/pre-push)
run_expect 0 git -C lfsrepo model hooks install
assert_contains "$OUT" "Git LFS hook now runs after ours"
assert_eq "$(cat lfsrepo/.git/hooks/pre-push.git-model-chained)" "$lfs_hook" "LFS hook chained"

# --- the suite uninstalled from the machine: a message, not "command not found" -------------
run_expect 1 env PATH=/usr/bin:/bin sh "$TEST_DIR/shared-hooks/pre-commit"
assert_contains "$ERR" "runs git-model, which is not installed"
assert_contains "$ERR" "rm "
assert_not_contains "$ERR" "not found"

# --- start offers the hooks ------------------------------------------------------------------
make_repo offer
run_expect 0 git -C offer model start one
assert_contains "$ERR" "git model hooks install"
assert_no_path offer/.git/hooks/pre-push
git -C offer config model.installHooks always
run_expect 0 git -C offer model start two
assert_contains "$OUT" "hooks: pre-push: installed"
CHECKS=$((CHECKS + 1)); [ -x offer/.git/hooks/pre-push ] || fail "model.installHooks always did not install"
make_repo never
git -C never config model.installHooks never
run_expect 0 git -C never model start three
assert_not_contains "$ERR" "hooks install"
