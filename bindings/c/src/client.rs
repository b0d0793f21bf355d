//! Client operations.

use ninefold_client::Client;

use crate::types::{
    connect_options, NfCapabilities, NfConnectOptions, NfMetadata, NfSetAttrs, NfSetTime, NfStatFs,
};
use crate::{as_path, block, bytes, drop_in_runtime, guard, handle, NfBuf, NfCancel, NfError, Out};

/// A connected client (opaque).
#[derive(Debug)]
pub struct NfClient {
    pub(crate) inner: Client,
}

/// Connects with default options (`Client::connect`); `*out` receives the
/// client, to free with [`nf_client_free`].
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_connect(
    cancel: *const NfCancel,
    target: *const u8,
    target_len: usize,
    out: *mut *mut NfClient,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: readable range (contract).
        let t = unsafe { bytes(target, target_len) }?;
        let t = std::str::from_utf8(t).map_err(|_| crate::Fail::Arg("target is not UTF-8"))?;
        let c = block(cancel, Client::connect(t))?;
        out.set(Box::into_raw(Box::new(NfClient { inner: c })));
        Ok(())
    })
}

/// Connects with explicit options (`Client::connect_with`). `opts` may be
/// NULL (all defaults); `uname` NULL keeps the default user name.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_connect_with(
    cancel: *const NfCancel,
    target: *const u8,
    target_len: usize,
    opts: *const NfConnectOptions,
    uname: *const u8,
    uname_len: usize,
    aname: *const u8,
    aname_len: usize,
    out: *mut *mut NfClient,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: readable ranges and NULL-or-valid opts (contract).
        let (t, o, u, a) = unsafe {
            (
                bytes(target, target_len)?,
                opts.as_ref(),
                if uname.is_null() { None } else { Some(bytes(uname, uname_len)?) },
                bytes(aname, aname_len)?,
            )
        };
        let t = std::str::from_utf8(t).map_err(|_| crate::Fail::Arg("target is not UTF-8"))?;
        let opts = connect_options(o, u, a)?;
        let c = block(cancel, Client::connect_with(t, opts))?;
        out.set(Box::into_raw(Box::new(NfClient { inner: c })));
        Ok(())
    })
}

/// Frees a client (its connection ends when the last handle made from it
/// is freed too).
///
/// # Safety
/// `c` is NULL or a client from `nf_client_connect*` that no other call
/// is using.
#[no_mangle]
pub unsafe extern "C" fn nf_client_free(c: *mut NfClient) {
    if !c.is_null() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: allocated by connect with Box, not in use (contract).
            drop_in_runtime(unsafe { Box::from_raw(c) });
        }));
    }
}

/// Negotiated session properties (a snapshot).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_capabilities(
    c: *const NfClient,
    out: *mut NfCapabilities,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = unsafe { handle(c, "NULL client") }?;
        out.set(c.inner.capabilities().into());
        Ok(())
    })
}

/// Marks the client closed (idempotent, never waits).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_close(
    c: *const NfClient,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        block(cancel, c.close())?;
        Ok(())
    })
}

/// Reads the whole file at `path` into `*out`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_read(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut NfBuf,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.read(p))?;
        out.set(NfBuf::from_bytes(v));
        Ok(())
    })
}

/// Up to `len` bytes at `offset`; a short result is end of file.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_read_range(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    offset: u64,
    len: usize,
    out: *mut NfBuf,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.read_range(p, offset, len))?;
        out.set(NfBuf::from_bytes(v));
        Ok(())
    })
}

/// Creates or truncates `path`, then writes all of `data`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_write(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        // SAFETY: readable range for the call (contract).
        let d = unsafe { bytes(data, data_len) }?;
        block(cancel, crate::bulk::write_file(c, p, d))?;
        Ok(())
    })
}

/// Appends `data`; `*out` is the offset where it landed.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_append(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    out: *mut u64,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        // SAFETY: readable range for the call (contract).
        let d = unsafe { bytes(data, data_len) }?;
        let v = block(cancel, crate::bulk::append_file(c, p, d))?;
        out.set(v);
        Ok(())
    })
}

/// Metadata of `path` (not following a final symlink).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_stat(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.stat(p))?;
        out.set(v.into());
        Ok(())
    })
}

/// Metadata of `path`, following symlinks.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_metadata(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.metadata(p))?;
        out.set(v.into());
        Ok(())
    })
}

/// `path` with every symlink resolved.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_canonicalize(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut NfBuf,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.canonicalize(p))?;
        out.set(NfBuf::from_bytes(v));
        Ok(())
    })
}

/// Whether anything is at `path` (no symlink follow).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_exists(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut bool,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.exists(p))?;
        out.set(v);
        Ok(())
    })
}

/// Applies `attrs`; `*out` is the new metadata.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_set_attr(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    attrs: NfSetAttrs,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let a = attrs.to_client()?;
        let v = block(cancel, c.set_attr(p, a))?;
        out.set(v.into());
        Ok(())
    })
}

/// Sets the permission bits.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_chmod(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    mode: u32,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.chmod(p, mode))?;
        out.set(v.into());
        Ok(())
    })
}

/// Changes owner and/or group (`has_*` false leaves one unchanged).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_chown(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    has_uid: bool,
    uid: u32,
    has_gid: bool,
    gid: u32,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.chown(p, has_uid.then_some(uid), has_gid.then_some(gid)))?;
        out.set(v.into());
        Ok(())
    })
}

/// Truncates or extends to `size`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_truncate(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    size: u64,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.truncate(p, size))?;
        out.set(v.into());
        Ok(())
    })
}

/// Sets access and/or modification time.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_set_times(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    atime: NfSetTime,
    mtime: NfSetTime,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let atime = atime.to_client()?;
        let mtime = mtime.to_client()?;
        let v = block(cancel, c.set_times(p, atime, mtime))?;
        out.set(v.into());
        Ok(())
    })
}

/// Filesystem usage and limits.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_statfs(
    c: *const NfClient,
    cancel: *const NfCancel,
    out: *mut NfStatFs,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        let v = block(cancel, c.statfs())?;
        out.set(v.into());
        Ok(())
    })
}

/// Flushes to durable storage.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_sync(
    c: *const NfClient,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        block(cancel, c.sync())?;
        Ok(())
    })
}
