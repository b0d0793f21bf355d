# concurrent.sh — suite body (after lib.sh). Several guest processes write
# at the same time, each its own part of the data, and the result is read
# back and compared:
#   regions   W writers, each a contiguous REGION-byte range of shared.bin,
#             written with dd bs=4k (many Twrites each, interleaved)
#   stripes   W writers, 16 KiB stripes of striped.bin round-robin
#             (writer i owns stripes i, i+W, i+2W, ...), one dd per stripe
#   files     W writers, each its own file sep.I.bin (dd bs=8k)
#   appends   W writers appending fixed 64-byte records with O_APPEND
# Sources are random data in guest RAM (/tmp). Expected digests are left
# in concurrent/expect.* for the host to check the export directory.
# Variables set by kernel-suites.sh: SUITE, W (writers), REGION (bytes,
# a multiple of 4096), STRIPES (stripes per writer), RECORDS (per writer).
D=concurrent
rm -rf $D; mkdir $D
i=0; while [ $i -lt $W ]; do
  dd if=/dev/urandom of=/tmp/src.$i bs=4096 count=$((REGION / 4096)) 2>/dev/null
  i=$((i+1)); done

# --- regions of one file ----------------------------------------------------
c_regions_write() {
  pids=""; i=0
  while [ $i -lt $W ]; do
    dd if=/tmp/src.$i of=$D/shared.bin bs=4k seek=$((i * REGION / 4096)) conv=notrunc 2>/dev/null & pids="$pids $!"
    i=$((i+1)); done
  r=0; for p in $pids; do wait $p || r=1; done; return $r
}
c_regions_verify() {
  [ "$(stat -c %s $D/shared.bin)" = $((W * REGION)) ] || { echo "    size $(stat -c %s $D/shared.bin)"; return 1; }
  i=0; : > $D/expect.regions
  while [ $i -lt $W ]; do
    want=$(md5 /tmp/src.$i)
    got=$(dd if=$D/shared.bin bs=4k skip=$((i * REGION / 4096)) count=$((REGION / 4096)) 2>/dev/null | md5)
    [ "$want" = "$got" ] || { echo "    region $i differs"; return 1; }
    echo "$((i * REGION)) $REGION $want" >> $D/expect.regions
    i=$((i+1)); done
}
check regions_parallel_write c_regions_write
check regions_verify c_regions_verify

# --- interleaved stripes of one file ---------------------------------------------
SB=16384
stripe_writer() {  # stripe_writer I: stripes I, I+W, ... from /tmp/src.I
  k=0; while [ $k -lt $STRIPES ]; do
    dd if=/tmp/src.$1 of=$D/striped.bin bs=$SB skip=$k seek=$((k * W + $1)) count=1 conv=notrunc 2>/dev/null || return 1
    k=$((k+1)); done
}
c_stripes_write() {
  pids=""; i=0
  while [ $i -lt $W ]; do stripe_writer $i & pids="$pids $!"; i=$((i+1)); done
  r=0; for p in $pids; do wait $p || r=1; done; return $r
}
c_stripes_verify() {
  [ "$(stat -c %s $D/striped.bin)" = $((W * STRIPES * SB)) ] || { echo "    size $(stat -c %s $D/striped.bin)"; return 1; }
  # rebuild the expected file in RAM from the sources
  k=0; : > /tmp/striped.want
  while [ $k -lt $STRIPES ]; do
    i=0; while [ $i -lt $W ]; do
      dd if=/tmp/src.$i bs=$SB skip=$k count=1 2>/dev/null >> /tmp/striped.want; i=$((i+1)); done
    k=$((k+1)); done
  md5 /tmp/striped.want > $D/expect.striped
  cmp /tmp/striped.want $D/striped.bin
}
check stripes_parallel_write c_stripes_write
check stripes_verify c_stripes_verify

# --- separate files ----------------------------------------------------------------
c_files_write() {
  pids=""; i=0
  while [ $i -lt $W ]; do dd if=/tmp/src.$i of=$D/sep.$i.bin bs=8k 2>/dev/null & pids="$pids $!"; i=$((i+1)); done
  r=0; for p in $pids; do wait $p || r=1; done; return $r
}
c_files_verify() {
  sync; echo 3 > /proc/sys/vm/drop_caches
  : > $D/expect.files; i=0
  while [ $i -lt $W ]; do
    want=$(md5 /tmp/src.$i)
    [ "$(md5 $D/sep.$i.bin)" = "$want" ] || { echo "    sep.$i.bin differs"; return 1; }
    echo "$want  sep.$i.bin" >> $D/expect.files; i=$((i+1)); done
}
check files_parallel_write c_files_write
check files_verify c_files_verify

# --- O_APPEND records ----------------------------------------------------------------
appender() {  # appender I: RECORDS records of exactly 64 bytes (63 + newline)
  k=0; while [ $k -lt $RECORDS ]; do
    printf 'writer %02d record %05d %040d\n' $1 $k 0 >> $D/append.log || return 1
    k=$((k+1)); done
}
c_append_write() {
  : > $D/append.log; pids=""; i=0
  while [ $i -lt $W ]; do appender $i & pids="$pids $!"; i=$((i+1)); done
  r=0; for p in $pids; do wait $p || r=1; done; return $r
}
c_append_verify() {
  [ "$(stat -c %s $D/append.log)" = $((W * RECORDS * 64)) ] || { echo "    size $(stat -c %s $D/append.log), want $((W * RECORDS * 64))"; return 1; }
  # every record whole and each writer's records in its own order
  [ "$(grep -c '^writer [0-9][0-9] record [0-9]\{5\} 0\{40\}$' $D/append.log)" = $((W * RECORDS)) ] || return 1
  i=0; while [ $i -lt $W ]; do
    [ "$(grep "^writer $(printf %02d $i) " $D/append.log | cut -d' ' -f4 | sort -c && echo sorted)" = sorted ] || return 1
    [ "$(grep -c "^writer $(printf %02d $i) " $D/append.log)" = $RECORDS ] || return 1
    i=$((i+1)); done
}
check append_parallel c_append_write
check append_verify c_append_verify
rm -f /tmp/src.* /tmp/striped.want
suite_end
