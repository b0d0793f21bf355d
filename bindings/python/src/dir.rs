//! `Dir` (asyncio) and `SyncDir` (blocking): a pull-based listing cursor
//! (`async for` / `for`) plus the openat-style child calls. Child names
//! are bytes (a `str` is encoded like `os.fsencode`), so a non-UTF-8
//! entry goes back in verbatim through `DirEntry.name_bytes`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::Arc;

use ninefold_client as nf;
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tokio::sync::Mutex;

use crate::client::open_options;
use crate::convert::{name_arg, PyBytesOut};
use crate::errors::{Context, Failure};
use crate::file::{PyFile, PySyncFile};
use crate::run::{block, spawn};
use crate::types::{set_attrs_arg, Entries, PyDirEntry, PyMetadata, PyNodeKind, PyOpenOptions};

/// Registers the classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDir>()?;
    m.add_class::<PySyncDir>()?;
    Ok(())
}

/// An open directory (asyncio).
#[pyclass(name = "Dir", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PyDir {
    inner: nf::Dir,
    path: OsString,
    /// Entries fetched but not yet handed out by `__anext__`.
    pending: Arc<Mutex<VecDeque<nf::DirEntry>>>,
}

/// An open directory (blocking).
#[pyclass(name = "SyncDir", module = "ninefold", frozen)]
#[derive(Debug)]
pub(crate) struct PySyncDir {
    inner: nf::Dir,
    path: OsString,
    /// Entries fetched but not yet handed out by `__next__`.
    pending: Arc<Mutex<VecDeque<nf::DirEntry>>>,
}

impl PyDir {
    pub(crate) fn new(inner: nf::Dir, path: OsString) -> Self {
        PyDir { inner, path, pending: Arc::default() }
    }
}

impl PySyncDir {
    pub(crate) fn new(inner: nf::Dir, path: OsString) -> Self {
        PySyncDir { inner, path, pending: Arc::default() }
    }
}

/// The client directory behind a `Dir` or `SyncDir` argument.
fn dir_arg(obj: &Bound<'_, PyAny>) -> PyResult<nf::Dir> {
    if let Ok(d) = obj.cast::<PyDir>() {
        return Ok(d.get().inner.clone());
    }
    if let Ok(d) = obj.cast::<PySyncDir>() {
        return Ok(d.get().inner.clone());
    }
    Err(PyTypeError::new_err("expected a ninefold Dir"))
}

/// `dir/name`, for error messages.
fn child(dir: &OsString, name: &[u8]) -> OsString {
    let mut v = dir.clone().into_vec();
    if !v.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    OsString::from_vec(v)
}

/// The next entry of the cursor, refilling from the server when empty.
async fn next_entry(
    dir: &nf::Dir,
    pending: &Mutex<VecDeque<nf::DirEntry>>,
) -> Result<Option<nf::DirEntry>, nf::Error> {
    let mut q = pending.lock().await;
    if q.is_empty() {
        q.extend(dir.next_batch(None).await?);
    }
    Ok(q.pop_front())
}

