//! `--read-only` for every kind of export: a middleware that answers
//! EROFS to each request that would change a read-only export, before
//! the tree sees it. (Directory exports also refuse changes themselves.)

use std::sync::Arc;

use async_trait::async_trait;
use ninefold_proto::{Errno, Message, OpenFlags, OpenMode};
use ninefold_server::{error_reply, Middleware, Next, Request};

use super::exports::ExportTable;

/// Refuses changes to the exports the table marks read-only.
#[derive(Debug)]
pub(crate) struct ReadOnly(pub(crate) Arc<ExportTable>);

#[async_trait]
impl Middleware for ReadOnly {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        if mutates(msg) && self.0.lookup(req.aname()).is_none_or(|e| e.read_only) {
            return error_reply(req.dialect(), Errno::EROFS);
        }
        next.run(req, msg).await
    }
}

/// Whether a .L open asks for write access or truncation.
fn writes(flags: OpenFlags) -> bool {
    flags.access_mode().can_write()
        || flags.intersects(OpenFlags::TRUNC | OpenFlags::APPEND | OpenFlags::CREATE)
}

/// Whether a request can change the tree.
pub(crate) fn mutates(msg: &Message) -> bool {
    match msg {
        Message::Tlopen(o) => writes(o.flags),
        Message::Tlopenat(o) => writes(o.flags),
        Message::Tlopenatread(o) => writes(o.flags),
        Message::Topen(o) => {
            let access = o.mode.access();
            access == OpenMode::WRITE
                || access == OpenMode::RDWR
                || o.mode.intersects(OpenMode::TRUNC | OpenMode::RCLOSE | OpenMode::APPEND)
        }
        Message::Tcreate(_)
        | Message::Twrite(_)
        | Message::Tremove(_)
        | Message::Twstat(_)
        | Message::Tlcreate(_)
        | Message::Tsymlink(_)
        | Message::Tmknod(_)
        | Message::Trename(_)
        | Message::Tsetattr(_)
        | Message::Txattrcreate(_)
        | Message::Tlink(_)
        | Message::Tmkdir(_)
        | Message::Trenameat(_)
        | Message::Tunlinkat(_)
        | Message::Tfallocate(_)
        | Message::Tlcreateattr(_)
        | Message::Tmkdirattr(_)
        | Message::Tsymlinkattr(_)
        | Message::Tmknodattr(_)
        | Message::Tlinkattr(_)
        | Message::Tsetattrattr(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use ninefold_proto::{base, l, AccessMode};

    use super::*;

    #[test]
    fn classifies_requests() {
        let lopen = |flags| Message::Tlopen(l::Tlopen { fid: 1, flags });
        assert!(!mutates(&lopen(OpenFlags::RDONLY)));
        assert!(!mutates(&lopen(OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW)));
        assert!(mutates(&lopen(OpenFlags::RDONLY.with_access_mode(AccessMode::WriteOnly))));
        assert!(mutates(&lopen(OpenFlags::RDWR)));
        assert!(mutates(&lopen(OpenFlags::TRUNC)));
        let open = |mode| Message::Topen(base::Topen { fid: 1, mode });
        assert!(!mutates(&open(OpenMode::READ)));
        assert!(!mutates(&open(OpenMode::EXEC)));
        assert!(mutates(&open(OpenMode::RDWR)));
        assert!(mutates(&open(OpenMode::READ | OpenMode::TRUNC)));
        assert!(mutates(&Message::Twrite(base::Twrite { fid: 1, offset: 0, data: Bytes::new() })));
        assert!(!mutates(&Message::Tread(base::Tread { fid: 1, offset: 0, count: 1 })));
        assert!(!mutates(&Message::Tclunk(base::Tclunk { fid: 1 })));
    }
}
