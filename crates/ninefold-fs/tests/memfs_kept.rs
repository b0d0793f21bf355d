//! memfs keeps a received frame's payload as a file chunk instead of
//! copying it (`Content::write_shared`, `ninefold_server::bufpool::FRAMES`)
//! when a write replaces a whole 1 MiB chunk or the file's last chunk. These
//! tests make payloads the way the server receives a large Twrite (a frame
//! buffer from `FRAMES`, the data 23 bytes into the frame) and check that
//! the bytes read back are the bytes written, that a kept chunk is never
//! written in place (partial overwrites, truncation and zeroing copy it),
//! that replies holding old bytes keep them, that the capacity limit still
//! holds, and that a kept buffer goes back to the pool once the file lets
//! go of it.

mod memfs_util;

use bytes::Bytes;
use memfs_util::*;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::{Errno, FallocateMode, SetattrMask};
use ninefold_server::bufpool::FRAMES;
use ninefold_server::Node;

/// memfs's chunk size.
const CHUNK: usize = 1 << 20;

/// The tests share the process-wide pool and one looks at its state:
/// they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed ^ (i >> 12) as u8)).collect()
}

/// `data` as the server would hand it over from a received Twrite frame:
/// a slice of a frozen `FRAMES` buffer, after a 23-byte header.
fn frame_payload(data: &[u8]) -> Bytes {
    let mut buf = FRAMES.take(23 + data.len(), 23);
    buf.extend_from_slice(&[0xee; 23]);
    buf.extend_from_slice(data);
    let frame = buf.freeze();
    assert!(FRAMES.lends(&frame), "a frame payload is lent by FRAMES");
    frame.slice(23..)
}

async fn write_bytes(f: &std::sync::Arc<dyn Node>, offset: u64, data: Bytes) -> u32 {
    f.write(&su(), offset, data).await.unwrap()
}

async fn read_at(f: &std::sync::Arc<dyn Node>, offset: u64, count: u32) -> Bytes {
    f.read(&su(), offset, count).await.unwrap()
}

#[tokio::test]
async fn whole_chunks_are_kept_and_read_back_byte_for_byte() {
    let _serial = SERIAL.lock().await;
    let fs = fs();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    let mut expect = Vec::new();
    for i in 0..3u8 {
        let data = pattern(CHUNK, i + 1);
        let payload = frame_payload(&data);
        assert_eq!(
            write_bytes(&f, u64::from(i) * CHUNK as u64, payload.clone()).await,
            CHUNK as u32
        );
        // The chunk is the payload itself: a read within it shares its memory.
        let back = read_at(&f, u64::from(i) * CHUNK as u64, CHUNK as u32).await;
        assert_eq!(back.as_ptr(), payload.as_ptr(), "chunk {i} kept without a copy");
        expect.extend_from_slice(&data);
    }
    assert_eq!(read_all(&f).await, expect);
    assert_eq!(fs.bytes_used(), 3 * CHUNK as u64);
    // Reads across chunk boundaries too.
    let mid = read_at(&f, CHUNK as u64 - 100, 200).await;
    assert_eq!(&mid[..], &expect[CHUNK - 100..CHUNK + 100]);
}

#[tokio::test]
async fn a_payload_not_received_into_a_frame_buffer_is_copied() {
    let _serial = SERIAL.lock().await;
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let data = Bytes::from(pattern(CHUNK, 9));
    write_bytes(&f, 0, data.clone()).await;
    let back = read_at(&f, 0, CHUNK as u32).await;
    assert_ne!(back.as_ptr(), data.as_ptr(), "an ordinary buffer is never kept");
    assert_eq!(back, data);
    // Nor is a frame payload that covers only part of a chunk.
    let part = frame_payload(&pattern(CHUNK - 4096, 3));
    write_bytes(&f, 4096, part.clone()).await;
    let back = read_at(&f, 4096, (CHUNK - 4096) as u32).await;
    assert_ne!(back.as_ptr(), part.as_ptr());
    assert_eq!(back, part);
    assert_eq!(&read_at(&f, 0, 4096).await[..], &data[..4096]);
}

#[tokio::test]
async fn partial_overwrites_copy_a_kept_chunk_and_leave_the_payload_alone() {
    let _serial = SERIAL.lock().await;
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let data = pattern(2 * CHUNK, 5);
    let payload = frame_payload(&data);
    write_bytes(&f, 0, payload.clone()).await;
    let mut expect = data.clone();
    // Inside the first chunk, across the boundary, and at the very end.
    for (off, n, seed) in [(10usize, 100usize, 7u8), (CHUNK - 50, 100, 8), (2 * CHUNK - 1, 1, 9)] {
        let piece = pattern(n, seed);
        assert_eq!(write(&f, off as u64, &piece).await, n as u32);
        expect[off..off + n].copy_from_slice(&piece);
    }
    assert_eq!(read_all(&f).await, expect);
    // The received frame was never written: a reply or a retransmission
    // holding it still sees what the client sent.
    assert_eq!(&payload[..], &data[..]);
    // Zeroing and truncating a kept chunk copy it too.
    let payload2 = frame_payload(&pattern(CHUNK, 11));
    write_bytes(&f, CHUNK as u64, payload2.clone()).await;
    f.fallocate(&su(), CHUNK as u64 + 5, 10, FallocateMode::PUNCH_HOLE | FallocateMode::KEEP_SIZE)
        .await
        .unwrap();
    expect[CHUNK..2 * CHUNK].copy_from_slice(&payload2);
    expect[CHUNK + 5..CHUNK + 15].fill(0);
    assert_eq!(read_all(&f).await, expect);
    let size = CHUNK as u64 + 1000;
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    expect.truncate(size as usize);
    assert_eq!(read_all(&f).await, expect);
    assert_eq!(&payload2[..], &pattern(CHUNK, 11)[..]);
}