macro_rules! dir_methods {
    ($cls:ident, $run:ident, $file:ident) => {
        #[pymethods]
        impl $cls {
            /// Up to `max` entries in directory order (one server batch
            /// when `max` is `None`); an empty list means the end.
            #[pyo3(signature = (max=None))]
            fn next_batch<'py>(
                &self,
                py: Python<'py>,
                max: Option<usize>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, p, q) = (self.inner.clone(), self.path.clone(), self.pending.clone());
                $run(py, async move {
                    let mut out: Vec<nf::DirEntry> = {
                        let mut q = q.lock().await;
                        let n = max.unwrap_or(q.len()).min(q.len());
                        q.drain(..n).collect()
                    };
                    if out.is_empty() || max.is_some_and(|m| out.len() < m) {
                        let want = max.map(|m| m - out.len());
                        if want != Some(0) {
                            out.extend(d.next_batch(want).await.at(&p)?);
                        }
                    }
                    Ok(Entries(out))
                })
            }

            /// Restarts the listing from the first entry.
            fn rewind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (d, p, q) = (self.inner.clone(), self.path.clone(), self.pending.clone());
                $run(py, async move {
                    q.lock().await.clear();
                    d.rewind().await.at(&p)
                })
            }

            /// Metadata of the directory itself.
            fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (d, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { d.metadata().await.at(&p).map(PyMetadata) })
            }

            /// Metadata changes of the directory itself.
            fn set_attr<'py>(
                &self,
                py: Python<'py>,
                attrs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, p, a) = (self.inner.clone(), self.path.clone(), set_attrs_arg(attrs)?);
                $run(py, async move { d.set_attr(a).await.at(&p).map(PyMetadata) })
            }

            /// openat(2) (read-only without options).
            #[pyo3(signature = (name, options=None))]
            fn open_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
                options: Option<PyOpenOptions>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n, o) = (self.inner.clone(), name_arg(name)?, open_options(options));
                let p = child(&self.path, &n);
                $run(
                    py,
                    async move { d.open_at(&n, o).await.at(&p).map(|f| $file::new(f, p.clone())) },
                )
            }

            /// Descends into child directory `name`.
            fn open_dir_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(
                    py,
                    async move { d.open_dir_at(&n).await.at(&p).map(|d| $cls::new(d, p.clone())) },
                )
            }

            /// fstatat(2); never follows symlinks.
            fn metadata_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.metadata_at(&n).await.at(&p).map(PyMetadata) })
            }

            /// Changes child `name` without opening it.
            fn set_attr_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
                attrs: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n, a) = (self.inner.clone(), name_arg(name)?, set_attrs_arg(attrs)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.set_attr_at(&n, a).await.at(&p).map(PyMetadata) })
            }

            /// mkdirat(2).
            #[pyo3(signature = (name, mode=0o755))]
            fn create_dir_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.create_dir_at(&n, mode).await.at(&p).map(PyMetadata) })
            }

            /// symlinkat(2): `target` (bytes or str) is stored verbatim.
            fn symlink_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
                target: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n, t) = (self.inner.clone(), name_arg(name)?, name_arg(target)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.symlink_at(&n, &t).await.at(&p).map(PyMetadata) })
            }

            /// linkat(2): `new_name` here for `original_name` in
            /// `original_dir`.
            fn link_at<'py>(
                &self,
                py: Python<'py>,
                original_dir: &Bound<'py, PyAny>,
                original_name: &Bound<'py, PyAny>,
                new_name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, od) = (self.inner.clone(), dir_arg(original_dir)?);
                let (o, n) = (name_arg(original_name)?, name_arg(new_name)?);
                let p = child(&self.path, &n);
                let op = OsString::from_vec(o.clone());
                $run(py, async move { d.link_at(&od, &o, &n).await.at2(&op, &p).map(PyMetadata) })
            }

            /// mknodat(2).
            #[pyo3(signature = (name, kind, mode=0o644))]
            fn mknod_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
                kind: PyNodeKind,
                mode: u32,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.mknod_at(&n, kind.0, mode).await.at(&p).map(PyMetadata) })
            }

            /// unlinkat(2).
            fn remove_file_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.remove_file_at(&n).await.at(&p) })
            }

            /// unlinkat(2) with AT_REMOVEDIR.
            fn remove_dir_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.remove_dir_at(&n).await.at(&p) })
            }

            /// renameat(2); `new_dir` may be this directory.
            fn rename_at<'py>(
                &self,
                py: Python<'py>,
                old_name: &Bound<'py, PyAny>,
                new_dir: &Bound<'py, PyAny>,
                new_name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, nd) = (self.inner.clone(), dir_arg(new_dir)?);
                let (o, n) = (name_arg(old_name)?, name_arg(new_name)?);
                let (p, p2) = (child(&self.path, &o), OsString::from_vec(n.clone()));
                $run(py, async move { d.rename_at(&o, &nd, &n).await.at2(&p, &p2) })
            }

            /// readlinkat(2): the raw target.
            fn read_link_at<'py>(
                &self,
                py: Python<'py>,
                name: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let (d, n) = (self.inner.clone(), name_arg(name)?);
                let p = child(&self.path, &n);
                $run(py, async move { d.read_link_at(&n).await.at(&p).map(PyBytesOut) })
            }

            /// Closes the handle: idempotent, never hangs.
            fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let (d, p) = (self.inner.clone(), self.path.clone());
                $run(py, async move { d.close().await.at(&p) })
            }

            fn __repr__(&self) -> String {
                format!("<ninefold.{} {:?}>", stringify!($cls).trim_start_matches("Py"), self.path)
            }
        }
    };
}

dir_methods!(PyDir, spawn, PyFile);
dir_methods!(PySyncDir, block, PySyncFile);

#[pymethods]
impl PyDir {
    fn __aiter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (d, p, q) = (self.inner.clone(), self.path.clone(), self.pending.clone());
        spawn(py, async move {
            match next_entry(&d, &q).await.at(&p)? {
                Some(e) => Ok(PyDirEntry(e)),
                None => Err(Failure::Py(PyStopAsyncIteration::new_err(()))),
            }
        })
    }

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
        let (d, p) = (self.inner.clone(), self.path.clone());
        spawn(py, async move { d.close().await.at(&p) })
    }
}

#[pymethods]
impl PySyncDir {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (d, p, q) = (self.inner.clone(), self.path.clone(), self.pending.clone());
        block(py, async move {
            match next_entry(&d, &q).await.at(&p)? {
                Some(e) => Ok(PyDirEntry(e)),
                None => Err(Failure::Py(PyStopIteration::new_err(()))),
            }
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (d, p) = (self.inner.clone(), self.path.clone());
        block(py, async move { d.close().await.at(&p) })
    }
}
