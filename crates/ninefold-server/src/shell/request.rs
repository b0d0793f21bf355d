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

use super::Conn;
use crate::core::Admitted;
use crate::ops::{self, Ctx};
use crate::reply::{error_reply, reply_errno};

/// The future that runs an admitted request (in its span): spawned as a
/// task, or started on the reader's task in a box (see
/// [`super::Inline`]), so it can move to a task of its own later.
pub(crate) fn start(conn: &Arc<Conn>, admitted: Admitted) -> Spanned<impl Future<Output = ()>> {
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

async fn run(conn: Arc<Conn>, mut admitted: Admitted) {
    let facts = admitted.message.facts();
    let tag = admitted.request.tag();
    let cancel = admitted.request.cancel.clone();
    let replay = admitted.replay.take();
    let (ctx, message) = Ctx::new(conn.clone(), admitted);

    // 1. A running slot (at once when one is free and the request is not
    // flushed yet: no waiting, so nothing to race against the flush).
    let _slot = if facts.ends_fid() {
        None
    } else {
        let free = if cancel.is_cancelled() { None } else { conn.run.try_take() };
        let slot = match free {
            Some(p) => Some(p),
            None => tokio::select! {
                biased;
                _ = cancel.cancelled() => None,
                p = conn.run.take() => Some(p),
            },
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
    let work = catch_panic(async {
        match replay {
            None => ops::run_chain(&ctx, &message).await,
            Some(r) => ops::replay::run(&ctx, &message, r).await,
        }
    });
    let outcome = if facts.is_interruptible() {
        // Polled once before the flush is watched: one that completes at
        // once (most do) never makes the flush's token.
        let mut work = std::pin::pin!(work);
        let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(r) => Some(r),
            Poll::Pending => tokio::select! {
                biased;
                r = work => Some(r),
                () = cancel.cancelled() => None,
            },
        }
    } else {
        Some(work.await)
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
