#!/usr/bin/env bash
# --help opens the manual, -h prints the short usage: `git model --help` (git's own `git help
# model`) and `git-model --help` open git-model(1), `git model <cmd> --help` the command's own
# page (git-model-tag(1)), `git model env --help` git-model-env(1), `git model env <cmd> --help`
# git-model-env-<cmd>(1) and `git model bench --help` git-model-bench(1); with the real man and
# git, each prints that page's NAME line, and `git help model-<cmd>` finds it through MANPATH;
# without man or the page, --help prints the usage and says why.
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
opens git-model-start git model start --help
opens git-model-list git model list --help
opens git-model-list git model ls --help
opens git-model-tag git model tag v1 --metric acc=1 --help
opens git-model-doctor git model doctor --help
opens git-model-hooks git model hooks install --help
opens git-model-hooks git model hook pre-push origin --help
opens git-model-sweep git model sweep status --help
opens git-model-env git model env --help
opens git-model-env-up git model env up --help
opens git-model-env-status git-model-env status --help
opens git-model-env-status git model env ls --help
opens git-model-env-exec git model env shell --help
opens git-model-bench git model bench --help
opens git-model-tag git model help tag                 # as `git help tag`
opens git-model-hooks git model help hook
opens git-model-env git model help env
opens git-model-bench git model help bench
opens git-model-env-up git model env help up
opens git-model git model help no-such-command
# every command opens a page of its own, never the overview
while read -r cmd _; do
    case "$cmd" in env | bench) continue ;; hook) want=git-model-hooks ;; *) want=git-model-$cmd ;; esac
    opens "$want" git model "$cmd" --help </dev/null
done < <(git-model --list-commands)
while read -r cmd _; do
    case "$cmd" in shell | logs) want=git-model-env-exec ;; *) want=git-model-env-$cmd ;; esac
    opens "$want" git model env "$cmd" --help </dev/null
done < <(git-model-env --list-commands)
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
    "sweep cancel" "sweep resume" "sweep extend" "sweep clean" "sweep report" env "env up" "env down" "env status" "env check" \
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
# sweep's subcommands dispatch through the same table: did-you-mean, usage without one (exit 2),
# and the internal ones (schedule, task) are never listed or suggested
run_expect 2 git model sweep statsu
assert_contains "$ERR" "'statsu' is not a git model sweep command"
assert_contains "$ERR" "did you mean 'git model sweep status'?"
run_expect 2 git model sweep
assert_contains "$ERR" "usage: git model sweep"
run_expect 0 git model sweep --list-commands
assert_eq "$(tr '\n' ' ' <<<"$OUT")" "start status cancel resume extend clean report promote " "sweep's listed subcommands"
run_expect 2 git model sweep tsak
assert_not_contains "$ERR" "sweep task" "an internal subcommand is never suggested"
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
    if [ -f "$GM_STAGE/share/man/man1/git-model-bench.1" ]; then
        run_expect 0 git model bench --help
        assert_contains "$OUT" "GIT-MODEL-BENCH(1)"
    fi
    # name_line PAGE-TEXT: the line under NAME
    name_line() { sed -n '/^NAME/{n;p;q}' <<<"$1"; }
    # Each command's --help, through the real git and man, prints its own page; `git help
    # model-<cmd>` finds the same page through MANPATH (as `git help` users set it).
    while read -r cmd aliases; do
        case "$cmd" in env | bench) continue ;; hook) page=git-model-hooks ;; *) page=git-model-$cmd ;; esac
        for name in $cmd $aliases; do
            run_expect 0 git model "$name" --help </dev/null
            assert_contains "$(name_line "$OUT")" "$page - " "NAME of git model $name --help"
            assert_contains "$OUT" "${page^^}(1)" "title of git model $name --help"
            assert_not_contains "$OUT" "usage: git model" "git model $name --help printed the short usage"
        done
        run_expect 0 env MANPATH="$GM_STAGE/share/man" git help "${page#git-}"
        assert_contains "$(name_line "$OUT")" "$page - " "git help ${page#git-}"
    done < <(git-model --list-commands)
    while read -r cmd aliases; do
        for name in $cmd $aliases; do
            case "$cmd" in shell | logs) page=git-model-env-exec ;; *) page=git-model-env-$cmd ;; esac
            run_expect 0 git model env "$name" --help </dev/null
            assert_contains "$(name_line "$OUT")" "$page" "NAME of git model env $name --help"
            assert_contains "$(name_line "$OUT")" "git-model-env-$cmd" "NAME of git model env $name --help"
            assert_contains "$OUT" "${page^^}(1)" "title of git model env $name --help"
        done
        # git help finds every name, a command documented on a shared page through its link page
        run_expect 0 env MANPATH="$GM_STAGE/share/man" git help "model-env-$cmd"
        assert_contains "$(name_line "$OUT")" "git-model-env-$cmd" "git help model-env-$cmd"
    done < <(git-model-env --list-commands)
    # the overviews link every page: git-model(1) each command's and git-model-env(1), which links
    # each of its commands' (link pages aside)
    run_expect 0 git model --help
    overview=$OUT
    run_expect 0 git model env --help
    env_overview=$OUT
    for page in "$GM_STAGE"/share/man/man1/git-model-*.1; do
        grep -q '^\.so ' "$page" && continue
        page=$(basename "$page" .1)
        case "$page" in
        git-model-env-*) assert_contains "$env_overview" "$page(1)" "git-model-env(1) links $page" ;;
        *) assert_contains "$overview" "$page(1)" "git-model(1) links $page" ;;
        esac
    done
    # a page man cannot find: the short usage, and a note that says why
    run_expect 0 env MANPATH="$TEST_DIR/no-pages" git-model start --help
    assert_contains "$OUT" "usage: git model start"
    assert_contains "$ERR" "no manual page 'git-model-start'"
    # only the overview installed: a command's --help says its page is missing, and never
    # opens the overview instead
    mkdir -p "$TEST_DIR/overview-only/man1"
    cp "$GM_STAGE/share/man/man1/git-model.1" "$TEST_DIR/overview-only/man1/"
    run_expect 0 env MANPATH="$TEST_DIR/overview-only" git model tag --help
    assert_contains "$OUT" "usage: git model tag"
    assert_not_contains "$OUT" "GIT-MODEL(1)"
    assert_contains "$ERR" "no manual page 'git-model-tag'"
    run_expect 0 env MANPATH="$TEST_DIR/overview-only" git model sweep --help
    assert_contains "$OUT" "usage: git model sweep"
    assert_not_contains "$OUT" "GIT-MODEL(1)"
    assert_contains "$ERR" "no manual page 'git-model-sweep'"
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
