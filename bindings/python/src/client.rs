//! `Client` (asyncio) and `SyncClient` (blocking): one session, path-based
//! calls. One macro body defines every operation for both.

use ninefold_client as nf;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::bulk::{read_whole_block, read_whole_spawn};
use crate::convert::{data_arg, path_arg, PyBytesOut, TextOut};
use crate::dir::{PyDir, PySyncDir};
use crate::errors::{Context, Failure};
use crate::file::{PyFile, PySyncFile};
use crate::run::{block, spawn};
use crate::types::{
    opt_time_arg, set_attrs_arg, Entries, PyCapabilities, PyConnectOptions, PyMetadata, PyNodeKind,
    PyOpenOptions, PyStatFs,
};

/// Registers the classes and `connect_sync`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyClient>()?;
    m.add_class::<PySyncClient>()?;
    m.add_function(pyo3::wrap_pyfunction!(connect_sync, m)?)?;
    Ok(())
}

/// Connects (blocking) and returns a `SyncClient`.
#[pyfunction]
#[pyo3(signature = (target, options=None))]
fn connect_sync<'py>(
    py: Python<'py>,
    target: String,
    options: Option<PyConnectOptions>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = options.map(|o| o.to_client()).unwrap_or_default();
    block(py, connect(target, opts, |c| PySyncClient { inner: c }))
}

async fn connect<T>(
    target: String,
    opts: nf::ConnectOptions,
    wrap: fn(nf::Client) -> T,
) -> Result<T, Failure> {
    nf::Client::connect_with(&target, opts).await.at(&target.clone().into()).map(wrap)
}

/// `Client::write` without its copy: creates or truncates, then sends
/// `data` as it is.
async fn write_whole(
    c: nf::Client,
    p: std::ffi::OsString,
    data: bytes::Bytes,
) -> Result<(), Failure> {
    let opts = nf::OpenOptions::new().write(true).create(true).truncate(true);
    let f = c.open(&p, opts).await.at(&p)?;
    f.write_at_bytes(0, data).await.at(&p)
}

/// The options of `open`: read-only when none are given.
pub(crate) fn open_options(o: Option<PyOpenOptions>) -> nf::OpenOptions {
    o.map(|o| o.to_client()).unwrap_or_else(|| nf::OpenOptions::new().read(true))
}

/// A connected client (asyncio): every method returns an awaitable.
#[pyclass(name = "Client", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PyClient {
    pub(crate) inner: nf::Client,
}

/// A connected client (blocking): every method blocks with the GIL
/// released; safe to share between threads.
#[pyclass(name = "SyncClient", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PySyncClient {
    pub(crate) inner: nf::Client,
}

