#!/usr/bin/env bash
# Prints the path of a crates.io test tool the kernel suites copy into the
# qemu guest, installing it first when needed (`cargo install --locked`, a
# pinned version, into the git-ignored <repo>/target/qemu9p/tools; a copy
# already on PATH is used as it is).
#
#   scripts/install-tool.sh pjdfstest|fsx
#
# pjdfstest 0.2.2: the Rust rewrite of the POSIX conformance tests.
# fsx 0.3.2: fsx-rs, random I/O checked against a model of the file.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:?usage: install-tool.sh pjdfstest|fsx}
case "$tool" in
    pjdfstest) version=0.2.2 ;;
    fsx) version=0.3.2 ;;
    *) echo "install-tool: unknown tool $tool" >&2; exit 2 ;;
esac
if p=$(command -v "$tool"); then echo "$p"; exit 0; fi
root=${NINEFOLD_QEMU_CACHE:-$repo/target/qemu9p}/tools
mkdir -p "$root"
# one install at a time: a second caller waits, then finds the binary
exec 9> "$root/.lock-$tool"
flock 9
if [ ! -x "$root/bin/$tool" ]; then
    echo "install-tool: cargo install --locked $tool@$version (into $root)" >&2
    # its own target dir, removed afterwards: the workspace's is not involved
    build=$(mktemp -d "${TMPDIR:-/tmp}/ninefold-install-$tool.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    CARGO_TARGET_DIR=$build nice -n 10 cargo install --quiet --locked --root "$root" \
        "$tool" --version "$version" >&2 \
        || { echo "install-tool: cargo install $tool failed" >&2; exit 1; }
fi
echo "$root/bin/$tool"
