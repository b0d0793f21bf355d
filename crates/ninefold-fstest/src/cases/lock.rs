//! Tlock and Tgetlock: conflicts across connections, ranges, the UNLCK
//! probe, release on clunk and disconnect.

use ninefold_proto::l::{Tgetlock, Tlock};
use ninefold_proto::{LockFlags, LockStatus, LockType, Message, OpenFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure_eq, expect_msg, fail, R};
use crate::session::Session;

cases! {
    "lock/write", L, Caps::LOCKS, "Tlock WRLCK on an open file: Rlock SUCCESS" => write;
    "lock/unlock", L, Caps::LOCKS, "Tlock UNLCK of a held lock: Rlock SUCCESS" => unlock;
    "lock/conflict", L, Caps::LOCKS, "a WRLCK overlapping another connection's WRLCK: Rlock BLOCKED (or Rlerror EAGAIN)" => conflict;
    "lock/read_shared", L, Caps::LOCKS, "RDLCK on two connections: both SUCCESS" => read_shared;
    "lock/read_write_conflict", L, Caps::LOCKS, "WRLCK against another connection's RDLCK: BLOCKED" => read_write_conflict;
    "lock/disjoint_ranges", L, Caps::LOCKS, "WRLCK [0,10) and WRLCK [10,20) on two connections: both SUCCESS (byte ranges, not whole files)" => disjoint_ranges;
    "lock/unlock_range", L, Caps::LOCKS, "after unlocking [0,50) of [0,100), another connection gets [0,50) but not [50,100)" => unlock_range;
    "lock/to_eof", L, Caps::LOCKS, "length 0 locks to EOF: [100,EOF) conflicts with [1000,1010), not with [0,50)" => to_eof;
    "lock/released_on_clunk", L, Caps::LOCKS, "Tclunk of the holding fid releases its lock" => released_on_clunk;
    "lock/released_on_disconnect", L, Caps::LOCKS, "closing the holding connection releases its lock" => released_on_disconnect;
    "lock/getlock_probe_conflict", L, Caps::LOCKS, "Tgetlock type UNLCK (what Linux sends) against a held WRLCK reports WRLCK and its range" => getlock_probe_conflict;
    "lock/getlock_probe_free", L, Caps::LOCKS, "Tgetlock type UNLCK with no lock held answers type UNLCK" => getlock_probe_free;
    "lock/getlock_wrlck", L, Caps::LOCKS, "Tgetlock type WRLCK against a held RDLCK reports RDLCK" => getlock_wrlck;
    "lock/upgrade", L, Caps::LOCKS, "the holder may turn its RDLCK into a WRLCK" => upgrade;
}

fn tlock(fid: u32, ty: LockType, start: u64, length: u64) -> Tlock {
    Tlock {
        fid,
        ty,
        flags: LockFlags::empty(),
        start,
        length,
        proc_id: 4242,
        client_id: "fstest".into(),
    }
}

/// Opens the case's file "f" on `s` (creating it on the main session first).
async fn open_on(dir_name: String, s: &mut Session) -> R<u32> {
    let root = s.root;
    let d = s.walk(root, &[&dir_name]).await?;
    s.open_at(d, "f", OpenFlags::RDWR).await
}

async fn two(cx: &mut Ctx<'_>) -> R<(u32, Session, u32)> {
    let d = cx.dir;
    cx.mkfile(d, "f", &[0u8; 2000]).await?;
    let a = cx.open_at(d, "f", OpenFlags::RDWR).await?;
    let mut s = cx.session().await?;
    let b = open_on(cx.dir_name.clone(), &mut s).await?;
    Ok((a, s, b))
}

async fn status(s: &mut Session, l: Tlock) -> R<Message> {
    s.rpc(l).await
}

fn want(m: Message, st: LockStatus, what: &str) -> R<()> {
    match m {
        Message::Rlock(r) if r.status == st => Ok(()),
        other => fail(format!(
            "{what}: expected Rlock {st:?}, got {}",
            match &other {
                Message::Rlock(r) => format!("Rlock {:?}", r.status),
                m => describe(m),
            }
        )),
    }
}

fn want_conflict(m: Message, what: &str) -> R<()> {
    match m {
        Message::Rlock(r) if r.status == LockStatus::BLOCKED => Ok(()),
        Message::Rlerror(e) if e.ecode == ninefold_proto::Errno::EAGAIN => Ok(()),
        other => fail(format!(
            "{what}: expected Rlock BLOCKED (or EAGAIN), got {}",
            match &other {
                Message::Rlock(r) => format!("Rlock {:?}", r.status),
                m => describe(m),
            }
        )),
    }
}

async fn write(cx: &mut Ctx<'_>) -> R<()> {
    let (a, _s, _b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 100)).await?, LockStatus::SUCCESS, "WRLCK")
}

