#!/usr/bin/env bash
# pjdfstest (398 POSIX tests, crates.io `pjdfstest`) through the Linux
# kernel's v9fs client, booted under qemu, against `ninefold serve DIR`
# (passthrough). Fails on any failure that is not in the documented list
# below. See docs/KERNEL.md.
#
#   scripts/kernel-pjdfstest.sh [--bin PATH] [--mount-opts OPTS]
#
# Known failures, both caused by the client or the host, not the server:
#   utimensat::subsecond   the v9fs client keeps 1 s timestamp granularity and
#                          drops nanoseconds before sending Tsetattr
#   link::link_count_max   pathconf(_PC_LINK_MAX) guesses 32000 from the
#                          filesystem type; the host's ext4 allows 65000
# Environment: NINEFOLD_QEMU9P (qemu9p tools), TIMEOUT (default 1200 s),
# CARGO_TARGET_DIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
QEMU9P=${NINEFOLD_QEMU9P:-$(bash "$repo/scripts/shared-tools.sh" qemu9p)}
KNOWN="utimensat::subsecond link::link_count_max"

bin=""; mount_opts=""
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=${2:?}; shift 2 ;;
        --mount-opts) mount_opts=${2:?}; shift 2 ;;
        *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done

command -v pjdfstest >/dev/null || cargo install --locked pjdfstest --version 0.2.2
bash "$QEMU9P/setup.sh" >/dev/null
if [ -z "$bin" ]; then
    cargo build --release -p ninefold-cli
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold
fi

work=$(mktemp -d /tmp/ninefold-pjd.XXXXXX)
export_dir=$work/export
mkdir -p "$export_dir"
chmod 755 "$work" "$export_dir"
sed "s|@CONFIG@|$repo/tests/kernel/pjdfstest.toml|" tests/kernel/guest-pjdfstest.sh > "$work/guest.sh"

port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
"$bin" serve "$export_dir" --listen "tcp://127.0.0.1:$port" > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

start=$(date +%s)
set +e
GUEST_BINS="pjdfstest" GUEST_FILES="/etc/passwd /etc/group $repo/tests/kernel/pjdfstest.toml" \
    TIMEOUT=${TIMEOUT:-1200} bash "$QEMU9P/run-guest.sh" "$port" "$work/guest.sh" "$mount_opts" \
    > "$work/guest.out" 2>&1
rc=$?
set -e
secs=$(( $(date +%s) - start ))
summary=$(tr -d '\r' < "$work/guest.out" | grep '^Summary' | tail -1 || true)
failed=$(tr -d '\r' < "$work/guest.out" | grep -o 'PJD-FAILED [^ ]*' | awk '{print $2}' | sort -u || true)
echo "pjdfstest through v9fs against ninefold passthrough: ${summary:-no summary} (${secs}s, guest rc=$rc)"
unexpected=""
for f in $failed; do
    case " $KNOWN " in
        *" $f "*) echo "  known failure: $f" ;;
        *) echo "  UNEXPECTED failure: $f"; unexpected="$unexpected $f" ;;
    esac
done
if [ -z "$summary" ]; then
    tail -40 "$work/guest.out"
    echo "pjdfstest did not complete" >&2
    exit 1
fi
if [ -n "$unexpected" ]; then
    grep -A4 -E "($(echo $unexpected | tr ' ' '|'))" "$work/guest.out" | head -80
    exit 1
fi
echo "pjdfstest: no failure beyond the documented ones"
