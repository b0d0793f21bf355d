#!/usr/bin/env bash
# Every test of the workspace, from a fresh machine. CI runs exactly this
# (.ci/run). Idempotent: installs only what is missing.
#
#   scripts/test.sh            the default suite (about 30-40 min on 2 cores
#                              from a fresh clone, most of it compiling)
#   scripts/test.sh --soak     also: 50x the property-test cases, 10 min of
#                              fuzzing per target, the 1,000,000-cycle client
#                              fid soak
#
# Besides cargo, it needs (and installs when missing, through the scripts it
# calls): cargo-fuzz, diod (apt), qemu + a Debian kernel with 9p modules
# (../shared/tools/qemu9p/setup.sh), pjdfstest and fsx (cargo install).
#
# Environment: NINEFOLD_FUZZ_SECONDS (default 10) per fuzz target in the
# default suite; NINEFOLD_PROPTEST_CASES overrides the property-test counts;
# NINEFOLD_SKIP_KERNEL=1 leaves out the qemu runs (for a quick local pass).
set -euo pipefail
cd "$(dirname "$0")/.."

soak=0
for arg in "$@"; do
    case "$arg" in
        --soak) soak=1 ;;
        *) echo "usage: $0 [--soak]" >&2; exit 2 ;;
    esac
done

step() { printf '\n== %s\n' "$*"; }

step "toolchain components"
for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
(cd fuzz && cargo clippy --all-targets -- -D warnings)

step "rustdoc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --quiet

fuzz_secs=${NINEFOLD_FUZZ_SECONDS:-10}
if [ "$soak" = 1 ]; then
    export NINEFOLD_PROPTEST_CASES=${NINEFOLD_PROPTEST_CASES:-200000}
    export NINEFOLD_SOAK=1
    fuzz_secs=600
fi

step "peers: diod (the reference C server)"
command -v diod >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y diod >/dev/null

step "cargo test (unit, integration, property, doc; client against diod and ours; fstest against memfs and passthrough)"
cargo test --workspace --all-features

step "benchmarks compile"
cargo bench --workspace --no-run --quiet

step "fuzz ${fuzz_secs}s per target"
scripts/fuzz.sh "$fuzz_secs"

step "conformance suite against diod (a record of where diod differs; see docs/CONFORMANCE.md)"
scripts/fstest-diod.sh

if [ "${NINEFOLD_SKIP_KERNEL:-0}" != 1 ]; then
    step "release build of the ninefold command (for the kernel runs)"
    cargo build --release -p ninefold-cli
    bin=${CARGO_TARGET_DIR:-target}/release/ninefold

    step "Linux v9fs client under qemu: workload against ninefold serve (passthrough and memory)"
    scripts/kernel-test.sh --bin "$bin"

    step "Linux v9fs client under qemu: fsx, tar tree, concurrent writers, cache=loose"
    scripts/kernel-suites.sh --bin "$bin"

    step "Linux v9fs client under qemu: pjdfstest against ninefold serve (passthrough)"
    scripts/kernel-pjdfstest.sh --bin "$bin"
fi

step "Go module (bindings/go) against ninefold serve and diod: go test -race, cgocheck"
scripts/test-go.sh

step "all tests passed"
