# loose.sh — suite body (after lib.sh), run with cache=loose (page cache,
# cached attributes and dentries: writes reach the server at writeback,
# close or umount). Creates, writes, reads back and lists in the guest;
# kernel-suites.sh checks the export directory on the host after the
# guest has unmounted. Expected state is left in loose/expect.*.
# Variables set by kernel-suites.sh: SUITE, NFILES.
L=loose
rm -rf $L
# content I: the deterministic contents of file I (the host computes the same)
content() { printf "file %d %0$(( $1 % 97 * 13 + 1 ))d\n" $1 $1; }
c_create() {
  mkdir -p $L/a/b/c $L/d && i=0
  while [ $i -lt $NFILES ]; do
    content $i > $L/d/f$i || return 1; i=$((i+1)); done
}
# one cat of all files against the expected concatenation (two forks, not 600)
c_readback() {
  i=0; : > /tmp/want; args=""
  while [ $i -lt $NFILES ]; do content $i >> /tmp/want; args="$args $L/d/f$i"; i=$((i+1)); done
  cat $args > /tmp/got && cmp /tmp/want /tmp/got
}
c_ls() { [ "$(ls $L/d | wc -l)" = $NFILES ]; }
c_big() {
  dd if=/dev/urandom of=/tmp/big bs=64k count=128 2>/dev/null && md5 /tmp/big > /tmp/big.md5 \
    && dd if=/tmp/big of=$L/a/b/c/big.bin bs=64k 2>/dev/null && [ "$(stat -c %s $L/a/b/c/big.bin)" = 8388608 ]
}
c_big_read() { [ "$(md5 $L/a/b/c/big.bin)" = "$(cat /tmp/big.md5)" ]; }
c_big_read_cold() { sync && echo 3 > /proc/sys/vm/drop_caches && c_big_read; }
c_patch() { printf PATCH | dd of=$L/a/b/c/big.bin bs=1 seek=4096000 conv=notrunc 2>/dev/null \
              && printf PATCH | dd of=/tmp/big bs=1 seek=4096000 conv=notrunc 2>/dev/null \
              && [ "$(md5 $L/a/b/c/big.bin)" = "$(md5 /tmp/big)" ]; }
c_rename() { i=0; while [ $i -lt 50 ]; do mv $L/d/f$i $L/d/renamed$i || return 1; i=$((i+1)); done \
               && [ ! -e $L/d/f0 ] && [ "$(cat $L/d/renamed7)" = "$(content 7)" ]; }
c_remove() { i=50; while [ $i -lt 100 ]; do rm $L/d/f$i || return 1; i=$((i+1)); done && [ ! -e $L/d/f60 ]; }
c_append() { i=100; while [ $i -lt 120 ]; do echo appended >> $L/d/f$i || return 1; i=$((i+1)); done \
               && [ "$(tail -n1 $L/d/f110)" = appended ] && [ "$(wc -l < $L/d/f110)" = 2 ]; }
c_ls_after() { [ "$(ls $L/d | wc -l)" = $((NFILES - 50)) ] && [ "$(ls $L/d | grep -c '^renamed')" = 50 ]; }
c_trunc() { printf 0123456789 > $L/t && truncate -s 4 $L/t && [ "$(cat $L/t)" = 0123 ] && [ "$(stat -c %s $L/t)" = 4 ]; }
check create_${NFILES}_files c_create
check read_back c_readback
check ls_count c_ls
check write_8MiB c_big
check read_8MiB_md5 c_big_read
check read_8MiB_after_drop_caches c_big_read_cold
check patch_in_place c_patch
check rename_50 c_rename
check remove_50 c_remove
check append_20 c_append
check ls_after_changes c_ls_after
check truncate c_trunc
# the random data's digest, for the host
echo "$(md5 /tmp/big)  big.bin" > $L/expect.big
rm -f /tmp/big /tmp/big.md5 /tmp/want /tmp/got
suite_end
