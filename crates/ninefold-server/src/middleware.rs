//! Middleware: code that wraps the operation of every request (logging,
//! authorisation, metrics) without forking the server.

use std::sync::Arc;

use async_trait::async_trait;
use ninefold_proto::Message;

use crate::fs::Request;
use crate::ops::{self, Ctx};

/// Wraps every request's operation. Middleware runs outermost first, in the order
/// given to [`ServerBuilder::middleware`](crate::ServerBuilder::middleware):
/// the first sees the request first and the reply last.
///
/// What a middleware sees: the decoded message, and in the [`Request`]
/// who asks, on which connection and dialect, and (9P2000.L.Z) the
/// frame's mutation envelope ([`Request::envelope`]). Proto's facts say
/// what the message is ([`Message::facts`], [`Message::mutates`]).
///
/// A middleware may answer by itself (an error reply built with
/// [`error_reply`](crate::error_reply), say) or call
/// [`Next::run`] and inspect or return what it gives. Replacing a
/// *successful* reply after `next.run` is not supported: the request's
/// effects (a new fid, an open) have already happened.
///
/// ```
/// use async_trait::async_trait;
/// use ninefold_proto::{Errno, Message};
/// use ninefold_server::{error_reply, Middleware, Next, Request};
///
/// /// Refuses every request from uid 666.
/// #[derive(Debug)]
/// struct Deny;
///
/// #[async_trait]
/// impl Middleware for Deny {
///     async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
///         if req.uid() == Some(666) {
///             return error_reply(req.dialect(), Errno::EACCES);
///         }
///         next.run(req, msg).await
///     }
/// }
/// ```
#[async_trait]
pub trait Middleware: Send + Sync + std::fmt::Debug + 'static {
    /// Handles `msg`, usually by calling `next.run(req, msg)`.
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message;
}

/// The rest of the chain after a middleware.
#[derive(Debug)]
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    ctx: &'a Ctx,
}

impl<'a> Next<'a> {
    pub(crate) fn new(rest: &'a [Arc<dyn Middleware>], ctx: &'a Ctx) -> Next<'a> {
        Next { rest, ctx }
    }

    /// Runs the remaining middleware and the request's handler, returning
    /// the reply. The request context passed down is the server's own;
    /// `req` is accepted for symmetry and must be the one received.
    pub async fn run(self, req: &Request, msg: &Message) -> Message {
        match self.rest.split_first() {
            Some((first, rest)) => first.call(req, msg, Next { rest, ctx: self.ctx }).await,
            None => ops::run(self.ctx, msg).await,
        }
    }
}
