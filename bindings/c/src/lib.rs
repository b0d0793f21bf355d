//! A C ABI over [`ninefold_client`]: every [`Client`](ninefold_client::Client),
//! [`File`](ninefold_client::File) and
//! [`Dir`](ninefold_client::Dir) operation as a blocking C function, for the Go module
//! (`bindings/go`) and any other C caller. The header is
//! `include/ninefold.h`, generated from this crate by cbindgen (a test
//! checks it is current).
//!
//! # Conventions
//!
//! - Every operation returns `int32_t`: `0` on success, else an
//!   [`NfErrorCode`], with the details in the `NfError *err` out-parameter
//!   (which may be NULL). A filled `NfError` owns its message: free it with
//!   [`nf_error_free`].
//! - Results go to out-parameters, written only on success. Buffers and
//!   arrays the library allocates ([`NfBuf`], [`NfDirEntries`]) are freed
//!   with [`nf_buf_free`] / [`nf_dir_entries_free`].
//! - Strings and names are `(pointer, length)` byte ranges, not
//!   NUL-terminated: non-UTF-8 names cross unchanged. The library reads
//!   them only during the call; no caller pointer is kept after it returns.
//! - The library owns one multi-threaded tokio runtime, started on first
//!   use. A call blocks the calling thread until its operation finishes.
//! - Cancellation: each operation takes an optional `const NfCancel *`.
//!   [`nf_cancel_trigger`] from another thread makes the call drop its
//!   operation (the client then flushes a request already sent and
//!   releases any fid it bound) and return [`NfErrorCode::NF_CANCELLED`].
//!   The call has dropped the operation before it returns.
//! - Rust panics never cross the boundary: they become
//!   [`NfErrorCode::NF_PANIC`].
//! - Handles ([`NfClient`], [`NfFile`], [`NfDir`]) are safe to use from
//!   many threads at once. `*_close` marks one closed (later calls fail
//!   with `NF_CLOSED`) and may run concurrently with other calls; `*_free`
//!   releases it and must not overlap any other call on that handle.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use ninefold_client::Error;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

mod bulk;
mod client;
mod client_ns;
mod dir;
mod file;
mod types;

pub use client::*;
pub use client_ns::*;
pub use dir::*;
pub use file::*;
pub use types::*;

/// Error codes: `0` is success; 1 to 14 are the client's error variants
/// (the seed's table), then the two that only the C boundary has.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum NfErrorCode {
    /// Success.
    NF_OK = 0,
    /// No entry at the path (ENOENT).
    NF_NOT_FOUND = 1,
    /// Denied by permission bits (EACCES).
    NF_PERMISSION_DENIED = 2,
    /// Requires ownership or privilege (EPERM).
    NF_NOT_PERMITTED = 3,
    /// The target already exists (EEXIST).
    NF_ALREADY_EXISTS = 4,
    /// A path component is not a directory (ENOTDIR).
    NF_NOT_A_DIRECTORY = 5,
    /// A directory where a non-directory was required (EISDIR).
    NF_IS_A_DIRECTORY = 6,
    /// Removing a non-empty directory (ENOTEMPTY).
    NF_DIRECTORY_NOT_EMPTY = 7,
    /// A name exceeds 255 bytes (ENAMETOOLONG).
    NF_NAME_TOO_LONG = 8,
    /// Bad input, client-side or from the server (EINVAL).
    NF_INVALID_ARGUMENT = 9,
    /// Symlink resolution exceeded the 40-hop cap (ELOOP).
    NF_TOO_MANY_SYMLINKS = 10,
    /// A handle or client was used after close (EBADF).
    NF_CLOSED = 11,
    /// The initial connection or attach failed (EIO).
    NF_CONNECT_FAILED = 12,
    /// Any other server errno, in `NfError::errnum`.
    NF_IO = 13,
    /// Wire-level failure: codec, unexpected reply, negotiation (EIO).
    NF_PROTOCOL = 14,
    /// The call was cancelled through its `NfCancel` (ECANCELED).
    NF_CANCELLED = 15,
    /// A Rust panic was caught at the boundary (EIO); a bug.
    NF_PANIC = 16,
}

/// Why a call failed: its code, Linux errno and a readable message.
#[repr(C)]
#[derive(Debug)]
pub struct NfError {
    /// An [`NfErrorCode`] value.
    pub code: i32,
    /// The Linux errno the error stands for.
    pub errnum: i32,
    /// UTF-8 message (not NUL-terminated); free with [`nf_error_free`].
    pub message: NfBuf,
}

/// A byte buffer the library allocated: free it with [`nf_buf_free`].
#[repr(C)]
#[derive(Debug)]
pub struct NfBuf {
    /// First byte (NULL when empty).
    pub ptr: *mut u8,
    /// Bytes.
    pub len: usize,
    /// The library's owner of the bytes (needed to free them).
    pub owner: *mut std::ffi::c_void,
}

