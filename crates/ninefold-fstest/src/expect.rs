//! Expectations: how a case says what it wanted and what it got.
//!
//! Every failure message names the expected reply (with its errno) and the
//! reply received, e.g. `expected Rlerror ENOTEMPTY(39), got Rrenameat`.

use ninefold_proto::{Errno, Message};

use crate::conn::ConnError;

/// Why a case stopped early: it failed, or it found it cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    Fail(String),
    Skip(String),
}

impl Stop {
    /// Prefixes the message with what the case was doing.
    pub(crate) fn context(self, what: &str) -> Stop {
        match self {
            Stop::Fail(m) => Stop::Fail(format!("{what}: {m}")),
            Stop::Skip(m) => Stop::Skip(m),
        }
    }
}

impl From<ConnError> for Stop {
    fn from(e: ConnError) -> Stop {
        Stop::Fail(e.to_string())
    }
}

/// Result of a case step.
pub(crate) type R<T> = Result<T, Stop>;

/// A failure with a formatted message.
pub(crate) fn fail<T>(msg: impl Into<String>) -> R<T> {
    Err(Stop::Fail(msg.into()))
}

/// Fails unless `cond` holds.
pub(crate) fn ensure(cond: bool, msg: impl FnOnce() -> String) -> R<()> {
    if cond {
        Ok(())
    } else {
        Err(Stop::Fail(msg()))
    }
}

/// Fails unless `got == want`, naming `what`.
pub(crate) fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> R<()> {
    if got == want {
        Ok(())
    } else {
        Err(Stop::Fail(format!("{what}: expected {want:?}, got {got:?}")))
    }
}

/// `ENOENT(2)`.
pub(crate) fn errno_str(e: Errno) -> String {
    match e.name() {
        Some(n) => format!("{n}({})", e.get()),
        None => format!("errno {}", e.get()),
    }
}

/// A reply in words: its name, and for errors the errno.
pub(crate) fn describe(m: &Message) -> String {
    match m {
        Message::Rlerror(e) => format!("Rlerror {}", errno_str(e.ecode)),
        Message::Rerror(e) => {
            if e.errno.get() != 0 {
                format!("Rerror {} {:?}", errno_str(e.errno), e.ename.to_string_lossy())
            } else {
                format!("Rerror {:?}", e.ename.to_string_lossy())
            }
        }
        other => other.name().to_owned(),
    }
}

/// The errno of an error reply (`Rlerror`, or `Rerror` through its errno or
/// string), `None` for anything else.
pub(crate) fn reply_errno(m: &Message) -> Option<Errno> {
    match m {
        Message::Rlerror(e) => Some(e.ecode),
        Message::Rerror(e) => Some(e.to_errno()),
        _ => None,
    }
}

/// Is this an error reply?
pub(crate) fn is_error(m: &Message) -> bool {
    matches!(m, Message::Rlerror(_) | Message::Rerror(_))
}

/// Expects an error reply with one of `want` (the first is the one the case
/// states; the others are documented alternatives). An empty `want` accepts
/// any error.
pub(crate) fn expect_err(m: &Message, want: &[Errno]) -> R<Errno> {
    let wanted = || {
        if want.is_empty() {
            "an error reply".to_owned()
        } else {
            let names: Vec<_> = want.iter().map(|e| errno_str(*e)).collect();
            format!("Rlerror {}", names.join(" or "))
        }
    };
    match reply_errno(m) {
        Some(e) if want.is_empty() || want.contains(&e) => Ok(e),
        _ => Err(Stop::Fail(format!("expected {}, got {}", wanted(), describe(m)))),
    }
}

/// Takes the reply apart if it is the named message, else fails with
/// `expected Rxxx, got ...`.
macro_rules! expect_msg {
    ($reply:expr, $variant:ident) => {
        match $reply {
            ninefold_proto::Message::$variant(r) => Ok(r),
            other => Err($crate::expect::Stop::Fail(format!(
                "expected {}, got {}",
                stringify!($variant),
                $crate::expect::describe(&other)
            ))),
        }
    };
}
pub(crate) use expect_msg;

#[cfg(test)]
mod tests {
    use super::*;
    use ninefold_proto::l::Rlerror;

    #[test]
    fn messages_name_both_sides() {
        let got: Message = ninefold_proto::l::Rrenameat {}.into();
        let e = expect_err(&got, &[Errno::ENOTEMPTY]).unwrap_err();
        assert_eq!(e, Stop::Fail("expected Rlerror ENOTEMPTY(39), got Rrenameat".into()));
        let err: Message = Rlerror { ecode: Errno::EEXIST }.into();
        assert_eq!(expect_err(&err, &[Errno::ENOTEMPTY, Errno::EEXIST]), Ok(Errno::EEXIST));
        assert!(expect_err(&err, &[]).is_ok());
        let r: R<ninefold_proto::l::Rlopen> = expect_msg!(err, Rlopen);
        assert_eq!(r.unwrap_err(), Stop::Fail("expected Rlopen, got Rlerror EEXIST(17)".into()));
    }
}
