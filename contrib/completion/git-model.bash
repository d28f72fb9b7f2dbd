# bash completion for git-model: `git model <TAB>` and `git-model <TAB>`.
#
# Installed as <prefix>/share/bash-completion/completions/git-model, where bash-completion
# finds it on its own: git's completion loads "git-model" the first time `git model` is
# completed, and calls _git_model. Commands come from `git-model --list-commands`, options
# from each command's -h (so they are never out of date), model names from the branches
# feature/model-*, environment names from `git model env status --json`, snapshot names from
# the tags model/<model>/v<N>, metric names from those tags' Metric lines, sweep ids from the
# sweeps recorded under the common git dir.

# Git's completion provides __gitcomp, __git and __git_complete; load it if it is not yet.
if ! declare -F __git_complete >/dev/null 2>&1; then
    if declare -F _completion_loader >/dev/null 2>&1; then
        _completion_loader git >/dev/null 2>&1
    fi
    if ! declare -F __git_complete >/dev/null 2>&1; then
        for __git_model_file in /usr/share/bash-completion/completions/git /etc/bash_completion.d/git \
            /usr/share/git/completion/git-completion.bash; do
            if [ -r "$__git_model_file" ]; then . "$__git_model_file"; break; fi
        done
        unset __git_model_file
    fi
fi

declare -gA __git_model_cache 2>/dev/null || true

# __git_model_cached KEY COMMAND...: COMMAND's output, run once per shell for each KEY.
__git_model_cached ()
{
    local key=$1
    shift
    if [ -z "${__git_model_cache[$key]+set}" ]; then
        __git_model_cache[$key]=$("$@" 2>/dev/null)
    fi
    printf '%s\n' "${__git_model_cache[$key]}"
}

# __git_model_command_names PROGRAM: the commands of git-model or git-model-env (first names only).
__git_model_command_names ()
{
    __git_model_cached "commands $1" "$1" --list-commands | awk '{print $1}'
}

# __git_model_option_list PROGRAM [COMMAND]: the long options COMMAND's -h lists, one a line,
# with "=" after those that take a value (git's convention). Also used by the documentation test.
__git_model_option_list ()
{
    "$@" -h 2>/dev/null | awk '
        /^ +-/ {
            line = $0
            sub(/^ +/, "", line)
            if (line ~ /^-[a-zA-Z] \[ --/) sub(/^-[a-zA-Z] \[ /, "", line)
            else if (line ~ /^-[a-zA-Z], --/) sub(/^-[a-zA-Z], /, "", line)
            if (line !~ /^--[a-z0-9]/) next
            match(line, /^--[a-z0-9][a-z0-9-]*/)
            name = substr(line, 1, RLENGTH)
            rest = substr(line, RLENGTH + 1)
            sub(/^ \]/, "", rest)
            if (rest ~ /^ (<|arg)/ || rest ~ /^=/) print name "="; else print name
        }'
}

# __git_model_usage PROGRAM [COMMAND]: the first line of -h, "usage: ...".
__git_model_usage ()
{
    __git_model_cached "usage $*" "$@" -h | sed -n '1s/^usage: //p'
}

# Model names: the branches feature/model-<name> of the repository being completed in. A sweep's
# runs (<model>.sweep-<id>-<k>) are offered only once the word asks for them (holds ".sweep-"):
# dozens of them would bury the models people started.
__git_model_models ()
{
    local all
    all=$(__git for-each-ref --format='%(refname:strip=3)' 'refs/heads/feature/model-*' 2>/dev/null | sed -n 's/^model-//p')
    case "${cur-}" in
    *.sweep-*) printf '%s\n' "$all" ;;
    *) printf '%s\n' "$all" | grep -vE '\.sweep-[0-9]+-[0-9]+$' ;;
    esac
}

# Environment names: the models that have an environment (`git model env status --json`).
__git_model_environments ()
{
    __git model env status --json 2>/dev/null | sed -n 's/^ *"model": "\(.*\)",\{0,1\}$/\1/p'
}

# Snapshot names: the tags model/<model>/v<N> (and v<N> of the worktree's own model).
__git_model_snapshots ()
{
    __git for-each-ref --format='%(refname:strip=2)' 'refs/tags/model/' 2>/dev/null | grep -E '^model/[^/]+/v[0-9]+$'
    local own
    own=$(__git symbolic-ref --short -q HEAD 2>/dev/null | sed -n 's|^feature/model-||p')
    [ -z "$own" ] || __git for-each-ref --format='%(refname:strip=3)' "refs/tags/model/$own/" 2>/dev/null |
        grep -E '^v[0-9]+$'
}

# Sweep ids: the sweeps recorded in the repository's common git dir.
__git_model_sweep_ids ()
{
    local dir
    dir=$(__git rev-parse --git-common-dir 2>/dev/null) || return
    [ -d "$dir/git-model/sweeps" ] || return
    ls "$dir/git-model/sweeps" 2>/dev/null | grep -E '^[0-9]+$' | sort -n
}

# __git_model_metric_names [MODEL]: the metric names the model's snapshots record (the
# worktree's model when none is named; every model's where neither is known).
__git_model_metric_names ()
{
    local model=$1
    case "$model" in *=*) model= ;; esac  # the value of an option, not a model
    [ -n "$model" ] || model=$(__git symbolic-ref --short -q HEAD 2>/dev/null | sed -n 's|^feature/model-||p')
    __git for-each-ref --format='%(contents:trailers:key=Metric,valueonly)' "refs/tags/model/${model:+$model/}" \
        2>/dev/null | sed -n 's/^\([^=]*\)=.*$/\1/p' | sort -u
}

