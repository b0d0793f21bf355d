# fsx.sh — suite body (after lib.sh). fsx-rs (crates.io `fsx`): random
# read/write/truncate/fsync/fallocate/copy_file_range/... on one file,
# every read checked against an in-memory model of the contents.
# Variables set by kernel-suites.sh:
#   SUITE  suite name        SEEDS  e.g. "1 2 3"      N  operations per seed
#   FSXCONF  fsx config copied into the guest (fsx-9p.toml: mmap off, for
#            cache=none), or empty for fsx's defaults (mmap reads/writes on,
#            for cache=mmap/loose)
echo "@@FSX seeds=[$SEEDS] N=$N conf=${FSXCONF:-defaults} mount=$(grep " $MNT 9p " /proc/mounts | cut -d' ' -f4)"
run_fsx() {
  seed=$1
  if [ -n "$FSXCONF" ]; then
    fsx -q -N "$N" -S "$seed" -P /tmp -f "$FSXCONF" "fsx.$seed.dat" > /tmp/fsx.$seed.log 2>&1
  else
    fsx -q -N "$N" -S "$seed" -P /tmp "fsx.$seed.dat" > /tmp/fsx.$seed.log 2>&1
  fi
}
for seed in $SEEDS; do
  if check "fsx_seed${seed}_N$N" run_fsx "$seed"; then
    tail -1 /tmp/fsx.$seed.log | sed 's/^/    /'
  else
    echo "--- fsx seed $seed log (last 30 lines)"; tail -30 /tmp/fsx.$seed.log
  fi
  rm -f "fsx.$seed.dat"
done
suite_end
