#!/bin/sh
# Go benchmarks beside the Rust client and github.com/hugelgupf/p9's
# native-Go client, all against one `ninefold serve --memory` in one run:
# read/write of 256 MiB, stat ops/s, and the per-call cost of cgo.
#   bindings/go/bench.sh [extra go test flags, e.g. -benchtime=5x]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli -p ninefold-capi --example rust_ref
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
cd "$here"
go generate ./...

out=$(mktemp)
log=$(mktemp)
"${NINEFOLD_BIN:-$target_dir/release/ninefold}" serve --memory --listen tcp://127.0.0.1:0 --log warn >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out" "$log"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
target=$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$log" | head -n1)
[ -n "$target" ] || { cat "$log" >&2; exit 1; }
echo "server: $target (ninefold serve --memory)"

export NINEFOLD_BENCH_TARGET="$target" NINEFOLD_RUST_REF="$target_dir/release/examples/rust_ref"
go test -run '^$' -bench . -benchtime=3x -benchmem "$@" . | tee "$out"
(cd bench/p9ref && go test -run '^$' -bench . -benchtime=3x "$@" . | sed 's/^Benchmark\([A-Za-z0-9]*\)/Benchmark\1\/p9/' | tee -a "$out")

echo
echo "ratios against the Rust client (same server, same run; > 1: faster than Rust):"
awk '
/^Benchmark/ {
    name=$1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) if ($(i+1) == "MiB/s" || $(i+1) == "ops/s") { v[name]=$i; u[name]=$(i+1) }
}
END {
    for (n in v) if (n !~ /\/rust$/) {
        r = n; sub(/\/[^\/]*$/, "/rust", r)
        if (r in v && v[r] > 0) printf "  %-34s %10.1f %s   rust %10.1f   ratio %.3f\n", n, v[n], u[n], v[r], v[n]/v[r]
    }
}' "$out" | sort
