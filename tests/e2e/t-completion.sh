#!/usr/bin/env bash
# Shell completion, in a real bash with bash-completion and git's own completion loaded: the
# installed completions/git-model is found by bash-completion's loader (through XDG_DATA_DIRS, as
# for any prefix) when git's completion asks for it; commands, options, model names and
# environment names are completed. zsh: the file loads, and its function answers the same.
. "$(dirname "$0")/lib.sh"

GIT_COMPLETION=/usr/share/bash-completion/completions/git
[ -r "$GIT_COMPLETION" ] || { echo "git's bash completion is not installed"; exit 125; }
COMPLETION_FILE="$GM_STAGE/share/bash-completion/completions/git-model"
ZSH_FILE="$GM_STAGE/share/zsh/vendor-completions/_git-model"
[ -f "$COMPLETION_FILE" ] || fail "completions/git-model is not installed"
[ -f "$ZSH_FILE" ] || fail "zsh's _git-model is not installed"
CHECKS=$((CHECKS + 2))

cd "$TEST_DIR"
# The suite with a stand-in git-model-env whose `status --json` reports one environment
# (a real one needs a container); everything else goes to the real program.
mkdir -p suite/bin
cp "$GM_STAGE/bin/git-model" "$GM_STAGE/bin/git-model-bench" suite/bin/
cat >suite/bin/git-model-env <<ENV
#!/bin/sh
if [ "\$1" = status ] && [ "\$2" = --json ]; then
    printf '{\n  "environments": [\n    {\n      "model": "bert",\n      "state": "running"\n    }\n  ],\n  "version": 1\n}\n'
    exit 0
fi
exec "$GM_STAGE/bin/git-model-env" "\$@"
ENV
chmod +x suite/bin/git-model-env
export PATH="$TEST_DIR/suite/bin:$PATH"

make_repo repo
git -C repo branch feature/model-resnet50
git -C repo branch feature/model-bert
git -C repo branch feature/model-bert.sweep-1-1
git -C repo branch feature/model-bert.sweep-1-2
git -C repo branch feature/data-loader
git -C repo branch main-old

