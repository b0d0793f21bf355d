//! File operations.

use ninefold_client::{Client, File};

use crate::types::{NfMetadata, NfSetAttrs};
use crate::{block, bytes, drop_in_runtime, guard, handle, NfCancel, NfError, Out};

/// An open file (opaque).
#[derive(Debug)]
pub struct NfFile {
    pub(crate) inner: File,
    /// The client it came from (for the connection's chunk sizes).
    pub(crate) client: Client,
}

/// Frees a file handle (its fid is released in the background).
///
/// # Safety
/// `f` is NULL or a handle from this library that no other call is using.
#[no_mangle]
pub unsafe extern "C" fn nf_file_free(f: *mut NfFile) {
    if !f.is_null() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: allocated with Box by this library, not in use (contract).
            drop_in_runtime(unsafe { Box::from_raw(f) });
        }));
    }
}

/// Reads up to `len` bytes at `offset` into `buf`; `*out` is the count (a
/// short count is end of file). Large reads are pipelined in chunk-sized
/// requests, each reply copied once, straight into `buf`; on failure or
/// cancellation `buf` may hold part of the data.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_file_read_at(
    h: *const NfFile,
    cancel: *const NfCancel,
    offset: u64,
    buf: *mut u8,
    len: usize,
    out: *mut usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = unsafe { handle(h, "NULL file") }?;
        let dst: &mut [u8] = if len == 0 {
            &mut []
        } else if buf.is_null() {
            return Err(crate::Fail::Arg("NULL buffer with a non-zero length"));
        } else {
            // SAFETY: `buf` has `len` writable bytes for the call and no
            // other reference to them exists during it (contract); the
            // library writes them only while the call runs (bulk.rs).
            unsafe { std::slice::from_raw_parts_mut(buf, len) }
        };
        let n = block(cancel, h.inner.read_into(offset, dst))?;
        out.set(n);
        Ok(())
    })
}

/// Writes all of `data` at `offset` (chunked and pipelined; each chunk is
/// copied out of `data` just before it is sent).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_write_at(
    h: *const NfFile,
    cancel: *const NfCancel,
    offset: u64,
    data: *const u8,
    data_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = unsafe { handle(h, "NULL file") }?;
        // SAFETY: live handle / readable range for the call (contract).
        let data = unsafe { bytes(data, data_len) }?;
        let (_, chunk) = crate::bulk::chunks(&h.client);
        block(cancel, crate::bulk::write_from(&h.inner, chunk, offset, data))?;
        Ok(())
    })
}

/// fstat of this handle.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_metadata(
    h: *const NfFile,
    cancel: *const NfCancel,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        let v = block(cancel, h.metadata())?;
        out.set(v.into());
        Ok(())
    })
}

/// Truncates or extends.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_set_len(
    h: *const NfFile,
    cancel: *const NfCancel,
    size: u64,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        block(cancel, h.set_len(size))?;
        Ok(())
    })
}

/// Metadata changes through the handle.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_set_attr(
    h: *const NfFile,
    cancel: *const NfCancel,
    attrs: NfSetAttrs,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        let a = attrs.to_client()?;
        let v = block(cancel, h.set_attr(a))?;
        out.set(v.into());
        Ok(())
    })
}

/// Data and metadata to durable storage.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_sync_all(
    h: *const NfFile,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        block(cancel, h.sync_all())?;
        Ok(())
    })
}

/// Data to durable storage.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_sync_data(
    h: *const NfFile,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        block(cancel, h.sync_data())?;
        Ok(())
    })
}

/// Marks the file closed (idempotent, never waits).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_file_close(
    h: *const NfFile,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL file") }?.inner;
        block(cancel, h.close())?;
        Ok(())
    })
}
