#!/usr/bin/env bash
# bench-cpu.sh — the server's CPU time and context switches per request,
# a figure that a busy machine disturbs far less than throughput: for each
# round, case and server, a fresh server on a fresh export, one
# `ninefold-bench` run (1 connection, the case's depth, TCP or a unix
# socket), and the
# server's user + system time (/proc/PID/stat, every thread, live or gone)
# and context switches (`perf stat -e context-switches` on the process)
# over the run, divided by the requests answered. Medians over the rounds,
# servers interleaved within each round.
#
#   scripts/bench-cpu.sh [--rounds 3] [--duration 3s]
#                        [--cases read-64k:4,write-64k:4,...]
#                        [--servers raw,memfs,passthrough,base-memfs,base-passthrough]
#                        [--transport tcp|unix]
#
#   --transport  what the generator connects over (default tcp); diod is
#                measured over tcp only
#
#   raw      `ninefold-bench responder` (canned replies: the floor)
#   memfs    release `ninefold serve --memory`; passthrough: `ninefold serve DIR`
#   base-*   the same served by $NINEFOLD_BASE_BIN (another build), for
#            before/after ratios
#   diod     diod through scripts/diod-serve.sh on a fresh export (installed
#            from apt on first use); its CPU is diod's own process, every
#            thread. diod grants msize 65536 at most, so its 1 MiB rows move
#            64 KiB per request: compare those per byte, not per request
# Needs `perf` (Debian: linux-perf). Prints a Markdown table. A benchmark,
# not a test: it is not part of scripts/test.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=3
duration=3s
cases=getattr:1,read-4k:1,read-64k:4,read-1m:4,write-64k:4,write-1m:4
servers=raw,memfs,passthrough
transport=tcp
[ -n "${NINEFOLD_BASE_BIN:-}" ] && servers=$servers,base-memfs,base-passthrough
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --cases) cases=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --transport) transport=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "bench-cpu.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

case $transport in
    tcp) ;;
    unix) [[ ",$servers," == *,diod,* ]] && { echo "bench-cpu.sh: diod is measured over tcp only" >&2; exit 2; } ;;
    *) echo "bench-cpu.sh: --transport is tcp or unix" >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib/bench-bins.sh
. scripts/lib/bench-bins.sh   # the working directory is the repository root
bench_bins bench-cpu.sh "$servers"
command -v perf >/dev/null || { echo "bench-cpu.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }

scratch=$(mktemp -d /tmp/ninefold-bench-cpu.XXXXXX)
server_pid=""
perf_pid=""
cleanup() {
    for p in $perf_pid $server_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT
ticks=$(getconf CLK_TCK)

# shellcheck source=scripts/lib/ports.sh
. scripts/lib/ports.sh   # the working directory is the repository root
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one SERVER ROW DEPTH: prints "mb_per_s ops_per_s cpu_us_per_op cs_per_op"
one() {
    local server=$1 row=$2 depth=$3 port dir bin aname="" cpu_pid listen target sock
    port=$(free_port)
    dir=$(mktemp -d "$scratch/export.XXXX")
    sock=$scratch/server.sock
    rm -f "$sock"
    if [ "$transport" = unix ]; then listen=unix:$sock; else listen=tcp://127.0.0.1:$port; fi
    target=$listen
    case $server in
        raw) "$bench" responder --listen "$listen" >"$scratch/server.log" 2>&1 & ;;
        memfs|passthrough|base-memfs|base-passthrough)
            bin=$ours; [[ $server == base-* ]] && bin=$NINEFOLD_BASE_BIN
            if [[ $server == *memfs ]]; then
                "$bin" serve --memory -l "$listen" >"$scratch/server.log" 2>&1 &
            else
                "$bin" serve "$dir" -l "$listen" >"$scratch/server.log" 2>&1 &
            fi ;;
        diod)
            aname=$(realpath "$dir")
            bash scripts/diod-serve.sh "$dir" "$port" 600 >"$scratch/server.log" 2>&1 & ;;
        *) echo "bench-cpu.sh: unknown server $server" >&2; exit 2 ;;
    esac
    server_pid=$!
    for _ in $(seq 100); do
        if [ "$transport" = unix ]; then
            [ -S "$sock" ] && break
        else
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        fi
        kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
        sleep 0.1
    done
    cpu_pid=$server_pid
    if [ "$server" = diod ]; then
        # diod-serve.sh execs `timeout`, whose child is diod.
        cpu_pid=$(pgrep -P "$server_pid" -x diod) \
            || { echo "bench-cpu.sh: diod did not start" >&2; cat "$scratch/server.log" >&2; exit 1; }
    fi
    perf stat -x, -e context-switches -p "$cpu_pid" -o "$scratch/perf.txt" 2>/dev/null &
    perf_pid=$!
    sleep 0.2
    local t0 t1 json
    t0=$(cpu_ticks "$cpu_pid")
    json=$("$bench" --target "$target" --aname "$aname" --conns 1 --depth "$depth" \
        --duration "$duration" --warmup 300ms --rows "$row" --msize 1048600 --json 2>"$scratch/bench.err") \
        || { cat "$scratch/bench.err" >&2; exit 1; }
    t1=$(cpu_ticks "$cpu_pid")
    kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; perf_pid=""
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    rm -rf "$dir"
    local cs
    cs=$(awk -F, '/context-switches/ {print $1}' "$scratch/perf.txt")
    # The CPU and switch counts cover the fixture, warm-up and drain too;
    # requests are counted over the whole run (the measured rate times the
    # time the generator was connected is not known), so the figures are
    # an upper bound, the same for every server.
    python3 - "$json" "$((t1 - t0))" "$ticks" "${cs:-0}" <<'EOF'
