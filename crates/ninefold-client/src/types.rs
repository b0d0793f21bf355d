//! Result records: [`FileType`], [`Metadata`], [`DirEntry`], [`StatFs`],
//! [`Capabilities`].

use bytes::Bytes;
use ninefold_proto::{
    l, DirentType, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};

use crate::options::Timestamp;

/// The type of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FileType {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Not known (a directory entry whose server sent `DT_UNKNOWN`).
    Unknown,
}

impl FileType {
    /// The type of a Linux `st_mode`.
    pub fn from_mode(mode: u32) -> FileType {
        match mode & S_IFMT {
            S_IFREG => FileType::File,
            S_IFDIR => FileType::Dir,
            S_IFLNK => FileType::Symlink,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            S_IFCHR => FileType::CharDevice,
            S_IFBLK => FileType::BlockDevice,
            _ => FileType::Unknown,
        }
    }

    /// The type of a directory entry's `DT_*` value.
    pub fn from_dirent(ty: DirentType) -> FileType {
        match ty {
            DirentType::REG => FileType::File,
            DirentType::DIR => FileType::Dir,
            DirentType::LNK => FileType::Symlink,
            DirentType::FIFO => FileType::Fifo,
            DirentType::SOCK => FileType::Socket,
            DirentType::CHR => FileType::CharDevice,
            DirentType::BLK => FileType::BlockDevice,
            _ => FileType::Unknown,
        }
    }
}

/// File metadata, as `stat(2)` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Metadata {
    /// Inode number (the qid path).
    pub ino: u64,
    /// File type.
    pub file_type: FileType,
    /// Full `st_mode`: type and permission bits.
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
    /// Device number (device files).
    pub rdev: u64,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification.
    pub mtime: Timestamp,
    /// Last status change.
    pub ctime: Timestamp,
    /// Birth time (reserved; servers currently report 0).
    pub btime: Timestamp,
    /// Data version (reserved; servers currently report 0).
    pub data_version: u64,
}

impl Metadata {
    /// From a 9P2000.L attribute block.
    pub fn from_attr(a: &l::Attr) -> Metadata {
        Metadata {
            ino: a.qid.path,
            file_type: FileType::from_mode(a.mode),
            mode: a.mode,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            size: a.size,
            block_size: a.blksize,
            blocks: a.blocks,
            rdev: a.rdev,
            atime: Timestamp::from_wire(a.atime_sec, a.atime_nsec),
            mtime: Timestamp::from_wire(a.mtime_sec, a.mtime_nsec),
            ctime: Timestamp::from_wire(a.ctime_sec, a.ctime_nsec),
            btime: Timestamp::from_wire(a.btime_sec, a.btime_nsec),
            data_version: a.data_version,
        }
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.file_type == FileType::File
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Dir
    }

    /// A symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type == FileType::Symlink
    }

    /// The permission bits (`mode & 0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DirEntry {
    /// The name as UTF-8, lossy (invalid bytes become U+FFFD).
    pub name: String,
    /// The exact name bytes: feed these to the `*_at` methods.
    #[cfg_attr(feature = "serde", serde(with = "serde_bytes_compat"))]
    pub name_bytes: Bytes,
    /// Whether `name` is exact (the bytes are valid UTF-8).
    pub name_is_utf8: bool,
    /// The entry's type as the server listed it.
    pub file_type: FileType,
    /// Inode number.
    pub ino: u64,
    /// Full metadata: present only when readdirplus is negotiated (never on
    /// plain 9P2000.L).
    pub metadata: Option<Metadata>,
}

impl DirEntry {
    pub(crate) fn from_dirent(d: &l::Dirent) -> DirEntry {
        let bytes = d.name.clone().into_bytes();
        let (name, name_is_utf8) = match std::str::from_utf8(&bytes) {
            Ok(s) => (s.to_owned(), true),
            Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), false),
        };
        DirEntry {
            name,
            name_bytes: bytes,
            name_is_utf8,
            file_type: FileType::from_dirent(d.ty),
            ino: d.qid.path,
            metadata: None,
        }
    }

    /// An entry of Rreaddirattr (`9P2000.L.Z`): metadata filled.
    pub(crate) fn from_dirent_attr(d: &ninefold_proto::z::DirentAttr) -> DirEntry {
        let plain = l::Dirent { qid: d.qid, offset: d.offset, ty: d.ty, name: d.name.clone() };
        let mut e = DirEntry::from_dirent(&plain);
        e.metadata = Some(Metadata::from_attr(&d.attr));
        e
    }

    /// An entry of a 9P2000/.u directory read: metadata filled.
    pub(crate) fn from_stat(st: &ninefold_proto::base::Stat) -> DirEntry {
        let meta = crate::op::meta_from_stat(st);
        let plain = l::Dirent {
            qid: st.qid,
            offset: 0,
            ty: DirentType::from_mode(meta.mode),
            name: st.name.clone(),
        };
        let mut e = DirEntry::from_dirent(&plain);
        e.metadata = Some(meta);
        e
    }
}

#[cfg(feature = "serde")]
mod serde_bytes_compat {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        Vec::<u8>::deserialize(d).map(Bytes::from)
    }
}

/// Filesystem usage and limits, as `statfs(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct StatFs {
    /// Block size.
    pub block_size: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub blocks_free: u64,
    /// Free blocks available to unprivileged users.
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

impl From<l::Rstatfs> for StatFs {
    fn from(r: l::Rstatfs) -> StatFs {
        StatFs {
            block_size: r.bsize,
            blocks: r.blocks,
            blocks_free: r.bfree,
            blocks_available: r.bavail,
            files: r.files,
            files_free: r.ffree,
            filesystem_id: r.fsid,
            max_name_len: r.namelen,
        }
    }
}

/// Negotiated session properties: a snapshot (it may change across
/// reconnects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Capabilities {
    /// The negotiated dialect (`9P2000.L.Z`, `9P2000.L`, `9P2000.u` or
    /// `9P2000`).
    #[cfg_attr(feature = "serde", serde(with = "crate::types::dialect_serde"))]
    pub dialect: ninefold_proto::Dialect,
    /// ZeroFS extensions (`9P2000.L.Z`: the one-round-trip messages,
    /// readdirplus); `false` on every other dialect.
    pub extensions_v1: bool,
    /// ZeroFS extensions, second generation (`9P2000.L.Z`: the mutation
    /// envelope, Tfsyncdur, Tgetlineage, Trebind); `false` on every other
    /// dialect.
    pub extensions_v2: bool,
    /// Negotiated msize.
    pub msize: u32,
    /// Bytes asked for per Tread/Treaddir: `msize - 11` on `9P2000.L.Z`,
    /// `msize - 24` (the Linux client's rule) on other dialects.
    pub max_read_chunk: u32,
    /// Bytes sent per Twrite: `msize - 48` on `9P2000.L.Z` (envelope),
    /// `msize - 24` on other dialects.
    pub max_write_chunk: u32,
}

/// Dialects as their version strings in serde.
#[cfg(feature = "serde")]
pub(crate) mod dialect_serde {
    use ninefold_proto::Dialect;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Dialect, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.version())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Dialect, D::Error> {
        let v = String::deserialize(d)?;
        Dialect::from_version(v.as_bytes()).ok_or_else(|| D::Error::custom("unknown dialect"))
    }

    /// A list of dialects.
    pub(crate) mod list {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(v: &[Dialect], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|d| d.version()))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<Dialect>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|v| {
                    Dialect::from_version(v.as_bytes())
                        .ok_or_else(|| D::Error::custom("unknown dialect"))
                })
                .collect()
        }
    }
}
