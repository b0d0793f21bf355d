//! The pipelined load of one connection for one row.
//!
//! Each connection keeps `depth` requests outstanding, one per *slot*; the
//! slot number is the tag. Two futures share the connection in one task:
//!
//! - the **receiver** reads replies, matches each to its slot by tag,
//!   checks its type and size, records the latency, and hands the slot
//!   back with the next step to send (walk-clunk takes two steps per op);
//! - the **sender** takes every slot handed back since its last write,
//!   encodes their requests into one buffer (write payloads are appended
//!   as separate, uncopied chunks) and writes them with vectored writes.
//!
//! A reply whose tag is not outstanding, whose type does not answer the
//! request, or that carries less data than asked is counted as an error
//! (by kind), never silently accepted. When the [`Phase`] turns to
//! [`Phase::STOP`] no new request is sent and the receiver waits for the
//! outstanding replies, so the connection is idle and reusable afterwards.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ninefold_proto::{base, l, Dialect, Frame, GetattrMask, Message, P9String};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::error::BenchError;
use crate::fixture::{DIR_FID, FILE_NAME, IO_FID, STAT_FID, WALK_FID_BASE};
use crate::histogram::Histogram;
use crate::rows::Row;
use crate::session::Session;
use crate::target::{write_chunks, ReadHalf, WriteHalf};

/// How long the receiver waits for any byte while replies are outstanding.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(15);

/// The shared phase of a row: warmup (not recorded), measure, stop.
#[derive(Debug, Default)]
pub struct Phase(AtomicU8);

impl Phase {
    /// Requests are sent, replies are not recorded.
    pub const WARMUP: u8 = 0;
    /// Replies are recorded.
    pub const MEASURE: u8 = 1;
    /// No new requests; outstanding ones are drained.
    pub const STOP: u8 = 2;

    /// A phase starting at `WARMUP`.
    pub fn new() -> Phase {
        Phase(AtomicU8::new(Phase::WARMUP))
    }

    /// Moves to `p`.
    pub fn set(&self, p: u8) {
        self.0.store(p, Ordering::SeqCst);
    }

    /// The current phase.
    pub fn get(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What one connection does for a row.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The row.
    pub row: Row,
    /// Outstanding requests (1..=4096).
    pub depth: u16,
    /// Bytes per Tread/Twrite (0 for getattr and walk-clunk).
    pub io_size: u32,
    /// The scratch file's size; I/O offsets cycle below it.
    pub file_size: u64,
    /// First I/O offset (spreads connections over the file).
    pub start_offset: u64,
    /// The Twrite payload (`io_size` bytes).
    pub payload: Bytes,
}

/// What one connection measured.
#[derive(Debug, Clone, Default)]
pub struct ConnStats {
    /// Completed operations in the measure phase.
    pub ops: u64,
    /// Data bytes moved in the measure phase.
    pub bytes: u64,
    /// Errors by kind, in every phase.
    pub errors: BTreeMap<String, u64>,
    /// Latency of the completed operations, nanoseconds.
    pub hist: Histogram,
}

impl ConnStats {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &ConnStats) {
        self.ops += other.ops;
        self.bytes += other.bytes;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.hist.merge(&other.hist);
    }

    /// Total errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }
}

/// The request a slot sends next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Getattr,
    Walk,
    Clunk,
    Read,
    Write,
}

impl Step {
    fn first(row: Row) -> Step {
        match row {
            Row::Getattr => Step::Getattr,
            Row::WalkClunk => Step::Walk,
            Row::Read4k | Row::Read64k | Row::Read1m => Step::Read,
            Row::Write4k | Row::Write64k | Row::Write1m => Step::Write,
        }
    }

