//! Whole-file transfers without a copy of their own: a read lands straight
//! in the `bytes` object Python gets (each Rread copied once from the
//! received frame, as the Rust client copies it once into its buffer), and
//! a write of `bytes` sends the object's own buffer (see
//! [`data_arg`](crate::convert::data_arg)).
//!
//! The `bytes` is allocated once its size is known (after the open and the
//! getattr), not zeroed ([`UninitBytes`]), and filled with the GIL released
//! by the client's pipelined read, so its pages are faulted in by the
//! copies of the replies while later replies are on the way, as the Rust
//! client's are. The blocking surface fills it on the caller's thread; the
//! asyncio one allocates it in the call's tokio task (the GIL taken only
//! for that) and fills it from a blocking-pool thread, so the event loop
//! never waits, and dropping the future (a cancelled task) stops the fill
//! and releases the object unseen.

use std::ffi::OsString;

use ninefold_client as nf;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::watch;

use crate::errors::{Context, Failure};
use crate::run::{runtime, spawn, wait, Attach};
use crate::uninit_bytes::UninitBytes;

/// Files smaller than this are read by the client's own whole-file read
/// (one copy into `bytes`): the direct path costs a GIL acquisition on a
/// runtime thread (asyncio) and a separate read past the reported size.
const DIRECT_MIN: u64 = 1 << 20;

/// An open file and what a direct read of it needs.
struct Sized {
    file: nf::File,
    size: u64,
    /// Bytes per Tread: one round trip each, so each arrives uncopied.
    chunk: usize,
}

/// Opens `p` for reading and fetches its size.
async fn open_sized(c: &nf::Client, p: &OsString) -> Result<Sized, Failure> {
    let file = c.open(p, nf::OpenOptions::new().read(true)).await.at(p)?;
    let size = file.metadata().await.at(p)?.size;
    let chunk = c.capabilities().max_read_chunk.max(1) as usize;
    Ok(Sized { file, size, chunk })
}

/// Everything past `offset` (a file that grew after its getattr).
async fn rest(file: &nf::File, offset: u64, chunk: usize) -> Result<Vec<u8>, nf::Error> {
    let mut out = Vec::new();
    loop {
        let got = file.read_at(offset + out.len() as u64, chunk).await?;
        if got.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&got);
    }
}

/// A file's size as a buffer length.
fn buffer_len(size: u64) -> Result<usize, Failure> {
    usize::try_from(size).map_err(|_| {
        Failure::from(nf::Error::InvalidArgument("file too large for this platform".into()))
    })
}

/// A new unwritten `bytes` of `len` from a runtime thread (the GIL taken
/// briefly, for the allocation only).
fn alloc_from_runtime(len: usize) -> Result<UninitBytes, Failure> {
    let Some(_permit) = Attach::enter() else {
        return Err(Failure::from(nf::Error::Closed));
    };
    Python::attach(|py| UninitBytes::new(py, len)).map_err(Failure::Py)
}

/// A direct read's outcome: the object, how much of it arrived, and what
/// the file held past its reported size.
struct Filled {
    out: UninitBytes,
    got: usize,
    more: Vec<u8>,
}

/// Fills `out` from the start of the file with the client's pipelined
/// read (each Rread copied once, straight into the object; its pages are
/// faulted in by those copies, overlapped with the transfer), then reads
/// on past the reported size if the file grew. Dropping this future (an
/// error, a cancelled task) releases `out` unseen.
async fn fill(s: &Sized, mut out: UninitBytes, p: &OsString) -> Result<Filled, Failure> {
    let got = s.file.read_into(0, out.as_mut_slice()).await.at(p)?;
    let more = if got == out.len() {
        rest(&s.file, out.len() as u64, s.chunk).await.at(p)?
    } else {
        Vec::new()
    };
    Ok(Filled { out, got, more })
}

impl Filled {
    /// The file as one `bytes`: the filled object itself in the usual case;
    /// a copy of its prefix if the file shrank after its getattr; a copy
    /// with the tail appended if it grew.
    fn into_bytes(self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        let whole = self.out.finish(py, self.got);
        if self.more.is_empty() {
            return Ok(whole);
        }
        let whole = whole.bind(py).as_bytes();
        let joined = PyBytes::new_with(py, whole.len() + self.more.len(), |buf| {
            buf[..whole.len()].copy_from_slice(whole);
            buf[whole.len()..].copy_from_slice(&self.more);
            Ok(())
        })?;
        Ok(joined.unbind())
    }
}

/// `SyncClient.read`: blocks with the GIL released.
pub(crate) fn read_whole_block<'py>(
    py: Python<'py>,
    c: nf::Client,
    p: OsString,
) -> PyResult<Bound<'py, PyAny>> {
    let s = wait(py, open_sized(&c, &p))?.map_err(|f| f.into_pyerr(py))?;
    if s.size < DIRECT_MIN {
        let data = wait(py, async { rest(&s.file, 0, s.chunk).await.at(&p) })?
            .map_err(|f| f.into_pyerr(py))?;
        return Ok(PyBytes::new(py, &data).into_any());
    }
    let out = UninitBytes::new(py, buffer_len(s.size).map_err(|f| f.into_pyerr(py))?)?;
    let filled = wait(py, fill(&s, out, &p))?.map_err(|f| f.into_pyerr(py))?;
    Ok(filled.into_bytes(py)?.into_bound(py).into_any())
}

/// `Client.read`: an awaitable of the whole file. A large file is read
/// into its `bytes` on the runtime, by the task itself.
pub(crate) fn read_whole_spawn<'py>(
    py: Python<'py>,
    c: nf::Client,
    p: OsString,
) -> PyResult<Bound<'py, PyAny>> {
    spawn(py, async move {
        let s = open_sized(&c, &p).await?;
        if s.size < DIRECT_MIN {
            return rest(&s.file, 0, s.chunk).await.at(&p).map(Whole::Small);
        }
        let out = alloc_from_runtime(buffer_len(s.size)?)?;
        fill_on_pool(s, out, p).await.map(Whole::Direct)
    })
}

/// [`fill`] driven by a blocking-pool thread, as the blocking API drives it
/// from the caller's thread and a Rust program from its `block_on` thread:
/// the copies (and the page faults they take) then run beside the
/// runtime's workers, which receive the replies, not on one of them.
/// Measured side by side under load, this was 413 against 305 MiB/s for
/// the fill polled in the call's own task. Dropping this future (a
/// cancelled task) stops the fill there and releases the object.
async fn fill_on_pool(s: Sized, out: UninitBytes, p: OsString) -> Result<Filled, Failure> {
    let (_alive, mut cancel) = watch::channel(());
    let job = tokio::task::spawn_blocking(move || {
        runtime().handle().block_on(async {
            tokio::select! {
                r = fill(&s, out, &p) => r,
                _ = cancel.changed() => Err(Failure::from(nf::Error::Closed)),
            }
        })
    });
    match job.await {
        Ok(r) => r,
        Err(e) => Err(Failure::Py(PyRuntimeError::new_err(format!("read task failed: {e}")))),
    }
}

/// What `Client.read` hands back.
enum Whole {
    /// A small file: copied into `bytes` on the loop.
    Small(Vec<u8>),
    /// Read into its `bytes` already, finished on the loop.
    Direct(Filled),
}

impl<'py> IntoPyObject<'py> for Whole {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Whole::Small(b) => PyBytes::new(py, &b).into_any(),
            Whole::Direct(f) => f.into_bytes(py)?.into_bound(py).into_any(),
        })
    }
}
