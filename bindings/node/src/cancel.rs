//! Cancellation tokens: the facade makes one per call that has an
//! `AbortSignal`, fires it on `abort` and drops it when the call settles.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

use crate::convert::{aborted, to_js};

static TOKENS: LazyLock<Mutex<HashMap<u32, CancellationToken>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT: AtomicU32 = AtomicU32::new(1);

fn tokens() -> std::sync::MutexGuard<'static, HashMap<u32, CancellationToken>> {
    TOKENS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new cancellation token; its id goes as the `cancel` argument of calls.
#[napi]
pub fn cancel_token_new() -> u32 {
    let mut id = NEXT.fetch_add(1, Ordering::Relaxed);
    if id == 0 {
        id = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    tokens().insert(id, CancellationToken::new());
    id
}

/// Fires a token: every call holding it drops its future and rejects with
/// the `Aborted` error.
#[napi]
pub fn cancel_token_fire(id: u32) {
    if let Some(t) = tokens().get(&id) {
        t.cancel();
    }
}

/// Forgets a token (after its call settled).
#[napi]
pub fn cancel_token_drop(id: u32) {
    tokens().remove(&id);
}

/// Runs `fut` unless the token `cancel` fires first, in which case `fut` is
/// dropped (the client flushes what it had in flight) and the call fails
/// with `Aborted`.
pub(crate) async fn run<T>(
    cancel: Option<u32>,
    fut: impl Future<Output = ninefold_client::Result<T>>,
) -> napi::Result<T> {
    let token = cancel.and_then(|id| tokens().get(&id).cloned());
    match token {
        None => fut.await.map_err(to_js),
        Some(t) => {
            tokio::select! {
                biased;
                _ = t.cancelled() => Err(aborted()),
                r = fut => r.map_err(to_js),
            }
        }
    }
}
