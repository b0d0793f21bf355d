//! Server metrics: OpenTelemetry instruments behind the `otel` feature,
//! nothing at all without it.
//!
//! | instrument | kind | unit |
//! |---|---|---|
//! | `ninefold.server.duration` | histogram, by `rpc.method` and `error` | s |
//! | `ninefold.server.request.size` | counter | By |
//! | `ninefold.server.response.size` | counter | By |
//! | `ninefold.server.active_requests` | up-down counter | |
//! | `ninefold.server.connections` | up-down counter | |
//! | `ninefold.server.connections_rejected` | counter | |
//! | `ninefold.server.fid.count` | up-down counter | |
//! | `ninefold.server.ledger.entries` | up-down counter (`.Z` outcomes kept) | |
//! | `ninefold.server.ledger.size` | up-down counter | By |
//! | `ninefold.server.ledger.events` | counter, by `event`: `replayed`, `waited` (single-flight), `stale` (116), `evicted` | |
//! | `ninefold.server.limit.events` | counter, by `limit`: `peer_connections` (closed at accept), `connection_rate` / `peer_rate` (a request held back), `frame_timeout` / `handshake_timeout` (closed), `memory_wait` (reading paused for memory), `stalled` (closed: replies not read) | |
//! | `ninefold.server.memory.used` | gauge: bytes charged to the server's memory budget | By |

use std::time::Duration;

use ninefold_proto::Message;

/// The server's instruments (no-ops unless built with a meter).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    #[cfg(feature = "otel")]
    inner: Option<otel::Instruments>,
}

