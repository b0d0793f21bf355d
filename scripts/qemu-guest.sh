#!/usr/bin/env bash
# Boots a small Linux guest under qemu whose init mounts a 9P server that
# listens on this host's loopback, with the kernel's own v9fs client, runs a
# busybox sh script inside the mount, and powers off. The serial console is
# the result channel.
#
#   scripts/qemu-guest.sh PORT SCRIPT [MOUNT_OPTS]
#
#   PORT        the server's TCP port on 127.0.0.1 (the guest reaches it as
#               10.0.2.2, qemu's user-mode alias for the host's loopback)
#   SCRIPT      busybox sh, run with cwd = the mount ($MNT = /mnt)
#   MOUNT_OPTS  appended to the v9fs options, e.g. "cache=loose,aname=/x"
#
# The guest sees (all outside /tmp, which is a fresh tmpfs in the guest):
#   /nf/cmds.sh       SCRIPT
#   /nf/<basename>    each of GUEST_FILES (files or directories)
#   /usr/bin/<name>   each of GUEST_BINS, with the shared libraries ldd lists
#   /etc/passwd, /etc/group   the host's (users for permission tests)
#
# Result protocol (serial lines, also in $LOG):
#   @@BOOTED          init is running          @@MOUNTED    the 9P mount worked
#   @@MOUNT failed    mount(2) failed          @@CMDS rc=N  SCRIPT's exit status
# Exit status: SCRIPT's; 90 the mount failed; 91 no @@CMDS line (crash);
# 124 timeout. A guest that never printed @@BOOTED (the kernel occasionally
# panics in early timer setup under emulation) is booted again, 3 tries.
#
# Environment:
#   NINEFOLD_QEMU_ACCEL  kvm | tcg | auto (default): auto uses KVM when
#                        /dev/kvm boots a probe guest, else TCG (the answer
#                        is cached per host boot in the cache directory)
#   TIMEOUT (s, whole run, default 600)  MEM (MiB, 512)  SMP (1)
#   VERSION (9p2000.L)  MSIZE (262144)  LOG (copy of the serial output)
#   GUEST_FILES, GUEST_BINS (see above)  NINEFOLD_QEMU_CACHE (kernel cache)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: qemu-guest.sh PORT SCRIPT [MOUNT_OPTS]"
PORT=${1:?$usage}
SCRIPT=${2:?$usage}
EXTRA=${3:-}
[ -f "$SCRIPT" ] || { echo "qemu-guest: no such script: $SCRIPT" >&2; exit 2; }
cache=${NINEFOLD_QEMU_CACHE:-$repo/target/qemu9p}
export NINEFOLD_QEMU_CACHE=$cache
TIMEOUT=${TIMEOUT:-600}
MEM=${MEM:-512}
SMP=${SMP:-1}
OPTS="trans=tcp,port=$PORT,version=${VERSION:-9p2000.L},msize=${MSIZE:-262144}${EXTRA:+,$EXTRA}"

[ -f "$cache/vmlinuz" ] && [ -s "$cache/mods/order" ] || "$repo/scripts/qemu-setup.sh" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/ninefold-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,usr/bin,etc,nf,lib/modules,proc,sys,dev,mnt,tmp}
cp /bin/busybox "$root/bin/busybox"
cp /etc/passwd /etc/group "$root/etc/"
cp "$cache"/mods/*.ko "$root/lib/modules/"
cp "$SCRIPT" "$root/nf/cmds.sh"
for f in ${GUEST_FILES:-}; do
    [ -e "$f" ] || { echo "qemu-guest: GUEST_FILES: no such file: $f" >&2; exit 2; }
    cp -a "$f" "$root/nf/"
done
for b in ${GUEST_BINS:-}; do
    p=$(command -v "$b") || { echo "qemu-guest: GUEST_BINS: $b not found" >&2; exit 2; }
    cp -L "$p" "$root/usr/bin/"
    for lib in $(ldd "$p" 2>/dev/null | grep -o '/[^ ]*' || true); do
        mkdir -p "$root$(dirname "$lib")"
        cp -Ln "$lib" "$root$lib"
    done
done

# /init, expanded here: $OPTS and the module order are fixed per run.
mods=$(tr '\n' ' ' < "$cache/mods/order")
cat > "$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin MNT=/mnt HOME=/
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in $mods; do insmod /lib/modules/\$m.ko || echo "@@INSMOD \$m failed"; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "@@BOOTED uptime=\$(cut -d' ' -f1 /proc/uptime)"
if grep -q nf_probe_only /proc/cmdline; then
  echo "@@CMDS rc=0 probe"; poweroff -f
fi
if mount -t 9p -o $OPTS 10.0.2.2 /mnt; then
  echo "@@MOUNTED uptime=\$(cut -d' ' -f1 /proc/uptime) opts=$OPTS"
  cd /mnt
  sh /nf/cmds.sh
  rc=\$?
  cd /
  echo "@@CMDS rc=\$rc uptime=\$(cut -d' ' -f1 /proc/uptime)"
  umount /mnt || echo "@@UMOUNT failed"
else
  echo "@@MOUNT failed opts=$OPTS"
  dmesg | tail -20
fi
sync
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"

# boot LOGFILE SECONDS ACCEL [APPEND]: one qemu run; prints qemu's status
boot() {
    local log=$1 secs=$2 accel=$3 append=${4:-} rc
    set +e
    timeout --kill-after=5 "$secs" qemu-system-x86_64 -accel "$accel" -m "$MEM" -smp "$SMP" \
        -kernel "$cache/vmlinuz" -initrd "$work/initrd.gz" \
        -append "console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check $append" \
        -nic user,model=virtio-net-pci -display none -monitor none -serial stdio \
        -no-reboot < /dev/null > "$log" 2>&1
    rc=$?
    set -e
    echo "$rc"
}

# KVM or TCG. The probe boots the same kernel without mounting; it is cached
# per host boot (boot_id), since the answer depends on the host, not the run.
accel=${NINEFOLD_QEMU_ACCEL:-auto}
if [ "$accel" = auto ]; then
    stamp=$cache/accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
    if [ -s "$stamp" ]; then
        accel=$(cat "$stamp")
    else
        accel=tcg
        if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
            # a working KVM boots this guest in 1-2 s; 20 s is ample
            boot "$work/probe.log" 20 kvm nf_probe_only > /dev/null
            if grep -q '@@CMDS rc=0 probe' "$work/probe.log"; then accel=kvm; fi
        fi
        echo "$accel" > "$stamp"
        echo "qemu-guest: accelerator for this host: $accel" >&2
    fi
fi

LOG=${LOG:-$work/serial.log}
for attempt in 1 2 3; do
    t0=$(date +%s.%N)
    qrc=$(boot "$LOG" "$TIMEOUT" "$accel")
    cat "$LOG"
    echo "== qemu accel=$accel exit=$qrc wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s attempt=$attempt" >&2
    if grep -q '@@BOOTED' "$LOG" || [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then break; fi
    echo "qemu-guest: the guest did not boot ($(grep -m1 -i panic "$LOG" || echo 'no marker')); again" >&2
done
case "$qrc" in 124|137) exit 124 ;; esac
grep -q '@@MOUNT failed' "$LOG" && exit 90
rc=$(sed -n 's/.*@@CMDS rc=\([0-9]*\).*/\1/p' "$LOG" | tail -1)
[ -n "$rc" ] || exit 91
exit "$rc"
