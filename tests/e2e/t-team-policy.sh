#!/usr/bin/env bash
# The team's policy through real `git push` to a real bare remote through installed hooks:
# the base branch is always protected (model.baseBranch), whatever model.protectedBranch says,
# and so is the remote's default branch when a clone moved its own base; a clone of one model
# branch still obeys the team file (read from HEAD); doctor names what the pre-push protects.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q --bare remote.git
git init -q -b master alice
printf 'import torch\n' >alice/train.py
git -C alice add -A && git -C alice commit -q -m "initial commit"
git -C alice remote add origin "$TEST_DIR/remote.git"
git -C alice push -q origin master
git config --global user.name "Alice"; git config --global user.email alice@example.com
git -C alice config model.bench.beforePush never

refused() {  # WHAT GIT-PUSH-ARGS...: the push fails, the remote is unchanged, the hook said why
    local what=$1 before
    shift
    before=$(remote_refs remote.git)
    run_expect 1 "$@"
    assert_contains "$ERR" "push refused by the pre-push hook" "$what"
    assert_eq "$(remote_refs remote.git)" "$before" "$what: remote unchanged"
}

# --- point 2: protection follows the base branch ----------------------------------------
run_expect 0 git -C alice model hooks install
git -C alice config model.baseBranch master
echo "direct" >>alice/train.py && git -C alice commit -q -am "direct to master"
refused "base master" git -C alice push origin master
assert_contains "$ERR" "refs/heads/master  [rule: protected-branch]"
assert_contains "$ERR" "the base branch, model.baseBranch"
# another protected branch configured does not replace the base
git -C alice config --add model.protectedBranch 'release/*'
refused "base master beside release/*" git -C alice push origin master
refused "release/*" git -C alice push origin HEAD:refs/heads/release/1.0
assert_contains "$ERR" "(model.protectedBranch)"
run_expect 0 git -C alice model doctor
assert_contains "$OUT" "pre-push protects master, release/*"
git -C alice reset -q --hard origin/master

