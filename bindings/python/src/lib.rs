//! `ninefold._ninefold`: the native half of the `ninefold` Python package.
//!
//! Every class here wraps a type of [`ninefold_client`] and maps its calls
//! and its [`Error`](ninefold_client::Error) once; the package's Python
//! half (`python/ninefold`) only re-exports them, defines the exception
//! classes and adds fsspec. There is no protocol logic in this crate.
//!
//! Each handle type exists twice: an asyncio one (`Client`, `File`, `Dir`,
//! whose methods return awaitables run on a shared tokio runtime through
//! `pyo3-async-runtimes`; cancelling the awaitable drops the Rust future,
//! which flushes a request in flight) and a blocking one (`SyncClient`,
//! `SyncFile`, `SyncDir`, whose methods release the GIL and block on the
//! same runtime). One macro body per operation serves both, so the two
//! surfaces cannot drift apart.

mod bulk;
mod bytearray_copy;
mod client;
mod convert;
mod dir;
mod errors;
mod file;
mod readinto;
mod run;
mod types;
mod uninit_bytes;

use pyo3::prelude::*;

/// The module `ninefold._ninefold`.
#[pymodule]
fn _ninefold(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(pyo3::wrap_pyfunction!(run::_shutdown, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(errors::_error_for_test, m)?)?;
    types::register(m)?;
    client::register(m)?;
    file::register(m)?;
    dir::register(m)?;
    Ok(())
}
