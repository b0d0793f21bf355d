//! [`Server`]: serve a tree over any byte stream, TCP or unix sockets.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn, Instrument};

use crate::access::Denials;
use crate::config::ServerConfig;
use crate::ledger::{Ledger, MemLedger};
use crate::limits::{ByteBudget, PeerKey, PeerSlot, PeerTable};
use crate::lineage::Lineage;
use crate::metrics::Metrics;
use crate::{
    shell, AccessDenials, AccessPolicy, Attacher, ConfigError, Keyring, Middleware, Peer,
    ServeError,
};

/// Shared by every connection of a server.
#[derive(Debug)]
pub(crate) struct ServerInner {
    pub(crate) config: ServerConfig,
    pub(crate) attacher: Arc<dyn Attacher>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) shutdown: CancellationToken,
    /// Set before `shutdown` is cancelled: what a connection's reader
    /// reads each time round instead of polling the token (which takes
    /// locks shared by every connection).
    pub(crate) stopping: AtomicBool,
    pub(crate) metrics: Arc<Metrics>,
    /// The `.Z` op-id ledger, shared by every connection.
    pub(crate) ledger: Arc<dyn Ledger>,
    /// The `.Z` durability lineage token.
    pub(crate) lineage: Lineage,
    /// Tauth keys (empty: Tauth answers "not required").
    pub(crate) keys: Keyring,
    /// Who may attach what (`None`: everyone, as asserted).
    pub(crate) access: Option<AccessPolicy>,
    /// Refusals, by stage.
    pub(crate) denials: Denials,
    next_conn: AtomicU64,
    connections: AtomicUsize,
    tracker: TaskTracker,
    /// Connections and shared state per peer.
    pub(crate) peers: Arc<PeerTable>,
    /// The memory budget of all connections together.
    pub(crate) memory: Option<Arc<ByteBudget>>,
}

impl ServerInner {
    pub(crate) fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

impl std::fmt::Debug for dyn Attacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Attacher")
    }
}

/// A 9P server: a tree (through an [`Attacher`]), limits and middleware.
/// Cheap to clone; clones share connections, limits and shutdown.
///
/// Serve one stream with [`serve_connection`](Server::serve_connection),
/// or accept from a listener with [`serve_tcp`](Server::serve_tcp) /
/// [`serve_unix`](Server::serve_unix).
///
/// ```no_run
/// use std::sync::Arc;
/// use ninefold_server::{Node, Server};
/// # use async_trait::async_trait;
/// # use ninefold_proto::Qid;
/// # #[derive(Debug)] struct Root;
/// # #[async_trait] impl Node for Root { fn qid(&self) -> Qid { Qid::default() } }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let root: Arc<dyn Node> = Arc::new(Root);
/// let server = Server::builder(root).max_msize(256 * 1024 + 24).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5564").await?;
/// server.serve_tcp(listener).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Server {
    inner: Arc<ServerInner>,
}

/// Builds a [`Server`]; every setting has a default (see
/// [`ServerConfig`]).
#[derive(Debug)]
pub struct ServerBuilder {
    config: ServerConfig,
    attacher: Arc<dyn Attacher>,
    middleware: Vec<Arc<dyn Middleware>>,
    metrics: Metrics,
    lineage: Option<Lineage>,
    keys: Keyring,
    access: Option<AccessPolicy>,
    denials: Denials,
}

impl ServerBuilder {
    /// The 9P2000.L.Z durability lineage token (Tgetlineage) to answer
    /// with: a value stored with a persistent export's data, so that it
    /// survives a restart. The default is random per server, the honest
    /// answer for a tree that lives in memory (a client's Tfsyncdur
    /// naming an older token then gets ESTALE).
    pub fn lineage_token(mut self, token: u64) -> Self {
        self.lineage = Some(Lineage::fixed(token));
        self
    }

    /// Offers the ninefold Tauth scheme with these keys (docs/AUTH.md):
    /// a client proving a key attaches as the key's
    /// [`Principal`](crate::Principal). Without keys (the default) Tauth
    /// answers "not required" (ENOENT in 9P2000.L).
    pub fn auth_keys(mut self, keys: Keyring) -> Self {
        self.keys = keys;
        self
    }

