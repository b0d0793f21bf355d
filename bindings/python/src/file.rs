//! `File` (asyncio) and `SyncFile` (blocking): positioned I/O on an open
//! file, plus `read_chunks()` streaming and `write_from()`.

use std::ffi::OsString;
use std::sync::Arc;

use bytes::Bytes;
use ninefold_client as nf;
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyTuple};
use tokio::sync::Mutex;

use crate::convert::{data_arg, PyBytesOut};
use crate::errors::{Context, Failure};
use crate::run::{block, spawn};
use crate::types::{set_attrs_arg, PyMetadata};

/// Registers the classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFile>()?;
    m.add_class::<PySyncFile>()?;
    m.add_class::<PyChunks>()?;
    m.add_class::<PySyncChunks>()?;
    Ok(())
}

/// Bytes `read_chunks` asks for at a time by default.
const DEFAULT_CHUNK: u64 = 1 << 20;
/// Bytes `write_from` reads from a file-like source at a time.
const SOURCE_CHUNK: usize = 4 << 20;

/// An open file (asyncio): all I/O is positioned.
#[pyclass(name = "File", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PyFile {
    pub(crate) inner: nf::File,
    /// The path it was opened by (for error messages).
    pub(crate) path: OsString,
}

/// An open file (blocking): all I/O is positioned.
#[pyclass(name = "SyncFile", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PySyncFile {
    pub(crate) inner: nf::File,
    /// The path it was opened by (for error messages).
    pub(crate) path: OsString,
}

impl PyFile {
    pub(crate) fn new(inner: nf::File, path: OsString) -> Self {
        PyFile { inner, path }
    }
}

impl PySyncFile {
    pub(crate) fn new(inner: nf::File, path: OsString) -> Self {
        PySyncFile { inner, path }
    }
}

/// Where a chunk stream stands.
#[derive(Debug)]
struct Cursor {
    offset: u64,
    /// Bytes left to read (`None`: to EOF).
    left: Option<u64>,
    done: bool,
}

/// The next chunk of a stream, or `None` at its end.
async fn next_chunk(
    file: &nf::File,
    cur: &Mutex<Cursor>,
    size: u64,
) -> Result<Option<Bytes>, nf::Error> {
    let mut c = cur.lock().await;
    if c.done {
        return Ok(None);
    }
    let want = c.left.map_or(size, |l| l.min(size));
    if want == 0 {
        c.done = true;
        return Ok(None);
    }
    let len = usize::try_from(want).unwrap_or(usize::MAX);
    let data = file.read_at(c.offset, len).await?;
    if data.is_empty() {
        c.done = true;
        return Ok(None);
    }
    c.offset += data.len() as u64;
    if let Some(l) = c.left.as_mut() {
        *l -= data.len() as u64;
    }
    Ok(Some(data))
}

/// The stream `File.read_chunks()` returns: `async for chunk in ...`.
#[pyclass(name = "ChunkStream", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PyChunks {
    file: nf::File,
    path: OsString,
    cur: Arc<Mutex<Cursor>>,
    size: u64,
}

/// The iterator `SyncFile.read_chunks()` returns: `for chunk in ...`.
#[pyclass(name = "SyncChunkStream", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PySyncChunks {
    file: nf::File,
    path: OsString,
    cur: Arc<Mutex<Cursor>>,
    size: u64,
}

#[pymethods]
impl PyChunks {
    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (f, c, n, p) = (self.file.clone(), self.cur.clone(), self.size, self.path.clone());
        spawn(py, async move {
            match next_chunk(&f, &c, n).await.at(&p)? {
                Some(b) => Ok(PyBytesOut(b)),
                None => Err(Failure::Py(PyStopAsyncIteration::new_err(()))),
            }
        })
    }
}

