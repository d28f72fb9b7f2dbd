#!/usr/bin/env bash
# Red team: `git model sweep start --export k8s|slurm` with hostile paths and values.
# A repository whose folder name holds a newline must not turn that name into a line
# of the generated sbatch script (a shell command) or of the k8s manifest (YAML keys);
# values and names stay data; -o never writes through a symlink.
. "$(dirname "$0")/lib.sh"

# The repository lives in a folder whose name is a newline, a shell command and a YAML key.
EVIL="$TEST_DIR/x"$'\n'"touch $TEST_DIR/PWNED"$'\n'"injected: yes"$'\n'"#"
mkdir -p "$EVIL"
cd "$EVIL"
make_repo repo
git -C repo config model.installHooks never
printf 'image: registry.example.com/team/pytorch:2.4.0\nenv:\n  QUOTE: "a'"'"'b\\" $(touch PWNED2) `id` c"\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml
git -C repo commit -q -m environment
run_expect 0 git -C repo model start net
WT="$EVIL/worktrees/feature/model-net"
SWEEPS="$EVIL/repo/.git/git-model/sweeps"

# --- k8s: every manifest parses, has only the Job's keys, and the values stay data.
run_expect 0 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/job.yaml" \
    --grid "lr=1e-3,'\$(touch $TEST_DIR/PWNED3)" -- sh -c 'printf "%s" "$0" > out' '{lr}'
keys=$(python3 - "$TEST_DIR/job.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1], "rb")))
assert len(docs) == 1, docs
print(" ".join(sorted(docs[0].keys())))
PY
)
assert_eq "$keys" "apiVersion kind metadata spec" "the folder name adds no key to the k8s manifest"
env_value=$(python3 -c 'import sys,yaml; c=yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]; print(repr([e["value"] for e in c["env"] if e["name"]=="QUOTE"][0]))' "$TEST_DIR/job.yaml")
assert_eq "$env_value" "'a\\'b\" \$(touch PWNED2) \`id\` c'" "an env value with quotes, \$() and backticks is carried verbatim"
script=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]["command"][2])' "$TEST_DIR/job.yaml")
JOB_COMPLETION_INDEX=1 sh -c "$script"
assert_eq "$(cat "$EVIL/worktrees/feature/model-net.sweep-1-2/out")" "'\$(touch $TEST_DIR/PWNED3)" "a parameter value is one word, not a command"
assert_no_path "$TEST_DIR/PWNED3"

# --- slurm: #SBATCH --output names the sweep's folder, so a line break there would make
# the rest of the folder's name a shell line of the batch script. The export is refused instead,
# naming why, and no run is left behind; nothing from the name ever runs.
run_expect 1 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/sweep.sbatch" --grid lr=1,2 -- true
assert_contains "$ERR" "line break"
assert_contains "$ERR" "the sweep's runs were removed"
assert_no_path "$TEST_DIR/sweep.sbatch"
assert_no_path "$EVIL/worktrees/feature/model-net.sweep-2-1"
# The same refusal with --report-job and a split sweep (MaxArraySize 2): no wrapper, no report.sbatch.
git -C repo config model.slurm.maxArraySize 2
run_expect 1 git -C "$WT" model sweep start --export slurm --report-job --grid lr=1,2,3 -- true
assert_contains "$ERR" "line break"
for f in "$SWEEPS"/*/*.sbatch; do
    [ -e "$f" ] || continue
    python3 - "$f" <<'PY' || fail "a line of $f came from the folder name"
import sys
lines = open(sys.argv[1], "rb").read().decode("utf-8", "replace").split("\n")
sys.exit(1 if [l for l in lines if l.startswith("touch ") or l.startswith("injected")] else 0)
PY
    CHECKS=$((CHECKS + 1))
done
assert_no_path "$TEST_DIR/PWNED"

# --- -o through a symlink: the link is replaced, the file it points at is left alone.
cd "$TEST_DIR"
printf 'precious\n' >precious.txt
ln -s precious.txt link.yaml
run_expect 0 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/link.yaml" --grid lr=1 -- true
assert_eq "$(cat precious.txt)" "precious" "-o does not write through a symlink"
# -o a folder, or a path that cannot be written (under a file; root writes through 0555): a clear
# error and no sweep left behind.
mkdir -p adir
before=$(ls "$SWEEPS" | wc -l)
run_expect 1 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/adir" --grid lr=1 -- true
assert_contains "$ERR" "adir"
run_expect 1 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/precious.txt/s.yaml" --grid lr=1 -- true
assert_contains "$ERR" "precious.txt/s.yaml"
assert_eq "$(ls "$SWEEPS" | wc -l)" "$before" "a refused -o leaves no sweep"

# A '"' in the folder: no #SBATCH directive can hold it once quoted, so --export slurm says so.
Q="$TEST_DIR/q\"uote"
mkdir -p "$Q"
cd "$Q"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
run_expect 1 git -C "$Q/worktrees/feature/model-net" model sweep start --export slurm --no-container --grid lr=1 -- true
assert_contains "$ERR" "holds a '\"'"
assert_no_path "$Q/worktrees/feature/model-net.sweep-1-1"

# --- cancel, then resume, of a sweep exported with --export slurm (never submitted by git model).
cd "$TEST_DIR"
make_repo plain
git -C plain config model.installHooks never
run_expect 0 git -C plain model start net
PW="$TEST_DIR/worktrees/feature/model-net"
run_expect 0 git -C "$PW" model sweep start --export slurm --no-container --gpus-per-run 0 --grid lr=1,2 \
    -- sh -c 'echo ran > ran'
PS="$TEST_DIR/plain/.git/git-model/sweeps/1"
run_expect 0 git -C "$PW" model sweep cancel 1
# The script was submitted by hand (git model knows no job id to scancel): a task that starts
# after the cancel leaves its run cancelled instead of running it.
SLURM_ARRAY_TASK_ID=1 sh "$PS/sweep.sbatch" >/dev/null 2>&1 || true
assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-1-1/ran"
run_expect 0 git -C "$PW" model sweep status 1
assert_contains "$OUT" "2 cancelled" "a task started after cancel does not run its run"
# A resume that sbatch refuses schedules nothing: the runs stay cancelled (not "queued" with no
# job), and the next resume is not refused as "still queued in Slurm". (A slurm.conf that sbatch
# cannot parse makes it refuse at once, on any machine.)
printf 'NotAKey=1\n' >"$TEST_DIR/bad-slurm.conf"
run_expect 1 env SLURM_CONF="$TEST_DIR/bad-slurm.conf" git -C "$PW" model sweep resume 1
run_expect 0 git -C "$PW" model sweep status 1
assert_contains "$OUT" "2 cancelled" "a failed resume leaves the runs as they were"
run_expect 1 env SLURM_CONF="$TEST_DIR/bad-slurm.conf" git -C "$PW" model sweep resume 1
assert_not_contains "$ERR" "still queued" "a second resume after a failed one is not refused"
