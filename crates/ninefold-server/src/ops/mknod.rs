//! Tmknod.

use std::sync::Arc;

use ninefold_proto::{
    l, Errno, P9String, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK,
};

use super::{checked_name, dir_node, Ctx, OpResult};
use crate::fs::Node;

/// Makes node `name` in the request's directory fid.
pub(crate) async fn make(
    ctx: &Ctx,
    name: &P9String,
    mode: u32,
    major: u32,
    minor: u32,
    gid: u32,
) -> Result<Arc<dyn Node>, Errno> {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(name)?;
    // As mknod(2): type 0 is a regular file, directories are made with
    // mkdir (EPERM), anything else is EINVAL.
    let mode = match mode & S_IFMT {
        0 => mode | S_IFREG,
        S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK | S_IFREG => mode,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    dir.mknod(&ctx.req, name, mode, major, minor, gid).await
}

pub(crate) async fn tmknod(ctx: &Ctx, m: &l::Tmknod) -> OpResult {
    let node = make(ctx, &m.name, m.mode, m.major, m.minor, m.gid).await?;
    Ok(l::Rmknod { qid: node.qid() }.into())
}
