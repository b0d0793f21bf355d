//! One request's way through the server after admission, in order:
//!
//! 1. wait for a running slot (`max_inflight`), unless flushed first —
//!    then it ends here, unanswered; Tclunk and Tremove take no slot (they
//!    may wait for queued requests on their fid, which must be able to
//!    run);
//! 2. run the middleware chain and the operation ([`ops::run`]); a flush
//!    abandons it only when proto says the message is interruptible, and a
//!    panic in a filesystem method becomes EIO;
//! 3. complete: the core releases the reply (then any Rflush waiting on
//!    it) to the writer, and the tag, permit, busy marks and any unbound
//!    fid reservation are released.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use ninefold_proto::{Errno, Message};
use tracing::field::Empty;
use tracing::{debug, error};

use tokio_util::sync::WaitForCancellationFuture;

use super::{Conn, Slot};
use crate::core::Admitted;
use crate::fs::Flush;
use crate::ops::{self, Ctx};
use crate::reply::{error_reply, reply_errno};

/// The future that runs an admitted request (in its span): spawned as a
/// task, or started on the reader's task in a box (see
/// [`super::Inline`]), so it can move to a task of its own later.
///
/// The admitted request stays in its box until the future first runs:
/// moving the future (into its box, its span, a task) then copies a
/// pointer, not the request.
pub(crate) fn start(
    conn: &Arc<Conn>,
    admitted: Box<Admitted>,
) -> Spanned<impl Future<Output = ()>> {
    let span = span(&admitted);
    Spanned { inner: run(conn.clone(), admitted), span }
}

pin_project_lite::pin_project! {
    /// A future polled inside its span, which is closed as soon as the
    /// future completes (the reader keeps a finished request's box to
    /// reuse it: its span must not stay open with it).
    pub(crate) struct Spanned<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
    }
}

impl<F: Future<Output = ()>> Future for Spanned<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let r = {
            let _entered = this.span.enter();
            this.inner.poll(cx)
        };
        if r.is_ready() {
            *this.span = tracing::Span::none();
        }
        r
    }
}

// The future of `run` is what the reader's box and a task hold, and what
// is copied whenever it moves: it keeps only what every request needs
// inline (the operation's future, its flush watch) and boxes the rare
// parts (waiting for a running slot, a `.Z` replay).
async fn run(conn: Arc<Conn>, mut admitted: Box<Admitted>) {
    let facts = admitted.message.facts();
    let tag = admitted.request.tag();
    let cancel = admitted.request.cancel.clone();
    let replay = admitted.replay.take();
    let (ctx, message) = Ctx::new(conn.clone(), *admitted);

    // 1. A running slot (at once when one is free and the request is not
    // flushed yet: no waiting, so nothing to race against the flush).
    let _slot = if facts.ends_fid() {
        None
    } else {
        let free = if cancel.is_cancelled() { None } else { conn.run.try_take() };
        let slot = match free {
            Some(p) => Some(p),
            None => Box::pin(wait_for_slot(&conn, &cancel)).await,
        };
        if slot.is_none() {
            drop(ctx);
            conn.complete(tag, None);
            return;
        }
        slot
    };

    // 2. The middleware chain and the operation (timed only when the
    // duration is recorded).
    let started = conn.server.metrics.enabled().then(Instant::now);
    conn.server.metrics.active(1);
    let interruptible = facts.is_interruptible();
    let outcome = match replay {
        None => guarded(ops::run_chain(&ctx, &message), &cancel, interruptible).await,
        Some(r) => {
            Box::pin(guarded(ops::replay::run(&ctx, &message, r), &cancel, interruptible)).await
        }
    };
    let reply = outcome.map(|r| {
        r.unwrap_or_else(|()| {
            error!(tag, message = message.name(), "a filesystem method panicked; answering EIO");
            error_reply(ctx.dialect(), Errno::EIO)
        })
    });
    let body = ctx.take_body();
    drop(ctx);
    // A flushed request that failed (typically EINTR from an operation that
    // watched its cancellation) is suppressed: the client already gave up.
    let reply = reply.filter(|r| !(cancel.is_cancelled() && reply_errno(r).is_some()));
    record_outcome(reply.as_ref());
    conn.server.metrics.active(-1);
    if let Some(t) = started {
        conn.server.metrics.duration(message.name(), t.elapsed(), reply.as_ref());
    }

    // 3. Completion.
    conn.complete_spliced(tag, reply, body);
}

/// Waits for a running slot, or for the flush of the request (`None`).
async fn wait_for_slot(conn: &Conn, cancel: &Flush) -> Option<Slot> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => None,
        p = conn.run.take() => Some(p),
    }
}

/// `work` with a panic turned into `Err(())`, abandoned (`None`) when the
/// request is flushed while it waits, if `interruptible`. It is polled
/// once before the flush is watched: one that completes at once (most do)
/// never makes the flush's token.
fn guarded<F: Future>(work: F, cancel: &Flush, interruptible: bool) -> Guarded<'_, F> {
    Guarded { work: catch_panic(work), cancel, interruptible, watch: None }
}

