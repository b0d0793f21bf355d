//! `ninefold-bench splice-write`: what receiving a Twrite payload from a
//! socket and putting it into a file costs the receiving thread, done the
//! way the passthrough server does it today (`read` into a buffer, then
//! `pwrite`: two copies) against the way issue 16 proposes (`splice` from
//! the socket into a pipe, which moves page references, then `splice`
//! from the pipe into the file at the offset: one copy). The ceiling of a
//! spliced Twrite path, measured before building one.
//!
//! A sender thread writes payloads of `size` bytes into a unix or tcp
//! loopback socket as fast as it can; the receiving thread takes each
//! whole payload and writes it at the next offset of a scratch file
//! (cycling over 64 MiB, so the page cache is warm as in the
//! benchmark's rows). The figure is the receiving thread's own CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) per payload, which is what the server's
//! one core pays; `receive only` (the `read`, no `pwrite`) splits the copy
//! path into its two halves.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};
use rustix::pipe::{PipeFlags, SpliceFlags};

use crate::error::BenchError;

/// The socket the payloads cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A unix stream socket pair.
    Unix,
    /// A tcp connection over loopback (`TCP_NODELAY` as the server sets).
    Tcp,
}

/// How the receiver moves a payload from the socket into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `read` into a buffer, then `pwrite` it (today's path).
    Copy,
    /// `splice` socket → pipe, then `splice` pipe → file at the offset.
    Splice,
    /// `read` into a buffer only (the first half of [`Way::Copy`]).
    ReceiveOnly,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Copy => "read + pwrite",
            Way::Splice => "splice socket→pipe→file",
            Way::ReceiveOnly => "read only (no pwrite)",
        }
    }
}

/// One measured way.
#[derive(Debug, Clone)]
pub struct WriteCost {
    /// How the payloads were moved.
    pub mode: &'static str,
    /// Payloads received.
    pub payloads: u64,
    /// The receiving thread's CPU time per payload, microseconds.
    pub cpu_us: f64,
    /// Payload bytes per second of wall time, in MB (10^6).
    pub mb_per_s: f64,
}

/// The part of the scratch file the payloads cycle over.
const FILE_SPAN: u64 = 64 << 20;

/// Measures each way in turn for `duration`, over `transport`, with
/// payloads of `size` bytes, writing into a scratch file in `dir`
/// (removed before returning). `rounds` repeats the set, ways interleaved.
pub fn measure(
    dir: &Path,
    transport: Transport,
    size: usize,
    duration: Duration,
    rounds: u32,
) -> Result<Vec<WriteCost>, BenchError> {
    if duration.is_zero() || size == 0 || size as u64 > FILE_SPAN {
        return Err(BenchError::Usage("need a duration above 0 and a size in 1..=64M".into()));
    }
    let path = dir.join(format!("ninefold-bench-splice-write.{}", std::process::id()));
    let result = (|| {
        let file: OwnedFd = rustix::fs::open(
            &path,
            OFlags::RDWR | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(io)?;
        let mut out = Vec::new();
        for _ in 0..rounds.max(1) {
            for mode in [Way::Copy, Way::Splice, Way::ReceiveOnly] {
                out.push(one(file.as_fd(), transport, mode, size, duration)?);
            }
        }
        Ok(out)
    })();
    let _ = std::fs::remove_file(&path);
    result
}

fn io(e: rustix::io::Errno) -> BenchError {
    BenchError::Io(e.into())
}

/// A connected pair: the sender's end, the receiver's end.
fn pair(transport: Transport) -> Result<(Box<dyn Write + Send>, OwnedFd), BenchError> {
    match transport {
        Transport::Unix => {
            let (a, b) = std::os::unix::net::UnixStream::pair()?;
            Ok((Box::new(a), OwnedFd::from(b)))
        }
        Transport::Tcp => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            let a = std::net::TcpStream::connect(l.local_addr()?)?;
            let (b, _) = l.accept()?;
            a.set_nodelay(true)?;
            b.set_nodelay(true)?;
            Ok((Box::new(a), OwnedFd::from(b)))
        }
    }
}

