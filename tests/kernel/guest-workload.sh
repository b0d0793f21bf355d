# guest-workload.sh — runs INSIDE the qemu guest (busybox sh) with cwd = the
# 9P mount ($MNT, /mnt), started by scripts/kernel-test.sh through
# scripts/qemu-guest.sh. Prints one "OK   name" /
# "FAIL name" / "SKIP name" line per check and "@@T name seconds" timings;
# exits with the number of failures (capped at 80 so it never collides with
# qemu-guest.sh's own codes 90/91/124).
#
# Layout in the mount:
#   nfwork/  scratch; removed at the end (its removal is itself a check)
#   kept/    left behind on purpose; kernel-test.sh verifies it on the host
#            for the passthrough filesystem (see verify_kept there)
#
# Locking and fd-after-unlink checks use nf-probe (tests/kernel/nf-probe.c,
# static, copied into the guest via GUEST_BINS; busybox has neither flock(1)
# nor an fcntl lock tool). Without it they FAIL, unless kernel-test.sh put
# NF_ALLOW_NO_PROBE=1 in front of this script (NINEFOLD_SKIP_LOCK_CHECKS=1 on
# the host): then they are SKIPped and the host lists the skip.
MNT=${MNT:-/mnt}
cd "$MNT" || exit 1
f=0; ok=0; skip=0
cs() { read -r u _ < /proc/uptime; CS=$(( ${u%.*}${u#*.} )); }  # centiseconds, no fork
t() {
  name=$1; shift; cs; t_s=$CS
  if "$@"; then r=0; else r=$?; fi
  cs; d=$((CS - t_s)); d="$((d / 100)).$(( d % 100 / 10 ))$(( d % 10 ))s"
  if [ $r = 0 ]; then echo "OK   $name ($d)"; ok=$((ok+1))
  else echo "FAIL $name (rc=$r, $d)"; f=$((f+1)); fi
}
s() { echo "SKIP $1 ($2)"; skip=$((skip+1)); }
up() { cut -d' ' -f1 /proc/uptime; }
el() { echo "$1 $(up)" | awk '{printf "%.2f", $2-$1}'; }
waitfor() {  # waitfor FILE: up to 10 s
  i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
  [ -e "$1" ]
}
T0=$(up)
echo "@@WORKLOAD start uptime=$T0 kernel=$(uname -r)"
rm -rf nfwork kept
t mkdir_scratch mkdir nfwork kept
W=nfwork K=kept

# --- create / write / read back --------------------------------------------
c_create()   { : > $W/a.txt && [ -f $W/a.txt ] && [ "$(stat -c %s $W/a.txt)" = 0 ]; }
c_write()    { printf 'line one\nline two\n' > $W/a.txt; }
c_readback() { [ "$(cat $W/a.txt)" = "$(printf 'line one\nline two')" ]; }
c_append()   { echo 'line three' >> $W/a.txt && [ "$(wc -l < $W/a.txt)" -eq 3 ] \
                 && [ "$(tail -n1 $W/a.txt)" = 'line three' ]; }
c_overwrite(){ echo short > $W/a.txt && [ "$(cat $W/a.txt)" = short ] \
                 && [ "$(stat -c %s $W/a.txt)" = 6 ]; }
c_excl()     { ! (set -C; : > $W/a.txt) 2>/dev/null; }
t create        c_create
t write         c_write
t read_back     c_readback
t append        c_append
t overwrite_trunc c_overwrite
t create_excl_eexist c_excl

# --- rename -------------------------------------------------------------------
c_ren_same() { echo ren > $W/r1 && mv $W/r1 $W/r2 && [ ! -e $W/r1 ] && [ "$(cat $W/r2)" = ren ]; }
c_ren_cross(){ mkdir -p $W/d1 $W/d2 && echo cross > $W/d1/x && mv $W/d1/x $W/d2/y \
                 && [ ! -e $W/d1/x ] && [ "$(cat $W/d2/y)" = cross ]; }
c_ren_over() { echo old > $W/o1 && echo new > $W/o2 && mv -f $W/o2 $W/o1 \
                 && [ ! -e $W/o2 ] && [ "$(cat $W/o1)" = new ]; }
c_ren_dir()  { mkdir -p $W/d1/sub/inner && echo deep > $W/d1/sub/inner/f \
                 && mv $W/d1/sub $W/d2/sub2 && [ ! -e $W/d1/sub ] \
                 && [ "$(cat $W/d2/sub2/inner/f)" = deep ]; }
c_ren_open() { echo openren > $W/or1 && exec 4<$W/or1 && mv $W/or1 $W/d2/or2 \
                 && [ "$(cat <&4)" = openren ]; r=$?; exec 4<&-; return $r; }
t rename_same_dir   c_ren_same
t rename_cross_dir  c_ren_cross
t rename_replace    c_ren_over
t rename_dir_cross  c_ren_dir
t rename_open_file  c_ren_open

# --- hard links ----------------------------------------------------------------
c_link()     { echo linked > $W/h1 && ln $W/h1 $W/h2 && [ "$(stat -c %h $W/h1)" = 2 ] \
                 && [ "$(stat -c %h $W/h2)" = 2 ]; }
c_link_ino() { [ "$(stat -c %i $W/h1)" = "$(stat -c %i $W/h2)" ]; }
c_link_data(){ echo more >> $W/h2 && [ "$(tail -n1 $W/h1)" = more ]; }
c_link_rm()  { rm $W/h1 && [ "$(stat -c %h $W/h2)" = 1 ] && [ "$(head -n1 $W/h2)" = linked ]; }
t hardlink_nlink2   c_link
t hardlink_same_ino c_link_ino
t hardlink_shared_data c_link_data
t hardlink_unlink_one  c_link_rm

# --- symlinks --------------------------------------------------------------------
c_sym()      { echo target > $W/st && ln -s st $W/sl && [ -L $W/sl ] \
                 && [ "$(readlink $W/sl)" = st ] && [ "$(cat $W/sl)" = target ]; }
c_sym_dang() { ln -s does/not/exist $W/dang && [ -L $W/dang ] && [ ! -e $W/dang ] \
                 && [ "$(readlink $W/dang)" = does/not/exist ]; }
c_sym_dir()  { ln -s d2 $W/dl && [ "$(cat $W/dl/y)" = cross ]; }
c_sym_long() { p=$(printf '%0200d' 0 | tr 0 p); ln -s "$p" $W/longsl && [ "$(readlink $W/longsl)" = "$p" ]; }
t symlink_readlink  c_sym
t symlink_dangling  c_sym_dang
t symlink_to_dir    c_sym_dir
t symlink_200_chars c_sym_long

# --- chmod --------------------------------------------------------------------------
c_chmod()    { : > $W/m && chmod 640 $W/m && [ "$(stat -c %a $W/m)" = 640 ] \
                 && chmod 755 $W/m && [ "$(stat -c %a $W/m)" = 755 ] \
                 && chmod 4711 $W/m && [ "$(stat -c %a $W/m)" = 4711 ]; }
c_chmod_dir(){ mkdir $W/md && chmod 700 $W/md && [ "$(stat -c %a $W/md)" = 700 ]; }
c_mkdir_mode(){ mkdir -m 751 $W/md2 && [ "$(stat -c %a $W/md2)" = 751 ]; }
c_utime()    { touch -d '2001-02-03 04:05:06' $W/m && [ "$(date -r $W/m '+%Y-%m-%d %H:%M:%S')" = '2001-02-03 04:05:06' ]; }
t chmod_file   c_chmod
t chmod_dir    c_chmod_dir
t mkdir_mode   c_mkdir_mode
t utime_set    c_utime

# --- truncate -------------------------------------------------------------------------
c_tr_shrink(){ dd if=/dev/urandom of=/tmp/tr.src bs=1000 count=100 2>/dev/null \
                 && cp /tmp/tr.src $W/tr && truncate -s 1000 $W/tr \
                 && [ "$(stat -c %s $W/tr)" = 1000 ] \
                 && [ "$(head -c 1000 /tmp/tr.src | md5sum | cut -d' ' -f1)" = "$(md5sum < $W/tr | cut -d' ' -f1)" ]; }
c_tr_extend(){ truncate -s 50000 $W/tr && [ "$(stat -c %s $W/tr)" = 50000 ] \
                 && [ "$(tail -c 49000 $W/tr | tr -d '\000' | wc -c)" -eq 0 ] \
                 && [ "$(head -c 1000 /tmp/tr.src | md5sum | cut -d' ' -f1)" = "$(head -c 1000 $W/tr | md5sum | cut -d' ' -f1)" ]; }
c_tr_zero()  { truncate -s 0 $W/tr && [ "$(stat -c %s $W/tr)" = 0 ] && [ -z "$(cat $W/tr)" ]; }
c_tr_sparse(){ dd if=/dev/zero of=$W/sp bs=1 count=1 seek=10485759 2>/dev/null \
                 && [ "$(stat -c %s $W/sp)" = 10485760 ]; }
t truncate_shrink  c_tr_shrink
t truncate_extend_zeros c_tr_extend
t truncate_zero    c_tr_zero
t write_past_eof_10M c_tr_sparse
rm -f /tmp/tr.src $W/sp

# --- a directory of 1,000 entries ---------------------------------------------------------
# Names are ~200 bytes so the listing needs several Treaddir round trips
# (about 220 KB of dirents: more than one 64 KiB reply, close to 256 KiB).
pad=$(printf '%0190d' 0 | tr 0 n)
seq -w 0 999 | sed "s/^/e/; s/\$/-$pad/" | sort > /tmp/names.want
c_many_create() { mkdir $K/many && for i in $(seq -w 0 999); do : > "$K/many/e$i-$pad" || return 1; done; }
# The shell glob reads the directory only (Treaddir, no per-entry stat).
c_many_count()  { set -- $K/many/*; [ $# -eq 1000 ]; }
c_many_names()  { for n in $K/many/*; do echo "${n##*/}"; done | sort > /tmp/names.got \
                    && cmp -s /tmp/names.want /tmp/names.got; }
c_many_dots()   { for n in $K/many/.*; do echo "${n##*/}"; done | sort | tr '\n' ' ' | grep -qx '\. \.\. '; }
# ls -l stats every entry (walk + getattr each).
c_many_lsl()    { [ "$(ls -l $K/many | grep -c '^-rw')" -eq 1000 ]; }
t dir1000_create      c_many_create
t dir1000_count       c_many_count
t dir1000_names       c_many_names
t dir1000_dot_entries c_many_dots
t dir1000_stat_all    c_many_lsl
[ -f /tmp/names.got ] && ! cmp -s /tmp/names.want /tmp/names.got && {
  echo "--- first differences (want vs got)"; diff /tmp/names.want /tmp/names.got | head -5; }

# --- locks (nf-probe) ---------------------------------------------------------------------------
if command -v nf-probe >/dev/null 2>&1; then
  L=$W/lockf; : > $L
  rm -f /tmp/rdy; nf-probe flock $L ex nb 2500 /tmp/rdy > /tmp/holder.out & hp=$!
  c_fl_holder()  { waitfor /tmp/rdy; }
  c_fl_ex_nb()   { nf-probe flock $L ex nb 0 >/dev/null; [ $? = 11 ]; }
  c_fl_sh_nb()   { nf-probe flock $L sh nb 0 >/dev/null; [ $? = 11 ]; }
  c_fl_wait()    { o=$(nf-probe flock $L ex wait 0) && w=${o#*waited_ms=} && [ "$w" -ge 300 ]; }
  c_fl_release() { wait $hp && nf-probe flock $L ex nb 0 >/dev/null; }
  t flock_ex_acquire       c_fl_holder
  t flock_ex_blocks_ex_nb  c_fl_ex_nb
  t flock_ex_blocks_sh_nb  c_fl_sh_nb
  t flock_wait_until_released c_fl_wait
  t flock_free_after_exit  c_fl_release
  rm -f /tmp/rdy; nf-probe flock $L sh nb 2000 /tmp/rdy >/dev/null & hp=$!
  c_fl_shared()  { waitfor /tmp/rdy && nf-probe flock $L sh nb 0 >/dev/null; }
  c_fl_sh_ex()   { nf-probe flock $L ex nb 0 >/dev/null; [ $? = 11 ]; }
  t flock_sh_shares_sh     c_fl_shared
  t flock_sh_blocks_ex_nb  c_fl_sh_ex
  wait $hp

  # F_GETLK with no lock anywhere: the kernel finds no local conflict and
  # asks the server (Tgetlock, type UNLCK); the answer must be "unlocked".
  c_gl_none()    { [ "$(nf-probe getlk $L wr 0 0)" = unlocked ]; }
  t fcntl_getlk_unlocked   c_gl_none
  rm -f /tmp/rdy; nf-probe fcntl $L wr nb 0 100 2500 /tmp/rdy >/dev/null & hp=$!
  c_fc_holder()  { waitfor /tmp/rdy; }
  c_fc_overlap() { nf-probe fcntl $L wr nb 50 10 0 >/dev/null; [ $? = 11 ]; }
  c_fc_rd_over() { nf-probe fcntl $L rd nb 0 1 0 >/dev/null; [ $? = 11 ]; }
  c_fc_disjoint(){ nf-probe fcntl $L wr nb 200 100 0 >/dev/null; }
  c_fc_getlk()   { nf-probe getlk $L wr 0 0 | grep -q "^locked type=wr start=0 len=100 pid=$hp\$"; }
  c_fc_wait()    { o=$(nf-probe fcntl $L wr wait 0 100 0) && w=${o#*waited_ms=} && [ "$w" -ge 300 ]; }
  c_fc_release() { wait $hp && nf-probe fcntl $L wr nb 0 0 0 >/dev/null; }
  t fcntl_wrlck_acquire    c_fc_holder
  t fcntl_overlap_eagain   c_fc_overlap
  t fcntl_rdlck_vs_wr_eagain c_fc_rd_over
  t fcntl_disjoint_range_ok c_fc_disjoint
  t fcntl_getlk_reports_holder c_fc_getlk
  t fcntl_setlkw_waits     c_fc_wait
  t fcntl_free_after_exit  c_fc_release
  rm -f /tmp/rdy; nf-probe fcntl $L rd nb 0 0 1500 /tmp/rdy >/dev/null & hp=$!
  c_fc_rdrd()    { waitfor /tmp/rdy && nf-probe fcntl $L rd nb 0 0 0 >/dev/null; }
  c_fc_rdwr()    { nf-probe fcntl $L wr nb 0 0 0 >/dev/null; [ $? = 11 ]; }
  t fcntl_rdlck_shared     c_fc_rdrd
  t fcntl_rdlck_blocks_wr  c_fc_rdwr
  wait $hp

  # Locks between two connections: a second mount of the same server is a
  # second 9P connection (another superblock, so another inode), so the
  # kernel cannot settle these conflicts locally; the server must answer
  # Tlock with BLOCKED and Tgetlock with the other owner's lock.
  # locktimeout=1: a blocked F_SETLKW re-polls the server every second.
  set -- $(grep " $MNT 9p " /proc/mounts)
  M2=/tmp/m2; mkdir -p $M2
  if [ -n "$4" ] && mount -t 9p -o "$4,locktimeout=1" "$1" $M2 2>/tmp/m2.err; then
    X=$W/xlock; X2=$M2/$W/xlock; : > $X
    rm -f /tmp/rdy; nf-probe fcntl $X wr nb 0 100 3000 /tmp/rdy >/dev/null & hp=$!
    c_x_holder()   { waitfor /tmp/rdy; }
    c_x_overlap()  { nf-probe fcntl $X2 wr nb 50 10 0 >/dev/null; [ $? = 11 ]; }
    c_x_rd()       { nf-probe fcntl $X2 rd nb 0 1 0 >/dev/null; [ $? = 11 ]; }
    c_x_disjoint() { nf-probe fcntl $X2 wr nb 200 100 0 >/dev/null; }
    c_x_getlk()    { nf-probe getlk $X2 wr 0 0 | grep -q '^locked type=wr start=0 len=100 '; }
    c_x_getlk_no() { [ "$(nf-probe getlk $X2 wr 100 50)" = unlocked ]; }
    c_x_wait()     { o=$(nf-probe fcntl $X2 wr wait 0 100 0) && w=${o#*waited_ms=} && [ "$w" -ge 300 ]; }
    t xconn_fcntl_holder        c_x_holder
    t xconn_fcntl_overlap_eagain c_x_overlap
    t xconn_fcntl_rd_vs_wr_eagain c_x_rd
    t xconn_fcntl_disjoint_ok   c_x_disjoint
    t xconn_getlk_reports_other c_x_getlk
    t xconn_getlk_free_range    c_x_getlk_no
    t xconn_setlkw_polls_until_free c_x_wait
    wait $hp
    c_x_free()     { nf-probe fcntl $X2 wr nb 0 0 0 >/dev/null; }
    t xconn_fcntl_free_after_close c_x_free
    rm -f /tmp/rdy; nf-probe flock $X ex nb 2000 /tmp/rdy >/dev/null & hp=$!
    c_x_flock()    { waitfor /tmp/rdy && { nf-probe flock $X2 ex nb 0 >/dev/null; [ $? = 11 ]; }; }
    t xconn_flock_ex_eagain     c_x_flock
    wait $hp
    c_x_flock_free() { nf-probe flock $X2 ex nb 0 >/dev/null; }
    t xconn_flock_free_after_close c_x_flock_free
    umount $M2 || echo "umount $M2 failed"
  else
    echo "FAIL xconn_locks (second mount failed: $(cat /tmp/m2.err))"; f=$((f+1))
  fi
elif [ "${NF_ALLOW_NO_PROBE:-0}" = 1 ]; then
  s flock "no nf-probe in guest"; s fcntl "no nf-probe in guest"
else
  echo "FAIL locks (no nf-probe in the guest)"; f=$((f+1))
fi

# --- unlink of an open file -------------------------------------------------------------------------
c_unl_sh()   { echo 'still here' > $W/u && exec 3<$W/u && rm $W/u && [ ! -e $W/u ] \
                 && [ "$(cat <&3)" = 'still here' ]; r=$?; exec 3<&-; return $r; }
c_unl_big()  { dd if=/dev/urandom of=/tmp/u.src bs=64k count=8 2>/dev/null && cp /tmp/u.src $W/ub \
                 && exec 3<$W/ub && rm $W/ub \
                 && [ "$(md5sum <&3 | cut -d' ' -f1)" = "$(md5sum < /tmp/u.src | cut -d' ' -f1)" ]; \
               r=$?; exec 3<&-; rm -f /tmp/u.src; return $r; }
t unlink_open_read       c_unl_sh
t unlink_open_read_512k  c_unl_big
if command -v nf-probe >/dev/null 2>&1; then
  nf-probe unlinked $W/unl > /tmp/unl.out; r=$?
  cat /tmp/unl.out
  ok=$((ok + $(grep -c '^OK' /tmp/unl.out))); f=$((f + $(grep -c '^FAIL' /tmp/unl.out)))
  [ $r = 0 ] || [ "$(grep -c '^FAIL' /tmp/unl.out)" -gt 0 ] || { echo "FAIL unlinked_fd_probe (rc=$r)"; f=$((f+1)); }
elif [ "${NF_ALLOW_NO_PROBE:-0}" = 1 ]; then
  s unlinked_fd "no nf-probe in guest"
else
  echo "FAIL unlinked_fd (no nf-probe in the guest)"; f=$((f+1))
fi

# --- 50 MB through dd ------------------------------------------------------------------------------
# Source in guest RAM (/tmp is tmpfs), copied into the mount, read back after
# dropping the page cache; md5 (cheaper than sha256 under emulation).
s0=$(up)
dd if=/dev/urandom of=/tmp/big.src bs=1M count=50 2>/dev/null
want=$(md5sum < /tmp/big.src | cut -d' ' -f1)
echo "@@T dd50_urandom_to_tmp+md5 $(el $s0)"
t dd50_write      dd if=/tmp/big.src of=$K/big.bin bs=1M conv=fsync 2>/dev/null
t dd50_size       [ "$(stat -c %s $K/big.bin)" = 52428800 ]
c_drop()     { sync && echo 3 > /proc/sys/vm/drop_caches; }
t sync_drop_caches c_drop
c_dd_read()  { got=$(dd if=$K/big.bin bs=1M 2>/dev/null | md5sum | cut -d' ' -f1) && [ "$got" = "$want" ]; }
t dd50_read_md5   c_dd_read
echo "$want" > $K/big.md5
c_dd_mid()   { a=$(dd if=/tmp/big.src bs=4096 skip=3001 count=7 2>/dev/null | md5sum) \
                 && b=$(dd if=$K/big.bin bs=4096 skip=3001 count=7 2>/dev/null | md5sum) && [ "$a" = "$b" ]; }
c_dd_patch() { printf PATCHED | dd of=$K/big.bin bs=1 seek=1000000 conv=notrunc 2>/dev/null \
                 && [ "$(dd if=$K/big.bin bs=1 skip=1000000 count=7 2>/dev/null)" = PATCHED ] \
                 && [ "$(stat -c %s $K/big.bin)" = 52428800 ]; }
t dd50_read_middle   c_dd_mid
t dd50_patch_notrunc c_dd_patch
# (dd bs=1M: md5sum's own 4 KiB reads would be one round trip each with cache=none)
c_dd_reread(){ dd if=$K/big.bin bs=1M 2>/dev/null | md5sum | cut -d' ' -f1 > $K/big-patched.md5 && [ -s $K/big-patched.md5 ] \
                 && [ "$(cat $K/big-patched.md5)" != "$want" ]; }
t dd50_reread_patched c_dd_reread
rm -f /tmp/big.src

# --- mkdir -p deep trees / rm -rf ---------------------------------------------------------------------
deep=$(seq 1 25 | sed 's/^/lvl/' | tr '\n' / | sed 's,/$,,')
c_deep()     { mkdir -p $W/deep/$deep && [ -d $W/deep/$deep ] && echo bottom > $W/deep/$deep/leaf \
                 && [ "$(cat $W/deep/$deep/leaf)" = bottom ]; }
c_wide()     { for a in 1 2 3 4; do for b in 1 2 3 4; do mkdir -p $W/tree/a$a/b$b/c/d || return 1; \
                 echo $a$b > $W/tree/a$a/b$b/c/d/f; done; done \
                 && [ "$(find $W/tree -type d | wc -l)" -eq $((1 + 4 + 16*3)) ] \
                 && [ "$(find $W/tree -type f | wc -l)" -eq 16 ]; }
c_mkdir_p_again() { mkdir -p $W/deep/$deep; }
c_rmdir_nonempty(){ ! rmdir $W/tree 2>/dev/null && [ -d $W/tree ]; }
c_rmrf_deep(){ rm -rf $W/deep && [ ! -e $W/deep ]; }
c_rmrf_tree(){ rm -rf $W/tree && [ ! -e $W/tree ]; }
t mkdir_p_deep25    c_deep
t mkdir_p_existing  c_mkdir_p_again
t mkdir_p_wide_tree c_wide
t rmdir_nonempty_fails c_rmdir_nonempty
t rm_rf_deep        c_rmrf_deep
t rm_rf_tree        c_rmrf_tree
# kept for the host: a 12-level path with a leaf, and a directory that was removed
mkdir -p $K/deep/1/2/3/4/5/6/7/8/9/10/11/12 && echo leaf > $K/deep/1/2/3/4/5/6/7/8/9/10/11/12/leaf
mkdir -p $K/removed/x/y && echo z > $K/removed/x/y/z && rm -rf $K/removed

# --- what the host checks (passthrough): kept/ ------------------------------------------------------
c_kept() {
  printf 'hello from the guest\n' > $K/orig.txt && mv $K/orig.txt $K/hello.txt &&
  mkdir $K/sub1 $K/sub2 && echo moved > $K/sub1/m && mv $K/sub1/m $K/sub2/moved.txt &&
  ln $K/hello.txt $K/hard.txt && ln -s hello.txt $K/sym &&
  : > $K/mode640 && chmod 640 $K/mode640 &&
  printf 'abcdefghij' > $K/trunc && truncate -s 4 $K/trunc && truncate -s 8192 $K/trunc
}
t kept_setup c_kept

# --- misc ---------------------------------------------------------------------------------------------
t statfs     sh -c 'df . >/dev/null && [ "$(stat -f -c %b .)" -gt 0 ]'
t fsync_sync sh -c 'echo x > nfwork/fs && sync && [ -s nfwork/fs ]'
c_rm_all()   { rm -rf $W && [ ! -e $W ]; }
t rm_rf_scratch c_rm_all
echo "--- ls -la"; ls -la . | head -20

echo "@@T workload_total $(el $T0)"
echo "@@SUMMARY ok=$ok fail=$f skip=$skip"
echo "$ok $f $skip" > $K/RESULT
[ $f -gt 80 ] && f=80
exit $f
