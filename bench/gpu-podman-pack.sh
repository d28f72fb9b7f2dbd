#!/usr/bin/env bash
# Packs this machine's podman (Debian bookworm's podman, conmon, runc, catatonit, the libraries they
# need but glibc's, and busybox-static) into one archive, for bench/gpu-session.sh on a GPU machine
# that has no container engine and where nothing can be installed: `git model env up --check` then
# runs there with the packed engine (the programs find their libraries beside them through an RPATH
# of $ORIGIN/../lib, set with patchelf: podman starts conmon, and runc starts itself again, with
# environments of their own; its configuration, storage and CDI spec are in the session's temp
# folder).
#
# usage: bench/gpu-podman-pack.sh [OUT-DIR]   (default: build/gpu-podman; carry it to the GPU machine)
# Exit: 0 packed, 1 a program is missing here (patchelf too).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/gpu-podman}
programs=(/usr/bin/podman /usr/bin/conmon /usr/sbin/runc /usr/bin/catatonit /bin/busybox)
command -v patchelf >/dev/null || { echo "gpu-podman-pack: patchelf is not installed here (apt-get install patchelf)" >&2; exit 1; }
for program in "${programs[@]}"; do
    [[ -x $program ]] || { echo "gpu-podman-pack: $program is not installed here (apt-get install podman conmon runc catatonit busybox-static)" >&2; exit 1; }
done
staging=$(mktemp -d "${TMPDIR:-/tmp}/gm-podman-pack.XXXXXX")
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/bin" "$staging/lib"
for program in "${programs[@]}"; do
    cp -L "$program" "$staging/bin/"
    # Every library but glibc's own (the GPU machine's glibc is newer and serves them all).
    { ldd "$program" 2>/dev/null || true; } | awk '/=> \// {print $3}' | while read -r lib; do
        case $(basename "$lib") in
        libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux*) ;;
        *) cp -Ln "$lib" "$staging/lib/" ;;
        esac
    done
done
for program in podman conmon runc; do
    # shellcheck disable=SC2016  # $ORIGIN is for the dynamic loader, not the shell
    patchelf --force-rpath --set-rpath '$ORIGIN/../lib' "$staging/bin/$program"
done
podman --version >"$staging/VERSION"
mkdir -p "$out"
tar -C "$staging" -cJf "$out/podman.tar.xz.tmp" . && mv "$out/podman.tar.xz.tmp" "$out/podman.tar.xz"
what="$(cat "$staging/VERSION"), $(cd "$staging/bin" && echo *) and $(find "$staging/lib" -type f | wc -l) libraries"
printf '%s\n' "podman.tar.xz: $what, from $(sed -n "s/^PRETTY_NAME=//p" /etc/os-release | tr -d '"'), packed by bench/gpu-podman-pack.sh on $(date -u +%F) for bench/gpu-session.sh (step 4) on a GPU machine without a container engine; carry this folder" >"$out/README"
echo "gpu-podman-pack: $out/podman.tar.xz ($(du -h "$out/podman.tar.xz" | cut -f1)): $what"
