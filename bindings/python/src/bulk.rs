//! Whole-file transfers without a copy of their own: a read lands straight
//! in the `bytes` object Python gets (each Rread copied once from the
//! received frame, as the Rust client copies it once into its buffer), and
//! a write of `bytes` sends the object's own buffer (see
//! [`data_arg`](crate::convert::data_arg)).
//!
//! The `bytes` is allocated once its size is known (after the open and the
//! getattr) and filled with the GIL released, by pipelined positioned reads
//! of one Tread each. The blocking surface does that on the caller's
//! thread; the asyncio one on a blocking-pool thread, so the event loop
//! never waits, and dropping its future (a cancelled task) stops the fill.

use std::ffi::OsString;
use std::future::Future;

use ninefold_client as nf;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::watch;

use crate::errors::{Context, Failure};
use crate::run::{runtime, spawn, wait, Attach};

/// Files smaller than this are read by the client's own whole-file read
/// (one call, one copy into `bytes`): the direct path costs a thread hop.
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

/// How a direct read waits for its futures, with the GIL released.
enum Driver {
    /// On the caller's thread, watching for signals (the blocking API).
    Caller,
    /// On a blocking-pool thread, until the asyncio side gives up (its
    /// sender is dropped).
    Pool(watch::Receiver<()>),
}

impl Driver {
    fn drive<T, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: Future<Output = Result<T, Failure>> + Send,
        T: Send,
    {
        let out = match self {
            Driver::Caller => wait(py, fut)?,
            Driver::Pool(cancel) => {
                let mut cancel = cancel.clone();
                py.detach(|| {
                    runtime().handle().block_on(async {
                        tokio::select! {
                            r = fut => r,
                            _ = cancel.changed() => Err(Failure::Py(PyRuntimeError::new_err("read cancelled"))),
                        }
                    })
                })
            }
        };
        out.map_err(|f| f.into_pyerr(py))
    }
}

/// The whole file as `bytes`, filled in place.
fn direct<'py>(
    py: Python<'py>,
    s: &Sized,
    p: &OsString,
    driver: &Driver,
) -> PyResult<Bound<'py, PyBytes>> {
    let len = usize::try_from(s.size)
        .map_err(|_| crate::errors::invalid(py, "file too large for this platform"))?;
    let mut got = 0;
    let whole = PyBytes::new_with(py, len, |buf| {
        got = driver.drive(py, async { s.file.read_into(0, buf).await.at(p) })?;
        Ok(())
    })?;
    if got < len {
        // The file shrank after its getattr: keep what is there.
        return Ok(PyBytes::new(py, &whole.as_bytes()[..got]));
    }
    let more = driver.drive(py, async { rest(&s.file, s.size, s.chunk).await.at(p) })?;
    if more.is_empty() {
        return Ok(whole);
    }
    PyBytes::new_with(py, len + more.len(), |buf| {
        buf[..len].copy_from_slice(whole.as_bytes());
        buf[len..].copy_from_slice(&more);
        Ok(())
    })
}

/// `SyncClient.read`: blocks with the GIL released.
pub(crate) fn read_whole_block<'py>(
    py: Python<'py>,
    c: nf::Client,
    p: OsString,
) -> PyResult<Bound<'py, PyAny>> {
    let s = wait(py, open_sized(&c, &p))?.map_err(|f| f.into_pyerr(py))?;
    let out = if s.size < DIRECT_MIN {
        wait(py, async { rest(&s.file, 0, s.chunk).await.at(&p) })?
            .map(|data| PyBytes::new(py, &data))
            .map_err(|f| f.into_pyerr(py))
    } else {
        direct(py, &s, &p, &Driver::Caller)
    };
    Ok(out?.into_any())
}

/// `Client.read`: an awaitable of the whole file.
pub(crate) fn read_whole_spawn<'py>(
    py: Python<'py>,
    c: nf::Client,
    p: OsString,
) -> PyResult<Bound<'py, PyAny>> {
    spawn(py, async move {
        let s = open_sized(&c, &p).await?;
        if s.size < DIRECT_MIN {
            rest(&s.file, 0, s.chunk).await.at(&p).map(Whole::Small)
        } else {
            fill_in_pool(s, p).await.map(Whole::Direct)
        }
    })
}

/// The direct read of [`read_whole_spawn`] on a blocking-pool thread.
async fn fill_in_pool(s: Sized, p: OsString) -> Result<Py<PyBytes>, Failure> {
    // Dropped with this future: the pool thread stops filling.
    let (_alive, cancel) = watch::channel(());
    let job = tokio::task::spawn_blocking(move || {
        let Some(_permit) = Attach::enter() else {
            return Err(Failure::from(nf::Error::Closed));
        };
        Python::attach(|py| {
            direct(py, &s, &p, &Driver::Pool(cancel)).map(|b| b.unbind()).map_err(Failure::Py)
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
    /// Already a `bytes`.
    Direct(Py<PyBytes>),
}

impl<'py> IntoPyObject<'py> for Whole {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>, Self::Error> {
        Ok(match self {
            Whole::Small(b) => PyBytes::new(py, &b).into_any(),
            Whole::Direct(b) => b.into_bound(py).into_any(),
        })
    }
}
