//! memfs: byte-range locks across owners.

mod memfs_util;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use memfs_util::*;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::{Errno, LockFlags, LockStatus, LockType};
use ninefold_server::{LockRequest, Node, Request};

fn owner(conn: u64, fid: u32) -> Request {
    su().with_conn_id(conn).with_fid(fid)
}

fn lk(ty: LockType, start: u64, length: u64) -> LockRequest {
    LockRequest {
        ty,
        flags: LockFlags::empty(),
        start,
        length,
        proc_id: 42,
        client_id: Bytes::from_static(b"host"),
    }
}

async fn file() -> (MemFs, Arc<dyn Node>) {
    let fs = MemFs::builder().lock_wait(Duration::from_millis(300)).build().unwrap();
    let (f, _) = create(&fs.root(), "f").await;
    (fs, f)
}

#[tokio::test]
async fn write_locks_conflict_between_owners_not_within_one() {
    let (_fs, f) = file().await;
    let (a, b) = (owner(1, 1), owner(1, 2));
    assert_eq!(f.lock(&a, &lk(LockType::WRLCK, 0, 100)).await.unwrap(), LockStatus::SUCCESS);
    // Same owner: relock and upgrade freely.
    assert_eq!(f.lock(&a, &lk(LockType::WRLCK, 50, 10)).await.unwrap(), LockStatus::SUCCESS);
    // Another fid, and another connection with the same fid number.
    assert_eq!(f.lock(&b, &lk(LockType::RDLCK, 99, 1)).await.unwrap(), LockStatus::BLOCKED);
    assert_eq!(
        f.lock(&owner(2, 1), &lk(LockType::WRLCK, 0, 0)).await.unwrap(),
        LockStatus::BLOCKED
    );
    // Outside the range: fine.
    assert_eq!(f.lock(&b, &lk(LockType::WRLCK, 100, 0)).await.unwrap(), LockStatus::SUCCESS);
}

#[tokio::test]
async fn read_locks_share() {
    let (_fs, f) = file().await;
    assert_eq!(
        f.lock(&owner(1, 1), &lk(LockType::RDLCK, 0, 0)).await.unwrap(),
        LockStatus::SUCCESS
    );
    assert_eq!(
        f.lock(&owner(1, 2), &lk(LockType::RDLCK, 10, 10)).await.unwrap(),
        LockStatus::SUCCESS
    );
    assert_eq!(
        f.lock(&owner(1, 3), &lk(LockType::WRLCK, 15, 1)).await.unwrap(),
        LockStatus::BLOCKED
    );
}

#[tokio::test]
async fn unlock_splits_and_relock_merges() {
    let (_fs, f) = file().await;
    let a = owner(1, 1);
    f.lock(&a, &lk(LockType::WRLCK, 0, 100)).await.unwrap();
    f.lock(&a, &lk(LockType::UNLCK, 40, 20)).await.unwrap();
    let held = mem(&f).held_locks();
    assert_eq!(held.iter().map(|h| (h.2, h.3)).collect::<Vec<_>>(), [(0, 39), (60, 99)]);
    // The hole is free for another owner.
    let b = owner(1, 2);
    assert_eq!(f.lock(&b, &lk(LockType::WRLCK, 40, 20)).await.unwrap(), LockStatus::SUCCESS);
    assert_eq!(f.lock(&b, &lk(LockType::WRLCK, 39, 2)).await.unwrap(), LockStatus::BLOCKED);
    f.lock(&b, &lk(LockType::UNLCK, 0, 0)).await.unwrap();
    f.lock(&a, &lk(LockType::WRLCK, 40, 20)).await.unwrap();
    let held = mem(&f).held_locks();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].2, held[0].3), (0, 99));
    // Downgrading part of it to a read lock splits by type.
    f.lock(&a, &lk(LockType::RDLCK, 10, 10)).await.unwrap();
    assert_eq!(mem(&f).held_locks().len(), 3);
}

