#!/usr/bin/env bash
# bench-z.sh — round trips and wall time per API call, 9P2000.L.Z against
# plain 9P2000.L, our client (crates/ninefold-client) against our server, in
# one run: metadata(path), read of a 4 KiB file, read_dir of 10,000 entries
# with metadata, create+write+close of 1,000 small files. Requests are
# counted by a frame-counting relay; time is the median on a direct
# connection. Prints a Markdown table (docs/BENCHMARKS.md keeps the last one).
#
#   scripts/bench-z.sh [--dir DIR] [--entries N] [--files N]
#
# Without --dir the server exports memfs; with it, a passthrough directory.
# Uses ${NINEFOLD_BIN:-target/release/ninefold} (built if missing). Not part of
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin=${NINEFOLD_BIN:-$target_dir/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -p ninefold-cli
fi
CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -q -p ninefold-client --example z_bench
NINEFOLD_BIN=$(realpath "$bin") "$target_dir/release/examples/z_bench" "$@"
