#!/usr/bin/env bash
# bench.sh — the benchmark suite of issue 16, in one invocation: the
# raw-socket limit, our server (memfs and passthrough) against diod and
# unpfs, over TCP and unix sockets, every row at the load shapes of the
# issue's table, plus the client rows; one Markdown table per transport
# with absolute figures, p50/p99 and ratios, written into
# docs/BENCHMARKS.md with the machine and the command.
#
#   scripts/bench.sh [--quick] [--duration 2s] [--warmup 500ms]
#                    [--transports tcp,unix] [--servers LIST] [--cases LIST]
#                    [--no-client] [--no-doc | --doc] [--no-build] [--out DIR]
#
#   --quick       0.5 s per cell, 200 ms warmup, smaller client rows; the
#                 document is left alone unless --doc is given
#   --servers     comma list out of: raw memfs passthrough diod unpfs
#                 base-memfs base-passthrough (default: all available;
#                 the base-* ones need NINEFOLD_BASE_BIN)
#   --cases       comma list of ROW:CONNSxDEPTH (default: the issue's table)
#   --no-client   skip the client rows: examples/client_bench (ours vs diod
#                 through our client) and examples/throughput (our client's
#                 bulk write/read against memfs, passthrough and diod;
#                 NINEFOLD_BASE_THROUGHPUT, an older build of that example,
#                 runs beside it for before/after ratios)
#   --no-doc      print the tables only; do not touch docs/BENCHMARKS.md
#   --no-build    use the release binaries as they are (default: cargo build)
#   --idle-conns N  connections of the idle-memory row (default 1000; 0: no row)
#   --halt-poll NS  how long an idle vCPU polls before halting, for the run
#                 (default 200000, the kernel's default; `keep` leaves the
#                 host's). A KVM guest set to 0 halts at once and a lone
#                 request then measures the hypervisor's 50-80 us wake-up,
#                 whatever the server (scripts/lib/haltpoll.sh)
#   --as-user UID the load attaches as this host user (uname from the user
#                 database, its gid for creates) instead of as root: the
#                 servers that switch to the requesting user (ours,
#                 diod) then do, per request. The exports are made
#                 world-writable (sticky) for it. Implies --no-doc.
#   --soak [DUR]  instead of the tables: the memory soak (default 10m) of
#                 every server in --servers (default passthrough): 64
#                 connections at depth 4 run a rotating mix of every row,
#                 the server's RSS is sampled every 10 s and must stay
#                 within 10% of its value after the first 30 s; the series
#                 goes into docs/BENCHMARKS.md (between soak markers)
#
# The idle-memory row: for each server, `ninefold-bench idle` opens N
# connections that each do Tversion (msize 1 MiB) and Tattach, and divides
# the growth of the server's RSS (/proc/PID/status) by N (issue 16's budget
# is 64 KiB per connection).
#
# Servers, each on free loopback ports / sockets in a scratch directory,
# all stopped at exit:
#   raw          `ninefold-bench responder`: canned replies, no filesystem
#   memfs        release `ninefold serve --memory`
#   passthrough  release `ninefold serve DIR` on a fresh scratch directory
#   diod         scripts/diod-serve.sh on a fresh scratch directory
#   unpfs        crates.io `unpfs`, installed into target/tools on first use
#   base-*       the same two exports served by $NINEFOLD_BASE_BIN (another
#                build of `ninefold`, e.g. main's), for before/after ratios
# A server that is asked for (default: all but base-*) and cannot be
# started fails the run; set NINEFOLD_BENCH_SKIP=unpfs,diod to leave some
# out explicitly (printed in the summary).
#
# Every cell is its own ninefold-bench run (msize 1 MiB + 24 asked; diod
# grants 64 KiB, so its 1 MiB rows use 65512-byte requests, marked @).
# Cells run case by case with the servers interleaved, so a drift in the
# machine's load hits every server alike.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cmdline="scripts/bench.sh $*"

