//! `File.read_into` / `SyncFile.read_into`: a span read into a buffer the
//! caller owns (a `bytearray`, a writable `memoryview`, an `array`, a
//! NumPy array), so repeated reads reuse memory that is already mapped
//! instead of a fresh `bytes` each time.
//!
//! Received segments ([`nf::File::read_segments`], never copied in Rust)
//! are copied in with the GIL held. A `bytearray` is written directly,
//! one copy per byte ([`bytearray_copy`]). Any other buffer goes in
//! through its own `memoryview`, since the wheel targets the limited API
//! of Python 3.9, which has no writable buffer access: each segment
//! becomes a short-lived `bytes` that the view's slice assignment copies
//! into place, two copies per byte. Either way the memory is already
//! mapped; a fresh `bytes` instead costs page faults (see docs/PYTHON.md,
//! "Performance"). The `memoryview` is held for the whole read in both
//! cases, so the buffer cannot be resized meanwhile.

use std::ffi::OsString;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use ninefold_client as nf;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PySlice};

use crate::bytearray_copy;
use crate::errors::{Context, Failure};
use crate::file::{attach, PyFile, PySyncFile};
use crate::run::{spawn, wait};

/// A buffer's writable view, flattened to unsigned bytes.
struct View<'py> {
    /// `memoryview(buffer)`. While it lives, the buffer cannot be resized.
    whole: Bound<'py, PyAny>,
    /// `whole.cast("B")`: one dimension, one byte per item.
    flat: Bound<'py, PyAny>,
    /// The buffer itself when it is a `bytearray`: written directly, one
    /// copy per byte ([`bytearray_copy`]), instead of through `flat`.
    bytearray: Option<Bound<'py, PyByteArray>>,
}

impl<'py> View<'py> {
    fn new(buffer: &Bound<'py, PyAny>) -> PyResult<View<'py>> {
        let whole = PyMemoryView::from(buffer)
            .map_err(|_| {
                PyTypeError::new_err(format!(
                    "read_into needs a writable buffer (bytearray, memoryview, array), not {}",
                    type_name(buffer)
                ))
            })?
            .into_any();
        if whole.getattr("readonly")?.is_truthy()? {
            whole.call_method0("release")?;
            return Err(PyTypeError::new_err(format!(
                "read_into needs a writable buffer; this {} is read-only",
                type_name(buffer)
            )));
        }
        match whole.call_method1("cast", ("B",)) {
            Ok(flat) => {
                let bytearray = buffer.cast::<PyByteArray>().ok().cloned();
                Ok(View { whole, flat, bytearray })
            }
            Err(_) => {
                whole.call_method0("release")?;
                Err(PyTypeError::new_err("read_into needs a C-contiguous buffer"))
            }
        }
    }

    /// Bytes the buffer holds.
    fn len(&self) -> PyResult<usize> {
        self.flat.len()
    }

    /// Copies `data` to `at` (`at + data.len()` within the buffer).
    fn put(&self, at: usize, data: &[u8]) -> PyResult<()> {
        if let Some(ba) = &self.bytearray {
            return bytearray_copy::put(ba, at, data);
        }
        let py = self.flat.py();
        let end = at + data.len();
        let (start, stop) = (isize::try_from(at)?, isize::try_from(end)?);
        self.flat.set_item(PySlice::new(py, start, stop, 1), PyBytes::new(py, data))
    }

    /// The view without the GIL's lifetime, to move into a task.
    fn unbind(self) -> OwnedView {
        OwnedView {
            whole: self.whole.unbind(),
            flat: self.flat.unbind(),
            bytearray: self.bytearray.map(Bound::unbind),
        }
    }

    /// Ends the views' exports, so the buffer can be resized again.
    fn release(&self) -> PyResult<()> {
        self.flat.call_method0("release")?;
        self.whole.call_method0("release")?;
        Ok(())
    }
}

/// A [`View`] held by a task between batches.
struct OwnedView {
    whole: Py<PyAny>,
    flat: Py<PyAny>,
    bytearray: Option<Py<PyByteArray>>,
}

impl OwnedView {
    fn bind<'py>(&self, py: Python<'py>) -> View<'py> {
        View {
            whole: self.whole.bind(py).clone(),
            flat: self.flat.bind(py).clone(),
            bytearray: self.bytearray.as_ref().map(|b| b.bind(py).clone()),
        }
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "this object".into(), |n| n.to_string())
}

