#!/usr/bin/env bash
# Node client vs Rust client, side by side in one run against one
# `ninefold serve --memory` (release). Each round runs the Rust baseline
# (examples/bench_baseline.rs) and the Node bench (bench/bench.mjs), which
# do the same work (same calls, buffers, copies, chunking, concurrency),
# in alternating order; each repeats every row --reps times. Prints the
# median of every row over all rounds and reps, and the ratio node/rust
# (1.00 = as fast as Rust; higher is better for Node).
#
#   bindings/node/bench/run.sh [--mib 256] [--secs 2] [--rounds 3] [--reps 3] [--tcp] [--python PY]
#
# --python PY adds the Python client (bench/bench.py) as a third column: PY
# is an interpreter with the `ninefold` wheel installed (for instance
# target/py-venv/bin/python after scripts/test-python.sh).
#
# Needs the release addon (node scripts/build.js) and builds the ninefold
# binary and the Rust baseline (examples/bench_baseline.rs) when missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
mib=256 secs=2 rounds=3 reps=3 tcp=0 python=
while [ $# -gt 0 ]; do
    case "$1" in
        --mib) mib=$2; shift 2 ;;
        --secs) secs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --tcp) tcp=1; shift ;;
        --python) python=$2; shift 2 ;;
        *) echo "usage: $0 [--mib N] [--secs S] [--rounds R] [--reps N] [--tcp] [--python PY]" >&2; exit 2 ;;
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

rust() { "$baseline" "$target" --mib "$mib" --secs "$secs" --reps "$reps" >>"$scratch/rust.jsonl"; }
nodejs() { node --expose-gc bindings/node/bench/bench.mjs "$target" --mib "$mib" --secs "$secs" --reps "$reps" >>"$scratch/node.jsonl"; }
py() { [ -z "$python" ] || "$python" bindings/node/bench/bench.py "$target" --mib "$mib" --secs "$secs" --reps "$reps" >>"$scratch/python.jsonl"; }
if [ -n "$python" ]; then "$python" -c 'import ninefold' || { echo "$python cannot import ninefold" >&2; exit 1; }; fi
touch "$scratch/python.jsonl"
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then rust; nodejs; py; else py; nodejs; rust; fi
done

node - "$scratch/rust.jsonl" "$scratch/node.jsonl" "$scratch/python.jsonl" "$mib" "$target" "$rounds" "$reps" <<'JS'
const fs = require('node:fs');
const [rustF, nodeF, pyF, mib, target, rounds, reps] = process.argv.slice(2);
const load = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rust = load(rustF), node = load(nodeF), py = load(pyF);
const all = (rows, k) => rows.flatMap((r) => r[k] ?? []);
console.log(`node vs rust client, ${mib} MiB file, ninefold serve --memory at ${target}`);
console.log(`median of ${rounds} rounds x ${reps} reps (alternating order); min..max in brackets`);
const pyHead = py.length ? ` ${'python'.padStart(24)} ${'py/rust'.padStart(8)}` : '';
console.log(`${'row'.padEnd(14)} ${'unit'.padStart(7)} ${'rust'.padStart(24)} ${'node'.padStart(24)} ${'node/rust'.padStart(10)}${pyHead}`);
const cell = (v) => (v.length ? `${median(v).toFixed(0)} [${Math.min(...v).toFixed(0)}..${Math.max(...v).toFixed(0)}]` : '-');
const rows = [
  ['write', 'write', 'MiB/s'], ['read', 'read', 'MiB/s'], ['read_into', 'read_into', 'MiB/s'],
  ['meta1', 'metadata x1', 'stat/s'], ['meta32', 'metadata x32', 'stat/s'],
  ['cpu_write', 'cpu/MiB write', 'us'], ['cpu_read', 'cpu/MiB read', 'us'], ['cpu_read_into', 'cpu/MiB r_into', 'us'],
  ['cpu1', 'cpu/stat x1', 'us'], ['cpu32', 'cpu/stat x32', 'us'],
];
for (const [k, name, unit] of rows) {
  const r = all(rust, k), n = all(node, k), p = all(py, k);
  // For the CPU rows lower is better: the ratio stays speed / rust's speed.
  const ratio = (v) => (v.length ? (unit === 'us' ? median(r) / median(v) : median(v) / median(r)).toFixed(2) : '-');
  const pyCell = py.length ? ` ${cell(p).padStart(24)} ${ratio(p).padStart(8)}` : '';
  console.log(`${name.padEnd(14)} ${unit.padStart(7)} ${cell(r).padStart(24)} ${cell(n).padStart(24)} ${ratio(n).padStart(10)}${pyCell}`);
}
const h = all(node, 'handoff');
console.log(`napi round trip of a call without I/O (node only): median ${median(h).toFixed(1)} us [${Math.min(...h).toFixed(1)}..${Math.max(...h).toFixed(1)}]`);
JS
