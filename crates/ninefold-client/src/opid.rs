//! Operation ids for the `9P2000.L.Z` mutation envelope.
//!
//! One [`OpIds`] is minted per logical mutation by `Client::run` and set
//! as a task-local around each attempt of the operation's plan. Every
//! enveloped request the plan sends (Twrite, Tlcreateattr, Tmkdirattr ...)
//! takes its envelope from it in [`envelope_for`], called by the session
//! when it encodes the frame:
//!
//! - the op id is the operation's 10-byte base (6 random bytes per
//!   process, a 4-byte operation counter), the message type and a 40-bit
//!   sequence number: the request's rank among the plan's requests of that
//!   type, or an explicit one ([`with_seq`], [`chunk_seq`]) for requests
//!   sent concurrently, such as the chunks of one write. The same request
//!   of the same plan gets the same id on every attempt, and two requests
//!   never share one: a sequence number that would not fit is an error,
//!   never a wrapped (and so repeated) id, which the server's ledger would
//!   answer with another request's outcome;
//! - a request whose id went out in an earlier attempt carries RETRY and
//!   the epoch of its first transmission; one never sent before goes out as
//!   a first transmission (flags 0, the current connection's writer epoch);
//! - requests outside any operation (background clunks, raw [`Session`]
//!   calls) carry the all-zero envelope: no deduplication.
//!
//! [`Session`]: crate::Session

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ninefold_proto::z::Envelope;
use ninefold_proto::EnvelopeFlags;

/// How long after its first transmission a mutation may be re-sent with
/// RETRY (the dialect's client retry horizon; servers keep results for
/// 150 s).
pub const RETRY_HORIZON: Duration = Duration::from_secs(120);

tokio::task_local! {
    static OP: Arc<OpIds>;
    static SEQ: u64;
}

/// Bits of the sequence number in an op id.
const SEQ_BITS: u32 = 40;
/// Bits of [`chunk_seq`]'s continuation count (short writes of one chunk).
const CONTINUATION_BITS: u32 = 12;

/// The ids of one logical mutation across its attempts.
#[derive(Debug)]
pub(crate) struct OpIds {
    base: [u8; 10],
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Epoch of the connection the operation was first sent on.
    epoch: Option<u64>,
    first_sent: Option<Instant>,
    /// Every id sent so far (any attempt).
    sent: HashSet<[u8; 16]>,
    /// Per message type, requests sent in the current attempt (a plan
    /// sends far fewer than 2^32 of one type without explicit numbers).
    counters: HashMap<u8, u32>,
    /// Requests of the current attempt that went out with RETRY.
    retried: u32,
}

impl OpIds {
    /// A fresh random id base.
    pub(crate) fn mint() -> Arc<OpIds> {
        static KEY: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let key = *KEY.get_or_init(|| {
            let mut h = RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.write_u32(std::process::id());
            h.finish()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut base = [0u8; 10];
        base[..6].copy_from_slice(&key.to_le_bytes()[..6]);
        base[6..].copy_from_slice(&n.to_le_bytes());
        Arc::new(OpIds { base, state: Mutex::new(State::default()) })
    }

    /// Starts an attempt: sequence numbers restart from 0.
    pub(crate) fn begin_attempt(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.counters.clear();
            s.retried = 0;
        }
    }

    /// When the first request of the operation went out, if one did.
    pub(crate) fn first_sent(&self) -> Option<Instant> {
        self.state.lock().ok().and_then(|s| s.first_sent)
    }

    /// Requests of the current attempt sent with RETRY.
    pub(crate) fn retried(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.retried)
    }

    /// Runs `fut` with these ids as the task's current operation.
    pub(crate) async fn scope<F: std::future::Future>(self: &Arc<Self>, fut: F) -> F::Output {
        OP.scope(self.clone(), fut).await
    }

    fn envelope(&self, ty: u8, seq: Option<u64>, conn_epoch: u64) -> Option<Envelope> {
        let mut s = self.state.lock().ok()?;
        let seq = match seq {
            Some(n) => n,
            None => {
                let c = s.counters.entry(ty).or_insert(0);
                let n = *c;
                *c += 1;
                u64::from(n)
            }
        };
        debug_assert!(seq < 1 << SEQ_BITS, "sequence numbers are checked by their makers");
        let mut op_id = [0u8; 16];
        op_id[..10].copy_from_slice(&self.base);
        op_id[10] = ty;
        op_id[11..].copy_from_slice(&seq.to_le_bytes()[..5]);
        let retry = s.sent.contains(&op_id);
        let epoch = *s.epoch.get_or_insert(conn_epoch);
        if retry {
            s.retried += 1;
        } else {
            s.sent.insert(op_id);
        }
        s.first_sent.get_or_insert_with(Instant::now);
        let flags = if retry { EnvelopeFlags::RETRY } else { EnvelopeFlags::empty() };
        Some(Envelope { op_id, flags, origin_writer_epoch: epoch })
    }
}

