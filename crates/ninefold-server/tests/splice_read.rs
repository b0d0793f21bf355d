//! Passthrough reads answered through a pipe (`crate::splice`): the bytes
//! on the wire must be exactly the file's, at any offset and size around
//! page and pipe boundaries, at and past end of file and after a
//! truncation; a Tflush racing a spliced read gets the read's reply whole
//! before the Rflush or not at all; a peer that stops reading holds up
//! only itself; and streams that cannot be spliced into (TLS, in-memory)
//! still get the same bytes by copy.

#![cfg(target_os = "linux")]

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ninefold_proto::{base, framing, l, Dialect, Frame, Message, OpenFlags, NOFID, NOTAG};
use ninefold_server::{Node, Server, SpliceReads};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The server's largest msize (its default `max_msize`).
const MSIZE: u32 = 1_048_600;
/// The most one Rread may carry at [`MSIZE`] in 9P2000.L.
const MAX_COUNT: u32 = MSIZE - 11 - 1;
const FILE_LEN: usize = 3 * (1 << 20) + 12_345;

/// The tests count the process's pipes: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

/// Pipes open in this process (the server runs in it).
fn pipes() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with("pipe:"))
        .count()
}

struct Export {
    dir: tempfile::TempDir,
    server: Server,
}

impl Export {
    /// An export whose large reads are always spliced (what most tests
    /// check): the measured choice could copy them.
    fn new() -> Export {
        Export::with(SpliceReads::Always)
    }

    fn with(policy: SpliceReads) -> Export {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), pattern(FILE_LEN, 7)).unwrap();
        let fs = ninefold_fs::passthrough::Passthrough::builder(dir.path()).build().unwrap();
        let root: Arc<dyn Node> = fs.root();
        let server = Server::builder(root).splice_reads(policy).build().unwrap();
        Export { dir, server }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("f")
    }

    async fn tcp(&self) -> C<tokio::net::TcpStream> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let s = self.server.clone();
        tokio::spawn(async move { s.serve_tcp(listener).await });
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        C::open(stream).await
    }

    async fn unix(&self) -> C<tokio::net::UnixStream> {
        let path = self.dir.path().join("sock");
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let s = self.server.clone();
        tokio::spawn(async move { s.serve_unix(listener).await });
        C::open(tokio::net::UnixStream::connect(&path).await.unwrap()).await
    }

    /// A connection over an in-memory stream (never spliced into).
    async fn duplex(&self) -> C<tokio::io::DuplexStream> {
        let (a, b) = tokio::io::duplex(256 * 1024);
        let s = self.server.clone();
        tokio::spawn(async move { s.serve_connection(b).await });
        C::open(a).await
    }
}

