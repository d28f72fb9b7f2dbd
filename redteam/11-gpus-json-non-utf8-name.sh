#!/usr/bin/env bash
# Finding: a file name that is not UTF-8, planted in the book by any user, makes
# `git model gpus --json` fail for every user and root ("[json.exception.type_error.316]
# invalid UTF-8 byte"): the ignored-names list is dumped as JSON strings unchecked. Monitoring
# that reads the documented JSON loses the machine's view. (The text listing works.)
# Exit 1: gpus --json fails. Exit 0: it prints a JSON document.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
H=gmred-$$-h V=gmred-$$-v
rt_user "$H"
rt_user "$V"
rt_repo "$V" v
as_user "$H" python3 -c 'import os, sys; open(os.path.join(os.fsencode(sys.argv[1]), b"junk-\xff"), "w").close()' "$BOOK" ||
    setup_failed "planting the name"
for who in "$V" root; do
    rc=0
    if [ "$who" = root ]; then out=$(git model gpus --json --dir "$BOOK" 2>&1) || rc=$?
    else out=$(as_user "$V" git -C repo model gpus --json 2>&1) || rc=$?; fi
    echo "--- $who: gpus --json exits $rc"
    printf '%s\n' "$out" | tail -2
    if [ "$rc" != 0 ] || ! python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" 2>/dev/null; then
        reproduced "one planted non-UTF-8 name breaks gpus --json (for $who)"
    fi
done
held_up "gpus --json still prints a JSON document"
