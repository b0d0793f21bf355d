# bench-bins.sh — sourced by the per-request benchmarks (bench-cpu.sh,
# bench-instr.sh): where the release binaries are, and a check that each
# one the run needs is there.
#
#   bench_bins NAME SERVERS   sets $bench (ninefold-bench) and $ours (the
#                             ninefold binary, $NINEFOLD_BIN if set); exits 1
#                             with a message naming NAME when one is
#                             missing, or when SERVERS (comma-separated)
#                             has base-* servers without $NINEFOLD_BASE_BIN
bench_bins() {
    local name=$1 servers=$2 target_dir b
    target_dir=${CARGO_TARGET_DIR:-$root/target}
    bench=$target_dir/release/ninefold-bench
    ours=${NINEFOLD_BIN:-$target_dir/release/ninefold}
    for b in "$bench" "$ours"; do
        [ -x "$b" ] || { echo "$name: $b missing (cargo build --release -p ninefold-bench -p ninefold-cli)" >&2; exit 1; }
    done
    if [[ ",$servers," == *",base-"* ]] && [ ! -x "${NINEFOLD_BASE_BIN:-}" ]; then
        echo "$name: base-* servers need NINEFOLD_BASE_BIN" >&2; exit 1
    fi
}
