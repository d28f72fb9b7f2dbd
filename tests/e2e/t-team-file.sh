#!/usr/bin/env bash
# The committed team file is every command's configuration, not only the hooks': a second clone
# with no model.* git config starts from the base the file names, asks its merge requests into it
# on the forge it names, prunes by the file's retention and takes its lock timeout; doctor shows
# each setting with its exact scope (team file, local, global, command line); hooks install adds
# nothing per clone that the file says; hints for a policy key point to the file; doctor flags a
# CI file whose image is not the .modelenv.yaml pin at HEAD.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-01-05T00:00:00Z" GIT_COMMITTER_DATE="2026-01-05T00:00:00Z"
NOW="2026-03-01T12:00:00Z"
web="https://gitlab.example.com/team/models"
remote="$TEST_DIR/team.git"
make_options_remote "$remote" "$web"     # records push options and answers like GitLab
options_log="$remote/push-options.log"
git -C "$remote" symbolic-ref HEAD refs/heads/master   # the forge's default branch
git config --global user.name "Bob"; git config --global user.email bob@example.com
git init -q -b master alice
printf 'import torch\n' >alice/train.py
cat >alice/.gitmodel <<TEAM
# the team's git-model settings (git-config syntax), read from master as origin has it
# (sshAuthorizedKeys is this machine's setting: every clone ignores it here)
[model]
	baseBranch = master
	forge = gitlab
	forgeUrl = $web
	lockTimeout = 7s
	sshAuthorizedKeys = /tmp/not-bobs-key.pub
[model "bench"]
	beforePush = never
[model "prune"]
	retention = 30d
TEAM
git -C alice add -A && git -C alice commit -q -m "initial commit with the team file"
git -C alice remote add origin "$remote"
git -C alice push -q origin master
git clone -q "$remote" bob
assert_eq "$(git -C bob config --get-regexp '^model\.' || true)" "" "bob has no model.* git config"

# --- hooks install adds nothing per clone that the team file says ---------------------------------
run_expect 0 git -C bob model hooks install
assert_eq "$(git -C bob config --get-regexp '^model\.' || true)" "" "hooks install wrote no model.* key"
assert_eq "$(git -C bob config --local --list | grep -ci '^model\.\|gitlab\|retention\|locktimeout' || true)" "0" \
    "no value of the team file copied into .git/config"

# --- start: the base the file names ------------------------------------------------------------------
run_expect 0 git -C bob model start resnet
wb="$TEST_DIR/worktrees/feature/model-resnet"
assert_eq "$(git -C bob rev-parse feature/model-resnet)" "$(git -C bob rev-parse master)" "based on master"
assert_eq "$(git -C bob config branch.feature/model-resnet.modelBase)" "master" "recorded base master"
run_expect 0 git -C bob model list --json
assert_contains "$OUT" '"base": "master"'

# --- finish: the forge the file names, the merge request into master ------------------------------------
commit_at "$wb" "2026-01-20T10:00:00Z" "resnet work" resnet.py
GIT_COMMITTER_DATE="2026-01-21T10:00:00Z" run_expect 0 git -C "$wb" model finish
assert_contains "$OUT" "Merge request into master requested with push options."
assert_contains "$(cat "$options_log")" "merge_request.target=master"
assert_contains "$OUT" "Merge request: $web/-/merge_requests/1"

# --- prune: the file's retention (30d, not the default 14d) ---------------------------------------------
git -C alice pull -q origin master
at() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" "${@:2}"; }
git -C alice fetch -q origin
at "2026-02-09T12:00:00Z" git -C alice merge -q --no-ff -m "Merge resnet" origin/feature/model-resnet
git -C alice push -q --no-verify origin master
git -C bob fetch -q origin
# merged 20 days before NOW: past git-model's default retention (14 days), not past the file's 30
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob model prune --remote --dry-run
assert_contains "$OUT" "keep  resnet (feature/model-resnet): merged 20 days ago; kept for audit until 2026-03-11 12:00 UTC"
# this clone's own setting wins over the file's default (retention is not policy)
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob -c model.prune.retention=14d model prune --remote --dry-run
assert_contains "$OUT" "would prune resnet (feature/model-resnet):"

# --- doctor: every setting with its exact scope ---------------------------------------------------------
git -C bob config model.installHooks never
git config --global model.env.readyTimeout 90s
git -C bob config model.maxFileSize 1g                     # policy, but the file does not set it: this clone's
run_expect 0 git -C bob -c model.engine=podman model doctor --json
assert_contains "$OUT" ".gitmodel at refs/remotes/origin/master"   # origin/HEAD, then the base it names
assert_contains "$OUT" "model.basebranch=master (team file, policy)"
assert_contains "$OUT" "model.forge=gitlab (team file)"
assert_contains "$OUT" "model.prune.retention=30d (team file)"
assert_contains "$OUT" "model.installhooks=never (local $TEST_DIR/bob/.git/config)"
assert_contains "$OUT" "model.env.readytimeout=90s (global $HOME/.gitconfig)"
assert_contains "$OUT" "model.engine=podman (command line (git -c / GIT_CONFIG_COUNT))"
assert_contains "$OUT" "model.maxfilesize=1g (local $TEST_DIR/bob/.git/config, policy)"
assert_contains "$OUT" "model.sshauthorizedkeys in the team file is ignored (a setting of this machine, not the team's)"
assert_not_contains "$OUT" "model.sshauthorizedkeys=/tmp"
git -C bob config --unset model.maxFileSize
git config --global --unset model.env.readyTimeout

