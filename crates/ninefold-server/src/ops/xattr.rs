//! Txattrwalk and Txattrcreate: the two-phase xattr protocol. Reads are
//! served from the value captured at walk time; a new value is collected
//! by Twrite and committed at Tclunk (see [`super::clunk`]).

use bytes::{BufMut, BytesMut};
use ninefold_proto::{l, Errno};

use super::Ctx;
use super::OpResult;
use crate::fid::{FidMode, XattrWrite};

/// Largest xattr value accepted (Linux's `XATTR_SIZE_MAX`).
pub(crate) const XATTR_SIZE_MAX: u64 = 64 * 1024;
/// Longest xattr name (Linux's `XATTR_NAME_MAX`).
const XATTR_NAME_MAX: usize = 255;

pub(crate) async fn txattrwalk(ctx: &Ctx, m: &l::Txattrwalk) -> OpResult {
    let fid = ctx.fid()?;
    if m.name.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    let loc = fid.location();
    let value = if m.name.is_empty() {
        let names = loc.node.xattr_list(&ctx.req).await?;
        let mut buf = BytesMut::new();
        for n in names {
            buf.put_slice(&n);
            buf.put_u8(0);
        }
        buf.freeze()
    } else {
        loc.node.xattr_get(&ctx.req, &m.name).await?
    };
    let size = value.len() as u64;
    let new = fid.derive(loc);
    *new.mode() = FidMode::XattrRead(value);
    ctx.bind_newfid(new)?;
    Ok(l::Rxattrwalk { size }.into())
}

pub(crate) async fn txattrcreate(ctx: &Ctx, m: &l::Txattrcreate) -> OpResult {
    let fid = ctx.fid()?;
    if m.name.is_empty() || m.name.len() > XATTR_NAME_MAX {
        return Err(Errno::EINVAL);
    }
    if m.attr_size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut mode = fid.mode();
    if !matches!(*mode, FidMode::Walked) {
        return Err(Errno::EINVAL);
    }
    *mode = FidMode::XattrWrite(XattrWrite {
        name: m.name.clone().into_bytes(),
        size: m.attr_size,
        flags: m.flags,
        buf: BytesMut::with_capacity(m.attr_size as usize),
    });
    Ok(l::Rxattrcreate.into())
}
