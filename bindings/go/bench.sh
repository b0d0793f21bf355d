#!/bin/sh
# Go benchmarks beside the Rust client, against the same ninefold serve
# (memfs) in one `go test -bench` run: read/write of 256 MiB, stat ops/s,
# and the per-call cost of cgo. Builds what it needs in release.
#   bindings/go/bench.sh [extra go test flags, e.g. -benchtime=5x]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli -p ninefold-capi --example rust_ref
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
cd "$here"
go generate ./...
NINEFOLD_BIN=${NINEFOLD_BIN:-$target_dir/release/ninefold} \
NINEFOLD_RUST_REF=$target_dir/release/examples/rust_ref \
NINEFOLD_GO_SKIP_DIOD=${NINEFOLD_GO_SKIP_DIOD:-0} \
    go test -run '^$' -bench . -benchtime=3x -benchmem "$@" . | tee /tmp/ninefold-go-bench.$$
echo
echo "ratios (go / rust, same server, same run):"
awk '
/^Benchmark/ {
    name=$1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) if ($(i+1) == "MiB/s" || $(i+1) == "ops/s") { v[name]=$i; u[name]=$(i+1) }
}
END {
    for (n in v) if (n ~ /\/go$/) {
        r = n; sub(/\/go$/, "/rust", r)
        if (r in v && v[r] > 0) printf "  %-32s go %10.1f  rust %10.1f %s  ratio %.3f\n", n, v[n], v[r], u[n], v[n]/v[r]
    }
}' /tmp/ninefold-go-bench.$$
rm -f /tmp/ninefold-go-bench.$$
