use super::*;

fn peer(addr: &str) -> Peer {
    Peer::new(Some(addr.into()))
}

fn p(name: &str, method: AuthMethod) -> Arc<Principal> {
    Arc::new(Principal::new(name, method))
}

const LAN: &str = "192.168.1.20:40000";

fn decide(
    pol: &AccessPolicy,
    from: &str,
    who: Option<&Arc<Principal>>,
    uid: u32,
    aname: &str,
) -> Decision {
    pol.decide(&peer(from), who, &Bytes::from_static(b"u"), uid, aname.as_bytes())
}

#[test]
fn default_trusts_only_local_peers() {
    let pol = AccessPolicy::new();
    let id = decide(&pol, "127.0.0.1:5", None, 0, "").unwrap();
    assert_eq!((id.uid, id.read_only, id.principal.is_none()), (Some(0), false, true));
    assert!(decide(&pol, "unix", None, 0, "").is_ok());
    assert_eq!(decide(&pol, LAN, None, 0, ""), Err("unauthenticated peer on an untrusted network"));
    let pol = pol.trust("192.168.0.0/16".parse().unwrap());
    assert_eq!(decide(&pol, LAN, None, 5, "").unwrap().uid, Some(5));
}

#[test]
fn grants_decide_uids() {
    let backup = p("backup", AuthMethod::Tauth);
    let pol = AccessPolicy::new()
        .trust_none()
        .grant(Grant::new("backup").exports(["home"]).read_only(true).uid(1000).gid(100).squash())
        .grant(Grant::new("backup").exports(["strict"]).uid(1000).allow_uids([1001]))
        .grant(Grant::new("admin").method(AuthMethod::TlsCertificate).any_uid());
    // Squashed: uid 0 asserted, 1000 given.
    let id = decide(&pol, LAN, Some(&backup), 0, "home").unwrap();
    assert_eq!((id.uid, id.gid, id.read_only), (Some(1000), Some(100), true));
    assert_eq!(id.principal.as_deref().map(Principal::name), Some("backup"));
    // Refused: uid 0 on the strict export; 1001 and 1000 pass.
    assert!(decide(&pol, LAN, Some(&backup), 0, "strict").is_err());
    assert_eq!(decide(&pol, LAN, Some(&backup), 1001, "strict").unwrap().uid, Some(1001));
    assert_eq!(decide(&pol, LAN, Some(&backup), NONUNAME, "strict").unwrap().uid, Some(1000));
    // Not granted.
    assert_eq!(
        decide(&pol, LAN, Some(&backup), 1000, "other"),
        Err("the export is not granted to this principal")
    );
    // Method must match.
    let admin_by_key = p("admin", AuthMethod::Tauth);
    assert!(decide(&pol, LAN, Some(&admin_by_key), 0, "x").is_err());
    let admin = p("admin", AuthMethod::TlsCertificate);
    assert_eq!(decide(&pol, LAN, Some(&admin), 0, "x").unwrap().uid, Some(0));
    assert_eq!(decide(&pol, LAN, Some(&admin), NONUNAME, "x").unwrap().uid, None);
}

#[test]
fn an_ungranted_principal_on_a_trusted_network_is_trusted() {
    let pol = AccessPolicy::new().grant(Grant::new("k").exports(["a"]).uid(7));
    let k = p("k", AuthMethod::Tauth);
    let id = decide(&pol, "127.0.0.1:1", Some(&k), 0, "b").unwrap();
    assert_eq!((id.uid, id.principal.is_some()), (Some(0), true));
    // A matching grant is not bypassed by trust.
    assert!(decide(&pol, "127.0.0.1:1", Some(&k), 0, "a").is_err());
}

#[test]
fn a_grant_without_uids_allows_none() {
    let pol = AccessPolicy::new().trust_none().grant(Grant::new("*"));
    assert!(decide(&pol, LAN, Some(&p("x", AuthMethod::Tauth)), 0, "").is_err());
}