async fn unlock(cx: &mut Ctx<'_>) -> R<()> {
    let (a, _s, _b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 100)).await?, LockStatus::SUCCESS, "WRLCK")?;
    want(status(cx, tlock(a, LockType::UNLCK, 0, 100)).await?, LockStatus::SUCCESS, "UNLCK")
}

async fn conflict(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 100)).await?, LockStatus::SUCCESS, "A WRLCK")?;
    want_conflict(status(&mut s, tlock(b, LockType::WRLCK, 50, 100)).await?, "B WRLCK")
}

async fn read_shared(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::RDLCK, 0, 100)).await?, LockStatus::SUCCESS, "A RDLCK")?;
    want(status(&mut s, tlock(b, LockType::RDLCK, 0, 100)).await?, LockStatus::SUCCESS, "B RDLCK")
}

async fn read_write_conflict(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::RDLCK, 0, 100)).await?, LockStatus::SUCCESS, "A RDLCK")?;
    want_conflict(status(&mut s, tlock(b, LockType::WRLCK, 0, 10)).await?, "B WRLCK")
}

async fn disjoint_ranges(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 10)).await?, LockStatus::SUCCESS, "A [0,10)")?;
    want(status(&mut s, tlock(b, LockType::WRLCK, 10, 10)).await?, LockStatus::SUCCESS, "B [10,20)")
}

async fn unlock_range(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 100)).await?, LockStatus::SUCCESS, "A [0,100)")?;
    want(
        status(cx, tlock(a, LockType::UNLCK, 0, 50)).await?,
        LockStatus::SUCCESS,
        "A unlock [0,50)",
    )?;
    want(status(&mut s, tlock(b, LockType::WRLCK, 0, 50)).await?, LockStatus::SUCCESS, "B [0,50)")?;
    want_conflict(status(&mut s, tlock(b, LockType::WRLCK, 50, 50)).await?, "B [50,100)")
}

async fn to_eof(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 100, 0)).await?, LockStatus::SUCCESS, "A [100,EOF)")?;
    want_conflict(status(&mut s, tlock(b, LockType::WRLCK, 1000, 10)).await?, "B [1000,1010)")?;
    want(status(&mut s, tlock(b, LockType::WRLCK, 0, 50)).await?, LockStatus::SUCCESS, "B [0,50)")
}

async fn released_on_clunk(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 0)).await?, LockStatus::SUCCESS, "A")?;
    cx.clunk(a).await?;
    want(
        status(&mut s, tlock(b, LockType::WRLCK, 0, 0)).await?,
        LockStatus::SUCCESS,
        "B after A's clunk",
    )
}

async fn released_on_disconnect(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"x").await?;
    let mut s = cx.session().await?;
    let b = open_on(cx.dir_name.clone(), &mut s).await?;
    want(status(&mut s, tlock(b, LockType::WRLCK, 0, 0)).await?, LockStatus::SUCCESS, "B")?;
    drop(s);
    let a = cx.open_at(d, "f", OpenFlags::RDWR).await?;
    for _ in 0..20 {
        match status(cx, tlock(a, LockType::WRLCK, 0, 0)).await? {
            Message::Rlock(r) if r.status == LockStatus::SUCCESS => return Ok(()),
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    fail("lock still held 1 s after its connection closed")
}

async fn getlock(
    s: &mut Session,
    fid: u32,
    ty: LockType,
    start: u64,
    length: u64,
) -> R<ninefold_proto::l::Rgetlock> {
    let r = s
        .rpc(Tgetlock { fid, ty, start, length, proc_id: 777, client_id: "fstest-probe".into() })
        .await?;
    expect_msg!(r, Rgetlock)
}

async fn getlock_probe_conflict(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::WRLCK, 10, 20)).await?, LockStatus::SUCCESS, "A")?;
    let g = getlock(&mut s, b, LockType::UNLCK, 0, 0).await?;
    ensure_eq("type", g.ty, LockType::WRLCK)?;
    ensure_eq("range", (g.start, g.length), (10, 20))
}

async fn getlock_probe_free(cx: &mut Ctx<'_>) -> R<()> {
    let (_a, mut s, b) = two(cx).await?;
    let g = getlock(&mut s, b, LockType::UNLCK, 0, 0).await?;
    ensure_eq("type", g.ty, LockType::UNLCK)
}

async fn getlock_wrlck(cx: &mut Ctx<'_>) -> R<()> {
    let (a, mut s, b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::RDLCK, 0, 0)).await?, LockStatus::SUCCESS, "A RDLCK")?;
    let g = getlock(&mut s, b, LockType::WRLCK, 0, 0).await?;
    ensure_eq("type", g.ty, LockType::RDLCK)
}

async fn upgrade(cx: &mut Ctx<'_>) -> R<()> {
    let (a, _s, _b) = two(cx).await?;
    want(status(cx, tlock(a, LockType::RDLCK, 0, 100)).await?, LockStatus::SUCCESS, "RDLCK")?;
    want(status(cx, tlock(a, LockType::WRLCK, 0, 100)).await?, LockStatus::SUCCESS, "WRLCK upgrade")
}
