//! Client operations on the namespace: directories, removal, renames,
//! links, special nodes, listings and opening handles.

use crate::types::{NfDirEntries, NfMetadata, NfNodeKind, NfOpenOptions};
use crate::{
    as_path, block, guard, handle, NfBuf, NfCancel, NfClient, NfDir, NfError, NfFile, Out,
};

/// Creates a directory (the parent must exist).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_create_dir(
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
        let v = block(cancel, c.create_dir(p, mode))?;
        out.set(v.into());
        Ok(())
    })
}

/// Creates a directory and its missing ancestors.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_create_dir_all(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    mode: u32,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        block(cancel, c.create_dir_all(p, mode))?;
        Ok(())
    })
}

/// Removes a file, symlink or device node.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_remove_file(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        block(cancel, c.remove_file(p))?;
        Ok(())
    })
}

/// Removes an empty directory.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_remove_dir(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        block(cancel, c.remove_dir(p))?;
        Ok(())
    })
}

/// Removes a directory recursively (not atomic).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_remove_dir_all(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        block(cancel, c.remove_dir_all(p))?;
        Ok(())
    })
}

/// Renames `from` to `to` (atomic; replaces the target).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_rename(
    c: *const NfClient,
    cancel: *const NfCancel,
    from: *const u8,
    from_len: usize,
    to: *const u8,
    to_len: usize,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let from = unsafe { as_path(from, from_len) }?;
        // SAFETY: readable range for the call (contract).
        let to = unsafe { as_path(to, to_len) }?;
        block(cancel, c.rename(from, to))?;
        Ok(())
    })
}

/// A new name `link` for the inode at `original`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_hard_link(
    c: *const NfClient,
    cancel: *const NfCancel,
    original: *const u8,
    original_len: usize,
    link: *const u8,
    link_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let original = unsafe { as_path(original, original_len) }?;
        // SAFETY: readable range for the call (contract).
        let link = unsafe { as_path(link, link_len) }?;
        let v = block(cancel, c.hard_link(original, link))?;
        out.set(v.into());
        Ok(())
    })
}

/// A symlink at `link_path` whose target is stored verbatim.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_symlink(
    c: *const NfClient,
    cancel: *const NfCancel,
    target: *const u8,
    target_len: usize,
    link_path: *const u8,
    link_path_len: usize,
    out: *mut NfMetadata,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let target = unsafe { as_path(target, target_len) }?;
        // SAFETY: readable range for the call (contract).
        let link_path = unsafe { as_path(link_path, link_path_len) }?;
        let v = block(cancel, c.symlink(target, link_path))?;
        out.set(v.into());
        Ok(())
    })
}

/// The raw target of the symlink at `path`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_read_link(
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
        let v = block(cancel, c.read_link(p))?;
        out.set(NfBuf::from_bytes(v));
        Ok(())
    })
}

/// Creates a FIFO, socket or device node.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nf_client_mknod(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    kind: NfNodeKind,
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
        let kind = kind.to_client()?;
        let v = block(cancel, c.mknod(p, kind, mode))?;
        out.set(v.into());
        Ok(())
    })
}

/// The whole directory (`.` and `..` excluded).
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_read_dir(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut NfDirEntries,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.read_dir(p))?;
        out.set(NfDirEntries::from_entries(v));
        Ok(())
    })
}

/// Opens a directory handle; free it with `nf_dir_free`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_open_dir(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut *mut NfDir,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.open_dir(p))?;
        out.set(Box::into_raw(Box::new(NfDir { inner: v, client: c.clone() })));
        Ok(())
    })
}

/// Opens a file; free it with `nf_file_free`.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_open(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    opts: NfOpenOptions,
    out: *mut *mut NfFile,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.open(p, opts.into()))?;
        out.set(Box::into_raw(Box::new(NfFile { inner: v, client: c.clone() })));
        Ok(())
    })
}

/// Creates or truncates a file read-write, mode 0644.
///
/// # Safety
/// The crate's pointer conventions: live handles, readable byte ranges,
/// writable out-parameters, `cancel` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nf_client_create(
    c: *const NfClient,
    cancel: *const NfCancel,
    path: *const u8,
    path_len: usize,
    out: *mut *mut NfFile,
    err: *mut NfError,
) -> i32 {
    guard(err, || {
        let out = Out::new(out)?;
        // SAFETY: live handle (contract).
        let c = &unsafe { handle(c, "NULL client") }?.inner;
        // SAFETY: readable range for the call (contract).
        let p = unsafe { as_path(path, path_len) }?;
        let v = block(cancel, c.create(p))?;
        out.set(Box::into_raw(Box::new(NfFile { inner: v, client: c.clone() })));
        Ok(())
    })
}