duration=2s
warmup=500ms
transports=tcp,unix
servers=""
cases="getattr:1x1,getattr:1x32,getattr:4x32,walk-clunk:1x1,walk-clunk:1x16,read-4k:1x1,read-4k:1x32,read-64k:1x4,read-1m:1x4,write-64k:1x4,write-1m:1x4"
client=1
doc=""
build=1
quick=0
out=""
idle_conns=1000
halt_poll=200000
soak=""
as_user=""
msize=$(( (1 << 20) + 24 ))
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; duration=500ms; warmup=200ms; shift ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --transports) transports=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --cases) cases=$2; shift 2 ;;
        --no-client) client=0; shift ;;
        --no-doc) doc=0; shift ;;
        --doc) doc=1; shift ;;
        --no-build) build=0; shift ;;
        --out) out=$2; shift 2 ;;
        --idle-conns) idle_conns=$2; shift 2 ;;
        --halt-poll) halt_poll=$2; shift 2 ;;
        --as-user) as_user=$2; shift 2 ;;
        --soak)
            if [ $# -gt 1 ] && [[ "$2" =~ ^[0-9]+(ms|s|m|h)?$ ]]; then soak=$2; shift 2; else soak=10m; shift; fi ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$doc" ] || { [ "$quick" = 1 ] || [ -n "$as_user" ] && doc=0 || doc=1; }
# The identity the load attaches with (--as-user): name, uid, gid.
user_args=()
if [ -n "$as_user" ]; then
    [[ "$as_user" =~ ^[0-9]+$ ]] || { echo "bench.sh: --as-user takes a numeric uid" >&2; exit 2; }
    entry=$(getent passwd "$as_user") \
        || { echo "bench.sh: --as-user $as_user: no such user in the user database" >&2; exit 2; }
    IFS=: read -r as_name _ _ as_gid _ <<<"$entry"
    user_args=(--uname "$as_name" --uid "$as_user" --gid "$as_gid")
fi
if [ -z "$servers" ] && [ -n "$soak" ]; then
    servers=passthrough
elif [ -z "$servers" ]; then
    servers=raw,memfs,passthrough,diod,unpfs
    [ -n "${NINEFOLD_BASE_BIN:-}" ] && servers=$servers,base-memfs,base-passthrough
fi
skip=",${NINEFOLD_BENCH_SKIP:-},"

target_dir=${CARGO_TARGET_DIR:-$root/target}
bench=$target_dir/release/ninefold-bench
ours_bin=${NINEFOLD_BIN:-$target_dir/release/ninefold}
client_bench=$target_dir/release/examples/client_bench
throughput=$target_dir/release/examples/throughput
unpfs_bin=$root/target/tools/bin/unpfs

scratch=$(mktemp -d /tmp/ninefold-bench.XXXXXX)
# Another user's requests must reach the exports inside.
[ -z "$as_user" ] || chmod 755 "$scratch"
[ -n "$out" ] || out=$scratch/results
mkdir -p "$out"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$scratch"/export-* "$scratch"/*.sock
    if declare -F haltpoll_restore >/dev/null; then haltpoll_restore; fi
    # The logs stay next to the reports; elsewhere nothing is kept.
    [ "$out" = "$scratch/results" ] || rm -rf "$scratch"
}
trap cleanup EXIT
say() { printf '== %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=scripts/lib/ports.sh
. scripts/lib/ports.sh   # the working directory is the repository root
# shellcheck source=scripts/lib/haltpoll.sh
. scripts/lib/haltpoll.sh
haltpoll_set "$halt_poll" || exit 2
say "idle vCPU halt polling: $haltpoll_used"
# wait_ready PID PORT [SOCK]: 0 once PORT accepts (and SOCK exists), 1 if
# PID died or 20 s passed.
wait_ready() {
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && { [ -z "${3:-}" ] || [ -S "$3" ]; }; then
            return 0
        fi
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# --- builds (release; each only when missing or stale by cargo's account)
if [ "$build" = 1 ]; then
    say "building ninefold-bench and ninefold (release)"
    CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -q -p ninefold-bench -p ninefold-cli
    if [ "$client" = 1 ]; then
        CARGO_INCREMENTAL=0 nice -n 10 cargo build --release -q -p ninefold-client \
            --example client_bench --example throughput
    fi
fi
for b in "$bench" "$ours_bin"; do [ -x "$b" ] || die "missing $b (run without --no-build)"; done
wanted() { [[ ",$servers," == *",$1,"* ]] && [[ "$skip" != *",$1,"* ]]; }
if wanted unpfs && [ ! -x "$unpfs_bin" ]; then
    say "installing unpfs from crates.io into target/tools"
    CARGO_INCREMENTAL=0 nice -n 10 cargo install -q unpfs --root "$root/target/tools" \
        || die "cannot install unpfs (cargo install unpfs); NINEFOLD_BENCH_SKIP=unpfs leaves it out"
fi

# --- servers: label -> "tcp://... unix:..." targets and an aname
declare -A tcp_of unix_of aname_of pid_of
# leaf_pid PID: the process that serves (wrappers such as `timeout` fork it).
leaf_pid() {
    local p=$1 c
    while c=$(pgrep -P "$p" | head -1) && [ -n "$c" ]; do p=$c; done
    echo "$p"
}
start() { # start LABEL CMD...: runs CMD (with {port} {sock} {dir} filled in)
    local label=$1; shift
    local port sock dir
    port=$(free_port); sock=$scratch/$label.sock; dir=$scratch/export-$label
    mkdir -p "$dir"; dir=$(realpath "$dir")
    [ -z "$as_user" ] || chmod 1777 "$dir"
    local args=()
    for a in "$@"; do a=${a//\{port\}/$port}; a=${a//\{sock\}/$sock}; args+=("${a//\{dir\}/$dir}"); done
    "${args[@]}" >"$scratch/$label.log" 2>&1 &
    pids+=($!)
    local want_sock=$sock
    [[ ",$transports," == *",unix,"* ]] && [ "$label" != unpfs ] || want_sock=""
    if ! wait_ready "${pids[-1]}" "$port" "$want_sock"; then
        cat "$scratch/$label.log" >&2
        die "$label did not start (NINEFOLD_BENCH_SKIP=$label leaves it out)"
    fi
    tcp_of[$label]=tcp://127.0.0.1:$port
    unix_of[$label]=unix:$sock
    aname_of[$label]=""
    pid_of[$label]=$(leaf_pid "${pids[-1]}")
    echo "$dir" >"$scratch/$label.dir"
}
labels=()
skipped=()
IFS=, read -r -a server_list <<<"$servers"
for s in "${server_list[@]}"; do
    if [[ "$skip" == *",$s,"* ]]; then skipped+=("$s"); continue; fi
    case "$s" in
        raw)
            # One responder per transport.
            rport=$(free_port)
            "$bench" responder --listen "tcp://127.0.0.1:$rport" 2>"$scratch/raw.log" &
            pids+=($!)
            wait_ready "${pids[-1]}" "$rport" || die "responder did not start"
            "$bench" responder --listen "unix:$scratch/raw.sock" 2>>"$scratch/raw.log" &
            pids+=($!)
            tcp_of[raw]=tcp://127.0.0.1:$rport; unix_of[raw]=unix:$scratch/raw.sock; aname_of[raw]=""
            ;;
        memfs)
            start memfs "$ours_bin" serve --memory -l 'tcp://127.0.0.1:{port}' -l 'unix:{sock}' ;;
        passthrough)
            start passthrough "$ours_bin" serve '{dir}' -l 'tcp://127.0.0.1:{port}' -l 'unix:{sock}' ;;
        base-memfs|base-passthrough)
            [ -x "${NINEFOLD_BASE_BIN:-}" ] || die "$s needs NINEFOLD_BASE_BIN (a ninefold binary)"
            if [ "$s" = base-memfs ]; then
                start "$s" "$NINEFOLD_BASE_BIN" serve --memory -l 'tcp://127.0.0.1:{port}' -l 'unix:{sock}'
            else
                start "$s" "$NINEFOLD_BASE_BIN" serve '{dir}' -l 'tcp://127.0.0.1:{port}' -l 'unix:{sock}'
            fi ;;
        diod)
            start diod env DIOD_EXTRA="-l {sock}" bash scripts/diod-serve.sh '{dir}' '{port}' 7200
            aname_of[diod]=$(cat "$scratch/diod.dir") ;;
        unpfs)
            start unpfs "$unpfs_bin" 'tcp!127.0.0.1!{port}' '{dir}'
            # unpfs listens on one address: a second instance for unix.
            udir=$(cat "$scratch/unpfs.dir")
            "$unpfs_bin" "unix!$scratch/unpfs.sock!0" "$udir" >>"$scratch/unpfs.log" 2>&1 &
            pids+=($!)
            unix_of[unpfs]=unix:$scratch/unpfs.sock:0
            ;;
        *) die "unknown server $s" ;;
    esac
    labels+=("$s")
