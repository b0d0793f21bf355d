#!/usr/bin/env bash
# bench-kernel.sh — the kernel metadata row of issue 16: through the Linux
# kernel's own v9fs client (booted under qemu by scripts/qemu-guest.sh),
# untar a tree of 3,000 small files, `find` it, `rm -r` it, against
# `ninefold serve DIR` (passthrough) and diod, in one run, rounds
# alternating between the two servers so a drift in the machine's load hits
# both alike. A benchmark, not a test: it is not part of scripts/test.sh.
#
#   scripts/bench-kernel.sh [--rounds N] [--files N] [--mount-opts OPTS]
#                           [--servers ninefold,diod] [--bin PATH] [--tap]
#
#   --rounds N       guest boots per server (default 3); medians are reported
#   --files N        files in the tree (default 3000; 100 per directory)
#   --mount-opts O   extra v9fs options for both servers (default none:
#                    the kernel's default cache mode, every call a request)
#   --servers LIST   default ninefold,diod
#   --bin PATH       the ninefold binary (default $NINEFOLD_BIN, else
#                    target/release/ninefold, built when missing)
#   --tap            put `ninefold-bench tap` between the guest and each
#                    server and print, per round, the requests by type with
#                    the server's time for each (p50/p90/p99): the same
#                    proxy for both servers, so the comparison stays fair,
#                    but the times then include the proxy's hop
# Environment: MSIZE (default 262144; diod grants 65536 whatever is asked),
# NINEFOLD_QEMU_ACCEL, MEM, TIMEOUT (passed to scripts/qemu-guest.sh).
#
# Each guest run extracts /nf/tree.tar (made once on the host, ustar) into a
# fresh directory of the export, counts it with `find`, removes it with
# `rm -r`, and prints the three times (from the guest's /proc/uptime). The
# host checks the count and that the export is empty afterwards; a server
# that cannot be started or a wrong count fails the run (exit 1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cmdline="scripts/bench-kernel.sh $*"

rounds=3; files=3000; mount_opts=""; servers=ninefold,diod; bin=${NINEFOLD_BIN:-}; tap=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=${2:?}; shift 2 ;;
        --files) files=${2:?}; shift 2 ;;
        --mount-opts) mount_opts=${2:?}; shift 2 ;;
        --servers) servers=${2:?}; shift 2 ;;
        --bin) bin=${2:?}; shift 2 ;;
        --tap) tap=1; shift ;;
        -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-kernel: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=lib/kernel-host.sh
. "$repo/scripts/lib/kernel-host.sh"
work=$(mktemp -d /tmp/ninefold-bench-kernel.XXXXXX)
chmod 755 "$work"   # diod attaches as "nobody" and must traverse it
dir=""
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/scripts/qemu-setup.sh" > "$work/setup.log" 2>&1 \
    || { cat "$work/setup.log" >&2; echo "bench-kernel: qemu setup failed" >&2; exit 1; }
if [[ ",$servers," == *",ninefold,"* ]]; then
    if [ -z "$bin" ]; then
        bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold
        [ -x "$bin" ] || CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -q -p ninefold-cli
    fi
    [ -x "$bin" ] || { echo "bench-kernel: no ninefold binary at $bin" >&2; exit 1; }
fi

# --- the tree: $files files of 0-4 KiB in directories of 100, as ustar
src=$work/src/tree
ndirs=$(( (files + 99) / 100 ))
for d in $(seq 1 "$ndirs"); do mkdir -p "$src/d$d"; done
awk -v n="$files" -v root="$src" 'BEGIN {
    srand(16); pad = sprintf("%4096s", "")
    for (i = 0; i < n; i++) {
        f = sprintf("%s/d%d/f%05d.txt", root, int(i / 100) + 1, i)
        printf "%s", substr(pad, 1, int(rand() * 4096)) > f
        close(f)
    }
}'
tar --format=ustar -C "$work/src" -cf "$work/tree.tar" tree
rm -rf "$work/src"
entries=$(( files + ndirs + 1 ))

cat > "$work/guest.sh" <<EOF
up() { cut -d' ' -f1 /proc/uptime; }
mkdir bench && cd bench || exit 3
a=\$(up); tar xf /nf/tree.tar || exit 4
b=\$(up); n=\$(find tree | wc -l)
c=\$(up); rm -r tree || exit 5
d=\$(up)
echo "@@KBENCH entries=\$n untar=\$a:\$b find=\$b:\$c rm=\$c:\$d"
cd .. && rmdir bench
EOF

if [ "$tap" = 1 ]; then
    bench_bin=${CARGO_TARGET_DIR:-$repo/target}/release/ninefold-bench
    [ -x "$bench_bin" ] || CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -q -p ninefold-bench
    [ -x "$bench_bin" ] || { echo "bench-kernel: no ninefold-bench at $bench_bin" >&2; exit 1; }
    # tap.sh BENCH LISTEN_PORT SERVER_PORT OUT SERVER-COMMAND...: the server
    # in the background, the tap in front of it once it listens. A TERM
    # (stop_server) stops both: the server's own process group too, since
    # diod-serve.sh's `timeout` makes one of its own.
    cat > "$work/tap.sh" <<'EOF'
