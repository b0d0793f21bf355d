//! `ninefold-bench tap`: a TCP proxy between a 9P client and a server
//! that counts the requests by type and times each one from the moment
//! the proxy forwards it to the moment its reply comes back.
//!
//! It answers "which requests does this client send, and how long does
//! the server take for each" for a client we cannot instrument, such as
//! the Linux kernel's v9fs under qemu (`scripts/bench-kernel.sh --tap`):
//! both servers of a comparison see the same proxy, so its own cost
//! cancels out of the comparison. The proxy copies bytes unchanged; it
//! only reads each frame's size, type and tag.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ninefold_proto::Dialect;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::histogram::Histogram;

/// Largest frame the proxy parses; a larger size field means the stream
/// is not 9P (or is corrupt), and parsing stops for that direction while
/// the bytes still flow.
const MAX_FRAME: u32 = 64 << 20;

/// What the proxy has seen so far, for every connection together.
#[derive(Debug, Default)]
pub struct TapStats {
    /// Dialect named by the last Rversion (names the type numbers).
    dialect: Option<Dialect>,
    /// Per request type: time from forwarding to its reply, and the sum
    /// of those times in nanoseconds (for the mean).
    latency: BTreeMap<u8, (Histogram, u128)>,
    /// Per type (requests and replies): frames and bytes.
    frames: BTreeMap<u8, (u64, u64)>,
    /// Requests forwarded while none was outstanding on their connection,
    /// and the time the connection then waited for the client.
    client_wait: Duration,
    /// Time with at least one request outstanding, summed per connection.
    server_busy: Duration,
}

impl TapStats {
    fn name(&self, ty: u8) -> String {
        self.dialect
            .unwrap_or(Dialect::L)
            .message_name(ty)
            .map_or_else(|| format!("type {ty}"), str::to_owned)
    }

    /// The report: a line per message type, then the totals.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>12} {:>10} {:>10} {:>10} {:>10}",
            "message", "frames", "bytes", "mean µs", "p50 µs", "p90 µs", "p99 µs"
        );
        for (&ty, &(n, bytes)) in &self.frames {
            let name = self.name(ty);
            match self.latency.get(&ty) {
                Some((h, sum)) if h.count() > 0 => {
                    let us = |q: f64| h.percentile(q) as f64 / 1000.0;
                    let _ = writeln!(
                        out,
                        "{name:<14} {n:>9} {bytes:>12} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                        *sum as f64 / h.count() as f64 / 1000.0,
                        us(0.5),
                        us(0.9),
                        us(0.99)
                    );
                }
                _ => {
                    let _ = writeln!(out, "{name:<14} {n:>9} {bytes:>12}");
                }
            }
        }
        let requests: u64 = self.latency.values().map(|(h, _)| h.count()).sum();
        let _ = writeln!(
            out,
            "requests {requests}; server busy {:.3} s; client think time {:.3} s",
            self.server_busy.as_secs_f64(),
            self.client_wait.as_secs_f64()
        );
        out
    }
}

/// Requests in flight on one connection, by tag.
#[derive(Debug, Default)]
struct Inflight {
    by_tag: HashMap<u16, (u8, Instant)>,
    /// When the last reply left nothing outstanding.
    idle_since: Option<Instant>,
    /// When the first of the outstanding requests was forwarded.
    busy_since: Option<Instant>,
}

/// Accepts connections on `listener` and proxies each to `target` until
/// the task is dropped. `stats` is shared, so a caller can print it at any
/// time (and at exit).
pub async fn serve(
    listener: TcpListener,
    target: String,
    stats: Arc<Mutex<TapStats>>,
) -> std::io::Result<()> {
    loop {
        let (client, _) = listener.accept().await?;
        let target = target.clone();
        let stats = stats.clone();
        tokio::spawn(async move {
            match TcpStream::connect(&target).await {
                Ok(server) => proxy(client, server, stats).await,
                Err(e) => tracing::warn!(error = %e, %target, "tap: cannot reach the server"),
            }
        });
    }
}

async fn proxy(client: TcpStream, server: TcpStream, stats: Arc<Mutex<TapStats>>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let inflight = Arc::new(Mutex::new(Inflight::default()));
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, true, inflight.clone(), stats.clone());
    let down = pump(sr, cw, false, inflight, stats);
    tokio::join!(up, down);
}

