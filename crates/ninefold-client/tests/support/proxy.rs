//! A byte-level TCP proxy between the client under test and a server: it
//! counts the requests the client sends (by message type, read from each
//! frame's header) and can cut every open connection at once (the
//! listener keeps accepting, so the client reconnects through it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Requests seen by type number.
#[derive(Default)]
struct Counts {
    by_type: HashMap<u8, u64>,
}

/// A running proxy; stops (and cuts everything) on drop.
pub struct Proxy {
    /// `tcp://127.0.0.1:PORT` of the proxy.
    pub target: String,
    counts: Arc<Mutex<Counts>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Proxies to `backend` (`host:port`).
    pub async fn start(backend: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let counts = Arc::new(Mutex::new(Counts::default()));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let backend = backend.trim_start_matches("tcp://").to_string();
        let (c2, k2) = (counts.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let Ok(server) = TcpStream::connect(&backend).await else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let counts = c2.clone();
                let h = tokio::spawn(pipe(client, server, counts));
                k2.lock().unwrap().push(h);
            }
        });
        Proxy { target: format!("tcp://127.0.0.1:{port}"), counts, conns, accept }
    }

    /// Cuts every connection open now (both sockets closed at once).
    pub fn cut(&self) {
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    /// Forgets the counts so far.
    pub fn reset(&self) {
        self.counts.lock().unwrap().by_type.clear();
    }

    /// Requests since the last reset, not counting background clunks and
    /// flushes (which no call waits for).
    pub fn round_trips(&self) -> u64 {
        let c = self.counts.lock().unwrap();
        c.by_type.iter().filter(|(t, _)| **t != 120 && **t != 108).map(|(_, n)| *n).sum()
    }

    /// Requests of type `ty` since the last reset.
    pub fn count(&self, ty: u8) -> u64 {
        self.counts.lock().unwrap().by_type.get(&ty).copied().unwrap_or(0)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, counts: Arc<Mutex<Counts>>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        // Client → server, cut into frames to count them.
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let n = match cr.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let mut at = 0;
            while buf.len() - at >= 5 {
                let size =
                    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
                if size < 7 || buf.len() - at < size {
                    break;
                }
                *counts.lock().unwrap().by_type.entry(buf[at + 4]).or_insert(0) += 1;
                at += size;
            }
            if sw.write_all(&buf[..at]).await.is_err() {
                return;
            }
            buf.drain(..at);
        }
    };
    let down = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
