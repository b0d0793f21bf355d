//! Running a client future for Python: as an asyncio awaitable or blocking
//! with the GIL released, and turning its outcome into a Python value or
//! exception.

use std::any::TypeId;
use std::future::Future;
use std::time::Duration;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::{intern, IntoPyObjectExt};
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
///
/// The runtime thread that finishes `fut` never takes the GIL: it queues
/// the outcome on the loop's [`Waker`] and the loop converts and settles
/// every queued outcome in one callback (see [`Waker`]).
pub(crate) fn spawn<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let ev = running_loop(py)?;
    let py_fut = ev.call_method0(intern!(py, "create_future"))?;
    let (tx, rx) = oneshot::channel::<()>();
    py_fut.call_method1(
        intern!(py, "add_done_callback"),
        (OnDone { tx: std::sync::Mutex::new(Some(tx)) },),
    )?;
    let waker = waker_for(&ev)?;
    let (ev, handle) = (ev.unbind(), py_fut.clone().unbind());
    runtime().spawn(async move {
        let out = tokio::select! {
            biased;
            _ = rx => return,
            out = fut => out,
        };
        match waker {
            Some(w) => w.push(Box::new(move |py| settle(py, handle.bind(py), Out(out)))),
            None => settle_threadsafe(ev, handle, out),
        }
    });
    Ok(py_fut)
}

/// Sets `out` as the result (or exception) of `fut`, unless it was
/// cancelled meanwhile. Runs on the loop's thread.
fn settle<'py, T>(py: Python<'py>, fut: &Bound<'py, PyAny>, out: Out<T>)
where
    T: IntoPyObject<'py> + 'static,
{
    let (method, value) = match out.into_pyobject(py) {
        Ok(v) => (intern!(py, "set_result"), v),
        Err(e) => (intern!(py, "set_exception"), e.into_value(py).into_bound(py).into_any()),
    };
    let done = fut.call_method0(intern!(py, "done")).and_then(|d| d.is_truthy());
    if let Ok(false) = done {
        if let Err(e) = fut.call_method1(method, (value,)) {
            tracing::debug!(error = %e, "settling an asyncio future failed");
        }
    }
}

/// The slow path, for a loop without `add_reader`: attach from the runtime
/// thread and schedule the settling with `call_soon_threadsafe`.
fn settle_threadsafe<T>(ev: Py<PyAny>, handle: Py<PyAny>, out: Result<T, Failure>)
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
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
}

/// An outcome waiting for its loop: converts and settles when run there.
type Completion = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

/// Wakes one event loop from runtime threads without the GIL: outcomes
/// are queued here and one byte on a socket pair (watched by the loop's
/// `add_reader`) tells the loop to drain the queue. Finished calls that
/// pile up while the loop is busy are settled in one wake-up.
pub(crate) struct Waker {
    queue: std::sync::Mutex<Vec<Completion>>,
    /// A wake-up byte is on its way and not yet consumed.
    armed: AtomicBool,
    tx: UnixStream,
}

impl Waker {
    fn push(&self, c: Completion) {
        match self.queue.lock() {
            Ok(mut q) => q.push(c),
            Err(_) => return,
        }
        if !self.armed.swap(true, Ordering::SeqCst) {
            // A full socket buffer means a wake-up is pending anyway.
            let _ = (&self.tx).write(&[1]);
        }
    }
}

/// The loop's reader callback for a [`Waker`].
#[pyclass(frozen)]
struct Drain {
    waker: Arc<Waker>,
    rx: UnixStream,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        // Consume the wake-up bytes before disarming: a byte written after
        // that belongs to an outcome this call may not see.
        let mut sink = [0u8; 256];
        while matches!((&self.rx).read(&mut sink), Ok(n) if n > 0) {}
        self.waker.armed.store(false, Ordering::SeqCst);
        let ready = match self.waker.queue.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => return,
        };
        for c in ready {
            c(py);
        }
    }
}

/// A loop and its waker (`None`: the loop has no `add_reader`).
type LoopWaker = (Py<PyAny>, Option<Arc<Waker>>);

thread_local! {
    /// The last loop this thread spawned on, and its waker.
    static WAKER: std::cell::RefCell<Option<LoopWaker>> =
        const { std::cell::RefCell::new(None) };
}

/// The waker of `ev` (made and registered on first use), or `None` when
/// the loop cannot watch a file descriptor.
fn waker_for(ev: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Waker>>> {
    let cached = WAKER
        .with(|w| w.borrow().as_ref().filter(|(l, _)| l.is(ev)).map(|(_, waker)| waker.clone()));
    if let Some(w) = cached {
        return Ok(w);
    }
    let waker = new_waker(ev)?;
    WAKER.with(|w| *w.borrow_mut() = Some((ev.clone().unbind(), waker.clone())));
    Ok(waker)
}

fn new_waker(ev: &Bound<'_, PyAny>) -> PyResult<Option<Arc<Waker>>> {
    let io = |e: std::io::Error| pyo3::exceptions::PyOSError::new_err(e.to_string());
    let (tx, rx) = UnixStream::pair().map_err(io)?;
    tx.set_nonblocking(true).map_err(io)?;
    rx.set_nonblocking(true).map_err(io)?;
    let fd = rx.as_raw_fd();
    let waker = Arc::new(Waker {
        queue: std::sync::Mutex::new(Vec::new()),
        armed: AtomicBool::new(false),
        tx,
    });
    let drain = Drain { waker: waker.clone(), rx };
    match ev.call_method1("add_reader", (fd, drain)) {
        Ok(_) => Ok(Some(waker)),
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(ev.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The running event loop (`RuntimeError` outside one).
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static F: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    F.get_or_try_init(py, || Ok::<_, PyErr>(asyncio(py)?.getattr("get_running_loop")?.unbind()))?
        .bind(py)
        .call0()
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
    Out(wait(py, fut)?).into_pyobject(py)
}

/// [`block`] without the conversion: the call's own outcome, or the
/// exception a signal handler raised meanwhile.
pub(crate) fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<Result<T, Failure>>
where
    F: Future<Output = Result<T, Failure>> + Send,
    T: Send,
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
    py.detach(|| {
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
    })
}
