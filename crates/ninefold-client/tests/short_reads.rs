//! A server may answer Tread with fewer bytes than asked before the end of
//! file (a proxy with a smaller msize, a synthetic file). The client must
//! read on, and take only an empty Rread as the end of file.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_client::proto::l::Attr;
use ninefold_client::proto::{Errno, GetattrMask, Qid, QidType};
use ninefold_client::{ConnectOptions, OpenOptions};
use ninefold_server::{Node, Request, Result};

const SIZE: usize = 300_000;
/// Bytes per Rread, whatever was asked.
const DRIP: usize = 1000;

fn content() -> Vec<u8> {
    (0..SIZE).map(|i| (i % 241) as u8).collect()
}

#[derive(Debug)]
struct Dripping(Bytes);

#[async_trait]
impl Node for Dripping {
    fn qid(&self) -> Qid {
        Qid { ty: QidType::FILE, version: 0, path: 2 }
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr { qid: self.qid(), mode: 0o100444, nlink: 1, size: SIZE as u64, ..Attr::default() })
    }
    async fn read(&self, _req: &Request, offset: u64, count: u32) -> Result<Bytes> {
        let start = (offset as usize).min(SIZE);
        let end = start + (count as usize).min(DRIP).min(SIZE - start);
        Ok(self.0.slice(start..end))
    }
}

#[derive(Debug)]
struct Root(Arc<dyn Node>);

#[async_trait]
impl Node for Root {
    fn qid(&self) -> Qid {
        Qid { ty: QidType::DIR, version: 0, path: 1 }
    }
    async fn getattr(&self, _req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr { qid: self.qid(), mode: 0o040755, nlink: 2, ..Attr::default() })
    }
    async fn lookup(&self, _req: &Request, name: &[u8]) -> Result<Arc<dyn Node>> {
        if name == b"drip" {
            Ok(self.0.clone())
        } else {
            Err(Errno::ENOENT)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_reads_are_not_end_of_file() {
    let want = content();
    let root: Arc<dyn Node> = Arc::new(Root(Arc::new(Dripping(Bytes::from(want.clone())))));
    let served = support::serve_in_process(root);
    let fs = ninefold_client::Client::connect_with(
        &served.target,
        ConnectOptions::new().msize(64 * 1024),
    )
    .await
    .unwrap();
    // whole file: many pipelined chunks, each answered short
    assert_eq!(&fs.read("/drip").await.unwrap()[..], &want[..]);
    // one chunk, answered short
    let f = fs.open("/drip", OpenOptions::new().read(true)).await.unwrap();
    assert_eq!(&f.read_at(500, 5000).await.unwrap()[..], &want[500..5500]);
    // ranges crossing the end are still cut there
    assert_eq!(&f.read_at(SIZE as u64 - 1500, 100_000).await.unwrap()[..], &want[SIZE - 1500..]);
    assert!(f.read_at(SIZE as u64, 10).await.unwrap().is_empty());
    assert_eq!(&fs.read_range("/drip", 7, 200_000).await.unwrap()[..], &want[7..200_007]);
}