impl NfBuf {
    /// An empty buffer that owns nothing.
    pub(crate) fn empty() -> NfBuf {
        NfBuf { ptr: std::ptr::null_mut(), len: 0, owner: std::ptr::null_mut() }
    }

    /// Hands `v` over to the caller.
    pub(crate) fn from_vec(v: Vec<u8>) -> NfBuf {
        NfBuf::from_bytes(ninefold_client::Bytes::from(v))
    }

    /// Hands `b` over to the caller without copying it (a read reply
    /// stays the received buffer).
    pub(crate) fn from_bytes(b: ninefold_client::Bytes) -> NfBuf {
        if b.is_empty() {
            return NfBuf::empty();
        }
        let (ptr, len) = (b.as_ptr() as *mut u8, b.len());
        NfBuf { ptr, len, owner: Box::into_raw(Box::new(b)).cast() }
    }

    /// Takes the buffer back (leaving `self` empty) and frees it.
    ///
    /// # Safety
    /// `self` must come from [`NfBuf::from_bytes`] and not be freed yet.
    unsafe fn release(&mut self) {
        if !self.owner.is_null() {
            // SAFETY: `owner` came from Box::into_raw(Box<Bytes>) in
            // from_bytes and, per the contract, was not released before.
            drop(unsafe { Box::from_raw(self.owner.cast::<ninefold_client::Bytes>()) });
        }
        *self = NfBuf::empty();
    }
}

/// Frees a buffer returned by the library and empties it. NULL and empty
/// buffers are ignored; freeing twice is harmless because the first free
/// empties it.
///
/// # Safety
/// `buf` is NULL or points to an `NfBuf` the library filled.
#[no_mangle]
pub unsafe extern "C" fn nf_buf_free(buf: *mut NfBuf) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: NULL or a valid NfBuf filled by this library (contract).
        if let Some(b) = unsafe { buf.as_mut() } {
            // SAFETY: the buffer came from NfBuf::from_bytes (from_vec uses it).
            unsafe { b.release() };
        }
    }));
}

/// Frees the message of an error the library filled, leaving it empty.
///
/// # Safety
/// `err` is NULL or points to an `NfError` the library filled (or zeroed).
#[no_mangle]
pub unsafe extern "C" fn nf_error_free(err: *mut NfError) {
    // SAFETY: NULL or a valid NfError (contract).
    if let Some(e) = unsafe { err.as_mut() } {
        // SAFETY: the message is empty or came from NfBuf::from_bytes (from_vec uses it).
        unsafe { nf_buf_free(&mut e.message) };
    }
}

/// A cancellation token: pass it to an operation, trigger it from any
/// thread to make that operation stop.
#[derive(Debug, Default)]
pub struct NfCancel {
    fired: AtomicBool,
    notify: Notify,
}

impl NfCancel {
    /// Resolves once the token is triggered.
    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.fired.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A new, untriggered cancellation token. Free it with
/// [`nf_cancel_free`] once no call uses it and no thread can trigger it.
#[no_mangle]
pub extern "C" fn nf_cancel_new() -> *mut NfCancel {
    Box::into_raw(Box::default())
}

/// Triggers the token: every operation running with it (and every later
/// one) returns `NF_CANCELLED` after dropping its work. Idempotent.
///
/// # Safety
/// `cancel` is NULL or a live token from [`nf_cancel_new`].
#[no_mangle]
pub unsafe extern "C" fn nf_cancel_trigger(cancel: *const NfCancel) {
    // SAFETY: NULL or a live token (contract).
    if let Some(c) = unsafe { cancel.as_ref() } {
        c.fired.store(true, Ordering::Release);
        c.notify.notify_waiters();
    }
}

/// Frees a token.
///
/// # Safety
/// `cancel` is NULL or a token from [`nf_cancel_new`] that no running
/// call uses and no other thread may still trigger.
#[no_mangle]
pub unsafe extern "C" fn nf_cancel_free(cancel: *mut NfCancel) {
    if !cancel.is_null() {
        // SAFETY: allocated by nf_cancel_new with Box and not in use (contract).
        drop(unsafe { Box::from_raw(cancel) });
    }
}

/// Raises a Rust panic inside the boundary and returns what the caller
/// sees: `NF_PANIC` with the panic message. For bindings' tests.
///
/// # Safety
/// `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn nf_debug_panic(err: *mut NfError) -> i32 {
    guard(err, || -> Result<(), Fail> { panic!("nf_debug_panic called") })
}

/// The library's tokio runtime, started on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, Fail> {
    static RT: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("ninefold-capi")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Fail::Client(Error::Protocol(format!("cannot start the tokio runtime: {e}"))))
}

/// How a call failed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The client's error.
    Client(Error),
    /// Cancelled through the token.
    Cancelled,
    /// Bad arguments at the boundary (NULL pointers and the like).
    Arg(&'static str),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Client(e)
    }
}

