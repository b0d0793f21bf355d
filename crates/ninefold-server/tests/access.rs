//! Authentication and access control, from a hostile client's side: the
//! Tauth exchange (good, wrong key, unknown key, replayed, reused), uid
//! escalation in Tattach (refused or squashed), exports not granted,
//! read-only grants, the loopback-only default and the trusted opt-in,
//! the "not required" answer without keys, and what a filesystem sees.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_auth::{Binding, Challenge, Proof, Response};
use ninefold_proto::l::Attr;
use ninefold_proto::{
    base, l, Dialect, Errno, GetattrMask, Message, OpenFlags, QidType, NOFID, NOTAG,
};
use ninefold_server::{
    AccessPolicy, AuthMethod, Exports, Grant, Keyring, Node, Peer, Principal, Request, Result,
    Secret, Server,
};
use support::{errno, Raw};
use tokio::net::TcpListener;

const KEY: &[u8] = b"backup-secret-0123456789abcdef";
const OTHER: &[u8] = b"a-different-secret-9876543210";

/// A node that tells who asked: its link target is the principal's name
/// and its owner the uid (and gid) the request carries.
#[derive(Debug)]
struct WhoAmI;

#[async_trait]
impl Node for WhoAmI {
    fn qid(&self) -> ninefold_proto::Qid {
        ninefold_proto::Qid { ty: QidType::SYMLINK, version: 0, path: 77 }
    }
    async fn getattr(&self, req: &Request, _mask: GetattrMask) -> Result<Attr> {
        Ok(Attr {
            qid: self.qid(),
            mode: ninefold_proto::S_IFLNK | 0o777,
            uid: req.uid().unwrap_or(u32::MAX),
            gid: req.identity().gid.unwrap_or(u32::MAX),
            nlink: 1,
            ..Attr::default()
        })
    }
    async fn readlink(&self, req: &Request) -> Result<Bytes> {
        let p = req.principal().map(|p| format!("{}/{:?}", p.name(), p.method()));
        Ok(Bytes::from(p.unwrap_or_else(|| "-".into())))
    }
}

fn exports() -> Exports {
    let t = support::tree();
    t.root.add("whoami", Arc::new(WhoAmI));
    let root: Arc<dyn Node> = t.root;
    let other: Arc<dyn Node> = support::tree().root;
    Exports::new().export("home", root.clone()).export("secret", other).default_root(root)
}

fn keys() -> Keyring {
    Keyring::new().with_key("backup", Secret::new(KEY.to_vec()).unwrap()).unwrap()
}

fn policy() -> AccessPolicy {
    AccessPolicy::new()
        .trust_none()
        .grant(Grant::new("backup").exports(["home"]).read_only(true).uid(1000).gid(100).squash())
        .grant(Grant::new("backup").exports([""]).uid(1000))
}

/// A server whose every connection appears to come from `remote`.
async fn serve_as(server: Server, remote: &'static str) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            server.spawn_peer(s, Peer::new(Some(remote.to_owned())));
        }
    });
    addr
}

async fn connect(addr: std::net::SocketAddr) -> Raw {
    let mut c = Raw::connect(addr).await;
    let r = c.rpc_tag(NOTAG, base::Tversion { msize: 65536, version: "9P2000.L".into() }).await;
    assert!(matches!(r, Message::Rversion(_)), "{r:?}");
    c.dialect = Dialect::L;
    c
}

fn tattach(fid: u32, afid: u32, uname: &str, aname: &str, n_uname: u32) -> base::Tattach {
    base::Tattach { fid, afid, uname: uname.into(), aname: aname.into(), n_uname }
}

/// Tauth + read the challenge; returns it.
async fn challenge(c: &mut Raw, afid: u32, uname: &str, aname: &str, uid: u32) -> Challenge {
    let r =
        c.rpc(base::Tauth { afid, uname: uname.into(), aname: aname.into(), n_uname: uid }).await;
    match r {
        Message::Rauth(a) => assert_eq!(a.aqid.ty, QidType::AUTH),
        other => panic!("Tauth: {other:?}"),
    }
    match c.rpc(base::Tread { fid: afid, offset: 0, count: 4096 }).await {
        Message::Rread(r) => Challenge::decode(&r.data).unwrap(),
        other => panic!("reading the challenge: {other:?}"),
    }
}

