//! Running a client future for Python: as an asyncio awaitable or blocking
//! with the GIL released, and turning its outcome into a Python value or
//! exception.

use std::any::TypeId;
use std::future::Future;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::IntoPyObjectExt;
use tokio::sync::oneshot;

use crate::errors::{invalid, Failure};

/// The outcome of a client call: converted to Python (value or exception)
/// only once the interpreter is attached again.
pub(crate) struct Out<T>(pub(crate) Result<T, Failure>);

impl<'py, T> IntoPyObject<'py> for Out<T>
where
    T: IntoPyObject<'py> + 'static,
{
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            // A call with nothing to return gives `None`, not `()`.
            Ok(_) if TypeId::of::<T>() == TypeId::of::<()>() => Ok(py.None().into_bound(py)),
            Ok(v) => v.into_bound_py_any(py),
            Err(f) => Err(f.into_pyerr(py)),
        }
    }
}

/// The tokio runtime every call runs on (shared by both surfaces).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Conversions to Python running on runtime threads right now.
static ATTACHED: AtomicUsize = AtomicUsize::new(0);
/// Set by the `atexit` hook: runtime threads stop touching Python.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Permission for a runtime thread to attach to the interpreter; `None`
/// once the interpreter is shutting down. The `atexit` hook waits until
/// every permit is returned, so no runtime thread is inside Python while
/// it finalizes.
pub(crate) struct Attach(());

impl Attach {
    pub(crate) fn enter() -> Option<Attach> {
        ATTACHED.fetch_add(1, Ordering::SeqCst);
        if SHUTDOWN.load(Ordering::SeqCst) {
            ATTACHED.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Attach(()))
    }
}

impl Drop for Attach {
    fn drop(&mut self) {
        ATTACHED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The `atexit` hook: stops runtime threads from attaching and waits
/// (up to 5 s, GIL released) for those inside Python to leave.
#[pyfunction]
pub(crate) fn _shutdown(py: Python<'_>) {
    SHUTDOWN.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while ATTACHED.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Settles an asyncio future on its loop (scheduled with
/// `call_soon_threadsafe`), unless it was cancelled meanwhile.
#[pyclass(frozen)]
struct Settle {
    fut: Py<PyAny>,
    ok: bool,
    value: Py<PyAny>,
}

#[pymethods]
impl Settle {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let fut = self.fut.bind(py);
        if fut.call_method0("done")?.is_truthy()? {
            return Ok(());
        }
        let method = if self.ok { "set_result" } else { "set_exception" };
        fut.call_method1(method, (self.value.bind(py),))?;
        Ok(())
    }
}

/// Cancels the Rust side when its asyncio future is cancelled (a done
/// callback).
#[pyclass(frozen)]
struct OnDone {
    tx: std::sync::Mutex<Option<oneshot::Sender<()>>>,
}

#[pymethods]
impl OnDone {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            if let Some(tx) = self.tx.lock().map_err(|_| invalid(fut.py(), "poisoned"))?.take() {
                let _ = tx.send(());
            }
        }
        Ok(())
    }
}

/// `fut` as an asyncio future of the running loop. Cancelling it (a
/// timeout of `asyncio.wait_for`, `Task.cancel()`) drops `fut` on the
/// runtime at once, which flushes a request in flight and releases any
/// fid it bound.
pub(crate) fn spawn<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let ev = asyncio(py)?.call_method0("get_running_loop")?;
    let py_fut = ev.call_method0("create_future")?;
    let (tx, rx) = oneshot::channel::<()>();
    py_fut.call_method1("add_done_callback", (OnDone { tx: std::sync::Mutex::new(Some(tx)) },))?;
    let (ev, handle) = (ev.unbind(), py_fut.clone().unbind());
    runtime().spawn(async move {
        let out = tokio::select! {
            biased;
            _ = rx => return,
            out = fut => out,
        };
        let Some(_permit) = Attach::enter() else { return };
        Python::attach(|py| {
            let (ok, value) = match Out(out).into_pyobject(py) {
                Ok(v) => (true, v.unbind()),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            let settle = Settle { fut: handle, ok, value };
            if let Err(e) = ev.bind(py).call_method1("call_soon_threadsafe", (settle,)) {
                // The loop is closed: nobody is waiting any more.
                tracing::debug!(error = %e, "event loop gone before a result");
            }
        });
    });
    Ok(py_fut)
}

/// The `asyncio` module.
fn asyncio(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static M: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    M.get_or_try_init(py, || Ok::<_, PyErr>(py.import("asyncio")?.unbind())).map(|m| m.bind(py))
}

/// How often a blocking call looks for a pending signal (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// Runs `fut` to completion with the GIL released. A signal handler that
/// raises (KeyboardInterrupt) abandons the call: `fut` is dropped, which
/// flushes a request in flight, and the exception propagates.
pub(crate) fn block<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send,
    T: IntoPyObject<'py> + Send + 'static,
{
    let run = || {
        runtime().block_on(async {
            tokio::pin!(fut);
            loop {
                tokio::select! {
                    r = &mut fut => return Ok(r),
                    _ = tokio::time::sleep(SIGNAL_POLL) => {
                        Python::attach(|py| py.check_signals())?;
                    }
                }
            }
        })
    };
    let out = py.detach(|| {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Called back from Python code that a blocking call is running
            // (a `write_from` source that is itself a blocking stream):
            // this thread already drives the runtime, so block on another.
            std::thread::scope(|s| match s.spawn(run).join() {
                Ok(r) => r,
                Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "a nested blocking call panicked",
                )),
            })
        } else {
            run()
        }
    });
    match out {
        Ok(r) => Out(r).into_pyobject(py),
        Err(e) => Err(e),
    }
}
