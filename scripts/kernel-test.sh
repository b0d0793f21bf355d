#!/usr/bin/env bash
# Run tests/kernel/guest-workload.sh through the Linux kernel's own 9P client
# (v9fs, booted under qemu) against `ninefold serve`, for the passthrough
# filesystem (a fresh temporary directory, verified afterwards on the host)
# and for the in-memory tree. See docs/KERNEL.md.
#
#   scripts/kernel-test.sh                      both filesystems, ninefold built in release
#   scripts/kernel-test.sh --fs memory          one filesystem
#   scripts/kernel-test.sh --server diod        the same workload against diod (comparison)
#   scripts/kernel-test.sh --server-cmd 'CMD'   any server; CMD may use {dir} and {port}
#
# Options:
#   --fs passthrough|memory|both   (default both; with --server/--server-cmd: passthrough)
#   --server ninefold|diod          preset (diod: scripts/diod-serve.sh, aname={dir})
#   --server-cmd CMD                a shell command that serves {dir} on 127.0.0.1:{port}
#   --mount-opts OPTS               extra v9fs mount options (may use {dir}), e.g. cache=loose
#   --bin PATH                      use this ninefold binary (no cargo build)
#   --keep                          keep the export directories and logs
#   --debug                         RUST_LOG=debug for ninefold (server log in the work dir)
# Environment:
#   NINEFOLD_BIN      the ninefold binary (as --bin)
#   NINEFOLD_SKIP_LOCK_CHECKS=1  run even when tests/kernel/nf-probe.c does not
#                     build (the lock and fd-after-unlink checks are then
#                     SKIPped and listed as skips); otherwise that is a failure
#   TIMEOUT (qemu run, default 900 s), MSIZE, MEM, NINEFOLD_QEMU_ACCEL,
#   NINEFOLD_QEMU_CACHE: passed to scripts/qemu-guest.sh
#   CARGO_TARGET_DIR  where the release binary is built (default ./target)
# Exit status: 0 when every selected filesystem passed, 1 otherwise, 2 on usage
# or setup errors.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

DIOD=$repo/scripts/diod-serve.sh
WORKLOAD=$repo/tests/kernel/guest-workload.sh

fs=""; server=ninefold; server_cmd=""; mount_opts=""; bin=${NINEFOLD_BIN:-}; keep=0; debug=0
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --fs) fs=${2:?}; shift 2 ;;
        --server) server=${2:?}; shift 2 ;;
        --server-cmd) server_cmd=${2:?}; server=custom; shift 2 ;;
        --mount-opts) mount_opts=${2:?}; shift 2 ;;
        --bin) bin=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        --debug) debug=1; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
case "$server" in
    ninefold) : "${fs:=both}" ;;
    diod) server_cmd="bash $DIOD {dir} {port} 86400"; : "${fs:=passthrough}"
          mount_opts="aname={dir}${mount_opts:+,$mount_opts}" ;;
    custom) : "${fs:=passthrough}" ;;
    *) echo "--server must be ninefold or diod" >&2; exit 2 ;;
esac
case "$fs" in
    both) fss="passthrough memory" ;;
    passthrough|memory) fss=$fs ;;
    *) echo "--fs must be passthrough, memory or both" >&2; exit 2 ;;
esac

# shellcheck source=lib/kernel-host.sh
. "$repo/scripts/lib/kernel-host.sh"
T0=$(ts)

