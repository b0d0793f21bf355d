//! A negotiated, attached connection with typed 9P2000.L helpers.
//!
//! Every helper expects success and fails the case with a message naming
//! the operation otherwise; cases that expect an error build the request
//! themselves and look at the reply with [`expect_err`](crate::expect::expect_err).

use bytes::Bytes;
use ninefold_proto::base::{Tattach, Tclunk, Tread, Twalk, Twrite};
use ninefold_proto::l::{
    Attr, Dirent, SetAttr, Tgetattr, Tlcreate, Tlopen, Tmkdir, Treaddir, Tsetattr, Tunlinkat,
};
use ninefold_proto::{
    Dialect, Errno, GetattrMask, Message, OpenFlags, P9String, Qid, UnlinkatFlags, NOFID,
};

use crate::config::Config;
use crate::conn::RawConn;
use crate::expect::{describe, expect_msg, fail, Stop, R};
use crate::target::Target;

/// Credentials used for an attach.
#[derive(Debug, Clone)]
pub(crate) struct Creds {
    pub(crate) uname: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// A connection after Tversion and Tattach.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) c: RawConn,
    pub(crate) root: u32,
    pub(crate) root_qid: Qid,
    pub(crate) gid: u32,
    next_fid: u32,
}

/// Connects and negotiates `dialect`, failing unless the server agrees.
pub(crate) async fn connect_versioned(
    target: &dyn Target,
    cfg: &Config,
    dialect: Dialect,
) -> R<RawConn> {
    let io = target.connect().await.map_err(|e| Stop::Fail(format!("connect: {e}")))?;
    let mut c = RawConn::new(io, cfg.msize, cfg.reply_timeout);
    let reply = c.version(cfg.msize, dialect.version()).await.map_err(Stop::from)?;
    let r = expect_msg!(reply, Rversion).map_err(|s| s.context("Tversion"))?;
    if r.version.as_bytes() != dialect.version().as_bytes() {
        return fail(format!(
            "Tversion {:?}: server answered {:?}",
            dialect.version(),
            r.version.to_string_lossy()
        ));
    }
    Ok(c)
}

impl Session {
    /// Connects, negotiates `dialect` and attaches `aname` as `creds`.
    pub(crate) async fn open(
        target: &dyn Target,
        cfg: &Config,
        dialect: Dialect,
        aname: &str,
        creds: &Creds,
    ) -> R<Session> {
        let mut c = connect_versioned(target, cfg, dialect).await?;
        let root = 1;
        let reply = c
            .rpc(Tattach {
                fid: root,
                afid: NOFID,
                uname: creds.uname.as_str().into(),
                aname: aname.into(),
                n_uname: creds.uid,
            })
            .await?;
        let r = expect_msg!(reply, Rattach).map_err(|s| s.context("Tattach"))?;
        Ok(Session { c, root, root_qid: r.qid, gid: creds.gid, next_fid: 100 })
    }

    /// A fid number not used before on this session.
    pub(crate) fn fid(&mut self) -> u32 {
        self.next_fid += 1;
        self.next_fid
    }

    /// Sends `msg` and returns the reply, whatever it is.
    pub(crate) async fn rpc(&mut self, msg: impl Into<Message>) -> R<Message> {
        Ok(self.c.rpc(msg).await?)
    }

    pub(crate) fn msize(&self) -> u32 {
        self.c.msize()
    }

    /// Walks `names` from `fid` into a new fid; the whole walk must succeed.
    pub(crate) async fn walk(&mut self, fid: u32, names: &[&str]) -> R<u32> {
        let newfid = self.fid();
        let reply = self.rpc(twalk(fid, newfid, names)).await?;
        let what = || format!("Twalk {names:?}");
        let r = expect_msg!(reply, Rwalk).map_err(|s| s.context(&what()))?;
        if r.wqids.len() != names.len() {
            return fail(format!(
                "{}: only {} of {} names walked",
                what(),
                r.wqids.len(),
                names.len()
            ));
        }
        Ok(newfid)
    }

    /// Walks and returns the qids too.
    pub(crate) async fn walk_qids(&mut self, fid: u32, names: &[&str]) -> R<(u32, Vec<Qid>)> {
        let newfid = self.fid();
        let reply = self.rpc(twalk(fid, newfid, names)).await?;
        let r = expect_msg!(reply, Rwalk).map_err(|s| s.context(&format!("Twalk {names:?}")))?;
        if r.wqids.len() != names.len() {
            return fail(format!("Twalk {names:?}: only {} names walked", r.wqids.len()));
        }
        Ok((newfid, r.wqids))
    }

    /// A clone of `fid` (nwname 0).
    pub(crate) async fn clone_fid(&mut self, fid: u32) -> R<u32> {
        self.walk(fid, &[]).await
    }

    /// Clunks `fid`, expecting Rclunk.
    pub(crate) async fn clunk(&mut self, fid: u32) -> R<()> {
        let reply = self.rpc(Tclunk { fid }).await?;
        expect_msg!(reply, Rclunk).map_err(|s| s.context("Tclunk"))?;
        Ok(())
    }