/// The next segments: waits for one, then takes those already there.
/// Empty at the end of the span.
async fn next_batch(segs: &mut nf::Segments, path: &OsString) -> Result<Vec<Bytes>, Failure> {
    let mut out = Vec::new();
    match segs.next().await {
        None => return Ok(out),
        Some(seg) => out.push(seg.at(path)?),
    }
    while let Some(Some(seg)) = segs.next().now_or_never() {
        out.push(seg.at(path)?);
    }
    Ok(out)
}

/// `SyncFile.read_into`: waits with the GIL released, copies with it held.
fn read_into_block(
    py: Python<'_>,
    file: &nf::File,
    path: &OsString,
    offset: u64,
    buffer: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let view = View::new(buffer)?;
    let filled = (|| {
        let mut segs = file.read_segments(offset, view.len()? as u64);
        let mut at = 0;
        loop {
            let batch = wait(py, next_batch(&mut segs, path))?.map_err(|f| f.into_pyerr(py))?;
            if batch.is_empty() {
                return Ok(at);
            }
            for seg in batch {
                view.put(at, &seg)?;
                at += seg.len();
            }
        }
    })();
    view.release()?;
    filled
}

/// `File.read_into`: the reads run on the runtime, which attaches to the
/// interpreter to copy each batch of segments in (in `block_in_place`, so
/// a worker waiting for the GIL does not hold up the connection's tasks).
fn read_into_spawn<'py>(
    py: Python<'py>,
    file: nf::File,
    path: OsString,
    offset: u64,
    buffer: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let view = View::new(buffer)?;
    let len = match view.len() {
        Ok(n) => n,
        Err(e) => {
            view.release()?;
            return Err(e);
        }
    };
    let view = view.unbind();
    spawn(py, async move {
        let mut segs = file.read_segments(offset, len as u64);
        let mut at = 0;
        let filled = loop {
            let batch = match next_batch(&mut segs, &path).await {
                Ok(b) if b.is_empty() => break Ok(at),
                Ok(b) => b,
                Err(e) => break Err(e),
            };
            // The copies wait for the GIL and then hold it: off the
            // worker's task queue, so the connection's tasks run meanwhile.
            let put = tokio::task::block_in_place(|| {
                attach(|py| {
                    let view = view.bind(py);
                    let mut n = 0;
                    for seg in &batch {
                        view.put(at + n, seg).map_err(Failure::Py)?;
                        n += seg.len();
                    }
                    Ok(n)
                })
            });
            match put {
                Ok(n) => at += n,
                Err(e) => break Err(e),
            }
        };
        let released = attach(|py| view.bind(py).release().map_err(Failure::Py));
        let at = filled?;
        released?;
        Ok(at)
    })
}

#[pymethods]
impl PySyncFile {
    /// Reads up to `len(buffer)` bytes at `offset` into `buffer` (any
    /// writable C-contiguous buffer); returns how many arrived (fewer
    /// means end of file).
    fn read_into(&self, py: Python<'_>, offset: u64, buffer: &Bound<'_, PyAny>) -> PyResult<usize> {
        read_into_block(py, &self.inner, &self.path, offset, buffer)
    }
}

#[pymethods]
impl PyFile {
    /// Reads up to `len(buffer)` bytes at `offset` into `buffer` (any
    /// writable C-contiguous buffer); the awaitable gives how many arrived
    /// (fewer means end of file). Do not touch the buffer until it is done.
    fn read_into<'py>(
        &self,
        py: Python<'py>,
        offset: u64,
        buffer: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        read_into_spawn(py, self.inner.clone(), self.path.clone(), offset, buffer)
    }
}
