//! Conversions between the client's types and the JavaScript objects the
//! facade sees, and the one error mapping.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use napi::bindgen_prelude::{BigInt, BigUint64Array, Buffer, Either, Uint8Array};
use napi::Status;
use napi_derive::napi;
use ninefold_client::{
    Capabilities, ConnectOptions, DirEntry, Error, FileType, Metadata, NodeKind, OpenOptions,
    SetAttrs, SetTime, StatFs, Timestamp,
};

/// A path argument: a string, or raw bytes for non-UTF-8 paths.
pub(crate) type PathArg = Either<String, Uint8Array>;

/// The path a [`PathArg`] names.
pub(crate) fn path(p: &PathArg) -> PathBuf {
    match p {
        Either::A(s) => PathBuf::from(s),
        Either::B(b) => PathBuf::from(OsStr::from_bytes(b)),
    }
}

/// The separator between the fields of an error message.
const SEP: char = '\u{1}';

/// The seed's variant name of an error.
fn variant(e: &Error) -> &'static str {
    match e {
        Error::NotFound => "NotFound",
        Error::PermissionDenied => "PermissionDenied",
        Error::NotPermitted => "NotPermitted",
        Error::AlreadyExists => "AlreadyExists",
        Error::NotADirectory => "NotADirectory",
        Error::IsADirectory => "IsADirectory",
        Error::DirectoryNotEmpty => "DirectoryNotEmpty",
        Error::NameTooLong => "NameTooLong",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::TooManySymlinks => "TooManySymlinks",
        Error::Closed => "Closed",
        Error::ConnectFailed(_) | Error::Tls(_) => "ConnectFailed",
        // Refused authentication or access: EACCES, with the reason.
        Error::AuthFailed(_) => "PermissionDenied",
        Error::Io(_) => "Io",
        Error::Protocol(_) => "Protocol",
        _ => "Io",
    }
}

/// The JavaScript error for a client error: `Variant␁ENAME␁errno␁text`.
pub(crate) fn to_js(e: Error) -> napi::Error {
    let errno = e.errno();
    let name = errno.name().unwrap_or("EIO");
    napi::Error::new(
        Status::GenericFailure,
        format!("{}{SEP}{name}{SEP}{}{SEP}{e}", variant(&e), errno.get()),
    )
}

/// The error of a call whose cancellation token fired.
pub(crate) fn aborted() -> napi::Error {
    napi::Error::new(
        Status::GenericFailure,
        format!("Aborted{SEP}ECANCELED{SEP}125{SEP}the operation was aborted"),
    )
}

/// A client-side `InvalidArgument` for a bad JavaScript value.
pub(crate) fn invalid(what: &str) -> napi::Error {
    to_js(Error::InvalidArgument(what.to_owned()))
}

/// A non-negative integer from a JavaScript bigint.
pub(crate) fn u64_of(b: &BigInt, what: &str) -> napi::Result<u64> {
    let (negative, v, lossless) = b.get_u64();
    if negative || !lossless {
        return Err(invalid(&format!("{what} must be a non-negative 64-bit integer")));
    }
    Ok(v)
}

/// A length from a JavaScript number.
pub(crate) fn len_of(n: f64) -> napi::Result<usize> {
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0) {
        return Err(invalid("len must be a non-negative integer"));
    }
    Ok(n as usize)
}

/// Bytes to a Node `Buffer` without copying when the client's buffer is
/// uniquely owned (a multi-chunk read); a single-chunk read is a slice of
/// the received frame and is copied once.
pub(crate) fn buffer(b: bytes::Bytes) -> Buffer {
    Buffer::from(Vec::from(b))
}

/// `Metadata` as the facade receives it: one `BigUint64Array` of
/// [`META_LEN`] words, in this order: ino, file type (the index of its
/// name in [`FILE_TYPES`]), mode, nlink, uid, gid, size, block size,
/// blocks, rdev, then seconds (two's complement) and nanoseconds of atime,
/// mtime, ctime and btime, then the data version. One typed array costs
/// the call a fraction of what an object of 19 properties (nine of them
/// bigints) does; `lib/records.js` unpacks it into a `Metadata`.
pub(crate) type JsMetadata = BigUint64Array;

/// Words in a [`JsMetadata`].
const META_LEN: usize = 19;

/// The `FileType` names, in the order of their indexes in [`JsMetadata`]
/// (the same list is in `lib/records.js`).
const FILE_TYPES: [FileType; 8] = [
    FileType::File,
    FileType::Dir,
    FileType::Symlink,
    FileType::Fifo,
    FileType::Socket,
    FileType::CharDevice,
    FileType::BlockDevice,
    FileType::Unknown,
];

fn file_type_index(t: FileType) -> u64 {
    FILE_TYPES.iter().position(|&x| x == t).unwrap_or(FILE_TYPES.len() - 1) as u64
}

