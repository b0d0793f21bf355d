//! A `.Z` write of more chunks than an op id's old 24-bit sequence field
//! held: each chunk must reach the server as its own mutation. Before the
//! fix chunk 4096 reused chunk 0's op id, the server's exactly-once ledger
//! answered it with chunk 0's outcome, and its bytes were never written.

mod support;

use ninefold_client::{Client, ConnectOptions, Dialect, OpenOptions};
use ninefold_fs::memfs::MemFs;
use ninefold_server::Exports;
use support::{serve_dialects, MEMFS_ANAME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chunk_of_a_write_past_4096_chunks_lands() {
    let fs = MemFs::new();
    let served = serve_dialects(Exports::new().export(MEMFS_ANAME, fs.root()), &[Dialect::Z]);
    // The smallest msize makes chunks of a few KiB, so 4,200 of them fit
    // in a small test.
    let opts = ConnectOptions::new().aname(MEMFS_ANAME).uid(0).gid(0).uname("root").msize(4096);
    let c = Client::connect_with(&served.target, opts).await.unwrap();
    assert_eq!(c.capabilities().dialect, Dialect::Z);
    let f = c.open("/big", OpenOptions::new().read(true).write(true).create(true)).await.unwrap();
    // A Twrite carries less than msize, so this is over 4,200 chunks.
    let len = 4096 * 4200 + 17;
    // Every 4-byte word differs, so a chunk written with another's bytes
    // (or not at all) shows.
    let data: Vec<u8> = (0..len).map(|i| ((i / 4 * 2_654_435_761usize) >> 7) as u8).collect();
    f.write_at(0, &data).await.unwrap();
    let back = c.read("/big").await.unwrap();
    assert_eq!(back.len(), data.len());
    if let Some(i) = back.iter().zip(&data).position(|(a, b)| a != b) {
        panic!("byte {i} of {len} differs");
    }
}
