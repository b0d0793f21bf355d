//! Failures of the client commands: coreutils-style messages
//! (`ninefold: CMD: WHAT: strerror text`) and exit codes.

use std::fmt;
use std::io;

use ninefold_client::{Errno, Error};

use super::EXIT_USAGE;

/// Why an operand (or the whole command) failed.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// Bad operands or flags: exit 2.
    Usage(String),
    /// An operation on `what` (a path or a server) failed.
    At {
        /// The remote path, local path or server.
        what: String,
        /// The reason, as `strerror` would say it.
        msg: String,
    },
    /// A failure not tied to one operand.
    Msg(String),
    /// Already handled (a closed standard output): exit with this status,
    /// print nothing.
    Quiet(u8),
}

impl Failure {
    /// A usage error.
    pub(crate) fn usage(msg: impl Into<String>) -> Failure {
        Failure::Usage(msg.into())
    }

    /// A plain message.
    pub(crate) fn msg(msg: impl Into<String>) -> Failure {
        Failure::Msg(msg.into())
    }

    /// A client error about `what`.
    pub(crate) fn at(what: impl fmt::Display, e: &Error) -> Failure {
        Failure::At { what: what.to_string(), msg: describe(e) }
    }

    /// An errno about `what`.
    pub(crate) fn errno(what: impl fmt::Display, e: Errno) -> Failure {
        Failure::At { what: what.to_string(), msg: e.message().to_string() }
    }

    /// A local I/O error about `what`.
    pub(crate) fn local(what: impl fmt::Display, e: &io::Error) -> Failure {
        Failure::At { what: what.to_string(), msg: describe_io(e) }
    }

    /// Whether this is a usage error.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Failure::Usage(_))
    }

    /// The process exit status for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Quiet(code) => *code,
            Failure::At { .. } | Failure::Msg(_) => 1,
        }
    }
}

/// Prints `ninefold: CMD: ...` on standard error.
pub(crate) fn print(cmd: &str, f: &Failure) {
    match f {
        Failure::Usage(m) => {
            eprintln!("ninefold: {cmd}: {m}");
            eprintln!("Try 'ninefold {cmd} --help' for more information.");
        }
        Failure::At { what, msg } => eprintln!("ninefold: {cmd}: {what}: {msg}"),
        Failure::Msg(m) => eprintln!("ninefold: {cmd}: {m}"),
        Failure::Quiet(_) => {}
    }
}

/// The message for a client error: the `strerror` text of its errno, or
/// the connection failure as it happened.
pub(crate) fn describe(e: &Error) -> String {
    match e {
        Error::ConnectFailed(m) => m.clone(),
        Error::Tls(t) => format!("TLS: {t}"),
        Error::AuthFailed(_) => e.to_string(),
        Error::Protocol(_) if e.is_disconnected() => "connection to the server lost".into(),
        Error::Protocol(m) => format!("protocol error: {m}"),
        Error::InvalidArgument(m) if m == "server answered EINVAL" => {
            Errno::EINVAL.message().into()
        }
        Error::InvalidArgument(m) => format!("{} ({m})", Errno::EINVAL.message()),
        other => other.errno().message().into(),
    }
}

/// The message for a local I/O error, without Rust's "(os error N)".
pub(crate) fn describe_io(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(raw) => Errno::from_host(raw).message().into(),
        None => match e.get_ref() {
            // A client error wrapped in an io::Error (copy tasks).
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        },
    }
}