    /// Tlopen `fid` with `flags`.
    pub(crate) async fn lopen(
        &mut self,
        fid: u32,
        flags: OpenFlags,
    ) -> R<ninefold_proto::l::Rlopen> {
        let reply = self.rpc(Tlopen { fid, flags }).await?;
        expect_msg!(reply, Rlopen).map_err(|s| s.context(&format!("Tlopen {flags:?}")))
    }

    /// Walks `dir/name` and opens it with `flags`; returns the open fid.
    pub(crate) async fn open_at(&mut self, dir: u32, name: &str, flags: OpenFlags) -> R<u32> {
        let fid = self.walk(dir, &[name]).await?;
        self.lopen(fid, flags).await?;
        Ok(fid)
    }

    /// Creates `dir/name` (Tlcreate on a clone of `dir`); returns the open
    /// fid and the new file's qid.
    pub(crate) async fn create(
        &mut self,
        dir: u32,
        name: &str,
        flags: OpenFlags,
        mode: u32,
    ) -> R<(u32, Qid)> {
        let fid = self.clone_fid(dir).await?;
        let reply =
            self.rpc(Tlcreate { fid, name: name.into(), flags, mode, gid: self.gid }).await?;
        let r =
            expect_msg!(reply, Rlcreate).map_err(|s| s.context(&format!("Tlcreate {name:?}")))?;
        Ok((fid, r.qid))
    }

    /// Creates `dir/name` with mode 0644 holding `data`.
    pub(crate) async fn mkfile(&mut self, dir: u32, name: &str, data: &[u8]) -> R<Qid> {
        let (fid, qid) = self.create(dir, name, OpenFlags::RDWR, 0o644).await?;
        if !data.is_empty() {
            self.write_all(fid, 0, data).await?;
        }
        self.clunk(fid).await?;
        Ok(qid)
    }

    /// Tmkdir `dir/name`.
    pub(crate) async fn mkdir(&mut self, dir: u32, name: &str, mode: u32) -> R<Qid> {
        let reply = self.rpc(Tmkdir { dfid: dir, name: name.into(), mode, gid: self.gid }).await?;
        let r = expect_msg!(reply, Rmkdir).map_err(|s| s.context(&format!("Tmkdir {name:?}")))?;
        Ok(r.qid)
    }

    /// One Twrite; returns the count written.
    pub(crate) async fn write(&mut self, fid: u32, offset: u64, data: &[u8]) -> R<u32> {
        let reply = self.rpc(Twrite { fid, offset, data: Bytes::copy_from_slice(data) }).await?;
        let r = expect_msg!(reply, Rwrite).map_err(|s| s.context("Twrite"))?;
        if r.count as usize > data.len() {
            return fail(format!(
                "Rwrite count {} larger than the {} bytes sent",
                r.count,
                data.len()
            ));
        }
        Ok(r.count)
    }

    /// Writes all of `data` at `offset`, in msize-sized pieces.
    pub(crate) async fn write_all(&mut self, fid: u32, offset: u64, data: &[u8]) -> R<()> {
        let dialect = self.c.dialect();
        let chunk = ninefold_proto::sizes::max_write_payload(self.msize(), dialect).max(1) as usize;
        let mut done = 0;
        while done < data.len() {
            let end = (done + chunk).min(data.len());
            let n = self.write(fid, offset + done as u64, &data[done..end]).await?;
            if n == 0 {
                return fail("Rwrite count 0 for a non-empty write");
            }
            done += n as usize;
        }
        Ok(())
    }

    /// One Tread.
    pub(crate) async fn read(&mut self, fid: u32, offset: u64, count: u32) -> R<Bytes> {
        let reply = self.rpc(Tread { fid, offset, count }).await?;
        let r = expect_msg!(reply, Rread).map_err(|s| s.context("Tread"))?;
        if r.data.len() > count as usize {
            return fail(format!("Rread returned {} bytes for count {count}", r.data.len()));
        }
        Ok(r.data)
    }

    /// Reads an open fid from offset 0 to EOF.
    pub(crate) async fn read_all(&mut self, fid: u32) -> R<Vec<u8>> {
        let chunk = self.msize() - 24;
        let mut out = Vec::new();
        loop {
            let d = self.read(fid, out.len() as u64, chunk).await?;
            if d.is_empty() {
                return Ok(out);
            }
            out.extend_from_slice(&d);
            if out.len() > 64 << 20 {
                return fail("file keeps growing past 64 MiB while reading");
            }
        }
    }

    /// The contents of `dir/name`.
    pub(crate) async fn read_file(&mut self, dir: u32, name: &str) -> R<Vec<u8>> {
        let fid = self.open_at(dir, name, OpenFlags::RDONLY).await?;
        let data = self.read_all(fid).await?;
        self.clunk(fid).await?;
        Ok(data)
    }

    /// Tgetattr with mask ALL.
    pub(crate) async fn getattr(&mut self, fid: u32) -> R<Attr> {
        Ok(self.getattr_mask(fid, GetattrMask::ALL).await?.1)
    }

