//! Linux errno values as carried by 9P: names, messages and host conversions.
//!
//! 9P2000.L replies with `Rlerror ecode[4]`, and 9P2000.u adds an `errno[4]` field to
//! `Rerror ename[s]`. In both cases the number is a *Linux* errno, whatever operating system
//! runs at either end of the connection. Plain 9P2000 only has the `ename[s]` string; the
//! Linux kernel client turns such strings back into numbers through a fixed table (the glibc
//! `strerror` texts plus messages sent by Plan 9 servers such as fossil, vacfs and u9fs).
//!
//! [`Errno`] is the single place in this crate where errno numbers get names and messages and
//! are translated to and from the host's own errno values and [`std::io::Error`].

use std::fmt;
use std::io;

/// A Linux errno value as carried on the 9P wire.
///
/// The numbering is the generic Linux one (x86, x86-64, Arm, RISC-V, ...), independent of the
/// host this code runs on. Values `1..=4095` are meaningful on the wire (see
/// [`Errno::is_valid_wire`]); `0` means "no errno". Any `u32` can be stored, so a value read
/// from the wire is never rejected here.
///
/// Every errno Linux defines from [`Errno::EPERM`] (1) to [`Errno::EHWPOISON`] (133) has an
/// associated constant, as do the aliases [`Errno::EWOULDBLOCK`], [`Errno::EDEADLOCK`] and
/// [`Errno::ENOTSUP`].
///
/// # Examples
///
/// ```
/// use ninefold_proto::Errno;
///
/// let e = Errno::ENOENT;
/// assert_eq!(e.get(), 2);
/// assert_eq!(e.name(), Some("ENOENT"));
/// assert_eq!(e.message(), "No such file or directory");
/// assert_eq!(e.to_string(), "ENOENT: No such file or directory");
/// assert_eq!(format!("{e:?}"), "Errno(ENOENT)");
///
/// // Strings from 9P2000 `Rerror` replies map back to numbers.
/// assert_eq!(Errno::from_message(b"No such file or directory"), Some(Errno::ENOENT));
/// assert_eq!(Errno::from_message(b"file not found"), Some(Errno::ENOENT));
/// assert_eq!(Errno::from_name("EWOULDBLOCK"), Some(Errno::EAGAIN));
///
/// // Numbers without a name are carried through unchanged.
/// let odd = Errno::new(4000);
/// assert!(odd.is_valid_wire());
/// assert_eq!(odd.name(), None);
/// assert_eq!(odd.to_string(), "errno 4000: Unknown error");
///
/// // Conversions to and from `std::io::Error`.
/// let io_err = std::io::Error::from(Errno::ENOENT);
/// assert_eq!(io_err.kind(), std::io::ErrorKind::NotFound);
/// assert_eq!(Errno::from(&io_err), Errno::ENOENT);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(u32);

/// One row of [`TABLE`]: a value, its canonical name and its glibc `strerror` text.
struct Row {
    errno: Errno,
    name: &'static str,
    message: &'static str,
}

/// Defines the associated constants and [`TABLE`] from one list, plus (for tests on Linux)
/// `LIBC_CHECK`, pairing every row with `libc`'s constant of the same name.
macro_rules! errno_table {
    ($($name:ident = $num:literal => $msg:literal;)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($num), "): ", $msg, ".")]
                pub const $name: Errno = Errno($num);
            )*
        }

        /// Every named Linux errno, sorted by number, under its canonical name.
        static TABLE: &[Row] = &[
            $(Row { errno: Errno::$name, name: stringify!($name), message: $msg },)*
        ];

        /// `(name, number in TABLE, libc constant)` for every row of [`TABLE`].
        #[cfg(all(test, any(target_os = "linux", target_os = "android")))]
        const LIBC_CHECK: &[(&str, u32, i32)] = &[$((stringify!($name), $num, libc::$name),)*];
    };
}

