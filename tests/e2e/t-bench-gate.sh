#!/usr/bin/env bash
# The pre-push GPU gate (model.bench.beforePush always) through real `git push`, with the installed
# git-model-bench on the fake driver (tests/support/fake_libcuda.cpp, through LD_LIBRARY_PATH): a
# healthy GPU lets the push through; a GPU the bench cannot judge (compute mode prohibited) follows
# model.benchGate.onUnknown, allow by default with a warning, or refuse; a broken GPU (a failing
# kernel) and no GPU at all are refused; a bad onUnknown value is a clear error.
# Skips (125) when the binary was built without GPU kernels or no fake driver was built.
. "$(dirname "$0")/lib.sh"

require_fake_driver

# The gate's bench keeps its results in the lease book's bench-results/: a book of this test's.
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"
mkdir -p "$GIT_MODEL_LEASE_DIR"
cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
run_expect 0 git -C repo model hooks install
git -C repo config model.bench.beforePush always
branch=0
push() {  # EXPECTED-EXIT ENV...: pushes a new feature branch with ENV (the fake driver's settings)
    local expected=$1
    shift
    branch=$((branch + 1))
    git -C repo branch -q "feature/model-gate$branch" main
    run_expect "$expected" env LD_LIBRARY_PATH="$fake" "$@" git -C repo push origin "feature/model-gate$branch"
}
pushed() { assert_contains "$(remote_refs "$remote")" "refs/heads/feature/model-gate$branch" "$1"; }
not_pushed() { assert_not_contains "$(remote_refs "$remote")" "refs/heads/feature/model-gate$branch" "$1"; }

push 0
pushed "a healthy GPU"
assert_not_contains "$ERR" "warning"
assert_contains "$(cat "$GIT_MODEL_LEASE_DIR/bench-results/$(id -u).json")" '"quick"' "the gate's result is kept in the book"

push 0 FAKE_CUDA_COMPUTE_MODE=2
pushed "cannot judge, onUnknown unset (allow)"
assert_contains "$ERR" "git-model: warning: the GPU check could not judge this machine's GPU (compute-prohibited)"
assert_contains "$ERR" "pushing anyway (model.benchGate.onUnknown = allow)"

git -C repo config model.benchGate.onUnknown refuse
push 1 FAKE_CUDA_COMPUTE_MODE=2
not_pushed "cannot judge, onUnknown refuse"
assert_contains "$ERR" "push refused by the pre-push hook"
assert_contains "$ERR" "could not judge this machine's GPU (compute-prohibited)"
assert_not_contains "$ERR" "GPU check failed"

git -C repo config model.benchGate.onUnknown allow
push 1 FAKE_CUDA_LAUNCH_RESULT=700
not_pushed "a broken GPU, onUnknown allow"
assert_contains "$ERR" "the GPU check failed (exit 1)"
assert_contains "$ERR" "cuda-error"

# No driver at all under `always`: refused whatever onUnknown says (LD_LIBRARY_PATH to an empty folder).
mkdir -p "$TEST_DIR/no-driver"
fake="$TEST_DIR/no-driver"
if [ ! -e /proc/driver/nvidia/version ] && ! grep -q "libcuda.so.1 " <<<"$(ldconfig -p 2>/dev/null)"; then
    push 1
    not_pushed "no driver under always"
    assert_contains "$ERR" "GPU check failed (no usable GPU)"
fi

git -C repo config model.benchGate.onUnknown sometimes
push 1
assert_contains "$ERR" "model.benchGate.onUnknown 'sometimes' is not allow or refuse"
