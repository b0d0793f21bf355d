//! `--read-only` for every kind of export: a middleware that answers
//! EROFS to each request that would change a read-only export, before
//! the tree sees it. What mutates is proto's fact ([`Message::mutates`]).
//! (Directory exports also refuse changes themselves.)

use std::sync::Arc;

use async_trait::async_trait;
use ninefold_proto::{Errno, Message};
use ninefold_server::{error_reply, Middleware, Next, Request};

use super::exports::ExportTable;

/// Refuses changes to the exports the table marks read-only.
#[derive(Debug)]
pub(crate) struct ReadOnly(pub(crate) Arc<ExportTable>);

#[async_trait]
impl Middleware for ReadOnly {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        if msg.mutates() && self.0.lookup(req.aname()).is_none_or(|e| e.read_only) {
            return error_reply(req.dialect(), Errno::EROFS);
        }
        next.run(req, msg).await
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use ninefold_proto::{base, l, OpenFlags};

    use super::*;

    #[test]
    fn reads_pass_and_writes_are_refused_by_the_facts() {
        assert!(!Message::from(l::Tlopen { fid: 1, flags: OpenFlags::RDONLY }).mutates());
        assert!(Message::from(l::Tlopen { fid: 1, flags: OpenFlags::RDWR }).mutates());
        assert!(Message::Twrite(base::Twrite { fid: 1, offset: 0, data: Bytes::new() }).mutates());
        assert!(!Message::Tclunk(base::Tclunk { fid: 1 }).mutates());
    }
}
