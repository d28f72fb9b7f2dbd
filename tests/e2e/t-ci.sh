#!/usr/bin/env bash
# git model ci init --gitlab | --github: the pipeline file, parsed with a real YAML parser and
# checked against the documented workflow (tests without a GPU on every feature/* push; on
# feature/model-* a GPU job on one GPU that runs `git model bench --quick` first; both in the
# image .modelenv.yaml pins); no .modelenv.yaml and existing files are refused.
. "$(dirname "$0")/lib.sh"

python3 -c 'import yaml' 2>/dev/null || { echo "PyYAML is not installed (apt-get install python3-yaml)"; exit 125; }

cd "$TEST_DIR"
make_repo repo
cd repo
IMAGE="registry.example.com/team/pytorch:2.3-cuda12.1@sha256:$(printf 'ab%.0s' $(seq 32))"

# Without .modelenv.yaml there is no image to pin: refused, nothing written.
run_expect 1 git model ci init --gitlab
assert_contains "$ERR" "no .modelenv.yaml"
assert_contains "$ERR" "hint:"
assert_no_path .gitlab-ci.yml
run_expect 1 git model ci init --github
assert_no_path .github
# usage errors
run_expect 2 git model ci init
assert_contains "$ERR" "--gitlab or --github"
run_expect 2 git model ci init --gitlab --github
run_expect 2 git model ci frobnicate --gitlab
run_expect 2 git model ci

printf 'image: %s\ngpus: 1\ncommand: [python, train.py, --epochs, "1"]\n' "$IMAGE" >.modelenv.yaml
# A .modelenv.yaml that does not load is refused with its line and column.
printf 'image: %s\ngpus: lots\n' "$IMAGE" >broken.yaml
cp .modelenv.yaml good.yaml
cp broken.yaml .modelenv.yaml
run_expect 1 git model ci init --gitlab
assert_contains "$ERR" ".modelenv.yaml:2:"
assert_no_path .gitlab-ci.yml
cp good.yaml .modelenv.yaml

run_expect 0 git model ci init --gitlab
assert_contains "$OUT" "Wrote $TEST_DIR/repo/.gitlab-ci.yml"
python3 - "$IMAGE" <<'PY' || fail "the GitLab pipeline"
import re, sys, yaml
image = sys.argv[1]
d = yaml.safe_load(open(".gitlab-ci.yml"))
assert d["stages"] == ["test", "gpu"], d["stages"]
jobs = {k: v for k, v in d.items() if isinstance(v, dict) and "script" in v}
assert set(jobs) == {"test", "gpu-train"}, jobs.keys()
test, gpu = jobs["test"], jobs["gpu-train"]

def branch_rule(job):
    (rule, mr_rule) = job["rules"]
    m = re.search(r"\$CI_COMMIT_BRANCH =~ /(.*)/$", rule["if"])
    assert m and '$CI_PIPELINE_SOURCE == "push"' in rule["if"], rule
    # the same branches in merge-request pipelines
    m2 = re.search(r"\$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME =~ /(.*)/$", mr_rule["if"])
    assert m2 and m2.group(1) == m.group(1) and '"merge_request_event"' in mr_rule["if"], mr_rule
    return re.compile(m.group(1).replace("\\/", "/"))

