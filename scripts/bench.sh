#!/usr/bin/env bash
# bench.sh — measure our server, diod and the raw-socket limit side by side
# with ninefold-bench (release build), identical parameters, and print one
# table with ratios ours/diod and ours/raw per row.
#
#   scripts/bench.sh [--msize N] [--duration 3s] [--warmup 1s] [--conns N]
#                    [--depth D] [--rows LIST] [--no-fair] [--out DIR]
#
# Servers started (each on a free loopback port, all stopped at exit):
#   ours   $NINEFOLD_SERVER_CMD with {port} replaced; default
#          "<target>/release/ninefold serve --memory --listen tcp://127.0.0.1:{port}"
#          (skipped, with a message, when that binary is missing)
#   diod   scripts/diod-serve.sh on a scratch directory (aname = its real
#          path; diod caps msize at 64 KiB) — or DIOD_SERVE=path
#   raw    "ninefold-bench responder": canned replies, no filesystem
#
# Every server is asked for the same --msize (default 1 MiB + 24). diod grants
# less, so unless --no-fair is given ours and raw are measured a second time
# at diod's msize ("fair" table). Each row says which I/O size it used.
# Rows are measured one at a time with the servers interleaved, so a drift in
# the machine's load hits every server alike. JSON reports (one per server,
# msize and row) and each run's text output are kept in --out (default: a
# temporary directory, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

msize=$(( (1 << 20) + 24 ))
duration=3s
warmup=1s
conns=2
depth=8
rows=all
fair=1
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --msize) msize=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --depth) depth=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --no-fair) fair=0; shift ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

target_dir=${CARGO_TARGET_DIR:-$root/target}
bench=$target_dir/release/ninefold-bench
ours_bin=$target_dir/release/ninefold
default_cmd="$ours_bin serve --memory --listen tcp://127.0.0.1:{port}"
server_cmd=${NINEFOLD_SERVER_CMD:-$default_cmd}
diod_serve=${DIOD_SERVE:-$root/scripts/diod-serve.sh}

scratch=$(mktemp -d /tmp/ninefold-bench.XXXXXX)
[ -n "$out" ] || out=$scratch/results
mkdir -p "$out"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$scratch/export"
}
trap cleanup EXIT

say() { printf '== %s\n' "$*" >&2; }

free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "bench.sh: no free port found" >&2; exit 1
}

# wait_port PORT PID: 0 once PORT accepts, 1 if PID died or 15 s passed.
wait_port() {
    for _ in $(seq 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

say "building ninefold-bench (release)"
cargo build --release -q -p ninefold-bench
if [ -z "${NINEFOLD_SERVER_CMD:-}" ] && [ ! -x "$ours_bin" ]; then
    say "building ninefold-cli (release)"
    cargo build --release -q -p ninefold-cli 2>/dev/null || true
fi

common=(--conns "$conns" --depth "$depth" --duration "$duration" --warmup "$warmup")
# measure LABEL PORT MSIZE ROW [extra args...]: one row of one server; prints
# the JSON file written (nothing when the run failed before writing it).
measure() {
    local label=$1 port=$2 m=$3 row=$4; shift 4
    local json=$out/$label-m$m-$row.json
    say "$row: $label (msize $m asked)"
    "$bench" --target "tcp://127.0.0.1:$port" --label "$label" --msize "$m" --rows "$row" \
        "${common[@]}" --json "$json" "$@" >"$out/$label-m$m-$row.txt" 2>&1 \
        || { say "$label: ninefold-bench reported errors:"; cat "$out/$label-m$m-$row.txt" >&2; }
    if [ -s "$json" ]; then echo "$json"; fi
}

# --- raw-socket limit
raw_port=$(free_port)
"$bench" responder --listen "tcp://127.0.0.1:$raw_port" 2>"$scratch/responder.log" &
pids+=($!)
wait_port "$raw_port" "${pids[-1]}" || { say "responder did not start"; cat "$scratch/responder.log" >&2; exit 1; }

# --- diod
diod_up=0
diod_port=$(free_port)
mkdir -p "$scratch/export"
export_dir=$(realpath "$scratch/export")
bash "$diod_serve" "$export_dir" "$diod_port" 3600 >"$scratch/diod.log" 2>&1 &
pids+=($!)
if wait_port "$diod_port" "${pids[-1]}"; then
    diod_up=1
else
    say "diod did not start:"; cat "$scratch/diod.log" >&2
fi

# --- ours
ours_up=0
ours_port=$(free_port)
cmd=${server_cmd//\{port\}/$ours_port}
first_word=${cmd%% *}
if ! command -v "$first_word" >/dev/null 2>&1; then
    say "OUR SERVER IS NOT AVAILABLE: '$first_word' does not exist (set NINEFOLD_SERVER_CMD,"
    say "with {port} for the port, or build ninefold-cli). Measuring diod and the raw-socket limit only."
else
    # shellcheck disable=SC2086  # the command is a word list on purpose
    $cmd >"$scratch/ours.log" 2>&1 &
    pids+=($!)
    if wait_port "$ours_port" "${pids[-1]}"; then
        ours_up=1
    else
        say "OUR SERVER DID NOT START ($cmd):"; cat "$scratch/ours.log" >&2
    fi
fi

# --- one row at a time, servers interleaved (the machine's load drifts)
if [ "$rows" = all ]; then
    rows="getattr,walk-clunk,read-4k,read-1m,write-4k,write-1m"
fi
granted() { grep -m1 '"msize":' "$1" | tr -dc '0-9'; }
main_ours=() main_diod=() main_raw=() fair_ours=() fair_diod=() fair_raw=()
dm=""
IFS=, read -r -a row_list <<<"$rows"
for row in "${row_list[@]}"; do
    if [ "$ours_up" = 1 ]; then
        f=$(measure ours "$ours_port" "$msize" "$row"); [ -n "$f" ] && main_ours+=("$f")
    fi
    fd=""
    if [ "$diod_up" = 1 ]; then
        fd=$(measure diod "$diod_port" "$msize" "$row" --aname "$export_dir")
        if [ -n "$fd" ]; then
            main_diod+=("$fd")
            [ -n "$dm" ] || dm=$(granted "$fd")
        fi
    fi
    f=$(measure raw "$raw_port" "$msize" "$row"); [ -n "$f" ] && main_raw+=("$f")
    if [ "$fair" = 1 ] && [ -n "$dm" ] && [ "$dm" != "$msize" ]; then
        [ -n "$fd" ] && fair_diod+=("$fd")
        if [ "$ours_up" = 1 ]; then
            f=$(measure ours "$ours_port" "$dm" "$row"); [ -n "$f" ] && fair_ours+=("$f")
        fi
        f=$(measure raw "$raw_port" "$dm" "$row"); [ -n "$f" ] && fair_raw+=("$f")
    fi
done

main=("${main_ours[@]}" "${main_diod[@]}" "${main_raw[@]}")
fair_all=("${fair_ours[@]}" "${fair_diod[@]}" "${fair_raw[@]}")
echo
echo "### each server at its negotiated msize (asked $msize); ratios: first/other"
"$bench" compare "${main[@]}"
if [ ${#fair_all[@]} -gt 0 ]; then
    echo
    echo "### everyone at diod's msize ($dm); ratios: first/other"
    "$bench" compare "${fair_all[@]}"
fi
echo
echo "JSON reports: $out"
