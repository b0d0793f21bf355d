//! Tunlinkat.

use ninefold_proto::{l, Errno, UnlinkatFlags};

use super::{checked_name, dir_node, Ctx, OpResult};

pub(crate) async fn tunlinkat(ctx: &Ctx, m: &l::Tunlinkat) -> OpResult {
    let dir = dir_node(ctx.fid()?)?;
    if m.name.as_bytes() == b"." {
        return Err(Errno::EINVAL);
    }
    if m.name.as_bytes() == b".." {
        return Err(Errno::ENOTEMPTY);
    }
    let name = checked_name(&m.name)?;
    let flags = m.flags & UnlinkatFlags::REMOVEDIR;
    dir.unlink(&ctx.req, name, flags).await?;
    Ok(l::Runlinkat.into())
}
