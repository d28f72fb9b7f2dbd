#!/usr/bin/env bash
# Red team (issue 17): children that run in a process group of their own (a timeout kills the
# group whole) no longer get the terminal's Ctrl-C. When Ctrl-C (SIGINT to the foreground
# group, as a terminal sends it) ends git-model, such a child must end too, not run on as an
# orphan: here the pre-push GPU check (git-model-bench, faked by a script that sleeps).
# And a user's pre-push hook that takes 10 s is not cut short by any default limit.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
# A copy of the installed suite whose git-model-bench only sleeps (found beside git-model).
mkdir -p stage/bin stage/share
cp "$GM_STAGE/bin/git-model" "$GM_STAGE/bin/git-model-env" stage/bin/
cp -r "$GM_STAGE/share/git-model" stage/share/
cat >stage/bin/git-model-bench <<SH
#!/bin/sh
echo \$\$ > "$TEST_DIR/bench.pid"
exec sleep 60
SH
chmod +x stage/bin/git-model-bench
export PATH="$TEST_DIR/stage/bin:$PATH"

git init -q repo
git init -q --bare remote.git
cd repo
echo one >file && git add file && git commit -qm one
git remote add origin ../remote.git
git push -q origin main
git model hooks install >/dev/null 2>&1 || fail "hooks install"
git config model.bench.beforePush always


# Ctrl-C while the GPU check runs: `setsid` gives the push a group of its own, as a shell's job
# control would, and SIGINT goes to that whole group. (env --default-signal: a background job of
# a script starts with SIGINT ignored; a terminal's job does not.)
rm -f "$TEST_DIR/bench.pid"
setsid env --default-signal=INT bash -c 'echo $$ >"$0/pgid"; exec git push origin main:feature/model-a' "$TEST_DIR" \
    >"$TEST_DIR/push.out" 2>&1 &
push=$!
for _ in $(seq 100); do [ -s "$TEST_DIR/bench.pid" ] && break; sleep 0.1; done
[ -s "$TEST_DIR/bench.pid" ] || fail "the GPU check never started: $(cat "$TEST_DIR/push.out")"
bench=$(cat "$TEST_DIR/bench.pid")
alive "$bench" || fail "the fake bench is not running"
kill -INT -- "-$(cat "$TEST_DIR/pgid")"
rc=0
wait "$push" || rc=$?
assert_eq "$rc" 130 "exit status of the interrupted push"
for _ in $(seq 20); do alive "$bench" || break; sleep 0.1; done
CHECKS=$((CHECKS + 1))
if alive "$bench"; then
    kill -KILL "$bench" 2>/dev/null || true
    fail "Ctrl-C ended the push, but the GPU check it started (pid $bench) still runs as an orphan"
fi
assert_eq "$(git -C ../remote.git for-each-ref --format='%(refname)' refs/heads/feature)" "" "branches pushed"

# A user's own pre-push hook (chained behind the shim) that takes 10 s: the push waits for it.
git config model.bench.beforePush never
git model hooks uninstall >/dev/null 2>&1 || true
printf '#!/bin/sh\nsleep 10\necho slow-hook-done >&2\n' >.git/hooks/pre-push
chmod +x .git/hooks/pre-push
run_expect 0 git model hooks install --chain
[ -x .git/hooks/pre-push.git-model-chained ] || fail "the user's hook was not chained: $(ls .git/hooks)"
start=$(date +%s)
run_expect 0 git push origin main:feature/model-b
assert_contains "$ERR" slow-hook-done "push output"
CHECKS=$((CHECKS + 1))
[ $(( $(date +%s) - start )) -ge 10 ] || fail "the push did not wait for its 10 s hook"
assert_eq "$(git -C ../remote.git rev-parse feature/model-b)" "$(git rev-parse main)" "pushed branch"