#[pymethods]
impl PySyncChunks {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (f, c, n, p) = (self.file.clone(), self.cur.clone(), self.size, self.path.clone());
        block(py, async move {
            match next_chunk(&f, &c, n).await.at(&p)? {
                Some(b) => Ok(PyBytesOut(b)),
                None => Err(Failure::Py(PyStopIteration::new_err(()))),
            }
        })
    }
}

/// What `write_from` pulls its bytes from.
#[derive(Debug)]
enum Source {
    /// One bytes-like object.
    Once(Option<Bytes>),
    /// An object with `read(n)` (a binary file).
    Reader(Py<PyAny>),
    /// An iterator of bytes-like objects.
    Iter(Py<PyAny>),
    /// An async iterator of bytes-like objects, awaited on the caller's
    /// event loop.
    AsyncIter(Py<PyAny>, pyo3_async_runtimes::TaskLocals),
}

impl Source {
    fn new(obj: &Bound<'_, PyAny>, allow_async: bool) -> PyResult<Source> {
        if obj.is_instance_of::<PyBytes>()
            || obj.is_instance_of::<PyByteArray>()
            || obj.is_instance_of::<PyMemoryView>()
        {
            return Ok(Source::Once(Some(data_arg(obj)?)));
        }
        if obj.hasattr("read")? {
            return Ok(Source::Reader(obj.clone().unbind()));
        }
        if obj.hasattr("__aiter__")? {
            if !allow_async {
                return Err(PyTypeError::new_err(
                    "SyncFile.write_from cannot consume an async iterator",
                ));
            }
            let locals = pyo3_async_runtimes::tokio::get_current_locals(obj.py())?;
            return Ok(Source::AsyncIter(obj.call_method0("__aiter__")?.unbind(), locals));
        }
        if obj.hasattr("__iter__")? {
            return Ok(Source::Iter(obj.try_iter()?.into_any().unbind()));
        }
        Err(PyTypeError::new_err(
            "write_from takes bytes, a binary file, or an (async) iterable of bytes",
        ))
    }

    async fn next(&mut self) -> Result<Option<Bytes>, Failure> {
        match self {
            Source::Once(b) => Ok(b.take()),
            Source::Reader(r) => attach(|py| {
                let chunk = r.bind(py).call_method1("read", (SOURCE_CHUNK,))?;
                let b = data_arg(&chunk)?;
                Ok(if b.is_empty() { None } else { Some(b) })
            }),
            Source::Iter(it) => attach(|py| {
                let it = it.bind(py);
                match it.call_method0("__next__") {
                    Ok(chunk) => Ok(Some(data_arg(&chunk)?)),
                    Err(e) if e.is_instance_of::<PyStopIteration>(py) => Ok(None),
                    Err(e) => Err(Failure::Py(e)),
                }
            }),
            Source::AsyncIter(it, locals) => {
                let fut = attach(|py| {
                    let aw = it.bind(py).call_method0("__anext__")?;
                    Ok(pyo3_async_runtimes::into_future_with_locals(locals, aw)?)
                })?;
                match fut.await {
                    Ok(chunk) => attach(|py| Ok(Some(data_arg(chunk.bind(py))?))),
                    Err(e) => attach(|py| {
                        if e.is_instance_of::<PyStopAsyncIteration>(py) {
                            Ok(None)
                        } else {
                            Err(Failure::Py(e))
                        }
                    }),
                }
            }
        }
    }
}

