//! Abuse limits: what one peer, one connection or one slow client may cost
//! the server, and how the server holds it there.
//!
//! - **Per peer** (`PeerTable`): connections open at once from one
//!   address (an IP address; every unix-socket connection counts as the one
//!   peer `unix`), checked at accept, and a request rate shared by the
//!   peer's connections.
//! - **Per connection**: a request rate (`Bucket`), a deadline for a
//!   frame to arrive in full once its first byte did and for the first
//!   frame (Tversion) after connect, and a memory budget.
//! - **Memory** (`ByteBudget`): every frame is charged before its bytes
//!   are buffered, its size plus the largest reply it can produce, to its
//!   connection's budget and to the server's; the charge is returned when
//!   the reply is on the wire. A connection over budget is not read
//!   (back-pressure) until replies drain; one whose replies do not drain
//!   within the stall deadline (a client that never reads) is closed.
//!
//! Over a rate the server stops reading the connection for as long as the
//! bucket needs to refill: back-pressure, not errors, so a well-behaved
//! client elsewhere is unaffected and a bursty one merely slows down.
//!
//! Nothing here takes a lock shared by connections of different peers on
//! the request path: the connection's bucket is the reader's own, a
//! peer's bucket is shared only by that peer's connections, and the
//! budgets are atomics (a lock is taken only to sleep when one is spent).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::ConfigError;

/// Default connections open at once from one peer address.
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 1024;
/// Default deadline for a frame to arrive in full once its first byte has.
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
/// Default deadline for the first frame (Tversion) after connect.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default memory budget of one connection: request frames buffered plus
/// replies queued.
pub const DEFAULT_CONNECTION_MEMORY: usize = 64 * 1024 * 1024;
/// Default memory budget of all connections together.
pub const DEFAULT_SERVER_MEMORY: usize = 2 * 1024 * 1024 * 1024;
/// Default time a connection over its memory budget may go without any of
/// its replies being written before it is closed.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A request rate: `per_second` sustained, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained (must be > 0).
    pub per_second: f64,
    /// Requests that may arrive at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `per_second` sustained with a burst of one second's worth (at least
    /// 1).
    pub fn per_second(per_second: f64) -> Rate {
        Rate { per_second, burst: per_second.ceil().clamp(1.0, f64::from(u32::MAX)) as u32 }
    }
}

/// The abuse limits of a [`Server`](crate::Server) (see the [module
/// documentation](self)); every limit is optional (`None` disables it).
///
/// The defaults are generous: the Linux kernel client (one connection
/// per mount), the test suites and benchmarks never meet them; they stop
/// a hostile or broken client from holding more than its share.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AbuseLimits {
    /// Connections open at once from one peer (IP address; all unix-socket
    /// clients are one peer); more are closed at accept (default 1024).
    pub max_connections_per_peer: Option<usize>,
    /// Requests per second on one connection (default none).
    pub connection_rate: Option<Rate>,
    /// Requests per second from one peer, all its connections together
    /// (default none).
    pub peer_rate: Option<Rate>,
    /// Time a frame may take to arrive in full once its first byte has
    /// (default 30 s); on expiry the connection is closed.
    pub frame_timeout: Option<Duration>,
    /// Time from connect to the first whole frame, Tversion (default
    /// 30 s); on expiry the connection is closed.
    pub handshake_timeout: Option<Duration>,
    /// Bytes of request frames buffered plus replies queued, per
    /// connection (default 64 MiB). At least twice the largest msize.
    pub connection_memory: Option<usize>,
    /// The same, all connections together (default 2 GiB).
    pub server_memory: Option<usize>,
    /// A connection out of memory budget whose replies make no progress
    /// for this long is closed (default 60 s): a client that sends and
    /// never reads.
    pub stall_timeout: Option<Duration>,
}

impl Default for AbuseLimits {
    fn default() -> AbuseLimits {
        AbuseLimits {
            max_connections_per_peer: Some(DEFAULT_MAX_CONNECTIONS_PER_PEER),
            connection_rate: None,
            peer_rate: None,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            connection_memory: Some(DEFAULT_CONNECTION_MEMORY),
            server_memory: Some(DEFAULT_SERVER_MEMORY),
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
        }
    }
}

impl AbuseLimits {
    /// No abuse limit at all (what an embedder serving one trusted stream
    /// may want).
    pub fn none() -> AbuseLimits {
        AbuseLimits {
            max_connections_per_peer: None,
            connection_rate: None,
            peer_rate: None,
            frame_timeout: None,
            handshake_timeout: None,
            connection_memory: None,
            server_memory: None,
            stall_timeout: None,
        }
    }