# --- point 1: the committed team file, two teammates ----------------------------------------
git -C remote.git symbolic-ref HEAD refs/heads/master   # the forge's default branch
git -C alice config --unset-all model.protectedBranch
cat >alice/.gitmodel <<'TEAM'
# the team's git-model settings (git-config syntax)
[model]
	baseBranch = master
	maxFileSize = 1m
	allowedBranch = docs/*
[model "bench"]
	beforePush = never
[model "ci"]
	test = pytest -q tests/unit
TEAM
git -C alice add .gitmodel && git -C alice commit -q -m "team file"
run_expect 0 git -C alice push --no-verify -q origin master   # the lead sets it up once, on the forge's side
git -C alice fetch -q origin master

git clone -q remote.git bob
assert_eq "$(git -C bob config --get-regexp '^model\.' || true)" "" "bob has no model.* git config"
run_expect 0 git -C bob model hooks install
# the base branch the team file names is protected in a clone with no model.* config
echo "bob direct" >>bob/train.py && git -C bob commit -q -am "bob direct to master"
before=$(remote_refs remote.git)
run_expect 1 git -C bob push origin master
assert_contains "$ERR" "refs/heads/master  [rule: protected-branch]"
assert_eq "$(remote_refs remote.git)" "$before" "master unchanged on the remote"
# its other rules hold too: a branch name it allows, a size limit it sets
git -C bob reset -q --hard origin/master
git -C bob checkout -q -b docs/intro
run_expect 0 git -C bob push -q origin docs/intro
git -C bob checkout -q -b feature/model-big master
head -c 2000000 /dev/urandom >bob/weights.bin
git -C bob add weights.bin && git -C bob commit -q --no-verify -m "big weights"
before=$(remote_refs remote.git)
run_expect 1 git -C bob push origin feature/model-big
assert_contains "$ERR" "weights.bin"
assert_eq "$(remote_refs remote.git)" "$before" "big file refused"
# a local setting does not lift the team's limit, and the hook says so
git -C bob config model.maxFileSize 1g
run_expect 1 git -C bob push origin feature/model-big
assert_contains "$ERR" "weights.bin"
assert_contains "$ERR" "model.maxfilesize = 1m from .gitmodel at refs/remotes/origin/master overrides this clone's git config (1g)"
assert_eq "$(remote_refs remote.git)" "$before" "big file still refused with a local 1g"
# a branch that rewrites .gitmodel in its own commit cannot loosen its own rules
printf '[model]\n\tbaseBranch = master\n\tmaxFileSize = 1g\n' >bob/.gitmodel
git -C bob commit -q --no-verify -am "loosen the team file"
run_expect 1 git -C bob push origin feature/model-big
assert_contains "$ERR" "weights.bin"
assert_eq "$(remote_refs remote.git)" "$before" "a rewritten .gitmodel on the pushed branch changes nothing"
# doctor shows each setting and where it came from
run_expect 0 git -C bob model doctor --json
assert_contains "$OUT" ".gitmodel at refs/remotes/origin/master"
assert_contains "$OUT" "model.basebranch=master (team file, policy)"
assert_contains "$OUT" "model.maxfilesize=1m (team file, policy)"
assert_contains "$OUT" "this clone's model.maxfilesize=1g is overridden by the team file"
run_expect 0 git -C bob model doctor
assert_contains "$OUT" "pre-push protects master"

# --- a clone of one model branch has no base here: the team file is read from HEAD ------------
run_expect 0 git -C alice push --no-verify -q origin master:feature/model-carol
git clone -q -b feature/model-carol --single-branch remote.git carol
run_expect 0 git -C carol model hooks install
echo "carol" >>carol/train.py && git -C carol commit -q -am "carol's change"
before=$(remote_refs remote.git)
run_expect 1 git -C carol push origin HEAD:master
assert_contains "$ERR" "refs/heads/master  [rule: protected-branch]"
assert_eq "$(remote_refs remote.git)" "$before" "master unchanged by a single-branch clone"
run_expect 0 git -C carol model doctor --json
assert_contains "$OUT" ".gitmodel at HEAD"

# --- a clone that moves its own base (the team file silent on it) still protects the remote's default ---
git init -q --bare -b main plain.git
git init -q -b main erin
printf 'x\n' >erin/train.py && printf '[model]\n\tmaxFileSize = 1m\n' >erin/.gitmodel
git -C erin add -A && git -C erin commit -q -m "initial commit"
git -C erin push -q "$TEST_DIR/plain.git" main
git clone -q plain.git frank
git -C frank config model.baseBranch dev
git -C frank config model.bench.beforePush never
run_expect 0 git -C frank model hooks install
echo "frank" >>frank/train.py && git -C frank commit -q -am "frank direct to main"
before=$(remote_refs plain.git)
run_expect 1 git -C frank push origin HEAD:main
assert_contains "$ERR" "which is protected (the default branch of origin, which every clone starts from)"
assert_eq "$(remote_refs plain.git)" "$before" "main unchanged"
run_expect 0 git -C frank model doctor
assert_contains "$OUT" "pre-push protects dev, main"

# --- a clone whose remote is not called origin (`git clone -o upstream`) obeys the team's policy --------
# as that remote has it, not its own local base (made before the team file and never updated); with two
# remotes and none called origin, doctor fails until model.remote names the team's
git clone -q -o upstream -b master remote.git gina
git -C gina reset -q --hard "$(git -C remote.git rev-list --max-parents=0 master)"   # a master from before .gitmodel
git -C gina fetch -q upstream
run_expect 0 git -C gina model hooks install
git -C gina checkout -q -b feature/model-gina upstream/master
head -c 2000000 /dev/urandom >gina/weights.bin
git -C gina add weights.bin
run_expect 1 git -C gina commit -q -m "big weights"
assert_contains "$ERR" "weights.bin"
git -C gina commit -q --no-verify -m "big weights"
before=$(remote_refs remote.git)
run_expect 1 git -C gina push upstream feature/model-gina
assert_contains "$ERR" "weights.bin" "the limit, read from upstream"
run_expect 1 git -C gina push upstream HEAD:master
assert_contains "$ERR" "refs/heads/master  [rule: protected-branch]"
assert_eq "$(remote_refs remote.git)" "$before" "nothing reached the remote"
run_expect 0 git -C gina model doctor
assert_contains "$OUT" ".gitmodel at refs/remotes/upstream/"
assert_contains "$OUT" "git fetch upstream brings"
# a push-only mirror (pushurl, no url) is no candidate: the policy is still upstream's
git -C gina config remote.mirror.pushurl "$TEST_DIR/plain.git"
run_expect 1 git -C gina push upstream feature/model-gina
assert_contains "$ERR" "weights.bin" "the limit, with a push-only mirror beside"
run_expect 0 git -C gina model doctor
assert_contains "$OUT" ".gitmodel at refs/remotes/upstream/"
git -C gina config --remove-section remote.mirror
git -C gina remote add fork "$TEST_DIR/plain.git"
run_expect 1 git -C gina push fork feature/model-gina
assert_contains "$ERR" "git-model: warning: the team's remote is 'origin' (model.remote, else origin, else the only remote), which is none of this clone's remotes (fork, upstream)"
run_expect 1 git -C gina model doctor
assert_contains "$OUT" "the team's remote is 'origin' (model.remote, else origin, else the only remote), which is none of this clone's remotes (fork, upstream)"
assert_contains "$OUT" "git config model.remote <the team's remote>   (one of: fork, upstream)"
run_expect 0 git -C gina model hooks install
assert_contains "$OUT" "fetch: not set up: the team's remote is none of this clone's remotes (fork, upstream); name it with \`git config model.remote <the team's remote>\`"
git -C gina config model.remote upstream
run_expect 0 git -C gina model doctor
assert_contains "$OUT" "git fetch upstream brings"

# --- a team file that does not parse: the error names .gitmodel:<line> ---------------------
git -C alice checkout -q master
printf '[model]\n\tbaseBranch = master\n[broken\n' >alice/.gitmodel
git -C alice commit -q --no-verify -am "broken team file"
run_expect 0 git -C alice push --no-verify -q origin master
git -C bob fetch -q origin master
before=$(remote_refs remote.git)
run_expect 1 git -C bob push origin feature/model-big
assert_contains "$ERR" ".gitmodel:3: bad config syntax"
assert_eq "$(remote_refs remote.git)" "$before" "nothing pushed under a broken team file"
run_expect 1 git -C bob model doctor
assert_contains "$OUT" ".gitmodel:3: bad config syntax"

# --- point 6: the CI file follows the pin ------------------------------------------------------
git -C alice reset -q --hard HEAD~1       # the working team file again (alice's broken one stays local)
run_expect 0 git -C alice push --no-verify -q --force origin master
git -C bob fetch -q origin master
git -C bob checkout -q -b feature/model-ci origin/master
printf 'image: registry.example.com/team/pytorch:2.3\ngpus: 0\n' >bob/.modelenv.yaml
run_expect 0 git -C bob model ci init --gitlab
assert_not_contains "$ERR" "warning"
# the team file's test command, not a default
assert_contains "$(cat bob/.gitlab-ci.yml)" '- "pytest -q tests/unit"'
# a user's own edit that --update must keep
sed -i 's|^  script:|  # bob: keep this line\n  script:|' bob/.gitlab-ci.yml
git -C bob add .modelenv.yaml .gitlab-ci.yml && git -C bob commit -q -m "env and pipeline"
run_expect 0 git -C bob push -q -u origin feature/model-ci
# an image change whose CI file still names the old image is refused, with the fix
printf 'image: registry.example.com/team/pytorch:2.5\ngpus: 0\n' >bob/.modelenv.yaml
git -C bob commit -q -am "newer pytorch" -m "Image-Change: flash-attention needs torch 2.5"
before=$(remote_refs remote.git)
run_expect 1 git -C bob push origin feature/model-ci
assert_contains "$ERR" "[rule: ci-image]"
assert_contains "$ERR" ".gitlab-ci.yml at"
assert_contains "$ERR" "runs image registry.example.com/team/pytorch:2.3, but .modelenv.yaml pins registry.example.com/team/pytorch:2.5"
assert_contains "$ERR" "git model ci init --gitlab --update"
assert_eq "$(remote_refs remote.git)" "$before" "the stale pipeline did not reach the remote"
# the fix: --update rewrites only the image lines
cp bob/.gitlab-ci.yml "$TEST_DIR/ci-before.yml"
run_expect 0 git -C bob model ci init --gitlab --update
assert_contains "$OUT" "image registry.example.com/team/pytorch:2.5"
assert_eq "$(diff "$TEST_DIR/ci-before.yml" bob/.gitlab-ci.yml | grep -c '^[<>]' || true)" "4" "two image lines changed, nothing else"
assert_contains "$(cat bob/.gitlab-ci.yml)" "# bob: keep this line"
assert_eq "$(grep -c 'image: "registry.example.com/team/pytorch:2.5"' bob/.gitlab-ci.yml)" "2"
git -C bob commit -q -am "pipeline follows the pin"
run_expect 0 git -C bob push -q origin feature/model-ci
# a job of bob's own with its own image: --update keeps it (and the file's mode), the pre-push does not hold it to the pin
printf '\nlint:\n  image: "python:3.12-slim"\n  script:\n    - ruff check .\n' >>bob/.gitlab-ci.yml
chmod 640 bob/.gitlab-ci.yml
git -C bob commit -q -am "our lint job"
run_expect 0 git -C bob push -q origin feature/model-ci
printf 'image: registry.example.com/team/pytorch:2.6\ngpus: 0\n' >bob/.modelenv.yaml
run_expect 0 git -C bob model ci init --gitlab --update
assert_contains "$(cat bob/.gitlab-ci.yml)" 'image: "python:3.12-slim"'
assert_eq "$(grep -c 'image: "registry.example.com/team/pytorch:2.6"  # follows .modelenv.yaml' bob/.gitlab-ci.yml)" "2" \
    "the two generated image lines follow the pin"
assert_eq "$(stat -c %a bob/.gitlab-ci.yml)" "640" "--update keeps the file's mode"
git -C bob commit -q -am "pytorch 2.6" -m "Image-Change: the lint job keeps its own image"
run_expect 0 git -C bob push -q origin feature/model-ci
# GitLab's mapping form (for an entrypoint) on one marked job, an anchor on the other that a job of
# bob's own names: --update rewrites the name: and keeps the anchor, the file stays valid YAML, and the
# pre-push checks the name:
P26='registry.example.com/team/pytorch:2.6'
sed -i "0,/^  image: \"${P26//\//\\/}\"  # follows .modelenv.yaml\$/s//  image:  # follows .modelenv.yaml\n    name: \"${P26//\//\\/}\"\n    entrypoint: [\"\"]/" bob/.gitlab-ci.yml
sed -i "s/^  image: \"${P26//\//\\/}\"  # follows .modelenv.yaml\$/  image: \&pinned \"${P26//\//\\/}\"  # follows .modelenv.yaml/" bob/.gitlab-ci.yml
printf '\nsmoke:\n  image: *pinned\n  script:\n    - nvidia-smi\n' >>bob/.gitlab-ci.yml
printf 'image: registry.example.com/team/pytorch:2.7\ngpus: 0\n' >bob/.modelenv.yaml
git -C bob commit -q -am "pytorch 2.7, mapping and anchor" -m "Image-Change: the smoke job shares the pin"
run_expect 1 git -C bob push origin feature/model-ci
assert_contains "$ERR" "runs image $P26, but .modelenv.yaml pins registry.example.com/team/pytorch:2.7"
run_expect 0 git -C bob model ci init --gitlab --update
assert_contains "$(cat bob/.gitlab-ci.yml)" $'image:  # follows .modelenv.yaml\n    name: "registry.example.com/team/pytorch:2.7"\n    entrypoint: [""]'
assert_contains "$(cat bob/.gitlab-ci.yml)" 'image: &pinned "registry.example.com/team/pytorch:2.7"  # follows .modelenv.yaml'
assert_eq "$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(d["smoke"]["image"], d["test"]["image"]["name"])' bob/.gitlab-ci.yml)" \
    "registry.example.com/team/pytorch:2.7 registry.example.com/team/pytorch:2.7" "valid YAML, every job on the new pin"
git -C bob commit -q -am "pipeline follows 2.7"
run_expect 0 git -C bob push -q origin feature/model-ci
# the mark on the alias: --update cannot rewrite it in place, says where, and writes nothing
sed -i 's/^  image: \*pinned$/  image: *pinned  # follows .modelenv.yaml/' bob/.gitlab-ci.yml
cp bob/.gitlab-ci.yml "$TEST_DIR/ci-alias.yml"
printf 'image: registry.example.com/team/pytorch:2.8\ngpus: 0\n' >bob/.modelenv.yaml
line=$(grep -n 'image: \*pinned' bob/.gitlab-ci.yml | cut -d: -f1)
run_expect 1 git -C bob model ci init --gitlab --update
assert_contains "$ERR" ".gitlab-ci.yml: an image line that follows .modelenv.yaml cannot be rewritten in place (line $line: its value is an alias (*name): mark the line its anchor (&name) is on instead); nothing was written"
assert_eq "$(cmp "$TEST_DIR/ci-alias.yml" bob/.gitlab-ci.yml && echo same)" "same" "the pipeline is unchanged"
git -C bob checkout -q .modelenv.yaml .gitlab-ci.yml
run_expect 2 git -C bob model ci init --gitlab --update --force
rm bob/.gitlab-ci.yml
run_expect 1 git -C bob model ci init --gitlab --update
assert_contains "$ERR" "no "
git -C bob checkout -q .gitlab-ci.yml
# an image only this machine has: the pipeline is written, with a warning
printf 'image: localhost/team/pytorch:dev\ngpus: 0\n' >bob/.modelenv.yaml
run_expect 0 git -C bob model ci init --gitlab --update
assert_contains "$ERR" "warning: the pipeline's image localhost/team/pytorch:dev is local to this machine"
git -C bob checkout -q .modelenv.yaml .gitlab-ci.yml