errno_table! {
    EPERM = 1 => "Operation not permitted";
    ENOENT = 2 => "No such file or directory";
    ESRCH = 3 => "No such process";
    EINTR = 4 => "Interrupted system call";
    EIO = 5 => "Input/output error";
    ENXIO = 6 => "No such device or address";
    E2BIG = 7 => "Argument list too long";
    ENOEXEC = 8 => "Exec format error";
    EBADF = 9 => "Bad file descriptor";
    ECHILD = 10 => "No child processes";
    EAGAIN = 11 => "Resource temporarily unavailable";
    ENOMEM = 12 => "Cannot allocate memory";
    EACCES = 13 => "Permission denied";
    EFAULT = 14 => "Bad address";
    ENOTBLK = 15 => "Block device required";
    EBUSY = 16 => "Device or resource busy";
    EEXIST = 17 => "File exists";
    EXDEV = 18 => "Invalid cross-device link";
    ENODEV = 19 => "No such device";
    ENOTDIR = 20 => "Not a directory";
    EISDIR = 21 => "Is a directory";
    EINVAL = 22 => "Invalid argument";
    ENFILE = 23 => "Too many open files in system";
    EMFILE = 24 => "Too many open files";
    ENOTTY = 25 => "Inappropriate ioctl for device";
    ETXTBSY = 26 => "Text file busy";
    EFBIG = 27 => "File too large";
    ENOSPC = 28 => "No space left on device";
    ESPIPE = 29 => "Illegal seek";
    EROFS = 30 => "Read-only file system";
    EMLINK = 31 => "Too many links";
    EPIPE = 32 => "Broken pipe";
    EDOM = 33 => "Numerical argument out of domain";
    ERANGE = 34 => "Numerical result out of range";
    EDEADLK = 35 => "Resource deadlock avoided";
    ENAMETOOLONG = 36 => "File name too long";
    ENOLCK = 37 => "No locks available";
    ENOSYS = 38 => "Function not implemented";
    ENOTEMPTY = 39 => "Directory not empty";
    ELOOP = 40 => "Too many levels of symbolic links";
    ENOMSG = 42 => "No message of desired type";
    EIDRM = 43 => "Identifier removed";
    ECHRNG = 44 => "Channel number out of range";
    EL2NSYNC = 45 => "Level 2 not synchronized";
    EL3HLT = 46 => "Level 3 halted";
    EL3RST = 47 => "Level 3 reset";
    ELNRNG = 48 => "Link number out of range";
    EUNATCH = 49 => "Protocol driver not attached";
    ENOCSI = 50 => "No CSI structure available";
    EL2HLT = 51 => "Level 2 halted";
    EBADE = 52 => "Invalid exchange";
    EBADR = 53 => "Invalid request descriptor";
    EXFULL = 54 => "Exchange full";
    ENOANO = 55 => "No anode";
    EBADRQC = 56 => "Invalid request code";
    EBADSLT = 57 => "Invalid slot";
    EBFONT = 59 => "Bad font file format";
    ENOSTR = 60 => "Device not a stream";
    ENODATA = 61 => "No data available";
    ETIME = 62 => "Timer expired";
    ENOSR = 63 => "Out of streams resources";
    ENONET = 64 => "Machine is not on the network";
    ENOPKG = 65 => "Package not installed";
    EREMOTE = 66 => "Object is remote";
    ENOLINK = 67 => "Link has been severed";
    EADV = 68 => "Advertise error";
    ESRMNT = 69 => "Srmount error";
    ECOMM = 70 => "Communication error on send";
    EPROTO = 71 => "Protocol error";
    EMULTIHOP = 72 => "Multihop attempted";
    EDOTDOT = 73 => "RFS specific error";
    EBADMSG = 74 => "Bad message";
    EOVERFLOW = 75 => "Value too large for defined data type";
    ENOTUNIQ = 76 => "Name not unique on network";
    EBADFD = 77 => "File descriptor in bad state";
    EREMCHG = 78 => "Remote address changed";
    ELIBACC = 79 => "Can not access a needed shared library";
    ELIBBAD = 80 => "Accessing a corrupted shared library";
    ELIBSCN = 81 => ".lib section in a.out corrupted";
    ELIBMAX = 82 => "Attempting to link in too many shared libraries";
    ELIBEXEC = 83 => "Cannot exec a shared library directly";
    EILSEQ = 84 => "Invalid or incomplete multibyte or wide character";
    ERESTART = 85 => "Interrupted system call should be restarted";
    ESTRPIPE = 86 => "Streams pipe error";
    EUSERS = 87 => "Too many users";
    ENOTSOCK = 88 => "Socket operation on non-socket";
    EDESTADDRREQ = 89 => "Destination address required";
    EMSGSIZE = 90 => "Message too long";
    EPROTOTYPE = 91 => "Protocol wrong type for socket";
    ENOPROTOOPT = 92 => "Protocol not available";
    EPROTONOSUPPORT = 93 => "Protocol not supported";
    ESOCKTNOSUPPORT = 94 => "Socket type not supported";
    EOPNOTSUPP = 95 => "Operation not supported";
    EPFNOSUPPORT = 96 => "Protocol family not supported";
    EAFNOSUPPORT = 97 => "Address family not supported by protocol";
    EADDRINUSE = 98 => "Address already in use";
    EADDRNOTAVAIL = 99 => "Cannot assign requested address";
    ENETDOWN = 100 => "Network is down";
    ENETUNREACH = 101 => "Network is unreachable";
    ENETRESET = 102 => "Network dropped connection on reset";
    ECONNABORTED = 103 => "Software caused connection abort";
    ECONNRESET = 104 => "Connection reset by peer";
    ENOBUFS = 105 => "No buffer space available";
    EISCONN = 106 => "Transport endpoint is already connected";
    ENOTCONN = 107 => "Transport endpoint is not connected";
    ESHUTDOWN = 108 => "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109 => "Too many references: cannot splice";
    ETIMEDOUT = 110 => "Connection timed out";
    ECONNREFUSED = 111 => "Connection refused";
    EHOSTDOWN = 112 => "Host is down";
    EHOSTUNREACH = 113 => "No route to host";
    EALREADY = 114 => "Operation already in progress";
    EINPROGRESS = 115 => "Operation now in progress";
    ESTALE = 116 => "Stale file handle";
    EUCLEAN = 117 => "Structure needs cleaning";
    ENOTNAM = 118 => "Not a XENIX named type file";
    ENAVAIL = 119 => "No XENIX semaphores available";
    EISNAM = 120 => "Is a named type file";
    EREMOTEIO = 121 => "Remote I/O error";
    EDQUOT = 122 => "Disk quota exceeded";
    ENOMEDIUM = 123 => "No medium found";
    EMEDIUMTYPE = 124 => "Wrong medium type";
    ECANCELED = 125 => "Operation canceled";
    ENOKEY = 126 => "Required key not available";
    EKEYEXPIRED = 127 => "Key has expired";
    EKEYREVOKED = 128 => "Key has been revoked";
    EKEYREJECTED = 129 => "Key was rejected by service";
    EOWNERDEAD = 130 => "Owner died";
    ENOTRECOVERABLE = 131 => "State not recoverable";
    ERFKILL = 132 => "Operation not possible due to RF-kill";
    EHWPOISON = 133 => "Memory page has hardware error";
}