/// The whole exchange with `secret` named `name`: the response written
/// (and the server's proof, if it accepted).
async fn authenticate(
    c: &mut Raw,
    afid: u32,
    (name, secret): (&str, &[u8]),
    (uname, aname, uid): (&str, &str, u32),
) -> (Vec<u8>, Message) {
    let ch = challenge(c, afid, uname, aname, uid).await;
    let secret = Secret::new(secret.to_vec()).unwrap();
    let b = Binding { uname: uname.as_bytes(), n_uname: uid, aname: aname.as_bytes() };
    let resp = Response::new(&secret, name, &ch, &b).unwrap();
    let wire = resp.encode();
    let r = c.rpc(base::Twrite { fid: afid, offset: 0, data: Bytes::from(wire.clone()) }).await;
    if matches!(r, Message::Rwrite(_)) {
        // Mutual: the server proves it holds the key too.
        let Message::Rread(p) = c.rpc(base::Tread { fid: afid, offset: 0, count: 4096 }).await
        else {
            panic!("no proof")
        };
        assert!(Proof::decode(&p.data).unwrap().verify(&secret, &ch, &resp, &b));
    }
    (wire, r)
}

async fn started(
    keys: Keyring,
    policy: AccessPolicy,
    remote: &'static str,
) -> (Server, std::net::SocketAddr) {
    let server = Server::builder(exports()).auth_keys(keys).access(policy).build().unwrap();
    let addr = serve_as(server.clone(), remote).await;
    (server, addr)
}

const LAN: &str = "192.168.7.9:40000";