    /// Decides every Tattach (and 9P2000.L.Z Trebind) by `policy`: who
    /// may attach which export, read-only or not, as which uid. Without
    /// a policy (the default) every peer is trusted and the uid asserted
    /// in Tattach is believed.
    pub fn access(mut self, policy: AccessPolicy) -> Self {
        self.access = Some(policy);
        self
    }

    /// Largest msize to negotiate (default 1 MiB + 24; at most 16 MiB + 24).
    pub fn max_msize(mut self, msize: u32) -> Self {
        self.config.max_msize = msize;
        self
    }

    /// Requests running at once per connection (default 64).
    pub fn max_inflight(mut self, n: usize) -> Self {
        self.config.max_inflight = n;
        self
    }

    /// Requests waiting for a running slot per connection (default 64).
    pub fn max_queued(mut self, n: usize) -> Self {
        self.config.max_queued = n;
        self
    }

    /// Connections served at once (default unlimited).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = Some(n);
        self
    }

    /// Fids per connection (default 65536); one more answers EMFILE.
    pub fn max_fids(mut self, n: usize) -> Self {
        self.config.max_fids = n;
        self
    }

    /// Close idle connections after `d` without a request (default never).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.config.idle_timeout = Some(d);
        self
    }

    /// Time requests get to finish at shutdown (default 10 s).
    pub fn shutdown_deadline(mut self, d: Duration) -> Self {
        self.config.shutdown_deadline = d;
        self
    }

    /// The dialects offered (default 9P2000.L.Z, 9P2000.L, 9P2000.u,
    /// 9P2000).
    pub fn dialects(mut self, dialects: &[ninefold_proto::Dialect]) -> Self {
        self.config.dialects = dialects.to_vec();
        self
    }

    /// Whether large reads are spliced or copied (default measured; see
    /// [`SpliceReads`](crate::SpliceReads)).
    pub fn splice_reads(mut self, policy: crate::SpliceReads) -> Self {
        self.config.splice_reads = policy;
        self
    }

    /// The abuse limits (see [`AbuseLimits`](crate::AbuseLimits); the
    /// defaults are generous, [`AbuseLimits::none`](crate::AbuseLimits::none)
    /// disables them).
    pub fn limits(mut self, limits: crate::AbuseLimits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Appends a middleware (the first added is outermost).
    pub fn middleware(mut self, m: impl Middleware) -> Self {
        self.middleware.push(Arc::new(m));
        self
    }

    /// Records OpenTelemetry metrics through `meter`.
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    pub fn meter(mut self, meter: &opentelemetry::metrics::Meter) -> Self {
        self.metrics = Metrics::new(meter);
        self.denials = Denials::with_meter(meter);
        self
    }

    /// Keeps the 9P2000.L.Z ledger's journal in `dir` (created if
    /// missing), so that a retry after a restart still finds its outcome.
    pub fn state_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.state_dir = Some(dir.into());
        self
    }

    /// Bounds and retention of the 9P2000.L.Z exactly-once ledger.
    pub fn ledger(mut self, ledger: crate::LedgerConfig) -> Self {
        self.config.ledger = ledger;
        self
    }

    /// The server, or why the settings are inconsistent (or the state
    /// directory cannot be used).
    pub fn build(self) -> Result<Server, ConfigError> {
        self.config.validate()?;
        let metrics = Arc::new(self.metrics);
        let ledger = match &self.config.state_dir {
            Some(dir) => MemLedger::open(self.config.ledger, metrics.clone(), dir)
                .map_err(|e| ConfigError::StateDir(format!("{}: {e}", dir.display())))?,
            None => MemLedger::new(self.config.ledger, metrics.clone()),
        };
        Ok(ServerBuilder { metrics: Metrics::default(), ..self }
            .assemble(metrics, Arc::new(ledger)))
    }

    fn assemble(self, metrics: Arc<Metrics>, ledger: Arc<dyn Ledger>) -> Server {
        let memory = self.config.limits.server_memory.map(|m| Arc::new(ByteBudget::new(m)));
        metrics.observe_memory(memory.clone());
        Server {
            inner: Arc::new(ServerInner {
                config: self.config,
                attacher: self.attacher,
                middleware: self.middleware,
                shutdown: CancellationToken::new(),
                stopping: AtomicBool::new(false),
                metrics,
                ledger,
                lineage: self.lineage.unwrap_or_else(Lineage::random),
                keys: self.keys,
                access: self.access,
                denials: self.denials,
                next_conn: AtomicU64::new(1),
                connections: AtomicUsize::new(0),
                tracker: TaskTracker::new(),
                peers: Arc::default(),
                memory,
            }),
        }
    }
}