    fn request(self) -> &'static str {
        match self {
            Step::Getattr => "Tgetattr",
            Step::Walk => "Twalk",
            Step::Clunk => "Tclunk",
            Step::Read => "Tread",
            Step::Write => "Twrite",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Next {
    slot: u16,
    step: Step,
}

/// Runs `plan` on `session` until `phase` is [`Phase::STOP`] and every
/// reply is in; gives the session back with the statistics.
pub async fn run(
    session: Session,
    plan: &Plan,
    phase: &Phase,
) -> Result<(Session, ConnStats), BenchError> {
    if plan.depth == 0 || plan.depth > 4096 {
        return Err(BenchError::Usage(format!("depth {} out of 1..=4096", plan.depth)));
    }
    let Session { rd, mut wr, rbuf, codec, msize } = session;
    let mut rx_side = Receiver { rd, rbuf, codec, stats: ConnStats::default() };
    let base = Instant::now();
    let starts: Vec<AtomicU64> = (0..plan.depth).map(|_| AtomicU64::new(0)).collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let send = send_loop(&mut wr, &mut rx, plan, &starts, base);
    let recv = rx_side.run(tx, plan, phase, &starts, base);
    tokio::try_join!(send, recv)?;
    let Receiver { rd, rbuf, codec, stats } = rx_side;
    Ok((Session { rd, wr, rbuf, codec, msize }, stats))
}

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

async fn send_loop(
    wr: &mut WriteHalf,
    rx: &mut mpsc::UnboundedReceiver<Next>,
    plan: &Plan,
    starts: &[AtomicU64],
    base: Instant,
) -> Result<(), BenchError> {
    let name: P9String = FILE_NAME.into();
    let mut head = BytesMut::with_capacity(8192);
    let mut chunks: Vec<Bytes> = Vec::new();
    let io = u64::from(plan.io_size);
    let span = plan.file_size.saturating_sub(io) / io.max(1) + 1;
    let mut block = plan.start_offset / io.max(1) % span;
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let now = nanos_since(base);
        while let Some(Next { slot, step }) = next {
            let offset = block * io;
            let frame = request(Next { slot, step }, offset, plan, &name);
            if matches!(step, Step::Read | Step::Write) {
                block = (block + 1) % span;
            }
            if step != Step::Clunk {
                if let Some(s) = starts.get(usize::from(slot)) {
                    s.store(now, Ordering::Relaxed);
                }
            }
            if let Some(payload) = frame.encode_vectored(Dialect::L, &mut head)? {
                chunks.push(head.split().freeze());
                chunks.push(payload);
            }
            next = rx.try_recv().ok();
        }
        if !head.is_empty() {
            chunks.push(head.split().freeze());
        }
        write_chunks(wr, &mut chunks).await?;
    }
    Ok(())
}

/// The request frame a slot sends for `next`: the tag is the slot number.
fn request(next: Next, offset: u64, plan: &Plan, name: &P9String) -> Frame {
    let Next { slot, step } = next;
    let msg: Message = match step {
        Step::Getattr => l::Tgetattr { fid: STAT_FID, request_mask: GetattrMask::BASIC }.into(),
        Step::Walk => base::Twalk {
            fid: DIR_FID,
            newfid: WALK_FID_BASE + u32::from(slot),
            wnames: vec![name.clone()],
        }
        .into(),
        Step::Clunk => base::Tclunk { fid: WALK_FID_BASE + u32::from(slot) }.into(),
        Step::Read => base::Tread { fid: IO_FID, offset, count: plan.io_size }.into(),
        Step::Write => base::Twrite { fid: IO_FID, offset, data: plan.payload.clone() }.into(),
    };
    Frame::new(slot, msg)
}

struct Receiver {
    rd: ReadHalf,
    rbuf: BytesMut,
    codec: ninefold_proto::Codec,
    stats: ConnStats,
}

impl Receiver {
    async fn run(
        &mut self,
        tx: mpsc::UnboundedSender<Next>,
        plan: &Plan,
        phase: &Phase,
        starts: &[AtomicU64],
        base: Instant,
    ) -> Result<(), BenchError> {
        let first = Step::first(plan.row);
        let mut expect: Vec<Option<Step>> = vec![Some(first); usize::from(plan.depth)];
        let mut outstanding = usize::from(plan.depth);
        for slot in 0..plan.depth {
            // The sender outlives this future: a failed send means it failed.
            if tx.send(Next { slot, step: first }).is_err() {
                return Ok(());
            }
        }
        while outstanding > 0 {
            let (tag, message) = match self.codec.decode(&mut self.rbuf) {
                Ok(Some(frame)) => (frame.tag, Some(frame.message)),
                Ok(None) => {
                    self.fill(outstanding).await?;
                    continue;
                }
                Err(e) if e.is_fatal() => return Err(e.into()),
                Err(e) => {
                    // A well-framed reply we cannot decode: its slot is done.
                    self.stats.error(format!("undecodable reply: {e}"));
                    match e.tag() {
                        Some(tag) => (tag, None),
                        None => continue,
                    }
                }
            };
            let slot = usize::from(tag);
            let Some(step) = expect.get(slot).copied().flatten() else {
                let name = message.as_ref().map_or("reply", Message::name);
                self.stats.error(format!("{name} for a tag not in flight"));
                continue;
            };
            let measuring = phase.get() == Phase::MEASURE;
            let next = match message {
                Some(m) => self.check(step, m, plan, measuring, || {
                    let start = starts.get(slot).map_or(0, |s| s.load(Ordering::Relaxed));
                    nanos_since(base).saturating_sub(start)
                }),
                None => first,
            };
            if phase.get() == Phase::STOP && next != Step::Clunk {
                expect[slot] = None;
                outstanding -= 1;
            } else {
                expect[slot] = Some(next);
                let _ = tx.send(Next { slot: tag, step: next });
            }
        }
        Ok(())
    }