/// `(code, errno, message)` of a client error.
fn parts(e: &Error) -> (NfErrorCode, i32) {
    use NfErrorCode::*;
    let code = match e {
        Error::NotFound => NF_NOT_FOUND,
        Error::PermissionDenied => NF_PERMISSION_DENIED,
        Error::NotPermitted => NF_NOT_PERMITTED,
        Error::AlreadyExists => NF_ALREADY_EXISTS,
        Error::NotADirectory => NF_NOT_A_DIRECTORY,
        Error::IsADirectory => NF_IS_A_DIRECTORY,
        Error::DirectoryNotEmpty => NF_DIRECTORY_NOT_EMPTY,
        Error::NameTooLong => NF_NAME_TOO_LONG,
        Error::InvalidArgument(_) => NF_INVALID_ARGUMENT,
        Error::TooManySymlinks => NF_TOO_MANY_SYMLINKS,
        Error::Closed => NF_CLOSED,
        Error::ConnectFailed(_) | Error::Tls(_) => NF_CONNECT_FAILED,
        // Refused authentication or access: EACCES, with the reason.
        Error::AuthFailed(_) => NF_PERMISSION_DENIED,
        Error::Protocol(_) => NF_PROTOCOL,
        _ => NF_IO,
    };
    (code, i32::try_from(e.errno().get()).unwrap_or(EIO))
}

const EIO: i32 = 5;
const EINVAL: i32 = 22;
const ECANCELED: i32 = 125;

/// Runs `f` with panics caught; fills `err` and returns the code.
pub(crate) fn guard(err: *mut NfError, f: impl FnOnce() -> Result<(), Fail>) -> i32 {
    let (code, errno, message) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return NfErrorCode::NF_OK as i32,
        Ok(Err(Fail::Client(e))) => {
            let (code, errno) = parts(&e);
            (code, errno, e.to_string())
        }
        Ok(Err(Fail::Cancelled)) => {
            (NfErrorCode::NF_CANCELLED, ECANCELED, "operation cancelled".to_owned())
        }
        Ok(Err(Fail::Arg(what))) => {
            (NfErrorCode::NF_INVALID_ARGUMENT, EINVAL, format!("invalid argument: {what}"))
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown payload".to_owned());
            (NfErrorCode::NF_PANIC, EIO, format!("panic in the ninefold library: {what}"))
        }
    };
    // SAFETY: `err` is NULL or writable (every function's contract).
    if let Some(slot) = unsafe { err.as_mut() } {
        // A panic while building the buffer is impossible (plain moves).
        // `write` so that whatever the caller left there is not dropped.
        // SAFETY: `slot` is a valid, writable NfError.
        unsafe {
            std::ptr::write(
                slot,
                NfError {
                    code: code as i32,
                    errnum: errno,
                    message: NfBuf::from_vec(message.into_bytes()),
                },
            )
        };
    }
    code as i32
}

/// Runs `fut` to completion on the library's runtime, or until `cancel`
/// fires (then the future is dropped before this returns).
pub(crate) fn block<T>(
    cancel: *const NfCancel,
    fut: impl Future<Output = ninefold_client::Result<T>>,
) -> Result<T, Fail> {
    let rt = runtime()?;
    // SAFETY: NULL or a live token for the duration of the call (contract).
    let cancel = unsafe { cancel.as_ref() };
    match cancel {
        None => rt.block_on(fut).map_err(Fail::from),
        Some(c) => rt.block_on(async move {
            tokio::select! {
                biased;
                () = c.cancelled() => Err(Fail::Cancelled),
                r = fut => r.map_err(Fail::from),
            }
        }),
    }
}

/// Drops `v` inside the runtime (handles release fids through it).
pub(crate) fn drop_in_runtime<T>(v: T) {
    match runtime() {
        Ok(rt) => {
            let _enter = rt.enter();
            drop(v);
        }
        Err(_) => drop(v),
    }
}

/// A shared reference to a handle, or an argument error for NULL.
///
/// # Safety
/// `p` is NULL or points to a live `T` for the duration of the call.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &'static str) -> Result<&'a T, Fail> {
    // SAFETY: NULL or live (contract).
    unsafe { p.as_ref() }.ok_or(Fail::Arg(what))
}

/// A byte range the caller passed (NULL is allowed only with length 0).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes for the call's duration.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], Fail> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Fail::Arg("NULL byte range with a non-zero length"));
    }
    // SAFETY: non-NULL and `len` readable bytes (contract).
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A path passed as bytes.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn as_path<'a>(p: *const u8, len: usize) -> Result<&'a Path, Fail> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(p, len) }?;
    Ok(Path::new(std::ffi::OsStr::from_bytes(b)))
}

/// An out-parameter checked for NULL before the operation runs.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks `p`.
    pub(crate) fn new(p: *mut T) -> Result<Out<T>, Fail> {
        if p.is_null() {
            return Err(Fail::Arg("NULL out-parameter"));
        }
        Ok(Out(p))
    }

    /// Writes the result (without dropping what was there).
    pub(crate) fn set(self, v: T) {
        // SAFETY: non-NULL (checked in `new`) and writable for the call
        // (every function's contract).
        unsafe { std::ptr::write(self.0, v) };
    }
}
