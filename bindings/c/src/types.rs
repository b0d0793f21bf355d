//! The plain records that cross the boundary, and their conversions.

use std::ffi::c_char;

use ninefold_client::{
    Capabilities, ConnectOptions, DirEntry, FileType, Metadata, NodeKind, OpenOptions, SetAttrs,
    SetTime, StatFs, Timestamp,
};

use crate::{Fail, NfBuf};

/// Seconds and nanoseconds since the Unix epoch.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfTimestamp {
    /// Seconds (negative before the epoch).
    pub secs: i64,
    /// Nanoseconds, below 10^9.
    pub nanos: u32,
}

impl From<Timestamp> for NfTimestamp {
    fn from(t: Timestamp) -> Self {
        NfTimestamp { secs: t.secs, nanos: t.nanos }
    }
}

/// `FileType` values.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum NfFileType {
    /// Regular file.
    NF_FILE = 0,
    /// Directory.
    NF_DIR = 1,
    /// Symbolic link.
    NF_SYMLINK = 2,
    /// Named pipe.
    NF_FIFO = 3,
    /// Unix socket.
    NF_SOCKET = 4,
    /// Character device.
    NF_CHAR_DEVICE = 5,
    /// Block device.
    NF_BLOCK_DEVICE = 6,
    /// Unknown.
    NF_UNKNOWN = 7,
}

pub(crate) fn file_type(t: FileType) -> u32 {
    let v = match t {
        FileType::File => NfFileType::NF_FILE,
        FileType::Dir => NfFileType::NF_DIR,
        FileType::Symlink => NfFileType::NF_SYMLINK,
        FileType::Fifo => NfFileType::NF_FIFO,
        FileType::Socket => NfFileType::NF_SOCKET,
        FileType::CharDevice => NfFileType::NF_CHAR_DEVICE,
        FileType::BlockDevice => NfFileType::NF_BLOCK_DEVICE,
        FileType::Unknown => NfFileType::NF_UNKNOWN,
    };
    v as u32
}

/// File metadata (`stat(2)`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfMetadata {
    /// Inode number.
    pub ino: u64,
    /// An [`NfFileType`] value.
    pub file_type: u32,
    /// Full `st_mode`.
    pub mode: u32,
    /// Hard links.
    pub nlink: u64,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O size.
    pub block_size: u64,
    /// Allocated 512-byte blocks.
    pub blocks: u64,
    /// Device number.
    pub rdev: u64,
    /// Last access.
    pub atime: NfTimestamp,
    /// Last modification.
    pub mtime: NfTimestamp,
    /// Last status change.
    pub ctime: NfTimestamp,
    /// Birth time (reserved; 0).
    pub btime: NfTimestamp,
    /// Data version (reserved; 0).
    pub data_version: u64,
}

impl From<Metadata> for NfMetadata {
    fn from(m: Metadata) -> Self {
        NfMetadata {
            ino: m.ino,
            file_type: file_type(m.file_type),
            mode: m.mode,
            nlink: m.nlink,
            uid: m.uid,
            gid: m.gid,
            size: m.size,
            block_size: m.block_size,
            blocks: m.blocks,
            rdev: m.rdev,
            atime: m.atime.into(),
            mtime: m.mtime.into(),
            ctime: m.ctime.into(),
            btime: m.btime.into(),
            data_version: m.data_version,
        }
    }
}

/// One directory entry.
#[repr(C)]
#[derive(Debug)]
pub struct NfDirEntry {
    /// The name as UTF-8 (invalid bytes replaced by U+FFFD).
    pub name: NfBuf,
    /// The exact name bytes (for the `*_at` calls).
    pub name_bytes: NfBuf,
    /// Whether `name` is exact.
    pub name_is_utf8: bool,
    /// An [`NfFileType`] value.
    pub file_type: u32,
    /// Inode number.
    pub ino: u64,
    /// Whether `metadata` is filled (readdirplus only).
    pub has_metadata: bool,
    /// Full metadata when `has_metadata`.
    pub metadata: NfMetadata,
}

/// An array of entries the library allocated: free it with
/// [`nf_dir_entries_free`](crate::nf_dir_entries_free).
#[repr(C)]
#[derive(Debug)]
pub struct NfDirEntries {
    /// First entry (NULL when empty).
    pub ptr: *mut NfDirEntry,
    /// Entries.
    pub len: usize,
    /// Allocated capacity (needed to free it).
    pub cap: usize,
}

impl NfDirEntries {
    pub(crate) fn from_entries(v: Vec<DirEntry>) -> NfDirEntries {
        let out: Vec<NfDirEntry> = v
            .into_iter()
            .map(|e| NfDirEntry {
                name: NfBuf::from_vec(e.name.into_bytes()),
                name_bytes: NfBuf::from_bytes(e.name_bytes),
                name_is_utf8: e.name_is_utf8,
                file_type: file_type(e.file_type),
                ino: e.ino,
                has_metadata: e.metadata.is_some(),
                metadata: e.metadata.map(NfMetadata::from).unwrap_or_default(),
            })
            .collect();
        if out.capacity() == 0 {
            return NfDirEntries { ptr: std::ptr::null_mut(), len: 0, cap: 0 };
        }
        let mut out = std::mem::ManuallyDrop::new(out);
        NfDirEntries { ptr: out.as_mut_ptr(), len: out.len(), cap: out.capacity() }
    }
}