done
[ ${#labels[@]} -gt 0 ] || die "no server to measure"
# unpfs appends its own suffix to unix socket names; find the real one.
if [ -n "${unix_of[unpfs]:-}" ]; then
    for _ in $(seq 50); do
        sock=$(find "$scratch" -maxdepth 1 -name 'unpfs.sock*' -type s | head -1)
        [ -n "$sock" ] && break
        sleep 0.1
    done
    [ -n "$sock" ] || die "unpfs did not create its unix socket"
    unix_of[unpfs]=unix:$sock
fi

# write_section NAME TEXT: replaces what lies between the NAME:begin and
# NAME:end markers of docs/BENCHMARKS.md with TEXT (which carries the
# markers); without markers, TEXT goes under "## Measured figures" (or at
# the end).
write_section() {
    local name=$1 text=$2 docf=$root/docs/BENCHMARKS.md
    printf '%s\n' "$text" >"$scratch/section.md"
    if grep -q "<!-- $name:begin" "$docf"; then
        awk -v f="$scratch/section.md" -v b="<!-- $name:begin" -v e="<!-- $name:end -->" '
            index($0, b) == 1 { while ((getline l < f) > 0) print l; skip = 1; next }
            index($0, e) == 1 { skip = 0; next }
            !skip { print }' "$docf" >"$scratch/doc.md"
    elif grep -q '^## Measured figures' "$docf"; then
        awk -v f="$scratch/section.md" '
            /^## Measured figures/ && !done { print; print ""; while ((getline l < f) > 0) print l; done = 1; next }
            { print }' "$docf" >"$scratch/doc.md"
    else
        { cat "$docf"; echo; cat "$scratch/section.md"; } >"$scratch/doc.md"
    fi
    cp "$scratch/doc.md" "$docf"
    say "wrote the $name section into docs/BENCHMARKS.md"
}

# --- the soak (instead of the tables)
if [ -n "$soak" ]; then
    failed=0
    rows=""
    for l in "${labels[@]}"; do
        [ "$l" = raw ] && continue
        say "soak of $l for $soak (64 connections, depth 4, every row in rotation)"
        if "$bench" soak --target "${tcp_of[$l]}" --pid "${pid_of[$l]}" --aname "${aname_of[$l]}" \
            --label "$l" --msize "$msize" --conns 64 --depth 4 --duration "$soak" --interval 10s \
            --warmup-samples 3 --json "$out/soak-$l.json" >"$out/soak-$l.txt" 2>"$out/soak-$l.series"; then
            verdict=flat
        else
            verdict="NOT flat"; failed=$((failed + 1))
        fi
        cat "$out/soak-$l.series" "$out/soak-$l.txt" >&2
        series=$(sed -n 's/.*t= *\([0-9]*\)s rss= *\([0-9]*\) KiB.*/\1 s: \2/p' "$out/soak-$l.series" \
            | awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3 }')
        rows+="| $l | $verdict | $(cat "$out/soak-$l.txt" | sed 's/^[^:]*: //') |"$'\n'
        rows+=$'\n'"RSS series of $l (KiB): $series"$'\n\n'
    done
    section=$(
        echo "<!-- soak:begin (written by scripts/bench.sh --soak; edits here are overwritten) -->"
        echo "### Memory soak"
        echo
        echo "Command: \`$cmdline\`; $(date -u '+%Y-%m-%d %H:%M UTC'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
        echo "64 connections at depth 4 run a rotating mix of every row (each 10 s segment the same"
        echo "mix: getattr, walk-clunk, read/write 4 KiB, 64 KiB and 1 MiB); the server's RSS is"
        echo "sampled after each segment; bound: ±10% of the first sample after 30 s."
        echo
        echo "| server | verdict | summary |"
        echo "|---|---|---|"
        printf '%s' "$rows"
        echo "<!-- soak:end -->"
    )
    echo "$section"
    [ "$doc" = 1 ] && write_section soak "$section"
    say "JSON reports: $out"
    if [ "$failed" -gt 0 ]; then say "$failed soaks were not flat"; exit 1; fi
    exit 0
fi

# --- the cells
failed=0
files=()
IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a transport_list <<<"$transports"
for t in "${transport_list[@]}"; do
    for c in "${case_list[@]}"; do
        row=${c%%:*}; shape=${c#*:}; conns=${shape%x*}; depth=${shape#*x}
        for l in "${labels[@]}"; do
            if [ "$t" = tcp ]; then target=${tcp_of[$l]}; else target=${unix_of[$l]}; fi
            json=$out/$t-$row-${conns}x$depth-$l.json
            say "$t $row ${conns}x$depth: $l"
            if ! "$bench" --target "$target" --label "$l" --aname "${aname_of[$l]}" "${user_args[@]}" \
                --msize "$msize" --rows "$row" --conns "$conns" --depth "$depth" \
                --duration "$duration" --warmup "$warmup" --file-size 8M \
                --json "$json" >"$out/${json##*/}.txt" 2>&1; then
                say "$l: errors in $t $row ${conns}x$depth:"; cat "$out/${json##*/}.txt" >&2
                failed=$((failed + 1))
            fi
            [ -s "$json" ] && files+=("$json")
        done
    done
done

ratios=()
has() { [[ " ${labels[*]} " == *" $1 "* ]]; }
for r in memfs/raw passthrough/raw passthrough/diod memfs/diod passthrough/unpfs memfs/unpfs \
         memfs/base-memfs passthrough/base-passthrough; do
    has "${r%/*}" && has "${r#*/}" && ratios+=(--ratio "$r")
done
table=$("$bench" markdown "${ratios[@]}" "${files[@]}")

# --- idle memory: RSS per idle negotiated connection, per server
idle_rows=""
if [ "$idle_conns" -gt 0 ]; then
    for l in "${labels[@]}"; do
        [ "$l" = raw ] && continue
        say "idle memory: $l, $idle_conns connections"
        if line=$("$bench" idle --target "${tcp_of[$l]}" --pid "${pid_of[$l]}" --aname "${aname_of[$l]}" \
            --label "$l" --msize "$msize" --conns "$idle_conns" --json "$out/idle-$l.json" 2>&1); then
            j() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" "$out/idle-$l.json" | head -1; }
            idle_rows+="| $l | $(j msize) | $(j rss_before_kib) | $(j rss_after_kib) | $(awk -v b="$(j bytes_per_conn)" 'BEGIN { printf "%.1f", b / 1024 }') |"$'\n'
        else
            say "idle memory of $l failed: $line"; failed=$((failed + 1))
        fi
    done
fi

# --- client rows: our Rust client against our memfs (in process) and diod
client_out=""
if [ "$client" = 1 ]; then
    if has diod; then
        say "client rows (examples/client_bench)"
        [ -x "$client_bench" ] || die "missing $client_bench (run without --no-build)"
        if [ "$quick" = 1 ]; then cargs=(--mib 32 --entries 1000 --secs 1); else cargs=(--mib 256 --entries 10000 --secs 3); fi
        client_out=$("$client_bench" "${cargs[@]}" --diod "${tcp_of[diod]}" --diod-aname "${aname_of[diod]}" 2>&1) \
            || { say "client_bench failed:"; echo "$client_out" >&2; failed=$((failed + 1))
                 client_out="client_bench failed: $(grep -m1 -v '^ninefold+memfs\|^diod:' <<<"$client_out")"; }
    else
        say "client rows skipped: they need diod"
    fi
fi

# --- client bulk rows: examples/throughput (whole-file write and read of a
# new file through our Rust client) against memfs, passthrough and diod,
# rounds interleaved; $NINEFOLD_BASE_THROUGHPUT (an older build of the
# same example) runs beside it in every round for before/after ratios.
bulk_out=""
if [ "$client" = 1 ]; then
    [ -x "$throughput" ] || die "missing $throughput (run without --no-build)"
    base_tp=${NINEFOLD_BASE_THROUGHPUT:-}
    [ -z "$base_tp" ] || [ -x "$base_tp" ] || die "NINEFOLD_BASE_THROUGHPUT=$base_tp is not executable"
    if [ "$quick" = 1 ]; then bmib=32; brounds=1; else bmib=256; brounds=3; fi
    builds=(new); [ -n "$base_tp" ] && builds+=(base)
    bulk_raw=$scratch/bulk.txt; : >"$bulk_raw"
    for round in $(seq "$brounds"); do
        for l in memfs passthrough diod; do
            has "$l" || continue
            for b in "${builds[@]}"; do
                bin=$throughput; [ "$b" = base ] && bin=$base_tp
                say "client bulk round $round: $l ($b)"
                if ! o=$("$bin" "${tcp_of[$l]}" "${aname_of[$l]}" "$bmib" 2>&1); then
                    say "throughput ($b) against $l failed:"; echo "$o" >&2
                    failed=$((failed + 1)); continue
                fi
                # "write N MiB: X MiB/s (Y ms CPU)"; older builds print no CPU.
                echo "$o" | awk -v l="$l" -v b="$b" '
                    /^(write|read) +[0-9]+ MiB:/ {
                        cpu = "-"; if (match($0, /\(([0-9]+) ms CPU\)/)) cpu = substr($0, RSTART + 1, RLENGTH - 9)
                        print $1, l, b, $4, cpu }' >>"$bulk_raw"
            done
        done
    done
    # Medians per (row, server, build), then one line per row and server.
    bulk_out=$(awk -v rounds="$brounds" '
        function median(key,   n, i, j, t, a) {
            n = split(vals[key], a, " ")
            for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n ? a[int((n + 1) / 2)] : ""
        }
        { k = $1 SUBSEP $2 SUBSEP $3; vals[k] = vals[k] " " $4; if ($5 != "-") cpu[k] = cpu[k] " " $5; seen[$1 SUBSEP $2] = 1 }
        END {
            print "| row | server | MiB/s (CPU ms) | before MiB/s | after/before | /diod |"
            print "|---|---|---|---|---|---|"
            split("write read", rows, " "); split("memfs passthrough diod", srv, " ")
            for (r = 1; r <= 2; r++) for (s = 1; s <= 3; s++) {
                if (!((rows[r] SUBSEP srv[s]) in seen)) continue
                kn = rows[r] SUBSEP srv[s] SUBSEP "new"; kb = rows[r] SUBSEP srv[s] SUBSEP "base"
                kd = rows[r] SUBSEP "diod" SUBSEP "new"
                n = median(kn); b = (kb in vals) ? median(kb) : ""; d = (kd in vals) ? median(kd) : ""
                c = ""; if (kn in cpu) { split(cpu[kn], ca, " "); vals["c"] = cpu[kn]; c = " (" median("c") ")" }
                printf "| %s | %s | %s%s | %s | %s | %s |\n", rows[r], srv[s], n, c, (b == "" ? "-" : b),
                    (b == "" || b == 0 ? "-" : sprintf("%.2f", n / b)), (d == "" || d == 0 ? "-" : sprintf("%.2f", n / d))
            }
        }' "$bulk_raw")
fi

machine=$(
    printf -- '- CPU: %s, %s cores online\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)"
    printf -- '- memory: %s; kernel %s\n' "$(free -h | awk '/^Mem:/{print $2}')" "$(uname -r)"
    printf -- '- load average at the start of the table: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    haltpoll_describe
    printf -- '- commit: %s%s; %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- diod: %s; unpfs: %s\n' "$(dpkg-query -W -f='${Version}' diod 2>/dev/null || echo '-')" \
        "$(sed -n 's/^"unpfs \([^ ]*\) .*/\1/p' "$root/target/tools/.crates.toml" 2>/dev/null | head -1 || echo '-')"
)
section=$(
    echo "<!-- bench:begin (written by scripts/bench.sh; edits here are overwritten) -->"
    echo "### Latest run"
    echo
    echo "Command: \`$cmdline\` ($duration per cell after $warmup warmup; msize $msize asked)."
    echo
    echo "$machine"
    echo
    echo "Cells: throughput · p50/p99 latency in µs. Row names: the row, then \`dN\` (one"
    echo "connection, N requests outstanding) or \`C×N\` (C connections, N each)."
    echo "\`@\` marks a request size capped by the granted msize. Ratios divide throughputs."
    [ ${#skipped[@]} -gt 0 ] && { echo; echo "Left out by NINEFOLD_BENCH_SKIP: ${skipped[*]}."; }
    echo
    echo "$table"
    echo
    if [ -n "$idle_rows" ]; then
        echo "#### idle connections (\`ninefold-bench idle\`: $idle_conns connections, each Tversion + Tattach, RSS growth / $idle_conns; budget 64 KiB)"
        echo
        echo "| server | msize granted | RSS before (KiB) | RSS with them open (KiB) | KiB per connection |"
        echo "|---|---|---|---|---|"
        printf '%s' "$idle_rows"
        echo
    fi
    if [ -n "$bulk_out" ]; then
        echo "#### client bulk rows (\`examples/throughput\`, our Rust client; TCP, default msize: 1 MiB granted by ours, 64 KiB by diod)"
        echo
        echo "A new ${bmib} MiB file written with \`Client::write\`, then read back with"
        echo "\`Client::read\`; medians of $brounds interleaved rounds; CPU is this process's"
        echo "user + system time for the call. \"before\" is \`NINEFOLD_BASE_THROUGHPUT\`"
        echo "(an older build of the example) run beside it in every round."
        echo
        echo "$bulk_out"
        echo
    fi
    if [ -n "$client_out" ]; then
        echo "#### client rows (\`examples/client_bench\`, our Rust client; memfs in process vs diod over TCP)"
        echo
        echo '```text'
        echo "$client_out"
        echo '```'
    fi
    echo "<!-- bench:end -->"
)
echo "$section"
[ "$doc" = 1 ] && write_section bench "$section"
say "JSON reports: $out"
if [ "$failed" -gt 0 ]; then say "$failed cells failed"; exit 1; fi