macro_rules! client_methods {
    ($cls:ident, $run:ident, $whole:ident, $file:ident, $dir:ident) => {
        #[pymethods]
        impl $cls {
            /// Connects to `target` with default options.
            #[classmethod]
            fn connect<'py>(
                _cls: &Bound<'py, PyType>,
                py: Python<'py>,
                target: String,
            ) -> PyResult<Bound<'py, PyAny>> {
                $run(py, connect(target, nf::ConnectOptions::default(), |c| $cls { inner: c }))
            }

            /// Connects with explicit identity and tuning.
            #[classmethod]
            fn connect_with<'py>(
                _cls: &Bound<'py, PyType>,
                py: Python<'py>,
                target: String,
                options: PyConnectOptions,
            ) -> PyResult<Bound<'py, PyAny>> {
                $run(py, connect(target, options.to_client(), |c| $cls { inner: c }))
            }

            /// Negotiated session properties (no I/O).
            fn capabilities(&self) -> PyCapabilities {
                self.inner.capabilities().into()
            }

            /// Reconnections so far (0 on the first connection).
            #[getter]
            fn generation(&self) -> u64 {
                self.inner.generation()
            }

            /// The whole file.
            fn read<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                $whole(py, self.inner.clone(), path_arg(path)?)
            }

            /// Up to `len` bytes at `offset`; a short result is EOF.
            fn read_range<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                offset: u64,
                len: usize,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.read_range(&p, offset, len).await.at(&p).map(PyBytesOut) })
            }

            /// The whole file decoded as text.
            #[pyo3(signature = (path, encoding="utf-8".to_owned(), errors="strict".to_owned()))]
            fn read_text<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                encoding: String,
                errors: String,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move {
                    c.read(&p).await.at(&p).map(|data| TextOut { data, encoding, errors })
                })
            }

            /// Creates or truncates, then writes all of `data`.
            fn write<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                data: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p, d) = (self.inner.clone(), path_arg(path)?, data_arg(data)?);
                $run(py, write_whole(c, p, d))
            }

            /// Creates or truncates, then writes `text` encoded.
            #[pyo3(signature = (path, text, encoding="utf-8", errors="strict"))]
            fn write_text<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                text: &Bound<'py, pyo3::types::PyString>,
                encoding: &str,
                errors: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let d = data_arg(&text.call_method1("encode", (encoding, errors))?)?;
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, write_whole(c, p, d))
            }

            /// Appends at the end of the file; returns where the data landed.
            fn append<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                data: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p, d) = (self.inner.clone(), path_arg(path)?, data_arg(data)?);
                $run(py, async move { c.append(&p, d).await.at(&p) })
            }

            /// Metadata without following a final symlink.
            fn stat<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.stat(&p).await.at(&p).map(PyMetadata) })
            }

            /// Metadata, following symlinks (40-hop cap).
            fn metadata<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.metadata(&p).await.at(&p).map(PyMetadata) })
            }

            /// Every symlink resolved: the canonical path bytes.
            fn canonicalize<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.canonicalize(&p).await.at(&p).map(PyBytesOut) })
            }

            /// Whether anything is at `path` (no symlink follow).
            fn exists<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.exists(&p).await.at(&p) })
            }

            /// Any combination of metadata changes.
            fn set_attr<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                attrs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p, a) = (self.inner.clone(), path_arg(path)?, set_attrs_arg(attrs)?);
                $run(py, async move { c.set_attr(&p, a).await.at(&p).map(PyMetadata) })
            }

            /// Sets the permission bits.
            fn chmod<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.chmod(&p, mode).await.at(&p).map(PyMetadata) })
            }

            /// Changes owner and/or group; `None` leaves one unchanged.
            #[pyo3(signature = (path, uid=None, gid=None))]
            fn chown<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                uid: Option<u32>,
                gid: Option<u32>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.chown(&p, uid, gid).await.at(&p).map(PyMetadata) })
            }

            /// Truncates or extends.
            fn truncate<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                size: u64,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.truncate(&p, size).await.at(&p).map(PyMetadata) })
            }

            /// Sets access and/or modification time (`SetTime`, `datetime`,
            /// seconds, or `None` to leave one unchanged).
            #[pyo3(signature = (path, atime=None, mtime=None))]
            fn set_times<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                atime: Option<&Bound<'py, PyAny>>,
                mtime: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                let (a, m) = (opt_time_arg(atime)?, opt_time_arg(mtime)?);
                $run(py, async move { c.set_times(&p, a, m).await.at(&p).map(PyMetadata) })
            }

            /// Filesystem usage and limits.
            fn statfs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let c = self.inner.clone();
                $run(py, async move { c.statfs().await.map(PyStatFs::from).map_err(Failure::from) })
            }

            /// Flushes to durable storage.
            fn sync<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let c = self.inner.clone();
                $run(py, async move { c.sync().await.map_err(Failure::from) })
            }

            /// Creates a directory (the parent must exist).
            #[pyo3(signature = (path, mode=0o755))]
            fn create_dir<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.create_dir(&p, mode).await.at(&p).map(PyMetadata) })
            }

            /// Creates a directory and its missing ancestors.
            #[pyo3(signature = (path, mode=0o755))]
            fn create_dir_all<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.create_dir_all(&p, mode).await.at(&p) })
            }

            /// Removes a file, symlink or device node.
            fn remove_file<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.remove_file(&p).await.at(&p) })
            }

            /// Removes an empty directory.
            fn remove_dir<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.remove_dir(&p).await.at(&p) })
            }

            /// Removes a tree (not atomic).
            fn remove_dir_all<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.remove_dir_all(&p).await.at(&p) })
            }

            /// Atomic rename; replaces an existing target.
            fn rename<'py>(
                &self,
                py: Python<'py>,
                from_: &Bound<'py, PyAny>,
                to: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, f, t) = (self.inner.clone(), path_arg(from_)?, path_arg(to)?);
                $run(py, async move { c.rename(&f, &t).await.at2(&f, &t) })
            }

            /// A new name `link` for the inode at `original`.
            fn hard_link<'py>(
                &self,
                py: Python<'py>,
                original: &Bound<'py, PyAny>,
                link: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, o, l) = (self.inner.clone(), path_arg(original)?, path_arg(link)?);
                $run(py, async move { c.hard_link(&o, &l).await.at2(&o, &l).map(PyMetadata) })
            }

            /// A symlink at `link_path`; `target` is stored verbatim.
            fn symlink<'py>(
                &self,
                py: Python<'py>,
                target: &Bound<'py, PyAny>,
                link_path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, t, l) = (self.inner.clone(), path_arg(target)?, path_arg(link_path)?);
                $run(py, async move { c.symlink(&t, &l).await.at2(&l, &t).map(PyMetadata) })
            }

            /// The raw target of a symlink.
            fn read_link<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.read_link(&p).await.at(&p).map(PyBytesOut) })
            }

            /// Creates a FIFO, socket or device node.
            #[pyo3(signature = (path, kind, mode=0o644))]
            fn mknod<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                kind: PyNodeKind,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.mknod(&p, kind.0, mode).await.at(&p).map(PyMetadata) })
            }

            /// The whole directory (`.` and `..` excluded).
            fn read_dir<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.read_dir(&p).await.at(&p).map(Entries) })
            }

            /// A directory handle: listing cursor and `*_at` calls.
            fn open_dir<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(
                    py,
                    async move { c.open_dir(&p).await.at(&p).map(|d| $dir::new(d, p.clone())) },
                )
            }

            /// A file handle for positioned I/O (read-only without options).
            #[pyo3(signature = (path, options=None))]
            fn open<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
                options: Option<PyOpenOptions>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p, o) = (self.inner.clone(), path_arg(path)?, open_options(options));
                $run(
                    py,
                    async move { c.open(&p, o).await.at(&p).map(|f| $file::new(f, p.clone())) },
                )
            }

            /// Read-write, create, truncate, mode 0o644.
            fn create<'py>(
                &self,
                py: Python<'py>,
                path: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (c, p) = (self.inner.clone(), path_arg(path)?);
                $run(py, async move { c.create(&p).await.at(&p).map(|f| $file::new(f, p.clone())) })
            }

            /// Marks the client closed and releases the session.
            fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let c = self.inner.clone();
                $run(py, async move { c.close().await.map_err(Failure::from) })
            }

            fn __repr__(&self) -> String {
                format!(
                    "<ninefold.{} generation={}>",
                    stringify!($cls).trim_start_matches("Py"),
                    self.inner.generation()
                )
            }
        }
    };
}

client_methods!(PyClient, spawn, read_whole_spawn, PyFile, PyDir);
client_methods!(PySyncClient, block, read_whole_block, PySyncFile, PySyncDir);

#[pymethods]
impl PyClient {
    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        pyo3_async_runtimes::tokio::future_into_py(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        spawn(py, async move { c.close().await.map_err(Failure::from) })
    }
}

#[pymethods]
impl PySyncClient {
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        block(py, async move { c.close().await.map_err(Failure::from) })
    }
}
