//! `ninefold-bench placement`: how fast the kernel copies cached file data
//! into a buffer, by where the buffer starts within a 4 KiB page.
//!
//! The server's large read buffers, frame buffers and memfs chunks are
//! placed by `ninefold_server::bufpool` because of what this measures: on
//! the benchmark host (AMD EPYC, kernel 6.18), a `pread` of page-cache
//! data into a destination 1–31 bytes past a page start ran ~8× slower
//! than into one at 0 or 32 and beyond. Run it on another machine to see
//! whether the effect (and the placement) matters there.
//!
//! A scratch file of `file_size` bytes is written in `dir` and read back
//! whole before timing (so every read is served from the page cache), then
//! for each page offset the same reads of `read_size` bytes run for
//! `duration` into a buffer starting that many bytes past a page start.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::BenchError;

/// Page size the offsets are taken within.
const PAGE: usize = 4096;

/// One measured page offset.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// Bytes past the start of a page where the destination begins.
    pub offset: usize,
    /// Throughput of the reads, MB/s (10^6 bytes per second).
    pub mb_per_s: f64,
}

/// Measures `pread`s of `read_size` bytes of a cached `file_size`-byte
/// scratch file in `dir` into a buffer at each of `offsets` (bytes past a
/// page start, each below 4096), for `duration` each. The scratch file is
/// removed before returning.
pub fn measure(
    dir: &Path,
    file_size: usize,
    read_size: usize,
    offsets: &[usize],
    duration: Duration,
) -> Result<Vec<Placement>, BenchError> {
    if read_size == 0 || file_size < read_size {
        return Err(BenchError::Usage("need 0 < read size <= file size".into()));
    }
    if let Some(bad) = offsets.iter().find(|&&o| o >= PAGE) {
        return Err(BenchError::Usage(format!("page offset {bad} is not below {PAGE}")));
    }
    let path = dir.join(format!("ninefold-bench-placement.{}", std::process::id()));
    let result = run(&path, file_size, read_size, offsets, duration);
    let _ = std::fs::remove_file(&path);
    result
}

fn run(
    path: &Path,
    file_size: usize,
    read_size: usize,
    offsets: &[usize],
    duration: Duration,
) -> Result<Vec<Placement>, BenchError> {
    let io = |what: &str, e: std::io::Error| {
        BenchError::Scratch(format!("{what} of scratch file {}", path.display()), e)
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io("create", e))?;
    let block: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut left = file_size;
    while left > 0 {
        let n = left.min(block.len());
        file.write_all(&block[..n]).map_err(|e| io("write", e))?;
        left -= n;
    }
    // One buffer, page-aligned by hand, with room for the largest offset.
    let mut buf = vec![0u8; read_size + 2 * PAGE];
    let base = (PAGE - buf.as_ptr() as usize % PAGE) % PAGE;
    let blocks = (file_size / read_size) as u64;
    // Warm the page cache (and the buffer) once.
    for b in 0..blocks {
        read_full(&file, &mut buf[base..base + read_size], b * read_size as u64)
            .map_err(|e| io("read", e))?;
    }
    let mut out = Vec::with_capacity(offsets.len());
    for &offset in offsets {
        let dst = &mut buf[base + offset..base + offset + read_size];
        let start = Instant::now();
        let mut bytes = 0u64;
        let mut b = 0u64;
        while start.elapsed() < duration {
            for _ in 0..16 {
                bytes += read_full(&file, dst, (b % blocks) * read_size as u64)
                    .map_err(|e| io("read", e))? as u64;
                b += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        out.push(Placement { offset, mb_per_s: bytes as f64 / secs / 1e6 });
    }
    Ok(out)
}

fn read_full(file: &File, dst: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < dst.len() {
        match file.read_at(&mut dst[got..], at + got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_every_offset_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let got = measure(dir.path(), 1 << 20, 64 << 10, &[0, 16, 64], Duration::from_millis(20))
            .expect("measure");
        assert_eq!(got.iter().map(|p| p.offset).collect::<Vec<_>>(), vec![0, 16, 64]);
        assert!(got.iter().all(|p| p.mb_per_s > 0.0));
        assert_eq!(std::fs::read_dir(dir.path()).expect("read_dir").count(), 0);
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Duration::from_millis(1);
        assert!(matches!(measure(dir.path(), 100, 0, &[0], d), Err(BenchError::Usage(_))));
        assert!(matches!(measure(dir.path(), 100, 200, &[0], d), Err(BenchError::Usage(_))));
        assert!(matches!(measure(dir.path(), 8192, 4096, &[4096], d), Err(BenchError::Usage(_))));
    }
}