#[cfg(not(feature = "otel"))]
impl Metrics {
    /// Whether anything is recorded (callers skip measuring otherwise).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        false
    }
    #[inline]
    pub(crate) fn request_bytes(&self, _n: usize) {}
    #[inline]
    pub(crate) fn active(&self, _d: i64) {}
    #[inline]
    pub(crate) fn duration(&self, _op: &'static str, _d: Duration, _reply: Option<&Message>) {}
    #[inline]
    pub(crate) fn connection(&self, _d: i64) {}
    #[inline]
    pub(crate) fn rejected(&self) {}
    #[inline]
    pub(crate) fn fids(&self, _d: i64) {}
    #[inline]
    pub(crate) fn ledger_size(&self, _entries: i64, _bytes: i64) {}
    #[inline]
    pub(crate) fn ledger_event(&self, _event: &'static str, _n: u64) {}
    #[inline]
    pub(crate) fn limit(&self, _limit: &'static str) {}
    #[inline]
    pub(crate) fn observe_memory(
        &self,
        _budget: Option<std::sync::Arc<crate::limits::ByteBudget>>,
    ) {
    }
}

#[cfg(feature = "otel")]
impl Metrics {
    pub(crate) fn new(meter: &opentelemetry::metrics::Meter) -> Metrics {
        Metrics { inner: Some(otel::Instruments::new(meter)) }
    }

    /// Whether anything is recorded (callers skip measuring otherwise).
    pub(crate) fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub(crate) fn request_bytes(&self, n: usize) {
        if let Some(i) = &self.inner {
            i.request_size.add(n as u64, &[]);
        }
    }

    pub(crate) fn active(&self, d: i64) {
        if let Some(i) = &self.inner {
            i.active.add(d, &[]);
        }
    }

    pub(crate) fn duration(&self, op: &'static str, d: Duration, reply: Option<&Message>) {
        use opentelemetry::KeyValue;
        if let Some(i) = &self.inner {
            let errno = reply.and_then(crate::reply::reply_errno);
            let attrs = [
                KeyValue::new("rpc.method", op),
                KeyValue::new("error", errno.map_or("", |e| e.name().unwrap_or("other"))),
            ];
            i.duration.record(d.as_secs_f64(), &attrs);
            if let Some(r) = reply {
                let len = ninefold_proto::Frame::new(0, r.clone())
                    .encoded_len(ninefold_proto::Dialect::L)
                    .unwrap_or(0);
                i.response_size.add(len as u64, &[]);
            }
        }
    }

    pub(crate) fn connection(&self, d: i64) {
        if let Some(i) = &self.inner {
            i.connections.add(d, &[]);
        }
    }

    pub(crate) fn rejected(&self) {
        if let Some(i) = &self.inner {
            i.rejected.add(1, &[]);
        }
    }

    pub(crate) fn fids(&self, d: i64) {
        if let Some(i) = &self.inner {
            i.fids.add(d, &[]);
        }
    }

    pub(crate) fn ledger_size(&self, entries: i64, bytes: i64) {
        if let Some(i) = &self.inner {
            if entries != 0 {
                i.ledger_entries.add(entries, &[]);
            }
            if bytes != 0 {
                i.ledger_bytes.add(bytes, &[]);
            }
        }
    }

    pub(crate) fn ledger_event(&self, event: &'static str, n: u64) {
        if let Some(i) = &self.inner {
            i.ledger_events.add(n, &[opentelemetry::KeyValue::new("event", event)]);
        }
    }

    pub(crate) fn limit(&self, limit: &'static str) {
        if let Some(i) = &self.inner {
            i.limit_events.add(1, &[opentelemetry::KeyValue::new("limit", limit)]);
        }
    }

    /// Reports `budget`'s bytes in use at each collection (nothing on the
    /// request path).
    pub(crate) fn observe_memory(&self, budget: Option<std::sync::Arc<crate::limits::ByteBudget>>) {
        let (Some(i), Some(budget)) = (&self.inner, budget) else { return };
        let gauge = i
            .meter
            .u64_observable_gauge("ninefold.server.memory.used")
            .with_unit("By")
            .with_description(
                "Bytes of request frames and queued replies charged to the server's memory budget",
            )
            .with_callback(move |o| o.observe(budget.used() as u64, &[]))
            .build();
        *i.memory_gauge.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(gauge);
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableGauge, UpDownCounter};

    #[derive(Debug)]
    pub(super) struct Instruments {
        pub(super) duration: Histogram<f64>,
        pub(super) request_size: Counter<u64>,
        pub(super) response_size: Counter<u64>,
        pub(super) active: UpDownCounter<i64>,
        pub(super) connections: UpDownCounter<i64>,
        pub(super) rejected: Counter<u64>,
        pub(super) fids: UpDownCounter<i64>,
        pub(super) ledger_entries: UpDownCounter<i64>,
        pub(super) ledger_bytes: UpDownCounter<i64>,
        pub(super) ledger_events: Counter<u64>,
        pub(super) limit_events: Counter<u64>,
        pub(super) meter: Meter,
        pub(super) memory_gauge: std::sync::Mutex<Option<ObservableGauge<u64>>>,
    }

    impl Instruments {
        pub(super) fn new(m: &Meter) -> Instruments {
            Instruments {
                duration: m
                    .f64_histogram("ninefold.server.duration")
                    .with_unit("s")
                    .with_description("Duration of 9P requests")
                    .with_boundaries(vec![
                        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ])
                    .build(),
                request_size: m
                    .u64_counter("ninefold.server.request.size")
                    .with_unit("By")
                    .with_description("Bytes of 9P requests received")
                    .build(),
                response_size: m
                    .u64_counter("ninefold.server.response.size")
                    .with_unit("By")
                    .with_description("Bytes of 9P replies sent")
                    .build(),
                active: m
                    .i64_up_down_counter("ninefold.server.active_requests")
                    .with_description("Requests being handled")
                    .build(),
                connections: m
                    .i64_up_down_counter("ninefold.server.connections")
                    .with_description("Open connections")
                    .build(),
                rejected: m
                    .u64_counter("ninefold.server.connections_rejected")
                    .with_description("Connections closed at the connection limit")
                    .build(),
                fids: m
                    .i64_up_down_counter("ninefold.server.fid.count")
                    .with_description("Fids bound")
                    .build(),
                ledger_entries: m
                    .i64_up_down_counter("ninefold.server.ledger.entries")
                    .with_description("9P2000.L.Z outcomes kept for exactly-once replay")
                    .build(),
                ledger_bytes: m
                    .i64_up_down_counter("ninefold.server.ledger.size")
                    .with_unit("By")
                    .with_description("Bytes of 9P2000.L.Z outcomes kept")
                    .build(),
                ledger_events: m
                    .u64_counter("ninefold.server.ledger.events")
                    .with_description(
                        "9P2000.L.Z ledger events: replayed, waited (single-flight), stale (116), evicted",
                    )
                    .build(),
                limit_events: m
                    .u64_counter("ninefold.server.limit.events")
                    .with_description(
                        "Abuse limits met: peer_connections, connection_rate, peer_rate, frame_timeout, handshake_timeout, memory_wait, stalled",
                    )
                    .build(),
                meter: m.clone(),
                memory_gauge: std::sync::Mutex::new(None),
            }
        }
    }
}