# __git_model_complete_options PROGRAM [COMMAND]: completes an option, or an option's value.
__git_model_complete_options ()
{
    case "$cur" in
    --base=*|--onto=*|--into=*)
        __git_complete_refs --cur="${cur#*=}"
        return
        ;;
    --file=*)
        return
        ;;
    -*)
        __gitcomp "$(__git_model_cached "options $*" __git_model_option_list "$@")"
        return
        ;;
    esac
    return 1
}

_git_model ()
{
    local i start sub="" sub_idx=0 arg="" prog=git-model
    if [ "${words[0]##*/}" = git-model ]; then
        start=1
    else
        start=$(( ${__git_cmd_idx:-1} + 1 ))
    fi
    for ((i = start; i < cword; i++)); do
        case "${words[i]}" in
        -*) ;;
        *) sub=${words[i]}; sub_idx=$i; break ;;
        esac
    done

    if [ -z "$sub" ]; then
        case "$cur" in
        -*) __gitcomp "-h --help --version" ;;
        *) __gitcomp "$(__git_model_command_names git-model)" ;;
        esac
        return
    fi

    # The first word after the command that is not an option: an action, a model, an env command.
    for ((i = sub_idx + 1; i < cword; i++)); do
        case "${words[i]}" in
        -*) ;;
        *) arg=${words[i]}; break ;;
        esac
    done

    case "$sub" in
    env)
        if [ -z "$arg" ]; then
            case "$cur" in
            -*) __gitcomp "-h --help" ;;
            *) __gitcomp "$(__git_model_command_names git-model-env)" ;;
            esac
            return
        fi
        __git_model_complete_options git-model-env "$arg" && return
        # Only the first positional word after the env command is a model.
        local n=0
        for ((i = sub_idx + 2; i < cword; i++)); do
            case "${words[i]}" in -*) ;; *) n=$((n + 1)) ;; esac
        done
        [ $n -eq 0 ] || return
        case "$arg" in
        up|check|pin)
            __gitcomp_nl "$(__git_model_models)"
            ;;
        down|exec|shell|logs)
            local envs
            envs=$(__git_model_environments)
            [ -n "$envs" ] || envs=$(__git_model_models)
            __gitcomp_nl "$envs"
            ;;
        esac
        return
        ;;
    bench)
        __git_model_complete_options git-model-bench
        return
        ;;
    sweep)
        # git model sweep <action> [options]: each action has its own -h; the first word after
        # any action but start is a sweep id.
        if [ -z "$arg" ]; then
            __gitcomp "start status cancel resume extend clean report promote"
            return
        fi
        __git_model_complete_options "$prog" sweep "$arg" && return
        case "$prev" in --metric) return ;; esac
        local n=0
        for ((i = sub_idx + 2; i < cword; i++)); do
            case "${words[i]}" in -*) ;; *) n=$((n + 1)) ;; esac
        done
        case "$arg" in
        status|cancel|resume|extend|clean|report|promote) [ $n -eq 0 ] && __gitcomp_nl "$(__git_model_sweep_ids)" ;;
        esac
        return
        ;;
    esac

    # --metric: the metric names the model's snapshots record.
    case "$cur" in
    --metric=*)
        __gitcomp_nl "$(__git_model_metric_names "$arg")" "" "${cur#--metric=}" "$([ "$sub" = tag ] && echo = || echo ' ')"
        return
        ;;
    esac
    if [ "$prev" = --metric ]; then
        __gitcomp_nl "$(__git_model_metric_names "$arg")" "" "$cur" "$([ "$sub" = tag ] && echo = || echo ' ')"
        return
    fi

    __git_model_complete_options "$prog" "$sub" && return
    case "$sub" in
    hooks) [ -n "$arg" ] || __gitcomp "install uninstall status" ;;
    gpus)
        case "$prev" in
        --dir) return ;;
        --group) __gitcomp_nl "$(getent group 2>/dev/null | cut -d: -f1)"; return ;;
        esac
        [ -n "$arg" ] || __gitcomp "init release"
        ;;
    hook) [ -n "$arg" ] || __gitcomp "pre-push pre-commit" ;;
    compare)
        # Two snapshots.
        local n=0
        for ((i = sub_idx + 1; i < cword; i++)); do
            case "${words[i]}" in -*) ;; *) n=$((n + 1)) ;; esac
        done
        [ $n -ge 2 ] || __gitcomp_nl "$(__git_model_snapshots)"
        ;;
    ci) [ -n "$arg" ] || __gitcomp "init" ;;
    *)
        case "$prev" in
        --base|--onto|--into) __git_complete_refs; return ;;
        esac
        # A command whose usage names an existing <model> completes model names.
        case "$(__git_model_usage "$prog" "$sub")" in
        *"<model>"*) [ -n "$arg" ] || __gitcomp_nl "$(__git_model_models)" ;;
        esac
        ;;
    esac
}

# `git-model <TAB>` too, with git's word handling.
if declare -F __git_complete >/dev/null 2>&1; then
    __git_complete git-model _git_model
fi
