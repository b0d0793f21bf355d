//! A protocol-level conformance suite for 9P servers.
//!
//! The suite speaks raw frames (built with `ninefold-proto`) to any server
//! that can be reached through a [`Target`]: a TCP or unix socket, or an
//! in-process byte stream handed to a server's `serve_connection`. Each
//! case is named `category/case` (`walk/clone`, `flush/unknown_tag`),
//! states the reply it expects, and runs in its own scratch directory
//! created through the protocol under the attach root, so the suite runs
//! against any writable export and cases do not see each other.
//!
//! # Using it from a test
//!
//! ```no_run
//! use ninefold_fstest::{check, Config, FnTarget, Stream};
//!
//! # async fn demo() {
//! let target = FnTarget::new(|| async {
//!     let (client, server_end) = tokio::io::duplex(1 << 20);
//!     // tokio::spawn(my_server.serve_connection(server_end));
//!     # drop(server_end);
//!     Ok(Box::new(client) as Box<dyn Stream>)
//! });
//! check(&target, &Config::default()).await; // panics listing the failed cases
//! # }
//! ```
//!
//! # Capabilities
//!
//! A target that lacks a feature declares it through [`Config::caps`]
//! ([`Caps`]): the cases needing it are skipped, not failed. Flush cases
//! that need a request to stay in flight use a slow file
//! ([`Config::slow`], see [`SlowFile`]); without one they are skipped.
//!
//! # Output
//!
//! [`run`] returns a [`Report`] with one [`CaseReport`] per case; a failure
//! message says what differed, e.g. `expected Rlerror ENOTEMPTY(39), got
//! Rrenameat`. The `ninefold-fstest` binary prints it as text or JSON.

#![forbid(unsafe_code)]

mod case;
pub(crate) mod cases;
mod config;
mod conn;
mod ctx;
mod expect;
mod report;
mod session;
mod target;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use case::Case;
pub use config::{Caps, Config, SlowFile};
pub use report::{CaseReport, Outcome, Report};
pub use target::{parse_target, FnTarget, Stream, Target, TargetParseError, TcpTarget, UnixTarget};

use ninefold_proto::Dialect;

use crate::expect::Stop;

/// Every case of the suite, in run order.
pub fn registry() -> Vec<Case> {
    cases::all()
}

/// Why a case is not selected to run, or `None` when it runs.
fn skip_reason(case: &Case, cfg: &Config) -> Option<String> {
    if let Some(d) = cfg.dialect {
        // The .Z mode runs the .L cases over .Z too (envelopes on every
        // covered mutation), plus the .Z cases.
        let runs = case.dialect == d || (d == Dialect::Z && case.dialect == Dialect::L);
        if !runs {
            return Some(format!("dialect {} not selected", case.dialect));
        }
    } else if case.dialect == Dialect::Z {
        return Some("9P2000.L.Z cases run in the .Z mode (--dialect 9P2000.L.Z)".into());
    }
    let mut needs = case.needs;
    match case.dialect {
        Dialect::U => needs |= Caps::DOTU,
        Dialect::Base => needs |= Caps::BASE9P2000,
        Dialect::Z => needs |= Caps::DOTZ,
        _ => {}
    }
    let missing = needs - cfg.effective_caps();
    if !missing.is_empty() {
        return Some(format!("target lacks {}", missing.names().join(",")));
    }
    None
}

/// The dialect a case's sessions speak: its own, except that the .Z mode
/// runs the .L cases over 9P2000.L.Z.
fn session_dialect(case: &Case, cfg: &Config) -> Dialect {
    if cfg.dialect == Some(Dialect::Z) && case.dialect == Dialect::L {
        Dialect::Z
    } else {
        case.dialect
    }
}

