#!/usr/bin/env bash
# Finding: a symbolic link *above* the book is followed, not refused, although git-model-env(1)
# says "A book whose folder, or a folder above it, is a link ... is refused" (the check runs on
# the path after realpath()). A user who plants a link in a shared sticky folder on the book's
# path (here pub/gm -> a root-only folder, standing for /etc) makes root's `gpus init` (or
# root's `env up`, which makes a missing book the same way) create a world-writable sticky
# folder inside that root-only folder, and can later re-point the link for everyone.
# Exit 1: root made the book behind the link. Exit 0: root refused.
. "$(dirname "$0")/rt-lib.sh"
H=gmred-$$-h
rt_user "$H"
mkdir -m 1777 "$RT_DIR/pub"       # like /tmp or /scratch
mkdir -m 755 "$RT_DIR/rootonly"   # like /etc
as_user "$H" ln -s "$RT_DIR/rootonly" "$RT_DIR/pub/gm" || setup_failed "planting the link"
echo "--- root: git model gpus init --dir $RT_DIR/pub/gm/book"
git model gpus init --dir "$RT_DIR/pub/gm/book"
echo "exit $?"
ls -la "$RT_DIR/rootonly"
[ -d "$RT_DIR/rootonly/book" ] &&
    reproduced "root followed $H's link and made $(stat -c '%A %U' "$RT_DIR/rootonly/book") $RT_DIR/rootonly/book"
held_up "the link above the book was refused"