/// Frees an entry array (and every name in it) and empties it.
///
/// # Safety
/// `entries` is NULL or points to an `NfDirEntries` the library filled.
#[no_mangle]
pub unsafe extern "C" fn nf_dir_entries_free(entries: *mut NfDirEntries) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: NULL or a valid array filled by this library (contract).
        let Some(e) = (unsafe { entries.as_mut() }) else { return };
        if !e.ptr.is_null() && e.cap != 0 {
            // SAFETY: ptr/len/cap came from a leaked Vec<NfDirEntry> in
            // from_entries and were not freed before.
            let v = unsafe { Vec::from_raw_parts(e.ptr, e.len, e.cap) };
            for mut entry in v {
                // SAFETY: both names came from NfBuf::from_bytes (from_vec uses it).
                unsafe {
                    crate::nf_buf_free(&mut entry.name);
                    crate::nf_buf_free(&mut entry.name_bytes);
                }
            }
        }
        *e = NfDirEntries { ptr: std::ptr::null_mut(), len: 0, cap: 0 };
    }));
}

/// Filesystem usage (`statfs(2)`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfStatFs {
    /// Block size.
    pub block_size: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub blocks_free: u64,
    /// Free blocks for unprivileged users.
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

impl From<StatFs> for NfStatFs {
    fn from(s: StatFs) -> Self {
        NfStatFs {
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
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfCapabilities {
    /// ZeroFS extensions, first generation.
    pub extensions_v1: bool,
    /// ZeroFS extensions, second generation.
    pub extensions_v2: bool,
    /// Negotiated msize.
    pub msize: u32,
    /// Bytes per Tread.
    pub max_read_chunk: u32,
    /// Bytes per Twrite.
    pub max_write_chunk: u32,
    /// The negotiated dialect's version string (`9P2000.L.Z`, `9P2000.L`,
    /// `9P2000.u` or `9P2000`), NUL-terminated.
    pub dialect: [c_char; NF_DIALECT_LEN],
}

/// Bytes of [`NfCapabilities::dialect`], its terminating NUL included.
pub const NF_DIALECT_LEN: usize = 16;

impl From<Capabilities> for NfCapabilities {
    fn from(c: Capabilities) -> Self {
        let mut dialect = [0 as c_char; NF_DIALECT_LEN];
        // Every version string is ASCII and shorter than the field; one
        // that were not would be cut, never left unterminated.
        for (d, b) in dialect.iter_mut().zip(c.dialect.version().bytes().take(NF_DIALECT_LEN - 1)) {
            *d = b as c_char;
        }
        NfCapabilities {
            extensions_v1: c.extensions_v1,
            extensions_v2: c.extensions_v2,
            msize: c.msize,
            max_read_chunk: c.max_read_chunk,
            max_write_chunk: c.max_write_chunk,
            dialect,
        }
    }
}

/// How to open a file (defaults: all false, mode 0644).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NfOpenOptions {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create if missing.
    pub create: bool,
    /// Fail unless this call creates the file.
    pub create_new: bool,
    /// Truncate to zero length.
    pub truncate: bool,
    /// Permission bits of a created file.
    pub mode: u32,
}

impl From<NfOpenOptions> for OpenOptions {
    fn from(o: NfOpenOptions) -> Self {
        OpenOptions::new()
            .read(o.read)
            .write(o.write)
            .create(o.create)
            .create_new(o.create_new)
            .truncate(o.truncate)
            .mode(o.mode)
    }
}

/// Identity and tuning for a connection; every `has_*` false (or zero)
/// field keeps the client's default. Strings are separate arguments of
/// [`nf_client_connect_with`](crate::nf_client_connect_with).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfConnectOptions {
    /// Whether `uid` is set (default: the process's effective uid).
    pub has_uid: bool,
    /// Numeric user id sent at attach.
    pub uid: u32,
    /// Whether `gid` is set (default: the effective gid).
    pub has_gid: bool,
    /// Group of everything this client creates.
    pub gid: u32,
    /// Requested msize; 0 keeps the default (1 MiB).
    pub msize: u32,
    /// Whether `connect_timeout_ms` is set (default: 30000).
    pub has_connect_timeout: bool,
    /// Bound on dial + negotiation + attach in ms; 0 waits indefinitely.
    pub connect_timeout_ms: u64,
    /// Requests in flight at once; 0 keeps the default.
    pub max_in_flight: usize,
}

/// The client's defaults, for callers that show them.
#[repr(C)]
#[derive(Debug)]
pub struct NfConnectDefaults {
    /// The process's effective uid.
    pub uid: u32,
    /// The process's effective gid.
    pub gid: u32,
    /// `$USER` or the uid as text; free with `nf_buf_free`.
    pub uname: NfBuf,
    /// Default msize.
    pub msize: u32,
    /// Default connect timeout in ms.
    pub connect_timeout_ms: u64,
    /// Default bound on requests in flight.
    pub max_in_flight: usize,
}

/// Fills `out` with the client's default connect options.
///
/// # Safety
/// `out` is NULL (then nothing happens) or writable.
#[no_mangle]
pub unsafe extern "C" fn nf_connect_defaults(out: *mut NfConnectDefaults) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Ok(out) = crate::Out::new(out) else { return };
        let d = ConnectOptions::default();
        out.set(NfConnectDefaults {
            uid: d.uid,
            gid: d.gid,
            uname: NfBuf::from_vec(d.uname.into_bytes()),
            msize: d.msize,
            connect_timeout_ms: d.connect_timeout_ms.unwrap_or(0),
            max_in_flight: d.max_in_flight,
        });
    }));
}

