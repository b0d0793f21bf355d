#!/usr/bin/env bash
# bench-instr.sh — user-space instructions per request of a server, counted
# by valgrind's callgrind: a figure a busy machine does not disturb at all
# (unlike throughput, latency or even CPU time). For each case and server:
# a fresh server under callgrind on a unix socket, a 1 s warm-up run of
# `ninefold-bench`, the counters zeroed, a 1 s run, a dump, a 4 s run, a
# dump; instructions per request = (second dump - first dump) / (second
# run's requests - first run's), so start-up, the connection's set-up and
# the row's fixture cancel out. One connection, the case's depth.
#
#   scripts/bench-instr.sh [--cases getattr:1,walk-clunk:1,read-4k:1]
#                          [--servers raw,memfs,passthrough,base-memfs,base-passthrough]
#                          [--keep DIR]
#
#   raw      `ninefold-bench responder` (canned replies: the floor)
#   memfs    release `ninefold serve --memory`; passthrough: `ninefold serve DIR`
#   base-*   the same served by $NINEFOLD_BASE_BIN (another build), for
#            before/after ratios
# --keep DIR copies each measured dump (the second minus the first is the
# long run) to DIR/SERVER-ROW-dDEPTH.{a,b}.out, for callgrind_annotate.
# walk-clunk counts per pair (two requests). Needs valgrind (Debian:
# valgrind). Prints a Markdown table. A benchmark, not a test: it is not
# part of scripts/test.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cases=getattr:1,walk-clunk:1,read-4k:1
servers=raw,memfs,passthrough
keep=""
[ -n "${NINEFOLD_BASE_BIN:-}" ] && servers=$servers,base-memfs,base-passthrough
while [ $# -gt 0 ]; do
    case $1 in
        --cases) cases=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "bench-instr.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=scripts/lib/bench-bins.sh
. scripts/lib/bench-bins.sh   # the working directory is the repository root
bench_bins bench-instr.sh "$servers"
for t in valgrind callgrind_control; do
    command -v "$t" >/dev/null || { echo "bench-instr.sh: needs $t (apt-get install valgrind)" >&2; exit 1; }
done

scratch=$(mktemp -d /tmp/ninefold-bench-instr.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

# requests in a ninefold-bench JSON report
ops() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"][0]["ops"])' "$1"; }
# total instructions of a callgrind dump
instr() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# one SERVER ROW DEPTH: prints instructions per request
one() {
    local server=$1 row=$2 depth=$3 bin sock dir out n
    sock=$scratch/s.sock; dir=$scratch/export; out=$scratch/cg.out
    rm -rf "$sock" "$dir" "$out"*; mkdir -p "$dir"
    bin=$ours; [[ $server == base-* ]] && bin=$NINEFOLD_BASE_BIN
    # `ninefold serve` executes itself again to set glibc's mmap threshold
    # (crates/ninefold-cli/src/alloc.rs) unless the environment sets it,
    # and valgrind cannot follow that exec: set it here, to the value
    # the server would set, so the image measured is the one that serves.
    export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=262144
    case $server in
        raw) valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" responder --listen "unix:$sock" >"$scratch/server.log" 2>&1 & ;;
        memfs|base-memfs) valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve --memory -l "unix:$sock" >"$scratch/server.log" 2>&1 & ;;
        passthrough|base-passthrough) valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve "$dir" -l "unix:$sock" >"$scratch/server.log" 2>&1 & ;;
        *) echo "bench-instr.sh: unknown server $server" >&2; exit 2 ;;
    esac
    server_pid=$!
    for _ in $(seq 150); do
        [ -S "$sock" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
        sleep 0.2
    done
    [ -S "$sock" ] || { echo "bench-instr.sh: $server did not start" >&2; cat "$scratch/server.log" >&2; exit 1; }
    run() {
        "$bench" --target "unix:$sock" --conns 1 --depth "$depth" --duration "$1" --warmup "$2" \
            --rows "$row" --msize 1048600 --json "$3" >/dev/null 2>"$scratch/bench.err" \
            || { cat "$scratch/bench.err" >&2; exit 1; }
    }
    run 1s 300ms "$scratch/warm.json"
    callgrind_control -z "$server_pid" >/dev/null
    run 1s 0ms "$scratch/a.json"
    callgrind_control -d "$server_pid" >/dev/null
    run 4s 0ms "$scratch/b.json"
    callgrind_control -d "$server_pid" >/dev/null
    kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
    local dumps ia ib oa ob
    mapfile -t dumps < <(ls -tr "$out".* 2>/dev/null)
    [ "${#dumps[@]}" -ge 2 ] || { echo "bench-instr.sh: no callgrind dumps for $server" >&2; exit 1; }
    ia=$(instr "${dumps[0]}"); ib=$(instr "${dumps[1]}")
    if [ -n "$keep" ]; then
        mkdir -p "$keep"
        cp "${dumps[0]}" "$keep/$server-$row-d$depth.a.out"
        cp "${dumps[1]}" "$keep/$server-$row-d$depth.b.out"
    fi
    oa=$(ops "$scratch/a.json"); ob=$(ops "$scratch/b.json")
    [ "$ob" -gt "$oa" ] || { echo "bench-instr.sh: $server $row: no more requests in the long run" >&2; exit 1; }
    n=$(( (ib - ia) / (ob - oa) ))
    echo "$n"
}

IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a server_list <<<"$servers"
header="| row |"; rule="|---|"
for s in "${server_list[@]}"; do header="$header $s |"; rule="$rule---|"; done
ratios=()
[[ " ${server_list[*]} " == *" memfs "* && " ${server_list[*]} " == *" base-memfs "* ]] && ratios+=(memfs)
[[ " ${server_list[*]} " == *" passthrough "* && " ${server_list[*]} " == *" base-passthrough "* ]] && ratios+=(passthrough)
for r in "${ratios[@]}"; do header="$header $r / base-$r |"; rule="$rule---|"; done
lines=()
for c in "${case_list[@]}"; do
    row=${c%%:*}; depth=${c##*:}
    declare -A got=()
    line="| $row d$depth |"
    for s in "${server_list[@]}"; do
        echo "== $row d$depth: $s" >&2
        got[$s]=$(one "$s" "$row" "$depth")
        line="$line $(printf "%'d" "${got[$s]}") |"
    done
    for r in "${ratios[@]}"; do
        new=${got[$r]}; old=${got[base-$r]}
        line="$line $(python3 -c "print(f'{$new / $old:.2f}')") |"
    done
    lines+=("$line")
    unset got
done
echo
echo "Command: \`scripts/bench-instr.sh --cases $cases --servers $servers\`"
echo "- user-space instructions per request (callgrind; walk-clunk per pair); commit $(git rev-parse --short HEAD 2>/dev/null || echo -); $(date -u '+%Y-%m-%d %H:%M') UTC"
echo
echo "$header"
echo "$rule"
printf '%s\n' "${lines[@]}"