fn one(
    file: BorrowedFd<'_>,
    transport: Transport,
    mode: Way,
    size: usize,
    duration: Duration,
) -> Result<WriteCost, BenchError> {
    let (mut tx, rx) = pair(transport)?;
    let sender = std::thread::spawn(move || {
        let data = vec![0x5au8; size];
        // Ends when the receiver closes its end.
        while tx.write_all(&data).is_ok() {}
    });
    let (pr, pw) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC).map_err(io)?;
    // Room for a whole payload where the host allows it (a short fill
    // is then drained and the splice goes on).
    let _ = rustix::pipe::fcntl_setpipe_size(&pw, size.next_power_of_two().max(64 * 1024));
    let mut buf = vec![0u8; size];
    let mut rx_file = std::fs::File::from(rx);
    let cpu = || {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
    };
    let (c0, t0) = (cpu(), Instant::now());
    let mut offset = 0u64;
    let mut payloads = 0u64;
    while t0.elapsed() < duration {
        if offset + size as u64 > FILE_SPAN {
            offset = 0;
        }
        match mode {
            Way::Copy | Way::ReceiveOnly => {
                rx_file.read_exact(&mut buf)?;
                if mode == Way::Copy {
                    let mut at = 0;
                    while at < size {
                        at +=
                            rustix::io::pwrite(file, &buf[at..], offset + at as u64).map_err(io)?;
                    }
                }
            }
            Way::Splice => {
                let mut left = size;
                let mut at = offset;
                while left > 0 {
                    let n =
                        rustix::pipe::splice(&rx_file, None, &pw, None, left, SpliceFlags::MOVE)
                            .map_err(io)?;
                    if n == 0 {
                        return Err(BenchError::Usage("the sender went away".into()));
                    }
                    let mut q = n;
                    while q > 0 {
                        let w = rustix::pipe::splice(
                            &pr,
                            None,
                            file,
                            Some(&mut at),
                            q,
                            SpliceFlags::MOVE,
                        )
                        .map_err(io)?;
                        if w == 0 {
                            return Err(BenchError::Usage("splice into the file wrote 0".into()));
                        }
                        q -= w;
                    }
                    left -= n;
                }
            }
        }
        offset += size as u64;
        payloads += 1;
    }
    let (cpu_us, wall) = (cpu() - c0, t0.elapsed());
    drop(rx_file);
    let _ = sender.join();
    Ok(WriteCost {
        mode: mode.name(),
        payloads,
        cpu_us: cpu_us / payloads.max(1) as f64,
        mb_per_s: (payloads * size as u64) as f64 / wall.as_secs_f64() / 1e6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_is_measured_and_the_scratch_file_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        for t in [Transport::Unix, Transport::Tcp] {
            let got =
                measure(dir.path(), t, 100_000, Duration::from_millis(20), 1).expect("measure");
            assert_eq!(got.len(), 3);
            for c in &got {
                assert!(c.payloads >= 1, "{c:?}");
                assert!(c.cpu_us > 0.0, "{c:?}");
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("read_dir").count(), 0);
    }

    #[test]
    fn spliced_payloads_land_byte_exact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let file = std::fs::File::create_new(&path).expect("create");
        let size = 70_001;
        let got = one(file.as_fd(), Transport::Unix, Way::Splice, size, Duration::from_millis(5))
            .expect("one");
        let data = std::fs::read(&path).expect("read");
        let n = (got.payloads as usize).min((FILE_SPAN as usize) / size) * size;
        assert!(data.len() >= n);
        assert!(data[..n].iter().all(|&b| b == 0x5a));
    }

    #[test]
    fn bad_arguments_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(measure(dir.path(), Transport::Unix, 1, Duration::ZERO, 1).is_err());
        assert!(measure(dir.path(), Transport::Unix, 0, Duration::from_millis(1), 1).is_err());
    }
}
