# Runs inside the qemu guest (busybox sh), cwd = the 9P mount; started by
# scripts/kernel-pjdfstest.sh. scripts/qemu-guest.sh puts the config at
# /nf/pjdfstest.toml (outside the guest's /tmp, which is a fresh tmpfs) and
# the host's users in /etc. Prints "PJD-FAILED <test>" per failure, the
# details and pjdfstest's Summary line; exits with pjdfstest's status. While
# it runs, a "@@PJD" progress line every 60 s (how many tests have reported)
# shows on the serial console, so a run that times out says how far it got.
dir=/mnt/pjd.$$
mkdir -p "$dir"
[ -f /nf/pjdfstest.toml ] || { echo "no /nf/pjdfstest.toml in the guest"; exit 1; }
pjdfstest -c /nf/pjdfstest.toml -p "$dir" > /tmp/pjd.log 2>&1 &
pid=$!
n=0
while kill -0 $pid 2>/dev/null; do
  sleep 1
  n=$((n + 1))
  [ $((n % 60)) = 0 ] && echo "@@PJD ${n}s: $(grep -c -E '(ok|FAILED|skipped)' /tmp/pjd.log) tests reported"
done
wait $pid
rc=$?
grep -E 'FAILED$' /tmp/pjd.log | awk '{print "PJD-FAILED", $1}'
grep -B0 -A4 -E 'FAILED$' /tmp/pjd.log | head -200
grep '^Summary' /tmp/pjd.log
rm -rf "$dir"
exit $rc
