//! Argument and result conversions: paths (`str | bytes | os.PathLike`),
//! child names (`bytes`, or `str` encoded like `os.fsencode`), byte
//! payloads, timestamps (`datetime`, timezone-aware UTC).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use bytes::Bytes;
use ninefold_client::{SetTime, Timestamp};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};

use crate::errors::invalid;

/// A path argument: `str`, `bytes` or any `os.PathLike`, as the exact
/// bytes `os.fsencode` would give (non-UTF-8 names survive through
/// surrogateescape or bytes).
pub(crate) fn path_arg(obj: &Bound<'_, PyAny>) -> PyResult<OsString> {
    let py = obj.py();
    let p = if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        obj.clone()
    } else {
        os(py)?.call_method1("fspath", (obj,))?
    };
    raw_bytes(&p).map(OsString::from_vec)
}

/// A child name for the `*_at` calls: `bytes` verbatim, or a `str`
/// encoded like `os.fsencode`.
pub(crate) fn name_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    raw_bytes(obj)
}

fn raw_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if obj.is_instance_of::<PyString>() {
        let enc = os(obj.py())?.call_method1("fsencode", (obj,))?;
        return Ok(enc.cast::<PyBytes>()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "expected str, bytes or os.PathLike, not {}",
        obj.get_type().name()?
    )))
}

/// Payloads below this are copied: sharing costs an allocation too.
const SHARE_MIN: usize = 4096;

/// A byte payload: `bytes` uncopied (it is immutable, so the write sends
/// the object's own buffer, which it keeps alive until sent), or anything
/// `bytes()` accepts (`bytearray`, `memoryview`, ...), copied once into
/// Rust since it may change meanwhile.
pub(crate) fn data_arg(obj: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        if b.as_bytes().len() < SHARE_MIN {
            return Ok(Bytes::copy_from_slice(b.as_bytes()));
        }
        return Ok(Bytes::from_owner(PyBackedBytes::from(b.clone())));
    }
    if obj.is_instance_of::<PyString>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "expected a bytes-like object, not str (use write_text for text)",
        ));
    }
    let b = obj.py().get_type::<PyBytes>().call1((obj,))?;
    Ok(Bytes::copy_from_slice(b.cast::<PyBytes>()?.as_bytes()))
}

/// The `os` module.
fn os(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static M: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    M.get_or_try_init(py, || Ok::<_, PyErr>(py.import("os")?.unbind())).map(|m| m.bind(py))
}

/// `(datetime.datetime, datetime.timezone.utc, datetime.timedelta)`.
fn datetime(py: Python<'_>) -> PyResult<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)> {
    static M: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let m = M.get_or_try_init(py, || Ok::<_, PyErr>(py.import("datetime")?.unbind()))?.bind(py);
    Ok((m.getattr("datetime")?, m.getattr("timezone")?.getattr("utc")?, m.getattr("timedelta")?))
}

/// A timestamp as an aware UTC `datetime` (microsecond precision, as
/// `datetime` allows; the `*_ns` getters keep nanoseconds).
pub(crate) fn to_datetime<'py>(py: Python<'py>, t: Timestamp) -> PyResult<Bound<'py, PyAny>> {
    let (dt, utc, td) = datetime(py)?;
    let epoch = dt.call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
    let delta = td.call1((0, t.secs, t.nanos / 1000))?;
    epoch.call_method1("__add__", (delta,))
}

/// Nanoseconds since the epoch.
pub(crate) fn to_ns(t: Timestamp) -> i128 {
    i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos)
}

/// A `datetime` (naive means local time, as `datetime.timestamp()` has
/// it) or a number of seconds since the epoch, as a timestamp.
pub(crate) fn from_time(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let py = obj.py();
    let (dt, _, _) = datetime(py)?;
    if obj.is_instance(&dt)? {
        // Whole seconds and microseconds separately: no float rounding.
        let ts: f64 = obj.call_method0("timestamp")?.extract()?;
        let micros: u32 = obj.getattr("microsecond")?.extract()?;
        let secs = (ts - f64::from(micros) / 1e6).round() as i64;
        return Ok(Timestamp { secs, nanos: micros * 1000 });
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Timestamp { secs: i, nanos: 0 });
    }
    if let Ok(f) = obj.extract::<f64>() {
        if !f.is_finite() {
            return Err(invalid(py, "timestamp must be finite"));
        }
        let secs = f.floor();
        let nanos = ((f - secs) * 1e9).round().min(999_999_999.0) as u32;
        return Ok(Timestamp { secs: secs as i64, nanos });
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "expected a datetime, a number of seconds, or a SetTime",
    ))
}

/// A `SetTime`, a `datetime` or seconds since the epoch, as a set-time.
pub(crate) fn set_time_arg(obj: &Bound<'_, PyAny>) -> PyResult<SetTime> {
    if let Ok(st) = obj.cast::<crate::types::PySetTime>() {
        return Ok(st.get().0);
    }
    from_time(obj).map(SetTime::At)
}

/// An optional set-time.
pub(crate) fn opt_set_time(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<SetTime>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => set_time_arg(o).map(Some),
    }
}

/// Bytes handed to Python as `bytes` (one copy into the Python object;
/// a single-round-trip read arrives as a slice of the received frame).
pub(crate) struct PyBytesOut(pub(crate) Bytes);

impl<'py> IntoPyObject<'py> for PyBytesOut {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyBytes>, Self::Error> {
        Ok(PyBytes::new(py, &self.0))
    }
}

/// Text decoded from bytes with a Python codec.
pub(crate) struct TextOut {
    /// The raw bytes.
    pub(crate) data: Bytes,
    /// Codec name.
    pub(crate) encoding: String,
    /// Error handler.
    pub(crate) errors: String,
}

impl<'py> IntoPyObject<'py> for TextOut {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyBytes::new(py, &self.data).call_method1("decode", (self.encoding, self.errors))
    }
}