import json, sys
d = json.JSONDecoder().raw_decode(sys.argv[1].lstrip())[0]
r = d["rows"][0]
if r.get("errors"):
    sys.exit(f"bench-cpu.sh: {r['errors']} errors in {r['row']}")
ops = r["ops"]
cpu_us = int(sys.argv[2]) / int(sys.argv[3]) * 1e6
cs = float(sys.argv[4]) if sys.argv[4].replace(".", "").isdigit() else 0.0
print(f"{r['mb_per_sec'] or 0:.0f} {r['ops_per_sec']:.0f} {cpu_us / ops:.1f} {cs / ops:.2f}")
EOF
}

IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a server_list <<<"$servers"
for ((round = 1; round <= rounds; round++)); do
    for c in "${case_list[@]}"; do
        row=${c%%:*}; depth=${c##*:}
        for s in "${server_list[@]}"; do
            printf '== round %d %s d%s: %s\n' "$round" "$row" "$depth" "$s" >&2
            echo "$row d$depth $s $(one "$s" "$row" "$depth")" >>"$scratch/results.txt"
        done
    done
done

echo
echo "Command: \`scripts/bench-cpu.sh --rounds $rounds --duration $duration --cases $cases --servers $servers --transport $transport\`"
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
python3 - "$scratch/results.txt" "$servers" <<'EOF'
import statistics, sys
servers = sys.argv[2].split(",")
cells = {}
order = []
for line in open(sys.argv[1]):
    row, depth, server, mb, ops, cpu, cs = line.split()
    key = f"{row} {depth}"
    if key not in order:
        order.append(key)
    cells.setdefault((key, server), []).append((float(cpu), float(cs), float(ops)))
def med(key, s, i):
    v = cells.get((key, s))
    return statistics.median(x[i] for x in v) if v else None
head = ["row"] + [f"{s} µs CPU · switches /req" for s in servers]
ratios = [(a, f"base-{a}") for a in ("memfs", "passthrough") if a in servers and f"base-{a}" in servers]
ratios += [(a, "raw") for a in ("memfs", "passthrough") if a in servers and "raw" in servers]
ratios += [("passthrough", "diod")] if "passthrough" in servers and "diod" in servers else []
head += [f"{a} CPU / {b}" for a, b in ratios]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for key in order:
    cols = [key]
    for s in servers:
        c, w = med(key, s, 0), med(key, s, 1)
        cols.append("-" if c is None else f"{c:,.1f} · {w:.2f}")
    for a, b in ratios:
        x, y = med(key, a, 0), med(key, b, 0)
        cols.append("-" if not x or not y else f"{x / y:.2f}")
    print("| " + " | ".join(cols) + " |")
EOF