# complete DIR LINE: what bash offers at the end of LINE, typed in DIR, sorted, one a line.
complete_line() {
    local dir=$1 line=$2
    (cd "$dir" && bash --norc --noprofile -s -- "$line" <<'DRIVER'
set +u
line=$1
export XDG_DATA_DIRS="$COMPLETION_PREFIX/share:/usr/share"
if [ -r /usr/share/bash-completion/bash_completion ]; then
    . /usr/share/bash-completion/bash_completion
    __load_completion git || exit 90
else
    # Without bash-completion, git's completion and ours by hand.
    . /usr/share/bash-completion/completions/git
    . "$COMPLETION_PREFIX/share/bash-completion/completions/git-model"
fi
read -ra COMP_WORDS <<<"$line"
[ "${line: -1}" = " " ] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$line
COMP_POINT=${#line}
if ! complete -p "${COMP_WORDS[0]}" >/dev/null 2>&1; then
    __load_completion "${COMP_WORDS[0]}" 2>/dev/null || true
fi
func=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$func" ] || { echo "no completion function for ${COMP_WORDS[0]}"; exit 91; }
COMPREPLY=()
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
for word in "${COMPREPLY[@]}"; do printf '%s\n' "${word% }"; done | sort
DRIVER
    )
}
export COMPLETION_PREFIX="$GM_STAGE"

offers() {  # LINE EXPECTED...: exactly these words, in DIR=$REPO
    local line=$1
    shift
    local got expected
    got=$(complete_line "$TEST_DIR/repo" "$line") || fail "completing '$line' failed: $got"
    expected=$(printf '%s\n' "$@" | sort)
    assert_eq "$got" "$expected" "completion of '$line'"
}
includes() {  # LINE WORD...: at least these words
    local line=$1 word got
    shift
    got=$(complete_line "$TEST_DIR/repo" "$line") || fail "completing '$line' failed: $got"
    for word in "$@"; do
        CHECKS=$((CHECKS + 1))
        grep -qxF -- "$word" <<<"$got" || fail "completion of '$line' lacks '$word'; got: $(echo $got)"
    done
}

# Every command of the table, from the program itself.
commands=$(git-model --list-commands | awk '{print $1}')
offers "git model " $commands
includes "git model " start list env bench doctor ci
offers "git model st" start status
offers "git model env " $(git-model-env --list-commands | awk '{print $1}')
includes "git model env " up down status exec shell logs check pin login
offers "git model start --" --base= --no-worktree --help
offers "git model env up --" --wait= --bind-all --check --recreate --quiet --help
includes "git model bench --" --quick --json --device= --help
offers "git model bench --q" --quick
offers "git model doctor --" --json --no-bench --help
offers "git model hooks " install uninstall status
offers "git model ci " init
offers "git model gpus " init release
offers "git model gpus --" --json --dir= --group= --help --max-gpus-per-user= --max-lease-hours=
offers "git model sweep " start status cancel resume extend clean report promote
includes "git model sweep start --" --carry=
offers "git model sweep promote --r" --run=
includes "git model sweep start --" --grid= --params-file= --backend= --gpus-per-run= --max-parallel= --no-container --export=
offers "git model sweep report --m" --maximize --metric= --minimize
includes "git model ci init --" --gitlab --github --force
includes "git model tag --" --metric= --no-push --json
offers "git model prune --r" --remote --retention=
offers "git model prune --no" --no-remote
# model names: the branches feature/model-*, without the prefix
offers "git model env up " bert resnet50
offers "git model env up r" resnet50
offers "git model env check " bert resnet50
offers "git model env pin " bert resnet50
offers "git model tag " bert resnet50
# a sweep's runs only when the word asks for them (issue #16)
offers "git model tag bert.sweep-" bert.sweep-1-1 bert.sweep-1-2
offers "git model env up bert.sweep-1-" bert.sweep-1-1 bert.sweep-1-2
# environment names: from `git model env status --json`
offers "git model env down " bert
offers "git model env logs " bert
# refs for --base
includes "git model start --base=ma" main main-old
# `git-model` itself, and `git -C <repo>` from elsewhere
offers "git-model st" start status
offers "git-model env up " bert resnet50
got=$(complete_line "$TEST_DIR" "git -C repo model env up ")
assert_eq "$got" "$(printf 'bert\nresnet50')" "models through git -C"

# snapshot names for compare, metric names (from the snapshots' Metric lines) for --metric, sweep ids
snapshot() {  # TAG COMMIT METRIC...: an annotated snapshot tag as git model tag writes it
    local tag=$1 commit=$2 model version message
    shift 2
    model=${tag#model/}; model=${model%/v*}; version=${tag##*/v}
    message=$(printf 'snapshot\n\nModel-Snapshot: 1\nModel: %s\nModel-Version: %s\nModel-Image: none\n' "$model" "$version"
              printf 'Metric: %s\n' "$@")
    git -C repo tag -a "$tag" -m "$message" "$commit"
}
snapshot model/resnet50/v1 feature/model-resnet50 acc=0.9 val/loss=0.3
snapshot model/resnet50/v2 feature/model-resnet50 acc=0.91 top5=0.99
snapshot model/bert/v1 feature/model-bert bleu=30
git -C repo tag model/resnet50/v3-rc main                          # not a snapshot name
offers "git model compare " model/bert/v1 model/resnet50/v1 model/resnet50/v2
offers "git model compare model/bert/v1 " model/bert/v1 model/resnet50/v1 model/resnet50/v2
offers "git model compare model/bert/v1 model/resnet50/v1 "
offers "git model best resnet50 --metric " acc top5 val/loss
offers "git model best bert --metric " bleu
offers "git model best --metric " acc bleu top5 val/loss          # on main: every model's
offers "git model best resnet50 --metric=" acc top5 val/loss
offers "git model tag resnet50 --metric " acc= top5= val/loss=   # a tag's metric goes on with its value
offers "git model tag resnet50 --metric acc=1 --metric " acc= top5= val/loss=
# sweep ids: the folders under the common git dir's git-model/sweeps that sweep start makes
mkdir -p repo/.git/git-model/sweeps/1 repo/.git/git-model/sweeps/2 repo/.git/git-model/sweeps/10
for action in status cancel resume clean report; do offers "git model sweep $action " 1 2 10; done
offers "git model sweep status 1 "
offers "git model sweep report --metric " # a sweep's metrics come from its runs: nothing offered here

# zsh: the file parses, and the function answers with stand-ins for zsh's completion system.
if command -v zsh >/dev/null; then
    run_expect 0 zsh -n "$ZSH_FILE"
    zsh_offers() {  # WORDS...: the words _git-model offers after them (the last word is the one being typed)
        (cd "$TEST_DIR/repo" && zsh -f -c '
            _call_program() { shift; "$@"; }
            _describe() { local arr=${@[-1]}; print -rl -- ${(P)arr}; }
            source "$0" >/dev/null 2>&1
            words=("$@")
            CURRENT=$#
            PREFIX=${words[-1]}
            _git-model' "$ZSH_FILE" "$@" | sed 's/:.*//' | sort)
    }
    assert_contains "$(zsh_offers git-model '')" "doctor"
    assert_eq "$(zsh_offers model env up '')" "$(printf 'bert\nresnet50')" "zsh: git model env up"
    assert_eq "$(zsh_offers git-model env down '')" "bert" "zsh: git-model env down"
    assert_eq "$(zsh_offers model env up bert.sweep-)" "$(printf 'bert\nbert.sweep-1-1\nbert.sweep-1-2\nresnet50')" \
        "zsh: a sweep's runs once asked for"
    assert_contains "$(zsh_offers model start --)" "--no-worktree"
    assert_contains "$(zsh_offers model env '')" "status"
    assert_eq "$(zsh_offers model gpus '')" "$(printf 'init\nrelease')" "zsh: git model gpus"
    assert_eq "$(zsh_offers model compare '')" "$(printf 'model/bert/v1\nmodel/resnet50/v1\nmodel/resnet50/v2')" \
        "zsh: git model compare"
    assert_eq "$(zsh_offers model compare model/bert/v1 '')" \
        "$(printf 'model/bert/v1\nmodel/resnet50/v1\nmodel/resnet50/v2')" "zsh: compare's second snapshot"
    assert_eq "$(zsh_offers model sweep status '')" "$(printf '1\n10\n2')" "zsh: sweep ids"
    assert_eq "$(zsh_offers model sweep clean '')" "$(printf '1\n10\n2')" "zsh: sweep ids for clean"
    assert_eq "$(zsh_offers model best resnet50 --metric '')" "$(printf 'acc\ntop5\nval/loss')" "zsh: metric names"
fi