pin_project_lite::pin_project! {
    /// The future of [`guarded`]: the operation and, once it has waited,
    /// the flush it watches, side by side (no `select!`, no second copy
    /// of the operation's future).
    struct Guarded<'a, F> {
        #[pin]
        work: CatchPanic<F>,
        cancel: &'a Flush,
        interruptible: bool,
        #[pin]
        watch: Option<WaitForCancellationFuture<'a>>,
    }
}

impl<F: Future> Future for Guarded<'_, F> {
    type Output = Option<Result<F::Output, ()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(r) = this.work.poll(cx) {
            return Poll::Ready(Some(r));
        }
        if !*this.interruptible {
            return Poll::Pending;
        }
        if this.watch.is_none() {
            let cancel: &Flush = this.cancel;
            this.watch.set(Some(cancel.cancelled()));
        }
        match this.watch.as_pin_mut() {
            Some(w) => w.poll(cx).map(|()| None),
            None => Poll::Pending,
        }
    }
}

/// The request's span: operation, tag, fid, and (when the span is
/// enabled) the fid's path; the errno is recorded on completion.
fn span(a: &Admitted) -> tracing::Span {
    let req = &a.request;
    let span = tracing::debug_span!(
        "9p",
        rpc.system = "9p",
        rpc.method = a.message.name(),
        conn = req.conn_id(),
        tag = req.tag(),
        fid = Empty,
        path = Empty,
        errno = Empty,
    );
    if !span.is_disabled() {
        if req.fid() != ninefold_proto::NOFID {
            span.record("fid", req.fid());
        }
        if let Some(f) = &a.fid {
            span.record("path", f.location().path());
        }
    }
    span
}

/// Records the reply's errno (or the flush) on the current span.
fn record_outcome(reply: Option<&Message>) {
    match reply.map(reply_errno) {
        None => debug!("flushed"),
        Some(Some(e)) => {
            tracing::Span::current().record("errno", tracing::field::display(e));
            debug!(errno = %e, "error reply");
        }
        Some(None) => {}
    }
}

/// `fut`, with a panic while polling it turned into `Err(())`: a bug in
/// one filesystem method costs its request, not the connection.
pub(crate) fn catch_panic<F: Future>(fut: F) -> CatchPanic<F> {
    CatchPanic { inner: fut }
}

pin_project_lite::pin_project! {
    /// The future of [`catch_panic`] (pinned in place, inside the
    /// request's own box: no allocation of its own).
    pub(crate) struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};

    use super::guarded;
    use crate::fs::Flush;

    /// Pending until `ready` polls have been made, counting them.
    struct After<'a> {
        polls: &'a AtomicUsize,
        ready: usize,
    }

    impl Future for After<'_> {
        type Output = u32;

        fn poll(self: std::pin::Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
            let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= self.ready {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        }
    }

    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn work_that_completes_at_once_is_answered_even_when_flushed() {
        let cancel = Flush::default();
        cancel.cancel();
        let polls = AtomicUsize::new(0);
        let g = pin!(guarded(After { polls: &polls, ready: 1 }, &cancel, true));
        assert!(matches!(poll_once(g), Poll::Ready(Some(Ok(7)))));
        assert_eq!(polls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn interruptible_work_is_abandoned_when_flushed_while_it_waits() {
        let cancel = Flush::default();
        let polls = AtomicUsize::new(0);
        let mut g = pin!(guarded(After { polls: &polls, ready: 100 }, &cancel, true));
        assert!(poll_once(g.as_mut()).is_pending());
        assert!(poll_once(g.as_mut()).is_pending());
        cancel.cancel();
        assert!(matches!(poll_once(g.as_mut()), Poll::Ready(None)));
        // The work was polled first every time (a reply that is ready
        // wins over the flush).
        assert_eq!(polls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_flush_before_the_watch_is_made_is_seen() {
        let cancel = Flush::default();
        let polls = AtomicUsize::new(0);
        let mut g = pin!(guarded(After { polls: &polls, ready: 100 }, &cancel, true));
        cancel.cancel();
        assert!(matches!(poll_once(g.as_mut()), Poll::Ready(None)));
    }

    #[test]
    fn uninterruptible_work_runs_to_its_end_after_a_flush() {
        let cancel = Flush::default();
        let polls = AtomicUsize::new(0);
        let mut g = pin!(guarded(After { polls: &polls, ready: 3 }, &cancel, false));
        assert!(poll_once(g.as_mut()).is_pending());
        cancel.cancel();
        assert!(poll_once(g.as_mut()).is_pending());
        assert!(matches!(poll_once(g.as_mut()), Poll::Ready(Some(Ok(7)))));
    }

    #[test]
    fn a_panic_in_the_work_is_an_error_not_a_crash() {
        let cancel = Flush::default();
        let g = pin!(guarded(
            async {
                if cancel.is_cancelled() {
                    return 0;
                }
                panic!("filesystem bug")
            },
            &cancel,
            true
        ));
        assert!(matches!(poll_once(g), Poll::Ready(Some(Err(())))));
    }
}
