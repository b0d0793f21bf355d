//! Middleware wraps dispatch: it can observe and short-circuit requests.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use ninefold_proto::{base, Dialect, Errno, Message, NOFID, NOTAG};
use ninefold_server::{error_reply, Middleware, Next, Request};
use support::{errno, Raw};

#[derive(Debug, Default)]
struct Count(Arc<AtomicUsize>);

#[async_trait]
impl Middleware for Count {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        self.0.fetch_add(1, Ordering::SeqCst);
        next.run(req, msg).await
    }
}

#[derive(Debug)]
struct DenyUid(u32);

#[async_trait]
impl Middleware for DenyUid {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        if req.uid() == Some(self.0) && !matches!(msg, Message::Tclunk(_)) {
            return error_reply(req.dialect(), Errno::EACCES);
        }
        next.run(req, msg).await
    }
}

#[tokio::test]
async fn middleware_sees_requests_and_can_refuse_them() {
    let count = Arc::new(AtomicUsize::new(0));
    let c2 = count.clone();
    let s = support::start_with(move |b| b.middleware(Count(c2)).middleware(DenyUid(666))).await;
    let mut c = Raw::attached(s.addr, Dialect::L).await;
    assert!(matches!(c.walk(0, 1, &["hello"]).await, Message::Rwalk(_)));
    assert_eq!(count.load(Ordering::SeqCst), 2, "attach and walk");

    let mut evil = Raw::connect(s.addr).await;
    evil.rpc_tag(NOTAG, base::Tversion { msize: 8192, version: "9P2000.L".into() }).await;
    let r = evil
        .rpc(base::Tattach {
            fid: 0,
            afid: NOFID,
            uname: "".into(),
            aname: "".into(),
            n_uname: 666,
        })
        .await;
    assert_eq!(errno(&r), Errno::EACCES);
}

/// A message name and the op id of its envelope, if any.
type Seen = (&'static str, Option<[u8; 16]>);

/// Records the envelope of every request it sees.
#[derive(Debug, Default)]
struct Envelopes(Arc<std::sync::Mutex<Vec<Seen>>>);

#[async_trait]
impl Middleware for Envelopes {
    async fn call(&self, req: &Request, msg: &Message, next: Next<'_>) -> Message {
        self.0.lock().unwrap().push((msg.name(), req.envelope().map(|e| e.op_id)));
        next.run(req, msg).await
    }
}

#[tokio::test]
async fn middleware_sees_the_frames_envelope() {
    let seen = Envelopes::default();
    let log = seen.0.clone();
    let s =
        support::start_with(move |b| b.dialects(&[Dialect::Z, Dialect::L]).middleware(seen)).await;
    let mut c = Raw::attached(s.addr, Dialect::Z).await;
    let env = ninefold_proto::z::Envelope {
        op_id: [9; 16],
        flags: ninefold_proto::EnvelopeFlags::empty(),
        origin_writer_epoch: 0,
    };
    let mkdir =
        ninefold_proto::l::Tmkdir { dfid: 0, name: "enveloped".into(), mode: 0o755, gid: 0 };
    let mut out = bytes::BytesMut::new();
    ninefold_proto::Frame::new(2, mkdir).with_envelope(env).encode(Dialect::Z, &mut out).unwrap();
    c.send_raw(&out).await;
    let f = c.recv().await;
    assert!(matches!(f.message, Message::Rmkdir(_)), "{:?}", f.message);
    assert_eq!(
        *log.lock().unwrap(),
        [("Tattach", None), ("Tmkdir", Some([9; 16]))],
        "only the covered mutation carries one"
    );
}
