#!/usr/bin/env bash
# Every test of the workspace, from a fresh machine. CI runs exactly this
# (.ci/run). Idempotent: installs only what is missing. Works from a clone in
# any directory; everything it needs is in the checkout or comes from the
# package registries (apt, crates.io), into git-ignored places (target/).
#
#   scripts/test.sh            the default suite (see docs/TESTING.md for the
#                              steps and their usual durations)
#   scripts/test.sh --soak     also: 50x the property-test cases, 10 min of
#                              fuzzing per target, the 1,000,000-cycle client
#                              fid soak
#
# Peers it installs when missing (through the scripts it calls): diod (apt),
# qemu-system-x86 + busybox-static (apt) and a Debian kernel with 9p modules
# (apt-get download, unpacked into target/qemu9p), gcc + libc6-dev (apt, for
# tests/kernel/nf-probe.c), pjdfstest and fsx (crates.io, into
# target/qemu9p/tools), cargo-fuzz (crates.io), stunnel4 + openssl (apt, for
# scripts/test-tls.sh).
#
# A suite that cannot get its peer fails. Leaving something out takes an
# explicit opt-out variable, and every skip is listed in the final summary:
#   NINEFOLD_SKIP_KERNEL=1        no qemu runs (kernel client suites)
#   NINEFOLD_SKIP_ROOT_TESTS=1    not root: credential/permission tests left out
#   NINEFOLD_SKIP_TLS_KERNEL=1    the kernel-through-stunnel TLS run left out
#   NINEFOLD_SKIP_LOCK_CHECKS=1   kernel lock checks left out when
#                                 tests/kernel/nf-probe.c does not build
# Other environment: NINEFOLD_FUZZ_SECONDS (default 10) per fuzz target;
# NINEFOLD_PROPTEST_CASES overrides the property-test counts;
# NINEFOLD_QEMU_ACCEL=kvm|tcg|auto (scripts/qemu-guest.sh);
# NINEFOLD_KERNEL_SERIAL=1 runs pjdfstest after the other kernel steps instead
# of alongside them; CARGO_TARGET_DIR.
#
# Later steps get the release binary of the ninefold command, built once
# right after clippy, as NINEFOLD_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

soak=0
for arg in "$@"; do
    case "$arg" in
        --soak) soak=1 ;;
        *) echo "usage: $0 [--soak]" >&2; exit 2 ;;
    esac
done

# A fresh clone gains nothing from incremental compilation, and its
# caches are the largest part of target/debug.
export CARGO_INCREMENTAL=0

# Free space where the builds go (GiB), printed beside each step's time:
# a full run needs roughly 15 GiB, and a disk that fills up shows up as
# ENOSPC in whichever suite happens to be writing then.
free_gib() { df -Pk "${CARGO_TARGET_DIR:-$repo}" 2>/dev/null | awk 'NR == 2 { printf "%.1f", $4 / 1048576 }'; }

T0=$(date +%s)
summary=$(mktemp "${TMPDIR:-/tmp}/ninefold-test-steps.XXXXXX")
export NINEFOLD_SKIPS_FILE
NINEFOLD_SKIPS_FILE=$(mktemp "${TMPDIR:-/tmp}/ninefold-test-skips.XXXXXX")
current=""
step_t0=0

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
end_step() {
    if [ -n "$current" ]; then
        local d=$(( $(date +%s) - step_t0 ))
        printf '%-8s %7s  %s\n' "$(fmt_secs "$d")" "$(free_gib)G" "$current" >> "$summary"
        printf -- '-- %s: %s (%s GiB free)\n' "$current" "$(fmt_secs "$d")" "$(free_gib)"
        current=""
    fi
}
step() {
    end_step
    current=$*
    step_t0=$(date +%s)
    printf '\n== %s\n' "$*"
}
skip() { echo "$*" >> "$NINEFOLD_SKIPS_FILE"; }
pjd_pid=""
pjd_log=""
print_summary() {
    local rc=$?
    if [ -n "$pjd_pid" ]; then
        kill -TERM -- "-$pjd_pid" 2>/dev/null || true
        wait "$pjd_pid" 2>/dev/null || true
    fi
    # the step that was running when something failed
    if [ -n "$current" ]; then
        local d=$(( $(date +%s) - step_t0 ))
        printf '%-8s %7s  %s%s\n' "$(fmt_secs "$d")" "$(free_gib)G" "$current" "$([ "$rc" = 0 ] || echo '   <- FAILED')" >> "$summary"
    fi
    printf '\n== summary (%s in all; %s GiB free at the start; columns: time, free disk after the step, step)\n' \
        "$(fmt_secs $(( $(date +%s) - T0 )))" "$free0"
    cat "$summary"
    if [ -s "$NINEFOLD_SKIPS_FILE" ]; then
        echo "skipped (by opt-out variables):"
        sed 's/^/  - /' "$NINEFOLD_SKIPS_FILE"
    else
        echo "skipped: nothing"
    fi
    if [ "$rc" = 0 ]; then echo "all tests passed"; else echo "FAILED (exit status $rc)"; fi
    rm -f "$summary" "$NINEFOLD_SKIPS_FILE" ${pjd_log:+"$pjd_log"}
}
free0=$(free_gib)
echo "free disk for the builds: ${free0} GiB"
awk -v f="${free0:-0}" 'BEGIN { exit !(f < 15) }' \
    && echo "warning: the full suite needs about 15 GiB free; with ${free0} GiB a late step may fail with ENOSPC" >&2
