//! Connecting to a server: by default one bounded attempt and a client
//! that fails (rather than waits) when the connection drops; with `--wait`
//! the library's wait-and-reconnect client.

use std::time::Duration;

use ninefold_client::{Client, ConnectOptions, Session, Target, DEFAULT_MAX_IN_FLIGHT};

use super::args::ConnectArgs;
use super::fail::{describe, describe_io, Failure};

/// Turns [`ConnectArgs`] into connections.
#[derive(Debug)]
pub(crate) struct Connector {
    opts: ConnectOptions,
    connect_timeout: Duration,
    wait: bool,
}

impl Connector {
    pub(crate) fn new(a: &ConnectArgs) -> Result<Connector, Failure> {
        let connect_timeout = parse_duration(&a.connect_timeout)?;
        let mut opts = ConnectOptions::new().msize(a.msize);
        if let Some(uid) = a.uid {
            opts = opts.uid(uid);
            if a.uname.is_none() {
                opts = opts.uname(uid.to_string());
            }
        }
        if let Some(gid) = a.gid {
            opts = opts.gid(gid);
        }
        if let Some(u) = &a.uname {
            opts = opts.uname(u.clone());
        }
        if let Some(an) = &a.aname {
            opts = opts.aname(an.clone());
        }
        let mut tls = ninefold_client::TlsOptions::new();
        tls.ca.clone_from(&a.tls_ca);
        tls.cert.clone_from(&a.tls_cert);
        tls.key.clone_from(&a.tls_key);
        tls.server_name.clone_from(&a.tls_server_name);
        opts = opts.tls(tls);
        if let Some(spec) = &a.auth_key {
            let (name, file) =
                spec.split_once('=').filter(|(n, f)| !n.is_empty() && !f.is_empty()).ok_or_else(
                    || Failure::Usage(format!("invalid --auth-key {spec:?}: expected NAME=FILE")),
                )?;
            let key = ninefold_client::AuthKey::from_file(name, file)
                .map_err(|e| Failure::Msg(format!("--auth-key: {}", describe(&e))))?;
            opts = opts.auth(key);
        }
        Ok(Connector { opts, connect_timeout, wait: a.wait })
    }

    /// A client attached to `target`.
    pub(crate) async fn connect(&self, target: &Target) -> Result<Client, Failure> {
        if self.wait {
            return self.connect_waiting(target).await;
        }
        let what = target.to_string();
        match tokio::time::timeout(self.connect_timeout, self.dial(target)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::At {
                what,
                msg: format!(
                    "no answer within {} (see --connect-timeout)",
                    show_duration(self.connect_timeout)
                ),
            }),
        }
    }

    /// One attempt: resolve, dial, negotiate, attach. The client never
    /// reconnects: once the connection drops, calls fail.
    async fn dial(&self, target: &Target) -> Result<Client, Failure> {
        let what = target.to_string();
        let o = &self.opts;
        let session = match target {
            Target::Tcp(addr) => {
                let addrs: Vec<_> = tokio::net::lookup_host(addr.as_str())
                    .await
                    .map_err(|e| Failure::At {
                        what: what.clone(),
                        msg: format!("cannot resolve host: {}", describe_io(&e)),
                    })?
                    .collect();
                let mut last = None;
                let mut stream = None;
                for a in addrs {
                    match tokio::net::TcpStream::connect(a).await {
                        Ok(s) => {
                            stream = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let stream = match (stream, last) {
                    (Some(s), _) => s,
                    (None, Some(e)) => return Err(Failure::local(&what, &e)),
                    (None, None) => {
                        return Err(Failure::At { what, msg: "host has no address".into() })
                    }
                };
                let _ = stream.set_nodelay(true);
                let (r, w) = stream.into_split();
                Session::handshake_split(r, w, o.msize, DEFAULT_MAX_IN_FLIGHT).await
            }
            Target::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| Failure::local(&what, &e))?;
                let (r, w) = stream.into_split();
                Session::handshake_split(r, w, o.msize, DEFAULT_MAX_IN_FLIGHT).await
            }
            Target::Tls(_) => {
                // Dial, TLS handshake and 9P2000.L, like the arms above.
                let tls_opts = o.clone().dialects([ninefold_client::Dialect::L]);
                match target.connect(&tls_opts).await {
                    Err(e @ ninefold_client::Error::Tls(_)) => {
                        return Err(Failure::At { what, msg: describe(&e) })
                    }
                    r => r,
                }
            }
            _ => return Err(Failure::At { what, msg: "unsupported transport".into() }),
        }
        .map_err(|e| Failure::At {
            what: what.clone(),
            msg: format!("9P handshake: {}", describe(&e)),
        })?;
        let attached = match &o.auth {
            Some(key) => {
                session.auth_attach(key, o.uname.as_bytes(), o.aname.as_bytes(), o.uid).await
            }
            None => {
                session.attach(o.uname.as_bytes(), o.aname.as_bytes(), o.uid).await.map_err(|e| {
                    match e {
                        ninefold_client::Error::PermissionDenied => {
                            ninefold_client::Error::AuthFailed(
                                "the server refused an unauthenticated attach (authenticate with \
                         --auth-key NAME=FILE)"
                                    .into(),
                            )
                        }
                        e => e,
                    }
                })
            }
        };
        let (root, _qid) = attached.map_err(|e| Failure::At {
            what: what.clone(),
            msg: format!("attach to {:?}: {}", o.aname, describe(&e)),
        })?;
        Ok(Client::from_parts(session, root, o.clone()))
    }

    /// `--wait`: tries until the server answers (each attempt bounded by
    /// the connect timeout), then returns the library's reconnecting client.
    async fn connect_waiting(&self, target: &Target) -> Result<Client, Failure> {
        let opts =
            self.opts.clone().connect_timeout_ms(Some(self.connect_timeout.as_millis() as u64));
        let s = target.to_string();
        let mut delay = ninefold_client::BACKOFF_MIN;
        let mut said = false;
        loop {
            match Client::connect_with(&s, opts.clone()).await {
                Ok(c) => return Ok(c),
                // An attach refusal will not change by waiting.
                Err(e) if e.is_connect_failed() && !describe(&e).contains("attach to") => {
                    if !said {
                        eprintln!("ninefold: waiting for {s} ({})", describe(&e));
                        said = true;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(ninefold_client::BACKOFF_MAX);
                }
                Err(e) => return Err(Failure::at(&s, &e)),
            }
        }
    }
}

/// `500ms`, `5s`, `2m`, `1h`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, Failure> {
    let bad = || Failure::usage(format!("invalid duration {s:?} (use e.g. 500ms, 5s, 2m)"));
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration as the user would write it.
pub(crate) fn show_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}
