# Host-side helpers shared by the scripts that boot the v9fs client under
# qemu (kernel-test.sh, kernel-suites.sh). Sourced, not run. The caller sets
# `work` (a scratch dir), `QEMU9P`, `debug` (0/1) and, for start_server, a
# function `server_cmd_for PORT` that fills the array `cmd`.

ts() { date +%s.%N; }
dur() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '\n== %s\n' "$*"; }

server_pid=""
server_killed=0

# stop_server: SIGTERM the server's process group, SIGKILL after 5 s (and
# record that in server_killed).
stop_server() {
    server_killed=0
    if [ -n "$server_pid" ]; then
        kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$server_pid" 2>/dev/null; then server_killed=1; fi
        kill -KILL -- "-$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        port_busy "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# start_server LOG: starts `server_cmd_for PORT` in its own process group on
# a free port, up to three tries. Sets server_pid and port; 0 when listening.
start_server() {
    local log=$1 attempt
    for attempt in 1 2 3; do
        port=$(free_port) || return 1
        cmd=()
        server_cmd_for "$port"
        echo "server: ${cmd[*]}" > "$log"
        if [ "${debug:-0}" = 1 ]; then
            RUST_LOG=${RUST_LOG:-debug} setsid "${cmd[@]}" >> "$log" 2>&1 < /dev/null &
        else
            setsid "${cmd[@]}" >> "$log" 2>&1 < /dev/null &
        fi
        server_pid=$!
        for _ in $(seq 300); do
            port_busy "$port" && return 0
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "server did not come up on port $port (attempt $attempt):" >&2
        tail -5 "$log" >&2
        stop_server
    done
    return 1
}

# run_guest NAME SCRIPT OPTS: boots the guest on $port with SCRIPT, copying
# $guest_bins / $guest_files in; retries a guest that never booted (TCG on a
# loaded host occasionally panics in early timer setup). Sets guest_rc.
run_guest() {
    local name=$1 script=$2 opts=$3 attempt
    for attempt in 1 2 3; do
        set +e
        LOG="$work/$name.serial.log" TIMEOUT=${TIMEOUT:-900} \
            GUEST_BINS="${guest_bins:-}" GUEST_FILES="${guest_files:-}" \
            bash "$QEMU9P/run-guest.sh" "$port" "$script" "$opts" > "$work/$name.guest.out" 2>&1
        guest_rc=$?
        set -e
        if [ "$guest_rc" = 91 ] && ! grep -q '@@BOOTED' "$work/$name.serial.log"; then
            echo "guest did not boot (attempt $attempt): $(grep -m1 -i 'panic' "$work/$name.serial.log" || echo 'no marker')" >&2
            continue
        fi
        return 0
    done
}
