#!/usr/bin/env bash
# The image-freeze check on long and merged histories, through real pushes via the
# installed hooks: a branch of 10,001 commits (made with git fast-import) whose
# newest commit changes the image without a reason; Image-Change trailers that
# are empty; a merge that takes the base's (explained) image; the remote's tip as
# the comparison point.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q --bare repo.git
git init -q repo
printf 'image: registry.example.com/team/pytorch:2.4.0\ngpus: 1\n' >repo/.modelenv.yaml
echo "step = 0" >repo/work.py
git -C repo add -A && git -C repo commit -q -m "pin the image"
git -C repo remote add origin "$TEST_DIR/repo.git"
git -C repo push -q origin main
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
remote="$TEST_DIR/repo.git"

refused_image() {  # WHAT GIT-PUSH-ARGS...
    local what=$1 before
    shift
    before=$(remote_refs "$remote")
    run_expect 1 "$@"
    assert_contains "$ERR" "[rule: frozen-image]" "$what"
    assert_eq "$(remote_refs "$remote")" "$before" "$what: remote unchanged"
}

# --- 10,001 commits: 10,000 of plain work, then the image changes without a reason ----------
base=$(git -C repo rev-parse main)
python3 - "$base" "$(date +%s)" >"$TEST_DIR/stream" <<'PY'
import sys
base, now = sys.argv[1], int(sys.argv[2])
out = sys.stdout
for i in range(1, 10001):
    msg = f"step {i}\n"
    body = f"step = {i}\n"
    out.write(f"commit refs/heads/feature/model-long\nmark :{i}\n"
              f"committer T <t@example.com> {now + i} +0000\ndata {len(msg)}\n{msg}")
    if i == 1:
        out.write(f"from {base}\n")
    out.write(f"M 100644 inline work.py\ndata {len(body)}\n{body}\n")
msg = "newer pytorch\n"
yaml = "image: registry.example.com/team/pytorch:2.5.0\ngpus: 1\n"
out.write(f"commit refs/heads/feature/model-long\nmark :10001\n"
          f"committer T <t@example.com> {now + 10001} +0000\ndata {len(msg)}\n{msg}"
          f"M 100644 inline .modelenv.yaml\ndata {len(yaml)}\n{yaml}\n")
PY
git -C repo fast-import --quiet <"$TEST_DIR/stream"
assert_eq "$(git -C repo rev-list --count main..feature/model-long)" "10001" "commits on the long branch"
refused_image "10,001st commit" git -C repo push origin feature/model-long
assert_contains "$ERR" "commit $(git -C repo rev-parse feature/model-long | cut -c1-10) changes the pinned image"
# with a reason it goes through, and the next push reads only what is new
git -C repo checkout -q feature/model-long
git -C repo commit -q --amend -m "newer pytorch" -m "Image-Change: flash-attention needs torch 2.5"
run_expect 0 git -C repo push origin feature/model-long
echo "step = 10002" >repo/work.py && git -C repo commit -q -am "more work"
run_expect 0 git -C repo push origin feature/model-long

# --- an Image-Change trailer must carry a reason ---------------------------------------------
git -C repo checkout -q -b feature/model-trailers main
git -C repo push -q origin feature/model-trailers
for message in $'x\n\nImage-Change:' $'x\n\nImage-Change:   ' $'x\n\nImage-Change:\nSigned-off-by: A <a@example.com>'; do
    printf 'image: registry.example.com/team/pytorch:%s\n' "$RANDOM" >repo/.modelenv.yaml
    git -C repo commit -q -am "$message"
    refused_image "empty trailer: $message" git -C repo push origin feature/model-trailers
    git -C repo reset -q --hard origin/feature/model-trailers
done
printf 'image: registry.example.com/team/pytorch:2.6.0\n' >repo/.modelenv.yaml
git -C repo commit -q -am $'x\n\nImage-Change:\n  a reason on the next line'
run_expect 0 git -C repo push origin feature/model-trailers

# --- a merge that takes the base's image changes nothing by itself ---------------------------
git -C repo checkout -q -b feature/model-merger main
echo "merger" >repo/merger.py && git -C repo add merger.py && git -C repo commit -q -m "merger work"
git -C repo push -q origin feature/model-merger
git -C repo checkout -q main
printf 'image: registry.example.com/team/pytorch:2.7.0\n' >repo/.modelenv.yaml
git -C repo commit -q -am "base moves on" -m "Image-Change: security fix"
git -C repo push -q --no-verify origin main     # as the base's maintainers would
git -C repo checkout -q feature/model-merger
git -C repo merge -q --no-edit main
run_expect 0 git -C repo push origin feature/model-merger
# ... but an evil merge that picks an image of its own does
git -C repo reset -q --hard HEAD~1
git -C repo merge -q --no-commit main 2>/dev/null || true
printf 'image: registry.example.com/team/pytorch:9.9.9\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml && git -C repo commit -q --no-edit
refused_image "evil merge" git -C repo push --force origin feature/model-merger

# --- data deep in a long range (git walks it): a checkpoint, and a file LFS should have stored -----
git -C repo checkout -q main
base=$(git -C repo rev-parse main)
python3 - "$base" "$(date +%s)" >"$TEST_DIR/stream2" <<'PY'
import sys
base, now = sys.argv[1], int(sys.argv[2])
out = sys.stdout
def commit(i, files):
    msg = f"work {i}\n"
    out.write(f"commit refs/heads/feature/model-deep\ncommitter T <t@example.com> {now + i} +0000\n"
              f"data {len(msg)}\n{msg}")
    if i == 1:
        out.write(f"from {base}\n")
    for path, body in files:
        out.write(f"M 100644 inline {path}\ndata {len(body)}\n{body}\n")
for i in range(1, 501):
    files = [("src/work.py", f"step = {i}\n")]
    if i == 100:
        files.append(("assets/.gitattributes", "*.dat filter=lfs diff=lfs merge=lfs -text\n"))
    if i == 200:
        files.append(("runs/Epoch3.CKPT", "not really a checkpoint\n"))
    if i == 300:
        files.append(("assets/table.dat", "a table that LFS should have stored\n"))
        files.append(("other/table.dat", "no .gitattributes says LFS here\n"))
    commit(i, files)
PY
git -C repo fast-import --quiet <"$TEST_DIR/stream2"
before=$(remote_refs "$remote")
run_expect 1 git -C repo push origin feature/model-deep
assert_contains "$ERR" "[rule: data]"
assert_contains "$ERR" "adds runs/Epoch3.CKPT, which looks like training data"
assert_contains "$ERR" "adds assets/table.dat, which is stored through Git LFS"
assert_not_contains "$ERR" "other/table.dat"
assert_contains "$ERR" "commit $(git -C repo rev-parse feature/model-deep~200 | cut -c1-10) adds assets/table.dat"
assert_eq "$(remote_refs "$remote")" "$before" "deep data: remote unchanged"
