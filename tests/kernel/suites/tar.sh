# tar.sh — suite body (after lib.sh). Extracts a tarball of a few thousand
# files (generated on the host: nested directories, sizes from 0 bytes to
# a few MiB, symlinks, hard links, modes) into the mount and compares it
# with a reference extraction in guest RAM (/tmp is tmpfs). The host then
# compares the export directory with its own copy of the tree.
# Variables set by kernel-suites.sh: SUITE, TARBALL (.tar.gz in the guest),
# TREE (the tarball's top-level directory). Contents are compared here;
# modes, sizes, link counts, symlink targets and mtimes on the host
# (diff -r and a find -printf manifest), which is far cheaper than a stat
# per entry in the guest.
rm -rf "$TREE"
mkdir -p /tmp/ref
check ref_extract_tmpfs tar xzf "$TARBALL" -C /tmp/ref
check extract_into_mount tar xzf "$TARBALL"
# every file's contents: per-file md5 lists of both trees, after dropping
# the guest's caches (the file list itself must match too). One md5sum
# process per few hundred files (forks are expensive under emulation); names
# may contain spaces, so no xargs.
sums() { ( cd "$1" && find . -type f -exec md5sum {} + | sort ) > "$2"; }
c_md5() {
  sync; echo 3 > /proc/sys/vm/drop_caches
  sums "/tmp/ref/$TREE" /tmp/sums.ref && sums "$TREE" /tmp/sums.mnt \
    && echo "    $(wc -l < /tmp/sums.mnt) files" && cmp -s /tmp/sums.ref /tmp/sums.mnt \
    || { echo "--- md5 differences (tmpfs vs mount)"; diff /tmp/sums.ref /tmp/sums.mnt | head -10; return 1; }
}
check md5_every_file c_md5
# the same set of names of every type
names() { ( cd "$1" && find . | sort ) > "$2"; }
c_names() { names "/tmp/ref/$TREE" /tmp/n.ref && names "$TREE" /tmp/n.mnt && cmp -s /tmp/n.ref /tmp/n.mnt \
              || { diff /tmp/n.ref /tmp/n.mnt | head -10; return 1; }; }
check same_names c_names
# hard links kept as links
c_hard() { [ "$(stat -c %i "$TREE/links/hard-a")" = "$(stat -c %i "$TREE/links/hard-b")" ] \
             && [ "$(stat -c %h "$TREE/links/hard-a")" = 2 ]; }
check hardlink_preserved c_hard
rm -rf /tmp/ref /tmp/sums.* /tmp/n.*
# the tree stays in the export for the host-side comparison
suite_end
