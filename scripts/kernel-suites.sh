#!/usr/bin/env bash
# Heavier workloads through the Linux kernel's 9P client (v9fs, booted under
# qemu) against `ninefold serve` of a fresh passthrough directory: fsx data
# integrity (cache=none, and with mmap under cache=mmap), a tar extract of a
# ~3000-file tree compared file by file, concurrent writers, and a
# cache=loose run checked on the host. One guest boot and one fresh server
# and export directory per suite. See docs/KERNEL.md, "Kernel suites".
#
#   scripts/kernel-suites.sh                       all suites, ninefold built in release
#   scripts/kernel-suites.sh --suites tar,loose    some of them
#   scripts/kernel-suites.sh --server diod         the same suites against diod
#
# Options:
#   --suites LIST      comma-separated, from: fsx fsx-mmap tar concurrent loose
#                      (default all)
#   --server ninefold|diod   diod: scripts/diod-serve.sh, aname=DIR
#   --bin PATH         use this ninefold binary (no cargo build)
#   --keep             keep export directories and logs
#   --debug            RUST_LOG=debug for ninefold (server log in the work dir)
# Environment:
#   FSX_SEEDS (default "1 2 3"), FSX_N (3000), FSX_MMAP_SEEDS ("1 2"),
#   FSX_MMAP_N (3000), TAR_FILES (3000), CONC_WRITERS (4),
#   NINEFOLD_BIN (as --bin), TIMEOUT (per guest, default 900 s; the tar
#   suite's is TAR_TIMEOUT, default 900 + 1 s per file), MSIZE, MEM,
#   NINEFOLD_QEMU_ACCEL, NINEFOLD_QEMU_CACHE (passed to scripts/qemu-guest.sh),
#   CARGO_TARGET_DIR (release build location).
# fsx comes from crates.io (`cargo install --locked fsx`, into
# target/qemu9p/tools unless it is on PATH); its config for cache=none is
# tests/kernel/fsx-9p.toml. The tar tree is generated into target/qemu9p.
# Exit status: 0 when every selected suite passed, 1 otherwise, 2 on usage
# or setup errors.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

DIOD=$repo/scripts/diod-serve.sh
FSXCONF_HOST=$repo/tests/kernel/fsx-9p.toml
SUITES_DIR=$repo/tests/kernel/suites
ALL_SUITES="fsx fsx-mmap tar concurrent loose"

suites=$ALL_SUITES; server=ninefold; bin=${NINEFOLD_BIN:-}; keep=0; debug=0
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --suites) suites=${2:?}; suites=${suites//,/ }; shift 2 ;;
        --server) server=${2:?}; shift 2 ;;
        --bin) bin=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        --debug) debug=1; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
for s in $suites; do
    case " $ALL_SUITES " in *" $s "*) ;; *) echo "unknown suite: $s" >&2; exit 2 ;; esac
done
case "$server" in ninefold|diod) ;; *) echo "--server must be ninefold or diod" >&2; exit 2 ;; esac

# shellcheck source=lib/kernel-host.sh
. "$repo/scripts/lib/kernel-host.sh"
T0=$(ts)

work=$(mktemp -d /tmp/ninefold-suites.XXXXXX)
chmod 755 "$work"   # diod attaches as "nobody" and must traverse it
trap stop_server EXIT
trap 'exit 130' INT TERM

# --- setup ----------------------------------------------------------------------------
say "setup"
t=$(ts)
"$repo/scripts/qemu-setup.sh" > "$work/setup.log" 2>&1 || { cat "$work/setup.log"; echo "qemu setup failed" >&2; exit 2; }
cache=${NINEFOLD_QEMU_CACHE:-$repo/target/qemu9p}
case " $suites " in *" fsx"*)
    FSX=$("$repo/scripts/install-tool.sh" fsx) || exit 2 ;;
esac
# The tar tree, generated once per generator version (scripts/qemu-guest.sh
# hands it to the guest as /nf/tree.tar.gz).
TAR_FILES=${TAR_FILES:-3000}
treecache=$cache/tree-$( (cat "$SUITES_DIR/gen-tree.py"; echo "$TAR_FILES") | md5sum | cut -c1-12)
case " $suites " in *" tar "*)
    if [ ! -f "$treecache/tree.tar.gz" ]; then
        echo "generating $TAR_FILES-file tree in $treecache"
        rm -rf "$treecache"; mkdir -p "$treecache.tmp"
        python3 "$SUITES_DIR/gen-tree.py" "$treecache.tmp/tree" "$TAR_FILES"
        tar czf "$treecache.tmp/tree.tar.gz" -C "$treecache.tmp" tree
        mv "$treecache.tmp" "$treecache"
    fi ;;
esac
t_setup=$(dur "$t" "$(ts)")

t=$(ts)
if [ "$server" = ninefold ] && [ -z "$bin" ]; then
    say "cargo build --release -p ninefold-cli"
    cargo build --release -p ninefold-cli
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold
fi
[ "$server" != ninefold ] || [ -x "$bin" ] || { echo "no ninefold binary at $bin" >&2; exit 2; }
t_build=$(dur "$t" "$(ts)")

