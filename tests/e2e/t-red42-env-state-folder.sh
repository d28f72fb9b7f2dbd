#!/usr/bin/env bash
# Red team s42a: the folders git-model keeps an environment's state in, under a group-shared
# repository's .git (umask 002): git-model/env/ was made group-writable without the sticky bit,
# so a teammate could rename a user's env/<model> away during `env up --recreate` and put a folder
# of theirs there, with authorized_keys a link to the user's own file: the state files were
# written with a plain open that follows links, and the user's file was overwritten. Now the
# folders on the way get the sticky bit, the state files are written through the descriptor of
# the folder as checked (a link found there is replaced, never followed), and the image's cached
# accounts are read back only from the caller's own file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
umask 002
git init -q --shared=group -b main repo
mkdir -p "$HOME/.ssh" && echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnly test@example" >"$HOME/.ssh/id_ed25519.pub"
{ echo "image: $TEST_IMAGE"; echo "user: \"1000:100\""; echo "ports:"; echo "  ssh: 2222"
  echo 'command: ["httpd", "-f", "-p", "2222", "-h", "/www"]'; } >repo/.modelenv.yaml
git -C repo add -A && git -C repo commit -q -m env
git -C repo config model.installHooks never
git -C repo config model.env.stopTimeout 1s
run_expect 0 git -C repo model start st
WT="$TEST_DIR/worktrees/feature/model-st"
run_expect 0 git -C "$WT" model env up
STATE="$TEST_DIR/repo/.git/git-model"
for folder in "$STATE" "$STATE/env"; do
    [ -k "$folder" ] || fail "$folder is group-writable ($(stat -c %a "$folder")) without the sticky bit"
done
assert_eq "$(stat -c %a "$STATE/env/st")" "700" "the model's state folder is the user's alone"

# A link where a state file was (a container, or whoever could write there) is replaced, not followed.
echo precious >"$TEST_DIR/notes.txt"
ln -sf "$TEST_DIR/notes.txt" "$STATE/env/st/authorized_keys"
run_expect 0 git -C "$WT" model env up --recreate
assert_eq "$(cat "$TEST_DIR/notes.txt")" "precious" "the file the link named is untouched"
[ -f "$STATE/env/st/authorized_keys" ] && [ ! -L "$STATE/env/st/authorized_keys" ] ||
    fail "authorized_keys is not a plain file again"
assert_contains "$(cat "$STATE/env/st/authorized_keys")" "TestKeyOnly" "it holds the key"

# The image's accounts, cached per user: another user's file under the caller's name is not believed.
cached=$(ls "$STATE/env/.images/")
assert_contains "$cached" ".0.accounts" "the cache file names its user"
printf 'planted:x:0:0:planted:/planted:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\nroot:x:0:\n' >"$STATE/env/.images/$cached"
chown nobody "$STATE/env/.images/$cached"
run_expect 0 git -C "$WT" model env up --recreate
run_expect 0 git -C "$WT" model env exec -- cat /etc/passwd
assert_not_contains "$OUT" "planted" "another user's cache file gave the container no account"
run_expect 0 git -C "$WT" model env down