assert d["workflow"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"', d["workflow"]

test_rule, gpu_rule = branch_rule(test), branch_rule(gpu)
for branch, runs_test, runs_gpu in [("feature/model-resnet50", True, True), ("feature/data-loader", True, False),
                                    ("main", False, False), ("release/1", False, False), ("x-feature/a", False, False)]:
    assert bool(test_rule.search(branch)) == runs_test, branch
    assert bool(gpu_rule.search(branch)) == runs_gpu, branch
# both in the pinned image; tests see no GPU; the GPU job asks for one, after the tests
assert test["image"] == image and gpu["image"] == image
assert test["variables"]["CUDA_VISIBLE_DEVICES"] == ""
assert "tags" not in test
assert gpu["tags"] == ["gpu"] and gpu["needs"] == ["test"] and gpu["stage"] == "gpu"
assert gpu["script"][0] == "git model bench --quick", gpu["script"]
assert gpu["script"][1] == "python train.py --epochs 1", gpu["script"]
assert gpu["variables"]["GIT_MODEL_SMOKE"] == "1"
assert re.fullmatch(r"\d+m", gpu["timeout"])
assert test["script"] == ["python -m pytest -q"]
PY
CHECKS=$((CHECKS + 1))

# Never overwritten by accident; --force does it.
echo "# mine" >.gitlab-ci.yml
run_expect 1 git model ci init --gitlab
assert_contains "$ERR" ".gitlab-ci.yml exists already"
assert_contains "$ERR" "--force"
assert_eq "$(cat .gitlab-ci.yml)" "# mine" "the existing pipeline"
run_expect 0 git model ci init --gitlab --force --test-command 'pytest -m "not gpu"'
python3 -c 'import yaml; d = yaml.safe_load(open(".gitlab-ci.yml")); assert d["test"]["script"] == ["pytest -m \"not gpu\""], d' \
    || fail "--test-command"
CHECKS=$((CHECKS + 1))

run_expect 0 git model ci init --github --train-command "python train.py --max-steps 50"
assert_contains "$OUT" ".github/workflows/git-model.yml"
python3 - "$IMAGE" <<'PY' || fail "the GitHub workflow"
import fnmatch, sys, yaml
image = sys.argv[1]
d = yaml.safe_load(open(".github/workflows/git-model.yml"))
on = d.get("on", d.get(True))       # YAML 1.1 reads a bare `on` as true
assert list(on) == ["push"], on
(pattern,) = on["push"]["branches"]
assert pattern == "feature/**", pattern
assert set(d["jobs"]) == {"test", "gpu-train"}, d["jobs"].keys()
test, gpu = d["jobs"]["test"], d["jobs"]["gpu-train"]
assert test["container"]["image"] == image and gpu["container"]["image"] == image
assert test["env"]["CUDA_VISIBLE_DEVICES"] == ""
assert "gpu" not in str(test["runs-on"])
assert gpu["runs-on"] == ["self-hosted", "gpu"], gpu["runs-on"]
assert gpu["container"]["options"] == "--gpus 1"
assert gpu["needs"] == "test"
assert gpu["if"] == "startsWith(github.ref_name, 'feature/model-')", gpu["if"]
runs = [s["run"] for s in gpu["steps"] if "run" in s]
assert runs == ["git model bench --quick", "python train.py --max-steps 50"], runs
assert gpu["steps"][0]["uses"].startswith("actions/checkout@")
assert isinstance(gpu["timeout-minutes"], int)
PY
CHECKS=$((CHECKS + 1))
run_expect 1 git model ci init --github
assert_contains "$ERR" "exists already"

# From a linked worktree the pipeline goes into that worktree (where its .modelenv.yaml is).
git add .modelenv.yaml && git commit -q -m env
git config --global user.name A && git config --global user.email a@example.com
git model start resnet >/dev/null 2>&1
cd ../worktrees/feature/model-resnet
run_expect 0 git model ci init --gitlab
assert_dir "$TEST_DIR/worktrees/feature/model-resnet"
[ -f .gitlab-ci.yml ] || fail "no pipeline in the linked worktree"
CHECKS=$((CHECKS + 1))

# A link planted at .github (or .github/workflows) is not written through: refused, nothing written there.
mkdir "$TEST_DIR/elsewhere"
ln -s "$TEST_DIR/elsewhere" .github
run_expect 1 git model ci init --github
assert_contains "$ERR" ".github is a link"
run_expect 1 git model ci init --github --update
assert_contains "$ERR" ".github is a link"
assert_eq "$(ls -A "$TEST_DIR/elsewhere")" "" "nothing written through the link"
rm .github
mkdir .github && ln -s "$TEST_DIR/elsewhere" .github/workflows
run_expect 1 git model ci init --github --force
assert_contains "$ERR" "workflows is a link"
assert_eq "$(ls -A "$TEST_DIR/elsewhere")" "" "nothing written through the link"
