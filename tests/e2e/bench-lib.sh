# Shared setup of the bench tests (t-bench.sh, t-bench-gpu.sh): the binary, scratch files,
# and the run/expect helpers. Sourced, not run.
set -euo pipefail

bench="${GM_STAGE:-}/bin/git-model-bench"
if [[ -z "${GM_STAGE:-}" || ! -x "$bench" ]]; then
    echo "SKIP: no git-model-bench under GM_STAGE='${GM_STAGE:-}'" >&2
    exit 125
fi
command -v python3 >/dev/null || { echo "FAIL: python3 is needed to validate the JSON output" >&2; exit 1; }

base="${GM_TEST_TMP:-${TMPDIR:-/tmp}}"
mkdir -p "$base"
tmp="$(mktemp -d "$base/t-bench.XXXXXX")"
failed=0
# The bench keeps results in the lease book's bench-results/ (else the user's cache): here, in $tmp.
export GIT_MODEL_LEASE_DIR="$tmp/leases" XDG_CACHE_HOME="$tmp/cache"
trap 'if [[ $failed == 0 ]]; then rm -rf "$tmp"; else echo "kept $tmp for inspection" >&2; fi' EXIT

fail() {
    failed=1
    echo "FAIL: $*" >&2
    echo "--- stdout of the last run:" >&2; cat "$tmp/out" >&2 || true
    echo "--- stderr of the last run:" >&2; cat "$tmp/err" >&2 || true
    exit 1
}
ok() { echo "ok: $*"; }

# run [ENV=VALUE...] -- ARGS...: runs the bench, leaving $rc, $ms (wall time) and $tmp/out, $tmp/err.
run() {
    local env=()
    while [[ $1 != -- ]]; do env+=("$1"); shift; done
    shift
    local start end
    start=$(date +%s%N)
    set +e
    env "${env[@]}" "$bench" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    set -e
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
}

# expect_rc N WHAT: the last run exited N.
expect_rc() { [[ $rc == "$1" ]] || fail "$2: expected exit $1, got $rc"; }

# json EXPR WHAT: EXPR (Python, with d = the last run's stdout parsed as JSON) holds.
json() {
    python3 - "$tmp/out" "$1" <<'PY' || fail "$2: JSON check failed: $1"
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print(f"invalid JSON: {e}", file=sys.stderr)
    sys.exit(1)
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

