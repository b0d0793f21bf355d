//! Results: [`Report`] and [`RowResult`], their text table, their JSON, and
//! the side-by-side comparison of several reports with ratios.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// A name for the server measured (`--label`).
    pub label: String,
    /// The address measured.
    pub target: String,
    /// The msize asked for in Tversion.
    pub msize_requested: u32,
    /// The msize the server granted.
    pub msize: u32,
    /// Connections.
    pub conns: usize,
    /// Outstanding requests per connection.
    pub depth: u16,
    /// Measured seconds per row.
    pub duration_s: f64,
    /// Warmup seconds per row.
    pub warmup_s: f64,
    /// One entry per row, in the order run.
    pub rows: Vec<RowResult>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// One row's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowResult {
    /// Row name (`getattr`, `walk-clunk`, `read-4k`, ...).
    pub row: String,
    /// The msize in force.
    pub msize: u32,
    /// Bytes per request the row asked for (0: no data).
    pub requested_io: u32,
    /// Bytes per request actually used: `min(requested_io, msize - 24)`.
    pub io_size: u32,
    /// Completed operations in the measured window.
    pub ops: u64,
    /// The measured window, seconds.
    pub seconds: f64,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Data rate in MB/s (10^6 bytes), for I/O rows.
    pub mb_per_sec: Option<f64>,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Largest latency, microseconds.
    pub max_us: f64,
    /// Error replies and protocol faults (all phases).
    pub errors: u64,
    /// Errors by kind.
    pub error_kinds: BTreeMap<String, u64>,
}

impl RowResult {
    /// The row's headline figure: MB/s for I/O rows, else ops/s.
    pub fn throughput(&self) -> f64 {
        self.mb_per_sec.unwrap_or(self.ops_per_sec)
    }

    /// The unit of [`throughput`](RowResult::throughput).
    pub fn unit(&self) -> &'static str {
        if self.mb_per_sec.is_some() {
            "MB/s"
        } else {
            "ops/s"
        }
    }
}

/// `12345.6` -> `"12,346"`; below 100 one decimal is kept.
pub fn group(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v.abs() < 100.0 {
        return format!("{v:.1}");
    }
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `65536` -> `"64K"`, `1048576` -> `"1M"`, other sizes in bytes.
pub fn size(n: u32) -> String {
    match n {
        0 => "-".into(),
        n if n % (1 << 20) == 0 => format!("{}M", n >> 20),
        n if n % 1024 == 0 => format!("{}K", n >> 10),
        n => format!("{n}B"),
    }
}

fn capped_note(rows: &[RowResult]) -> Option<String> {
    let capped: Vec<&RowResult> = rows.iter().filter(|r| r.io_size < r.requested_io).collect();
    let first = capped.first()?;
    let names: Vec<&str> = capped.iter().map(|r| r.row.as_str()).collect();
    Some(format!(
        "note: {} asked for {} bytes per request; msize {} allows {} (msize - 24), so they used {}-byte requests",
        names.join(", "),
        first.requested_io,
        first.msize,
        first.io_size,
        first.io_size
    ))
}

impl Report {
    /// The aligned text table.
    ///
    /// ```
    /// use ninefold_bench::Report;
    /// let r = Report { label: "x".into(), target: "tcp://h:1".into(), msize_requested: 8192,
    ///     msize: 8192, conns: 1, depth: 1, duration_s: 1.0, warmup_s: 0.0, rows: vec![], error: None };
    /// assert!(r.table().contains("msize 8192"));
    /// ```
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "ninefold-bench: {}  {}  msize {} (asked {})  {} conns x {} deep  {:.1} s per row (+{:.1} s warmup)",
            self.label,
            self.target,
            self.msize,
            self.msize_requested,
            self.conns,
            self.depth,
            self.duration_s,
            self.warmup_s
        );
        let _ = writeln!(
            s,
            "{:<11} {:>7} {:>12} {:>10} {:>9} {:>9} {:>9} {:>7}",
            "row", "io", "ops/s", "MB/s", "p50 us", "p99 us", "max us", "errors"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:<11} {:>7} {:>12} {:>10} {:>9} {:>9} {:>9} {:>7}",
                r.row,
                size(r.io_size),
                group(r.ops_per_sec),
                r.mb_per_sec.map_or("-".into(), group),
                group(r.p50_us),
                group(r.p99_us),
                group(r.max_us),
                r.errors
            );
        }
        if let Some(note) = capped_note(&self.rows) {
            let _ = writeln!(s, "{note}");
        }
        for r in self.rows.iter().filter(|r| r.errors > 0) {
            for (kind, n) in &r.error_kinds {
                let _ = writeln!(s, "errors in {}: {n} x {kind}", r.row);
            }
        }
        if let Some(e) = &self.error {
            let _ = writeln!(s, "run stopped early: {e}");
        }
        s
    }
}

