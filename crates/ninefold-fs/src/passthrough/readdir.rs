//! Treaddir on an open directory: host `getdents64` with the host's
//! `d_off` values as cookies (resume with `lseek`, as telldir/seekdir
//! do), whole entries only, `.` and `..` included.

use std::os::fd::AsFd;

use ninefold_proto::l::Dirent;
use ninefold_proto::{DirentType, Errno, P9String, Qid, QidType};
use ninefold_server::{DirSink, Result};
use rustix::fs::{AtFlags, FileType, RawDir, SeekFrom};

use super::handle::PassthroughHandle;
use super::node::{blocking, errno, Kind};
use super::qidmap::dev_of;

/// Bytes of one encoded entry besides its name: qid 13, offset 8, type 1,
/// name length 2.
const ENTRY_OVERHEAD: usize = 24;
/// The getdents buffer (any single entry fits many times over).
const GETDENTS_BUF: usize = 16 * 1024;

fn dirent_type(ty: FileType) -> DirentType {
    match ty {
        FileType::RegularFile => DirentType::REG,
        FileType::Directory => DirentType::DIR,
        FileType::Symlink => DirentType::LNK,
        FileType::Fifo => DirentType::FIFO,
        FileType::Socket => DirentType::SOCK,
        FileType::CharacterDevice => DirentType::CHR,
        FileType::BlockDevice => DirentType::BLK,
        _ => DirentType::UNKNOWN,
    }
}

fn qid_type(ty: DirentType) -> QidType {
    match ty {
        DirentType::DIR => QidType::DIR,
        DirentType::LNK => QidType::SYMLINK,
        _ => QidType::FILE,
    }
}

impl PassthroughHandle {
    pub(crate) async fn readdir_impl(&self, offset: u64, sink: &mut DirSink) -> Result<()> {
        for entry in self.entries(offset, sink.remaining()).await? {
            if !sink.push_entry(&entry) {
                break;
            }
        }
        Ok(())
    }

    /// The directory entries a readdir from cookie `offset` returns into
    /// `budget` bytes of reply (each entry's `offset` is the cookie after
    /// it). This is what [`Handle::readdir`](ninefold_server::Handle::readdir)
    /// pushes into its sink.
    pub async fn entries(&self, offset: u64, budget: usize) -> Result<Vec<Dirent>> {
        if self.kind != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let fs = self.fs.clone();
        let fd = self.fd.clone();
        let cursor = self.cursor.clone();
        blocking(move || {
            let _guard = cursor.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let st = super::attr::stat(fd.as_fd()).map_err(errno)?;
            let dev = dev_of(&st);
            let at_root = (dev, st.stx_ino) == fs.root_ident;
            rustix::fs::seek(fd.as_fd(), SeekFrom::Start(offset)).map_err(errno)?;
            let mut buf = Vec::with_capacity(GETDENTS_BUF);
            let mut iter = RawDir::new(fd.as_fd(), buf.spare_capacity_mut());
            let mut used = 0;
            let mut out = Vec::new();
            while let Some(entry) = iter.next() {
                let entry = entry.map_err(errno)?;
                let name = entry.file_name().to_bytes();
                let size = ENTRY_OVERHEAD + name.len();
                if used + size > budget {
                    break;
                }
                used += size;
                let mut ty = dirent_type(entry.file_type());
                if ty == DirentType::UNKNOWN {
                    // Some filesystems do not fill d_type: ask, without
                    // following (one component, relative to this dir).
                    if let Ok(st) =
                        rustix::fs::statat(fd.as_fd(), entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                    {
                        ty = DirentType::from_mode(st.st_mode);
                    }
                }
                // The root's ".." lies outside the export: show the root.
                let ino = if at_root && name == b".." { st.stx_ino } else { entry.ino() };
                let qid = Qid { ty: qid_type(ty), version: 0, path: fs.qids.path(dev, ino) };
                out.push(Dirent {
                    qid,
                    offset: entry.next_entry_cookie(),
                    ty,
                    name: P9String::from(name.to_vec()),
                });
            }
            Ok(out)
        })
        .await
    }
}
