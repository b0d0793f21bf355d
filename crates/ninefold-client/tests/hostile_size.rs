//! A size the server reports is not a size the client allocates: a
//! 5-byte file whose Tgetattr says 64 GiB is read whole with a few KiB of
//! heap, buffers growing by what actually arrives.
//!
//! Every heap byte is counted (dhat's allocator), so this binary holds a
//! single test.

mod support;

use ninefold_client::{Client, ConnectOptions};
use support::fake::{FakeServer, Script, CONTENT, HUGE};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Heap bytes one `read` of the 5-byte file may allocate in all: frames,
/// futures and the result, with room to spare, and far below anything
/// sized by the reported 64 GiB.
const BUDGET: u64 = 4 << 20;

#[tokio::test]
async fn a_reported_size_of_64_gib_does_not_size_the_buffer() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let fake = FakeServer::start(Script::HugeSize).await;
    let opts = ConnectOptions::new().aname("/").msize(65536).connect_timeout_ms(Some(5000));
    let fs = Client::connect_with(&fake.target, opts).await.unwrap();
    assert_eq!(fs.metadata("/f").await.unwrap().size, HUGE);

    let before = dhat::HeapStats::get().total_bytes;
    let data = fs.read("/f").await.unwrap();
    let used = dhat::HeapStats::get().total_bytes - before;
    assert_eq!(&data[..], CONTENT);
    eprintln!("read of a 5-byte file reported as 64 GiB allocated {used} bytes");
    assert!(used < BUDGET, "read allocated {used} bytes for a 5-byte file (budget {BUDGET})");
}
