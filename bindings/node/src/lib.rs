//! The native half of the `ninefold` npm package: a thin napi-rs layer over
//! [`ninefold_client`]. Every call maps its arguments, awaits the Rust
//! client and maps the result or the error once; no protocol logic lives
//! here. The JavaScript facade (`index.js`, `index.d.ts`) adds the
//! idiomatic surface: camelCase aliases, `await using`, async iteration,
//! error classes, `AbortSignal`, Web Streams and the `fs/promises` adapter.
//!
//! Conventions shared with the facade:
//! - every method that waits takes a trailing `cancel` token id (see
//!   [`cancel_token_new`]); firing the token drops the Rust future, which
//!   flushes the request in flight and releases its fid;
//! - an error's message is `Variant\u{1}ERRNAME\u{1}errno\u{1}text`, which
//!   the facade turns into the matching `NinefoldError` subclass.

mod cancel;
mod client;
mod convert;
mod dir;
mod file;

pub use cancel::{cancel_token_drop, cancel_token_fire, cancel_token_new};
pub use client::{connect, NativeClient};
pub use convert::{
    JsCapabilities, JsConnectOptions, JsDirEntry, JsNodeKind, JsOpenOptions, JsSetAttrs, JsStatFs,
};
pub use dir::NativeDir;
pub use file::NativeFile;