    /// Judges one reply to `step`; records it; returns the slot's next step.
    fn check(
        &mut self,
        step: Step,
        reply: Message,
        plan: &Plan,
        measuring: bool,
        latency: impl FnOnce() -> u64,
    ) -> Step {
        let first = Step::first(plan.row);
        let io = plan.io_size as usize;
        let (done, bytes, next) = match (step, reply) {
            (Step::Getattr, Message::Rgetattr(_)) => (true, 0, first),
            (Step::Walk, Message::Rwalk(r)) if r.wqids.len() == 1 => (false, 0, Step::Clunk),
            (Step::Walk, Message::Rwalk(_)) => {
                self.stats.error("Twalk: short Rwalk");
                (false, 0, first)
            }
            (Step::Clunk, Message::Rclunk(_)) => (true, 0, first),
            (Step::Read, Message::Rread(r)) if r.data.len() == io => (true, io, first),
            (Step::Read, Message::Rread(r)) => {
                self.stats.error(format!("Tread: short read ({} of {io})", r.data.len()));
                (false, 0, first)
            }
            (Step::Write, Message::Rwrite(r)) if r.count as usize == io => (true, io, first),
            (Step::Write, Message::Rwrite(r)) => {
                self.stats.error(format!("Twrite: short write ({} of {io})", r.count));
                (false, 0, first)
            }
            (s, Message::Rlerror(e)) => {
                let name = e.ecode.name().map_or_else(|| e.ecode.get().to_string(), str::to_owned);
                self.stats.error(format!("{}: Rlerror {name}", s.request()));
                (false, 0, first)
            }
            (s, other) => {
                self.stats.error(format!("{}: answered with {}", s.request(), other.name()));
                (false, 0, first)
            }
        };
        if done && measuring {
            self.stats.ops += 1;
            self.stats.bytes += bytes as u64;
            self.stats.hist.record(latency());
        }
        next
    }

