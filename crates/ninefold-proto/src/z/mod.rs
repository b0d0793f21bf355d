//! 9P2000.L.Z, the ZeroFS dialect: 9P2000.L plus a 25-byte mutation
//! [`Envelope`] on the covered requests and private messages 228–255.
//!
//! | T | R | Message | Envelope |
//! |---|---|---|---|
//! | 228 | 229 | [`Tfallocate`] | yes |
//! | 230 | 231 | [`Tlopenatread`] | no |
//! | 232 | 51 (Rfsync) | [`Tfsyncdur`] | no |
//! | 233 | 234 | [`Tgetlineage`] | no |
//! | 236 | 237 | [`Tlopenat`] | no |
//! | 238 | 239 | [`Tlcreateattr`] | yes |
//! | 240 | 241 | [`Tmkdirattr`] | yes |
//! | 242 | 243 | [`Tsymlinkattr`] | yes |
//! | 244 | 245 | [`Tmknodattr`] | yes |
//! | 246 | 247 | [`Tlinkattr`] | yes |
//! | 248 | 249 | [`Tsetattrattr`] | yes |
//! | 250 | 251 | [`Trebind`] | no |
//! | 252 | 253 | [`Twalkgetattr`] | no |
//! | 254 | 255 | [`Treaddirattr`] | no |
//!
//! The standard Tlcreate, Tsymlink, Tmknod, Trename, Tsetattr, Tlink,
//! Tmkdir, Trenameat, Tunlinkat and Twrite also carry the envelope in this
//! dialect ([`Dialect::has_envelope`](crate::Dialect::has_envelope)).

mod create;
mod envelope;
mod fallocate;
mod fsyncdur;
mod lineage;
mod lopenat;
mod readdirattr;
mod rebind;
mod setattrattr;
mod walkgetattr;

pub use create::{
    Rlcreateattr, Rlinkattr, Rmkdirattr, Rmknodattr, Rsymlinkattr, Tlcreateattr, Tlinkattr,
    Tmkdirattr, Tmknodattr, Tsymlinkattr,
};
pub use envelope::Envelope;
pub use fallocate::{Rfallocate, Tfallocate};
pub use fsyncdur::Tfsyncdur;
pub use lineage::{Rgetlineage, Tgetlineage};
pub use lopenat::{Rlopenat, Rlopenatread, Tlopenat, Tlopenatread};
pub use readdirattr::{DirentAttr, Rreaddirattr, Treaddirattr};
pub use rebind::{Credentials, CredentialsError, Rrebind, Trebind};
pub use setattrattr::{Rsetattrattr, Tsetattrattr};
pub use walkgetattr::{Rwalkgetattr, Twalkgetattr};

/// Errno 107 (`P9_ENOTLEADER_CLEAN`): refused before any effect, this
/// server is not the writer; re-probe and send again as a first attempt.
pub const ENOTLEADER_CLEAN: crate::Errno = crate::Errno::new(107);
/// Errno 108 (`P9_ENOTLEADER`): authority lost after dispatch, the outcome
/// is unknown; re-probe and send again with RETRY.
pub const ENOTLEADER: crate::Errno = crate::Errno::new(108);
/// Errno 116 (`P9_EOPIDSTALE`, numerically ESTALE): a RETRY for an unknown
/// or expired op_id, or bad envelope flags.
pub const EOPIDSTALE: crate::Errno = crate::Errno::new(116);
