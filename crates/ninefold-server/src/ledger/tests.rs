//! The ledger alone: retention, bounds, eviction and the journal.

use std::time::Duration;

use ninefold_proto::{base, l, Qid};

use super::*;

fn env(id: u8, retry: bool) -> Envelope {
    let flags = if retry { EnvelopeFlags::RETRY } else { EnvelopeFlags::empty() };
    Envelope { op_id: [id; 16], flags, origin_writer_epoch: 0 }
}

fn ledger(config: LedgerConfig) -> MemLedger {
    MemLedger::new(config, Arc::new(Metrics::default()))
}

fn is_stale(v: &Verdict) -> bool {
    matches!(v, Verdict::Answer(m) if matches!(&**m, Message::Rlerror(e) if e.ecode == EOPIDSTALE))
}

fn run(l: &MemLedger, id: u8, reply: Message) {
    assert!(matches!(l.admit(&env(id, false)), Verdict::Execute));
    l.complete(&env(id, false), Some(&reply));
}

#[test]
fn oldest_completed_outcomes_are_evicted_and_then_stale() {
    let l = ledger(LedgerConfig { max_entries: 3, ..LedgerConfig::default() });
    for id in 1..=5 {
        run(&l, id, base::Rwrite { count: u32::from(id) }.into());
    }
    let s = l.stats();
    assert_eq!((s.entries, s.evictions), (3, 2));
    assert!(is_stale(&l.admit(&env(1, true))), "evicted: 116, never a second run");
    assert!(
        matches!(l.admit(&env(5, true)), Verdict::Answer(m) if *m == base::Rwrite { count: 5 }.into())
    );
}

#[test]
fn byte_bound_evicts_too() {
    let l =
        ledger(LedgerConfig { max_bytes: 3 * (ENTRY_OVERHEAD + 11), ..LedgerConfig::default() });
    for id in 1..=10 {
        run(&l, id, base::Rwrite { count: 1 }.into());
    }
    let s = l.stats();
    assert!(s.bytes <= 3 * (ENTRY_OVERHEAD + 11), "{s:?}");
    assert!(s.evictions >= 7, "{s:?}");
}

#[test]
fn outcomes_expire_after_the_retention() {
    let l =
        ledger(LedgerConfig { retention: Duration::from_millis(20), ..LedgerConfig::default() });
    run(&l, 1, l::Rmkdir { qid: Qid::default() }.into());
    assert!(matches!(l.admit(&env(1, true)), Verdict::Answer(_)));
    std::thread::sleep(Duration::from_millis(40));
    assert!(is_stale(&l.admit(&env(1, true))));
    assert_eq!(l.stats().entries, 0);
    assert_eq!(l.stats().evictions, 0, "expiry is not eviction");
}

#[test]
fn the_journal_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = LedgerConfig::default();
    {
        let l = MemLedger::open(config, Arc::new(Metrics::default()), dir.path()).unwrap();
        run(&l, 1, l::Rmkdir { qid: Qid { path: 77, ..Qid::default() } }.into());
        run(&l, 2, l::Rlerror { ecode: ninefold_proto::Errno::EEXIST }.into());
        // Running when "killed": never journaled.
        assert!(matches!(l.admit(&env(3, false)), Verdict::Execute));
    }
    let l = MemLedger::open(config, Arc::new(Metrics::default()), dir.path()).unwrap();
    assert_eq!(l.stats().entries, 2);
    let Verdict::Answer(m) = l.admit(&env(1, true)) else { panic!() };
    assert!(matches!(&*m, Message::Rmkdir(r) if r.qid.path == 77));
    let Verdict::Answer(m) = l.admit(&env(2, true)) else { panic!() };
    assert!(matches!(&*m, Message::Rlerror(e) if e.ecode == ninefold_proto::Errno::EEXIST));
    assert!(is_stale(&l.admit(&env(3, true))), "applied but not journaled: 116");
    // Expired records are dropped at load.
    let short = LedgerConfig { retention: Duration::from_millis(1), ..config };
    std::thread::sleep(Duration::from_millis(5));
    let l = MemLedger::open(short, Arc::new(Metrics::default()), dir.path()).unwrap();
    assert_eq!(l.stats().entries, 0);
}
