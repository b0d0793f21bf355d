#!/usr/bin/env bash
# Run every fuzz target for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 60 s for each of decode_base, decode_u, decode_l, decode_z (the
# codec) and server_seq (sequences of T-messages to a server over memfs).
# Installs cargo-fuzz if missing. cargo-fuzz needs nightly-only compiler
# flags; the one stable toolchain here accepts them with RUSTC_BOOTSTRAP=1.
# Corpora live in fuzz/corpus/<target> (git-ignored), seeded from the golden
# vectors; crashes land in fuzz/artifacts/<target> and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_base decode_u decode_l decode_z server_seq)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus"
    case $t in
        decode_*)
            dialect=${t#decode_}
            cp -n crates/ninefold-proto/tests/vectors/"$dialect"/*.bin "$corpus"/ 2>/dev/null || true
            ;;
    esac
    echo "== fuzzing $t for ${secs}s"
    log=$(mktemp)
    status=0
    cargo fuzz run --fuzz-dir fuzz "$t" "$corpus" -- \
        -max_total_time="$secs" -max_len=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "!! $t failed (status $status); reproducer in fuzz/artifacts/$t" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
done
