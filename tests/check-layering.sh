#!/usr/bin/env bash
# The library's layer rules, checked on every test run:
#   only gitmodel/git/ includes <git2.h>; only gitmodel/config/ includes yaml-cpp;
#   only gitmodel/proc/ includes Boost.Process; no code runs a shell.
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
