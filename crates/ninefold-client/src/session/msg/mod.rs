//! Message-level calls on [`Session`](crate::Session): one wire message
//! each, one file per message with the same stems as `ninefold-proto`
//! (`open.rs` holds Tlopen and Tlcreate, `readdir.rs` Treaddir ...).
//! Logical operations, which compose these, live in `crate::op`.

/// Sends `$msg` and unwraps the reply variant `$variant` (an Rlerror
/// becomes `Err`).
macro_rules! rpc {
    ($session:expr, $msg:expr, $variant:ident) => {{
        let frame = $crate::session::Shared::rpc(
            &$session.shared,
            ::ninefold_proto::Message::from($msg),
            None,
        )
        .await?;
        match $crate::session::check_error(frame)?.message {
            ::ninefold_proto::Message::$variant(r) => r,
            other => return Err($crate::session::unexpected(&other, stringify!($variant))),
        }
    }};
}

mod attach;
mod clunk;
mod fallocate;
mod fsync;
mod getattr;
mod link;
mod mkdir;
mod mknod;
mod open;
mod read;
mod readdir;
mod readlink;
mod rename;
mod setattr;
mod statfs;
mod symlink;
mod unlinkat;
mod walk;
mod write;
mod zerofs;

pub use zerofs::OpenedRead;
