//! The generator against the built-in responder, in-process: every row
//! counts operations, tags are matched even when replies come back out of
//! order, error replies and stray tags are counted, and the msize cap is
//! applied and reported.

use std::time::Duration;

use ninefold_bench::responder::{self, ResponderConfig};
use ninefold_bench::run::{run, RunConfig};
use ninefold_bench::session::Attach;
use ninefold_bench::{Report, Row, Target};

async fn start(cfg: ResponderConfig, unix: Option<&std::path::Path>) -> Target {
    let addr = match unix {
        Some(p) => Target::Unix(p.to_owned()),
        None => Target::Tcp("127.0.0.1:0".into()),
    };
    let listener = addr.listen().await.unwrap();
    let target = listener.local_target().unwrap();
    tokio::spawn(responder::serve(listener, cfg));
    target
}

fn config(target: Target, rows: &[Row], msize: u32) -> RunConfig {
    RunConfig {
        target,
        attach: Attach { uname: "bench".into(), aname: "".into(), n_uname: 1000 },
        gid: 1000,
        conns: 2,
        depth: 4,
        duration: Duration::from_millis(250),
        warmup: Duration::from_millis(50),
        rows: rows.to_vec(),
        msize,
        file_size: 1 << 20,
        label: "responder".into(),
    }
}

fn row<'a>(r: &'a Report, name: &str) -> &'a ninefold_bench::RowResult {
    r.rows.iter().find(|x| x.row == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_counts_ops_with_replies_reordered() {
    let cfg = ResponderConfig { reorder: true, ..ResponderConfig::default() };
    let target = start(cfg, None).await;
    let report = run(&config(target, &Row::ALL, (1 << 20) + 24)).await.unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.msize, (1 << 20) + 24);
    assert_eq!(report.rows.len(), Row::ALL.len());
    for r in &report.rows {
        assert!(r.ops > 0, "{}: no ops", r.row);
        assert_eq!(r.errors, 0, "{}: {:?}", r.row, r.error_kinds);
        assert!(r.p50_us > 0.0 && r.p50_us <= r.p99_us && r.p99_us <= r.max_us, "{r:?}");
        let expect_rate = r.ops as f64 / r.seconds;
        assert!((r.ops_per_sec - expect_rate).abs() < 1e-6);
        if let Some(mb) = r.mb_per_sec {
            let bytes = r.ops as f64 * f64::from(r.io_size);
            assert!((mb - bytes / r.seconds / 1e6).abs() < 1e-6, "{r:?}");
        }
    }
    assert_eq!(row(&report, "read-1m").io_size, 1 << 20);
    assert_eq!(row(&report, "write-4k").io_size, 4096);
    assert_eq!(row(&report, "getattr").mb_per_sec, None);
    let text = report.table();
    assert!(text.contains("walk-clunk"), "{text}");
    assert!(!text.contains("note:"), "no row was capped: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_replies_and_stray_tags_are_counted() {
    let cfg = ResponderConfig {
        fail_every: Some(5),
        stray_every: Some(7),
        reorder: true,
        ..ResponderConfig::default()
    };
    let target = start(cfg, None).await;
    let mut cfg = config(target, &[Row::Getattr, Row::Read4k], 65560);
    // The fixture is filled with one Twrite, which the fault injection
    // (counting from the first Tgetattr/Tread/Twrite) leaves alone.
    cfg.file_size = 65536;
    let report = run(&cfg).await.unwrap();
    assert_eq!(report.error, None);
    for r in &report.rows {
        let eio = r.error_kinds.iter().find(|(k, _)| k.ends_with("Rlerror EIO")).map(|(_, n)| *n);
        let stray = r.error_kinds.get("Rclunk for a tag not in flight").copied();
        assert!(eio.unwrap_or(0) > 0, "{}: {:?}", r.row, r.error_kinds);
        assert!(stray.unwrap_or(0) > 0, "{}: {:?}", r.row, r.error_kinds);
        assert_eq!(r.errors, eio.unwrap_or(0) + stray.unwrap_or(0), "{:?}", r.error_kinds);
        assert!(r.ops > 0);
        // One in five requests fails: errors are counted in all phases and
        // ops only while measuring, so compare loosely.
        assert!(eio.unwrap_or(0) * 2 < r.ops, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_size_is_capped_at_msize_and_reported_over_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("r.sock");
    let cfg = ResponderConfig { max_msize: 65560, ..ResponderConfig::default() };
    let target = start(cfg, Some(&sock)).await;
    let report = run(&config(target, &[Row::Read1m, Row::Write1m], (1 << 20) + 24)).await.unwrap();
    assert_eq!(report.msize_requested, (1 << 20) + 24);
    assert_eq!(report.msize, 65560);
    for r in &report.rows {
        assert_eq!((r.requested_io, r.io_size, r.msize), (1 << 20, 65536, 65560));
        assert!(r.ops > 0 && r.errors == 0, "{r:?}");
    }
    let text = report.table();
    assert!(text.contains("msize 65560 allows 65536"), "{text}");
}

#[tokio::test]
async fn a_dead_target_is_a_clear_error() {
    let listener = Target::Tcp("127.0.0.1:0".into()).listen().await.unwrap();
    let target = listener.local_target().unwrap();
    drop(listener);
    let err = run(&config(target, &[Row::Getattr], 8192)).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[test]
fn compare_prints_ratios_of_the_first_report() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ours, base) = rt.block_on(async {
        let t = start(ResponderConfig::default(), None).await;
        let mut cfg = config(t, &[Row::Getattr], 65560);
        cfg.duration = Duration::from_millis(100);
        cfg.label = "ours".into();
        let ours = run(&cfg).await.unwrap();
        cfg.label = "ref".into();
        (ours, run(&cfg).await.unwrap())
    });
    let json = serde_json::to_string(&ours).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ours);
    let text = ninefold_bench::report::compare(&[ours.clone(), base.clone()]);
    let ratio = ours.rows[0].ops_per_sec / base.rows[0].ops_per_sec;
    assert!(text.contains("ours/ref"), "{text}");
    assert!(text.contains(&format!("{ratio:.2}")), "{text}");
}