/// Packs `m` (see [`JsMetadata`]).
pub(crate) fn meta(m: Metadata) -> JsMetadata {
    let t = |ts: Timestamp| [ts.secs as u64, u64::from(ts.nanos)];
    let [a0, a1] = t(m.atime);
    let [m0, m1] = t(m.mtime);
    let [c0, c1] = t(m.ctime);
    let [b0, b1] = t(m.btime);
    let words: [u64; META_LEN] = [
        m.ino,
        file_type_index(m.file_type),
        u64::from(m.mode),
        m.nlink,
        u64::from(m.uid),
        u64::from(m.gid),
        m.size,
        m.block_size,
        m.blocks,
        m.rdev,
        a0,
        a1,
        m0,
        m1,
        c0,
        c1,
        b0,
        b1,
        m.data_version,
    ];
    BigUint64Array::new(words.to_vec())
}

fn file_type(t: ninefold_client::FileType) -> String {
    format!("{t:?}")
}

/// One directory entry.
#[napi(object, object_from_js = false)]
pub struct JsDirEntry {
    /// Lossy UTF-8 name.
    pub name: String,
    /// Exact name bytes.
    pub name_bytes: Buffer,
    /// Whether `name` is exact.
    pub name_is_utf8: bool,
    /// `FileType` name.
    pub file_type: String,
    /// Inode number.
    pub ino: u64,
    /// Full metadata, with readdirplus only.
    pub metadata: Option<JsMetadata>,
}

impl std::fmt::Debug for JsDirEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsDirEntry")
            .field("name", &self.name)
            .field("name_bytes", &&self.name_bytes[..])
            .field("file_type", &self.file_type)
            .field("ino", &self.ino)
            .finish_non_exhaustive()
    }
}

impl From<DirEntry> for JsDirEntry {
    fn from(e: DirEntry) -> JsDirEntry {
        JsDirEntry {
            name: e.name,
            name_bytes: Buffer::from(e.name_bytes.to_vec()),
            name_is_utf8: e.name_is_utf8,
            file_type: file_type(e.file_type),
            ino: e.ino,
            metadata: e.metadata.map(meta),
        }
    }
}

/// Filesystem usage and limits.
#[derive(Debug)]
#[napi(object, object_from_js = false)]
pub struct JsStatFs {
    /// Block size.
    pub block_size: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub blocks_free: u64,
    /// Blocks available to unprivileged users.
    pub blocks_available: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub files_free: u64,
    /// Filesystem id.
    pub filesystem_id: u64,
    /// Longest name.
    pub max_name_len: u32,
}

impl From<StatFs> for JsStatFs {
    fn from(s: StatFs) -> JsStatFs {
        JsStatFs {
            block_size: s.block_size,
            blocks: s.blocks,
            blocks_free: s.blocks_free,
            blocks_available: s.blocks_available,
            files: s.files,
            files_free: s.files_free,
            filesystem_id: s.filesystem_id,
            max_name_len: s.max_name_len,
        }
    }
}

/// Negotiated session properties.
#[derive(Debug)]
#[napi(object, object_from_js = false)]
pub struct JsCapabilities {
    /// The negotiated dialect's version string (`9P2000.L.Z`, `9P2000.L`,
    /// `9P2000.u` or `9P2000`).
    pub dialect: String,
    /// ZeroFS extensions v1.
    pub extensions_v1: bool,
    /// ZeroFS extensions v2.
    pub extensions_v2: bool,
    /// Negotiated msize.
    pub msize: u32,
    /// Largest read payload per request.
    pub max_read_chunk: u32,
    /// Largest write payload per request.
    pub max_write_chunk: u32,
}

impl From<Capabilities> for JsCapabilities {
    fn from(c: Capabilities) -> JsCapabilities {
        JsCapabilities {
            dialect: c.dialect.version().to_string(),
            extensions_v1: c.extensions_v1,
            extensions_v2: c.extensions_v2,
            msize: c.msize,
            max_read_chunk: c.max_read_chunk,
            max_write_chunk: c.max_write_chunk,
        }
    }
}

/// `OpenOptions` (every field optional; defaults as in the client).
#[derive(Debug)]
#[napi(object, object_to_js = false)]
pub struct JsOpenOptions {
    /// Open for reading.
    pub read: Option<bool>,
    /// Open for writing.
    pub write: Option<bool>,
    /// Create if missing.
    pub create: Option<bool>,
    /// Fail unless this call creates the file.
    pub create_new: Option<bool>,
    /// Truncate to zero length.
    pub truncate: Option<bool>,
    /// Mode of a created file.
    pub mode: Option<u32>,
}

impl From<JsOpenOptions> for OpenOptions {
    fn from(o: JsOpenOptions) -> OpenOptions {
        let mut r = OpenOptions::new()
            .read(o.read.unwrap_or(false))
            .write(o.write.unwrap_or(false))
            .create(o.create.unwrap_or(false))
            .create_new(o.create_new.unwrap_or(false))
            .truncate(o.truncate.unwrap_or(false));
        if let Some(m) = o.mode {
            r = r.mode(m);
        }
        r
    }
}

