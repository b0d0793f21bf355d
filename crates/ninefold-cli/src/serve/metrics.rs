//! `--metrics HOST:PORT`: the server's OpenTelemetry instruments,
//! collected on demand by an SDK [`ManualReader`] and rendered in the
//! Prometheus text format (0.0.4) by a minimal HTTP/1.1 responder
//! (`GET /metrics`).

use std::fmt::Write as _;
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{Context, Result};
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A reader the provider owns and the HTTP endpoint shares.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The meter provider and a way to read what it recorded.
#[derive(Debug)]
pub(crate) struct Metrics {
    provider: SdkMeterProvider,
    reader: Arc<ManualReader>,
}

impl Metrics {
    /// A provider with a cumulative manual reader.
    pub(crate) fn new() -> Metrics {
        let reader =
            Arc::new(ManualReader::builder().with_temporality(Temporality::Cumulative).build());
        let provider =
            SdkMeterProvider::builder().with_reader(SharedReader(reader.clone())).build();
        Metrics { provider, reader }
    }

    /// The meter to give the server.
    pub(crate) fn meter(&self) -> Meter {
        self.provider.meter("ninefold")
    }

    /// Everything recorded so far, in Prometheus text format.
    pub(crate) fn render(&self) -> Result<String> {
        let mut rm = ResourceMetrics::default();
        self.reader.collect(&mut rm).map_err(|e| anyhow::anyhow!("collecting metrics: {e}"))?;
        Ok(render(&rm))
    }

    /// Stops the provider.
    pub(crate) fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!(error = %e, "metrics provider shutdown");
        }
    }
}

/// Binds the endpoint.
pub(crate) async fn bind(addr: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen for metrics on {addr}"))
}

/// Answers HTTP requests on `listener` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    if let Err(e) =
                        tokio::time::timeout(Duration::from_secs(10), respond(stream, &metrics))
                            .await
                    {
                        tracing::debug!(error = %e, "metrics request timed out");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads one request head (at most 8 KiB) and answers it; the
/// connection is closed after the reply.
async fn respond(mut stream: TcpStream, metrics: &Metrics) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 8192 {
            let _ = reply(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "too large\n",
            )
            .await;
            return;
        }
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let r = match (method, path) {
        ("GET" | "HEAD", "/metrics") => match metrics.render() {
            Ok(body) => {
                let body = if method == "HEAD" { String::new() } else { body };
                reply(&mut stream, "200 OK", "text/plain; version=0.0.4; charset=utf-8", &body)
                    .await
            }
            Err(e) => {
                reply(&mut stream, "500 Internal Server Error", "text/plain", &format!("{e}\n"))
                    .await
            }
        },
        ("GET" | "HEAD", "/") => {
            reply(&mut stream, "200 OK", "text/plain", "ninefold metrics: GET /metrics\n").await
        }
        ("GET" | "HEAD", _) => {
            reply(&mut stream, "404 Not Found", "text/plain", "not found; try /metrics\n").await
        }
        _ => reply(&mut stream, "405 Method Not Allowed", "text/plain", "only GET\n").await,
    };
    if let Err(e) = r {
        tracing::debug!(error = %e, "metrics reply failed");
    }
}

