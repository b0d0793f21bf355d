//! A byte-level TCP proxy between the client under test and a server: it
//! counts the requests the client sends (by message type, read from each
//! frame's header) and can cut every open connection at once (the
//! listener keeps accepting, so the client reconnects through it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Requests seen by type number, and the trap for one reply.
#[derive(Default)]
struct Counts {
    by_type: HashMap<u8, u64>,
    /// Swallow the reply to the next request of this type and cut.
    trap_type: Option<u8>,
    /// The tag of the trapped request.
    trap_tag: Option<u16>,
    /// Replies swallowed.
    trapped: u64,
}

/// A running proxy; stops (and cuts everything) on drop.
pub struct Proxy {
    /// `tcp://127.0.0.1:PORT` of the proxy.
    pub target: String,
    counts: Arc<Mutex<Counts>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
    backend: Arc<Mutex<String>>,
}

impl Proxy {
    /// Proxies to `backend` (`host:port`).
    pub async fn start(backend: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let counts = Arc::new(Mutex::new(Counts::default()));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let backend = Arc::new(Mutex::new(backend.trim_start_matches("tcp://").to_string()));
        let (c2, k2, b2) = (counts.clone(), conns.clone(), backend.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let to = b2.lock().unwrap().clone();
                let Ok(server) = TcpStream::connect(&to).await else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let counts = c2.clone();
                let h = tokio::spawn(pipe(client, server, counts));
                k2.lock().unwrap().push(h);
            }
        });
        Proxy { target: format!("tcp://127.0.0.1:{port}"), counts, conns, accept, backend }
    }

    /// Sends connections accepted from now on to `backend` (open ones
    /// stay where they are).
    pub fn set_backend(&self, backend: &str) {
        *self.backend.lock().unwrap() = backend.trim_start_matches("tcp://").to_string();
    }

    /// Cuts every connection open now (both sockets closed at once).
    pub fn cut(&self) {
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    /// Lets the next request of type `ty` reach the server, waits for its
    /// reply, drops it and cuts the connection: the client cannot know
    /// whether the request was applied.
    pub fn drop_reply_of(&self, ty: u8) {
        let mut c = self.counts.lock().unwrap();
        c.trap_type = Some(ty);
        c.trap_tag = None;
    }

    /// Replies swallowed by [`drop_reply_of`](Proxy::drop_reply_of).
    pub fn trapped(&self) -> u64 {
        self.counts.lock().unwrap().trapped
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
    let counts2 = counts.clone();
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
                {
                    let mut c = counts.lock().unwrap();
                    let ty = buf[at + 4];
                    *c.by_type.entry(ty).or_insert(0) += 1;
                    if c.trap_type == Some(ty) && c.trap_tag.is_none() {
                        c.trap_tag = Some(u16::from_le_bytes([buf[at + 5], buf[at + 6]]));
                        c.trap_type = None;
                    }
                }
                at += size;
            }
            if sw.write_all(&buf[..at]).await.is_err() {
                return;
            }
            buf.drain(..at);
        }
    };
    let down = async move {
        // Server → client, frame by frame, to swallow a trapped reply.
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let n = match sr.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let mut at = 0;
            while buf.len() - at >= 7 {
                let size =
                    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
                if size < 7 || buf.len() - at < size {
                    break;
                }
                let tag = u16::from_le_bytes([buf[at + 5], buf[at + 6]]);
                let trapped = {
                    let mut c = counts2.lock().unwrap();
                    let hit = c.trap_tag == Some(tag);
                    if hit {
                        c.trap_tag = None;
                        c.trapped += 1;
                    }
                    hit
                };
                if trapped {
                    let _ = cw.write_all(&buf[..at]).await;
                    return; // cut: the reply never reaches the client
                }
                at += size;
            }
            if cw.write_all(&buf[..at]).await.is_err() {
                return;
            }
            buf.drain(..at);
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
