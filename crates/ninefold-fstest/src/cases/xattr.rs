//! Txattrwalk and Txattrcreate: get, set (create/replace), list, remove,
//! size checks.

use bytes::Bytes;
use ninefold_proto::base::{Tclunk, Twrite};
use ninefold_proto::l::{Txattrcreate, Txattrwalk};
use ninefold_proto::{Errno, Message, XattrFlags};

use crate::case::cases;
use crate::config::Caps;
use crate::ctx::Ctx;
use crate::expect::{describe, ensure, ensure_eq, expect_err, expect_msg, fail, R};

cases! {
    "xattr/set_get", L, Caps::XATTR, "set user.fstest via Txattrcreate+Twrite+Tclunk, read it back via Txattrwalk+Tread" => set_get;
    "xattr/missing", L, Caps::XATTR, "Txattrwalk of a missing name: Rlerror ENODATA(61)" => missing;
    "xattr/create_exists", L, Caps::XATTR, "XATTR_CREATE on an existing name: Rlerror EEXIST(17) (at Txattrcreate or Tclunk)" => create_exists;
    "xattr/replace_missing", L, Caps::XATTR, "XATTR_REPLACE on a missing name: Rlerror ENODATA(61) (at Txattrcreate or Tclunk)" => replace_missing;
    "xattr/replace", L, Caps::XATTR, "XATTR_REPLACE on an existing name changes the value" => replace;
    "xattr/list", L, Caps::XATTR, "Txattrwalk with an empty name lists NUL-terminated names including ours" => list;
    "xattr/remove", L, Caps::XATTR, "attr_size 0 with XATTR_REPLACE removes the attribute (then ENODATA)" => remove;
    "xattr/size_probe", L, Caps::XATTR, "Rxattrwalk size equals the value length without any Tread" => size_probe;
    "xattr/short_write", L, Caps::XATTR, "writing fewer bytes than attr_size fails the commit at Tclunk: Rlerror EINVAL(22)" => short_write;
    "xattr/read_in_pieces", L, Caps::XATTR, "a value read in two Treads at offsets 0 and 5 reassembles" => read_in_pieces;
    "xattr/large_value", L, Caps::XATTR, "a 4000-byte value round-trips" => large_value;
    "xattr/on_dir", L, Caps::XATTR, "xattrs work on directories" => on_dir;
    "xattr/name_too_long", L, Caps::XATTR, "a 256-byte name in Txattrwalk: Rlerror ERANGE(34)" => name_too_long;
    "xattr/too_big", L, Caps::XATTR, "attr_size above 64 KiB (XATTR_SIZE_MAX): Rlerror E2BIG(7) or ENOSPC" => too_big;
    "xattr/unknown_namespace", L, Caps::XATTR, "a name outside user./trusted./security./system.: Rlerror EOPNOTSUPP(95)" => unknown_namespace;
}

const NAME: &str = "user.fstest";

async fn target(cx: &mut Ctx<'_>) -> R<u32> {
    let d = cx.dir;
    cx.mkfile(d, "f", b"").await?;
    cx.walk(d, &["f"]).await
}

/// Sets an xattr; returns the first error reply (from Txattrcreate, Twrite
/// or Tclunk), or None on success.
async fn set(
    cx: &mut Ctx<'_>,
    fid: u32,
    name: &str,
    value: &[u8],
    flags: XattrFlags,
) -> R<Option<Message>> {
    let c = cx.clone_fid(fid).await?;
    let r = cx
        .rpc(Txattrcreate { fid: c, name: name.into(), attr_size: value.len() as u64, flags })
        .await?;
    if !matches!(r, Message::Rxattrcreate(_)) {
        let _ = cx.rpc(Tclunk { fid: c }).await?;
        return Ok(Some(r));
    }
    let chunk = (cx.msize() - 24) as usize;
    for (i, piece) in value.chunks(chunk).enumerate() {
        let offset = (i * chunk) as u64;
        let r = cx.rpc(Twrite { fid: c, offset, data: Bytes::copy_from_slice(piece) }).await?;
        if !matches!(r, Message::Rwrite(_)) {
            let _ = cx.rpc(Tclunk { fid: c }).await?;
            return Ok(Some(r));
        }
    }
    let r = cx.rpc(Tclunk { fid: c }).await?;
    Ok(if matches!(r, Message::Rclunk(_)) { None } else { Some(r) })
}

async fn set_ok(cx: &mut Ctx<'_>, fid: u32, name: &str, value: &[u8], flags: XattrFlags) -> R<()> {
    match set(cx, fid, name, value, flags).await? {
        None => Ok(()),
        Some(m) => fail(format!("setting {name}: {}", describe(&m))),
    }
}

async fn walk(cx: &mut Ctx<'_>, fid: u32, name: &str) -> R<Result<(u32, u64), Message>> {
    let n = cx.fid();
    match cx.rpc(Txattrwalk { fid, newfid: n, name: name.into() }).await? {
        Message::Rxattrwalk(r) => Ok(Ok((n, r.size))),
        other => Ok(Err(other)),
    }
}

async fn get(cx: &mut Ctx<'_>, fid: u32, name: &str) -> R<Vec<u8>> {
    match walk(cx, fid, name).await? {
        Ok((n, size)) => {
            let mut out = Vec::new();
            while (out.len() as u64) < size {
                let d = cx.read(n, out.len() as u64, (size as u32).max(1)).await?;
                if d.is_empty() {
                    break;
                }
                out.extend_from_slice(&d);
            }
            cx.clunk(n).await?;
            ensure_eq("bytes read vs Rxattrwalk size", out.len() as u64, size)?;
            Ok(out)
        }
        Err(m) => fail(format!("Txattrwalk {name}: {}", describe(&m))),
    }
}