#[tokio::test]
async fn getlock_reports_any_conflicting_lock_of_another_owner() {
    let (_fs, f) = file().await;
    let (a, b) = (owner(1, 1), owner(1, 2));
    f.lock(&a, &lk(LockType::RDLCK, 0, 10)).await.unwrap();
    f.lock(&a, &lk(LockType::WRLCK, 20, 10)).await.unwrap();
    // Linux sends UNLCK: any lock counts, a write lock is preferred.
    let info = f.getlock(&b, &lk(LockType::UNLCK, 0, 0)).await.unwrap();
    assert_eq!((info.ty, info.start, info.length, info.proc_id), (LockType::WRLCK, 20, 10, 42));
    let info = f.getlock(&b, &lk(LockType::UNLCK, 0, 5)).await.unwrap();
    assert_eq!(info.ty, LockType::RDLCK);
    // A read probe does not conflict with a read lock.
    let info = f.getlock(&b, &lk(LockType::RDLCK, 0, 5)).await.unwrap();
    assert_eq!(info.ty, LockType::UNLCK);
    // Own locks never conflict.
    let info = f.getlock(&a, &lk(LockType::UNLCK, 0, 0)).await.unwrap();
    assert_eq!((info.ty, info.start, info.length), (LockType::UNLCK, 0, 0));
}

#[tokio::test]
async fn release_drops_only_the_owners_locks() {
    let (_fs, f) = file().await;
    let (a, b) = (owner(1, 1), owner(1, 2));
    f.lock(&a, &lk(LockType::WRLCK, 0, 10)).await.unwrap();
    f.lock(&b, &lk(LockType::WRLCK, 10, 10)).await.unwrap();
    f.release(&a).await.unwrap();
    let held = mem(&f).held_locks();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, b.lock_owner());
    assert_eq!(
        f.lock(&owner(1, 3), &lk(LockType::WRLCK, 0, 10)).await.unwrap(),
        LockStatus::SUCCESS
    );
    // Through the handle too.
    let opened = f.open(&b, ninefold_proto::OpenFlags::RDWR).await.unwrap();
    opened.handle.unwrap().release(&b, &*f).await.unwrap();
    assert_eq!(mem(&f).held_locks().len(), 1);
}

#[tokio::test]
async fn blocking_request_is_granted_when_the_holder_unlocks() {
    let (_fs, f) = file().await;
    let a = owner(1, 1);
    f.lock(&a, &lk(LockType::WRLCK, 0, 0)).await.unwrap();
    let waiter = {
        let f = f.clone();
        tokio::spawn(async move {
            let mut req = lk(LockType::WRLCK, 0, 0);
            req.flags = LockFlags::BLOCK;
            f.lock(&owner(1, 2), &req).await
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    f.release(&a).await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), LockStatus::SUCCESS);
}

#[tokio::test]
async fn blocking_request_times_out_with_blocked_and_honours_flush() {
    let (_fs, f) = file().await;
    f.lock(&owner(1, 1), &lk(LockType::WRLCK, 0, 0)).await.unwrap();
    let mut req = lk(LockType::WRLCK, 0, 0);
    req.flags = LockFlags::BLOCK;
    let start = Instant::now();
    assert_eq!(f.lock(&owner(1, 2), &req).await.unwrap(), LockStatus::BLOCKED);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(3), "{waited:?}");
    // A flushed request stops waiting at once.
    let token = ninefold_server_token();
    let flushed = owner(1, 3).with_cancellation(token.clone());
    let t = {
        let f = f.clone();
        let req = req.clone();
        tokio::spawn(async move { f.lock(&flushed, &req).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    token.cancel();
    let start = Instant::now();
    assert_eq!(t.await.unwrap().unwrap_err(), Errno::EINTR);
    assert!(start.elapsed() < Duration::from_millis(200));
}

/// A cancellation token of the type `Request::with_cancellation` takes.
fn ninefold_server_token() -> tokio_util::sync::CancellationToken {
    tokio_util::sync::CancellationToken::new()
}

#[tokio::test]
async fn bad_ranges_and_types_are_einval() {
    let (_fs, f) = file().await;
    assert_eq!(
        f.lock(&owner(1, 1), &lk(LockType::WRLCK, u64::MAX, 2)).await.unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(f.lock(&owner(1, 1), &lk(LockType(7), 0, 0)).await.unwrap_err(), Errno::EINVAL);
}