/// `ConnectOptions`; `connectTimeoutMs` below zero means no timeout.
#[derive(Debug)]
#[napi(object, object_to_js = false)]
pub struct JsConnectOptions {
    /// uid asserted at attach.
    pub uid: Option<u32>,
    /// gid for created files.
    pub gid: Option<u32>,
    /// Informational user name.
    pub uname: Option<String>,
    /// Attach subtree.
    pub aname: Option<String>,
    /// Requested msize.
    pub msize: Option<u32>,
    /// Connect timeout in ms; negative waits indefinitely.
    pub connect_timeout_ms: Option<f64>,
    /// Most requests in flight at once.
    pub max_in_flight: Option<u32>,
}

impl From<JsConnectOptions> for ConnectOptions {
    fn from(o: JsConnectOptions) -> ConnectOptions {
        let mut r = ConnectOptions::new();
        if let Some(v) = o.uid {
            r = r.uid(v);
        }
        if let Some(v) = o.gid {
            r = r.gid(v);
        }
        if let Some(v) = o.uname {
            r = r.uname(v);
        }
        if let Some(v) = o.aname {
            r = r.aname(v);
        }
        if let Some(v) = o.msize {
            r = r.msize(v);
        }
        if let Some(v) = o.connect_timeout_ms {
            r = r.connect_timeout_ms(if v < 0.0 { None } else { Some(v as u64) });
        }
        if let Some(v) = o.max_in_flight {
            r = r.max_in_flight(v as usize);
        }
        r
    }
}

/// `SetAttrs`, with each time flattened: `*Now`, or `*Sec` + `*Nsec`.
#[derive(Debug)]
#[napi(object, object_to_js = false)]
pub struct JsSetAttrs {
    /// Permission bits.
    pub mode: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Size.
    pub size: Option<BigInt>,
    /// Set atime to the server's clock.
    pub atime_now: Option<bool>,
    /// Explicit atime, seconds.
    pub atime_sec: Option<i64>,
    /// Explicit atime, nanoseconds.
    pub atime_nsec: Option<u32>,
    /// Set mtime to the server's clock.
    pub mtime_now: Option<bool>,
    /// Explicit mtime, seconds.
    pub mtime_sec: Option<i64>,
    /// Explicit mtime, nanoseconds.
    pub mtime_nsec: Option<u32>,
}

fn set_time(now: Option<bool>, sec: Option<i64>, nsec: Option<u32>) -> Option<SetTime> {
    if now == Some(true) {
        return Some(SetTime::Now);
    }
    sec.map(|secs| SetTime::At(Timestamp { secs, nanos: nsec.unwrap_or(0) }))
}

impl TryFrom<JsSetAttrs> for SetAttrs {
    type Error = napi::Error;

    fn try_from(a: JsSetAttrs) -> napi::Result<SetAttrs> {
        Ok(SetAttrs {
            mode: a.mode,
            uid: a.uid,
            gid: a.gid,
            size: a.size.as_ref().map(|s| u64_of(s, "size")).transpose()?,
            atime: set_time(a.atime_now, a.atime_sec, a.atime_nsec),
            mtime: set_time(a.mtime_now, a.mtime_sec, a.mtime_nsec),
        })
    }
}

/// `NodeKind`: `kind` is `Fifo`, `Socket`, `BlockDevice` or `CharDevice`.
#[derive(Debug)]
#[napi(object, object_to_js = false)]
pub struct JsNodeKind {
    /// The variant name.
    pub kind: String,
    /// Major number of a device.
    pub major: Option<u32>,
    /// Minor number of a device.
    pub minor: Option<u32>,
}

impl TryFrom<JsNodeKind> for NodeKind {
    type Error = napi::Error;

    fn try_from(k: JsNodeKind) -> napi::Result<NodeKind> {
        let (major, minor) = (k.major.unwrap_or(0), k.minor.unwrap_or(0));
        Ok(match k.kind.as_str() {
            "Fifo" => NodeKind::Fifo,
            "Socket" => NodeKind::Socket,
            "BlockDevice" => NodeKind::BlockDevice { major, minor },
            "CharDevice" => NodeKind::CharDevice { major, minor },
            other => return Err(invalid(&format!("unknown NodeKind {other:?}"))),
        })
    }
}

/// A JavaScript byte payload as `Bytes` without copying it: the `Bytes`
/// keeps the JavaScript buffer referenced until the last chunk is sent.
pub(crate) fn bytes_of(data: Uint8Array) -> bytes::Bytes {
    bytes::Bytes::from_owner(Payload(data))
}

struct Payload(Uint8Array);

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A handle that a `close()` empties, so that the Rust value is dropped at
/// once rather than when the JavaScript object is collected.
#[derive(Debug)]
pub(crate) struct Slot<T>(std::sync::Mutex<Option<T>>);

impl<T: Clone> Slot<T> {
    pub(crate) fn new(v: T) -> Slot<T> {
        Slot(std::sync::Mutex::new(Some(v)))
    }

    /// The value, or the `Closed` error.
    pub(crate) fn get(&self) -> napi::Result<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or_else(|| to_js(Error::Closed))
    }

    /// Empties the slot.
    pub(crate) fn take(&self) -> Option<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
