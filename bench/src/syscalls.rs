//! `ninefold-bench syscalls`: what the passthrough server's own system
//! calls cost by themselves, in a tight loop on one cached file, so a
//! depth-1 row's gap to the echo limit can be split into the host
//! filesystem's share and the server's.
//!
//! Each call is made the way the passthrough server makes it for the
//! small rows: `statx` of an `O_PATH` descriptor with an empty path
//! (Tgetattr), `statx` of a name in a directory (a walk to a name another
//! fid holds), `openat(O_PATH)` and `close` (a walk that opens the name,
//! and the clunk that closes it), and `preadv2` of 4 KiB with
//! `RWF_NOWAIT` (Tread of cached data). `getppid` is the floor: the cost
//! of entering and leaving the kernel at all.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
use rustix::io::ReadWriteFlags;

use crate::error::BenchError;

/// One measured call.
#[derive(Debug, Clone)]
pub struct SyscallCost {
    /// What was called, as the server calls it.
    pub name: &'static str,
    /// Calls made.
    pub calls: u64,
    /// Mean wall time per call, nanoseconds.
    pub mean_ns: f64,
}

/// Size of the scratch file (and so of what stays cached).
const FILE_SIZE: usize = 64 * 1024;

/// Bytes per read, as in the `read-4k` row.
const READ_SIZE: usize = 4096;

/// Runs each call in a loop for `duration` on a scratch file in `dir`
/// (removed before returning).
pub fn measure(dir: &Path, duration: Duration) -> Result<Vec<SyscallCost>, BenchError> {
    if duration.is_zero() {
        return Err(BenchError::Usage("need a duration above 0".into()));
    }
    let name = format!("ninefold-bench-syscalls.{}", std::process::id());
    let path = dir.join(&name);
    let result = run(dir, &path, &name, duration);
    let _ = std::fs::remove_file(&path);
    result
}

fn run(
    dir: &Path,
    path: &Path,
    name: &str,
    duration: Duration,
) -> Result<Vec<SyscallCost>, BenchError> {
    let mut f = File::create(path)?;
    f.write_all(&vec![0x5a; FILE_SIZE])?;
    f.sync_all()?;
    drop(f);
    let io = |e: rustix::io::Errno| BenchError::Io(e.into());
    let dirfd: OwnedFd =
        rustix::fs::open(dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(io)?;
    let pathfd: OwnedFd =
        rustix::fs::open(path, OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(io)?;
    let file: OwnedFd =
        rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).map_err(io)?;
    let mask = StatxFlags::BASIC_STATS | StatxFlags::BTIME;
    let mut buf = vec![0u8; READ_SIZE];
    // Cache the data before timing.
    rustix::io::pread(&file, &mut buf, 0).map_err(io)?;

    let mut out = Vec::new();
    out.push(timed("getppid (floor)", duration, || {
        std::hint::black_box(rustix::process::getppid());
        Ok(())
    })?);
    out.push(timed("statx(fd, \"\") (getattr)", duration, || {
        rustix::fs::statx(pathfd.as_fd(), "", AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW, mask)
            .map(drop)
            .map_err(io)
    })?);
    out.push(timed("statx(dir, name) (walk, name held)", duration, || {
        rustix::fs::statx(dirfd.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW, mask)
            .map(drop)
            .map_err(io)
    })?);
    out.push(timed("openat(O_PATH) + close (walk + clunk)", duration, || {
        let fd = rustix::fs::openat(
            dirfd.as_fd(),
            name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        drop(fd);
        Ok(())
    })?);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    out.push(timed("preadv2 4 KiB RWF_NOWAIT (read-4k)", duration, || {
        let n =
            rustix::io::preadv2(file.as_fd(), &mut iov, 0, ReadWriteFlags::NOWAIT).map_err(io)?;
        if n == READ_SIZE {
            Ok(())
        } else {
            Err(BenchError::Usage(format!("short read of the scratch file: {n} bytes")))
        }
    })?);
    Ok(out)
}

/// Calls `f` in batches until `duration` has passed.
fn timed(
    name: &'static str,
    duration: Duration,
    mut f: impl FnMut() -> Result<(), BenchError>,
) -> Result<SyscallCost, BenchError> {
    const BATCH: u64 = 256;
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < duration {
        for _ in 0..BATCH {
            f()?;
        }
        calls += BATCH;
    }
    let ns = start.elapsed().as_nanos() as f64;
    Ok(SyscallCost { name, calls, mean_ns: ns / calls as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_measured_and_the_scratch_file_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let got = measure(dir.path(), Duration::from_millis(5)).expect("measure");
        assert_eq!(got.len(), 5);
        for c in &got {
            assert!(c.calls >= 256, "{c:?}");
            assert!(c.mean_ns > 0.0, "{c:?}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("read_dir").count(), 0);
    }

    #[test]
    fn a_zero_duration_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(measure(dir.path(), Duration::ZERO).is_err());
    }
}
