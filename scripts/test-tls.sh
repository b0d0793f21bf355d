#!/usr/bin/env bash
# The Linux kernel's v9fs client through a TLS tunnel (docs/TLS.md): the
# kernel cannot speak TLS, so a host-side stunnel in client mode, holding a
# client certificate, carries its plain TCP to `ninefold serve --listen
# tls://` (which requires client certificates). One qemu guest mounts the
# tunnel's plain end and runs a small workload (write, read back, ls, rm);
# the host then checks the export and that the server saw the stunnel's
# certificate as the connection's principal.
#
#   scripts/test-tls.sh
#
# Peers: stunnel4 and openssl (apt, installed when missing; the suite fails
# without them), qemu + the guest kernel (scripts/qemu-setup.sh).
# Environment:
#   NINEFOLD_BIN                the ninefold binary (default target/release/ninefold,
#                               built when missing)
#   NINEFOLD_SKIP_TLS_KERNEL=1  leave the kernel-through-stunnel run out (listed
#                               as a skip); NINEFOLD_SKIP_KERNEL=1 does too
#   TIMEOUT, MEM, NINEFOLD_QEMU_ACCEL, NINEFOLD_QEMU_CACHE: scripts/qemu-guest.sh
# Last line: "N passed, N failed".
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=lib/kernel-host.sh
. "$repo/scripts/lib/kernel-host.sh"
debug=0

if [ "${NINEFOLD_SKIP_TLS_KERNEL:-0}" = 1 ] || [ "${NINEFOLD_SKIP_KERNEL:-0}" = 1 ]; then
    skip "kernel v9fs client through stunnel to a tls:// listener (NINEFOLD_SKIP_TLS_KERNEL=1 or NINEFOLD_SKIP_KERNEL=1)"
    echo "0 passed, 0 failed"
    exit 0
fi

passed=0; failed=0
check() {
    local name=$1; shift
    if "$@"; then echo "OK   $name"; passed=$((passed+1)); else echo "FAIL $name"; failed=$((failed+1)); fi
}

say "peers: stunnel4, openssl"
if ! command -v stunnel4 >/dev/null || ! command -v openssl >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stunnel4 openssl >/dev/null || true
    fi
fi
for tool in stunnel4 openssl; do
    command -v "$tool" >/dev/null || {
        echo "test-tls: $tool is missing and could not be installed (apt-get install stunnel4 openssl;" \
             "NINEFOLD_SKIP_TLS_KERNEL=1 leaves this suite out)" >&2
        exit 1
    }
done
"$repo/scripts/qemu-setup.sh" > /dev/null

bin=${NINEFOLD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/ninefold}
if [ ! -x "$bin" ]; then
    CARGO_INCREMENTAL=0 cargo build --release -p ninefold-cli
fi