/// The envelope for an enveloped request of type `ty` sent by the current
/// task, on a connection whose writer epoch is `conn_epoch`; `None`
/// outside an operation (the frame then carries the all-zero envelope).
pub(crate) fn envelope_for(ty: u8, conn_epoch: u64) -> Option<Envelope> {
    let seq = SEQ.try_with(|n| *n).ok();
    OP.try_with(|op| op.envelope(ty, seq, conn_epoch)).ok().flatten()
}

/// Runs `fut` with an explicit sequence number for its enveloped requests
/// (requests a plan sends concurrently, whose order is not fixed).
pub(crate) async fn with_seq<F: std::future::Future>(seq: u64, fut: F) -> F::Output {
    SEQ.scope(seq, fut).await
}

/// The sequence number of the `continuation`-th Twrite (0 for the first,
/// then one per short write) of chunk `chunk` of one write: distinct for
/// every pair, or an error (EIO) when the pair does not fit, i.e. more
/// than 2^28 chunks in one call or a server that keeps answering short
/// writes (4,096 for one chunk) instead of making progress.
pub(crate) fn chunk_seq(chunk: usize, continuation: u32) -> crate::Result<u64> {
    let too_many = |what: &str| {
        tracing::warn!(chunk, continuation, "{what}: refusing to reuse an op id");
        crate::Error::Io(ninefold_proto::Errno::EIO)
    };
    if continuation >= 1 << CONTINUATION_BITS {
        return Err(too_many("the server answered too many short writes for one chunk"));
    }
    let chunk = u64::try_from(chunk).unwrap_or(u64::MAX);
    if chunk >= 1 << (SEQ_BITS - CONTINUATION_BITS) {
        return Err(too_many("too many chunks in one write"));
    }
    Ok(chunk << CONTINUATION_BITS | u64::from(continuation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_request_same_id_retry_on_resend() {
        let op = OpIds::mint();
        op.begin_attempt();
        let a = op.envelope(118, None, 7).unwrap();
        let b = op.envelope(118, None, 9).unwrap();
        let c = op.envelope(240, None, 9).unwrap();
        assert_ne!(a.op_id, b.op_id);
        assert_ne!(a.op_id, c.op_id);
        assert!(!a.is_retry() && !b.is_retry());
        assert_eq!((a.origin_writer_epoch, b.origin_writer_epoch), (7, 7));
        op.begin_attempt();
        let a2 = op.envelope(118, None, 3).unwrap();
        assert_eq!(a2.op_id, a.op_id);
        assert!(a2.is_retry());
        assert_eq!(a2.origin_writer_epoch, 7, "the first send's epoch");
        assert_eq!(op.retried(), 1);
        // A request the first attempt never sent is a first transmission.
        let d = op.envelope(248, None, 3).unwrap();
        assert!(!d.is_retry());
        let other = OpIds::mint();
        assert_ne!(other.envelope(118, None, 7).unwrap().op_id, a.op_id);
    }

    /// Chunk 4096 of a write used to get chunk 0's id (only 24 bits of the
    /// sequence number were kept), so the server's ledger answered it with
    /// chunk 0's outcome and never wrote it.
    #[test]
    fn every_chunk_of_a_large_write_has_its_own_id() {
        let op = OpIds::mint();
        op.begin_attempt();
        let mut seen = HashSet::new();
        for chunk in [0usize, 1, 4095, 4096, 4097, 1 << 20, (1 << 28) - 1] {
            for k in [0u32, 1, 4095] {
                let seq = chunk_seq(chunk, k).unwrap();
                let e = op.envelope(118, Some(seq), 1).unwrap();
                assert!(seen.insert(e.op_id), "chunk {chunk} continuation {k} reused an id");
            }
        }
        assert!(chunk_seq(1 << 28, 0).is_err());
        assert!(chunk_seq(0, 4096).is_err());
    }
}
