//! `NativeFile`: positioned I/O on an open file.

use napi::bindgen_prelude::{BigInt, Buffer, Uint8Array};
use napi_derive::napi;
use ninefold_client::{File, SetAttrs};

use crate::cancel::run;
use crate::convert::{buffer, bytes_of, len_of, meta, u64_of, JsMetadata, JsSetAttrs, Slot};

/// An open file (the facade's `File` wraps it).
#[derive(Debug)]
#[napi]
pub struct NativeFile {
    /// `None` once closed: dropping the last clone lets the connection
    /// (or the handle's fid) go without waiting for the garbage collector.
    slot: Slot<File>,
    /// Bytes per Tread (the session's `max_read_chunk`).
    chunk: usize,
}

impl NativeFile {
    pub(crate) fn new(inner: File, chunk: u32) -> NativeFile {
        NativeFile { slot: Slot::new(inner), chunk: chunk as usize }
    }
}

impl NativeFile {
    fn get(&self) -> napi::Result<File> {
        self.slot.get()
    }
}

#[napi]
impl NativeFile {
    /// Bytes per Tread of the session (the default chunk of `readable()`).
    #[napi]
    pub fn read_chunk(&self) -> u32 {
        self.chunk as u32
    }

    /// Up to `len` bytes at `offset`; short means end of file.
    #[napi]
    pub async fn read_at(
        &self,
        offset: BigInt,
        len: f64,
        cancel: Option<u32>,
    ) -> napi::Result<Buffer> {
        let (offset, len) = (u64_of(&offset, "offset")?, len_of(len)?);
        run(cancel, self.get()?.read_at(offset, len)).await.map(buffer)
    }

    /// Up to `buf.length` bytes at `offset` into `buf`; returns how many
    /// (fewer means end of file). `buf` must not be touched until the call
    /// settles.
    #[napi]
    pub async fn read_into(
        &self,
        offset: BigInt,
        mut buf: Buffer,
        cancel: Option<u32>,
    ) -> napi::Result<f64> {
        let offset = u64_of(&offset, "offset")?;
        let file = self.get()?;
        run(cancel, async move { file.read_into(offset, &mut buf).await }).await.map(|n| n as f64)
    }

    /// All of `data` at `offset` (the buffer is sent without a copy).
    #[napi]
    pub async fn write_at(
        &self,
        offset: BigInt,
        data: Uint8Array,
        cancel: Option<u32>,
    ) -> napi::Result<()> {
        let offset = u64_of(&offset, "offset")?;
        run(cancel, self.get()?.write_at_bytes(offset, bytes_of(data))).await
    }

    /// fstat.
    #[napi]
    pub async fn metadata(&self, cancel: Option<u32>) -> napi::Result<JsMetadata> {
        run(cancel, self.get()?.metadata()).await.map(meta)
    }

    /// Truncate or extend.
    #[napi]
    pub async fn set_len(&self, size: BigInt, cancel: Option<u32>) -> napi::Result<()> {
        let size = u64_of(&size, "size")?;
        run(cancel, self.get()?.set_len(size)).await
    }

    /// Metadata changes through the handle.
    #[napi]
    pub async fn set_attr(
        &self,
        attrs: JsSetAttrs,
        cancel: Option<u32>,
    ) -> napi::Result<JsMetadata> {
        let attrs = SetAttrs::try_from(attrs)?;
        run(cancel, self.get()?.set_attr(attrs)).await.map(meta)
    }

    /// Data and metadata to stable storage.
    #[napi]
    pub async fn sync_all(&self, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.sync_all()).await
    }

    /// Data to stable storage.
    #[napi]
    pub async fn sync_data(&self, cancel: Option<u32>) -> napi::Result<()> {
        run(cancel, self.get()?.sync_data()).await
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
