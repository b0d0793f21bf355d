#!/bin/sh
# Builds the native library the Go package links (run by `go generate`):
# `cargo build --release -p ninefold-capi`, then copies the static library
# and the C header into ./native/ (git-ignored), where the cgo directives
# in cgo.go look for them. Respects CARGO_TARGET_DIR.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0} cargo build --release -p ninefold-capi
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
mkdir -p "$here/native/lib" "$here/native/include"
cp "$target_dir/release/libninefold_capi.a" "$here/native/lib/libninefold_capi.a"
cp "$root/bindings/c/include/ninefold.h" "$here/native/include/ninefold.h"
echo "native library: $here/native/lib/libninefold_capi.a"
