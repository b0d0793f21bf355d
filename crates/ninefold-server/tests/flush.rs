//! Tflush ordering and cancellation, against a deliberately slow file.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use ninefold_proto::l::SetAttr;
use ninefold_proto::{base, l, Dialect, GetattrMask, Message, OpenFlags, SetattrMask};
use support::Raw;

async fn open_slow(c: &mut Raw, fid: u32) {
    assert!(matches!(c.walk(0, fid, &["slow"]).await, Message::Rwalk(_)));
    assert!(matches!(c.lopen(fid, OpenFlags::RDONLY).await, Message::Rlopen(_)));
}

#[tokio::test]
async fn flush_of_an_unknown_tag_is_answered_at_once() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    let r = c.rpc_tag(7, base::Tflush { oldtag: 1234 }).await;
    assert!(matches!(r, Message::Rflush(_)));
}

#[tokio::test]
async fn a_running_read_is_cancelled_and_rflush_comes_after_it() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    open_slow(&mut c, 1).await;
    c.send(10, base::Tread { fid: 1, offset: 0, count: 8 }).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(11, base::Tflush { oldtag: 10 }).await;
    // The read was abandoned: only the Rflush arrives.
    let f = c.recv().await;
    assert_eq!(f.tag, 11);
    assert!(matches!(f.message, Message::Rflush(_)));
    // Give the handler a moment: it saw the cancellation, never finished.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.tree.slow.cancelled.load(Ordering::SeqCst), 1);
    assert_eq!(s.tree.slow.finished.load(Ordering::SeqCst), 0);
    // The tag is reusable right after Rflush, and nothing late arrives.
    let r = c.rpc_tag(10, l::Tgetattr { fid: 0, request_mask: GetattrMask::BASIC }).await;
    assert!(matches!(r, Message::Rgetattr(_)), "{r:?}");
}

#[tokio::test]
async fn a_mutation_finishes_and_its_reply_precedes_rflush() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["slow"]).await;
    let attr = SetAttr { valid: SetattrMask::MODE, mode: 0o600, ..SetAttr::default() };
    c.send(20, l::Tsetattr { fid: 1, attr }).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(21, base::Tflush { oldtag: 20 }).await;
    let first = c.recv().await;
    let second = c.recv().await;
    assert_eq!((first.tag, first.message.name()), (20, "Rsetattr"));
    assert_eq!((second.tag, second.message.name()), (21, "Rflush"));
    assert_eq!(s.tree.slow.finished.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn several_flushes_and_a_flush_of_a_flush_answer_in_order() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    c.walk(0, 1, &["slow"]).await;
    let attr = SetAttr { valid: SetattrMask::MODE, ..SetAttr::default() };
    c.send(30, l::Tsetattr { fid: 1, attr }).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.send(31, base::Tflush { oldtag: 30 }).await;
    c.send(32, base::Tflush { oldtag: 30 }).await;
    c.send(33, base::Tflush { oldtag: 31 }).await;
    let mut order = Vec::new();
    for _ in 0..4 {
        let f = c.recv().await;
        order.push((f.tag, f.message.name()));
    }
    assert_eq!(order, [(30, "Rsetattr"), (31, "Rflush"), (33, "Rflush"), (32, "Rflush")]);
}

#[tokio::test]
async fn a_queued_request_is_dropped_by_a_flush() {
    // One running slot: the second read waits in the queue.
    let s = support::start_with(|b| b.max_inflight(1)).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    open_slow(&mut c, 1).await;
    c.send(40, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    c.send(41, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(42, base::Tflush { oldtag: 41 }).await;
    let f = c.recv().await;
    assert_eq!((f.tag, f.message.name()), (42, "Rflush"), "the queued read is dropped at once");
    let f = c.recv().await;
    assert_eq!((f.tag, f.message.name()), (40, "Rread"), "the running read completes");
    assert_eq!(s.tree.slow.finished.load(Ordering::SeqCst), 1);
    assert_eq!(s.tree.slow.cancelled.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn flush_works_when_every_slot_is_busy() {
    let s = support::start_with(|b| b.max_inflight(2).max_queued(0)).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    open_slow(&mut c, 1).await;
    c.send(50, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    c.send(51, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.send(52, base::Tflush { oldtag: 50 }).await;
    c.send(53, base::Tflush { oldtag: 51 }).await;
    let mut tags = vec![c.recv().await.tag, c.recv().await.tag];
    tags.sort();
    assert_eq!(tags, [52, 53]);
}

#[tokio::test]
async fn clunk_waits_for_earlier_requests_on_the_fid() {
    let s = support::start().await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    open_slow(&mut c, 1).await;
    c.send(60, base::Tread { fid: 1, offset: 0, count: 4 }).await;
    c.send(61, base::Tclunk { fid: 1 }).await;
    let first = c.recv().await;
    let second = c.recv().await;
    assert_eq!((first.tag, first.message.name()), (60, "Rread"));
    assert_eq!((second.tag, second.message.name()), (61, "Rclunk"));
}
