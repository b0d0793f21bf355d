//! Directory operations.

use ninefold_client::{Client, Dir};

use crate::types::{NfDirEntries, NfMetadata, NfNodeKind, NfOpenOptions, NfSetAttrs};
use crate::{block, bytes, drop_in_runtime, guard, handle, NfBuf, NfCancel, NfError, NfFile, Out};

/// An open directory (opaque).
#[derive(Debug)]
pub struct NfDir {
    pub(crate) inner: Dir,
    /// The client it came from (handed on to the files it opens).
    pub(crate) client: Client,
}

/// Frees a directory handle (its fids are released in the background).
///
/// # Safety
/// `d` is NULL or a handle from this library that no other call is using.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_free(d: *mut NfDir) {
    if !d.is_null() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: allocated with Box by this library, not in use (contract).
            drop_in_runtime(unsafe { Box::from_raw(d) });
        }));
    }
}

/// The next entries in directory order; empty means the end. `has_max` false returns one server batch.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_next_batch(
    h: *const NfDir,
    cancel: *const NfCancel,
    has_max: bool,
    max: usize,
    out: *mut NfDirEntries,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        let v = block(cancel, h.next_batch(has_max.then_some(max)))?;
        out.set(NfDirEntries::from_entries(v));
        Ok(())
    })
}

/// Restarts the listing from the first entry.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_rewind(
    h: *const NfDir,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        block(cancel, h.rewind())?;
        Ok(())
    })
}

/// Metadata of the directory itself.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_metadata(
    h: *const NfDir,
    cancel: *const NfCancel,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        let v = block(cancel, h.metadata())?;
        out.set(v.into());
        Ok(())
    })
}

/// Changes the directory itself.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_set_attr(
    h: *const NfDir,
    cancel: *const NfCancel,
    attrs: NfSetAttrs,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        let a = attrs.to_client()?;
        let v = block(cancel, h.set_attr(a))?;
        out.set(v.into());
        Ok(())
    })
}

/// openat(2); free the file with `nf_file_free`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_open_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    opts: NfOpenOptions,
    out: *mut *mut NfFile,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let d = unsafe { handle(h, "NULL dir") }?;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let v = block(cancel, d.inner.open_at(name, opts.into()))?;
        out.set(Box::into_raw(Box::new(NfFile { inner: v, client: d.client.clone() })));
        Ok(())
    })
}

/// Opens child directory `name`; free it with `nf_dir_free`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_open_dir_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    out: *mut *mut NfDir,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let d = unsafe { handle(h, "NULL dir") }?;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let v = block(cancel, d.inner.open_dir_at(name))?;
        out.set(Box::into_raw(Box::new(NfDir { inner: v, client: d.client.clone() })));
        Ok(())
    })
}

/// fstatat(2); never follows symlinks.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_metadata_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let v = block(cancel, h.metadata_at(name))?;
        out.set(v.into());
        Ok(())
    })
}

/// Changes child `name` without opening it.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_set_attr_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    attrs: NfSetAttrs,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let a = attrs.to_client()?;
        let v = block(cancel, h.set_attr_at(name, a))?;
        out.set(v.into());
        Ok(())
    })
}

/// mkdirat(2).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_create_dir_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    mode: u32,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let v = block(cancel, h.create_dir_at(name, mode))?;
        out.set(v.into());
        Ok(())
    })
}

/// symlinkat(2); `target` is stored verbatim.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_dir_symlink_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    target: *const u8,
    target_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        // SAFETY: live handle / readable range for the call (contract).
        let target = unsafe { bytes(target, target_len) }?;
        let v = block(cancel, h.symlink_at(name, target))?;
        out.set(v.into());
        Ok(())
    })
}

/// linkat(2): `new_name` here for `original_name` in `original_dir`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_dir_link_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    original_dir: *const NfDir,
    original_name: *const u8,
    original_name_len: usize,
    new_name: *const u8,
    new_name_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let original_dir = &unsafe { handle(original_dir, "NULL directory") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let original_name = unsafe { bytes(original_name, original_name_len) }?;
        // SAFETY: live handle / readable range for the call (contract).
        let new_name = unsafe { bytes(new_name, new_name_len) }?;
        let v = block(cancel, h.link_at(original_dir, original_name, new_name))?;
        out.set(v.into());
        Ok(())
    })
}

/// mknodat(2).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_dir_mknod_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    kind: NfNodeKind,
    mode: u32,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let kind = kind.to_client()?;
        let v = block(cancel, h.mknod_at(name, kind, mode))?;
        out.set(v.into());
        Ok(())
    })
}

/// unlinkat(2).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_remove_file_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        block(cancel, h.remove_file_at(name))?;
        Ok(())
    })
}

/// unlinkat(2) with AT_REMOVEDIR.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_remove_dir_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        block(cancel, h.remove_dir_at(name))?;
        Ok(())
    })
}

/// renameat(2); `new_dir` may be this directory.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_dir_rename_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    old_name: *const u8,
    old_name_len: usize,
    new_dir: *const NfDir,
    new_name: *const u8,
    new_name_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let old_name = unsafe { bytes(old_name, old_name_len) }?;
        // SAFETY: live handle / readable range for the call (contract).
        let new_dir = &unsafe { handle(new_dir, "NULL directory") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let new_name = unsafe { bytes(new_name, new_name_len) }?;
        block(cancel, h.rename_at(old_name, new_dir, new_name))?;
        Ok(())
    })
}

/// readlinkat(2).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_read_link_at(
    h: *const NfDir,
    cancel: *const NfCancel,
    name: *const u8,
    name_len: usize,
    out: *mut NfBuf,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        // SAFETY: live handle / readable range for the call (contract).
        let name = unsafe { bytes(name, name_len) }?;
        let v = block(cancel, h.read_link_at(name))?;
        out.set(NfBuf::from_bytes(v));
        Ok(())
    })
}

/// Marks the directory closed (idempotent, never waits).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_close(
    h: *const NfDir,
    cancel: *const NfCancel,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let h = &unsafe { handle(h, "NULL dir") }?.inner;
        block(cancel, h.close())?;
        Ok(())
    })
}
