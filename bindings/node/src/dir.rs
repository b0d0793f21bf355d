//! `NativeDir`: a listing cursor and openat-style child operations.

use napi::bindgen_prelude::{Buffer, PromiseRaw, Uint8Array};
use napi::Env;
use napi_derive::napi;
use ninefold_client::{Dir, SetAttrs};

use crate::cancel::run;
use crate::convert::{
    buffer, len_of, meta, JsDirEntry, JsMetadata, JsNodeKind, JsOpenOptions, JsSetAttrs, Slot,
};
use crate::file::NativeFile;

/// An open directory (the facade's `Dir` wraps it).
#[derive(Debug)]
#[napi]
pub struct NativeDir {
    /// `None` once closed: dropping the last clone lets the connection
    /// (or the handle's fid) go without waiting for the garbage collector.
    slot: Slot<Dir>,
    /// Bytes per Tread of the session (for the files it opens).
    chunk: u32,
}

impl NativeDir {
    pub(crate) fn new(inner: Dir, chunk: u32) -> NativeDir {
        NativeDir { slot: Slot::new(inner), chunk }
    }
}

impl NativeDir {
    fn get(&self) -> napi::Result<Dir> {
        self.slot.get()
    }
}

#[napi]
impl NativeDir {
    /// The next entries in directory order; empty at the end.
    #[napi]
    pub async fn next_batch(
        &self,
        max: Option<f64>,
        cancel: Option<u32>,
    ) -> napi::Result<Vec<JsDirEntry>> {
        let max = max.map(len_of).transpose()?;
        let v = run(cancel, self.get()?.next_batch(max)).await?;
        Ok(v.into_iter().map(Into::into).collect())
    }

    /// Restart the listing.
    #[napi]
    pub async fn rewind(&self, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.rewind()).await
    }

    /// Of the directory itself.
    #[napi]
    pub async fn metadata(&self, cancel: Option<u32>) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.metadata()).await.map(meta)
    }

    /// Of the directory itself.
    #[napi]
    pub async fn set_attr(
        &self,
        attrs: JsSetAttrs,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let attrs = SetAttrs::try_from(attrs)?;
        run(cancel, self.get()?.set_attr(attrs)).await.map(meta)
    }

    /// openat(2).
    #[napi]
    pub async fn open_at(
        &self,
        name: Uint8Array,
        opts: JsOpenOptions,
        cancel: Option<u32>,
    ) -> napi::Result<NativeFile> {
        let chunk = self.chunk;
        run(cancel, self.get()?.open_at(&*name, opts.into()))
            .await
            .map(|f| NativeFile::new(f, chunk))
    }

    /// Descend into a child directory.
    #[napi]
    pub async fn open_dir_at(
        &self,
        name: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<NativeDir> {
        let chunk = self.chunk;
        run(cancel, self.get()?.open_dir_at(&*name)).await.map(|d| NativeDir::new(d, chunk))
    }

    /// fstatat(2), never following symlinks.
    #[napi]
    pub async fn metadata_at(
        &self,
        name: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.metadata_at(&*name)).await.map(meta)
    }

    /// Change a child without opening it.
    #[napi]
    pub async fn set_attr_at(
        &self,
        name: Uint8Array,
        attrs: JsSetAttrs,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let attrs = SetAttrs::try_from(attrs)?;
        run(cancel, self.get()?.set_attr_at(&*name, attrs)).await.map(meta)
    }

    /// mkdirat(2).
    #[napi]
    pub async fn create_dir_at(
        &self,
        name: Uint8Array,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.create_dir_at(&*name, mode)).await.map(meta)
    }

    /// symlinkat(2); `target` verbatim.
    #[napi]
    pub async fn symlink_at(
        &self,
        name: Uint8Array,
        target: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.symlink_at(&*name, &*target)).await.map(meta)
    }

    /// linkat(2): `new_name` here for `original_name` in `original_dir`.
    #[napi(ts_return_type = "Promise<JsMetadata>")]
    pub fn link_at<'env>(
        &self,
        env: &'env Env,
        original_dir: &NativeDir,
        original_name: Uint8Array,
        new_name: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, JsMetadata>> {
        let (this, other) = (self.get()?, original_dir.get()?);
        env.spawn_future(async move {
            let r = run(cancel, this.link_at(&other, &*original_name, &*new_name)).await;
            r.map(meta)
        })
    }

    /// mknodat(2).
    #[napi]
    pub async fn mknod_at(
        &self,
        name: Uint8Array,
        kind: JsNodeKind,
        mode: u32,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let kind = kind.try_into()?;
        run(cancel, self.get()?.mknod_at(&*name, kind, mode)).await.map(meta)
    }

    /// unlinkat(2).
    #[napi]
    pub async fn remove_file_at(&self, name: Uint8Array, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.remove_file_at(&*name)).await
    }

    /// unlinkat(2) with AT_REMOVEDIR.
    #[napi]
    pub async fn remove_dir_at(&self, name: Uint8Array, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.remove_dir_at(&*name)).await
    }

    /// renameat(2).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn rename_at<'env>(
        &self,
        env: &'env Env,
        old_name: Uint8Array,
        new_dir: &NativeDir,
        new_name: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let (this, other) = (self.get()?, new_dir.get()?);
        env.spawn_future(async move {
            run(cancel, this.rename_at(&*old_name, &other, &*new_name)).await
        })
    }

    /// readlinkat(2).
    #[napi]
    pub async fn read_link_at(
        &self,
        name: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<Buffer> {
        run(cancel, self.get()?.read_link_at(&*name)).await.map(buffer)
    }

    /// Closes the handle (idempotent, never waits).
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        match self.slot.take() {
            Some(h) => run(None, h.close()).await,
            None => Ok(()),
        }
    }
}
