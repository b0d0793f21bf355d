#!/usr/bin/env bash
# The cost of TLS against plain TCP, side by side on one `ninefold serve`
# (memfs) listening on both: `ninefold get` of one large file, alternating
# transports, best of N runs each.
#
#   scripts/bench-tls.sh [MIB] [RUNS]      (default 256 MiB, 3 runs)
#   NINEFOLD_BIN   the ninefold binary (default target/release/ninefold)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-256}
runs=${2:-3}
bin=${NINEFOLD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/ninefold}
[ -x "$bin" ] || { echo "no ninefold binary at $bin (cargo build --release -p ninefold-cli)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench-tls: openssl is needed for the test certificate" >&2; exit 2; }

work=$(mktemp -d /tmp/ninefold-bench-tls.XXXXXX)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -days 1 -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req "${ec[@]}" -subj /CN=bench -keyout "$work/key.pem" -out "$work/cert.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n' > "$work/cert.ext"
openssl x509 -req -in "$work/cert.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 1 -extfile "$work/cert.ext" -out "$work/cert.pem" 2>/dev/null
"$bin" serve --memory --listen tcp://127.0.0.1:0 --listen tls://127.0.0.1:0 \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log warn > "$work/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^Stop with' "$work/serve.out" && break; sleep 0.1; done
tcp=$(sed -n 's/^listening on \(tcp:.*\)/\1/p' "$work/serve.out")
tls=$(sed -n 's/^listening on \(tls:.*\)/\1/p' "$work/serve.out")
head -c "$((mib * 1048576))" /dev/urandom > "$work/big"
"$bin" put "$work/big" "$tcp/big"

best() { sort -n | head -1; }
one() { # one URL -> seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" get "$1" "$work/out" >/dev/null
    t1=$(date +%s.%N)
    cmp -s "$work/big" "$work/out" || { echo "bench-tls: copy differs" >&2; exit 1; }
    rm -f "$work/out"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
: > "$work/tcp.t"; : > "$work/tls.t"
for _ in $(seq "$runs"); do
    one "$tcp/big" >> "$work/tcp.t"
    one "$tls/big?ca=$work/ca.pem" >> "$work/tls.t"
done
t_tcp=$(best < "$work/tcp.t"); t_tls=$(best < "$work/tls.t")
awk -v m="$mib" -v a="$t_tcp" -v b="$t_tls" -v r="$runs" 'BEGIN {
    printf "get %d MiB, best of %d: tcp %.3f s (%.0f MiB/s), tls %.3f s (%.0f MiB/s); tls/tcp time %.2fx, throughput %.0f%%\n",
        m, r, a, m / a, b, m / b, b / a, 100 * a / b }'