/// A raw 9P2000.L client with fid 1 open for reading on "f".
struct C<S> {
    s: S,
    buf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin> C<S> {
    async fn open(s: S) -> C<S> {
        let mut c = C { s, buf: BytesMut::new() };
        let r = c.rpc(NOTAG, base::Tversion { msize: MSIZE, version: "9P2000.L".into() }).await;
        assert!(matches!(r, Message::Rversion(ref v) if v.msize == MSIZE), "{r:?}");
        let attach =
            base::Tattach { fid: 0, afid: NOFID, uname: "".into(), aname: "".into(), n_uname: 0 };
        assert!(matches!(c.rpc(1, attach).await, Message::Rattach(_)));
        let walk = base::Twalk { fid: 0, newfid: 1, wnames: vec!["f".into()] };
        assert!(matches!(c.rpc(1, walk).await, Message::Rwalk(_)));
        let r = c.rpc(1, l::Tlopen { fid: 1, flags: OpenFlags::RDONLY }).await;
        assert!(matches!(r, Message::Rlopen(_)), "{r:?}");
        c
    }

    async fn send(&mut self, tag: u16, msg: impl Into<Message>) {
        let mut out = BytesMut::new();
        Frame::new(tag, msg).encode(Dialect::L, &mut out).unwrap();
        self.s.write_all(&out).await.unwrap();
    }

    async fn recv(&mut self) -> Frame {
        loop {
            if let Ok(framing::FrameStatus::Complete { frame_len }) =
                framing::check(&self.buf, 32 << 20)
            {
                let f = self.buf.split_to(frame_len).freeze();
                return Frame::decode(f, Dialect::L).unwrap();
            }
            let n = tokio::time::timeout(Duration::from_secs(10), self.s.read_buf(&mut self.buf))
                .await
                .expect("timed out waiting for a reply")
                .unwrap();
            assert!(n > 0, "connection closed");
        }
    }

    async fn rpc(&mut self, tag: u16, msg: impl Into<Message>) -> Message {
        self.send(tag, msg).await;
        let f = self.recv().await;
        assert_eq!(f.tag, tag);
        f.message
    }

    async fn read(&mut self, offset: u64, count: u32) -> Vec<u8> {
        match self.rpc(2, base::Tread { fid: 1, offset, count }).await {
            Message::Rread(r) => r.data.to_vec(),
            other => panic!("read {count} at {offset}: {other:?}"),
        }
    }
}

/// Reads at offsets and sizes around page and pipe boundaries, at and
/// past the end, each compared byte for byte with the file.
async fn exact_reads<S: AsyncRead + AsyncWrite + Unpin>(c: &mut C<S>, file: &[u8]) {
    let offsets = [0u64, 1, 4095, 4096, 4097, 65_535, (1 << 20) - 1, 1 << 20, 2 * (1 << 20) + 3];
    let counts =
        [65_536u32, 262_143, 262_144, 262_145, 524_289, (1 << 20) - 4096, 1 << 20, MAX_COUNT];
    for &offset in &offsets {
        for &count in &counts {
            let got = c.read(offset, count).await;
            let start = (offset as usize).min(file.len());
            let end = (start + count as usize).min(file.len());
            assert_eq!(got.len(), end - start, "{count} at {offset}: length");
            assert!(got == file[start..end], "{count} at {offset}: bytes differ");
        }
    }
    let len = file.len() as u64;
    for (offset, want) in [(len - 1000, 1000usize), (len - 1, 1), (len, 0), (len + 4096, 0)] {
        let got = c.read(offset, 1 << 20).await;
        assert_eq!(got.len(), want, "at {offset} of {len}");
        assert!(got == file[offset.min(len) as usize..], "tail at {offset}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spliced_reads_are_exact_over_tcp_and_unix() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let before = pipes();
    let mut t = e.tcp().await;
    exact_reads(&mut t, &file).await;
    // The reads went through pipes: the connection holds some now.
    assert!(pipes() > before, "no pipe was made: the reads were copied");
    let mut u = e.unix().await;
    exact_reads(&mut u, &file).await;
    drop((t, u));
    // Pipes are closed with their connections.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while pipes() > before {
        assert!(tokio::time::Instant::now() < deadline, "pipes outlive their connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_that_cannot_be_spliced_into_get_the_same_bytes() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let before = pipes();
    let mut d = e.duplex().await;
    exact_reads(&mut d, &file).await;
    assert_eq!(pipes(), before, "an in-memory stream got pipes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_truncated_and_rewritten_between_reads_reads_as_it_is_now() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let mut c = e.tcp().await;
    assert!(c.read(0, 1 << 20).await == file[..1 << 20]);
    std::fs::OpenOptions::new().write(true).open(e.file()).unwrap().set_len(100_000).unwrap();
    let got = c.read(0, 1 << 20).await;
    assert!(got == file[..100_000], "after truncation: {} bytes", got.len());
    let got = c.read(65_536, 1 << 20).await;
    assert!(got == file[65_536..100_000], "tail after truncation: {} bytes", got.len());
    assert!(c.read(100_000, 1 << 20).await.is_empty());
    // Rewritten in place (same inode, same open fid): the new bytes.
    let fresh = pattern(2 << 20, 99);
    std::fs::write(e.file(), &fresh).unwrap();
    assert!(c.read(4097, 1 << 20).await == fresh[4097..4097 + (1 << 20)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_racing_a_spliced_read_gets_the_whole_reply_first_or_none() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let mut c = e.tcp().await;
    let (mut answered, mut flushed) = (0, 0);
    for round in 0..60u64 {
        let offset = (round * 40_961) % (2 << 20);
        c.send(10, base::Tread { fid: 1, offset, count: 1 << 20 }).await;
        if round % 3 == 0 {
            tokio::task::yield_now().await;
        }
        c.send(11, base::Tflush { oldtag: 10 }).await;
        let first = c.recv().await;
        match (first.tag, &first.message) {
            (10, Message::Rread(r)) => {
                assert!(r.data[..] == file[offset as usize..offset as usize + (1 << 20)]);
                let second = c.recv().await;
                assert!(matches!((second.tag, &second.message), (11, Message::Rflush(_))));
                answered += 1;
            }
            (11, Message::Rflush(_)) => flushed += 1,
            other => panic!("round {round}: {other:?}"),
        }
        // The stream is still in step: a plain read after it.
        assert!(c.read(12_345, 70_000).await == file[12_345..82_345]);
    }
    assert_eq!(answered + flushed, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_holds_up_only_itself() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let mut stuck = e.tcp().await;
    // Many 1 MiB reads, never read back: its socket and pipes fill up.
    for tag in 100..164u16 {
        stuck.send(tag, base::Tread { fid: 1, offset: 0, count: 1 << 20 }).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut other = e.tcp().await;
    for round in 0..20u64 {
        let offset = round * 65_536;
        let got = tokio::time::timeout(Duration::from_secs(5), other.read(offset, 1 << 20))
            .await
            .expect("another connection's reads wait behind a stuck peer");
        assert!(got == file[offset as usize..offset as usize + (1 << 20)]);
    }
    // The stuck peer's replies, when it reads at last, are whole and in
    // step.
    for _ in 100..164u16 {
        let f = stuck.recv().await;
        match f.message {
            Message::Rread(r) => assert!(r.data[..] == file[..1 << 20], "tag {}", f.tag),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_from_64_kib_are_spliced_and_smaller_ones_copied() {
    let _one = SERIAL.lock().await;
    let e = Export::new();
    let file = std::fs::read(e.file()).unwrap();
    let before = pipes();
    let mut u = e.unix().await;
    // Below the threshold: copied, no pipe is made.
    for (offset, count) in [(0u64, 32_768u32), (4097, 65_535), (FILE_LEN as u64 - 100, 65_535)] {
        let got = u.read(offset, count).await;
        let end = (offset as usize + count as usize).min(file.len());
        assert!(got == file[offset as usize..end], "{count} at {offset}");
    }
    assert_eq!(pipes(), before, "a read below 64 KiB went through a pipe");
    // 64 KiB, aligned or not, and short at the end of the file: spliced
    // and exact.
    for offset in [0u64, 4097, FILE_LEN as u64 - 1000] {
        let got = u.read(offset, 65_536).await;
        let end = (offset as usize + 65_536).min(file.len());
        assert!(got == file[offset as usize..end], "64 KiB at {offset}");
    }
    assert!(pipes() > before, "a 64 KiB read over a unix socket was copied");
    let mut t = e.tcp().await;
    let got = t.read(12_345, 65_536).await;
    assert!(got == file[12_345..12_345 + 65_536]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_reads_take_both_ways_and_stay_exact() {
    let _one = SERIAL.lock().await;
    let e = Export::with(SpliceReads::Measured);
    let file = std::fs::read(e.file()).unwrap();
    let before = pipes();
    // Over tcp (unix sockets always splice). Until both ways are measured
    // the reads take turns in runs of 16 MiB, splice first: 384 reads of
    // 128 KiB are three runs, so both ways, and every read is exact
    // whichever way it went.
    let mut t = e.tcp().await;
    for i in 0..384u64 {
        let offset = (i * 77_777) % (FILE_LEN as u64 - 200_000);
        let got = t.read(offset, 131_072).await;
        assert!(got == file[offset as usize..offset as usize + 131_072], "read {i} at {offset}");
    }
    assert!(pipes() > before, "no read was spliced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_splicing_makes_no_pipe() {
    let _one = SERIAL.lock().await;
    let e = Export::with(SpliceReads::Never);
    let file = std::fs::read(e.file()).unwrap();
    let before = pipes();
    let mut t = e.tcp().await;
    exact_reads(&mut t, &file).await;
    assert_eq!(pipes(), before, "a read went through a pipe");
}