impl Server {
    /// A server with default settings.
    pub fn new(attacher: impl Attacher) -> Server {
        let builder = Server::builder(attacher);
        let metrics = Arc::new(Metrics::default());
        let ledger = MemLedger::new(builder.config.ledger, metrics.clone());
        builder.assemble(metrics, Arc::new(ledger))
    }

    /// A builder for a server of `attacher` (an `Arc<dyn Node>` for a
    /// single tree, [`Exports`](crate::Exports) for several).
    pub fn builder(attacher: impl Attacher) -> ServerBuilder {
        ServerBuilder {
            config: ServerConfig::default(),
            attacher: Arc::new(attacher),
            middleware: Vec::new(),
            metrics: Metrics::default(),
            lineage: None,
            keys: Keyring::new(),
            access: None,
            denials: Denials::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Access refusals since the server started (failed Tauth exchanges,
    /// refused attaches, EROFS under read-only grants).
    pub fn access_denials(&self) -> AccessDenials {
        self.inner.denials.snapshot()
    }

    /// Connections being served now.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Serves one connection over `io` until the peer closes it, the
    /// server shuts down, or the peer breaks the protocol. Counts against
    /// `max_connections` only when accepted by a listener loop.
    pub async fn serve_connection<IO>(&self, io: IO) -> Result<(), ServeError>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        self.serve_connection_from(io, None).await
    }

    /// [`serve_connection`](Server::serve_connection), naming the peer for
    /// logs and [`Request::remote_addr`](crate::Request::remote_addr).
    pub async fn serve_connection_from<IO>(
        &self,
        io: IO,
        remote: Option<String>,
    ) -> Result<(), ServeError>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        self.serve_peer(io, Peer::new(remote)).await
    }

    /// [`serve_connection`](Server::serve_connection) for a peer the
    /// transport already identified (its address, and the
    /// [`Principal`](crate::Principal) a TLS handshake proved), seen by
    /// every request as [`Request::peer`](crate::Request::peer).
    ///
    /// A peer that already has `max_connections_per_peer` connections gets
    /// [`ServeError::PeerLimit`] and its stream is closed.
    pub async fn serve_peer<IO>(&self, io: IO, peer: Peer) -> Result<(), ServeError>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let slot = match self.join_peer(&peer) {
            Ok(slot) => slot,
            Err(e) => {
                drop(io);
                return Err(e);
            }
        };
        self.serve_slot(io, peer, slot).await
    }

    /// Takes a place in the peer table for `peer`, or refuses it.
    fn join_peer(&self, peer: &Peer) -> Result<Option<PeerSlot>, ServeError> {
        let limits = &self.inner.config.limits;
        if limits.max_connections_per_peer.is_none() && limits.peer_rate.is_none() {
            return Ok(None);
        }
        let Some(key) = PeerKey::of(peer.remote()) else { return Ok(None) };
        match self.inner.peers.join(key, limits.max_connections_per_peer, limits.peer_rate) {
            Some(slot) => Ok(Some(slot)),
            None => {
                self.inner.metrics.limit("peer_connections");
                warn!(
                    remote = peer.remote().unwrap_or("-"),
                    "per-peer connection limit reached, closing"
                );
                Err(ServeError::PeerLimit)
            }
        }
    }

