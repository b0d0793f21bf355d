# lib.sh — shared helpers for the kernel suites. Runs INSIDE the qemu guest
# (busybox sh), cwd = the 9P mount. scripts/kernel-suites.sh builds each
# guest script as: variable assignments + this file + one suite file, and
# boots it with scripts/qemu-guest.sh.
#
# Output protocol (parsed by kernel-suites.sh):
#   "OK   name (1.23s)" / "FAIL name (rc=N, 1.23s)"   one line per check
#   "@@SUITE name PASS|FAIL seconds ok=N fail=N"      last line of a suite
# The guest exits with the number of failed checks (capped at 80, so it
# never collides with qemu-guest.sh's own codes 90/91/124).
MNT=${MNT:-/mnt}
cd "$MNT" || exit 1
n_ok=0; n_fail=0
# centiseconds since boot, without forking
cs() { read -r u _ < /proc/uptime; CS=$(( ${u%.*}${u#*.} )); }
fmt_cs() { echo "$(( $1 / 100 )).$(( $1 % 100 / 10 ))$(( $1 % 10 ))"; }
cs; SUITE_T0=$CS
# check NAME CMD...: run CMD, print OK/FAIL with its duration
check() {
  c_name=$1; shift; cs; c_t=$CS
  if "$@"; then c_r=0; else c_r=$?; fi
  cs; c_d=$(fmt_cs $((CS - c_t)))
  if [ $c_r = 0 ]; then echo "OK   $c_name (${c_d}s)"; n_ok=$((n_ok+1))
  else echo "FAIL $c_name (rc=$c_r, ${c_d}s)"; n_fail=$((n_fail+1)); fi
  return $c_r
}
# md5 of a file or of stdin, digest only
md5() { if [ $# -gt 0 ]; then md5sum < "$1"; else md5sum; fi | cut -d' ' -f1; }
# suite_end: summary line and exit status
suite_end() {
  cs; s_d=$(fmt_cs $((CS - SUITE_T0)))
  if [ $n_fail = 0 ]; then s_st=PASS; else s_st=FAIL; fi
  echo "@@SUITE $SUITE $s_st $s_d ok=$n_ok fail=$n_fail"
  [ $n_fail -gt 80 ] && n_fail=80
  exit $n_fail
}
