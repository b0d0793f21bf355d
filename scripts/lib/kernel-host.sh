# Host-side helpers shared by the scripts that boot the v9fs client under
# qemu (kernel-test.sh, kernel-suites.sh, kernel-pjdfstest.sh). Sourced, not
# run. The caller sets `repo` (the checkout), `work` (a scratch dir), `debug`
# (0/1) and, for start_server, a function `server_cmd_for PORT` that fills
# the array `cmd`.

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

# run_guest NAME SCRIPT OPTS: boots the guest (scripts/qemu-guest.sh, which
# retries a guest that never booted) against $port with SCRIPT, copying
# $guest_bins / $guest_files in. Sets guest_rc; output in $work/NAME.guest.out,
# the serial log in $work/NAME.serial.log.
run_guest() {
    local name=$1 script=$2 opts=$3
    set +e
    LOG="$work/$name.serial.log" TIMEOUT=${TIMEOUT:-900} \
        GUEST_BINS="${guest_bins:-}" GUEST_FILES="${guest_files:-}" \
        "$repo/scripts/qemu-guest.sh" "$port" "$script" "$opts" > "$work/$name.guest.out" 2>&1
    guest_rc=$?
    set -e
}

# skip WHAT: notes a check left out on purpose (behind an opt-out variable)
# in $NINEFOLD_SKIPS_FILE, which scripts/test.sh prints in its summary.
skip() {
    echo "SKIP: $*" >&2
    [ -z "${NINEFOLD_SKIPS_FILE:-}" ] || echo "$*" >> "$NINEFOLD_SKIPS_FILE"
}

# build_probe OUT: compiles tests/kernel/nf-probe.c statically (installing
# gcc and libc6-dev when missing). Fails loudly: the lock checks depend on it.
build_probe() {
    local out=$1
    if ! command -v gcc >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/libc.a ]; then
        ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null || true
    fi
    gcc -static -O2 -Wall -o "$out" "$repo/tests/kernel/nf-probe.c"
}
