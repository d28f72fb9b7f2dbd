#!/usr/bin/env bash
# The manual: every page is installed where man finds it and renders without a warning (groff
# -ww, man -l); every command (and alias) of every suite, and every long option each command's
# -h lists, is in the command's own page, the one its --help opens (an option of `tag` in
# git-model-tag(1), of `env up` in git-model-env-up(1), of bench in git-model-bench(1)); every
# command is in its suite's overview (git-model(1), git-model-env(1)). An option added without
# documentation fails here.
. "$(dirname "$0")/lib.sh"

command -v groff >/dev/null || { echo "groff is not installed"; exit 125; }
MAN="$GM_STAGE/share/man"
# The option lists come from the installed completion script, so completion and this test agree.
set +u
. "$GM_STAGE/share/bash-completion/completions/git-model" 2>/dev/null || true
set -u
declare -F __git_model_option_list >/dev/null || fail "the bash completion script does not load"

render() {  # PAGE: plain ASCII text, wide lines so that no name is broken across two
    LC_ALL=C groff -mandoc -Tascii -rLL=250n -P-c -P-b -P-u "$1" 2>/dev/null
}

# Every page of the sources is installed, and nothing else is.
pages=()
for source in "$GM_SOURCE_DIR"/man/*.adoc; do
    page=$(basename "$source" .adoc)
    [ -f "$MAN/man${page##*.}/$page" ] || fail "man page $page is not installed (from man/$page.adoc)"
    pages+=("$page")
done
[ ${#pages[@]} -ge 20 ] || fail "only ${#pages[@]} man pages in man/: a page per command is missing"
# A page documenting several commands has a link page per further name, and every git-model-<x>
# page a link page gitmodel-<x> (what `git help model-<x>` asks man for); each resolves.
links=0
for file in "$MAN"/man1/git-model*.1 "$MAN"/man1/gitmodel*.1 "$MAN"/man5/gitmodel*.5; do
    page=$(basename "$file")
    [ -f "$GM_SOURCE_DIR/man/$page.adoc" ] && continue
    target=$(sed -n '1s/^\.so //p' "$file")
    [ -n "$target" ] || fail "installed page $page has no source in man/ and is no link page"
    [ -f "$MAN/$target" ] || fail "link page $page points at $target, which is not installed"
    (cd "$MAN" && groff -mandoc -ww -z "man${page##*.}/$page") || fail "link page $page does not render"
    links=$((links + 1))
done
for name in git-model-env-shell git-model-env-logs; do
    assert_eq "$(cat "$MAN/man1/$name.1")" ".so man1/git-model-env-exec.1" "link page $name.1"
done
expected=2
for file in "$MAN"/man1/git-model-*.1; do
    name=$(basename "$file" .1)
    assert_eq "$(sed -n 1p "$MAN/man1/gitmodel-${name#git-model-}.1" 2>/dev/null)" \
        ".so man1/$(sed -n '1s|^\.so man1/||p' "$file" | grep . || echo "$name.1")" "gitmodel-${name#git-model-}.1"
    expected=$((expected + 1))
done
assert_eq "$links" "$expected" "link pages"

# Rendering: no warning from groff (all warnings on) nor from man.
for page in "${pages[@]}"; do
    file="$MAN/man${page##*.}/$page"
    run_expect 0 groff -mandoc -ww -z "$file"
    assert_eq "$ERR" "" "groff warnings for $page"
    if command -v man >/dev/null; then
        run_expect 0 env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$file"
        assert_eq "$ERR" "" "man warnings for $page"
        assert_contains "$OUT" "NAME"
    fi
done

# undocumented TEXT NAME...: the names (commands or options) TEXT does not mention.
undocumented() {
    local text=$1 name
    shift
    for name in "$@"; do
        case "$name" in
        --*) grep -qE -- "(^|[^a-zA-Z0-9-])${name}([^a-zA-Z0-9-]|\$)" <<<"$text" || echo "$name" ;;
        *) grep -qE -- "(git model( env)? ${name}([^a-z-]|\$))|(^ +([a-z-]+, )*${name}(,| |\$))" <<<"$text" \
               || echo "$name" ;;
        esac
    done
}

# The check itself catches what it should.
sample=$(printf '       start <name>\n       list, ls\n           --json print it\n')
assert_eq "$(undocumented "$sample" start ls list --json --base frob)" "$(printf -- '--base\nfrob')" "self-test"

# Which page `PROGRAM CMD --help` opens, asked of the installed program itself through a stand-in
# man that records its argument (t-help.sh checks the real man opens the same page).
mkdir -p "$TEST_DIR/fakeman"
cat >"$TEST_DIR/fakeman/man" <<'FAKE'
#!/bin/sh
[ "$1" = -w ] && exit 0
echo "$1" >"$MAN_LOG"
exit 0
FAKE
chmod +x "$TEST_DIR/fakeman/man"
export MAN_LOG="$TEST_DIR/man.log"
page_of() {  # PROGRAM CMD: the page name (e.g. git-model-tag)
    : >"$MAN_LOG"
    PATH="$TEST_DIR/fakeman:$PATH" "$1" "$2" --help </dev/null >/dev/null 2>&1 || true
    cat "$MAN_LOG"
}

problems=()
check_suite() {  # PROGRAM OVERVIEW-PAGE
    local program=$1 overview=$2 text names line cmd opts missing page
    text=$(render "$MAN/man1/$overview")
    names=$("$program" --list-commands) || fail "$program --list-commands"
    [ -n "$names" ] || fail "$program lists no commands"
    while read -r line; do
        # shellcheck disable=SC2086
        for missing in $(undocumented "$text" $line); do problems+=("$overview: command '$missing'"); done
        cmd=${line%% *}
        [ "$cmd" = env ] || [ "$cmd" = bench ] || {
            page=$(page_of "$program" "$cmd")
            [ -n "$page" ] || { problems+=("$program $cmd --help opens no page"); continue; }
            [ -f "$MAN/man1/$page.1" ] || { problems+=("$program $cmd --help opens $page, not installed"); continue; }
            [ "$page" != "$program" ] || problems+=("$program $cmd --help opens the overview, not a page of its own")
            ptext=$(render "$MAN/man1/$page.1")
            # shellcheck disable=SC2086
            for missing in $(undocumented "$ptext" $line); do problems+=("$page.1: command '$missing'"); done
            opts=$(__git_model_option_list "$program" "$cmd" | sed 's/=$//' | grep -vx -- --help || true)
            # shellcheck disable=SC2086
            for missing in $(undocumented "$ptext" $opts); do problems+=("$page.1: $cmd's option $missing"); done
            CHECKS=$((CHECKS + 1))
        }
    done <<<"$names"
    missing=$(undocumented "$text" --help)
    [ -z "$missing" ] || problems+=("$overview: --help")
}
check_suite git-model git-model.1
check_suite git-model-env git-model-env.1

if [ -f "$MAN/man1/git-model-bench.1" ]; then
    text=$(render "$MAN/man1/git-model-bench.1")
    opts=$(__git_model_option_list git-model-bench | sed 's/=$//')
    [ -n "$opts" ] || fail "git-model-bench -h lists no options"
    # shellcheck disable=SC2086
    for missing in $(undocumented "$text" $opts); do problems+=("git-model-bench.1: option $missing"); done
    CHECKS=$((CHECKS + 1))
fi

if [ ${#problems[@]} -gt 0 ]; then
    printf 'undocumented: %s\n' "${problems[@]}" >&2
    OUT= ERR=
    fail "${#problems[@]} commands or options are not in their man page"
fi
