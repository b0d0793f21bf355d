#!/usr/bin/env bash
# bench-cli.sh — the client's own speed: `ninefold put` / `ninefold get` of
# one 256 MiB file and of 1,000 small files, against `ninefold serve`
# (passthrough on a scratch directory) and diod, side by side in one run.
#
#   scripts/bench-cli.sh [--size-mib N] [--files N] [--file-bytes N] [--runs N]
#
# Rows: ours at the client's default msize (1 MiB), ours at diod's msize
# (64 KiB, "fair"), diod (which grants at most 64 KiB). Each measurement is
# the best of --runs (default 3). Data lives on the same disk for every
# server (scratch directories under $TMPDIR); the page cache is warm (the
# same for all rows). Prints MB/s (10^6 bytes) and files/s, and the ratios
# ours/diod. Uses ${NINEFOLD_BIN:-target/release/ninefold} (built if missing)
# and diod from PATH (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=256
files=1000
file_bytes=4096
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --size-mib) size_mib=$2; shift 2 ;;
        --files) files=$2; shift 2 ;;
        --file-bytes) file_bytes=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--size-mib N] [--files N] [--file-bytes N] [--runs N]" >&2; exit 2 ;;
    esac
done

bin=${NINEFOLD_BIN:-${CARGO_TARGET_DIR:-target}/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli
fi
command -v diod >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y diod >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bench-cli.XXXXXX")
chmod 755 "$scratch"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listening on port $1" >&2; return 1
}

# Servers.
mkdir -p "$scratch/ours-export" "$scratch/diod-export"
ours_port=$(free_port)
"$bin" serve "$scratch/ours-export" --listen "tcp://127.0.0.1:$ours_port" --log error >/dev/null &
pids+=($!)
diod_port=$(free_port)
diod_export=$(realpath "$scratch/diod-export")
(cd "$scratch" && exec diod -f -n -l "127.0.0.1:$diod_port" -e "$diod_export" -L stderr -c /dev/null) \
    2>"$scratch/diod.log" &
pids+=($!)
wait_port "$ours_port"
wait_port "$diod_port"

# Data.
mkdir -p "$scratch/src/small" "$scratch/dst"
head -c $((size_mib << 20)) /dev/urandom >"$scratch/src/big"
python3 - "$scratch/src/small" "$files" "$file_bytes" <<'EOF'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, f"f{i:05d}"), "wb") as f:
        f.write(os.urandom(size))
EOF

now() { date +%s.%N; }
# best_of PREPARE CMD...: the shortest wall time of $runs runs of CMD, in
# seconds; PREPARE (untimed) runs before each.
best_of() {
    local prepare=$1; shift
    local best=""
    for _ in $(seq "$runs"); do
        local t0 t1
        $prepare
        t0=$(now)
        "$@" >/dev/null
        t1=$(now)
        best=$(python3 -c "a='$best'; b=$t1-$t0; print(b if a=='' else min(float(a), b))")
    done
    echo "$best"
}

declare -A result
measure() { # name target extra-args...
    local name=$1 target=$2; shift 2
    local opts=("$@")
    rm -rf "${scratch:?}/dst"/*
    result[$name,put_big]=$(best_of true "$bin" put --no-progress "${opts[@]}" "$scratch/src/big" "$target/big")
    result[$name,get_big]=$(best_of true "$bin" get --no-progress "${opts[@]}" "$target/big" "$scratch/dst/big")
    cmp -s "$scratch/src/big" "$scratch/dst/big" || { echo "$name: get returned different bytes" >&2; exit 1; }
    "$bin" rm -f "${opts[@]}" "$target/big"
    rm_remote() { "$bin" rm -rf "${opts[@]}" "$target/small"; }
    result[$name,put_small]=$(best_of rm_remote "$bin" put -r --no-progress "${opts[@]}" "$scratch/src/small" "$target/")
    rm_local() { rm -rf "$scratch/dst/small"; }
    result[$name,get_small]=$(best_of rm_local "$bin" get -r --no-progress "${opts[@]}" "$target/small" "$scratch/dst/")
    diff -r "$scratch/src/small" "$scratch/dst/small" >/dev/null || { echo "$name: get -r differs" >&2; exit 1; }
    "$bin" rm -r "${opts[@]}" "$target/small"
}

measure ours "tcp://127.0.0.1:$ours_port"
measure ours64k "tcp://127.0.0.1:$ours_port" --msize 65536
measure diod "tcp://127.0.0.1:$diod_port" --aname "$diod_export"

bytes=$((size_mib << 20))
python3 - "$bytes" "$files" "$size_mib" "$file_bytes" \
    "${result[ours,put_big]}" "${result[ours,get_big]}" "${result[ours,put_small]}" "${result[ours,get_small]}" \
    "${result[ours64k,put_big]}" "${result[ours64k,get_big]}" "${result[ours64k,put_small]}" "${result[ours64k,get_small]}" \
    "${result[diod,put_big]}" "${result[diod,get_big]}" "${result[diod,put_small]}" "${result[diod,get_small]}" <<'EOF'
import sys
bytes_, files, mib, fb = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = [float(x) for x in sys.argv[5:]]
rows = {"ours (msize 1 MiB)": t[0:4], "ours (msize 64 KiB)": t[4:8], "diod (msize 64 KiB)": t[8:12]}
print(f"ninefold get/put: one {mib} MiB file, {files} files of {fb} bytes; best of runs")
print(f"{'server':22} {'put MB/s':>9} {'get MB/s':>9} {'put files/s':>12} {'get files/s':>12}")
vals = {}
for name, (pb, gb, ps, gs) in rows.items():
    v = (bytes_ / pb / 1e6, bytes_ / gb / 1e6, files / ps, files / gs)
    vals[name] = v
    print(f"{name:22} {v[0]:9.1f} {v[1]:9.1f} {v[2]:12.0f} {v[3]:12.0f}")
d = vals["diod (msize 64 KiB)"]
for name in ("ours (msize 1 MiB)", "ours (msize 64 KiB)"):
    o = vals[name]
    print(f"ratio {name} / diod: " + ", ".join(f"{k} {a / b:.2f}x" for k, a, b in zip(("put", "get", "put files", "get files"), o, d)))
EOF
