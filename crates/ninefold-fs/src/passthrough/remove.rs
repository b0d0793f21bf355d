//! Tunlinkat and Trenameat: single names relative to parent descriptors.

use std::os::fd::AsFd;
use std::sync::Arc;

use ninefold_proto::{Errno, UnlinkatFlags};
use ninefold_server::{Node, Request, Result};
use rustix::fs::AtFlags;

use super::node::{cheap_as, errno, PassthroughNode};
use super::walk::check_name;

impl PassthroughNode {
    pub(crate) async fn unlink_impl(
        &self,
        req: &Request,
        name: &[u8],
        flags: UnlinkatFlags,
    ) -> Result<()> {
        let name = check_name(name)?.to_owned();
        self.dir()?;
        self.writable()?;
        let at = if flags.contains(UnlinkatFlags::REMOVEDIR) {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        let parent = self.fd.clone();
        cheap_as(&self.fs, req, move || {
            rustix::fs::unlinkat(parent.as_fd(), &name, at).map_err(errno)
        })
        .await
    }

    pub(crate) async fn rename_impl(
        &self,
        req: &Request,
        name: &[u8],
        new_dir: &Arc<dyn Node>,
        new_name: &[u8],
    ) -> Result<()> {
        let new_dir = new_dir.downcast_ref::<PassthroughNode>().ok_or(Errno::EXDEV)?;
        if !self.same_export(new_dir) {
            return Err(Errno::EXDEV);
        }
        let name = check_name(name)?.to_owned();
        let new_name = check_name(new_name)?.to_owned();
        self.dir()?;
        new_dir.dir()?;
        self.writable()?;
        let from = self.fd.clone();
        let to = new_dir.fd.clone();
        let (fs, to_path) = (self.fs.clone(), new_dir.qid.path);
        cheap_as(&self.fs, req, move || {
            // Which object moves, for the index's record of where it is.
            let moved =
                rustix::fs::statat(from.as_fd(), &name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .ok()
                    .map(|st| fs.qids.path(st.st_dev, st.st_ino));
            rustix::fs::renameat(from.as_fd(), &name, to.as_fd(), &new_name).map_err(errno)?;
            if let Some(path) = moved {
                fs.index.hint(path, to_path, &new_name, None);
            }
            Ok(())
        })
        .await
    }
}
