#!/usr/bin/env bash
# The manual: every page is installed where man finds it and renders without a warning (groff
# -ww, man -l); every command (and alias) of every suite, and every long option each command's
# -h lists, is in its page: git model's in git-model(1), git model env's in git-model-env(1),
# git model bench's in git-model-bench(1). An option added without documentation fails here.
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

# Rendering: no warning from groff (all warnings on) nor from man.
for page in git-model.1 git-model-env.1 git-model-bench.1 gitmodelenv.5; do
    file="$MAN/man${page##*.}/$page"
    [ -f "$file" ] || fail "man page $page is not installed (man/${page}.adoc missing?)"
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

problems=()
check_suite() {  # PROGRAM PAGE
    local program=$1 page=$2 text names line cmd opts missing
    text=$(render "$MAN/man1/$page")
    names=$("$program" --list-commands) || fail "$program --list-commands"
    [ -n "$names" ] || fail "$program lists no commands"
    while read -r line; do
        # shellcheck disable=SC2086
        for missing in $(undocumented "$text" $line); do problems+=("$page: command '$missing'"); done
        cmd=${line%% *}
        [ "$cmd" = env ] || [ "$cmd" = bench ] || {
            opts=$(__git_model_option_list "$program" "$cmd" | sed 's/=$//' | grep -vx -- --help || true)
            # shellcheck disable=SC2086
            for missing in $(undocumented "$text" $opts); do problems+=("$page: $cmd's option $missing"); done
            CHECKS=$((CHECKS + 1))
        }
    done <<<"$names"
    missing=$(undocumented "$text" --help)
    [ -z "$missing" ] || problems+=("$page: --help")
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
