#!/usr/bin/env bash
# Node client vs Rust client, side by side in one run against one
# `ninefold serve --memory` (release), alternating runs; prints the rows
# and the ratio node/rust (1.00 = as fast as Rust).
#
#   bindings/node/bench/run.sh [--mib 256] [--secs 3] [--rounds 2] [--tcp]
#
# Needs the release addon (node scripts/build.js) and builds the ninefold
# binary and the Rust baseline (examples/bench_baseline.rs) when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
mib=256 secs=3 rounds=2 tcp=0
while [ $# -gt 0 ]; do
    case "$1" in
        --mib) mib=$2; shift 2 ;;
        --secs) secs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --tcp) tcp=1; shift ;;
        *) echo "usage: $0 [--mib N] [--secs S] [--rounds R] [--tcp]" >&2; exit 2 ;;
    esac
done
tdir=${CARGO_TARGET_DIR:-$root/target}
bin=${NINEFOLD_BIN:-$tdir/release/ninefold}
[ -x "$bin" ] || cargo build --release -p ninefold-cli
CARGO_INCREMENTAL=0 cargo build --release -p ninefold-node --example bench_baseline --quiet
[ -f bindings/node/ninefold.node ] || (cd bindings/node && node scripts/build.js)
baseline=$tdir/release/examples/bench_baseline

scratch=$(mktemp -d)
if [ "$tcp" = 1 ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    listen=tcp://127.0.0.1:$port
    target=tcp://127.0.0.1:$port
else
    listen=unix:$scratch/9p.sock
    target=$listen
fi
"$bin" serve --memory -l "$listen" --log warn >"$scratch/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$scratch"' EXIT
sleep 0.5

for r in $(seq "$rounds"); do
    "$baseline" "$target" --mib "$mib" --secs "$secs" >>"$scratch/rust.jsonl"
    node bindings/node/bench/bench.mjs "$target" --mib "$mib" --secs "$secs" >>"$scratch/node.jsonl"
done

node - "$scratch/rust.jsonl" "$scratch/node.jsonl" "$mib" "$target" <<'JS'
const fs = require('node:fs');
const [rustF, nodeF, mib, target] = process.argv.slice(2);
const load = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const best = (rows, k) => Math.max(...rows.map((r) => r[k]));
const rust = load(rustF), node = load(nodeF);
console.log(`node vs rust client, ${mib} MiB file, ninefold serve --memory at ${target}, best of ${rust.length}`);
console.log(`${'row'.padEnd(14)} ${'unit'.padStart(8)} ${'rust'.padStart(10)} ${'node'.padStart(10)} ${'node/rust'.padStart(10)}`);
for (const [k, name, unit] of [['write', 'write', 'MiB/s'], ['read', 'read', 'MiB/s'], ['meta1', 'metadata x1', 'stat/s'], ['meta32', 'metadata x32', 'stat/s']]) {
  const r = best(rust, k), n = best(node, k);
  console.log(`${name.padEnd(14)} ${unit.padStart(8)} ${r.toFixed(1).padStart(10)} ${n.toFixed(1).padStart(10)} ${(n / r).toFixed(2).padStart(10)}`);
}
JS
