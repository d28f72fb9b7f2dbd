#!/usr/bin/env bash
# Red team s41b: a .modelenv.yaml that is a link to a file of the worktree, as gitmodelenv(5)
# allows (several models sharing envs/shared.yaml). env check and env up follow it, but what read
# the file from a commit got the link's text: `git model tag` failed, and the pre-push hook's
# pinned-image rule refused every push of the branch. A commit's link is now followed inside its
# tree; one leading out of it is refused, unread, naming it. And through a link, a commit that
# changes only the linked file changes the pinned image: it needs its Image-Change: trailer too.
# Both readers: libgit2's (SHA-1) and git's plumbing (SHA-256).
. "$(dirname "$0")/lib.sh"

for format in sha1 sha256; do
    cd "$TEST_DIR"
    mkdir "$format" && cd "$format"
    git init -q --bare --object-format=$format remote.git
    git init -q --object-format=$format -b main repo
    mkdir repo/envs
    printf 'image: registry.example.com/team/pytorch:2.4.0\n' >repo/envs/shared.yaml
    ln -s envs/shared.yaml repo/.modelenv.yaml
    echo "step = 0" >repo/train.py
    git -C repo add -A && git -C repo commit -q -m "shared environment"
    git -C repo remote add origin "$PWD/remote.git"
    git -C repo push -q origin main
    git -C repo config model.bench.beforePush never
    run_expect 0 git -C repo model hooks install
    remote="$PWD/remote.git"

    # A push of a branch whose .modelenv.yaml is the link goes through.
    git -C repo checkout -q -b feature/model-linked
    echo "step = 1" >repo/train.py && git -C repo commit -q -am "train"
    run_expect 0 git -C repo push origin feature/model-linked
    assert_contains "$(remote_refs "$remote")" "refs/heads/feature/model-linked" "$format: the linked file's image loads"

    # Changing only the linked file's image, without a reason: frozen-image, as for the file itself.
    printf 'image: registry.example.com/team/pytorch:2.5.0\n' >repo/envs/shared.yaml
    git -C repo commit -q -am "newer torch"
    run_expect 1 git -C repo push origin feature/model-linked
    assert_contains "$ERR" "frozen-image" "$format: an image changed through the link needs a reason"
    assert_contains "$ERR" "pytorch:2.5.0" "$format: naming the new image"
    git -C repo commit -q --amend -m "newer torch" -m "Image-Change: CUDA 12.4 kernels"
    run_expect 0 git -C repo push origin feature/model-linked
    assert_contains "$ERR" "feature/model-linked" "$format: with the trailer it goes"

    # s41d: the image changed through the link, then the link made a plain file with the new image:
    # the first commit changed the image, without a reason.
    printf 'image: registry.example.com/team/pytorch:2.6.0\n' >repo/envs/shared.yaml
    git -C repo commit -q -am "quiet bump"
    rm repo/.modelenv.yaml && cp repo/envs/shared.yaml repo/.modelenv.yaml
    git -C repo add .modelenv.yaml && git -C repo commit -q -m "a plain file again"
    run_expect 1 git -C repo push origin feature/model-linked
    assert_contains "$ERR" "frozen-image" "$format: the change through the link is found after the link went"
    assert_contains "$ERR" "pytorch:2.6.0" "$format: naming it"

    # A long push through the link reads only the commits that change what it leads to, each
    # unchanged one taking its parent's image; a change anywhere on the way is still found: here
    # the folder the link passes through becomes a link to another folder, deep in the branch.
    git -C repo checkout -q -b feature/model-deep main
    for i in 1 2 3 4 5; do
        echo "note $i" >"repo/envs-notes.txt" && echo "step = $i" >repo/train.py
        git -C repo add -A && git -C repo commit -q -m "unrelated $i"
    done
    mkdir repo/envs2 && printf 'image: registry.example.com/team/pytorch:2.7.0\n' >repo/envs2/shared.yaml
    git -C repo rm -q -r envs && ln -s envs2 repo/envs
    git -C repo add -A && git -C repo commit -q -m "envs moved"
    swapped=$(git -C repo rev-parse --short=10 HEAD)
    for i in 6 7 8 9; do
        echo "step = $i" >repo/train.py && git -C repo commit -q -am "unrelated $i"
    done
    printf 'image: registry.example.com/team/pytorch:2.8.0\n' >repo/envs2/shared.yaml
    git -C repo commit -q -am "newest torch" -m "Image-Change: flash attention"
    echo "step = 10" >repo/train.py && git -C repo commit -q -am "unrelated 10"
    run_expect 1 git -C repo push origin feature/model-deep
    assert_contains "$ERR" "commit $swapped changes the pinned image from registry.example.com/team/pytorch:2.4.0 to registry.example.com/team/pytorch:2.7.0" \
        "$format: a folder on the link's way made a link, mid-branch, is found"
    assert_eq "$(grep -c frozen-image <<<"$ERR")" 1 "$format: only that commit; the one with its reason passes"

    # s42d: two refs in one push, one at a commit that deletes the folder the link leads into. Each
    # ref's tip is read for itself: the one whose link names nothing is refused, so the push is.
    git -C repo checkout -q -b feature/model-gone-a main
    git -C repo rm -q -r envs && echo "step = 2" >repo/train.py
    git -C repo commit -q -am "drop the shared environment"
    dropped=$(git -C repo rev-parse --short=10 HEAD)
    mkdir repo/envs && printf 'image: registry.example.com/team/pytorch:2.9.0\n' >repo/envs/shared.yaml
    git -C repo add -A && git -C repo commit -q -m "back" -m "Image-Change: a newer torch"
    git -C repo branch -f feature/model-gone-b "$dropped"
    run_expect 1 git -C repo push origin feature/model-gone-a feature/model-gone-b
    assert_contains "$ERR" ".modelenv.yaml at $dropped does not load" "$format: the other ref's tip is read for itself"
    assert_not_contains "$(remote_refs "$remote")" "refs/heads/feature/model-gone-b" "$format: nothing pushed"

    # A link that names nothing (or a folder, or a submodule) is refused, naming it, not taken as no file.
    git -C repo checkout -q -b feature/model-dangling main
    rm repo/.modelenv.yaml && ln -s envs/gone.yaml repo/.modelenv.yaml
    git -C repo add .modelenv.yaml && git -C repo commit -q -m "dangling"
    run_expect 1 git -C repo push origin feature/model-dangling
    assert_contains "$ERR" ".modelenv.yaml is a link to envs/gone.yaml, which names nothing in the commit's tree" \
        "$format: a dangling link is named"

    # A link out of the tree is refused unread, naming the link.
    git -C repo checkout -q -b feature/model-outside main
    rm repo/.modelenv.yaml && ln -s /etc/passwd repo/.modelenv.yaml
    git -C repo add .modelenv.yaml && git -C repo commit -q -m "host file"
    run_expect 1 git -C repo push origin feature/model-outside
    assert_contains "$ERR" "pinned-image" "$format: a link out of the tree does not load"
    assert_contains "$ERR" ".modelenv.yaml is a link to /etc/passwd, outside the commit's tree" "$format: naming it"
    assert_not_contains "$ERR" "root:" "$format: nothing of the host file is read"
    assert_not_contains "$(remote_refs "$remote")" "refs/heads/feature/model-outside" "$format: nothing pushed"
    git -C repo checkout -q main
done

# tag (libgit2 only: the other commands refuse SHA-256 repositories) records the linked file's image.
cd "$TEST_DIR/sha1"
git -C repo config model.installHooks never
run_expect 0 git -C repo model start tagged
wt="$TEST_DIR/sha1/worktrees/feature/model-tagged"
[ -d "$wt" ] || wt=$(git -C repo worktree list --porcelain | sed -n 's/^worktree //p' | tail -1)
run_expect 0 git -C "$wt" model tag --metric acc=0.9 --no-push
run_expect 0 git -C "$wt" model log --json
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["image"]')" "registry.example.com/team/pytorch:2.4.0" \
    "tag records the image of the file the link names"
# A link out of the tree: tag refuses, naming it, and makes no tag.
rm "$wt/.modelenv.yaml" && ln -s /etc/passwd "$wt/.modelenv.yaml"
git -C "$wt" add .modelenv.yaml && git -C "$wt" commit -q -m "host file"
run_expect 1 git -C "$wt" model tag --metric acc=0.9 --no-push
assert_contains "$ERR" "is a link to /etc/passwd, outside the commit's tree" "tag names the link"
assert_eq "$(git -C repo tag -l 'model/tagged/*' | wc -l)" 1 "no second snapshot"