impl Errno {
    /// `EWOULDBLOCK`, the same number as [`Errno::EAGAIN`] (11).
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// `EDEADLOCK`, the same number as [`Errno::EDEADLK`] (35).
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// `ENOTSUP`, the same number as [`Errno::EOPNOTSUPP`] (95).
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;
}

/// Messages sent by Plan 9 and other 9P servers that the Linux client (`net/9p/error.c`)
/// recognises, besides the glibc texts already in [`TABLE`]. The kernel's two u9fs
/// "no authentication required" entries map to 0 there, meaning "not an error", and are left
/// out.
static KERNEL_PLAN9_MESSAGES: &[(&str, Errno)] = &[
    ("wstat prohibited", Errno::EPERM),
    ("directory entry not found", Errno::ENOENT),
    ("file not found", Errno::ENOENT),
    ("fid unknown or out of range", Errno::EBADF),
    ("permission denied", Errno::EACCES),
    ("file does not exist", Errno::ENOENT),
    ("authentication failed", Errno::ECONNREFUSED),
    ("bad offset in directory read", Errno::ESPIPE),
    ("bad use of fid", Errno::EBADF),
    ("wstat can't convert between files and directories", Errno::EPERM),
    ("directory is not empty", Errno::ENOTEMPTY),
    ("file exists", Errno::EEXIST),
    ("file already exists", Errno::EEXIST),
    ("file or directory already exists", Errno::EEXIST),
    ("fid already in use", Errno::EBADF),
    ("file in use", Errno::ETXTBSY),
    ("i/o error", Errno::EIO),
    ("file already open for I/O", Errno::ETXTBSY),
    ("illegal mode", Errno::EINVAL),
    ("illegal name", Errno::ENAMETOOLONG),
    ("not a directory", Errno::ENOTDIR),
    ("not a member of proposed group", Errno::EPERM),
    ("not owner", Errno::EACCES),
    ("only owner can change group in wstat", Errno::EACCES),
    ("read only file system", Errno::EROFS),
    ("no access to special file", Errno::EPERM),
    ("i/o count too large", Errno::EIO),
    ("unknown group", Errno::EINVAL),
    ("unknown user", Errno::EINVAL),
    ("bogus wstat buffer", Errno::EPROTO),
    ("exclusive use file already open", Errno::EAGAIN),
    ("corrupted directory entry", Errno::EIO),
    ("corrupted file entry", Errno::EIO),
    ("corrupted block label", Errno::EIO),
    ("corrupted meta data", Errno::EIO),
    ("illegal offset", Errno::EINVAL),
    ("illegal path element", Errno::ENOENT),
    ("root of file system is corrupted", Errno::EIO),
    ("corrupted super block", Errno::EIO),
    ("protocol botch", Errno::EPROTO),
    ("file system is full", Errno::ENOSPC),
    ("file is in use", Errno::EAGAIN),
    ("directory entry is not allocated", Errno::ENOENT),
    ("file is read only", Errno::EROFS),
    ("file has been removed", Errno::EIDRM),
    ("only support truncation to zero length", Errno::EPERM),
    ("cannot remove root", Errno::EPERM),
    ("file too big", Errno::EFBIG),
    ("venti i/o error", Errno::EIO),
];

