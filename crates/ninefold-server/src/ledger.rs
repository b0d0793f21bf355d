//! The seam for the 9P2000.L.Z exactly-once ledger: a per-server store of
//! mutation outcomes keyed by the envelope's op id, consulted when an
//! enveloped request is admitted and written when it completes.
//!
//! Today only [`NoLedger`] exists: every request executes and nothing is
//! kept. The `.Z` work fills this in (retention, replay, RETRY checks,
//! single-flight for an op id that is still executing).

use std::fmt::Debug;

use ninefold_proto::z::Envelope;
use ninefold_proto::Message;

/// What admission does with an enveloped request.
#[derive(Debug)]
#[allow(dead_code)] // `Answer` is for the ledger the next issue adds.
pub(crate) enum Verdict {
    /// Run it (a first attempt, or no deduplication asked).
    Execute,
    /// Do not run it: answer with this (a stored outcome, or an error
    /// such as ESTALE for a retry of an unknown op id).
    Answer(Box<Message>),
}

/// A per-server store of outcomes keyed by op id (one instance shared by
/// every connection, so a retry on a new connection finds its result).
pub(crate) trait Ledger: Send + Sync + Debug + 'static {
    /// Consulted at admission, in arrival order, for every request that
    /// carries an envelope.
    fn admit(&self, envelope: &Envelope) -> Verdict;

    /// Written at completion of an admitted enveloped request: its reply,
    /// or `None` when a flush suppressed it.
    fn complete(&self, envelope: &Envelope, reply: Option<&Message>);
}

/// The ledger of a server that keeps nothing: every request executes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NoLedger;

impl Ledger for NoLedger {
    fn admit(&self, _envelope: &Envelope) -> Verdict {
        Verdict::Execute
    }

    fn complete(&self, _envelope: &Envelope, _reply: Option<&Message>) {}
}
