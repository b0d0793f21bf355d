//! The scratch fixture, made and removed through the protocol itself:
//! a directory in the export's root holding one file of `file_size` bytes.
//!
//! ```text
//! control connection: Tattach fid 0 -> Tmkdir DIR -> Twalk 0->1 DIR
//!                     -> Twalk 1->2 (clone) -> Tlcreate 2 "data" RDWR
//!                     -> Twrite 2 ... (msize-24 chunks) -> Tclunk 2
//! each worker:        Tattach fid 0 -> Twalk 0->1 DIR
//!                     -> Twalk 1->2 "data" (getattr fid)
//!                     -> Twalk 1->3 "data", Tlopen 3 RDWR (i/o fid)
//! cleanup:            Tunlinkat 1 "data" -> Tunlinkat 0 DIR REMOVEDIR
//!                     (Twalk + Tremove when Tunlinkat is refused)
//! ```

use bytes::Bytes;
use ninefold_proto::{base, l, Message, OpenFlags, UnlinkatFlags};

use crate::error::BenchError;
use crate::session::{unexpected, Attach, Session};
use crate::target::Target;

/// The name of the file inside the scratch directory.
pub const FILE_NAME: &str = "data";

/// Root fid on every connection.
pub const ROOT_FID: u32 = 0;
/// Scratch directory fid on every connection.
pub const DIR_FID: u32 = 1;
/// Worker: fid walked to the file (Tgetattr target; the control
/// connection's creation fid).
pub const STAT_FID: u32 = 2;
/// Worker: fid walked to the file and opened read-write.
pub const IO_FID: u32 = 3;
/// Worker: first of the per-slot fids of the walk-clunk row.
pub const WALK_FID_BASE: u32 = 16;

/// The control connection and the scratch directory it created.
#[derive(Debug)]
pub struct Fixture {
    session: Session,
    /// The scratch directory's name in the export root.
    pub dir: String,
    /// The file's size in bytes.
    pub file_size: u64,
}

impl Fixture {
    /// Connects, attaches and creates the scratch directory and file.
    pub async fn create(
        target: &Target,
        msize: u32,
        who: &Attach,
        gid: u32,
        file_size: u64,
    ) -> Result<Fixture, BenchError> {
        let mut s = Session::connect(target, msize).await?;
        s.attach(ROOT_FID, who).await?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = format!("ninefold-bench.{}.{nanos:09}", std::process::id());
        let mkdir = l::Tmkdir { dfid: ROOT_FID, name: dir.as_str().into(), mode: 0o755, gid };
        match s.call(mkdir.into(), "Tmkdir of the scratch directory").await? {
            Message::Rmkdir(_) => {}
            other => return Err(unexpected("Tmkdir", &other)),
        }
        let mut fx = Fixture { session: s, dir, file_size };
        if let Err(e) = fx.fill(gid).await {
            // Best effort: leave nothing behind even when setup fails.
            let _ = fx.cleanup().await;
            return Err(e);
        }
        Ok(fx)
    }

    async fn fill(&mut self, gid: u32) -> Result<(), BenchError> {
        let s = &mut self.session;
        s.walk(ROOT_FID, DIR_FID, &[&self.dir]).await?;
        s.walk(DIR_FID, STAT_FID, &[]).await?;
        let create = l::Tlcreate {
            fid: STAT_FID,
            name: FILE_NAME.into(),
            flags: OpenFlags::RDWR | OpenFlags::CREATE,
            mode: 0o644,
            gid,
        };
        match s.call(create.into(), "Tlcreate of the scratch file").await? {
            Message::Rlcreate(_) => {}
            other => return Err(unexpected("Tlcreate", &other)),
        }
        let chunk = ninefold_proto::sizes::client_io_size(0, s.msize).min(1 << 20) as usize;
        let pattern: Bytes = (0..chunk).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
        let mut off = 0u64;
        while off < self.file_size {
            let n = chunk.min((self.file_size - off) as usize);
            let wrote = s.write(STAT_FID, off, pattern.slice(..n)).await?;
            if wrote == 0 {
                return Err(BenchError::Protocol("Twrite wrote 0 bytes while filling".into()));
            }
            off += u64::from(wrote);
        }
        s.clunk(STAT_FID).await
    }

    /// The negotiated msize of the control connection.
    pub fn msize(&self) -> u32 {
        self.session.msize
    }

    /// Removes the file and the directory. Errors are reported, not hidden.
    pub async fn cleanup(mut self) -> Result<(), BenchError> {
        let s = &mut self.session;
        let file = remove(s, DIR_FID, FILE_NAME, false).await;
        let _ = s.clunk(DIR_FID).await;
        let dir = remove(s, ROOT_FID, &self.dir.clone(), true).await;
        let _ = s.clunk(ROOT_FID).await;
        file.and(dir)
    }
}

/// Tunlinkat `name` in `dirfid`; when the server refuses Tunlinkat itself
/// (ENOSYS/EOPNOTSUPP), Twalk to a fresh fid and Tremove.
async fn remove(s: &mut Session, dirfid: u32, name: &str, dir: bool) -> Result<(), BenchError> {
    let flags = if dir { UnlinkatFlags::REMOVEDIR } else { UnlinkatFlags::empty() };
    let m = l::Tunlinkat { dirfid, name: name.into(), flags };
    match s.call(m.into(), &format!("Tunlinkat {name}")).await {
        Ok(Message::Runlinkat(_)) => Ok(()),
        Ok(other) => Err(unexpected("Tunlinkat", &other)),
        Err(BenchError::Refused { errno, .. })
            if errno == ninefold_proto::Errno::ENOSYS
                || errno == ninefold_proto::Errno::EOPNOTSUPP =>
        {
            const TMP: u32 = 9;
            s.walk(dirfid, TMP, &[name]).await?;
            match s.call(base::Tremove { fid: TMP }.into(), &format!("Tremove {name}")).await? {
                Message::Rremove(_) => Ok(()),
                other => Err(unexpected("Tremove", &other)),
            }
        }
        Err(e) => Err(e),
    }
}

/// Clunks a worker's fids before its connection is dropped (best effort:
/// servers clunk them on disconnect anyway, some log a complaint).
pub async fn release(mut s: Session) {
    for fid in [IO_FID, STAT_FID, DIR_FID, ROOT_FID] {
        if s.clunk(fid).await.is_err() {
            return;
        }
    }
}

/// Connects a worker and walks its fids (see the module docs).
pub async fn worker(
    target: &Target,
    msize: u32,
    who: &Attach,
    dir: &str,
) -> Result<Session, BenchError> {
    let mut s = Session::connect(target, msize).await?;
    s.attach(ROOT_FID, who).await?;
    s.walk(ROOT_FID, DIR_FID, &[dir]).await?;
    s.walk(DIR_FID, STAT_FID, &[FILE_NAME]).await?;
    s.walk(DIR_FID, IO_FID, &[FILE_NAME]).await?;
    let open = l::Tlopen { fid: IO_FID, flags: OpenFlags::RDWR };
    match s.call(open.into(), "Tlopen of the scratch file").await? {
        Message::Rlopen(_) => Ok(s),
        other => Err(unexpected("Tlopen", &other)),
    }
}