#[tokio::test]
async fn replies_holding_a_chunk_keep_their_bytes() {
    let _serial = SERIAL.lock().await;
    let root = fs().root();
    let (f, _) = create(&root, "f").await;
    let first = pattern(CHUNK, 21);
    write_bytes(&f, 0, frame_payload(&first)).await;
    // A reply holds the kept chunk while it is replaced whole, then
    // overwritten in part: it keeps the bytes it was given.
    let held = read_at(&f, 0, CHUNK as u32).await;
    let second = pattern(CHUNK, 22);
    write_bytes(&f, 0, frame_payload(&second)).await;
    let held2 = read_at(&f, 0, CHUNK as u32).await;
    write(&f, 100, b"changed").await;
    assert_eq!(&held[..], &first[..]);
    assert_eq!(&held2[..], &second[..]);
    let now = read_at(&f, 0, CHUNK as u32).await;
    assert_eq!(&now[100..107], b"changed");
    assert_eq!(&now[..100], &second[..100]);
    assert_eq!(&now[107..], &second[107..]);
}

#[tokio::test]
async fn the_last_chunk_is_kept_when_replaced_whole_and_appends_still_work() {
    let _serial = SERIAL.lock().await;
    let fs = fs();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    let mut expect = pattern(CHUNK + 4096, 31);
    write(&f, 0, &expect).await;
    // The file's last chunk holds 4096 bytes; a 600 KiB payload at its
    // start replaces all of it and extends the file.
    let tail = pattern(600 * 1024, 32);
    let payload = frame_payload(&tail);
    write_bytes(&f, CHUNK as u64, payload.clone()).await;
    expect.truncate(CHUNK);
    expect.extend_from_slice(&tail);
    assert_eq!(read_at(&f, CHUNK as u64, 10).await.as_ptr(), payload.as_ptr(), "kept");
    assert_eq!(read_all(&f).await, expect);
    // Appends go on in the kept chunk's copy, then into new chunks.
    for (k, n) in [(1u8, 300 * 1024usize), (2, 200 * 1024), (3, 5)] {
        let more = pattern(n, 40 + k);
        write(&f, expect.len() as u64, &more).await;
        expect.extend_from_slice(&more);
    }
    assert_eq!(read_all(&f).await, expect);
    assert_eq!(fs.bytes_used(), expect.len() as u64);
    assert_eq!(&payload[..], &tail[..]);
    // A payload shorter than the chunk it would replace is copied.
    let short = frame_payload(&pattern(CHUNK / 2, 50));
    write_bytes(&f, 0, short.clone()).await;
    expect[..CHUNK / 2].copy_from_slice(&short);
    assert_ne!(read_at(&f, 0, 10).await.as_ptr(), short.as_ptr());
    assert_eq!(read_all(&f).await, expect);
}

#[tokio::test]
async fn the_capacity_still_limits_kept_writes() {
    let _serial = SERIAL.lock().await;
    let fs = MemFs::builder().capacity(2 * CHUNK as u64 + 10).build().unwrap();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    write_bytes(&f, 0, frame_payload(&pattern(CHUNK, 1))).await;
    write_bytes(&f, CHUNK as u64, frame_payload(&pattern(CHUNK, 2))).await;
    assert_eq!(fs.bytes_used(), 2 * CHUNK as u64);
    let err = f.write(&su(), 2 * CHUNK as u64, frame_payload(&pattern(CHUNK, 3))).await;
    assert_eq!(err.unwrap_err(), Errno::ENOSPC);
    // Overwriting kept chunks costs nothing more.
    write_bytes(&f, 0, frame_payload(&pattern(CHUNK, 4))).await;
    assert_eq!(fs.bytes_used(), 2 * CHUNK as u64);
    assert_eq!(attr(&f).await.size, 2 * CHUNK as u64);
    let mut expect = pattern(CHUNK, 4);
    expect.extend_from_slice(&pattern(CHUNK, 2));
    assert_eq!(read_all(&f).await, expect);
}

#[tokio::test]
async fn a_kept_buffer_goes_back_to_the_pool_when_the_file_lets_go() {
    let _serial = SERIAL.lock().await;
    let fs = fs();
    let root = fs.root();
    let (f, _) = create(&root, "f").await;
    let payload = frame_payload(&pattern(CHUNK, 61));
    let probe = payload.slice(..1);
    write_bytes(&f, 0, payload).await;
    // Held by the file (and the probe) only.
    assert!(FRAMES.lends(&probe));
    f.setattr(&su(), &ninefold_proto::l::SetAttr { size: 0, ..setattr(SetattrMask::SIZE) })
        .await
        .unwrap();
    assert!(FRAMES.lends(&probe), "the probe still holds it");
    assert_eq!(fs.bytes_used(), 0);
    let at = probe.as_ptr();
    let before = FRAMES.kept();
    drop(probe);
    if before + 2 * CHUNK + 8192 <= 16 << 20 {
        // Room in the pool: the buffer is kept there, and the next frame
        // buffer of its size is that one.
        assert!(FRAMES.kept() > before + CHUNK, "kept {} before {before}", FRAMES.kept());
        let again = frame_payload(&pattern(CHUNK, 62));
        assert_eq!(again.as_ptr(), at, "the kept buffer was reused");
    } else {
        assert!(FRAMES.kept() >= before, "a full pool frees the buffer");
    }
}