    /// Reads more bytes, failing when the server is silent too long.
    async fn fill(&mut self, outstanding: usize) -> Result<(), BenchError> {
        if self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
            self.rbuf.reserve(256 * 1024);
        }
        match tokio::time::timeout(STALL_TIMEOUT, self.rd.read_buf(&mut self.rbuf)).await {
            Err(_) => Err(BenchError::Timeout(format!(
                "no reply for {STALL_TIMEOUT:?} with {outstanding} requests outstanding"
            ))),
            Ok(Ok(0)) => Err(BenchError::Closed),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(row: Row, io_size: u32) -> Plan {
        Plan {
            row,
            depth: 4,
            io_size,
            file_size: 1 << 20,
            start_offset: 0,
            payload: Bytes::from(vec![0xab; io_size as usize]),
        }
    }

    fn encode(f: &Frame) -> Vec<u8> {
        let mut b = BytesMut::new();
        f.encode(Dialect::L, &mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn tgetattr_frame_bytes() {
        let name: P9String = FILE_NAME.into();
        let f = request(Next { slot: 3, step: Step::Getattr }, 0, &plan(Row::Getattr, 0), &name);
        // size[4]=19 type[1]=24 tag[2]=3 fid[4]=STAT_FID mask[8]=0x7ff
        let mut want = vec![19, 0, 0, 0, 24, 3, 0];
        want.extend_from_slice(&STAT_FID.to_le_bytes());
        want.extend_from_slice(&0x7ffu64.to_le_bytes());
        assert_eq!(encode(&f), want);
    }

    #[test]
    fn tread_and_twalk_frame_bytes() {
        let name: P9String = FILE_NAME.into();
        let p = plan(Row::Read4k, 4096);
        let f = request(Next { slot: 0x102, step: Step::Read }, 0x1_0000_2000, &p, &name);
        let mut want = vec![23, 0, 0, 0, 116, 2, 1];
        want.extend_from_slice(&IO_FID.to_le_bytes());
        want.extend_from_slice(&0x1_0000_2000u64.to_le_bytes());
        want.extend_from_slice(&4096u32.to_le_bytes());
        assert_eq!(encode(&f), want);

        let f = request(Next { slot: 5, step: Step::Walk }, 0, &p, &name);
        let mut want = vec![0, 0, 0, 0, 110, 5, 0];
        want.extend_from_slice(&DIR_FID.to_le_bytes());
        want.extend_from_slice(&(WALK_FID_BASE + 5).to_le_bytes());
        want.extend_from_slice(&1u16.to_le_bytes());
        want.extend_from_slice(&(FILE_NAME.len() as u16).to_le_bytes());
        want.extend_from_slice(FILE_NAME.as_bytes());
        want[0] = want.len() as u8;
        assert_eq!(encode(&f), want);

        let f = request(Next { slot: 5, step: Step::Clunk }, 0, &p, &name);
        assert_eq!(f.message, Message::Tclunk(base::Tclunk { fid: WALK_FID_BASE + 5 }));
    }

    #[test]
    fn twrite_payload_travels_uncopied() {
        let name: P9String = FILE_NAME.into();
        let p = plan(Row::Write1m, 65536);
        let f = request(Next { slot: 1, step: Step::Write }, 65536, &p, &name);
        let mut head = BytesMut::new();
        let payload = f.encode_vectored(Dialect::L, &mut head).unwrap().unwrap();
        assert_eq!(head.len(), 23);
        assert_eq!(&head[..4], &(23u32 + 65536).to_le_bytes());
        assert_eq!(head[4], 118);
        assert_eq!(payload.as_ptr(), p.payload.as_ptr(), "the payload is shared, not copied");
        let mut whole = head.to_vec();
        whole.extend_from_slice(&payload);
        let back = Frame::decode(Bytes::from(whole), Dialect::L).unwrap();
        assert_eq!(back, f);
    }

    fn reply(rx: &mut Receiver, step: Step, m: impl Into<Message>, p: &Plan) -> Step {
        rx.check(step, m.into(), p, true, || 1000)
    }

    #[tokio::test]
    async fn replies_are_judged() {
        let (a, _b) = tokio::io::duplex(64);
        let (rd, _) = tokio::io::split(a);
        let mut rx = Receiver {
            rd: Box::new(rd),
            rbuf: BytesMut::new(),
            codec: ninefold_proto::Codec::new(Dialect::L, 8192),
            stats: ConnStats::default(),
        };
        let p = plan(Row::Read4k, 4096);
        let data = Bytes::from(vec![0; 4096]);
        assert_eq!(reply(&mut rx, Step::Read, base::Rread { data: data.clone() }, &p), Step::Read);
        assert_eq!((rx.stats.ops, rx.stats.bytes), (1, 4096));
        reply(&mut rx, Step::Read, base::Rread { data: data.slice(..100) }, &p);
        reply(&mut rx, Step::Read, l::Rlerror { ecode: ninefold_proto::Errno::EIO }, &p);
        reply(&mut rx, Step::Read, base::Rclunk, &p);
        assert_eq!(rx.stats.ops, 1);
        assert_eq!(rx.stats.error_count(), 3);
        assert_eq!(rx.stats.errors.get("Tread: Rlerror EIO"), Some(&1));
        assert_eq!(rx.stats.errors.get("Tread: short read (100 of 4096)"), Some(&1));
        assert_eq!(rx.stats.errors.get("Tread: answered with Rclunk"), Some(&1));

        let w = plan(Row::WalkClunk, 0);
        let qid = ninefold_proto::Qid::default();
        assert_eq!(reply(&mut rx, Step::Walk, base::Rwalk { wqids: vec![qid] }, &w), Step::Clunk);
        assert_eq!(rx.stats.ops, 1, "a walk alone is half an op");
        assert_eq!(reply(&mut rx, Step::Clunk, base::Rclunk, &w), Step::Walk);
        assert_eq!(rx.stats.ops, 2);
        assert_eq!(rx.stats.hist.count(), 2);
    }
}