/// Runs every selected case against `target` and reports the results.
///
/// Cases run one after another, each on fresh connections; a case that
/// takes longer than [`Config::case_timeout`] fails.
pub async fn run<T: Target + ?Sized>(target: &T, cfg: &Config) -> Report {
    let started = Instant::now();
    let nonce =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) % 1_000_000_000;
    let nonce = format!("{:x}{:x}", std::process::id() % 0xffff, nonce);
    let target: &dyn Target = &TargetRef(target);
    let mut report = Report { target: target.describe(), ..Report::default() };
    for (i, case) in registry().into_iter().enumerate() {
        if !cfg.selects(case.name) {
            continue;
        }
        let t0 = Instant::now();
        let (outcome, cleanup_error) = match skip_reason(&case, cfg) {
            Some(why) => (Outcome::Skip(why), None),
            None => run_one(target, cfg, &case, format!("fstest.{nonce}.{i}")).await,
        };
        tracing::debug!(case = case.name, ?outcome, "case done");
        report.cases.push(CaseReport {
            name: case.name.to_owned(),
            expects: case.expects.to_owned(),
            outcome,
            elapsed: t0.elapsed(),
            cleanup_error,
        });
    }
    report.elapsed = started.elapsed();
    report
}

async fn run_one(
    target: &dyn Target,
    cfg: &Config,
    case: &Case,
    scratch: String,
) -> (Outcome, Option<String>) {
    let body = async {
        let mut cx = ctx::Ctx::setup(target, cfg, session_dialect(case, cfg), scratch.clone())
            .await
            .map_err(|s| s.context("setup"))?;
        (case.run)(&mut cx).await
    };
    let outcome = match tokio::time::timeout(cfg.case_timeout, body).await {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(Stop::Fail(m))) => Outcome::Fail(m),
        Ok(Err(Stop::Skip(m))) => Outcome::Skip(m),
        Err(_) => Outcome::Fail(format!("case did not finish within {:?}", cfg.case_timeout)),
    };
    let cleanup = tokio::time::timeout(
        cfg.case_timeout.max(Duration::from_secs(5)),
        ctx::cleanup(target, cfg, session_dialect(case, cfg), &scratch),
    )
    .await;
    let cleanup_error = match cleanup {
        Ok(Ok(())) => None,
        Ok(Err(Stop::Fail(m) | Stop::Skip(m))) => Some(m),
        Err(_) => Some("timed out".to_owned()),
    };
    (outcome, cleanup_error)
}

/// Runs the suite and panics with the list of failed cases, for use in
/// other crates' `tests/`.
pub async fn check<T: Target + ?Sized>(target: &T, cfg: &Config) -> Report {
    let report = run(target, cfg).await;
    if !report.ok() {
        let mut msg = String::new();
        for c in report.failures() {
            if let Outcome::Fail(m) = &c.outcome {
                msg.push_str(&format!("  {}: {m}\n", c.name));
            }
        }
        panic!("{} conformance case(s) failed:\n{msg}{}", report.failed(), report.summary());
    }
    report
}

/// Adapts a `?Sized` target to a `dyn Target`.
struct TargetRef<'a, T: ?Sized>(&'a T);

#[async_trait::async_trait]
impl<T: Target + ?Sized> Target for TargetRef<'_, T> {
    async fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        self.0.connect().await
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let all = registry();
        let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate case names");
        for c in &all {
            let parts: Vec<_> = c.name.split('/').collect();
            assert_eq!(parts.len(), 2, "{}", c.name);
            assert!(
                parts.iter().all(|p| !p.is_empty()
                    && p.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')),
                "{}",
                c.name
            );
            assert!(!c.expects.is_empty(), "{}", c.name);
        }
        assert!(n >= 150, "only {n} cases");
    }

    #[test]
    fn skips_follow_caps_and_dialect() {
        let all = registry();
        let mut cfg = Config { caps: Caps::empty(), ..Config::default() };
        let xattr = all.iter().find(|c| c.needs.contains(Caps::XATTR)).unwrap();
        assert!(skip_reason(xattr, &cfg).unwrap().contains("xattr"));
        let u = all.iter().find(|c| c.dialect == Dialect::U).unwrap();
        assert!(skip_reason(u, &cfg).unwrap().contains("dotu"));
        cfg.caps = Caps::all();
        assert_eq!(skip_reason(u, &cfg), None);
        cfg.dialect = Some(Dialect::L);
        assert!(skip_reason(u, &cfg).unwrap().contains("not selected"));
    }
}
