#!/usr/bin/env bash
# Prepares what the qemu guest harness (scripts/qemu-guest.sh) boots: qemu and
# a static busybox from apt, and a Debian kernel whose 9P client is built as
# modules. The kernel package is fetched with `apt-get download` and unpacked
# into the project-local cache, never installed on the host; only the kernel
# image, its config and the modules the guest loads are kept.
#
#   scripts/qemu-setup.sh          idempotent; ~30-60 s the first time
#
# Cache layout ($NINEFOLD_QEMU_CACHE, default <repo>/target/qemu9p, git-ignored):
#   vmlinuz          the kernel image
#   config           its build config (checked for CONFIG_NET_9P etc.)
#   mods/*.ko        the modules (decompressed), mods/order their load order
#   package          the Debian package name the files came from
# Environment:
#   NINEFOLD_KERNEL_SUITE=bookworm-backports   take the kernel from backports
#     (6.12; use another NINEFOLD_QEMU_CACHE for it)
# The flavour is the generic linux-image-amd64: the "cloud" flavour has no 9P.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${NINEFOLD_QEMU_CACHE:-$repo/target/qemu9p}
mkdir -p "$cache"

apt_install() {
    # apt's lists must exist once per machine before anything installs
    ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
{ [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked'; } || need+=(busybox-static)
command -v file >/dev/null || need=(file "${need[@]}")
if [ ${#need[@]} -gt 0 ]; then
    echo "qemu-setup: installing ${need[*]}"
    apt_install "${need[@]}"
fi
file -L /bin/busybox | grep -q 'statically linked' \
    || { echo "qemu-setup: /bin/busybox is not static (busybox-static)" >&2; exit 1; }

# Modules the guest loads: the NIC and the 9P client over TCP; their
# dependencies are added from each module's own "depends=" field.
ROOTS="virtio_pci virtio_net 9pnet_fd 9p"

if [ -f "$cache/vmlinuz" ] && [ -s "$cache/mods/order" ]; then
    echo "qemu-setup: kernel $(cat "$cache/package") cached in $cache"
    exit 0
fi

suite=${NINEFOLD_KERNEL_SUITE:-}
srcfile=""
cleanup() { [ -z "$srcfile" ] || { rm -f "$srcfile"; apt-get update -qq || true; }; rm -rf "$cache/unpack"; }
trap cleanup EXIT
if [ "$suite" = bookworm-backports ]; then
    srcfile=/etc/apt/sources.list.d/ninefold-kernel-backports.sources
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$srcfile"
    apt-get update -qq
    meta=linux-image-amd64/bookworm-backports
else
    ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
    meta=linux-image-amd64
fi
pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "qemu-setup: cannot tell which package $meta depends on" >&2; exit 1; }
echo "qemu-setup: downloading $pkg"
rm -rf "$cache/unpack" "$cache/mods" "$cache/vmlinuz" "$cache/config"
mkdir -p "$cache/unpack" "$cache/mods"
(cd "$cache/unpack" && apt-get download -qq -o APT::Sandbox::User=root "$pkg")
dpkg-deb -x "$cache"/unpack/*.deb "$cache/unpack/root"
u=$cache/unpack/root
cp "$(ls "$u"/boot/vmlinuz-* | head -1)" "$cache/vmlinuz.new"
cp "$(ls "$u"/boot/config-* | head -1)" "$cache/config"
for opt in NET_9P NET_9P_FD 9P_FS VIRTIO_NET; do
    grep -Eq "^CONFIG_$opt=[ym]" "$cache/config" \
        || { echo "qemu-setup: $pkg lacks CONFIG_$opt" >&2; exit 1; }
done
moddir=$(ls -d "$u"/lib/modules/*/kernel | head -1)

unpack_ko() { case "$1" in *.xz) xz -dc "$1" ;; *.zst) zstd -qdc "$1" ;; *) cat "$1" ;; esac; }
order=()
add_module() {  # NAME: its dependencies first, then itself
    local name=$1 file dep
    case " ${order[*]} " in *" $name "*) return 0 ;; esac
    file=$(find "$moddir" -name "$name.ko*" -o -name "${name//_/-}.ko*" | head -1)
    if [ -z "$file" ]; then
        # built into this kernel: nothing to load
        return 0
    fi
    unpack_ko "$file" > "$cache/mods/$name.ko"
    for dep in $(tr '\0' '\n' < "$cache/mods/$name.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
        add_module "$dep"
    done
    order+=("$name")
}
for m in $ROOTS; do add_module "$m"; done
printf '%s\n' "${order[@]}" > "$cache/mods/order"
echo "$pkg" > "$cache/package"
mv "$cache/vmlinuz.new" "$cache/vmlinuz"
echo "qemu-setup: kernel $pkg in $cache (modules: ${order[*]})"