/// Copies one direction, parsing frame headers as they pass.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    requests: bool,
    inflight: Arc<Mutex<Inflight>>,
    stats: Arc<Mutex<TapStats>>,
) {
    let mut buf = vec![0u8; 256 * 1024];
    // Bytes of the current frame's header seen so far, and what is left
    // of the frame after them.
    let mut header = [0u8; 7];
    let mut have = 0usize;
    let mut rest: u64 = 0;
    let mut parsing = true;
    // An Rversion's version string is read from its first chunk.
    let mut version_probe: Option<Vec<u8>> = None;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let now = Instant::now();
        let mut i = 0;
        while parsing && i < n {
            if let Some(probe) = version_probe.as_mut() {
                let take = (n - i).min(rest as usize).min(64 - probe.len().min(64));
                probe.extend_from_slice(&buf[i..i + take]);
                if probe.len() >= 64 || take as u64 == rest {
                    let done = version_probe.take().unwrap_or_default();
                    // msize[4] version[s]
                    if done.len() >= 6 {
                        let len = u16::from_le_bytes([done[4], done[5]]) as usize;
                        if let Some(v) = done.get(6..6 + len) {
                            if let Ok(mut s) = stats.lock() {
                                s.dialect = Dialect::from_version(v).or(s.dialect);
                            }
                        }
                    }
                }
            }
            if rest > 0 {
                let skip = rest.min((n - i) as u64);
                rest -= skip;
                i += skip as usize;
                continue;
            }
            let take = (7 - have).min(n - i);
            header[have..have + take].copy_from_slice(&buf[i..i + take]);
            have += take;
            i += take;
            if have < 7 {
                break;
            }
            have = 0;
            let size = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            if !(7..=MAX_FRAME).contains(&size) {
                parsing = false;
                break;
            }
            rest = u64::from(size) - 7;
            let ty = header[4];
            let tag = u16::from_le_bytes([header[5], header[6]]);
            if !requests && ty == 101 {
                version_probe = Some(Vec::new());
            }
            record(&stats, &inflight, requests, ty, tag, size, now);
        }
    }
    let _ = to.shutdown().await;
}

fn record(
    stats: &Mutex<TapStats>,
    inflight: &Mutex<Inflight>,
    request: bool,
    ty: u8,
    tag: u16,
    size: u32,
    now: Instant,
) {
    let (Ok(mut s), Ok(mut f)) = (stats.lock(), inflight.lock()) else {
        return;
    };
    let e = s.frames.entry(ty).or_default();
    e.0 += 1;
    e.1 += u64::from(size);
    if request {
        if f.by_tag.is_empty() {
            if let Some(idle) = f.idle_since.take() {
                s.client_wait += now.saturating_duration_since(idle);
            }
            f.busy_since = Some(now);
        }
        f.by_tag.insert(tag, (ty, now));
    } else if let Some((tty, sent)) = f.by_tag.remove(&tag) {
        let nanos = now.saturating_duration_since(sent).as_nanos();
        let (h, sum) = s.latency.entry(tty).or_default();
        h.record(u64::try_from(nanos).unwrap_or(u64::MAX));
        *sum += nanos;
        if f.by_tag.is_empty() {
            if let Some(busy) = f.busy_since.take() {
                s.server_busy += now.saturating_duration_since(busy);
            }
            f.idle_since = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ninefold_proto::{base, Frame};

    fn frame(tag: u16, m: impl Into<ninefold_proto::Message>) -> Vec<u8> {
        let mut out = Vec::new();
        Frame::new(tag, m.into()).encode(Dialect::L, &mut out).expect("encode");
        out
    }

    /// A fake server answering every Tclunk after 2 ms, fed in odd pieces.
    #[tokio::test]
    async fn counts_and_times_requests_split_across_reads() {
        let server = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server_addr = server.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            let (mut s, _) = server.accept().await.expect("accept");
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while got.len() < 3 * 11 {
                let n = s.read(&mut buf).await.expect("read");
                assert!(n > 0, "client went away");
                got.extend_from_slice(&buf[..n]);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            for tag in 1..=3 {
                s.write_all(&frame(tag, base::Rclunk {})).await.expect("write");
            }
            let _ = s.read(&mut buf).await;
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stats = Arc::new(Mutex::new(TapStats::default()));
        tokio::spawn(serve(listener, server_addr, stats.clone()));

        let mut c = TcpStream::connect(addr).await.expect("connect");
        let mut bytes = Vec::new();
        for tag in 1..=3 {
            bytes.extend(frame(tag, base::Tclunk { fid: u32::from(tag) }));
        }
        // Odd pieces: a header split across writes.
        for piece in bytes.chunks(5) {
            c.write_all(piece).await.expect("write");
            c.flush().await.expect("flush");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut back = vec![0u8; 3 * 7];
        c.read_exact(&mut back).await.expect("replies pass through unchanged");
        let expected: Vec<u8> = (1..=3).flat_map(|t| frame(t, base::Rclunk {})).collect();
        assert_eq!(back, expected);

        let s = stats.lock().expect("stats");
        assert_eq!(s.frames.get(&120), Some(&(3, 33)), "three Tclunk of 11 bytes");
        assert_eq!(s.frames.get(&121), Some(&(3, 21)), "three Rclunk of 7 bytes");
        let (h, _) = s.latency.get(&120).expect("Tclunk timed");
        assert_eq!(h.count(), 3);
        assert!(h.percentile(0.5) >= 2_000_000, "the server's 2 ms show");
        let table = s.table();
        assert!(table.contains("Tclunk") && table.contains("Rclunk"), "{table}");
    }
}
