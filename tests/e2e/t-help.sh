#!/usr/bin/env bash
# --help opens the manual, -h prints the short usage: `git model --help` (git's own `git help
# model`), `git-model --help`, `git model <cmd> --help`, `git model env [<cmd>] --help` and
# `git model bench --help` each reach `man` with the right page; the installed pages are found
# by man from the install prefix; without man or the page, --help prints the usage and says why.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
cd repo

# A stand-in man that records what it was asked for (the real one is checked below).
mkdir -p "$TEST_DIR/fakeman"
cat >"$TEST_DIR/fakeman/man" <<'MAN'
#!/bin/sh
echo "$*" >>"$MAN_LOG"
[ "$1" = -w ] && echo "/somewhere/$2.1"
exit 0
MAN
chmod +x "$TEST_DIR/fakeman/man"
export MAN_LOG="$TEST_DIR/man.log"

opens() {  # EXPECTED-PAGE CMD...: CMD ends in `man EXPECTED-PAGE`
    local expected=$1
    shift
    : >"$MAN_LOG"
    run_expect 0 env PATH="$TEST_DIR/fakeman:$PATH" "$@"
    assert_eq "$(grep -v '^-w ' "$MAN_LOG" | tail -n 1)" "$expected" "page opened by: $*"
}
opens git-model git model --help              # git turns it into `git help model`
opens git-model git help model
opens git-model git-model --help
opens git-model git model help
opens git-model git model start --help
opens git-model git model list --help
opens git-model git model doctor --help
opens git-model-env git model env --help
opens git-model-env git model env up --help
opens git-model-env git-model-env status --help
opens git-model-bench git model bench --help
# -h never opens the manual
for cmd in "" start "env" "env up" bench; do
    : >"$MAN_LOG"
    run_expect 0 env PATH="$TEST_DIR/fakeman:$PATH" git model $cmd -h
    assert_contains "$OUT" "usage: git model"
    assert_eq "$(cat "$MAN_LOG")" "" "man calls of git model $cmd -h"
done
# -h prints help everywhere: every command and subcommand, and never does the work. The hooks
# are tried with something they would refuse staged, so running the check instead shows.
printf 'x' >refused.pt && git add refused.pt
for cmd in start list ls tag log best compare status finish prune doctor "ci" "ci init" hooks "hooks install" \
    "hooks status" "hooks uninstall" hook "hook pre-commit" "hook pre-push" sweep "sweep start" "sweep status" \
    "sweep cancel" "sweep resume" "sweep clean" "sweep report" env "env up" "env down" "env status" "env check" \
    "env exec" "env shell" "env logs" bench; do
    : >"$MAN_LOG"
    run_expect 0 env PATH="$TEST_DIR/fakeman:$PATH" git model $cmd -h </dev/null
    want=${cmd%% *} && [ "$want" = ls ] && want=list   # ls is list's alias
    assert_contains "$OUT" "usage: git model $want" "git model $cmd -h"
    assert_eq "$(cat "$MAN_LOG")" "" "man calls of git model $cmd -h"
    assert_not_contains "$ERR" "refused" "git model $cmd -h ran its check"
done
run_expect 0 git model hook pre-commit -h
assert_contains "$OUT" "usage: git model hook pre-commit"
run_expect 0 git model hook pre-push -h </dev/null
assert_contains "$OUT" "usage: git model hook pre-push"
CHECKS=$((CHECKS + 1)); [ ! -e .git/hooks/pre-commit ] || fail "hooks install -h installed the hooks"
git rm -q --cached refused.pt && rm refused.pt
# after --, --help is an argument (env exec passes it to the container's program)
: >"$MAN_LOG"
run_expect 2 env PATH="$TEST_DIR/fakeman:$PATH" git model start -- --help
assert_eq "$(cat "$MAN_LOG")" "" "man calls after --"

# The real man finds the installed pages from the prefix: by PATH (man-db looks beside each
# bin folder), and by MANPATH as `git help` users set it.
if command -v man >/dev/null; then
    export MANPAGER=cat PAGER=cat MANWIDTH=80
    run_expect 0 env MANPATH="$GM_STAGE/share/man" man -w git-model git-model-env gitmodelenv
    assert_contains "$OUT" "$GM_STAGE/share/man/man1/git-model.1"
    assert_contains "$OUT" "$GM_STAGE/share/man/man1/git-model-env.1"
    assert_contains "$OUT" "$GM_STAGE/share/man/man5/gitmodelenv.5"
    run_expect 0 man -w git-model
    assert_eq "$OUT" "$GM_STAGE/share/man/man1/git-model.1" "man -w git-model found by PATH"
    run_expect 0 env MANPATH="$GM_STAGE/share/man" git help model
    assert_contains "$OUT" "git-model - one model, one branch, one worktree"
    run_expect 0 git model --help
    assert_contains "$OUT" "git-model - one model, one branch, one worktree"
    run_expect 0 git model env --help
    assert_contains "$OUT" "git-model-env - "
    run_expect 0 git model env up --help
    assert_contains "$OUT" "GIT-MODEL-ENV(1)"
    if [ -f "$GM_STAGE/share/man/man1/git-model-bench.1" ]; then
        run_expect 0 git model bench --help
        assert_contains "$OUT" "GIT-MODEL-BENCH(1)"
    fi
    # a page man cannot find: the short usage, and a note that says why
    run_expect 0 env MANPATH="$TEST_DIR/no-pages" git-model start --help
    assert_contains "$OUT" "usage: git model start"
    assert_contains "$ERR" "no manual page 'git-model'"
fi

# no man at all: the same
run_expect 0 env PATH="$GM_STAGE/bin" "$GM_STAGE/bin/git-model" --help
assert_contains "$OUT" "usage: git model <command>"
assert_contains "$ERR" "no manual page"
run_expect 0 env PATH="$GM_STAGE/bin" "$GM_STAGE/bin/git-model" env up --help
assert_contains "$OUT" "usage: git model env up"
run_expect 0 env PATH="$GM_STAGE/bin" "$GM_STAGE/bin/git-model-bench" --help
assert_contains "$OUT" "usage: git model bench"
assert_contains "$ERR" "no manual page 'git-model-bench'"
