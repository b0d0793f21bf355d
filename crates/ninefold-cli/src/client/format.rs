//! Text and JSON renderings of metadata: `-rw-r--r--`, UTC times, human
//! sizes, and the JSON objects of `stat`, `ls --json` and `df --json`.

use ninefold_client::{FileType, Metadata, StatFs, Timestamp};
use serde_json::{json, Value};

/// `ls -l`'s type letter.
pub(crate) fn type_char(t: FileType) -> char {
    match t {
        FileType::File => '-',
        FileType::Dir => 'd',
        FileType::Symlink => 'l',
        FileType::Fifo => 'p',
        FileType::Socket => 's',
        FileType::CharDevice => 'c',
        FileType::BlockDevice => 'b',
        FileType::Unknown => '?',
    }
}

/// The type as `stat` says it.
pub(crate) fn type_name(t: FileType) -> &'static str {
    match t {
        FileType::File => "regular file",
        FileType::Dir => "directory",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "fifo",
        FileType::Socket => "socket",
        FileType::CharDevice => "character special file",
        FileType::BlockDevice => "block special file",
        FileType::Unknown => "unknown",
    }
}

/// The type as the JSON `type` field says it.
pub(crate) fn type_word(t: FileType) -> &'static str {
    match t {
        FileType::File => "file",
        FileType::Dir => "dir",
        FileType::Symlink => "symlink",
        FileType::Fifo => "fifo",
        FileType::Socket => "socket",
        FileType::CharDevice => "char_device",
        FileType::BlockDevice => "block_device",
        FileType::Unknown => "unknown",
    }
}

/// `drwxr-xr-x`, with setuid/setgid/sticky as `s`/`S`/`t`/`T`.
pub(crate) fn mode_string(t: FileType, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(type_char(t));
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |x: u32, sp: u32, on: char, off: char| match (mode & x != 0, mode & sp != 0) {
        (true, true) => on,
        (false, true) => off,
        (true, false) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(0o100, 0o4000, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(0o010, 0o2000, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(0o001, 0o1000, 't', 'T'));
    s
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn split(t: Timestamp) -> (i64, u32, u32, i64, i64, i64) {
    let days = t.secs.div_euclid(86_400);
    let rem = t.secs.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    (y, mo, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-12-04 22:41` (UTC), for `ls -l`.
pub(crate) fn short_time(t: Timestamp) -> String {
    let (y, mo, d, h, mi, _) = split(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// `2026-12-04 22:41:07.123456789 +0000`, for `stat`.
pub(crate) fn long_time(t: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = split(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:09} +0000", t.nanos)
}

/// RFC 3339 in UTC with nanoseconds: `2026-12-04T22:41:07.123456789Z`.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    let (y, mo, d, h, mi, s) = split(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z", t.nanos)
}

/// `1.5K`, `20M`, as `ls -h` (powers of 1024, one decimal below 10).
pub(crate) fn human(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64;
    let mut unit = "";
    for u in UNITS {
        v /= 1024.0;
        unit = u;
        if v < 1024.0 {
            break;
        }
    }
    if v < 10.0 {
        format!("{:.1}{unit}", (v * 10.0).ceil() / 10.0)
    } else {
        format!("{:.0}{unit}", v.ceil())
    }
}

/// The JSON object of one file (`stat --json`, `ls --json`).
pub(crate) fn meta_json(path: &str, name: Option<&str>, m: &Metadata, link: Option<&str>) -> Value {
    let mut v = json!({
        "path": path,
        "type": type_word(m.file_type),
        "mode": m.mode,
        "permissions": format!("{:04o}", m.permissions()),
        "mode_string": mode_string(m.file_type, m.mode),
        "ino": m.ino,
        "nlink": m.nlink,
        "uid": m.uid,
        "gid": m.gid,
        "size": m.size,
        "blocks": m.blocks,
        "block_size": m.block_size,
        "rdev": m.rdev,
        "atime": rfc3339(m.atime),
        "mtime": rfc3339(m.mtime),
        "ctime": rfc3339(m.ctime),
        "atime_ns": ns(m.atime),
        "mtime_ns": ns(m.mtime),
        "ctime_ns": ns(m.ctime),
    });
    if let Some(n) = name {
        v["name"] = json!(n);
    }
    if let Some(l) = link {
        v["symlink_target"] = json!(l);
    }
    v
}

/// Nanoseconds since the epoch.
fn ns(t: Timestamp) -> i128 {
    i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos)
}

/// The JSON object of `df --json`.
pub(crate) fn statfs_json(server: &str, s: &StatFs) -> Value {
    let bs = u64::from(s.block_size);
    json!({
        "server": server,
        "block_size": s.block_size,
        "blocks": s.blocks,
        "blocks_free": s.blocks_free,
        "blocks_available": s.blocks_available,
        "size_bytes": s.blocks.saturating_mul(bs),
        "used_bytes": s.blocks.saturating_sub(s.blocks_free).saturating_mul(bs),
        "available_bytes": s.blocks_available.saturating_mul(bs),
        "files": s.files,
        "files_free": s.files_free,
        "filesystem_id": s.filesystem_id,
        "max_name_len": s.max_name_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(mode_string(FileType::Dir, 0o40755), "drwxr-xr-x");
        assert_eq!(mode_string(FileType::File, 0o4644), "-rwSr--r--");
        assert_eq!(mode_string(FileType::Dir, 0o1777), "drwxrwxrwt");
    }

    #[test]
    fn times() {
        let t = Timestamp { secs: 0, nanos: 5 };
        assert_eq!(rfc3339(t), "1970-01-01T00:00:00.000000005Z");
        let t = Timestamp { secs: 951_782_400 + 86_399, nanos: 0 };
        assert_eq!(short_time(t), "2000-02-29 23:59");
        let t = Timestamp { secs: -1, nanos: 0 };
        assert_eq!(short_time(t), "1969-12-31 23:59");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(1000), "1000");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(20 << 20), "20M");
    }
}