# --- server and guest -----------------------------------------------------------------
# The server for the current export $dir (start_server calls it with the port).
server_cmd_for() {
    local p=$1
    if [ "$server" = ninefold ]; then
        cmd=("$bin" serve "$dir" --listen "tcp://127.0.0.1:$p")
    else
        cmd=("$DIOD" "$dir" "$p" 86400)
    fi
}

# --- host-side checks ----------------------------------------------------------------------
hf=0
h() {
    local name=$1; shift
    if "$@"; then echo "OK   host_$name"; else echo "FAIL host_$name"; hf=$((hf+1)); fi
}
E=""
# tar: the export's tree against the generated one
manifest() {  # type, mode, size and link count (files), link target, path
    (cd "$1" && find . -mindepth 1 \( -type d -printf 'd %m - - %P\n' \) \
        -o \( -type l -printf 'l - - %l %P\n' \) -o -printf '%y %m %s %n %P\n') | LC_ALL=C sort
}
mtimes() { (cd "$1" && find . -type f -printf '%T@ %P\n' | sed 's/\.[0-9]* / /') | LC_ALL=C sort; }
v_tar_diff()     { diff -r --no-dereference "$treecache/tree" "$E/tree" > "$work/tar.diff" 2>&1 \
                     || { head -5 "$work/tar.diff"; return 1; }; }
v_tar_manifest() { diff <(manifest "$treecache/tree") <(manifest "$E/tree") > "$work/tar.manifest.diff" \
                     || { head -5 "$work/tar.manifest.diff"; return 1; }; }
v_tar_mtimes()   { diff <(mtimes "$treecache/tree") <(mtimes "$E/tree") > "$work/tar.mtime.diff" \
                     || { head -5 "$work/tar.mtime.diff"; return 1; }; }
v_tar_count()    { [ "$(find "$E/tree" -type f | wc -l)" -ge "$TAR_FILES" ]; }
verify_tar() {
    h tree_file_count   v_tar_count
    h tree_diff_r       v_tar_diff
    h tree_manifest     v_tar_manifest
    h tree_file_mtimes  v_tar_mtimes
}
# concurrent: the digests the guest recorded, recomputed from the export
v_regions() {
    [ -s "$E/concurrent/expect.regions" ] || return 1
    local off len want
    while read -r off len want; do
        [ "$(tail -c +$((off + 1)) "$E/concurrent/shared.bin" | head -c "$len" | md5sum | cut -d' ' -f1)" = "$want" ] || return 1
    done < "$E/concurrent/expect.regions"
    [ "$(stat -c %s "$E/concurrent/shared.bin")" = $((CONC_WRITERS * CONC_REGION)) ]
}
v_striped() { [ "$(md5sum < "$E/concurrent/striped.bin" | cut -d' ' -f1)" = "$(cat "$E/concurrent/expect.striped")" ]; }
v_files()   { [ "$(wc -l < "$E/concurrent/expect.files")" = "$CONC_WRITERS" ] \
                && (cd "$E/concurrent" && md5sum --quiet -c expect.files); }
v_append()  { [ "$(stat -c %s "$E/concurrent/append.log")" = $((CONC_WRITERS * CONC_RECORDS * 64)) ] \
                && [ "$(grep -c '^writer [0-9][0-9] record [0-9]\{5\} 0\{40\}$' "$E/concurrent/append.log")" = $((CONC_WRITERS * CONC_RECORDS)) ]; }
verify_concurrent() {
    h regions_md5       v_regions
    h stripes_md5       v_striped
    h separate_files_md5 v_files
    h append_records    v_append
}
# loose: the same deterministic contents the guest wrote (see loose.sh)
content() { printf "file %d %0$(( $1 % 97 * 13 + 1 ))d\n" "$1" "$1"; }
v_loose_files() {
    local d=$E/loose/d i
    for ((i = 0; i < LOOSE_FILES; i++)); do
        if ((i < 50)); then [ ! -e "$d/f$i" ] && cmp -s "$d/renamed$i" <(content $i) || return 1
        elif ((i < 100)); then [ ! -e "$d/f$i" ] || return 1
        elif ((i < 120)); then cmp -s "$d/f$i" <(content $i; echo appended) || return 1
        else cmp -s "$d/f$i" <(content $i) || return 1; fi
    done
}
v_loose_count() { [ "$(ls "$E/loose/d" | wc -l)" = $((LOOSE_FILES - 50)) ]; }
v_loose_big()   { [ "$(stat -c %s "$E/loose/a/b/c/big.bin")" = 8388608 ] \
                    && (cd "$E/loose/a/b/c" && md5sum --quiet -c ../../../expect.big) \
                    && [ "$(dd if="$E/loose/a/b/c/big.bin" bs=1 skip=4096000 count=5 2>/dev/null)" = PATCH ]; }
v_loose_trunc() { [ "$(cat "$E/loose/t")" = 0123 ]; }
verify_loose() {
    h loose_files_contents v_loose_files
    h loose_file_count  v_loose_count
    h loose_big_md5_patch v_loose_big
    h loose_truncate    v_loose_trunc
}