trap print_summary EXIT

[ "${NINEFOLD_SKIP_ROOT_TESTS:-0}" != 1 ] \
    || skip "credential and permission tests when not root (NINEFOLD_SKIP_ROOT_TESTS=1)"

step "toolchain components"
for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
(cd fuzz && cargo clippy --all-targets -- -D warnings)

step "release build of the ninefold command (NINEFOLD_BIN for every later step)"
CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli
NINEFOLD_BIN=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/ninefold
export NINEFOLD_BIN
[ -x "$NINEFOLD_BIN" ] || { echo "no release binary at $NINEFOLD_BIN" >&2; exit 1; }

step "rustdoc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --quiet

fuzz_secs=${NINEFOLD_FUZZ_SECONDS:-10}
if [ "$soak" = 1 ]; then
    export NINEFOLD_PROPTEST_CASES=${NINEFOLD_PROPTEST_CASES:-200000}
    export NINEFOLD_SOAK=1
    fuzz_secs=600
fi

step "peers: diod (the reference C server)"
if ! command -v diod >/dev/null; then
    ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends diod >/dev/null
fi

step "cargo test (unit, integration, property, doc; client against diod and ours; fstest against memfs and passthrough)"
cargo test --workspace --all-features

step "benchmarks compile"
# The one criterion benchmark (the codec's); `--workspace` would also build
# every library of the workspace as a bench harness in the bench profile.
cargo bench -p ninefold-proto --no-run --quiet

step "fuzz ${fuzz_secs}s per target"
scripts/fuzz.sh "$fuzz_secs"

step "conformance suite against diod (a record of where diod differs; see docs/CONFORMANCE.md)"
scripts/fstest-diod.sh

if [ "${NINEFOLD_SKIP_KERNEL:-0}" != 1 ]; then
    step "qemu guest harness: qemu, busybox, Debian kernel, pjdfstest, fsx"
    scripts/qemu-setup.sh
    scripts/install-tool.sh pjdfstest
    scripts/install-tool.sh fsx

    # pjdfstest boots its own guest alongside the other two scripts' guests:
    # each TCG guest keeps one core busy, and the machine has two. Its output
    # is printed in its own step once it is done.
    pjd_log=$(mktemp "${TMPDIR:-/tmp}/ninefold-pjd-log.XXXXXX")
    pjd_t0=$(date +%s)
    if [ "$(nproc)" -ge 2 ] && [ "${NINEFOLD_KERNEL_SERIAL:-0}" != 1 ]; then
        # its own process group, so an early exit can stop it with its guest
        setsid scripts/kernel-pjdfstest.sh > "$pjd_log" 2>&1 &
        pjd_pid=$!
    else
        pjd_pid=""
    fi

    step "Linux v9fs client under qemu: workload against ninefold serve (passthrough and memory)"
    scripts/kernel-test.sh

    step "Linux v9fs client under qemu: fsx, tar tree, concurrent writers, cache=loose"
    scripts/kernel-suites.sh

    step "Linux v9fs client under qemu: pjdfstest against ninefold serve (passthrough)"
    pjd_rc=0
    if [ -n "$pjd_pid" ]; then
        wait "$pjd_pid" || pjd_rc=$?
        pjd_pid=""
        echo "(ran alongside the two steps above; started $(fmt_secs $(( $(date +%s) - pjd_t0 ))) ago)"
    else
        scripts/kernel-pjdfstest.sh > "$pjd_log" 2>&1 || pjd_rc=$?
    fi
    cat "$pjd_log"
    rm -f "$pjd_log"
    [ "$pjd_rc" = 0 ] || exit "$pjd_rc"
else
    skip "Linux kernel client suites under qemu (NINEFOLD_SKIP_KERNEL=1)"
fi

# Suites of the bindings, the CLI client and the FUSE mount go here, one
# `step "..."` line and one `scripts/test-<name>.sh` line each; they find the
# release binary in $NINEFOLD_BIN.

step "Node/TypeScript package: tsc --strict, node --test against ninefold serve and diod, examples, npm pack"
scripts/test-node.sh

step "FUSE mount (ninefold mount) against ninefold serve and diod: tools, locks, restart, pjdfstest, fsx"
scripts/test-mount.sh

step "Python package: wheel, ruff, mypy --strict, pytest against ninefold serve and diod"
scripts/test-python.sh

step "Go module (bindings/go) against ninefold serve and diod: go test -race, cgocheck"
scripts/test-go.sh

step "9P2000.L.Z: official zerofs-client (PyPI wheel, crates.io crate) against ninefold serve; chaos with SIGKILL restarts"
scripts/test-zerofs.sh

step "TLS: the Linux v9fs client under qemu through stunnel (client certificate) to ninefold serve --listen tls://"
scripts/test-tls.sh

end_step
