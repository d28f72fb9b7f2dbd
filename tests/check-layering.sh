#!/usr/bin/env bash
# The library's layer rules, checked on every test run:
#   each layer of lib/gitmodel/ includes only itself and the layers ARCHITECTURE.md's table lets it;
#   an executable's folder includes only the library and its own files;
#   only gitmodel/git/ includes <git2.h>; only gitmodel/config/ includes yaml-cpp;
#   only gitmodel/proc/ includes Boost.Process; no code runs a shell.
# GM_SOURCE_DIR: the tree to check (default: this script's). Exit: 0 ok, 1 a rule broken.
set -euo pipefail
cd "${GM_SOURCE_DIR:-$(dirname "$0")/..}"
status=0
check() {  # PATTERN ALLOWED-DIR WHAT
    local hits
    hits=$(grep -rlE "$1" lib git-model git-model-env git-model-bench --include='*.cpp' --include='*.hpp' --include='*.cu' \
        | grep -v "^lib/gitmodel/$2/" || true)
    if [ -n "$hits" ]; then
        echo "layering: $3 outside lib/gitmodel/$2/:"
        echo "$hits" | sed 's/^/  /'
        status=1
    fi
}
# The layer graph, from ARCHITECTURE.md's table: "layer|allowed,allowed|".
declare -A allowed=()
table=$(sed -n '/<!-- layers: begin/,/<!-- layers: end/p' ARCHITECTURE.md |
    awk -F'|' 'NF >= 4 && $2 !~ /^ *(layer|-+) *$/ { gsub(/ /, "", $2); gsub(/ /, "", $3); print $2 "|" $3 }')
if [ -z "$table" ]; then
    echo "layering: ARCHITECTURE.md has no layer table between its '<!-- layers: begin' and '<!-- layers: end' lines"
    exit 1
fi
while IFS='|' read -r layer may; do allowed[$layer]=",$may,"; done <<<"$table"
for dir in lib/gitmodel/*/; do
    layer=$(basename "$dir")
    if [ -z "${allowed[$layer]+set}" ]; then
        echo "layering: lib/gitmodel/$layer/ is not a layer of ARCHITECTURE.md's table: add its row"
        status=1
        continue
    fi
    violations=$(grep -rnoE '#include "gitmodel/[a-z_0-9]+/' "$dir" --include='*.cpp' --include='*.hpp' |
        awk -F: -v layer="$layer" -v may="${allowed[$layer]}" '{
            target = $3; sub(/^#include "gitmodel\//, "", target); sub(/\/$/, "", target)
            if (target != layer && index(may, "," target ",") == 0) {
                shown = may; gsub(/^,|,$/, "", shown); gsub(/,/, ", ", shown); if (shown == "") shown = "no other layer"
                printf "layering: %s:%s: %s includes %s, which ARCHITECTURE.md does not let it (may include: %s)\n", $1, $2, layer, target, shown
            }
        }' || true)
    if [ -n "$violations" ]; then
        echo "$violations"
        status=1
    fi
done
# The executables talk through the library: no file of one includes another's, or reaches up.
for exe in git-model git-model-env git-model-bench; do
    while IFS=: read -r file line text; do
        [ -n "$file" ] || continue
        header=$(sed -E 's|.*#include "([^"]*)".*|\1|' <<<"$text")
        case "$header" in gitmodel/*) continue ;; esac
        resolved=$(realpath -m --relative-to=. "$(dirname "$file")/$header")
        case "$resolved" in "$exe"/*) continue ;; esac
        echo "layering: $file:$line: includes $header ($resolved), outside $exe/ and the library"
        status=1
    done < <(grep -rnE '#include "' "$exe" --include='*.cpp' --include='*.hpp' --include='*.cu' || true)
done

check '#include <git2' git "libgit2 (<git2.h>)"
check '#include <yaml-cpp' config "yaml-cpp"
check '#include <boost/process' proc "Boost.Process"
shell=$(grep -rnE '\b(system|popen)\s*\(|"/bin/sh"|"sh", *"-c"' lib git-model git-model-env git-model-bench \
    --include='*.cpp' --include='*.hpp' --include='*.cu' | grep -v '// layering: inside the container' || true)
if [ -n "$shell" ]; then
    echo "layering: code that runs a shell:"
    echo "$shell" | sed 's/^/  /'
    status=1
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