/// Several reports side by side, per row: each one's headline figure (with
/// the I/O size it used), p50/p99, and the ratio of the **first** report's
/// figure to each other's (`first/other`; above 1 = the first is faster).
///
/// ```
/// use ninefold_bench::{report::compare, Report, RowResult};
/// let row = |ops: f64| RowResult { row: "getattr".into(), msize: 8192, requested_io: 0,
///     io_size: 0, ops: 1, seconds: 1.0, ops_per_sec: ops, mb_per_sec: None, p50_us: 1.0,
///     p99_us: 2.0, max_us: 3.0, errors: 0, error_kinds: Default::default() };
/// let rep = |label: &str, ops| Report { label: label.into(), target: "t".into(),
///     msize_requested: 8192, msize: 8192, conns: 1, depth: 1, duration_s: 1.0,
///     warmup_s: 0.0, rows: vec![row(ops)], error: None };
/// let t = compare(&[rep("ours", 300.0), rep("diod", 100.0)]);
/// assert!(t.contains("ours/diod"));
/// assert!(t.contains("3.00"));
/// ```
///
/// Reports with the same label are merged first (rows concatenated in
/// order, the first report's header kept), so a script may measure one
/// row at a time, interleaving servers, and compare the pieces.
pub fn compare(reports: &[Report]) -> String {
    let reports = merge_by_label(reports);
    let reports = reports.as_slice();
    let mut s = String::new();
    let Some(first) = reports.first() else {
        return s;
    };
    for r in reports {
        let _ = writeln!(
            s,
            "{:<8} {}  msize {} (asked {})  {} conns x {} deep  {:.1} s per row{}",
            r.label,
            r.target,
            r.msize,
            r.msize_requested,
            r.conns,
            r.depth,
            r.duration_s,
            r.error.as_ref().map_or(String::new(), |e| format!("  STOPPED EARLY: {e}"))
        );
    }
    let mut head = format!("{:<11} {:>6}", "row", "unit");
    for r in reports {
        let _ = write!(head, " {:>22}", format!("{} (io)", r.label));
    }
    for r in &reports[1..] {
        let _ = write!(head, " {:>11}", format!("{}/{}", first.label, r.label));
    }
    let _ = writeln!(s, "\n{head}");
    let mut names: Vec<&str> = Vec::new();
    for r in reports {
        for row in &r.rows {
            if !names.contains(&row.row.as_str()) {
                names.push(&row.row);
            }
        }
    }
    for name in names {
        let find = |r: &Report| r.rows.iter().find(|x| x.row == name).cloned();
        let cells: Vec<Option<RowResult>> = reports.iter().map(find).collect();
        let unit = cells.iter().flatten().next().map_or("", RowResult::unit);
        let mut line = format!("{name:<11} {unit:>6}");
        let mut lat = format!("{:<11} {:>6}", "", "p50/99");
        for c in &cells {
            let (v, l) = match c {
                Some(r) if r.io_size > 0 => {
                    (format!("{} @{}", group(r.throughput()), size(r.io_size)), lat_cell(r))
                }
                Some(r) => (group(r.throughput()), lat_cell(r)),
                None => ("-".into(), "-".into()),
            };
            let _ = write!(line, " {v:>22}");
            let _ = write!(lat, " {l:>22}");
        }
        for c in &cells[1..] {
            let ratio = match (&cells[0], c) {
                (Some(a), Some(b)) if b.throughput() > 0.0 => {
                    format!("{:.2}", a.throughput() / b.throughput())
                }
                _ => "-".into(),
            };
            let _ = write!(line, " {ratio:>11}");
        }
        let _ = writeln!(s, "{line}\n{}", lat.trim_end());
    }
    for r in reports {
        if let Some(note) = capped_note(&r.rows) {
            let _ = writeln!(s, "{}: {note}", r.label);
        }
        for row in r.rows.iter().filter(|x| x.errors > 0) {
            let _ = writeln!(s, "{}: {} errors in {}", r.label, row.errors, row.row);
        }
    }
    s
}

