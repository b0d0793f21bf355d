//! File modes: Linux `st_mode` type bits, `DT_*` directory-entry types, and
//! the 9P2000 `DM*` mode word and `O*` open modes.

use std::fmt;

use crate::wire::{wire_bitflags, wire_newtype};
use crate::Qid;

/// Mask of the file-type bits of a Linux mode (as carried by 9P2000.L).
pub const S_IFMT: u32 = 0o170000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// FIFO.
pub const S_IFIFO: u32 = 0o010000;

/// The `type[1]` of a directory entry: a `DT_*` value, as `d_type` of
/// `getdents(2)`. Not a qid type.
///
/// ```
/// use ninefold_proto::{DirentType, S_IFDIR};
/// assert_eq!(DirentType::from_mode(S_IFDIR | 0o755), DirentType::DIR);
/// assert_eq!(DirentType::DIR.0, 4);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DirentType(pub u8);

impl DirentType {
    /// DT_UNKNOWN.
    pub const UNKNOWN: DirentType = DirentType(0);
    /// DT_FIFO.
    pub const FIFO: DirentType = DirentType(1);
    /// DT_CHR.
    pub const CHR: DirentType = DirentType(2);
    /// DT_DIR.
    pub const DIR: DirentType = DirentType(4);
    /// DT_BLK.
    pub const BLK: DirentType = DirentType(6);
    /// DT_REG.
    pub const REG: DirentType = DirentType(8);
    /// DT_LNK.
    pub const LNK: DirentType = DirentType(10);
    /// DT_SOCK.
    pub const SOCK: DirentType = DirentType(12);

    /// The entry type of a Linux mode.
    pub const fn from_mode(mode: u32) -> DirentType {
        match mode & S_IFMT {
            S_IFIFO => DirentType::FIFO,
            S_IFCHR => DirentType::CHR,
            S_IFDIR => DirentType::DIR,
            S_IFBLK => DirentType::BLK,
            S_IFREG => DirentType::REG,
            S_IFLNK => DirentType::LNK,
            S_IFSOCK => DirentType::SOCK,
            _ => DirentType::UNKNOWN,
        }
    }

    /// The best entry type a qid alone tells: DIR, LNK or REG.
    pub const fn from_qid(qid: &Qid) -> DirentType {
        if qid.is_dir() {
            DirentType::DIR
        } else if qid.is_symlink() {
            DirentType::LNK
        } else {
            DirentType::REG
        }
    }
}

impl fmt::Debug for DirentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            DirentType::UNKNOWN => "DT_UNKNOWN",
            DirentType::FIFO => "DT_FIFO",
            DirentType::CHR => "DT_CHR",
            DirentType::DIR => "DT_DIR",
            DirentType::BLK => "DT_BLK",
            DirentType::REG => "DT_REG",
            DirentType::LNK => "DT_LNK",
            DirentType::SOCK => "DT_SOCK",
            DirentType(other) => return write!(f, "DirentType({other})"),
        };
        f.write_str(name)
    }
}

wire_newtype! {
    DirentType => u8;
}

bitflags::bitflags! {
    /// The 9P2000 `mode`/`perm` word of stat records and Tcreate: `DM*` type
    /// bits over Unix permission bits. The 9P2000.u bits describe special
    /// files (their details travel in the `extension` string).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DirMode: u32 {
        /// DMDIR: a directory.
        const DIR = 0x8000_0000;
        /// DMAPPEND: append only.
        const APPEND = 0x4000_0000;
        /// DMEXCL: exclusive use.
        const EXCL = 0x2000_0000;
        /// DMMOUNT: a mounted channel.
        const MOUNT = 0x1000_0000;
        /// DMAUTH: an authentication file.
        const AUTH = 0x0800_0000;
        /// DMTMP: not backed up.
        const TMP = 0x0400_0000;
        /// DMSYMLINK (.u): a symbolic link; the target is the extension.
        const SYMLINK = 0x0200_0000;
        /// DMLINK (.u): a hard link; the extension is the target's fid.
        const LINK = 0x0100_0000;
        /// DMDEVICE (.u): a device; the extension is `b|c major minor`.
        const DEVICE = 0x0080_0000;
        /// DMNAMEDPIPE (.u): a FIFO.
        const NAMEDPIPE = 0x0020_0000;
        /// DMSOCKET (.u): a socket.
        const SOCKET = 0x0010_0000;
        /// DMSETUID (.u): set-user-id.
        const SETUID = 0x0008_0000;
        /// DMSETGID (.u): set-group-id.
        const SETGID = 0x0004_0000;
        /// DMSETVTX (.u): sticky.
        const SETVTX = 0x0001_0000;
        /// The nine permission bits (rwx for owner, group, other).
        const PERM = 0o777;
    }
}

impl DirMode {
    /// The permission bits.
    pub const fn perm(self) -> u32 {
        self.bits() & 0o777
    }
}

bitflags::bitflags! {
    /// The `mode[1]` of 9P2000 Topen and Tcreate: an access mode in the low
    /// two bits plus option bits. (`OEXCL`, 0x1000, which Linux computes for
    /// 9P2000.u, does not fit the one-byte field and never reaches the wire.)
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct OpenMode: u8 {
        /// OWRITE.
        const WRITE = 1;
        /// ORDWR.
        const RDWR = 2;
        /// OEXEC.
        const EXEC = 3;
        /// OTRUNC: truncate on open.
        const TRUNC = 0x10;
        /// OCEXEC: close on exec (client side).
        const CEXEC = 0x20;
        /// ORCLOSE: remove the file when the fid is clunked.
        const RCLOSE = 0x40;
        /// OAPPEND (Linux .u): append.
        const APPEND = 0x80;
    }
}

impl OpenMode {
    /// OREAD: read access (no bits set).
    pub const READ: OpenMode = OpenMode::empty();

    /// The access-mode part (`READ`, `WRITE`, `RDWR` or `EXEC`).
    pub const fn access(self) -> OpenMode {
        OpenMode::from_bits_retain(self.bits() & 3)
    }
}

wire_bitflags! {
    DirMode => u32;
    OpenMode => u8;
}
