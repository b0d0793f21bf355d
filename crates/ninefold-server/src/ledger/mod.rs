//! The 9P2000.L.Z exactly-once ledger: a server-wide store of mutation
//! outcomes keyed by the envelope's op id, consulted when an enveloped
//! request is admitted and written when it completes.
//!
//! Admission follows the dialect's order of checks: unknown flag bits →
//! 116; a zero op id runs untracked (116 with RETRY); a completed,
//! unexpired op id replays its stored reply (errors included) without
//! running again; an op id still running makes the duplicate **wait** for
//! it (single-flight) and then replay; an unknown op id with RETRY fails
//! closed with 116; anything else runs and its outcome is kept for the
//! retention period (150 s, longer than the client's 120 s retry horizon).
//!
//! Memory is bounded by entries and bytes: when full, the oldest completed
//! outcomes are evicted (counted), and a later retry of one gets 116: the
//! client sees "outcome unknown", never a second application. An outcome
//! that was never produced (the request was flushed, or the connection
//! closed before it finished) is forgotten the same way.
//!
//! With a state directory the completed outcomes are also appended to a
//! journal before their reply is sent ([`journal`]), and loaded again at
//! start, so exactly-once survives a restart of the server.

mod journal;

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ninefold_proto::z::{Envelope, EOPIDSTALE};
use ninefold_proto::{l, Dialect, EnvelopeFlags, Frame, Message};
use tokio::sync::watch;

use crate::fid::lock;
use crate::metrics::Metrics;
pub(crate) use journal::Journal;

/// An op id.
type OpId = [u8; 16];

/// What a waiting duplicate receives: the outcome, or `None` while it runs.
pub(crate) type Outcome = Option<Arc<Message>>;

/// What admission does with an enveloped request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Run it (a first attempt, or no deduplication asked); its outcome
    /// is written at completion.
    Execute,
    /// Do not run it: answer with this (a stored outcome, or 116).
    Answer(Arc<Message>),
    /// The same op id is running: wait for its outcome, then replay it
    /// (the channel closes without a value if it never completes).
    Wait(watch::Receiver<Outcome>),
}

/// A per-server store of outcomes keyed by op id (one instance shared by
/// every connection, so a retry on a new connection finds its result).
pub(crate) trait Ledger: Send + Sync + Debug + 'static {
    /// Consulted at admission, in arrival order, for every request that
    /// carries an envelope.
    fn admit(&self, envelope: &Envelope) -> Verdict;

    /// Written at completion of an admitted enveloped request: its reply,
    /// or `None` when none was produced (flushed, or the connection
    /// closed). Called before the reply is written to the client.
    fn complete(&self, envelope: &Envelope, reply: Option<&Message>);
}

/// The ledger of a server that keeps nothing: every request executes.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NoLedger;

#[cfg(test)]
impl Ledger for NoLedger {
    fn admit(&self, _envelope: &Envelope) -> Verdict {
        Verdict::Execute
    }

    fn complete(&self, _envelope: &Envelope, _reply: Option<&Message>) {}
}

/// Bounds and retention of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerConfig {
    /// How long a completed outcome is kept (default 150 s: longer than
    /// the client's 120 s retry horizon, as the dialect requires).
    pub retention: Duration,
    /// Most outcomes kept (default 262,144).
    pub max_entries: usize,
    /// Most bytes of stored replies (default 64 MiB).
    pub max_bytes: usize,
}

impl Default for LedgerConfig {
    fn default() -> LedgerConfig {
        LedgerConfig {
            retention: Duration::from_secs(150),
            max_entries: 1 << 18,
            max_bytes: 64 << 20,
        }
    }
}

/// Bookkeeping cost of one entry beyond its reply's encoded size.
const ENTRY_OVERHEAD: usize = 96;

#[derive(Debug)]
enum Entry {
    Running(watch::Sender<Outcome>),
    Done { reply: Arc<Message>, bytes: usize, seq: u64 },
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<OpId, Entry>,
    /// Completed outcomes in completion order: (op id, seq, completed).
    order: VecDeque<(OpId, u64, Instant)>,
    bytes: usize,
    done: usize,
    next_seq: u64,
    journal: Option<Journal>,
}

