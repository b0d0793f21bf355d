#!/usr/bin/env bash
# pjdfstest (398 POSIX tests, crates.io `pjdfstest` 0.2.2) through the Linux
# kernel's v9fs client, booted under qemu (scripts/qemu-guest.sh), against
# `ninefold serve DIR` (passthrough). Fails on any failure that is not in the
# documented list below, and when pjdfstest does not run to its summary.
# See docs/KERNEL.md.
#
#   scripts/kernel-pjdfstest.sh [--bin PATH] [--mount-opts OPTS]
#
# Known failures, both caused by the client or the host, not the server:
#   utimensat::subsecond   the v9fs client keeps 1 s timestamp granularity and
#                          drops nanoseconds before sending Tsetattr
#   link::link_count_max   pathconf(_PC_LINK_MAX) guesses 32000 from the
#                          filesystem type; the host's ext4 allows 65000
# Environment: NINEFOLD_BIN (as --bin), TIMEOUT (default 2400 s; about 5 min
# is usual, far more on a loaded host),
# NINEFOLD_QEMU_ACCEL, CARGO_TARGET_DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
KNOWN="utimensat::subsecond link::link_count_max"

bin=${NINEFOLD_BIN:-}; mount_opts=""; debug=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=${2:?}; shift 2 ;;
        --mount-opts) mount_opts=${2:?}; shift 2 ;;
        *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done

# shellcheck source=lib/kernel-host.sh
. "$repo/scripts/lib/kernel-host.sh"
PJD=$("$repo/scripts/install-tool.sh" pjdfstest)
"$repo/scripts/qemu-setup.sh" > /dev/null
if [ -z "$bin" ]; then
    cargo build --release -p ninefold-cli
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold
fi
[ -x "$bin" ] || { echo "kernel-pjdfstest: no ninefold binary at $bin" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ninefold-pjd.XXXXXX")
dir=$work/export
mkdir -p "$dir"
chmod 755 "$work" "$dir"
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
server_cmd_for() { cmd=("$bin" serve "$dir" --listen "tcp://127.0.0.1:$1"); }
start_server "$work/server.log" || { echo "kernel-pjdfstest: server did not start" >&2; exit 1; }

start=$(date +%s)
guest_bins=$PJD guest_files=$repo/tests/kernel/pjdfstest.toml TIMEOUT=${TIMEOUT:-2400} \
    run_guest pjdfstest "$repo/tests/kernel/guest-pjdfstest.sh" "$mount_opts"
secs=$(( $(date +%s) - start ))
out=$work/pjdfstest.guest.out
summary=$(tr -d '\r' < "$out" | grep '^Summary' | tail -1 || true)
failed=$(tr -d '\r' < "$out" | grep -o 'PJD-FAILED [^ ]*' | awk '{print $2}' | sort -u || true)
echo "pjdfstest through v9fs against ninefold passthrough: ${summary:-no summary} (${secs}s, guest rc=$guest_rc)"
unexpected=""
for f in $failed; do
    case " $KNOWN " in
        *" $f "*) echo "  known failure: $f" ;;
        *) echo "  UNEXPECTED failure: $f"; unexpected="$unexpected $f" ;;
    esac
done
if [ -z "$summary" ]; then
    tail -40 "$out"
    echo "pjdfstest did not complete" >&2
    exit 1
fi
if [ -n "$unexpected" ]; then
    grep -A4 -E "($(echo $unexpected | tr ' ' '|'))" "$out" | head -80
    exit 1
fi
echo "pjdfstest: no failure beyond the documented ones"