work=$(mktemp -d /tmp/ninefold-tls.XXXXXX)
stunnel_pid=""
cleanup() {
    stop_server
    [ -z "$stunnel_pid" ] || { kill "$stunnel_pid" 2>/dev/null || true; wait "$stunnel_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "certificates (openssl): a CA, the server (127.0.0.1), the tunnel's client certificate"
pki=$work/pki; mkdir -p "$pki"
ossl() { openssl "$@" 2>> "$work/openssl.log"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=ninefold test CA" -keyout "$pki/ca.key" -out "$pki/ca.pem"
leaf() { # leaf NAME SUBJECT [SAN]
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" \
        -keyout "$pki/$1.key" -out "$pki/$1.csr"
    # An extension makes it an X.509 v3 certificate (webpki refuses v1).
    { echo 'basicConstraints=CA:FALSE'; [ -z "${3:-}" ] || echo "subjectAltName=$3"; } > "$pki/$1.ext"
    ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.pem"
}
leaf server "/CN=ninefold test server" "IP:127.0.0.1,DNS:localhost"
leaf gateway "/CN=kernel-gateway"

say "ninefold serve --listen tls:// (client certificates required)"
export_dir=$work/export; mkdir -p "$export_dir"; chmod 755 "$export_dir"
server_cmd_for() {
    cmd=("$bin" serve "$export_dir" --listen "tls://127.0.0.1:$1"
         --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
         --tls-client-ca "$pki/ca.pem" --tls-require-client-cert
         --log "info,ninefold_server=debug")
}
start_server "$work/server.log" || { cat "$work/server.log"; exit 1; }
tls_port=$port
echo "tls://127.0.0.1:$tls_port (pid $server_pid)"

say "stunnel (client mode): plain 127.0.0.1:PORT -> tls://127.0.0.1:$tls_port"
# A port picked free can be taken before stunnel binds it, and stunnel
# then exits at once: up to three tries, each on a new port, each ended
# early when stunnel is gone; what it printed is shown when it failed.
for attempt in 1 2 3; do
    plain_port=$(free_port)
    cat > "$work/stunnel.conf" <<EOF
foreground = yes
pid =
debug = notice
output = $work/stunnel.log
[ninefold]
client = yes
accept = 127.0.0.1:$plain_port
connect = 127.0.0.1:$tls_port
cert = $pki/gateway.pem
key = $pki/gateway.key
CAfile = $pki/ca.pem
verifyChain = yes
checkIP = 127.0.0.1
EOF
    stunnel4 "$work/stunnel.conf" > "$work/stunnel.out" 2>&1 &
    stunnel_pid=$!
    for _ in $(seq 100); do
        port_busy "$plain_port" && break
        kill -0 "$stunnel_pid" 2>/dev/null || break
        sleep 0.1
    done
    port_busy "$plain_port" && break
    echo "stunnel attempt $attempt on port $plain_port did not listen:"
    cat "$work/stunnel.out" "$work/stunnel.log" 2>/dev/null | tail -20
    kill "$stunnel_pid" 2>/dev/null || true
    wait "$stunnel_pid" 2>/dev/null || true
    stunnel_pid=""
done
check stunnel_listening port_busy "$plain_port"

say "guest: mount through the tunnel, write, read back, ls, rm"
cat > "$work/guest.sh" <<'EOF'
set -u
fails=0
t() { n=$1; shift; if "$@"; then echo "OK   guest_$n"; else echo "FAIL guest_$n"; fails=$((fails+1)); fi; }
echo 'through the tunnel' > kept.txt
t write_read test "$(cat kept.txt)" = 'through the tunnel'
dd if=/dev/urandom of=/tmp/r.bin bs=1k count=512 2>/dev/null
cp /tmp/r.bin scratch.bin
t big_read_back cmp -s /tmp/r.bin scratch.bin
mkdir d && touch d/a d/b
t ls test "$(ls d | tr '\n' ' ')" = 'a b '
rm scratch.bin && rm -r d
t rm test ! -e scratch.bin -a ! -e d
exit $fails
EOF
port=$plain_port
TIMEOUT=${TIMEOUT:-300} run_guest tls "$work/guest.sh" ""
grep -E '^(OK|FAIL|@@MOUNT|@@CMDS)' "$work/tls.guest.out" || true
passed=$((passed + $(grep -c '^OK' "$work/tls.guest.out" || true)))
failed=$((failed + $(grep -c '^FAIL' "$work/tls.guest.out" || true)))
check guest_exit_status test "$guest_rc" = 0

say "host: the export and the server's view of the tunnel"
check host_file test "$(cat "$export_dir/kept.txt" 2>/dev/null)" = 'through the tunnel'
check host_removed test ! -e "$export_dir/scratch.bin" -a ! -e "$export_dir/d"
# grep -c reads to the end: with `grep -q` under pipefail, sed dies of
# SIGPIPE on a long log once grep has its match, and the check fails.
saw_principal() { [ "$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep -c 'principal="kernel-gateway"')" -gt 0 ]; }
check principal_is_the_tunnel_certificate saw_principal
# Without the tunnel's certificate the server refuses the handshake, and
# with it the ninefold client gets in too.
refused() { ! "$bin" ls "tls://127.0.0.1:$tls_port/?ca=$pki/ca.pem" > "$work/no-cert.out" 2>&1 \
              && grep -q 'requires a client certificate' "$work/no-cert.out"; }
check no_certificate_refused refused
check cli_with_certificate "$bin" ls --tls-ca "$pki/ca.pem" --tls-cert "$pki/gateway.pem" \
    --tls-key "$pki/gateway.key" "tls://127.0.0.1:$tls_port/"
if [ "$failed" != 0 ]; then
    echo "--- server log"; tail -20 "$work/server.log"
    echo "--- stunnel log"; tail -20 "$work/stunnel.log" 2>/dev/null || true
    echo "--- guest"; tail -30 "$work/tls.guest.out"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