/// Common Plan 9 messages (from the Plan 9 kernel and `lib9p`) that the Linux client does not
/// know; it would report them as `ESERVERFAULT`. They are matched after the kernel's list.
static EXTRA_PLAN9_MESSAGES: &[(&str, Errno)] = &[
    ("is a directory", Errno::EISDIR),
    ("file is a directory", Errno::EISDIR),
    ("directory not empty", Errno::ENOTEMPTY),
    ("unknown fid", Errno::EBADF),
    ("duplicate fid", Errno::EBADF),
    ("create in non-directory", Errno::ENOTDIR),
    ("walk in non-directory", Errno::ENOTDIR),
    ("out of memory", Errno::ENOMEM),
    ("9P protocol botch", Errno::EPROTO),
    ("connection timed out", Errno::ETIMEDOUT),
    ("connection refused", Errno::ECONNREFUSED),
];

/// [`io::ErrorKind`]s (those stable in Rust 1.85) and their errnos; used both ways, first
/// match wins.
const IO_KINDS: &[(io::ErrorKind, Errno)] = {
    use io::ErrorKind as K;
    &[
        (K::NotFound, Errno::ENOENT),
        (K::PermissionDenied, Errno::EACCES),
        (K::PermissionDenied, Errno::EPERM),
        (K::ConnectionRefused, Errno::ECONNREFUSED),
        (K::ConnectionReset, Errno::ECONNRESET),
        (K::HostUnreachable, Errno::EHOSTUNREACH),
        (K::NetworkUnreachable, Errno::ENETUNREACH),
        (K::ConnectionAborted, Errno::ECONNABORTED),
        (K::NotConnected, Errno::ENOTCONN),
        (K::AddrInUse, Errno::EADDRINUSE),
        (K::AddrNotAvailable, Errno::EADDRNOTAVAIL),
        (K::NetworkDown, Errno::ENETDOWN),
        (K::BrokenPipe, Errno::EPIPE),
        (K::AlreadyExists, Errno::EEXIST),
        (K::WouldBlock, Errno::EAGAIN),
        (K::NotADirectory, Errno::ENOTDIR),
        (K::IsADirectory, Errno::EISDIR),
        (K::DirectoryNotEmpty, Errno::ENOTEMPTY),
        (K::ReadOnlyFilesystem, Errno::EROFS),
        (K::StaleNetworkFileHandle, Errno::ESTALE),
        (K::InvalidInput, Errno::EINVAL),
        (K::InvalidData, Errno::EINVAL),
        (K::TimedOut, Errno::ETIMEDOUT),
        (K::StorageFull, Errno::ENOSPC),
        (K::NotSeekable, Errno::ESPIPE),
        (K::QuotaExceeded, Errno::EDQUOT),
        (K::FileTooLarge, Errno::EFBIG),
        (K::ResourceBusy, Errno::EBUSY),
        (K::ExecutableFileBusy, Errno::ETXTBSY),
        (K::Deadlock, Errno::EDEADLK),
        (K::CrossesDevices, Errno::EXDEV),
        (K::TooManyLinks, Errno::EMLINK),
        (K::ArgumentListTooLong, Errno::E2BIG),
        (K::Interrupted, Errno::EINTR),
        (K::Unsupported, Errno::EOPNOTSUPP),
        (K::Unsupported, Errno::ENOSYS),
        (K::OutOfMemory, Errno::ENOMEM),
    ]
};