async fn set_get(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"value-1", XattrFlags::empty()).await?;
    ensure_eq("value", get(cx, f, NAME).await?, b"value-1".to_vec())
}

async fn missing(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    match walk(cx, f, "user.nope").await? {
        Ok((_, size)) => fail(format!("expected Rlerror ENODATA(61), got Rxattrwalk size {size}")),
        Err(m) => expect_err(&m, &[Errno::ENODATA]).map(|_| ()),
    }
}

async fn create_exists(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"a", XattrFlags::empty()).await?;
    match set(cx, f, NAME, b"b", XattrFlags::CREATE).await? {
        Some(m) => expect_err(&m, &[Errno::EEXIST])?,
        None => return fail("expected Rlerror EEXIST(17), got success"),
    };
    ensure_eq("value", get(cx, f, NAME).await?, b"a".to_vec())
}

async fn replace_missing(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    match set(cx, f, NAME, b"b", XattrFlags::REPLACE).await? {
        Some(m) => expect_err(&m, &[Errno::ENODATA]).map(|_| ()),
        None => fail("expected Rlerror ENODATA(61), got success"),
    }
}

async fn replace(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"a", XattrFlags::empty()).await?;
    set_ok(cx, f, NAME, b"bb", XattrFlags::REPLACE).await?;
    ensure_eq("value", get(cx, f, NAME).await?, b"bb".to_vec())
}

async fn list(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, "user.one", b"1", XattrFlags::empty()).await?;
    set_ok(cx, f, "user.two", b"2", XattrFlags::empty()).await?;
    let raw = get(cx, f, "").await?;
    ensure(raw.last() == Some(&0), || "list does not end in NUL".into())?;
    let names: Vec<&[u8]> = raw.split(|&b| b == 0).filter(|s| !s.is_empty()).collect();
    ensure(names.contains(&&b"user.one"[..]) && names.contains(&&b"user.two"[..]), || {
        format!("names {:?}", names.iter().map(|n| String::from_utf8_lossy(n)).collect::<Vec<_>>())
    })
}

async fn remove(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"x", XattrFlags::empty()).await?;
    set_ok(cx, f, NAME, b"", XattrFlags::REPLACE).await?;
    match walk(cx, f, NAME).await? {
        Ok((_, size)) => {
            fail(format!("after removal: expected Rlerror ENODATA(61), got Rxattrwalk size {size}"))
        }
        Err(m) => expect_err(&m, &[Errno::ENODATA]).map(|_| ()),
    }
}

async fn size_probe(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"123456789", XattrFlags::empty()).await?;
    match walk(cx, f, NAME).await? {
        Ok((n, size)) => {
            cx.clunk(n).await?;
            ensure_eq("size", size, 9)
        }
        Err(m) => fail(format!("Txattrwalk: {}", describe(&m))),
    }
}

async fn short_write(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    let c = cx.clone_fid(f).await?;
    expect_msg!(
        cx.rpc(Txattrcreate {
            fid: c,
            name: NAME.into(),
            attr_size: 10,
            flags: XattrFlags::empty()
        })
        .await?,
        Rxattrcreate
    )?;
    expect_msg!(
        cx.rpc(Twrite { fid: c, offset: 0, data: Bytes::from_static(b"12345") }).await?,
        Rwrite
    )?;
    let r = cx.rpc(Tclunk { fid: c }).await?;
    expect_err(&r, &[Errno::EINVAL]).map(|_| ())
}

async fn read_in_pieces(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    set_ok(cx, f, NAME, b"0123456789", XattrFlags::empty()).await?;
    match walk(cx, f, NAME).await? {
        Ok((n, _)) => {
            let a = cx.read(n, 0, 5).await?;
            let b = cx.read(n, 5, 100).await?;
            ensure_eq("pieces", [&a[..], &b[..]].concat(), b"0123456789".to_vec())
        }
        Err(m) => fail(format!("Txattrwalk: {}", describe(&m))),
    }
}

async fn large_value(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    let v: Vec<u8> = (0..4000).map(|i| (i % 250) as u8).collect();
    set_ok(cx, f, NAME, &v, XattrFlags::empty()).await?;
    ensure(get(cx, f, NAME).await? == v, || "value differs".into())
}

async fn on_dir(cx: &mut Ctx<'_>) -> R<()> {
    let d = cx.dir;
    set_ok(cx, d, NAME, b"dir", XattrFlags::empty()).await?;
    ensure_eq("value", get(cx, d, NAME).await?, b"dir".to_vec())
}

async fn name_too_long(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    let name = format!("user.{}", "n".repeat(251));
    match walk(cx, f, &name).await? {
        Ok((_, size)) => fail(format!("expected Rlerror ERANGE(34), got Rxattrwalk size {size}")),
        Err(m) => expect_err(&m, &[Errno::ERANGE]).map(|_| ()),
    }
}

async fn too_big(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    let v = vec![b'v'; (64 << 10) + 1];
    match set(cx, f, NAME, &v, XattrFlags::empty()).await? {
        Some(m) => expect_err(&m, &[Errno::E2BIG, Errno::ENOSPC]).map(|_| ()),
        None => fail("expected Rlerror E2BIG(7), got success"),
    }
}

async fn unknown_namespace(cx: &mut Ctx<'_>) -> R<()> {
    let f = target(cx).await?;
    match set(cx, f, "bogus.fstest", b"x", XattrFlags::empty()).await? {
        Some(m) => expect_err(&m, &[Errno::EOPNOTSUPP]).map(|_| ()),
        None => fail("expected Rlerror EOPNOTSUPP(95), got success"),
    }
}
