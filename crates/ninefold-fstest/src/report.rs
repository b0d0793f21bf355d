//! Results of a run: per case pass/fail/skip, a summary line, text and
//! JSON renderings.

use std::fmt::Write as _;
use std::time::Duration;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered as expected.
    Pass,
    /// The server answered otherwise; the message says expected vs got.
    Fail(String),
    /// The case did not run (capability missing, dialect not selected).
    Skip(String),
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// `category/case`.
    pub name: String,
    /// What the case expects.
    pub expects: String,
    /// The result.
    pub outcome: Outcome,
    /// Wall time including setup and cleanup.
    pub elapsed: Duration,
    /// A cleanup problem (not a failure of the case).
    pub cleanup_error: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Describes the target.
    pub target: String,
    /// Every selected case, in registry order.
    pub cases: Vec<CaseReport>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Report {
    /// Number of passed cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.outcome == Outcome::Pass).count()
    }

    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.outcome, Outcome::Fail(_))).count()
    }

    /// Number of skipped cases.
    pub fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.outcome, Outcome::Skip(_))).count()
    }

    /// The failed cases.
    pub fn failures(&self) -> impl Iterator<Item = &CaseReport> {
        self.cases.iter().filter(|c| matches!(c.outcome, Outcome::Fail(_)))
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// `fstest: 150 passed, 3 failed, 12 skipped (165 cases) in 4.2s`.
    pub fn summary(&self) -> String {
        format!(
            "fstest: {} passed, {} failed, {} skipped ({} cases) in {:.1}s",
            self.passed(),
            self.failed(),
            self.skipped(),
            self.cases.len(),
            self.elapsed.as_secs_f64()
        )
    }

    /// One line per case, then the summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.cases {
            let _ = match &c.outcome {
                Outcome::Pass => writeln!(out, "PASS {}", c.name),
                Outcome::Fail(m) => writeln!(out, "FAIL {}: {m}", c.name),
                Outcome::Skip(m) => writeln!(out, "SKIP {}: {m}", c.name),
            };
            if let Some(e) = &c.cleanup_error {
                let _ = writeln!(out, "     (cleanup: {e})");
            }
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// A JSON document: `{"target":..,"passed":..,"cases":[{"name":..,"status":..}]}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"target\":{},\"passed\":{},\"failed\":{},\"skipped\":{},\"elapsed_ms\":{},\"cases\":[",
            json_str(&self.target),
            self.passed(),
            self.failed(),
            self.skipped(),
            self.elapsed.as_millis()
        );
        for (i, c) in self.cases.iter().enumerate() {
            let (status, msg) = match &c.outcome {
                Outcome::Pass => ("pass", ""),
                Outcome::Fail(m) => ("fail", m.as_str()),
                Outcome::Skip(m) => ("skip", m.as_str()),
            };
            let _ = write!(
                out,
                "{}{{\"name\":{},\"status\":\"{status}\",\"message\":{},\"expects\":{},\"elapsed_ms\":{}}}",
                if i == 0 { "" } else { "," },
                json_str(&c.name),
                json_str(msg),
                json_str(&c.expects),
                c.elapsed.as_millis()
            );
        }
        out.push_str("]}\n");
        out
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renderings() {
        let mk = |n: &str, o| CaseReport {
            name: n.into(),
            expects: "x".into(),
            outcome: o,
            elapsed: Duration::from_millis(1),
            cleanup_error: None,
        };
        let r = Report {
            target: "t".into(),
            cases: vec![
                mk("a/b", Outcome::Pass),
                mk("a/c", Outcome::Fail("expected \"x\"\n".into())),
                mk("a/d", Outcome::Skip("no".into())),
            ],
            elapsed: Duration::from_millis(1500),
        };
        assert_eq!((r.passed(), r.failed(), r.skipped()), (1, 1, 1));
        assert!(!r.ok());
        assert!(r.to_text().contains("FAIL a/c: expected"));
        assert!(r.summary().starts_with("fstest: 1 passed, 1 failed, 1 skipped (3 cases)"));
        assert!(r.to_json().contains(r#""message":"expected \"x\"\n""#));
    }
}