impl Errno {
    /// Wraps any number; no validation is done (see [`Errno::is_valid_wire`]).
    pub const fn new(code: u32) -> Errno {
        Errno(code)
    }

    /// The number, as written on the wire.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Whether the value lies in `1..=4095`, the range the Linux client accepts as an errno.
    pub const fn is_valid_wire(self) -> bool {
        self.0 >= 1 && self.0 <= 4095
    }

    fn row(self) -> Option<&'static Row> {
        let index = TABLE.binary_search_by_key(&self.0, |row| row.errno.0).ok()?;
        TABLE.get(index)
    }

    /// The symbolic name, such as `"ENOENT"`, or `None` for a number Linux does not define.
    ///
    /// Numbers with two names give the canonical one: 11 is `"EAGAIN"`, 35 is `"EDEADLK"` and
    /// 95 is `"EOPNOTSUPP"`.
    pub fn name(self) -> Option<&'static str> {
        self.row().map(|row| row.name)
    }

    /// The glibc `strerror` text on Linux, such as `"No such file or directory"`, or
    /// `"Unknown error"` for a number without a name.
    pub fn message(self) -> &'static str {
        self.row().map_or("Unknown error", |row| row.message)
    }

    /// Looks up a symbolic name (case-sensitive); the inverse of [`Errno::name`].
    ///
    /// The aliases `"EWOULDBLOCK"`, `"EDEADLOCK"` and `"ENOTSUP"` are accepted too.
    pub fn from_name(name: &str) -> Option<Errno> {
        match name {
            "EWOULDBLOCK" => Some(Errno::EWOULDBLOCK),
            "EDEADLOCK" => Some(Errno::EDEADLOCK),
            "ENOTSUP" => Some(Errno::ENOTSUP),
            _ => TABLE.iter().find(|row| row.name == name).map(|row| row.errno),
        }
    }

    /// Maps the `ename` string of a 9P2000 or 9P2000.u `Rerror` to an errno.
    ///
    /// Trailing `'\n'` and NUL bytes are ignored; the rest must match exactly (byte for byte,
    /// case-sensitive) one of: the glibc `strerror` text of any errno (as [`Errno::message`]
    /// gives it), the Plan 9 server messages the Linux client knows (`net/9p/error.c`, e.g.
    /// `"file not found"` is `ENOENT` and `"permission denied"` is `EACCES`), or a few more
    /// common Plan 9 messages (e.g. `"is a directory"`). Returns `None` for anything else.
    pub fn from_message(msg: &[u8]) -> Option<Errno> {
        let mut msg = msg;
        while let [rest @ .., b'\n' | 0] = msg {
            msg = rest;
        }
        TABLE.iter().find(|row| row.message.as_bytes() == msg).map(|row| row.errno).or_else(|| {
            KERNEL_PLAN9_MESSAGES
                .iter()
                .chain(EXTRA_PLAN9_MESSAGES)
                .find(|(text, _)| text.as_bytes() == msg)
                .map(|&(_, errno)| errno)
        })
    }

    /// Converts a host errno (as in [`io::Error::raw_os_error`]) to the Linux number.
    ///
    /// On Linux and Android with the generic numbering this is the identity for `1..=4095`.
    /// On other Unix hosts (and Linux on MIPS or SPARC, whose numbers differ) the value is
    /// looked up in a table pairing each Linux errno with the host's `libc` constant. Values
    /// that cannot be translated, and every value on non-Unix hosts, give [`Errno::EIO`].
    pub fn from_host(raw: i32) -> Errno {
        host::from_host(raw).unwrap_or(Errno::EIO)
    }

    /// Converts to the host's errno number; the inverse of [`Errno::from_host`].
    ///
    /// `None` when the host has no equivalent (and always on non-Unix hosts). On Linux with
    /// the generic numbering this is `Some(self.get())` for every [valid](Errno::is_valid_wire)
    /// value.
    pub fn to_host(self) -> Option<i32> {
        host::to_host(self)
    }

    /// Maps an [`io::Error`] to a Linux errno.
    ///
    /// An OS error code goes through [`Errno::from_host`]. Otherwise an `Errno` wrapped by
    /// [`Errno::to_io_error`] is recovered as is, and failing that the [`io::ErrorKind`] is
    /// mapped (`NotFound` to `ENOENT`, `PermissionDenied` to `EACCES`, `AlreadyExists` to
    /// `EEXIST`, ...). Anything else gives [`Errno::EIO`].
    pub fn from_io_error(err: &io::Error) -> Errno {
        if let Some(errno) = err.raw_os_error().and_then(host::from_host) {
            return errno;
        }
        if let Some(errno) = err.get_ref().and_then(|inner| inner.downcast_ref::<Errno>()) {
            return *errno;
        }
        let kind = err.kind();
        IO_KINDS.iter().find(|row| row.0 == kind).map_or(Errno::EIO, |row| row.1)
    }

    /// Converts to an [`io::Error`].
    ///
    /// When the host has an equivalent ([`Errno::to_host`]) this is
    /// [`io::Error::from_raw_os_error`], so `kind()` and the message are the host's own.
    /// Otherwise the `Errno` itself is wrapped with the closest [`io::ErrorKind`]; its
    /// `Display` then shows this errno's name and message, and [`Errno::from_io_error`] gets
    /// the same `Errno` back.
    pub fn to_io_error(self) -> io::Error {
        match self.to_host() {
            Some(raw) => io::Error::from_raw_os_error(raw),
            None => {
                let kind = IO_KINDS.iter().find(|row| row.1 == self);
                io::Error::new(kind.map_or(io::ErrorKind::Other, |row| row.0), self)
            }
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}: {}", self.message()),
            None => write!(f, "errno {}: {}", self.0, self.message()),
        }
    }
}