    /// Checks the settings against each other and `max_msize`.
    pub(crate) fn validate(&self, max_msize: u32) -> Result<(), ConfigError> {
        if self.max_connections_per_peer == Some(0) {
            return Err(ConfigError::Zero("limits.max_connections_per_peer"));
        }
        for (name, rate) in
            [("limits.connection_rate", self.connection_rate), ("limits.peer_rate", self.peer_rate)]
        {
            if let Some(r) = rate {
                if !(r.per_second.is_finite() && r.per_second > 0.0) || r.burst == 0 {
                    return Err(ConfigError::Zero(name));
                }
            }
        }
        for (name, d) in [
            ("limits.frame_timeout", self.frame_timeout),
            ("limits.handshake_timeout", self.handshake_timeout),
            ("limits.stall_timeout", self.stall_timeout),
        ] {
            if d == Some(Duration::ZERO) {
                return Err(ConfigError::Zero(name));
            }
        }
        let floor = 2 * max_msize as usize;
        for (name, m) in [
            ("limits.connection_memory", self.connection_memory),
            ("limits.server_memory", self.server_memory),
        ] {
            if let Some(m) = m {
                if m < floor {
                    return Err(ConfigError::Budget { name, bytes: m, floor });
                }
            }
        }
        Ok(())
    }
}

/// A token bucket: [`take`](Bucket::take) one token or learn how long
/// until one is there.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: Rate) -> Bucket {
        let burst = f64::from(rate.burst);
        Bucket { rate: rate.per_second, burst, tokens: burst, last: Instant::now() }
    }

    /// Takes a token now, or says how long to wait for it (the token is
    /// then already taken: the caller waits, then goes on).
    pub(crate) fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(-self.tokens / self.rate))
        }
    }
}

/// Bytes in use against a limit, taken before allocation and given back
/// when the bytes are freed; waiting for room is back-pressure.
#[derive(Debug)]
pub(crate) struct ByteBudget {
    limit: usize,
    used: AtomicUsize,
    /// Tasks waiting for room.
    waiting: AtomicUsize,
    freed: Notify,
}

/// Why [`ByteBudget::acquire`] gave up.
#[derive(Debug)]
pub(crate) struct Stalled;

impl ByteBudget {
    pub(crate) fn new(limit: usize) -> ByteBudget {
        ByteBudget {
            limit,
            used: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            freed: Notify::new(),
        }
    }

    /// The limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes in use now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn try_take(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used + n > self.limit {
                return false;
            }
            match self.used.compare_exchange_weak(
                used,
                used + n,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// Takes `n` bytes (at most the whole limit, so one frame can always
    /// pass alone), waiting while there is no room. With `stall`, gives
    /// up once nothing has been freed for that long and `stalled()` says
    /// the holder is to blame.
    pub(crate) async fn acquire(
        &self,
        n: usize,
        stall: Option<Duration>,
        stalled: impl Fn() -> bool,
    ) -> Result<usize, Stalled> {
        let n = n.min(self.limit);
        if self.try_take(n) {
            return Ok(n);
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        // Counted out even when the caller gives up waiting (a dropped
        // future).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _waiting = Waiting(&self.waiting);
        async {
            loop {
                let freed = self.freed.notified();
                tokio::pin!(freed);
                freed.as_mut().enable();
                if self.try_take(n) {
                    return Ok(n);
                }
                match stall {
                    Some(d) => {
                        if tokio::time::timeout(d, freed).await.is_err() && stalled() {
                            return Err(Stalled);
                        }
                    }
                    None => freed.await,
                }
            }
        }
        .await
    }

    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.used.fetch_sub(n, Ordering::AcqRel);
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.freed.notify_waiters();
        }
    }
}

/// Bytes charged to a connection's and the server's budgets, given back
/// when dropped.
#[derive(Debug, Default)]
pub(crate) struct Charge {
    conn: Option<(Arc<ByteBudget>, usize)>,
    server: Option<(Arc<ByteBudget>, usize)>,
}

impl Charge {
    /// Adds `other`'s bytes to this charge.
    pub(crate) fn absorb(&mut self, mut other: Charge) {
        for (mine, theirs) in
            [(&mut self.conn, other.conn.take()), (&mut self.server, other.server.take())]
        {
            match (mine.as_mut(), theirs) {
                (Some((_, n)), Some((budget, m))) => {
                    // Same budget: one connection, one server.
                    *n += m;
                    drop(budget);
                }
                (None, Some(t)) => *mine = Some(t),
                (_, None) => {}
            }
        }
    }