bench=$1 lp=$2 sp=$3 out=$4; shift 4
"$@" & srv=$!
tap=""
stop() {
    [ -n "$tap" ] && kill -TERM "$tap" 2>/dev/null
    kill -TERM -- "-$srv" 2>/dev/null || kill -TERM "$srv" 2>/dev/null
    wait
    exit 0
}
trap stop TERM INT
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$sp") 2>/dev/null && break; sleep 0.1; done
"$bench" tap --listen "127.0.0.1:$lp" --target "127.0.0.1:$sp" --out "$out" & tap=$!
wait "$tap"
stop
EOF
fi

server_cmd_for() {
    local p=$1 sp=$1
    if [ "$tap" = 1 ]; then sp=$(free_port) || return 1; fi
    case "$server" in
        ninefold) cmd=("$bin" serve "$dir" --listen "tcp://127.0.0.1:$sp") ;;
        diod) cmd=(bash "$repo/scripts/diod-serve.sh" "$dir" "$sp" 3600) ;;
    esac
    if [ "$tap" = 1 ]; then
        cmd=(bash "$work/tap.sh" "$bench_bin" "$p" "$sp" "$work/$server-$r.tap" "${cmd[@]}")
    fi
}

results=$work/results.txt
: > "$results"
failed=0
IFS=, read -r -a server_list <<<"$servers"
for r in $(seq 1 "$rounds"); do
    for server in "${server_list[@]}"; do
        case "$server" in ninefold|diod) ;; *) echo "bench-kernel: unknown server $server" >&2; exit 2 ;; esac
        dir=$work/export-$server-$r
        mkdir -p "$dir"; chmod 777 "$dir"
        start_server "$work/$server-$r.server.log" \
            || { echo "bench-kernel: $server did not start" >&2; exit 1; }
        opts=$mount_opts
        [ "$server" = diod ] && opts="aname=$dir${opts:+,$opts}"
        say "round $r: $server (load $(cut -d' ' -f1 /proc/loadavg))"
        guest_files="$work/tree.tar" run_guest "$server-$r" "$work/guest.sh" "$opts"
        stop_server
        if [ "$tap" = 1 ]; then
            echo "-- requests of $server in round $r (ninefold-bench tap; times in µs from the proxy):"
            cat "$work/$server-$r.tap" 2>/dev/null || echo "(no tap report)"
        fi
        line=$(grep -a '@@KBENCH' "$work/$server-$r.guest.out" | tail -1 || true)
        left=$(find "$dir" -mindepth 1 | wc -l)
        if [ "$guest_rc" != 0 ] || [ -z "$line" ]; then
            echo "bench-kernel: $server round $r failed (guest exit $guest_rc):" >&2
            tail -20 "$work/$server-$r.guest.out" >&2
            failed=$((failed + 1)); continue
        fi
        n=$(sed -n 's/.*entries=\([0-9]*\).*/\1/p' <<<"$line")
        if [ "$n" != "$entries" ] || [ "$left" != 0 ]; then
            echo "bench-kernel: $server round $r: find saw $n entries (want $entries), $left left on the host" >&2
            failed=$((failed + 1)); continue
        fi
        span() { sed -n "s/.*$1=\([0-9.]*\):\([0-9.]*\).*/\1 \2/p" <<<"$line" | awk '{ printf "%.2f", $2 - $1 }'; }
        echo "$server $r $(span untar) $(span find) $(span rm)" | tee -a "$results"
        rm -rf "$dir"
    done
done

# --- medians and the ratio diod/ninefold (> 1: ours is faster)
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$results" | median; }
tot() { awk -v s="$1" '$1 == s { print $3 + $4 + $5 }' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "-" }'; }
accel=$(cat "$repo"/target/qemu9p/accel.* 2>/dev/null | tail -1 || echo '?')
echo
echo "Command: \`$cmdline\` ($rounds rounds per server, alternating; $files files in $ndirs directories;"
echo "qemu accel $accel, msize ${MSIZE:-262144} asked; mount options: ${mount_opts:-default})."
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Times in seconds, medians; ratio = diod / ninefold (> 1: ours faster)."
echo
echo "| phase | ninefold passthrough | diod | ratio |"
echo "|---|---|---|---|"
for p in untar:3 find:4 rm:5; do
    a=$(col ninefold "${p#*:}"); b=$(col diod "${p#*:}")
    echo "| ${p%:*} | $a | $b | $(ratio "$a" "$b") |"
done
a=$(tot ninefold); b=$(tot diod)
echo "| total | $a | $b | $(ratio "$a" "$b") |"
if [ "$failed" -gt 0 ]; then echo "bench-kernel: $failed runs failed" >&2; exit 1; fi