# --- a hint for a policy key says to commit it to the team file ---------------------------------------
git -C bob checkout -q -b wip/notes master
echo "notes" >bob/notes.txt && git -C bob add notes.txt && git -C bob commit -q -m "notes"
before=$(remote_refs "$remote")
run_expect 1 git -C bob push origin wip/notes
assert_contains "$ERR" "[rule: branch-name]"
assert_contains "$ERR" "git config --file .gitmodel --add model.allowedBranch '<glob>' && git add .gitmodel && git commit"
assert_contains "$ERR" '`[model] allowedBranch = <glob>`'
assert_eq "$(remote_refs "$remote")" "$before" "refused: nothing pushed"
git -C bob checkout -q master

# --- doctor: the CI file's image is not the pin at HEAD ---------------------------------------------------
git -C bob checkout -q -b feature/model-ci master
printf 'image: registry.example.com/team/pytorch:2.3\ngpus: 0\n' >bob/.modelenv.yaml
run_expect 0 git -C bob model ci init --gitlab
git -C bob add .modelenv.yaml .gitlab-ci.yml && git -C bob commit -q -m "env and pipeline"
run_expect 0 git -C bob model doctor --json
assert_not_contains "$OUT" '"name": "ci"'
printf 'image: registry.example.com/team/pytorch:2.5\ngpus: 0\n' >bob/.modelenv.yaml
git -C bob commit -q -am "newer pytorch" -m "Image-Change: flash-attention needs torch 2.5"
run_expect 0 git -C bob model doctor
assert_contains "$OUT" ".gitlab-ci.yml at HEAD runs image registry.example.com/team/pytorch:2.3, but .modelenv.yaml pins registry.example.com/team/pytorch:2.5"
assert_contains "$OUT" "git model ci init --gitlab --update"
run_expect 0 git -C bob model ci init --gitlab --update
git -C bob commit -q -am "pipeline follows the pin"
run_expect 0 git -C bob model doctor --json
assert_not_contains "$OUT" '"name": "ci"'

# --- a team file committed as a symbolic link is named as one, not as bad syntax -------------------
git init -q -b main linked
printf '[model]\n\tbaseBranch = main\n' >linked/team.conf
ln -s team.conf linked/.gitmodel
git -C linked add -A && git -C linked commit -q -m "team file as a link"
run_expect 1 git -C linked model start lnk
assert_contains "$ERR" ".gitmodel at refs/heads/main is a symbolic link; the team file must be a plain file"
assert_not_contains "$ERR" "bad config syntax" "not called a syntax error"
assert_eq "$(git -C linked branch --list 'feature/model-lnk')" "" "no half-made branch"
run_expect 1 git -C linked model doctor
assert_contains "$OUT$ERR" "is a symbolic link"

# --- a malformed value the team file sets is named as the team file's, with the fix there ---------------
git init -q -b main badvalue
printf '[model]\n\tengineTimeout = soon\n[model "prune"]\n\tretention = fortnight\n' >badvalue/.gitmodel
git -C badvalue add -A && git -C badvalue commit -q -m "team file with typos"
git -C badvalue config model.installHooks never
run_expect 1 git -C badvalue model prune --dry-run
assert_contains "$ERR" "model.prune.retention 'fortnight' is not a duration (set in team file .gitmodel at refs/heads/main)"
assert_contains "$ERR" "fix the value there and commit the fix to main"
run_expect 0 git -C badvalue model start bv
# status reports the environment it cannot judge and the rest of the worktree's state.
run_expect 0 git -C "$(git -C badvalue worktree list --porcelain | sed -n 's/^worktree //p' | tail -1)" model status
assert_contains "$OUT" "environment:  unknown (model.engineTimeout 'soon' is not a positive duration (set in team file .gitmodel at refs/heads/main))"
assert_contains "$OUT" "branch:       feature/model-bv"
# The clone's own value is named as the clone's.
run_expect 1 git -C badvalue -c model.prune.retention=later model prune --dry-run
assert_contains "$ERR" "model.prune.retention 'later' is not a duration (set in command line (git -c"
git -C badvalue config model.lockTimeout soon
run_expect 1 git -C badvalue model start bw
assert_contains "$ERR" "model.lockTimeout 'soon' is not a duration (set in local "
# A value set through an include names the included file, where the user must fix it.
git -C badvalue config --unset model.lockTimeout
printf '[model]\n\tlockTimeout = someday\n' >"$TEST_DIR/my settings.inc"
git -C badvalue config include.path "$TEST_DIR/my settings.inc"
run_expect 1 git -C badvalue model start bx
assert_contains "$ERR" "model.lockTimeout 'someday' is not a duration (set in $TEST_DIR/my settings.inc, included from local "
# A value that imitates git's origin line cannot name another file; a relative include is named in full.
printf '[model]\n\tlockTimeout = "soon\\nfile:/etc/shadow\\tx"\n' >"$TEST_DIR/badvalue/.git/rel.inc"
git -C badvalue config include.path rel.inc
run_expect 1 git -C badvalue model start by
assert_contains "$ERR" "(set in $TEST_DIR/badvalue/.git/rel.inc, included from local "
assert_not_contains "$ERR" "/etc/shadow,"
