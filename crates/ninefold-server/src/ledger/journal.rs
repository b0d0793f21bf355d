//! The ledger's journal: completed outcomes appended to a file in the
//! state directory before their replies are sent, loaded at start, and
//! rewritten (compacted) when most of it has expired.
//!
//! A record is `len[4] op_id[16] completed_ms[8] reply[len - 24]`, the
//! reply being an encoded 9P2000.L.Z frame with tag 0. A torn last record
//! (the process killed mid-write) is ignored at load. Records are written
//! with one `write` each and no fsync: they survive the process being
//! killed, not the machine losing power.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ninefold_proto::{Dialect, Frame, Message};

/// The journal's file name in the state directory.
pub(crate) const FILE: &str = "ledger.journal";

/// One journaled outcome: op id, completion time (ms since the epoch),
/// reply.
pub(crate) type Record = ([u8; 16], u64, Message);

/// Records written since the last compaction before one is considered.
const MIN_COMPACT: usize = 4096;

/// An open journal.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    /// Records in the file now.
    records: usize,
}

impl Journal {
    /// Opens (creating) the journal in `dir`, returning what it holds:
    /// `(op id, completed ms since the epoch, reply)`, oldest first.
    pub(crate) fn open(dir: &Path) -> io::Result<(Journal, Vec<Record>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE);
        let mut data = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut data)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let (records, valid) = parse(&data);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if valid < data.len() {
            // A torn tail: cut it, or later records would follow garbage.
            file.set_len(valid as u64)?;
        }
        let n = records.len();
        Ok((Journal { path, file, records: n }, records))
    }

    /// Appends one outcome (one `write`).
    pub(crate) fn append(&mut self, op: &[u8; 16], at_ms: u64, reply: &Message) -> io::Result<()> {
        let rec = record(op, at_ms, reply)?;
        self.file.write_all(&rec)?;
        self.records += 1;
        Ok(())
    }

    /// Whether the file holds many more records than are live.
    pub(crate) fn wants_compaction(&self, live: usize) -> bool {
        self.records >= MIN_COMPACT && self.records > 2 * live
    }

    /// Rewrites the file with `live` only (a new file renamed over the
    /// old one, so a crash leaves one or the other).
    pub(crate) fn compact(&mut self, live: &[([u8; 16], u64, Arc<Message>)]) -> io::Result<()> {
        let tmp = self.path.with_extension("journal.tmp");
        let mut buf = Vec::new();
        for (op, at, reply) in live {
            buf.extend_from_slice(&record(op, *at, reply)?);
        }
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.records = live.len();
        Ok(())
    }
}

fn record(op: &[u8; 16], at_ms: u64, reply: &Message) -> io::Result<Vec<u8>> {
    let mut frame = BytesMut::new();
    Frame::new(0, reply.clone())
        .encode(Dialect::Z, &mut frame)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let len = u32::try_from(24 + frame.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "record too large"))?;
    let mut rec = Vec::with_capacity(len as usize + 4);
    rec.extend_from_slice(&len.to_le_bytes());
    rec.extend_from_slice(op);
    rec.extend_from_slice(&at_ms.to_le_bytes());
    rec.extend_from_slice(&frame);
    Ok(rec)
}

/// The whole records of `data` and the length they take; a torn or
/// unreadable tail ends the list.
fn parse(data: &[u8]) -> (Vec<Record>, usize) {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 4 {
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < 24 || rest.len() < 4 + len {
            break;
        }
        let body = &rest[4..4 + len];
        let mut op = [0; 16];
        op.copy_from_slice(&body[..16]);
        let mut at = [0; 8];
        at.copy_from_slice(&body[16..24]);
        match Frame::decode(Bytes::copy_from_slice(&body[24..]), Dialect::Z) {
            Ok(f) => out.push((op, u64::from_le_bytes(at), f.message)),
            Err(_) => break,
        }
        rest = &rest[4 + len..];
    }
    (out, data.len() - rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ninefold_proto::{base, z};

    #[test]
    fn records_round_trip_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, old) = Journal::open(dir.path()).unwrap();
        assert!(old.is_empty());
        j.append(&[1; 16], 10, &base::Rwrite { count: 3 }.into()).unwrap();
        j.append(&[2; 16], 20, &z::Rgetlineage { token: 9, writer_epoch: 0 }.into()).unwrap();
        drop(j);
        // A torn third record.
        let mut f = OpenOptions::new().append(true).open(dir.path().join(FILE)).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2]).unwrap();
        let (mut j, recs) = Journal::open(dir.path()).unwrap();
        assert_eq!(recs.len(), 2);
        // Appends after a torn tail stay readable.
        j.append(&[3; 16], 30, &base::Rwrite { count: 1 }.into()).unwrap();
        let (_, again) = Journal::open(dir.path()).unwrap();
        assert_eq!(again.len(), 3);
        assert_eq!(recs[0].0, [1; 16]);
        assert_eq!(recs[1].1, 20);
        assert_eq!(recs[0].2, base::Rwrite { count: 3 }.into());
        j.compact(&[([2; 16], 20, Arc::new(recs[1].2.clone()))]).unwrap();
        let (_, recs) = Journal::open(dir.path()).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].0, [2; 16]);
    }
}
