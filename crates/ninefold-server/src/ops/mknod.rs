//! Tmknod.

use ninefold_proto::{l, Errno, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK};

use super::{checked_name, dir_node, Ctx, OpResult};

pub(crate) async fn tmknod(ctx: &Ctx, m: &l::Tmknod) -> OpResult {
    let dir = dir_node(ctx.fid()?)?;
    let name = checked_name(&m.name)?;
    // As mknod(2): type 0 is a regular file, directories are made with
    // mkdir (EPERM), anything else is EINVAL.
    let mode = match m.mode & S_IFMT {
        0 => m.mode | S_IFREG,
        S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK | S_IFREG => m.mode,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let node = dir.mknod(&ctx.req, name, mode, m.major, m.minor, m.gid).await?;
    Ok(l::Rmknod { qid: node.qid() }.into())
}
