//! 9P2000.L.Z Tgetlineage: the durability lineage token and the writer
//! epoch (0: a standalone server). Cheap: it is also the liveness probe.

use ninefold_proto::z;

use super::{Ctx, OpResult};

pub(crate) async fn tgetlineage(ctx: &Ctx) -> OpResult {
    let token = ctx.conn.server.lineage.token();
    Ok(z::Rgetlineage { token, writer_epoch: 0 }.into())
}
