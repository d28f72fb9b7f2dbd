#!/usr/bin/env bash
# Red team: --help and `help` with hostile command names, pagers and man paths. No word a user
# types reaches a shell or names the page: only the table's pages are opened (or the overview),
# and an unknown command opens nothing.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
mkdir -p fakeman
cat >fakeman/man <<'MAN'
#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done >>"$MAN_LOG"
echo >>"$MAN_LOG"
[ "$1" = -w ] && echo "/somewhere/$2.1"
exit 0
MAN
chmod +x fakeman/man
export MAN_LOG="$TEST_DIR/man.log"
FAKE_PATH="$TEST_DIR/fakeman:$PATH"
HOSTILE=("../../x" "../x" '$(touch PWNED)' '`touch PWNED`' 'tag;touch PWNED' $'tag\ntouch PWNED' \
         "$TEST_DIR/fakeman/man" "-w" "--" "tag/../sweep" $'\xff\xfe' "")

# An unknown command with --help: a usage error (2) and man never runs.
for name in "${HOSTILE[@]}"; do
    [ "$name" = "--" ] || [ "$name" = "-w" ] || [ -z "$name" ] && continue
    : >"$MAN_LOG"
    run_expect 2 env PATH="$FAKE_PATH" git-model "$name" --help
    assert_eq "$(cat "$MAN_LOG")" "" "man calls of git-model $(printf %q "$name") --help"
    : >"$MAN_LOG"
    run_expect 2 env PATH="$FAKE_PATH" git-model-env "$name" --help
    assert_eq "$(cat "$MAN_LOG")" "" "man calls of git-model-env $(printf %q "$name") --help"
done

# `help <name>` for a name that is no command: only the overview, never a page named by the user.
for name in "${HOSTILE[@]}"; do
    : >"$MAN_LOG"
    run_expect 0 env PATH="$FAKE_PATH" git-model help "$name"
    assert_eq "$(cat "$MAN_LOG")" "[-w][git-model]
[git-model]" "man calls of git-model help $(printf %q "$name")"
    : >"$MAN_LOG"
    run_expect 0 env PATH="$FAKE_PATH" git-model-env help "$name"
    assert_eq "$(cat "$MAN_LOG")" "[-w][git-model-env]
[git-model-env]" "man calls of git-model-env help $(printf %q "$name")"
done
# `help` alone and a known command still work.
: >"$MAN_LOG"
run_expect 0 env PATH="$FAKE_PATH" git-model help
assert_eq "$(tail -n 1 "$MAN_LOG")" "[git-model]" "git-model help opens the overview"
: >"$MAN_LOG"
run_expect 0 env PATH="$FAKE_PATH" git-model help sweep '$(touch PWNED)'
assert_eq "$(tail -n 1 "$MAN_LOG")" "[git-model-sweep]" "extra words after help <cmd> are ignored"
assert_no_path "$TEST_DIR/PWNED"

# Odd pagers and a hostile MANPATH with the real man: the pager is the user's own choice, but
# nothing of ours is run through it as a command line of our making, and the words typed stay out.
if command -v man >/dev/null && man -w man >/dev/null 2>&1; then
    mkdir -p hostile/man1
    printf '.TH EVIL 1\n.SH NAME\nevil \\- hostile page\n' >hostile/man1/evil.1
    for pager in 'cat' 'cat; touch PWNED_PAGER #' ''; do
        run_expect 0 env MANPAGER="$pager" PAGER="$pager" MANPATH="$TEST_DIR/hostile:$GM_STAGE/share/man" \
            git-model help '../hostile/man1/evil.1' </dev/null
        assert_not_contains "$OUT" "hostile page" "a page path typed after help is never opened"
        run_expect 2 env MANPAGER="$pager" PAGER="$pager" MANPATH="$TEST_DIR/hostile" \
            git-model "$TEST_DIR/hostile/man1/evil.1" --help </dev/null
        assert_not_contains "$OUT" "hostile page" "a page path typed as a command is never opened"
    done
    # A MANPATH without our pages: --help says so and prints the usage.
    run_expect 0 env MANPATH="$TEST_DIR/hostile" git-model sweep --help </dev/null
    assert_contains "$ERR" "no manual page 'git-model-sweep'"
else
    echo "SKIP: no working man here; the real-man part is not run"
fi
# No man at all: --help prints the usage and says why (PATH without man).
mkdir -p noman
for tool in git git-model git-model-env; do ln -sf "$(command -v "$tool")" "noman/$tool"; done
run_expect 0 env PATH="$TEST_DIR/noman" "$TEST_DIR/noman/git-model" tag --help </dev/null
assert_contains "$OUT$ERR" "usage: git model tag"
assert_no_path "$TEST_DIR/PWNED"