/// Counters, for tests and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) entries: usize,
    pub(crate) bytes: usize,
    pub(crate) replays: u64,
    pub(crate) waits: u64,
    pub(crate) stale: u64,
    pub(crate) evictions: u64,
}

/// The in-memory ledger (with an optional journal).
#[derive(Debug)]
pub(crate) struct MemLedger {
    config: LedgerConfig,
    inner: Mutex<Inner>,
    stats: Mutex<Stats>,
    metrics: Arc<Metrics>,
}

fn stale() -> Arc<Message> {
    Arc::new(l::Rlerror { ecode: EOPIDSTALE }.into())
}

/// Wall-clock milliseconds since the epoch (for the journal).
fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl MemLedger {
    /// An empty ledger.
    pub(crate) fn new(config: LedgerConfig, metrics: Arc<Metrics>) -> MemLedger {
        MemLedger {
            config,
            inner: Mutex::new(Inner::default()),
            stats: Mutex::new(Stats::default()),
            metrics,
        }
    }

    /// A ledger journaled in `dir` (created if missing), loaded with the
    /// unexpired outcomes a previous run left there.
    pub(crate) fn open(
        config: LedgerConfig,
        metrics: Arc<Metrics>,
        dir: &Path,
    ) -> std::io::Result<MemLedger> {
        let ledger = MemLedger::new(config, metrics);
        let (journal, records) = Journal::open(dir)?;
        let now_wall = wall_ms();
        let now = Instant::now();
        let retention_ms = config.retention.as_millis() as u64;
        {
            let mut inner = lock(&ledger.inner);
            for (op, at_ms, reply) in records {
                let age = now_wall.saturating_sub(at_ms);
                if age >= retention_ms || op == [0; 16] {
                    continue;
                }
                // Kept for what is left of its retention.
                let at = now.checked_sub(Duration::from_millis(age)).unwrap_or(now);
                ledger.store(&mut inner, op, Arc::new(reply), at);
            }
            inner.journal = Some(journal);
            ledger.bound(&mut inner, now);
            let live = live_records(&inner.map, &inner.order);
            if let Some(j) = &mut inner.journal {
                j.compact(&live)?;
            }
        }
        ledger.publish();
        Ok(ledger)
    }

    /// The counters now.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> Stats {
        *lock(&self.stats)
    }

    fn publish(&self) {
        let (entries, bytes) = {
            let inner = lock(&self.inner);
            (inner.done, inner.bytes)
        };
        let mut s = lock(&self.stats);
        self.metrics.ledger_size(entries as i64 - s.entries as i64, bytes as i64 - s.bytes as i64);
        s.entries = entries;
        s.bytes = bytes;
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut lock(&self.stats));
    }

    /// Records a completed outcome (replacing a running entry).
    fn store(&self, inner: &mut Inner, op: OpId, reply: Arc<Message>, at: Instant) {
        let bytes =
            Frame::new(0, (*reply).clone()).encoded_len(Dialect::Z).unwrap_or(64) + ENTRY_OVERHEAD;
        let seq = inner.next_seq;
        inner.next_seq += 1;
        if let Some(Entry::Done { bytes: old, .. }) =
            inner.map.insert(op, Entry::Done { reply, bytes, seq })
        {
            inner.bytes -= old;
            inner.done -= 1;
        }
        inner.bytes += bytes;
        inner.done += 1;
        inner.order.push_back((op, seq, at));
    }

    /// Drops expired outcomes, then the oldest while over the bounds.
    fn bound(&self, inner: &mut Inner, now: Instant) {
        let retention = self.config.retention;
        let mut evicted = 0;
        while let Some(&(op, seq, at)) = inner.order.front() {
            let expired = now.saturating_duration_since(at) >= retention;
            let full = inner.done > self.config.max_entries || inner.bytes > self.config.max_bytes;
            let current =
                matches!(inner.map.get(&op), Some(Entry::Done { seq: s, .. }) if *s == seq);
            if current && !expired && !full {
                break;
            }
            inner.order.pop_front();
            if current {
                if let Some(Entry::Done { bytes, .. }) = inner.map.remove(&op) {
                    inner.bytes -= bytes;
                    inner.done -= 1;
                }
                if !expired {
                    evicted += 1;
                }
            }
        }
        if evicted > 0 {
            self.count(|s| s.evictions += evicted);
            self.metrics.ledger_event("evicted", evicted);
        }
    }
}