#[tokio::test]
async fn a_proven_key_attaches_as_its_principal_with_its_uid() {
    let (server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    let (_, r) = authenticate(&mut c, 9, ("backup", KEY), ("root", "home", 0)).await;
    assert!(matches!(r, Message::Rwrite(_)), "{r:?}");
    // uid 0 asserted, squashed to the grant's 1000 (gid 100).
    let r = c.rpc(tattach(0, 9, "root", "home", 0)).await;
    assert!(matches!(r, Message::Rattach(_)), "{r:?}");
    c.walk(0, 1, &["whoami"]).await;
    let Message::Rgetattr(a) =
        c.rpc(l::Tgetattr { fid: 1, request_mask: GetattrMask::BASIC }).await
    else {
        panic!("getattr")
    };
    assert_eq!((a.attr.uid, a.attr.gid), (1000, 100));
    let Message::Rreadlink(t) = c.rpc(l::Treadlink { fid: 1 }).await else { panic!("readlink") };
    assert_eq!(t.target.as_bytes(), b"backup/Tauth", "the filesystem sees the principal");
    // The auth fid is nothing but an auth fid.
    assert_eq!(errno(&c.walk(9, 2, &[]).await), Errno::EBADF);
    assert_eq!(errno(&c.rpc(l::Tlopen { fid: 9, flags: OpenFlags::RDONLY }).await), Errno::EBADF);
    assert!(matches!(c.rpc(base::Tclunk { fid: 9 }).await, Message::Rclunk(_)));
    assert_eq!(server.access_denials().attach, 0);
}

#[tokio::test]
async fn wrong_key_unknown_key_and_unanswered_afids_are_refused() {
    let (server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    let (_, r) = authenticate(&mut c, 1, ("backup", OTHER), ("u", "", 1000)).await;
    assert_eq!(errno(&r), Errno::EACCES, "wrong key");
    assert_eq!(errno(&c.rpc(tattach(0, 1, "u", "", 1000)).await), Errno::EACCES);
    let (_, r) = authenticate(&mut c, 2, ("nobody", KEY), ("u", "", 1000)).await;
    assert_eq!(errno(&r), Errno::EACCES, "unknown key name");
    // Tauth, never answered, then attach with it.
    challenge(&mut c, 3, "u", "", 1000).await;
    assert_eq!(errno(&c.rpc(tattach(0, 3, "u", "", 1000)).await), Errno::EACCES);
    // No auth fid at all, from the LAN, trusting nobody.
    assert_eq!(errno(&c.rpc(tattach(0, NOFID, "u", "", 1000)).await), Errno::EACCES);
    // An afid that is not one.
    assert_eq!(errno(&c.rpc(tattach(0, 77, "u", "", 1000)).await), Errno::EBADF);
    let d = server.access_denials();
    assert_eq!((d.auth, d.attach), (2, 3), "{d:?}");
}

#[tokio::test]
async fn a_replayed_response_is_refused() {
    let (_server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    let (wire, r) = authenticate(&mut c, 1, ("backup", KEY), ("u", "", 1000)).await;
    assert!(matches!(r, Message::Rwrite(_)));
    // Again on the same auth fid: the challenge was used up.
    let again = c.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from(wire.clone()) }).await;
    assert_eq!(errno(&again), Errno::EACCES);
    assert_eq!(errno(&c.rpc(tattach(0, 1, "u", "", 1000)).await), Errno::EACCES);
    // On another connection, a new auth fid: another challenge.
    let mut eve = connect(addr).await;
    challenge(&mut eve, 1, "u", "", 1000).await;
    let r = eve.rpc(base::Twrite { fid: 1, offset: 0, data: Bytes::from(wire) }).await;
    assert_eq!(errno(&r), Errno::EACCES);
    assert_eq!(errno(&eve.rpc(tattach(0, 1, "u", "", 1000)).await), Errno::EACCES);
}

#[tokio::test]
async fn uid_escalation_is_refused_or_squashed_by_the_grant() {
    let (_server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    // The default export's grant allows uid 1000 only, and refuses others.
    authenticate(&mut c, 1, ("backup", KEY), ("root", "", 0)).await;
    assert_eq!(errno(&c.rpc(tattach(0, 1, "root", "", 0)).await), Errno::EACCES);
    // Tauth for uid 1000, Tattach claiming uid 0 with it: the exchange is
    // bound to Tauth's fields.
    authenticate(&mut c, 2, ("backup", KEY), ("u", "", 1000)).await;
    assert_eq!(errno(&c.rpc(tattach(0, 2, "u", "", 0)).await), Errno::EACCES);
    assert_eq!(errno(&c.rpc(tattach(0, 2, "u", "home", 1000)).await), Errno::EACCES);
    assert!(matches!(c.rpc(tattach(0, 2, "u", "", 1000)).await, Message::Rattach(_)));
}

#[tokio::test]
async fn exports_not_granted_are_refused() {
    let (_server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    authenticate(&mut c, 1, ("backup", KEY), ("u", "secret", 1000)).await;
    assert_eq!(errno(&c.rpc(tattach(0, 1, "u", "secret", 1000)).await), Errno::EACCES);
}

#[tokio::test]
async fn a_read_only_grant_reads_and_refuses_changes() {
    let (server, addr) = started(keys(), policy(), LAN).await;
    let mut c = connect(addr).await;
    authenticate(&mut c, 1, ("backup", KEY), ("u", "home", 1000)).await;
    assert!(matches!(c.rpc(tattach(0, 1, "u", "home", 1000)).await, Message::Rattach(_)));
    c.walk(0, 2, &["hello"]).await;
    assert!(matches!(c.lopen(2, OpenFlags::RDONLY).await, Message::Rlopen(_)));
    let Message::Rread(r) = c.rpc(base::Tread { fid: 2, offset: 0, count: 100 }).await else {
        panic!("read")
    };
    assert_eq!(&r.data[..], b"hello world");
    c.walk(0, 3, &["hello"]).await;
    assert_eq!(errno(&c.lopen(3, OpenFlags::WRONLY).await), Errno::EROFS);
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    assert_eq!(errno(&c.rpc(mkdir).await), Errno::EROFS);
    let unlink = l::Tunlinkat { dirfid: 0, name: "hello".into(), flags: Default::default() };
    assert_eq!(errno(&c.rpc(unlink).await), Errno::EROFS);
    assert_eq!(server.access_denials().read_only, 3);
}

#[tokio::test]
async fn without_a_policy_or_keys_everything_is_as_before() {
    // No keys: Tauth is "not required" (ENOENT), the Linux client's and
    // diod tools' reading, with or without a policy.
    for with_policy in [false, true] {
        let mut b = Server::builder(exports());
        if with_policy {
            b = b.access(AccessPolicy::new());
        }
        let addr = serve_as(b.build().unwrap(), "127.0.0.1:5555").await;
        let mut c = connect(addr).await;
        let r =
            c.rpc(base::Tauth { afid: 5, uname: "u".into(), aname: "".into(), n_uname: 0 }).await;
        assert_eq!(errno(&r), Errno::ENOENT);
        assert!(matches!(c.rpc(tattach(0, NOFID, "root", "", 0)).await, Message::Rattach(_)));
    }
}

#[tokio::test]
async fn the_default_policy_trusts_loopback_only_until_told_otherwise() {
    let srv = || Server::builder(exports()).access(AccessPolicy::new()).build().unwrap();
    for (remote, ok) in [
        ("127.0.0.1:4000", true),
        ("[::1]:4000", true),
        ("/run/ninefold.sock", true),
        (LAN, false),
        ("10.0.2.15:4000", false),
    ] {
        let s = srv();
        let mut c = connect(serve_as(s.clone(), remote).await).await;
        let r = c.rpc(tattach(0, NOFID, "root", "", 0)).await;
        assert_eq!(matches!(r, Message::Rattach(_)), ok, "{remote}: {r:?}");
        if !ok {
            assert_eq!(errno(&r), Errno::EACCES);
            assert_eq!(s.access_denials().attach, 1);
        }
    }
    // The trusted opt-in: a LAN prefix, with the client-asserted uid.
    let s = Server::builder(exports())
        .access(AccessPolicy::new().trust("192.168.0.0/16".parse().unwrap()))
        .build()
        .unwrap();
    let mut c = connect(serve_as(s, LAN).await).await;
    assert!(matches!(c.rpc(tattach(0, NOFID, "u", "", 4242)).await, Message::Rattach(_)));
    c.walk(0, 1, &["whoami"]).await;
    let Message::Rgetattr(a) =
        c.rpc(l::Tgetattr { fid: 1, request_mask: GetattrMask::BASIC }).await
    else {
        panic!("getattr")
    };
    assert_eq!(a.attr.uid, 4242, "trusted: the asserted uid");
}

#[tokio::test]
async fn a_tls_principal_is_granted_without_tauth() {
    let server = Server::builder(exports())
        .access(
            AccessPolicy::new()
                .trust_none()
                .grant(Grant::new("node1").method(AuthMethod::TlsCertificate).any_uid()),
        )
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = server.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let peer = Peer::new(Some(LAN.into()))
            .with_principal(Principal::new("node1", AuthMethod::TlsCertificate));
        s.spawn_peer(stream, peer);
    });
    let mut c = connect(addr).await;
    assert!(matches!(c.rpc(tattach(0, NOFID, "u", "", 0)).await, Message::Rattach(_)));
    c.walk(0, 1, &["whoami"]).await;
    let Message::Rreadlink(t) = c.rpc(l::Treadlink { fid: 1 }).await else { panic!("readlink") };
    assert_eq!(t.target.as_bytes(), b"node1/TlsCertificate");
}

/// A directory that records the group its creates were asked for.
#[derive(Debug, Default)]
struct GidProbe(std::sync::Mutex<Vec<u32>>);

#[async_trait]
impl Node for GidProbe {
    fn qid(&self) -> ninefold_proto::Qid {
        ninefold_proto::Qid { ty: QidType::DIR, version: 0, path: 5 }
    }
    async fn mkdir(&self, _r: &Request, _n: &[u8], _m: u32, gid: u32) -> Result<Arc<dyn Node>> {
        self.0.lock().unwrap().push(gid);
        Err(Errno::EEXIST)
    }
}

#[tokio::test]
async fn a_mapped_group_replaces_the_one_a_create_names() {
    let probe = Arc::new(GidProbe::default());
    let root: Arc<dyn Node> = probe.clone();
    let pol = AccessPolicy::new().trust_none().grant(Grant::new("backup").uid(1000).gid(100));
    let server = Server::builder(root).auth_keys(keys()).access(pol).build().unwrap();
    let mut c = connect(serve_as(server, LAN).await).await;
    authenticate(&mut c, 1, ("backup", KEY), ("u", "", 1000)).await;
    assert!(matches!(c.rpc(tattach(0, 1, "u", "", 1000)).await, Message::Rattach(_)));
    let mkdir = l::Tmkdir { dfid: 0, name: "d".into(), mode: 0o755, gid: 0 };
    assert_eq!(errno(&c.rpc(mkdir).await), Errno::EEXIST);
    assert_eq!(*probe.0.lock().unwrap(), [100]);
}