pub(crate) fn connect_options(
    o: Option<&NfConnectOptions>,
    uname: Option<&[u8]>,
    aname: &[u8],
) -> Result<ConnectOptions, Fail> {
    let mut c = ConnectOptions::default();
    if let Some(u) = uname {
        c.uname = String::from_utf8(u.to_vec()).map_err(|_| Fail::Arg("uname is not UTF-8"))?;
    }
    c.aname = String::from_utf8(aname.to_vec()).map_err(|_| Fail::Arg("aname is not UTF-8"))?;
    if let Some(o) = o {
        if o.has_uid {
            c.uid = o.uid;
        }
        if o.has_gid {
            c.gid = o.gid;
        }
        if o.msize != 0 {
            c.msize = o.msize;
        }
        if o.has_connect_timeout {
            c.connect_timeout_ms = (o.connect_timeout_ms != 0).then_some(o.connect_timeout_ms);
        }
        if o.max_in_flight != 0 {
            c.max_in_flight = o.max_in_flight;
        }
    }
    Ok(c)
}

/// `NfSetTime::kind` values.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum NfSetTimeKind {
    /// Leave the time unchanged.
    NF_TIME_UNCHANGED = 0,
    /// The server's clock.
    NF_TIME_NOW = 1,
    /// The explicit `at`.
    NF_TIME_AT = 2,
}

/// A time to set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfSetTime {
    /// An [`NfSetTimeKind`] value.
    pub kind: u32,
    /// The time when `kind` is `NF_TIME_AT`.
    pub at: NfTimestamp,
}

impl NfSetTime {
    pub(crate) fn to_client(self) -> Result<Option<SetTime>, Fail> {
        match self.kind {
            0 => Ok(None),
            1 => Ok(Some(SetTime::Now)),
            2 => Ok(Some(SetTime::At(Timestamp { secs: self.at.secs, nanos: self.at.nanos }))),
            _ => Err(Fail::Arg("unknown NfSetTime kind")),
        }
    }
}

/// Metadata changes; each `has_*` false field is left alone.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfSetAttrs {
    /// Whether `mode` is set.
    pub has_mode: bool,
    /// Permission bits.
    pub mode: u32,
    /// Whether `uid` is set.
    pub has_uid: bool,
    /// Owner.
    pub uid: u32,
    /// Whether `gid` is set.
    pub has_gid: bool,
    /// Group.
    pub gid: u32,
    /// Whether `size` is set.
    pub has_size: bool,
    /// Size.
    pub size: u64,
    /// Access time.
    pub atime: NfSetTime,
    /// Modification time.
    pub mtime: NfSetTime,
}

impl NfSetAttrs {
    pub(crate) fn to_client(self) -> Result<SetAttrs, Fail> {
        Ok(SetAttrs {
            mode: self.has_mode.then_some(self.mode),
            uid: self.has_uid.then_some(self.uid),
            gid: self.has_gid.then_some(self.gid),
            size: self.has_size.then_some(self.size),
            atime: self.atime.to_client()?,
            mtime: self.mtime.to_client()?,
        })
    }
}

/// `NfNodeKind::kind` values.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum NfNodeKindTag {
    /// A named pipe.
    NF_NODE_FIFO = 0,
    /// A unix socket node.
    NF_NODE_SOCKET = 1,
    /// A block device (`major`, `minor`).
    NF_NODE_BLOCK_DEVICE = 2,
    /// A character device (`major`, `minor`).
    NF_NODE_CHAR_DEVICE = 3,
}

/// The kind of node `mknod` makes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NfNodeKind {
    /// An [`NfNodeKindTag`] value.
    pub kind: u32,
    /// Major device number.
    pub major: u32,
    /// Minor device number.
    pub minor: u32,
}

impl NfNodeKind {
    pub(crate) fn to_client(self) -> Result<NodeKind, Fail> {
        let (major, minor) = (self.major, self.minor);
        match self.kind {
            0 => Ok(NodeKind::Fifo),
            1 => Ok(NodeKind::Socket),
            2 => Ok(NodeKind::BlockDevice { major, minor }),
            3 => Ok(NodeKind::CharDevice { major, minor }),
            _ => Err(Fail::Arg("unknown NfNodeKind kind")),
        }
    }
}