async fn reply(stream: &mut TcpStream, status: &str, ty: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// A Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The metric's name with the unit suffix Prometheus expects.
fn base_name(m: &Metric) -> String {
    let name = sanitize(m.name());
    let suffix = match m.unit() {
        "s" => "_seconds",
        "By" => "_bytes",
        "ms" => "_milliseconds",
        _ => "",
    };
    if suffix.is_empty() || name.ends_with(suffix) {
        name
    } else {
        format!("{name}{suffix}")
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

fn labels<'a>(attrs: impl Iterator<Item = &'a KeyValue>, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = attrs
        .map(|kv| format!("{}=\"{}\"", sanitize(kv.key.as_str()), escape(&kv.value.as_str())))
        .collect();
    // The SDK keeps attributes in no fixed order; sorted output is stable.
    parts.sort_unstable();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A float as Prometheus writes it.
fn num(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        v.to_string()
    }
}

/// Values that render as numbers.
trait Value: Copy {
    fn text(self) -> String;
}
impl Value for f64 {
    fn text(self) -> String {
        num(self)
    }
}
impl Value for u64 {
    fn text(self) -> String {
        self.to_string()
    }
}
impl Value for i64 {
    fn text(self) -> String {
        self.to_string()
    }
}

fn render_data<T: Value>(out: &mut String, m: &Metric, data: &MetricData<T>) {
    let name = base_name(m);
    let help = m.description().replace('\\', r"\\").replace('\n', r"\n");
    match data {
        MetricData::Gauge(g) => {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for p in g.data_points() {
                let _ =
                    writeln!(out, "{name}{} {}", labels(p.attributes(), None), p.value().text());
            }
        }
        MetricData::Sum(s) => {
            let (name, ty) = if s.is_monotonic() {
                (format!("{name}_total"), "counter")
            } else {
                (name, "gauge")
            };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {ty}");
            for p in s.data_points() {
                let _ =
                    writeln!(out, "{name}{} {}", labels(p.attributes(), None), p.value().text());
            }
        }
        MetricData::Histogram(h) => {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for p in h.data_points() {
                let mut cumulative = 0u64;
                let counts: Vec<u64> = p.bucket_counts().collect();
                for (i, bound) in p.bounds().enumerate() {
                    cumulative += counts.get(i).copied().unwrap_or(0);
                    let l = labels(p.attributes(), Some(("le", num(bound))));
                    let _ = writeln!(out, "{name}_bucket{l} {cumulative}");
                }
                let l = labels(p.attributes(), Some(("le", "+Inf".into())));
                let _ = writeln!(out, "{name}_bucket{l} {}", p.count());
                let l = labels(p.attributes(), None);
                let _ = writeln!(
                    out,
                    "{name}_sum{l} {}\n{name}_count{l} {}",
                    p.sum().text(),
                    p.count()
                );
            }
        }
        MetricData::ExponentialHistogram(h) => {
            // Not used by the server; expose count and sum as a summary.
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
            for p in h.data_points() {
                let l = labels(p.attributes(), None);
                let _ = writeln!(
                    out,
                    "{name}_sum{l} {}\n{name}_count{l} {}",
                    p.sum().text(),
                    p.count()
                );
            }
        }
    }
}

/// Renders collected metrics in the Prometheus text exposition format.
pub(crate) fn render(rm: &ResourceMetrics) -> String {
    let mut out = String::new();
    for scope in rm.scope_metrics() {
        for m in scope.metrics() {
            match m.data() {
                AggregatedMetrics::F64(d) => render_data(&mut out, m, d),
                AggregatedMetrics::U64(d) => render_data(&mut out, m, d),
                AggregatedMetrics::I64(d) => render_data(&mut out, m, d),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let metrics = Metrics::new();
        let meter = metrics.meter();
        let c = meter
            .u64_counter("ninefold.server.request.size")
            .with_unit("By")
            .with_description("Bytes in")
            .build();
        c.add(10, &[]);
        c.add(5, &[]);
        let g = meter
            .i64_up_down_counter("ninefold.server.connections")
            .with_description("Open")
            .build();
        g.add(2, &[]);
        g.add(-1, &[]);
        let h = meter
            .f64_histogram("ninefold.server.duration")
            .with_unit("s")
            .with_description("Duration")
            .with_boundaries(vec![0.001, 0.01])
            .build();
        let attrs = [KeyValue::new("rpc.method", "Tread"), KeyValue::new("error", "say \"hi\"")];
        h.record(0.0005, &attrs);
        h.record(0.005, &attrs);
        h.record(1.0, &attrs);
        let text = metrics.render().unwrap();
        assert!(text.contains("# TYPE ninefold_server_request_size_bytes_total counter"), "{text}");
        assert!(text.contains("ninefold_server_request_size_bytes_total 15\n"), "{text}");
        assert!(text.contains("# TYPE ninefold_server_connections gauge"), "{text}");
        assert!(text.contains("ninefold_server_connections 1\n"), "{text}");
        assert!(text.contains("# TYPE ninefold_server_duration_seconds histogram"), "{text}");
        let l = r#"error="say \"hi\"",rpc_method="Tread""#;
        assert!(
            text.contains(&format!(
                "ninefold_server_duration_seconds_bucket{{{l},le=\"0.001\"}} 1\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "ninefold_server_duration_seconds_bucket{{{l},le=\"0.01\"}} 2\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "ninefold_server_duration_seconds_bucket{{{l},le=\"+Inf\"}} 3\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("ninefold_server_duration_seconds_count{{{l}}} 3\n")),
            "{text}"
        );
        metrics.shutdown();
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize("a.b-c/d"), "a_b_c_d");
        assert_eq!(sanitize("9lives"), "_9lives");
        assert_eq!(num(f64::INFINITY), "+Inf");
        assert_eq!(num(0.25), "0.25");
    }
}