    /// Bytes charged to the connection.
    pub(crate) fn bytes(&self) -> usize {
        self.conn.as_ref().map_or(0, |(_, n)| *n)
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if let Some((b, n)) = self.conn.take() {
            b.release(n);
        }
        if let Some((b, n)) = self.server.take() {
            b.release(n);
        }
    }
}

/// The memory budgets one connection charges: its own and the server's.
#[derive(Debug)]
pub(crate) struct Budgets {
    pub(crate) conn: Option<Arc<ByteBudget>>,
    pub(crate) server: Option<Arc<ByteBudget>>,
    pub(crate) stall: Option<Duration>,
}

impl Budgets {
    /// Whether any budget is kept.
    pub(crate) fn enabled(&self) -> bool {
        self.conn.is_some() || self.server.is_some()
    }

    /// Charges `n` bytes if every budget has room now, without waiting:
    /// `None` (nothing charged) when one has not, and the caller waits in
    /// [`charge`](Budgets::charge). What nearly every frame takes: the
    /// waiting future (its `Notify` and timeout) is not built for it.
    pub(crate) fn try_charge(&self, n: usize) -> Option<Charge> {
        let mut charge = Charge::default();
        if n == 0 {
            return Some(charge);
        }
        if let Some(b) = &self.conn {
            let n = n.min(b.limit);
            if !b.try_take(n) {
                return None;
            }
            charge.conn = Some((b.clone(), n));
        }
        if let Some(b) = &self.server {
            let n = n.min(b.limit);
            // On failure `charge` gives the connection's bytes back.
            if !b.try_take(n) {
                return None;
            }
            charge.server = Some((b.clone(), n));
        }
        Some(charge)
    }

    /// Charges `n` bytes, waiting for room (back-pressure). Fails when the
    /// connection's own replies made no progress for the stall deadline
    /// while `stalled()` (nothing of the connection still running: what
    /// holds the budget is replies the client does not read).
    pub(crate) async fn charge(
        &self,
        n: usize,
        stalled: impl Fn() -> bool,
    ) -> Result<Charge, Stalled> {
        let mut charge = Charge::default();
        if n == 0 {
            return Ok(charge);
        }
        if let Some(b) = &self.conn {
            let got = b.acquire(n, self.stall, &stalled).await?;
            charge.conn = Some((b.clone(), got));
        }
        if let Some(b) = &self.server {
            // No stall deadline here: the server's budget is spent by
            // others; each of them is bounded by its own.
            let got = b.acquire(n, None, || false).await?;
            charge.server = Some((b.clone(), got));
        }
        Ok(charge)
    }
}

/// What a frame holds from the moment it is read until its reply is
/// written: a share of the reply budget and its memory charge.
#[derive(Debug)]
pub(crate) struct FramePermit {
    pub(crate) _slot: crate::shell::Slot,
    pub(crate) _memory: Charge,
}

/// Who a peer is for the per-peer limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PeerKey {
    /// A TCP peer's IP address (the port is not part of it).
    Ip(IpAddr),
    /// Every unix-socket client.
    Unix,
}

impl PeerKey {
    /// The key of a listener-reported remote (`ip:port`, a socket path,
    /// `unix`); `None` when there is none (an embedder's own stream).
    pub(crate) fn of(remote: Option<&str>) -> Option<PeerKey> {
        let remote = remote?;
        match remote.parse::<SocketAddr>() {
            Ok(addr) => Some(PeerKey::Ip(addr.ip().to_canonical())),
            Err(_) => match remote.parse::<IpAddr>() {
                Ok(ip) => Some(PeerKey::Ip(ip.to_canonical())),
                Err(_) => Some(PeerKey::Unix),
            },
        }
    }
}

/// The state one peer's connections share.
#[derive(Debug)]
pub(crate) struct PeerState {
    /// The peer's request rate, if limited.
    pub(crate) bucket: Option<Mutex<Bucket>>,
}

/// Connections per peer, and each peer's shared state while it has any.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    peers: Mutex<HashMap<PeerKey, (usize, Arc<PeerState>)>>,
}

/// A connection's place in the [`PeerTable`], given back when dropped.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    table: Arc<PeerTable>,
    key: PeerKey,
    pub(crate) state: Arc<PeerState>,
}

