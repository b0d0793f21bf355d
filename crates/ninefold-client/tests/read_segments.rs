//! `File::read_segments`: a span handed back as the Rread payloads, in
//! order, each a full chunk but the last, ending at the span's end or the
//! file's; a server that answers short reads still yields every byte.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use ninefold_client::proto::l::Attr;
use ninefold_client::proto::{Errno, GetattrMask, Qid, QidType};
use ninefold_client::{Client, ConnectOptions, Dialect, File, OpenOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::{Exports, Node, Request};
use support::{serve_dialects, MEMFS_ANAME};

/// Every segment of `f` at `offset` for `len`, and the stream's error if
/// it ended with one.
async fn collect(f: &File, offset: u64, len: u64) -> (Vec<Bytes>, Option<ninefold_client::Error>) {
    let mut s = f.read_segments(offset, len);
    let mut out = Vec::new();
    while let Some(seg) = s.next().await {
        match seg {
            Ok(b) => out.push(b),
            Err(e) => {
                assert!(s.next().await.is_none(), "the stream goes on after an error");
                return (out, Some(e));
            }
        }
    }
    assert!(s.next().await.is_none(), "the stream restarts after its end");
    (out, None)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i / 3 * 2_654_435_761usize) >> 9) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_the_span_in_order_in_whole_chunks() {
    for dialect in [Dialect::Z, Dialect::L] {
        let fs = MemFs::new();
        let served = serve_dialects(Exports::new().export(MEMFS_ANAME, fs.root()), &[dialect]);
        let opts = ConnectOptions::new().aname(MEMFS_ANAME).uid(0).gid(0).uname("root");
        let c = Client::connect_with(&served.target, opts.msize(64 * 1024)).await.unwrap();
        let chunk = c.capabilities().max_read_chunk as usize;
        let len = 40 * chunk + 12_345;
        let data = pattern(len);
        c.write("/f", &data).await.unwrap();
        let f = c.open("/f", OpenOptions::new().read(true)).await.unwrap();

        // The whole file, asked for exactly.
        let (segs, err) = collect(&f, 0, len as u64).await;
        assert!(err.is_none(), "{dialect:?}: {err:?}");
        assert_eq!(segs.len(), 41, "{dialect:?}");
        assert!(segs[..40].iter().all(|s| s.len() == chunk), "{dialect:?}: a short middle chunk");
        assert_eq!(segs.concat(), data, "{dialect:?}");

        // Past the end: cut at the end of the file, no empty segment.
        let (segs, err) = collect(&f, 5, len as u64 * 3).await;
        assert!(err.is_none());
        assert!(segs.iter().all(|s| !s.is_empty()));
        assert_eq!(segs.concat(), &data[5..], "{dialect:?}");

        // A span in the middle.
        let (segs, _) = collect(&f, chunk as u64 + 7, 3 * chunk as u64).await;
        assert_eq!(segs.concat(), &data[chunk + 7..4 * chunk + 7], "{dialect:?}");

        // At the end and empty spans: nothing.
        assert!(collect(&f, len as u64, 100).await.0.is_empty());
        assert!(collect(&f, 0, 0).await.0.is_empty());

        // Dropped half way: the handle keeps working (the reads in flight
        // were flushed, not left holding tags).
        let mut s = f.read_segments(0, len as u64);
        assert_eq!(s.next().await.unwrap().unwrap().len(), chunk);
        drop(s);
        assert_eq!(&f.read_at(0, 10).await.unwrap()[..], &data[..10]);

        // A closed handle: the first segment is the error, then the end.
        f.close().await.unwrap();
        let (segs, err) = collect(&f, 0, 100).await;
        assert!(segs.is_empty());
        assert!(matches!(err, Some(ninefold_client::Error::Closed)), "{err:?}");
    }
}

const SIZE: usize = 200_000;
/// Bytes per Rread, whatever was asked.
const DRIP: usize = 777;

/// A file whose server answers every Tread with at most [`DRIP`] bytes.
#[derive(Debug)]
struct Drip(Bytes);

#[async_trait]
impl Node for Drip {
    fn qid(&self) -> Qid {
        Qid { ty: QidType::FILE, version: 0, path: 2 }
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> ninefold_server::Result<Attr> {
        Ok(Attr { qid: self.qid(), mode: 0o100444, nlink: 1, size: SIZE as u64, ..Attr::default() })
    }
    async fn read(
        &self,
        _req: &Request,
        offset: u64,
        count: u32,
    ) -> ninefold_server::Result<Bytes> {
        let start = (offset as usize).min(SIZE);
        let end = start + (count as usize).min(DRIP).min(SIZE - start);
        Ok(self.0.slice(start..end))
    }
}

#[derive(Debug)]
struct Top(Arc<dyn Node>);

#[async_trait]
impl Node for Top {
    fn qid(&self) -> Qid {
        Qid { ty: QidType::DIR, version: 0, path: 1 }
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> ninefold_server::Result<Attr> {
        Ok(Attr { qid: self.qid(), mode: 0o040755, nlink: 2, ..Attr::default() })
    }
    async fn lookup(&self, _req: &Request, name: &[u8]) -> ninefold_server::Result<Arc<dyn Node>> {
        if name == b"drip" {
            Ok(self.0.clone())
        } else {
            Err(Errno::ENOENT)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_replies_are_read_on_not_taken_as_the_end() {
    let data = pattern(SIZE);
    let root: Arc<dyn Node> = Arc::new(Top(Arc::new(Drip(Bytes::from(data.clone())))));
    let served = support::serve_in_process(root);
    let c =
        Client::connect_with(&served.target, ConnectOptions::new().msize(16 * 1024)).await.unwrap();
    let f = c.open("/drip", OpenOptions::new().read(true)).await.unwrap();
    let (segs, err) = collect(&f, 0, u64::MAX / 2).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(segs.concat(), data);
    let (segs, _) = collect(&f, 1000, 50_000).await;
    assert_eq!(segs.concat(), &data[1000..51_000]);
}