work=$(mktemp -d /tmp/ninefold-kernel.XXXXXX)
chmod 755 "$work"   # diod attaches as "nobody" and must traverse it
cleanup() { stop_server; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup: qemu, busybox, kernel ----------------------------------------------
say "setup (qemu, busybox-static, Debian kernel with 9p modules)"
t=$(ts)
"$repo/scripts/qemu-setup.sh" > "$work/setup.log" 2>&1 || { cat "$work/setup.log"; echo "setup failed" >&2; exit 2; }
tail -1 "$work/setup.log"
if [ "$server" = diod ]; then
    command -v diod >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y diod > "$work/diod-install.log" 2>&1
fi
t_setup=$(dur "$t" "$(ts)")

# --- nf-probe: static helper for locks and fd-after-unlink ---------------------
t=$(ts)
probe="$work/nf-probe"
workload=$WORKLOAD
if ! build_probe "$probe" 2> "$work/nf-probe.log"; then
    cat "$work/nf-probe.log" >&2
    if [ "${NINEFOLD_SKIP_LOCK_CHECKS:-0}" != 1 ]; then
        echo "kernel-test: cannot build tests/kernel/nf-probe.c statically (gcc, libc6-dev);" \
             "the lock checks need it (NINEFOLD_SKIP_LOCK_CHECKS=1 runs without them)" >&2
        exit 2
    fi
    skip "kernel-test: lock and fd-after-unlink checks (nf-probe did not build; NINEFOLD_SKIP_LOCK_CHECKS=1)"
    probe=""
    workload=$work/guest-workload.sh
    { echo NF_ALLOW_NO_PROBE=1; cat "$WORKLOAD"; } > "$workload"
fi

t_probe=$(dur "$t" "$(ts)")

# --- build ninefold --------------------------------------------------------------
t=$(ts)
if [ "$server" = ninefold ]; then
    if [ -z "$bin" ]; then
        say "cargo build --release -p ninefold-cli"
        cargo build --release -p ninefold-cli
        bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold
    fi
    [ -x "$bin" ] || { echo "kernel-test: no ninefold binary at $bin" >&2; exit 2; }
fi
t_build=$(dur "$t" "$(ts)")

# --- helpers ------------------------------------------------------------------------
# The server for one filesystem (start_server calls it with the port).
server_cmd_for() {
    local p=$1
    if [ "$server" = ninefold ]; then
        if [ "$fsname" = memory ]; then
            cmd=("$bin" serve --memory --listen "tcp://127.0.0.1:$p")
        else
            cmd=("$bin" serve "$dir" --listen "tcp://127.0.0.1:$p")
        fi
    else
        local c=${server_cmd//\{dir\}/$dir}; c=${c//\{port\}/$p}
        cmd=(bash -c "exec $c")
    fi
}

# --- host-side verification of what the guest left in kept/ ---------------------
hf=0
h() {
    local name=$1; shift
    if "$@"; then echo "OK   host_$name"; else echo "FAIL host_$name"; hf=$((hf+1)); fi
}
K=""
v_renamed()  { [ ! -e "$K/orig.txt" ] && [ "$(cat "$K/hello.txt")" = 'hello from the guest' ]; }
v_moved()    { [ ! -e "$K/sub1/m" ] && [ "$(cat "$K/sub2/moved.txt")" = moved ]; }
v_hardlink() { [ "$(stat -c %i "$K/hello.txt")" = "$(stat -c %i "$K/hard.txt")" ] \
                 && [ "$(stat -c %h "$K/hard.txt")" = 2 ]; }
v_symlink()  { [ -L "$K/sym" ] && [ "$(readlink "$K/sym")" = hello.txt ]; }
v_mode()     { [ "$(stat -c %a "$K/mode640")" = 640 ]; }
v_truncate() { [ "$(stat -c %s "$K/trunc")" = 8192 ] && [ "$(head -c 4 "$K/trunc")" = abcd ] \
                 && [ "$(tail -c +5 "$K/trunc" | tr -d '\000' | wc -c)" = 0 ]; }
v_deep()     { [ "$(cat "$K/deep/1/2/3/4/5/6/7/8/9/10/11/12/leaf")" = leaf ]; }
v_count()    { [ "$(ls -A "$K/many" | wc -l)" = 1000 ]; }
v_names()    { local pad; pad=$(printf '%0190d' 0 | tr 0 n)
               cmp -s <(seq -w 0 999 | sed "s/^/e/; s/\$/-$pad/" | LC_ALL=C sort) \
                      <(ls -A "$K/many" | LC_ALL=C sort); }
v_big_size() { [ "$(stat -c %s "$K/big.bin")" = 52428800 ]; }
v_big_md5()  { [ "$(md5sum < "$K/big.bin" | cut -d' ' -f1)" = "$(cat "$K/big-patched.md5")" ]; }
v_big_patch(){ [ "$(dd if="$K/big.bin" bs=1 skip=1000000 count=7 2>/dev/null)" = PATCHED ]; }
v_big_data() { [ "$(head -c 1000000 "$K/big.bin" | md5sum)" != "$(head -c 1000000 /dev/zero | md5sum)" ]; }
verify_kept() {
    K=$1/kept
    hf=0
    h result_file       test -f "$K/RESULT"
    h scratch_removed   test ! -e "$1/nfwork"
    h renamed           v_renamed
    h moved_cross_dir   v_moved
    h hardlink_same_ino v_hardlink
    h symlink           v_symlink
    h chmod_640         v_mode
    h truncate          v_truncate
    h deep_leaf         v_deep
    h rm_rf_removed     test ! -e "$K/removed"
    h dir1000_count     v_count
    h dir1000_names     v_names
    h big_size          v_big_size
    h big_md5_as_guest_saw v_big_md5
    h big_patch         v_big_patch
    h big_not_zeros     v_big_data
    return $hf
}

# --- one filesystem -----------------------------------------------------------------------
results=()
overall=0
for f in $fss; do
    say "$f: server=$server"
    t=$(ts)
    dir=$(mktemp -d "$work/export-$f.XXXXXX")
    dir=$(realpath "$dir"); chmod 755 "$dir"
    opts=${mount_opts//\{dir\}/$dir}
    status=PASS; detail=""; guest_rc=-; hostres=-; summary=""; t_guest=""
    fsname=$f
    if ! start_server "$work/$f.server.log"; then
        status=FAIL; detail="server did not start"
    else
        echo "listening on 127.0.0.1:$port (pid $server_pid); guest mount opts: ${opts:-(defaults)}"
        tg=$(ts)
        guest_bins=$probe run_guest "$f" "$workload" "$opts"
        t_guest=$(dur "$tg" "$(ts)")
        grep -E '^(OK|FAIL|SKIP|@@T|@@SUMMARY|@@MOUNT|@@CMDS|== )' "$work/$f.guest.out" || true
        summary=$(sed -n 's/.*@@SUMMARY \(.*\)/\1/p' "$work/$f.guest.out" | tail -1)
        case "$guest_rc" in
            0) ;;
            90) status=FAIL; detail="mount failed" ;;
            91) status=FAIL; detail="guest gave no result (crash?)" ;;
            124) status=FAIL; detail="timeout" ;;
            *) status=FAIL; detail="guest FAILs" ;;
        esac
        sleep 0.5
        if ! kill -0 "$server_pid" 2>/dev/null; then
            status=FAIL; detail="${detail:+$detail; }server exited during the run"
        fi
        stop_server
        [ "$server_killed" = 0 ] || detail="${detail:+$detail; }server needed SIGKILL after 5 s of SIGTERM"
        nwarn=$(grep -c -E '(WARN|ERROR)' "$work/$f.server.log" || true)
        if [ "$nwarn" -gt 0 ]; then
            detail="${detail:+$detail; }$nwarn WARN/ERROR lines in the server log"
            grep -E '(WARN|ERROR)' "$work/$f.server.log" | head -5 | sed 's/^/    server: /'
        fi
        if [ "$f" = passthrough ] && [ "$guest_rc" != 90 ]; then
            echo "--- host-side checks of $dir"
            if verify_kept "$dir"; then hostres="ok"; else
                hostres="$hf failed"; status=FAIL; detail="${detail:+$detail; }host checks"; fi
        fi
        grep -E '^FAIL' "$work/$f.guest.out" | sed 's/^/    /' > "$work/$f.fails" || true
    fi
    [ "$keep" = 1 ] || rm -rf "$dir"
    d=$(dur "$t" "$(ts)")
    [ "$status" = PASS ] || overall=1
    results+=("$(printf '%-12s %-9s %-4s guest[%s rc=%s, %ss] host[%s] %6ss %s' \
        "$f" "$server" "$status" "${summary:-no summary}" "$guest_rc" "${t_guest:-?}" "$hostres" "$d" "$detail")")
done

say "summary"
echo "setup ${t_setup}s, nf-probe ${t_probe}s, cargo build ${t_build}s, total $(dur "$T0" "$(ts)")s"
for r in "${results[@]}"; do echo "$r"; done
for f in $fss; do
    [ -s "$work/$f.fails" ] && { echo "$f failures:"; cat "$work/$f.fails"; }
done
if [ "$overall" = 0 ] && [ "$keep" = 0 ]; then
    rm -rf "$work"
else
    echo "logs: $work (serial logs, server logs)"
fi
exit $overall