impl std::error::Error for Errno {}

impl From<Errno> for io::Error {
    fn from(errno: Errno) -> io::Error {
        errno.to_io_error()
    }
}

impl From<&io::Error> for Errno {
    fn from(err: &io::Error) -> Errno {
        Errno::from_io_error(err)
    }
}

impl From<io::Error> for Errno {
    fn from(err: io::Error) -> Errno {
        Errno::from_io_error(&err)
    }
}

/// Host conversions for Unix: the identity where the host uses the generic Linux numbering,
/// otherwise tables of `(Linux errno, host libc constant)` pairs. Each group of rows is compiled
/// only where `libc` defines all its constants; the first matching row wins, either way.
#[cfg(unix)]
mod host {
    use super::Errno;

    /// Whether the host's errno numbers are the generic Linux ones (not MIPS or SPARC).
    pub(super) const IDENTITY: bool = cfg!(all(
        any(target_os = "linux", target_os = "android"),
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "mips32r6",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64"
        ))
    ));

    macro_rules! row {
        ($name:ident) => {
            (Errno::$name, libc::$name)
        };
        ($name:ident = $host:ident) => {
            (Errno::$name, libc::$host)
        };
    }

    macro_rules! host_rows {
        ($(#[cfg($pred:meta)] static $group:ident = [$($name:ident $(= $host:ident)?),* $(,)?];)*) => {$(
            #[cfg($pred)]
            static $group: &[(Errno, i32)] = &[$(row!($name $(= $host)?)),*];
            #[cfg(not($pred))]
            static $group: &[(Errno, i32)] = &[];
        )*};
    }

    host_rows! {
        // Host spellings preferred by `to_host`: the BSDs report a missing extended
        // attribute as ENOATTR where Linux uses ENODATA.
        #[cfg(any(target_vendor = "apple", target_os = "freebsd", target_os = "dragonfly",
                  target_os = "netbsd", target_os = "openbsd"))]
        static PREFERRED = [ENODATA = ENOATTR];
        // Defined by `libc` for every Unix target.
        #[cfg(unix)]
        static COMMON = [
            EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN,
            ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL,
            ENFILE, EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, EDOM,
            ERANGE, EDEADLK, ENAMETOOLONG, ENOLCK, ENOSYS, ENOTEMPTY, ELOOP, ENOMSG, EIDRM,
            EPROTO, EBADMSG, EOVERFLOW, EILSEQ, ENOTSOCK, EDESTADDRREQ, EMSGSIZE, EPROTOTYPE,
            ENOPROTOOPT, EPROTONOSUPPORT, EOPNOTSUPP, EPFNOSUPPORT, EAFNOSUPPORT, EADDRINUSE,
            EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ENETRESET, ECONNABORTED, ECONNRESET, ENOBUFS,
            EISCONN, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EHOSTDOWN, EHOSTUNREACH, EALREADY,
            EINPROGRESS, ESTALE, EDQUOT, ECANCELED,
        ];
        #[cfg(any(target_vendor = "apple", target_os = "freebsd", target_os = "dragonfly",
                  target_os = "netbsd", target_os = "openbsd", target_os = "illumos",
                  target_os = "solaris", target_os = "linux", target_os = "android"))]
        static BSD_AND_SVR4 = [
            ENOTBLK, EREMOTE, EUSERS, ESOCKTNOSUPPORT, ESHUTDOWN, ETOOMANYREFS, EOWNERDEAD,
            ENOTRECOVERABLE,
        ];
        #[cfg(any(target_vendor = "apple", target_os = "freebsd", target_os = "dragonfly",
                  target_os = "netbsd", target_os = "illumos", target_os = "solaris",
                  target_os = "linux", target_os = "android"))]
        static LINKS = [ENOLINK, EMULTIHOP];
        #[cfg(any(target_vendor = "apple", target_os = "netbsd", target_os = "illumos",
                  target_os = "solaris", target_os = "linux", target_os = "android"))]
        static STREAMS = [ENODATA, ENOSTR, ETIME, ENOSR];
        // Separate host numbers that Linux folds into one.
        #[cfg(any(target_vendor = "apple", target_os = "freebsd", target_os = "dragonfly",
                  target_os = "netbsd", target_os = "openbsd", target_os = "illumos",
                  target_os = "solaris"))]
        static ALIASES = [EOPNOTSUPP = ENOTSUP];
        // The rest, for Linux on architectures with their own numbering (MIPS, SPARC).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        static LINUX_ONLY = [
            ECHRNG, EL2NSYNC, EL3HLT, EL3RST, ELNRNG, EUNATCH, ENOCSI, EL2HLT, EBADE, EBADR,
            EXFULL, ENOANO, EBADRQC, EBADSLT, EBFONT, ENONET, ENOPKG, EADV, ESRMNT, ECOMM,
            EDOTDOT, ENOTUNIQ, EBADFD, EREMCHG, ELIBACC, ELIBBAD, ELIBSCN, ELIBMAX, ELIBEXEC,
            ERESTART, ESTRPIPE, EUCLEAN, ENOTNAM, ENAVAIL, EISNAM, EREMOTEIO, ENOMEDIUM,
            EMEDIUMTYPE, ENOKEY, EKEYEXPIRED, EKEYREVOKED, EKEYREJECTED, ERFKILL, EHWPOISON,
            EDEADLK = EDEADLOCK,
        ];
    }

    fn rows() -> impl Iterator<Item = &'static (Errno, i32)> {
        let groups = [PREFERRED, COMMON, BSD_AND_SVR4, LINKS, STREAMS];
        groups.into_iter().chain([ALIASES, LINUX_ONLY]).flatten()
    }

    pub(super) fn from_host(raw: i32) -> Option<Errno> {
        if IDENTITY {
            let errno = Errno(u32::try_from(raw).ok()?);
            errno.is_valid_wire().then_some(errno)
        } else {
            table_from_host(raw)
        }
    }

    pub(super) fn to_host(errno: Errno) -> Option<i32> {
        if IDENTITY {
            i32::try_from(errno.0).ok().filter(|_| errno.is_valid_wire())
        } else {
            table_to_host(errno)
        }
    }

    pub(super) fn table_from_host(raw: i32) -> Option<Errno> {
        rows().find(|row| row.1 == raw).map(|row| row.0)
    }

    pub(super) fn table_to_host(errno: Errno) -> Option<i32> {
        rows().find(|row| row.0 == errno).map(|row| row.1)
    }
}

/// Non-Unix hosts have no errno numbering to convert to.
#[cfg(not(unix))]
mod host {
    use super::Errno;

    pub(super) fn from_host(_raw: i32) -> Option<Errno> {
        None
    }

    pub(super) fn to_host(_errno: Errno) -> Option<i32> {
        None
    }
}

#[cfg(test)]
mod tests;