impl PeerTable {
    /// Registers one more connection of `key`, or `None` when the peer
    /// already has `max`.
    pub(crate) fn join(
        self: &Arc<Self>,
        key: PeerKey,
        max: Option<usize>,
        rate: Option<Rate>,
    ) -> Option<PeerSlot> {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = peers.entry(key.clone()).or_insert_with(|| {
            (0, Arc::new(PeerState { bucket: rate.map(|r| Mutex::new(Bucket::new(r))) }))
        });
        if max.is_some_and(|max| entry.0 >= max) {
            if entry.0 == 0 {
                peers.remove(&key);
            }
            return None;
        }
        entry.0 += 1;
        let state = entry.1.clone();
        Some(PeerSlot { table: self.clone(), key, state })
    }

    /// Connections open now from the peer of `remote`.
    #[cfg(test)]
    pub(crate) fn count(&self, key: &PeerKey) -> usize {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner).get(key).map_or(0, |e| e.0)
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut peers = self.table.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = peers.get_mut(&self.key) {
            entry.0 -= 1;
            if entry.0 == 0 {
                peers.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let mut b = Bucket::new(Rate { per_second: 10.0, burst: 3 });
        let t = b.last;
        assert_eq!(b.take(t), None);
        assert_eq!(b.take(t), None);
        assert_eq!(b.take(t), None);
        let wait = b.take(t).expect("the burst is spent");
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // A second later the bucket is full again (3), less the debt.
        assert_eq!(b.take(t + Duration::from_secs(1)), None);
    }

    #[test]
    fn peer_keys() {
        assert_eq!(
            PeerKey::of(Some("10.0.0.1:5564")),
            Some(PeerKey::Ip("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            PeerKey::of(Some("[::ffff:10.0.0.1]:1")),
            Some(PeerKey::Ip("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(PeerKey::of(Some("/run/9p.sock")), Some(PeerKey::Unix));
        assert_eq!(PeerKey::of(Some("unix")), Some(PeerKey::Unix));
        assert_eq!(PeerKey::of(None), None);
    }

    #[test]
    fn peer_table_counts_and_forgets() {
        let t = Arc::new(PeerTable::default());
        let k = PeerKey::Unix;
        let a = t.join(k.clone(), Some(2), None).unwrap();
        let b = t.join(k.clone(), Some(2), None).unwrap();
        assert!(t.join(k.clone(), Some(2), None).is_none());
        drop(a);
        assert_eq!(t.count(&k), 1);
        drop(b);
        assert!(t.peers.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn budget_waits_for_room_and_gives_up_when_stalled() {
        let b = Arc::new(ByteBudget::new(100));
        assert_eq!(b.acquire(60, None, || true).await.unwrap(), 60);
        // Larger than the limit: clamped, so it can pass alone.
        assert!(b.acquire(1000, Some(Duration::from_millis(20)), || true).await.is_err());
        let b2 = b.clone();
        let waiter =
            tokio::spawn(async move { b2.acquire(50, None, || true).await.map_err(|_| ()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        b.release(60);
        assert_eq!(waiter.await.unwrap(), Ok(50));
        assert_eq!(b.used(), 50);
    }

    #[test]
    fn try_charge_takes_both_budgets_or_neither() {
        let conn = Arc::new(ByteBudget::new(100));
        let server = Arc::new(ByteBudget::new(150));
        let budgets =
            Budgets { conn: Some(conn.clone()), server: Some(server.clone()), stall: None };
        let a = budgets.try_charge(80).expect("room in both");
        assert_eq!((a.bytes(), conn.used(), server.used()), (80, 80, 80));
        // The connection's budget has room for 20 more, not 30: nothing taken.
        assert!(budgets.try_charge(30).is_none());
        assert_eq!((conn.used(), server.used()), (80, 80));
        drop(a);
        // The server's budget is short while the connection's is not: the
        // connection's share is given back too.
        assert!(server.try_take(50));
        let held = Charge { conn: None, server: Some((server.clone(), 50)) };
        let c = Arc::new(ByteBudget::new(200));
        let two = Budgets { conn: Some(c.clone()), server: Some(server.clone()), stall: None };
        assert!(two.try_charge(120).is_none());
        assert_eq!((c.used(), server.used()), (0, 50));
        drop(held);
        assert_eq!(server.used(), 0);
        // More than a limit: clamped, as `acquire` does, so it passes alone.
        let big = two.try_charge(1000).expect("clamped");
        assert_eq!((c.used(), server.used()), (200, 150));
        drop(big);
        assert_eq!((c.used(), server.used()), (0, 0));
        assert_eq!(budgets.try_charge(0).map(|c| c.bytes()), Some(0));
    }
}