/// Runs `f` attached to the interpreter from a runtime thread (an error
/// once the interpreter is shutting down).
pub(crate) fn attach<T>(f: impl FnOnce(Python<'_>) -> Result<T, Failure>) -> Result<T, Failure> {
    let Some(_permit) = crate::run::Attach::enter() else {
        return Err(Failure::from(nf::Error::Closed));
    };
    Python::attach(f)
}

/// Writes everything `src` yields from `offset`; returns the byte count.
async fn pump(
    file: nf::File,
    path: OsString,
    mut src: Source,
    offset: u64,
) -> Result<u64, Failure> {
    let mut at = offset;
    while let Some(chunk) = src.next().await? {
        let n = chunk.len() as u64;
        if n > 0 {
            file.write_at_bytes(at, chunk).await.at(&path)?;
        }
        at += n;
    }
    Ok(at - offset)
}

macro_rules! file_methods {
    ($cls:ident, $run:ident, $chunks:ident, $async_src:expr) => {
        #[pymethods]
        impl $cls {
            /// Up to `len` bytes at `offset`; a short result is EOF.
            fn read_at<'py>(
                &self,
                py: Python<'py>,
                offset: u64,
                len: usize,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.read_at(offset, len).await.at(&p).map(PyBytesOut) })
            }

            /// Writes all of `data` at `offset` (chunked internally).
            fn write_at<'py>(
                &self,
                py: Python<'py>,
                offset: u64,
                data: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (f, p, d) = (self.inner.clone(), self.path.clone(), data_arg(data)?);
                $run(py, async move { f.write_at_bytes(offset, d).await.at(&p) })
            }

            /// fstat of this handle.
            fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.metadata().await.at(&p).map(PyMetadata) })
            }

            /// Truncates or extends.
            fn set_len<'py>(&self, py: Python<'py>, size: u64) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.set_len(size).await.at(&p) })
            }

            /// Metadata changes through the handle.
            fn set_attr<'py>(
                &self,
                py: Python<'py>,
                attrs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (f, p, a) = (self.inner.clone(), self.path.clone(), set_attrs_arg(attrs)?);
                $run(py, async move { f.set_attr(a).await.at(&p).map(PyMetadata) })
            }

            /// Data and metadata to durable storage.
            fn sync_all<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.sync_all().await.at(&p) })
            }

            /// Data to durable storage.
            fn sync_data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.sync_data().await.at(&p) })
            }

            /// Closes the handle: idempotent, never hangs.
            fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { f.close().await.at(&p) })
            }

            /// The file as a stream of chunks of at most `chunk_size`
            /// bytes, from `offset`, for `length` bytes or to EOF.
            #[pyo3(signature = (chunk_size=DEFAULT_CHUNK, offset=0, length=None))]
            fn read_chunks(
                &self,
                py: Python<'_>,
                chunk_size: u64,
                offset: u64,
                length: Option<u64>,
            ) -> PyResult<$chunks> {
                if chunk_size == 0 {
                    return Err(crate::errors::invalid(py, "chunk_size must be positive"));
                }
                let cur = Cursor { offset, left: length, done: false };
                Ok($chunks {
                    file: self.inner.clone(),
                    path: self.path.clone(),
                    cur: Arc::new(Mutex::new(cur)),
                    size: chunk_size,
                })
            }

            /// Writes everything `source` yields (bytes, a binary file, an
            /// iterable of bytes, or for `File` an async iterable) from
            /// `offset`; returns the byte count.
            #[pyo3(signature = (source, offset=0))]
            fn write_from<'py>(
                &self,
                py: Python<'py>,
                source: &Bound<'py, PyAny>,
                offset: u64,
            ) -> PyResult<Bound<'py, PyAny>> {
                let src = Source::new(source, $async_src)?;
                let (f, p) = (self.inner.clone(), self.path.clone());
                $run(py, pump(f, p, src, offset))
            }

            fn __repr__(&self) -> String {
                format!("<ninefold.{} {:?}>", stringify!($cls).trim_start_matches("Py"), self.path)
            }
        }
    };
}

file_methods!(PyFile, spawn, PyChunks, true);
file_methods!(PySyncFile, block, PySyncChunks, false);

#[pymethods]
impl PyFile {
    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        pyo3_async_runtimes::tokio::future_into_py(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let f = self.inner.clone();
        spawn(py, async move { Ok(f.close().await?) })
    }
}

#[pymethods]
impl PySyncFile {
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let f = self.inner.clone();
        block(py, async move { Ok(f.close().await?) })
    }
}