/// Merges reports sharing a label, in order of first appearance: rows are
/// concatenated (a row name already present is kept from the first
/// report), the first error is kept.
pub fn merge_by_label(reports: &[Report]) -> Vec<Report> {
    let mut out: Vec<Report> = Vec::new();
    for r in reports {
        match out.iter_mut().find(|o| o.label == r.label) {
            Some(o) => {
                for row in &r.rows {
                    if !o.rows.iter().any(|x| x.row == row.row) {
                        o.rows.push(row.clone());
                    }
                }
                if o.error.is_none() {
                    o.error.clone_from(&r.error);
                }
            }
            None => out.push(r.clone()),
        }
    }
    out
}

fn lat_cell(r: &RowResult) -> String {
    format!("{}/{} us", group(r.p50_us), group(r.p99_us))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(group(1234567.4), "1,234,567");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(12.34), "12.3");
        assert_eq!(group(100.0), "100");
        assert_eq!(group(-1000.0), "-1,000");
    }

    #[test]
    fn reports_merge_by_label() {
        let row = |name: &str, ops: f64| RowResult {
            row: name.into(),
            msize: 8192,
            requested_io: 0,
            io_size: 0,
            ops: 1,
            seconds: 1.0,
            ops_per_sec: ops,
            mb_per_sec: None,
            p50_us: 1.0,
            p99_us: 1.0,
            max_us: 1.0,
            errors: 0,
            error_kinds: BTreeMap::new(),
        };
        let rep = |label: &str, rows: Vec<RowResult>| Report {
            label: label.into(),
            target: "t".into(),
            msize_requested: 8192,
            msize: 8192,
            conns: 1,
            depth: 1,
            duration_s: 1.0,
            warmup_s: 0.0,
            rows,
            error: None,
        };
        let merged = merge_by_label(&[
            rep("a", vec![row("getattr", 1.0)]),
            rep("b", vec![row("getattr", 2.0)]),
            rep("a", vec![row("read-4k", 3.0), row("getattr", 9.0)]),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].label, "a");
        let names: Vec<&str> = merged[0].rows.iter().map(|r| r.row.as_str()).collect();
        assert_eq!(names, ["getattr", "read-4k"]);
        assert_eq!(merged[0].rows[0].ops_per_sec, 1.0);
        let t =
            compare(&[rep("a", vec![row("getattr", 4.0)]), rep("b", vec![row("getattr", 2.0)])]);
        assert!(t.contains("a/b") && t.contains("2.00"), "{t}");
    }

    #[test]
    fn sizes() {
        assert_eq!(size(4096), "4K");
        assert_eq!(size(1 << 20), "1M");
        assert_eq!(size(65536), "64K");
        assert_eq!(size(1000), "1000B");
    }
}
