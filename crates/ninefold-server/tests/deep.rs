//! No recursion whose depth a client controls: a fid walked 60,000
//! directories deep (memfs) and then clunked must not overflow a normal
//! 2 MiB thread stack.

use std::sync::Arc;

use bytes::BytesMut;
use ninefold_fs::memfs::MemFs;
use ninefold_proto::{base, framing, Dialect, Frame, Message, UnlinkatFlags, NOFID, NOTAG};
use ninefold_server::{Identity, Node, Request, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const DEPTH: usize = 60_000;
/// A normal thread stack: the test is meaningless on a huge one.
const STACK: usize = 2 << 20;

async fn rpc(
    io: &mut DuplexStream,
    buf: &mut BytesMut,
    tag: u16,
    msg: impl Into<Message>,
) -> Message {
    let mut out = BytesMut::new();
    Frame::new(tag, msg).encode(Dialect::L, &mut out).unwrap();
    io.write_all(&out).await.unwrap();
    loop {
        if let Ok(framing::FrameStatus::Complete { frame_len }) = framing::check(buf, 1 << 20) {
            let f = Frame::decode(buf.split_to(frame_len).freeze(), Dialect::L).unwrap();
            assert_eq!(f.tag, tag);
            return f.message;
        }
        assert!(io.read_buf(buf).await.unwrap() > 0, "connection closed");
    }
}

async fn walk_deep_and_clunk() {
    let fs = MemFs::new();
    let req = Request::new(Identity::root());
    // The chain of directories d/d/d/..., made directly (no sockets).
    let mut chain: Vec<Arc<dyn Node>> = vec![fs.root()];
    for _ in 0..DEPTH {
        let next = chain.last().unwrap().mkdir(&req, b"d", 0o755, 0).await.unwrap();
        chain.push(next);
    }

    let server = Server::new(fs.root());
    let (mut io, server_side) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn(async move { server.serve_connection(server_side).await });
    let mut buf = BytesMut::new();
    let v = base::Tversion { msize: 65536, version: "9P2000.L".into() };
    assert!(matches!(rpc(&mut io, &mut buf, NOTAG, v).await, Message::Rversion(_)));
    let a = base::Tattach { fid: 0, afid: NOFID, uname: "".into(), aname: "".into(), n_uname: 0 };
    assert!(matches!(rpc(&mut io, &mut buf, 1, a).await, Message::Rattach(_)));
    let names: Vec<_> = (0..16).map(|_| "d".into()).collect();
    let w = base::Twalk { fid: 0, newfid: 1, wnames: vec![] };
    assert!(matches!(rpc(&mut io, &mut buf, 1, w).await, Message::Rwalk(_)));
    for _ in 0..DEPTH / 16 {
        let w = base::Twalk { fid: 1, newfid: 1, wnames: names.clone() };
        match rpc(&mut io, &mut buf, 1, w).await {
            Message::Rwalk(r) => assert_eq!(r.wqids.len(), 16),
            other => panic!("walk: {other:?}"),
        }
    }
    // The clunk drops the only hold on 60,000 nested locations.
    let r = rpc(&mut io, &mut buf, 2, base::Tclunk { fid: 1 }).await;
    assert!(matches!(r, Message::Rclunk(_)), "{r:?}");
    drop(io);
    serving.await.unwrap().unwrap();

    // Take the tree apart leaf first, so dropping it is shallow too.
    for i in (0..DEPTH).rev() {
        chain[i].unlink(&req, b"d", UnlinkatFlags::REMOVEDIR).await.unwrap();
        chain.pop();
    }
}

#[test]
fn a_fid_60000_directories_deep_is_clunked_without_overflow() {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(walk_deep_and_clunk());
        })
        .unwrap()
        .join()
        .unwrap();
}