# --- the suites ----------------------------------------------------------------------------
FSX_SEEDS=${FSX_SEEDS:-1 2 3}; FSX_N=${FSX_N:-3000}
FSX_MMAP_SEEDS=${FSX_MMAP_SEEDS:-1 2}; FSX_MMAP_N=${FSX_MMAP_N:-3000}
CONC_WRITERS=${CONC_WRITERS:-4}; CONC_REGION=1048576; CONC_STRIPES=16; CONC_RECORDS=100
LOOSE_FILES=300
results=(); overall=0
for s in $suites; do
    say "suite $s (server=$server)"
    t=$(ts)
    guest_bins=""; guest_files=""; opts=""; vars="SUITE=$s"$'\n'
    # The timeout only catches a hung guest. The tar suite's time grows with
    # the tree and with the host's load (about 0.12 s a file on an idle
    # 2-core machine, 20 times that with two dozen compilers beside it).
    guest_timeout=${TIMEOUT:-900}
    [ "$s" != tar ] || guest_timeout=${TAR_TIMEOUT:-$((900 + TAR_FILES))}
    case "$s" in
        fsx) body=fsx.sh; guest_bins=$FSX; guest_files=$FSXCONF_HOST
             vars+="SEEDS='$FSX_SEEDS' N=$FSX_N FSXCONF=/nf/fsx-9p.toml" ;;
        fsx-mmap) body=fsx.sh; guest_bins=$FSX; opts=cache=mmap
             vars+="SEEDS='$FSX_MMAP_SEEDS' N=$FSX_MMAP_N FSXCONF=" ;;
        tar) body=tar.sh; guest_files=$treecache/tree.tar.gz
             vars+="TARBALL=/nf/tree.tar.gz TREE=tree" ;;
        concurrent) body=concurrent.sh
             vars+="W=$CONC_WRITERS REGION=$CONC_REGION STRIPES=$CONC_STRIPES RECORDS=$CONC_RECORDS" ;;
        loose) body=loose.sh; opts=cache=loose; vars+="NFILES=$LOOSE_FILES" ;;
    esac
    script=$work/$s.guest.sh
    { echo "# generated by kernel-suites.sh"; printf '%s\n' "$vars"
      cat "$SUITES_DIR/lib.sh" "$SUITES_DIR/$body"; } > "$script"
    E=$(mktemp -d "$work/export-$s.XXXXXX"); E=$(realpath "$E"); chmod 755 "$E"
    [ "$server" = diod ] && opts="aname=$E${opts:+,$opts}"
    status=PASS; detail=""; guest_rc=-; line=""; hostres=-; t_guest=?
    dir=$E
    if ! start_server "$work/$s.server.log"; then
        status=FAIL; detail="server did not start"
    else
        echo "listening on 127.0.0.1:$port (pid $server_pid); mount opts: ${opts:-(defaults, cache=none)}"
        tg=$(ts)
        TIMEOUT=$guest_timeout run_guest "$s" "$script" "$opts"
        t_guest=$(dur "$tg" "$(ts)")
        grep -E '^(OK|FAIL|@@SUITE|@@FSX|@@MOUNT|@@CMDS|---|    )' "$work/$s.guest.out" || true
        line=$(sed -n 's/.*@@SUITE [^ ]* \(.*\)/\1/p' "$work/$s.guest.out" | tail -1)
        case "$guest_rc" in
            0) ;;
            90) status=FAIL; detail="mount failed" ;;
            91) status=FAIL; detail="guest gave no result (crash?)" ;;
            124) status=FAIL; detail="timeout" ;;
            *) status=FAIL; detail="guest FAILs" ;;
        esac
        sleep 0.3
        kill -0 "$server_pid" 2>/dev/null || { status=FAIL; detail="${detail:+$detail; }server exited"; }
        stop_server
        if [ "$guest_rc" != 90 ] && declare -F "verify_${s//-/_}" >/dev/null; then
            hf=0; "verify_${s//-/_}" || true
            if [ "$hf" = 0 ]; then hostres=ok; else
                hostres="$hf failed"; status=FAIL; detail="${detail:+$detail; }host checks"; fi
        fi
    fi
    [ "$keep" = 1 ] || [ "$status" != PASS ] || rm -rf "$E"
    d=$(dur "$t" "$(ts)")
    echo "$s: $status (${d}s)"
    [ "$status" = PASS ] || overall=1
    results+=("$(printf '%-11s %-8s %-12s %-4s %-36s %-9s %7ss %7ss  %s' "$s" "$server" "${opts:-cache=none}" \
        "$status" "guest[${line:-no result} rc=$guest_rc]" "host[$hostres]" "$t_guest" "$d" "$detail")")
done

say "summary"
echo "setup ${t_setup}s, build ${t_build}s, total $(dur "$T0" "$(ts)")s, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-11s %-8s %-12s %-4s %-36s %-9s %8s %8s\n' suite server mount result "guest (status secs ok fail)" host guest wall
for r in "${results[@]}"; do echo "$r"; done
if [ "$overall" = 0 ] && [ "$keep" = 0 ]; then rm -rf "$work"; else echo "logs: $work"; fi
exit $overall
