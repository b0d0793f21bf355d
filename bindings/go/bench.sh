#!/bin/sh
# Go benchmarks beside the Rust client and github.com/hugelgupf/p9's
# native-Go client, all against one `ninefold serve --memory` in one run:
# read/write of 256 MiB, stat ops/s, and the per-call cost of cgo.
#   [BENCH_COUNT=5] bindings/go/bench.sh [extra test binary flags, e.g. -test.benchtime=5x]
# BENCH_COUNT rounds, each running every row once (Go, the Rust reference,
# p9); the summary gives medians and the median of the per-round ratios.
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
bins=$(mktemp -d)
gobin=$bins/ninefold.test
p9bin=$bins/p9ref.test
"${NINEFOLD_BIN:-$target_dir/release/ninefold}" serve --memory --listen tcp://127.0.0.1:0 --log warn >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$out" "$log" "$bins"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
target=$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$log" | head -n1)
[ -n "$target" ] || { cat "$log" >&2; exit 1; }
echo "server: $target (ninefold serve --memory)"

export NINEFOLD_BENCH_TARGET="$target" NINEFOLD_RUST_REF="$target_dir/release/examples/rust_ref"
count=${BENCH_COUNT:-5}
# One run of each test binary per round, so that round i of every row
# (Go, Rust, p9) ran close together in time on a machine whose load moves.
(cd bench/p9ref && go test -c -o "$p9bin" .)
go test -c -o "$gobin" .
for round in $(seq "$count"); do
    echo "== round $round of $count"
    "$gobin" -test.run '^$' -test.bench . -test.benchtime=3x -test.benchmem "$@" >"$bins/go.out" 2>&1 ||
        { cat "$bins/go.out" >&2; exit 1; }
    grep '^Benchmark' "$bins/go.out" | tee -a "$out"
    "$p9bin" -test.run '^$' -test.bench . -test.benchtime=3x "$@" >"$bins/p9.out" 2>&1 ||
        { cat "$bins/p9.out" >&2; exit 1; }
    grep '^Benchmark' "$bins/p9.out" | sed 's/^Benchmark\([A-Za-z0-9]*\)/Benchmark\1\/p9/' | tee -a "$out"
done

echo
echo "against the Rust client (same server, same run; > 1: faster than Rust):"
echo "median of $count rounds; ratio = median of the per-round ratios (listed after it)"
awk '
function median(s,    a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^Benchmark/ {
    name=$1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) if ($(i+1) == "MiB/s" || $(i+1) == "ops/s") {
        k = ++cnt[name]; v[name, k] = $i; all[name] = all[name] " " $i; u[name] = $(i+1)
    }
}
END {
    for (n in cnt) if (n !~ /\/rust$/) {
        r = n; sub(/\/[^\/]*$/, "/rust", r)
        if (!(r in cnt)) continue
        rs = ""
        for (k = 1; k <= cnt[n] && k <= cnt[r]; k++) if (v[r, k] > 0) rs = rs sprintf(" %.2f", v[n, k] / v[r, k])
        printf "  %-32s %9.1f %s   rust %9.1f   ratio %.2f  (%s )\n", n, median(all[n]), u[n], median(all[r]), median(rs), rs
    }
}' "$out" | sort