    async fn serve_slot<IO>(
        &self,
        io: IO,
        peer: Peer,
        slot: Option<PeerSlot>,
    ) -> Result<(), ServeError>
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        self.inner.metrics.connection(1);
        let state = slot.as_ref().map(|s| s.state.clone());
        let r = shell::run(self.inner.clone(), io, Arc::new(peer), state).await;
        self.inner.metrics.connection(-1);
        drop(slot);
        r
    }

    /// Accepts TCP connections until [`shutdown`](Server::shutdown).
    pub async fn serve_tcp(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            let accepted = tokio::select! {
                _ = self.inner.shutdown.cancelled() => return Ok(()),
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    self.spawn_connection(stream, Some(addr.to_string()));
                }
                Err(e) => accept_error(e).await?,
            }
        }
    }

    /// Accepts unix-socket connections until [`shutdown`](Server::shutdown).
    pub async fn serve_unix(&self, listener: UnixListener) -> io::Result<()> {
        loop {
            let accepted = tokio::select! {
                _ = self.inner.shutdown.cancelled() => return Ok(()),
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, addr)) => {
                    let name = addr.as_pathname().map(|p| p.display().to_string());
                    self.spawn_connection(stream, name.or_else(|| Some("unix".into())));
                }
                Err(e) => accept_error(e).await?,
            }
        }
    }

    /// Serves an accepted stream in its own task, honouring
    /// `max_connections` (an extra connection is closed at once).
    pub fn spawn_connection<IO>(&self, io: IO, remote: Option<String>)
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        self.spawn_peer(io, Peer::new(remote));
    }

    /// [`spawn_connection`](Server::spawn_connection) for a peer the
    /// transport already identified (see [`serve_peer`](Server::serve_peer)).
    pub fn spawn_peer<IO>(&self, io: IO, peer: Peer)
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let inner = &self.inner;
        let count = inner.connections.fetch_add(1, Ordering::AcqRel) + 1;
        let remote = peer.remote().unwrap_or("-").to_owned();
        if inner.config.max_connections.is_some_and(|max| count > max) {
            inner.connections.fetch_sub(1, Ordering::AcqRel);
            inner.metrics.rejected();
            warn!(remote = %remote, "connection limit reached, closing");
            drop(io);
            return;
        }
        let Ok(slot) = self.join_peer(&peer) else {
            inner.connections.fetch_sub(1, Ordering::AcqRel);
            drop(io);
            return;
        };
        let server = self.clone();
        let span = match peer.principal() {
            Some(p) => tracing::info_span!("conn", remote = %remote, principal = p.name()),
            None => tracing::info_span!("conn", remote = %remote),
        };
        inner.tracker.spawn(
            async move {
                debug!("connected");
                match server.serve_slot(io, peer, slot).await {
                    Ok(()) => debug!("disconnected"),
                    Err(e) => info!(error = %e, "connection ended"),
                }
                server.inner.connections.fetch_sub(1, Ordering::AcqRel);
            }
            .instrument(span),
        );
    }

    /// Cancelled when the server shuts down (for listener loops of other
    /// modules).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Runs `fut` as a task of this server: [`shutdown`](Server::shutdown)
    /// cancels it and waits for it (a TLS handshake, say).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn spawn_tracked<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let shutdown = self.inner.shutdown.clone();
        self.inner.tracker.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                () = fut => {}
            }
        });
    }

    /// Graceful shutdown: stop accepting, let requests in flight finish
    /// (within the shutdown deadline), close every connection. Returns
    /// once all connections spawned by the listener loops are closed.
    pub async fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::Release);
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        let deadline = self.inner.config.shutdown_deadline + Duration::from_secs(1);
        if tokio::time::timeout(deadline, self.inner.tracker.wait()).await.is_err() {
            warn!("connections still open after the shutdown deadline");
        }
    }
}

/// Transient accept errors (out of descriptors, aborted handshakes) must
/// not end the listener.
pub(crate) async fn accept_error(e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted => Ok(()),
        _ if e.raw_os_error() == Some(libc_emfile()) || e.raw_os_error() == Some(libc_enfile()) => {
            warn!(error = %e, "accept failed, retrying");
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(())
        }
        _ => Err(e),
    }
}

const fn libc_emfile() -> i32 {
    24
}

const fn libc_enfile() -> i32 {
    23
}