    /// Tgetattr with `mask`; returns (valid, attr).
    pub(crate) async fn getattr_mask(
        &mut self,
        fid: u32,
        mask: GetattrMask,
    ) -> R<(GetattrMask, Attr)> {
        let reply = self.rpc(Tgetattr { fid, request_mask: mask }).await?;
        let r = expect_msg!(reply, Rgetattr).map_err(|s| s.context("Tgetattr"))?;
        Ok((r.valid, r.attr))
    }

    /// Attributes of `dir/name` (walk, getattr, clunk).
    pub(crate) async fn stat_at(&mut self, dir: u32, name: &str) -> R<Attr> {
        let fid = self.walk(dir, &[name]).await?;
        let a = self.getattr(fid).await?;
        self.clunk(fid).await?;
        Ok(a)
    }

    /// Tsetattr, expecting success.
    pub(crate) async fn setattr(&mut self, fid: u32, attr: SetAttr) -> R<()> {
        let valid = attr.valid;
        let reply = self.rpc(Tsetattr { fid, attr }).await?;
        expect_msg!(reply, Rsetattr).map_err(|s| s.context(&format!("Tsetattr {valid:?}")))?;
        Ok(())
    }

    /// Reads a whole listing from an opened directory fid with `count`,
    /// checking cookies advance.
    pub(crate) async fn readdir_all(&mut self, fid: u32, count: u32) -> R<Vec<Dirent>> {
        self.readdir_all_from(fid, 0, count).await
    }

    /// Reads the rest of a listing starting at cookie `offset`.
    pub(crate) async fn readdir_all_from(
        &mut self,
        fid: u32,
        offset: u64,
        count: u32,
    ) -> R<Vec<Dirent>> {
        let mut out: Vec<Dirent> = Vec::new();
        let mut offset = offset;
        for _ in 0..100_000 {
            let page = self.readdir(fid, offset, count).await?;
            let Some(last) = page.last() else { return Ok(out) };
            if last.offset == offset {
                return fail(format!("readdir cookie did not advance (stuck at {offset})"));
            }
            offset = last.offset;
            out.extend(page);
        }
        fail("readdir never reached the end")
    }

    /// One Treaddir.
    pub(crate) async fn readdir(&mut self, fid: u32, offset: u64, count: u32) -> R<Vec<Dirent>> {
        let reply = self.rpc(Treaddir { fid, offset, count }).await?;
        let r = expect_msg!(reply, Rreaddir).map_err(|s| s.context("Treaddir"))?;
        if r.data.len() > count as usize {
            return fail(format!("Rreaddir returned {} bytes for count {count}", r.data.len()));
        }
        Ok(r.data.iter().collect())
    }

    /// The listing of `dir` (clone, open, read, clunk), including `.`/`..`.
    pub(crate) async fn list(&mut self, dir: u32) -> R<Vec<Dirent>> {
        let fid = self.clone_fid(dir).await?;
        self.lopen(fid, OpenFlags::RDONLY).await?;
        let count = self.msize() - 24;
        let out = self.readdir_all(fid, count).await?;
        self.clunk(fid).await?;
        Ok(out)
    }

    /// The names in `dir` other than `.` and `..`, sorted.
    pub(crate) async fn names(&mut self, dir: u32) -> R<Vec<String>> {
        let mut v: Vec<String> = self
            .list(dir)
            .await?
            .into_iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        v.sort();
        Ok(v)
    }

    /// Tunlinkat, expecting success; falls back to walk + Tremove when the
    /// server answers EOPNOTSUPP, as the Linux client does.
    pub(crate) async fn unlink(&mut self, dir: u32, name: &str, flags: UnlinkatFlags) -> R<()> {
        let reply = self.rpc(Tunlinkat { dirfid: dir, name: name.into(), flags }).await?;
        if let Message::Rlerror(e) = &reply {
            if e.ecode == Errno::EOPNOTSUPP {
                let f = self.walk(dir, &[name]).await?;
                let reply = self.rpc(ninefold_proto::base::Tremove { fid: f }).await?;
                expect_msg!(reply, Rremove).map_err(|s| s.context(&format!("Tremove {name:?}")))?;
                return Ok(());
            }
        }
        expect_msg!(reply, Runlinkat).map_err(|s| s.context(&format!("Tunlinkat {name:?}")))?;
        Ok(())
    }

    /// Does `dir/name` exist? (A one-name walk: Rwalk yes, ENOENT no.)
    pub(crate) async fn exists(&mut self, dir: u32, name: &str) -> R<bool> {
        let newfid = self.fid();
        match self.rpc(twalk(dir, newfid, &[name])).await? {
            Message::Rwalk(r) if r.wqids.len() == 1 => {
                self.clunk(newfid).await?;
                Ok(true)
            }
            Message::Rlerror(e) if e.ecode == Errno::ENOENT => Ok(false),
            other => {
                fail(format!("walk {name:?}: expected Rwalk or ENOENT, got {}", describe(&other)))
            }
        }
    }
}

/// A Twalk message.
pub(crate) fn twalk(fid: u32, newfid: u32, names: &[&str]) -> Twalk {
    Twalk { fid, newfid, wnames: names.iter().map(|n| P9String::from(*n)).collect() }
}
