//! Tlock and Tgetlock. Locks belong to the open fid (see
//! [`Request::lock_owner`](crate::Request::lock_owner)).

use ninefold_proto::{l, Errno, LockType, P9String};

use super::Ctx;
use super::OpResult;
use crate::fs::LockRequest;

fn valid_type(ty: LockType) -> bool {
    matches!(ty, LockType::RDLCK | LockType::WRLCK | LockType::UNLCK)
}

pub(crate) async fn tlock(ctx: &Ctx, m: &l::Tlock) -> OpResult {
    let fid = ctx.fid()?;
    if !valid_type(m.ty) {
        return Err(Errno::EINVAL);
    }
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let node = fid.node();
    let lock = LockRequest {
        ty: m.ty,
        flags: m.flags,
        start: m.start,
        length: m.length,
        proc_id: m.proc_id,
        client_id: m.client_id.clone().into_bytes(),
    };
    let status = match handle {
        Some(h) => h.lock(&ctx.req, &*node, &lock).await?,
        None => node.lock(&ctx.req, &lock).await?,
    };
    Ok(l::Rlock { status }.into())
}

pub(crate) async fn tgetlock(ctx: &Ctx, m: &l::Tgetlock) -> OpResult {
    let fid = ctx.fid()?;
    if !valid_type(m.ty) {
        return Err(Errno::EINVAL);
    }
    let handle = fid.open_handle().map_err(|()| Errno::EBADF)?;
    let node = fid.node();
    let probe = LockRequest {
        ty: m.ty,
        flags: Default::default(),
        start: m.start,
        length: m.length,
        proc_id: m.proc_id,
        client_id: m.client_id.clone().into_bytes(),
    };
    let info = match handle {
        Some(h) => h.getlock(&ctx.req, &*node, &probe).await?,
        None => node.getlock(&ctx.req, &probe).await?,
    };
    Ok(l::Rgetlock {
        ty: info.ty,
        start: info.start,
        length: info.length,
        proc_id: info.proc_id,
        client_id: P9String::from(info.client_id),
    }
    .into())
}
