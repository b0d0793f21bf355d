//! `NativeClient`: one session, every path operation of the seed's table.

use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;
use ninefold_client::{Client, OpenOptions, SetAttrs};

use crate::cancel::run;
use crate::convert::{
    buffer, bytes_of, len_of, meta, path, u64_of, JsCapabilities, JsConnectOptions, JsDirEntry,
    JsMetadata, JsNodeKind, JsOpenOptions, JsSetAttrs, JsStatFs, PathArg, Slot,
};
use crate::dir::NativeDir;
use crate::file::NativeFile;

/// Connects to `target` (`unix:/path`, `tcp://host:port`, `host:port`,
/// `host`, or a bare socket path), with options if given.
#[napi]
pub async fn connect(
    target: String,
    opts: Option<JsConnectOptions>,
    cancel: Option<u32>,
) -> napi::Result<NativeClient> {
    let fut = async {
        match opts {
            None => Client::connect(&target).await,
            Some(o) => Client::connect_with(&target, o.into()).await,
        }
    };
    run(cancel, fut).await.map(|inner| NativeClient { slot: Slot::new(inner) })
}

/// A connected client (the facade's `Client` wraps it).
#[derive(Debug)]
#[napi]
pub struct NativeClient {
    /// `None` once closed: dropping the last clone lets the connection
    /// (or the handle's fid) go without waiting for the garbage collector.
    slot: Slot<Client>,
}

impl NativeClient {
    fn get(&self) -> napi::Result<Client> {
        self.slot.get()
    }
}

#[napi]
impl NativeClient {
    /// Negotiated session properties (synchronous).
    #[napi]
    pub fn capabilities(&self) -> napi::Result<JsCapabilities> {
        Ok(self.get()?.capabilities().into())
    }

    /// The reconnect generation (0 for the first connection).
    #[napi]
    pub fn generation(&self) -> napi::Result<u32> {
        Ok(self.get()?.generation() as u32)
    }

