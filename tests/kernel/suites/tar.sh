# tar.sh — suite body (after lib.sh). Extracts a tarball of a few thousand
# files (generated on the host: nested directories, sizes from 0 bytes to
# a few MiB, symlinks, hard links, modes) into the mount and compares it
# with a reference extraction in guest RAM (/tmp is tmpfs). The host then
# compares the export directory with its own copy of the tree.
# Variables set by kernel-suites.sh: SUITE, TARBALL (.tar.gz in the guest),
# TREE (the tarball's top-level directory).
rm -rf "$TREE"
mkdir -p /tmp/ref
check ref_extract_tmpfs tar xzf "$TARBALL" -C /tmp/ref
check extract_into_mount tar xzf "$TARBALL"
# every file's contents, every entry present on both sides (busybox diff -r)
check diff_r diff -r "/tmp/ref/$TREE" "$TREE"
# the same list of names, types and sizes, modes and symlink targets
listing() { ( cd "$1" && find . | sort | while read -r p; do
                if [ -L "$p" ]; then echo "$p l $(readlink "$p")"
                else stat -c "$p %F %a %s" "$p"; fi; done ); }
c_listing() {
  listing "/tmp/ref/$TREE" > /tmp/l.ref && listing "$TREE" > /tmp/l.mnt && cmp -s /tmp/l.ref /tmp/l.mnt \
    || { echo "--- listing differences (tmpfs vs mount)"; diff /tmp/l.ref /tmp/l.mnt | head -10; return 1; }
  echo "    $(wc -l < /tmp/l.mnt) entries"
}
check listing_names_types_modes_sizes c_listing
# one md5 over all file contents in a fixed order, after dropping caches
c_md5all() {
  sync; echo 3 > /proc/sys/vm/drop_caches
  a=$(cd "/tmp/ref/$TREE" && find . -type f | sort | xargs md5sum | md5)
  b=$(cd "$TREE" && find . -type f | sort | xargs md5sum | md5)
  [ "$a" = "$b" ]
}
check md5_all_files_after_drop_caches c_md5all
# hard links kept as links
c_hard() { [ "$(stat -c %i "$TREE/links/hard-a")" = "$(stat -c %i "$TREE/links/hard-b")" ] \
             && [ "$(stat -c %h "$TREE/links/hard-a")" = 2 ]; }
check hardlink_preserved c_hard
rm -rf /tmp/ref
# the tree stays in the export for the host-side comparison
suite_end