/// The completed outcomes still kept, oldest first, for the journal.
fn live_records(
    map: &HashMap<OpId, Entry>,
    order: &VecDeque<(OpId, u64, Instant)>,
) -> Vec<(OpId, u64, Arc<Message>)> {
    let now_wall = wall_ms();
    let now = Instant::now();
    order
        .iter()
        .filter_map(|(op, seq, at)| match map.get(op) {
            Some(Entry::Done { reply, seq: s, .. }) if s == seq => {
                let age = now.saturating_duration_since(*at).as_millis() as u64;
                Some((*op, now_wall.saturating_sub(age), reply.clone()))
            }
            _ => None,
        })
        .collect()
}

impl Ledger for MemLedger {
    fn admit(&self, env: &Envelope) -> Verdict {
        if !EnvelopeFlags::all().contains(env.flags) {
            self.count(|s| s.stale += 1);
            self.metrics.ledger_event("stale", 1);
            return Verdict::Answer(stale());
        }
        if !env.is_deduplicated() {
            if env.is_retry() {
                self.count(|s| s.stale += 1);
                self.metrics.ledger_event("stale", 1);
                return Verdict::Answer(stale());
            }
            return Verdict::Execute;
        }
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        self.bound(&mut inner, now);
        let verdict = match inner.map.get(&env.op_id) {
            Some(Entry::Done { reply, .. }) => {
                self.count(|s| s.replays += 1);
                self.metrics.ledger_event("replayed", 1);
                Verdict::Answer(reply.clone())
            }
            Some(Entry::Running(tx)) => {
                self.count(|s| s.waits += 1);
                self.metrics.ledger_event("waited", 1);
                Verdict::Wait(tx.subscribe())
            }
            None if env.is_retry() => {
                self.count(|s| s.stale += 1);
                self.metrics.ledger_event("stale", 1);
                Verdict::Answer(stale())
            }
            None => {
                let (tx, _) = watch::channel(None);
                inner.map.insert(env.op_id, Entry::Running(tx));
                Verdict::Execute
            }
        };
        drop(inner);
        self.publish();
        verdict
    }

    fn complete(&self, env: &Envelope, reply: Option<&Message>) {
        if !env.is_deduplicated() {
            return;
        }
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        let Some(Entry::Running(_)) = inner.map.get(&env.op_id) else { return };
        let Some(Entry::Running(tx)) = inner.map.remove(&env.op_id) else { return };
        match reply {
            Some(m) => {
                let m = Arc::new(m.clone());
                self.store(&mut inner, env.op_id, m.clone(), now);
                self.bound(&mut inner, now);
                // On disk before the reply is sent: a restart finds it.
                let live = inner.done;
                let compact = match &mut inner.journal {
                    Some(j) => {
                        if let Err(e) = j.append(&env.op_id, wall_ms(), &m) {
                            tracing::error!(error = %e, "ledger journal append failed");
                        }
                        j.wants_compaction(live)
                    }
                    None => false,
                };
                if compact {
                    let records = live_records(&inner.map, &inner.order);
                    if let Some(j) = &mut inner.journal {
                        if let Err(e) = j.compact(&records) {
                            tracing::error!(error = %e, "ledger journal compaction failed");
                        }
                    }
                }
                let _ = tx.send(Some(m));
            }
            // Never produced: forgotten (waiters and later retries get 116).
            None => drop(tx),
        }
        drop(inner);
        self.publish();
    }
}

#[cfg(test)]
mod tests;
