#!/usr/bin/env bash
# Every test of the workspace, from a fresh machine. CI runs exactly this
# (.ci/run). Idempotent: installs only what is missing.
#
#   scripts/test.sh            the default suite (a few minutes on 2 cores)
#   scripts/test.sh --soak     also: 50x the property-test cases, 10 min of
#                              fuzzing per target
#
# Environment: NINEFOLD_FUZZ_SECONDS (default 10) per fuzz target in the
# default suite; NINEFOLD_PROPTEST_CASES overrides the property-test counts.
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
    fuzz_secs=600
fi

step "cargo test (unit, integration, property, doc)"
cargo test --workspace --all-features

step "benchmarks compile"
cargo bench --workspace --no-run --quiet

step "fuzz ${fuzz_secs}s per target"
scripts/fuzz.sh "$fuzz_secs"

step "all tests passed"
