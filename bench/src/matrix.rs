//! The side-by-side Markdown table `scripts/bench.sh` writes into
//! docs/BENCHMARKS.md: many single-row reports (one per server, transport,
//! row and load shape) folded into one table per transport, with the
//! ratios asked for.

use std::fmt::Write as _;

use crate::report::{group, size, Report, RowResult};

/// A ratio column: `num/den`, both server labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ratio {
    /// Label of the numerator.
    pub num: String,
    /// Label of the denominator.
    pub den: String,
}

impl std::str::FromStr for Ratio {
    type Err = String;

    fn from_str(s: &str) -> Result<Ratio, String> {
        match s.split_once('/') {
            Some((n, d)) if !n.is_empty() && !d.is_empty() => {
                Ok(Ratio { num: n.to_string(), den: d.to_string() })
            }
            _ => Err(format!("a ratio is LABEL/LABEL, not {s:?}")),
        }
    }
}

/// The transport of a report's target: `tcp`, `unix` or the target
/// itself.
pub fn transport(target: &str) -> &str {
    if target.starts_with("tcp://") {
        "tcp"
    } else if target.starts_with("unix:") {
        "unix"
    } else {
        target
    }
}

/// One measured cell: a row of one report.
struct Cell<'a> {
    label: &'a str,
    transport: &'a str,
    case: String,
    row: &'a RowResult,
}

/// The case a row belongs to: row name and load shape, e.g.
/// `getattr 4×32` (connections × depth).
fn case(r: &Report, row: &RowResult) -> String {
    if r.conns == 1 {
        format!("{} d{}", row.row, r.depth)
    } else {
        format!("{} {}×{}", row.row, r.conns, r.depth)
    }
}

/// Folds `reports` into one Markdown table per transport: a line per case
/// (row and load shape, in order of first appearance), a column per
/// server label (throughput, then p50/p99 latency in µs), then one column
/// per ratio of throughputs. A cell whose I/O size was capped below what
/// the row asked for says the size used (`@64K`); a cell with errors says
/// how many.
///
/// ```
/// # use ninefold_bench::{Report, RowResult};
/// # use ninefold_bench::matrix::{markdown, Ratio};
/// # use std::collections::BTreeMap;
/// let rep = |label: &str, ops: f64| Report {
///     label: label.into(), target: "tcp://127.0.0.1:1".into(), msize_requested: 8192,
///     msize: 8192, conns: 1, depth: 1, duration_s: 1.0, warmup_s: 0.0, error: None,
///     rows: vec![RowResult { row: "getattr".into(), msize: 8192, requested_io: 0,
///         io_size: 0, ops: 1, seconds: 1.0, ops_per_sec: ops, mb_per_sec: None,
///         p50_us: 10.0, p99_us: 20.0, max_us: 30.0, errors: 0,
///         error_kinds: BTreeMap::new() }] };
/// let t = markdown(&[rep("ours", 300.0), rep("diod", 100.0)], &["ours/diod".parse().unwrap()]);
/// assert!(t.contains("| getattr d1 | ops/s | 300 · 10.0/20.0 | 100 · 10.0/20.0 | 3.00 |"), "{t}");
/// ```
pub fn markdown(reports: &[Report], ratios: &[Ratio]) -> String {
    let mut cells: Vec<Cell<'_>> = Vec::new();
    let mut labels: Vec<&str> = Vec::new();
    let mut transports: Vec<&str> = Vec::new();
    for r in reports {
        if !labels.contains(&r.label.as_str()) {
            labels.push(&r.label);
        }
        let t = transport(&r.target);
        if !transports.contains(&t) {
            transports.push(t);
        }
        for row in &r.rows {
            cells.push(Cell { label: &r.label, transport: t, case: case(r, row), row });
        }
    }
    let mut s = String::new();
    for t in transports {
        let mut cases: Vec<&str> = Vec::new();
        for c in cells.iter().filter(|c| c.transport == t) {
            if !cases.contains(&c.case.as_str()) {
                cases.push(&c.case);
            }
        }
        let find = |label: &str, case: &str| {
            cells.iter().find(|c| c.transport == t && c.label == label && c.case == case)
        };
        let _ = writeln!(s, "#### {t}\n");
        let mut head = String::from("| row | unit |");
        let mut rule = String::from("|---|---|");
        for l in &labels {
            let _ = write!(head, " {l} |");
            rule.push_str("---|");
        }
        for r in ratios {
            let _ = write!(head, " {}/{} |", r.num, r.den);
            rule.push_str("---|");
        }
        let _ = writeln!(s, "{head}\n{rule}");
        for case in cases {
            let unit = labels.iter().find_map(|l| find(l, case)).map_or("", |c| {
                if c.row.mb_per_sec.is_some() {
                    "MB/s"
                } else {
                    "ops/s"
                }
            });
            let mut line = format!("| {case} | {unit} |");
            for l in &labels {
                let cell = match find(l, case) {
                    Some(c) => cell_text(c.row),
                    None => "–".into(),
                };
                let _ = write!(line, " {cell} |");
            }
            for r in ratios {
                let v = match (find(&r.num, case), find(&r.den, case)) {
                    (Some(a), Some(b)) if b.row.throughput() > 0.0 && a.row.errors == 0 => {
                        format!("{:.2}", a.row.throughput() / b.row.throughput())
                    }
                    _ => "–".into(),
                };
                let _ = write!(line, " {v} |");
            }
            let _ = writeln!(s, "{line}");
        }
        s.push('\n');
    }
    s
}

fn cell_text(r: &RowResult) -> String {
    let mut v = format!("{} · {}/{}", group(r.throughput()), group(r.p50_us), group(r.p99_us));
    if r.io_size > 0 && r.io_size != r.requested_io {
        let _ = write!(v, " @{}", size(r.io_size));
    }
    if r.errors > 0 {
        let _ = write!(v, " ({} errors)", r.errors);
    }
    v
}