    /// Marks the client closed.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        match self.slot.take() {
            Some(h) => run(None, h.close()).await,
            None => Ok(()),
        }
    }

    /// The whole file.
    #[napi]
    pub async fn read(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<Buffer> {
        run(cancel, self.get()?.read(path(&p))).await.map(buffer)
    }

    /// Up to `len` bytes at `offset`.
    #[napi]
    pub async fn read_range(
        &self,
        p: PathArg,
        offset: napi::bindgen_prelude::BigInt,
        len: f64,
        cancel: Option<u32>,
    ) -> napi::Result<Buffer> {
        let (offset, len) = (u64_of(&offset, "offset")?, len_of(len)?);
        run(cancel, self.get()?.read_range(path(&p), offset, len)).await.map(buffer)
    }

    /// Creates or truncates, then writes all of `data`. The same calls as
    /// `Client::write`, but through `write_at_bytes`, so the JavaScript
    /// buffer is sent without being copied first.
    #[napi]
    pub async fn write(
        &self,
        p: PathArg,
        data: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<()> {
        let client = self.get()?;
        let data = bytes_of(data);
        let opts = OpenOptions::new().write(true).create(true).truncate(true);
        run(cancel, async move {
            let f = client.open(path(&p), opts).await?;
            f.write_at_bytes(0, data).await
        })
        .await
    }

    /// Appends; returns the offset the data landed at.
    #[napi]
    pub async fn append(
        &self,
        p: PathArg,
        data: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<u64> {
        run(cancel, self.get()?.append(path(&p), bytes_of(data))).await
    }

    /// lstat.
    #[napi]
    pub async fn stat(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.stat(path(&p))).await.map(meta)
    }

    /// stat (follows symlinks).
    #[napi]
    pub async fn metadata(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.metadata(path(&p))).await.map(meta)
    }

    /// Every symlink resolved.
    #[napi]
    pub async fn canonicalize(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<Buffer> {
        run(cancel, self.get()?.canonicalize(path(&p))).await.map(buffer)
    }

    /// Whether anything is at the path.
    #[napi]
    pub async fn exists(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<bool> {
        run(cancel, self.get()?.exists(path(&p))).await
    }

    /// Any combination of metadata changes.
    #[napi]
    pub async fn set_attr(
        &self,
        p: PathArg,
        attrs: JsSetAttrs,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let attrs = SetAttrs::try_from(attrs)?;
        run(cancel, self.get()?.set_attr(path(&p), attrs)).await.map(meta)
    }

    /// Permission bits.
    #[napi]
    pub async fn chmod(
        &self,
        p: PathArg,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.chmod(path(&p), mode)).await.map(meta)
    }

    /// Owner and/or group.
    #[napi]
    pub async fn chown(
        &self,
        p: PathArg,
        uid: Option<u32>,
        gid: Option<u32>,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.chown(path(&p), uid, gid)).await.map(meta)
    }

    /// Truncate or extend.
    #[napi]
    pub async fn truncate(
        &self,
        p: PathArg,
        size: napi::bindgen_prelude::BigInt,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let size = u64_of(&size, "size")?;
        run(cancel, self.get()?.truncate(path(&p), size)).await.map(meta)
    }

    /// Access and/or modification time (the `atime*`/`mtime*` fields).
    #[napi]
    pub async fn set_times(
        &self,
        p: PathArg,
        times: JsSetAttrs,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let t = SetAttrs::try_from(times)?;
        run(cancel, self.get()?.set_times(path(&p), t.atime, t.mtime)).await.map(meta)
    }

    /// Filesystem usage.
    #[napi]
    pub async fn statfs(&self, cancel: Option<u32>) -> napi::Result<JsStatFs> {
        run(cancel, self.get()?.statfs()).await.map(Into::into)
    }

    /// Flush to durable storage.
    #[napi]
    pub async fn sync(&self, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.sync()).await
    }

    /// mkdir.
    #[napi]
    pub async fn create_dir(
        &self,
        p: PathArg,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.create_dir(path(&p), mode)).await.map(meta)
    }

    /// mkdir -p.
    #[napi]
    pub async fn create_dir_all(
        &self,
        p: PathArg,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<()> {
        run(cancel, self.get()?.create_dir_all(path(&p), mode)).await
    }

    /// unlink.
    #[napi]
    pub async fn remove_file(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.remove_file(path(&p))).await
    }

    /// rmdir.
    #[napi]
    pub async fn remove_dir(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.remove_dir(path(&p))).await
    }

    /// rm -r.
    #[napi]
    pub async fn remove_dir_all(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.remove_dir_all(path(&p))).await
    }

    /// rename.
    #[napi]
    pub async fn rename(
        &self,
        from: PathArg,
        to: PathArg,
        cancel: Option<u32>,
    ) -> napi::Result<()> {
        run(cancel, self.get()?.rename(path(&from), path(&to))).await
    }

    /// link.
    #[napi]
    pub async fn hard_link(
        &self,
        original: PathArg,
        link: PathArg,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.hard_link(path(&original), path(&link))).await.map(meta)
    }

    /// symlink; `target` is stored verbatim.
    #[napi]
    pub async fn symlink(
        &self,
        target: PathArg,
        link_path: PathArg,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.symlink(path(&target), path(&link_path))).await.map(meta)
    }

    /// readlink (raw bytes).
    #[napi]
    pub async fn read_link(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<Buffer> {
        run(cancel, self.get()?.read_link(path(&p))).await.map(buffer)
    }

    /// mknod.
    #[napi]
    pub async fn mknod(
        &self,
        p: PathArg,
        kind: JsNodeKind,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let kind = kind.try_into()?;
        run(cancel, self.get()?.mknod(path(&p), kind, mode)).await.map(meta)
    }

    /// The whole directory.
    #[napi]
    pub async fn read_dir(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<Vec<JsDirEntry>> {
        let v = run(cancel, self.get()?.read_dir(path(&p))).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    /// A directory cursor.
    #[napi]
    pub async fn open_dir(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<NativeDir> {
        let client = self.get()?;
        let chunk = client.capabilities().max_read_chunk;
        run(cancel, client.open_dir(path(&p))).await.map(|d| NativeDir::new(d, chunk))
    }

    /// Open a file.
    #[napi]
    pub async fn open(
        &self,
        p: PathArg,
        opts: JsOpenOptions,
        cancel: Option<u32>,
    ) -> napi::Result<NativeFile> {
        let client = self.get()?;
        let chunk = client.capabilities().max_read_chunk;
        run(cancel, client.open(path(&p), opts.into())).await.map(|f| NativeFile::new(f, chunk))
    }

    /// Create (read-write, truncate, 0o644).
    #[napi]
    pub async fn create(&self, p: PathArg, cancel: Option<u32>) -> napi::Result<NativeFile> {
        let client = self.get()?;
        let chunk = client.capabilities().max_read_chunk;
        run(cancel, client.create(path(&p))).await.map(|f| NativeFile::new(f, chunk))
    }
}
