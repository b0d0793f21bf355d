//! A new `bytes` object that is filled before anyone sees it, without
//! zeroing it first. The only module of the binding with `unsafe` code.
//!
//! Why: PyO3's only safe constructor of a `bytes` of a given length
//! ([`PyBytes::new_with`]) writes zeros over all of it before handing it out.
//! For a large read that is one serial pass of page faults (65,536 of them
//! for 256 MiB) before the first Tread leaves, where the Rust client takes
//! the same faults while it copies the replies in, overlapped with the
//! transfer. PyO3 0.30 (the newest) has no safe way around it: its
//! `PyBytesWriter` under the limited API collects into a `Vec` and copies.
//!
//! How it stays sound: [`UninitBytes`] owns the only reference to a fresh
//! object from `PyBytes_FromStringAndSize(NULL, n)` (stable ABI, so the
//! abi3-py39 wheel keeps working) and its data pointer from
//! `PyBytes_AsString`. It never lets Python see the object before it is
//! finished: the only way to get the object out is [`finish`], which takes
//! the count of bytes written from the start and returns the object itself
//! only when that is all of it, or a new `bytes` copied from the written
//! prefix otherwise (`_PyBytes_Resize` is not in the limited API).
//! Dropping it unfinished (an error, a cancelled read) releases the object
//! unseen. Writing happens through [`as_mut_slice`], with or without the
//! GIL, on any thread, since nothing else can reach the memory.
//!
//! On Linux a large object is also advised onto transparent huge pages
//! ([`advise_huge`]), so filling it takes one page fault per 2 MiB rather
//! than one per 4 KiB.
//!
//! [`finish`]: UninitBytes::finish
//! [`as_mut_slice`]: UninitBytes::as_mut_slice
#![allow(unsafe_code)]

use std::ptr::NonNull;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A `bytes` of a fixed length under construction, owned by Rust alone.
pub(crate) struct UninitBytes {
    /// The object; `None` for length 0 (CPython shares one empty `bytes`,
    /// which must not be written through, and there is nothing to write).
    obj: Option<Py<PyBytes>>,
    /// Its data: `len` bytes (plus CPython's trailing NUL) that live as
    /// long as `obj` and never move.
    data: NonNull<u8>,
    len: usize,
}

// SAFETY: the object is reachable only through this value (no other
// reference to it exists, so no Python code can touch it), its data never
// moves, and `Py<PyBytes>` is itself `Send` (released through PyO3's
// reference pool when dropped without the GIL). Moving the owner to another
// thread moves the only access with it.
unsafe impl Send for UninitBytes {}

impl UninitBytes {
    /// A new `bytes` of `len` unwritten bytes (`MemoryError` when the
    /// interpreter cannot allocate it), on huge pages where it is large
    /// enough ([`advise_huge`]).
    pub(crate) fn new(py: Python<'_>, len: usize) -> PyResult<UninitBytes> {
        if len == 0 {
            return Ok(UninitBytes { obj: None, data: NonNull::dangling(), len: 0 });
        }
        let n = ffi::Py_ssize_t::try_from(len)
            .map_err(|_| pyo3::exceptions::PyOverflowError::new_err("bytes too large"))?;
        // SAFETY: a NULL source with a positive size asks CPython for a new,
        // unshared object whose contents are left unset (only the empty
        // `bytes`, handled above, is shared; one-byte objects come from the
        // cache only when a source is given); we hold the GIL
        // (`py`). The result is a new reference or NULL with an exception
        // set, which `from_owned_ptr_or_err` turns into `Err`.
        let obj = unsafe {
            Bound::from_owned_ptr_or_err(py, ffi::PyBytes_FromStringAndSize(std::ptr::null(), n))?
        };
        let obj = obj.cast_into::<PyBytes>()?;
        // SAFETY: `obj` is a live `bytes` (checked just above) and we hold
        // the GIL; `PyBytes_AsString` returns its inline data, `len` bytes
        // long, valid for as long as the object lives.
        let data = unsafe { ffi::PyBytes_AsString(obj.as_ptr()) };
        let data = NonNull::new(data.cast::<u8>()).ok_or_else(|| {
            PyErr::take(py).unwrap_or_else(|| {
                pyo3::exceptions::PySystemError::new_err("PyBytes_AsString returned NULL")
            })
        })?;
        advise_huge(data, len);
        Ok(UninitBytes { obj: Some(obj.unbind()), data, len })
    }

    /// The length it was made with.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Its contents, to be written. Bytes not yet written hold whatever the
    /// allocator left there: write before reading.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `data` points at `len` bytes owned by `obj`, which lives as
        // long as `self` and which nothing else references (see the type's
        // invariant), so this is the only access for the borrow of `self`.
        // The memory comes from CPython's allocator across the FFI boundary:
        // to Rust it is plain `u8` storage, and every caller here only
        // writes it (the client's `read_into` copies replies in and reports
        // how far it got). For length 0 it is a dangling, empty slice.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }

    /// The finished `bytes`, `written` being how many bytes from the start
    /// were written: the object itself when that is all of them, else a new
    /// `bytes` with a copy of that prefix (and this one released unseen).
    pub(crate) fn finish(mut self, py: Python<'_>, written: usize) -> Py<PyBytes> {
        let Some(obj) = self.obj.take() else {
            return PyBytes::new(py, &[]).unbind();
        };
        if written >= self.len {
            return obj;
        }
        // `obj` stays alive (and so the data) until the copy is made.
        let prefix = PyBytes::new(py, &self.as_mut_slice()[..written]).unbind();
        drop(obj);
        prefix
    }
}

impl std::fmt::Debug for UninitBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UninitBytes").field("len", &self.len).finish_non_exhaustive()
    }
}

/// The transparent huge page size on x86-64 (and the arm64 default with
/// 4 KiB base pages); a multiple of every base page size, so a range
/// aligned to it is page-aligned wherever this runs.
const HUGE_PAGE: usize = 2 << 20;

/// Objects from this size on are advised: the smallest that always holds
/// one whole aligned huge page.
const HUGE_MIN: usize = 2 * HUGE_PAGE;

/// Asks the kernel to back the whole 2 MiB pieces of `len` bytes at
/// `data` with transparent huge pages (`MADV_HUGEPAGE`, which the default
/// `enabled=madvise` setting waits for). A read then faults once per 2 MiB
/// instead of once per 4 KiB: for 256 MiB, 128 faults instead of 65,536,
/// which cost the read a third of its CPU time (docs/PYTHON.md,
/// "Performance"). The partial pieces at either end, where the object's
/// header and the allocator's bookkeeping live, are left alone. Best
/// effort: a kernel without THP, or one that refuses, changes nothing.
#[cfg(target_os = "linux")]
fn advise_huge(data: NonNull<u8>, len: usize) {
    if len < HUGE_MIN {
        return;
    }
    let at = data.as_ptr() as usize;
    let start = at.next_multiple_of(HUGE_PAGE);
    let end = (at + len) & !(HUGE_PAGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: `start..end` lies inside the `len` bytes at `data`, which
    // this object owns and which stay mapped while it lives; both ends are
    // page-aligned (multiples of 2 MiB). MADV_HUGEPAGE only changes how the
    // kernel may back the range later: it never changes its contents or
    // whether it is mapped, so no Rust or Python reference is affected.
    let r = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    if r != 0 {
        tracing::trace!(error = %std::io::Error::last_os_error(), "MADV_HUGEPAGE refused");
    }
}

/// Elsewhere there is no advice to give.
#[cfg(not(target_os = "linux"))]
fn advise_huge(_data: NonNull<u8>, _len: usize) {}
