//! The one mapping of [`ninefold_client::Error`] to Python exceptions.
//!
//! The classes live in `ninefold/_errors.py` (each is both a subclass of
//! `ninefold.NinefoldError` and of the matching `OSError` subclass, which
//! needs multiple inheritance that a native class cannot declare). Here
//! each variant picks its class by name and the exception is built as
//! `OSError(errno, strerror, filename, None, filename2)`, so `errno`,
//! `strerror`, `filename` and `filename2` are all set.

use std::ffi::OsString;

use ninefold_client::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

/// A failed call: a client error with the path(s) it was about, or a
/// Python exception raised by Python code the call ran (a `write_from`
/// source).
#[derive(Debug)]
pub(crate) enum Failure {
    /// From the client.
    Client {
        /// The error.
        err: Error,
        /// The path or name the call was about.
        path: Option<OsString>,
        /// The second path (rename, link).
        path2: Option<OsString>,
    },
    /// From Python code.
    Py(PyErr),
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Failure {
        Failure::Py(e)
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        Failure::Client { err, path: None, path2: None }
    }
}

/// Attaches the path(s) a call was about to its error.
pub(crate) trait Context<T> {
    /// With one path.
    fn at(self, path: &OsString) -> Result<T, Failure>;
    /// With two paths.
    fn at2(self, path: &OsString, path2: &OsString) -> Result<T, Failure>;
}

impl<T> Context<T> for Result<T, Error> {
    fn at(self, path: &OsString) -> Result<T, Failure> {
        self.map_err(|err| Failure::Client { err, path: Some(path.clone()), path2: None })
    }
    fn at2(self, path: &OsString, path2: &OsString) -> Result<T, Failure> {
        self.map_err(|err| Failure::Client {
            err,
            path: Some(path.clone()),
            path2: Some(path2.clone()),
        })
    }
}

/// The name of the exception class for a variant (`ninefold.<name>`).
pub(crate) fn class_name(err: &Error) -> &'static str {
    match err {
        Error::NotFound => "NotFound",
        Error::PermissionDenied => "PermissionDenied",
        Error::NotPermitted => "NotPermitted",
        Error::AlreadyExists => "AlreadyExists",
        Error::NotADirectory => "NotADirectory",
        Error::IsADirectory => "IsADirectory",
        Error::DirectoryNotEmpty => "DirectoryNotEmpty",
        Error::NameTooLong => "NameTooLong",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::TooManySymlinks => "TooManySymlinks",
        Error::Closed => "Closed",
        Error::ConnectFailed(_) | Error::Tls(_) => "ConnectFailed",
        // Refused authentication or access: EACCES, with the reason.
        Error::AuthFailed(_) => "PermissionDenied",
        Error::Io(_) => "Io",
        Error::Protocol(_) => "Protocol",
        // `Error` is non-exhaustive: a variant added later is still an
        // OSError with its errno until it gets its own class.
        _ => "Io",
    }
}

/// `ninefold._errors`, imported once.
fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("ninefold._errors")?.unbind()))
        .map(|m| m.bind(py))
}

impl Failure {
    /// The Python exception.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Py(e) => e,
            Failure::Client { err, path, path2 } => match build(py, &err, path, path2) {
                Ok(e) => e,
                Err(e) => e,
            },
        }
    }
}

fn build(
    py: Python<'_>,
    err: &Error,
    path: Option<OsString>,
    path2: Option<OsString>,
) -> PyResult<PyErr> {
    let cls = errors_module(py)?.getattr(class_name(err))?;
    let errno = err.errno().get();
    let exc = cls.call1((errno, err.to_string(), path, py.None(), path2))?;
    Ok(PyErr::from_value(exc))
}

/// A client-side `InvalidArgument` for bad input found before any I/O.
pub(crate) fn invalid(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    Failure::from(Error::InvalidArgument(msg.into())).into_pyerr(py)
}

/// Test hook: the exception the mapping builds for variant `name` (made
/// from `errno` through the client's own errno mapping where the variant
/// has one), with filename `/p`. Lets the tests check every class,
/// including those no server can be made to produce on demand.
#[pyfunction]
pub(crate) fn _error_for_test(py: Python<'_>, name: &str, errno: u32) -> PyResult<Py<PyAny>> {
    let err = match name {
        "InvalidArgument" => Error::InvalidArgument("test".into()),
        "ConnectFailed" => Error::ConnectFailed("test".into()),
        "Protocol" => Error::Protocol("test".into()),
        _ => Error::from_errno(ninefold_client::Errno::new(errno)),
    };
    let f = Failure::Client { err, path: Some("/p".into()), path2: None };
    Ok(f.into_pyerr(py).into_value(py).into_any())
}
