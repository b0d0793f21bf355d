# Runs inside the qemu guest (busybox sh), cwd = the 9P mount. The config
# path is substituted by scripts/kernel-pjdfstest.sh (the guest's /tmp is a
# fresh tmpfs, so the config travels at its host path).
dir=/mnt/pjd.$$
mkdir -p "$dir"
pjdfstest -c @CONFIG@ -p "$dir" > /tmp/pjd.log 2>&1
rc=$?
grep -E 'FAILED$' /tmp/pjd.log | awk '{print "PJD-FAILED", $1}'
grep -B0 -A4 -E 'FAILED$' /tmp/pjd.log | head -200
grep '^Summary' /tmp/pjd.log
rm -rf "$dir"
exit $rc
