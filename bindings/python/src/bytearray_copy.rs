//! Copying received bytes straight into a caller's `bytearray` (for
//! `File.read_into`), with the GIL held: one copy, no temporary object.
//! The binding's second module with `unsafe` code, beside
//! [`uninit_bytes`](crate::uninit_bytes).
//!
//! Why: under the limited API of Python 3.9 there is no writable buffer
//! access for an arbitrary object, so `read_into` writes through the
//! buffer's `memoryview`, which needs each piece as a temporary `bytes`
//! first: two copies, and a fresh 1 MiB allocation (256 page faults) per
//! received segment. A `bytearray`'s own storage, though, is reachable
//! through `PyByteArray_AsString` and `PyByteArray_Size`, both in the
//! stable ABI since Python 3.2.
//!
//! How it stays sound: the copy runs with the GIL held (the `Bound`
//! proves it) and calls nothing that could run Python code, so nothing
//! can resize, free or write the `bytearray` meanwhile (abi3 wheels load
//! only into interpreters with a GIL); its size is read anew for every
//! copy and checked against the destination range.
#![allow(unsafe_code)]

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyByteArrayMethods};

/// Copies `data` into `ba` at `at`; `ValueError` if that range is not
/// inside the `bytearray` as it is now.
pub(crate) fn put(ba: &Bound<'_, PyByteArray>, at: usize, data: &[u8]) -> PyResult<()> {
    let len = ba.len();
    if at.checked_add(data.len()).is_none_or(|end| end > len) {
        return Err(PyValueError::new_err(format!(
            "read_into: the bytearray shrank to {len} bytes during the read"
        )));
    }
    if data.is_empty() {
        return Ok(());
    }
    let dst = ba.data();
    // SAFETY: `dst` is the bytearray's storage of `len` bytes (checked just
    // above: `at + data.len() <= len`, so the range is inside it, and
    // `len > 0` so it is allocated). We hold the GIL for the whole copy and
    // call nothing that could run Python code, so no other code can resize,
    // free or touch that storage meanwhile; `data` is Rust memory (a
    // received frame) that cannot overlap a Python object's storage.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst.add(at), data.len()) };
    Ok(())
}
