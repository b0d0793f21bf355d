//! The data records and option records, as Python classes.

use ninefold_client as nf;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{opt_set_time, set_time_arg, to_datetime, to_ns};

/// Registers the classes of this module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFileType>()?;
    m.add_class::<PyMetadata>()?;
    m.add_class::<PyDirEntry>()?;
    m.add_class::<PyStatFs>()?;
    m.add_class::<PyCapabilities>()?;
    m.add_class::<PyOpenOptions>()?;
    m.add_class::<PyConnectOptions>()?;
    m.add_class::<PySetAttrs>()?;
    m.add_class::<PySetTime>()?;
    m.add_class::<PyNodeKind>()?;
    Ok(())
}

/// The type of a file.
#[pyclass(name = "FileType", module = "ninefold", eq, eq_int, frozen, hash, from_py_object)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PyFileType {
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
    /// Not known.
    Unknown,
}

impl From<nf::FileType> for PyFileType {
    fn from(t: nf::FileType) -> PyFileType {
        match t {
            nf::FileType::File => PyFileType::File,
            nf::FileType::Dir => PyFileType::Dir,
            nf::FileType::Symlink => PyFileType::Symlink,
            nf::FileType::Fifo => PyFileType::Fifo,
            nf::FileType::Socket => PyFileType::Socket,
            nf::FileType::CharDevice => PyFileType::CharDevice,
            nf::FileType::BlockDevice => PyFileType::BlockDevice,
            nf::FileType::Unknown => PyFileType::Unknown,
        }
    }
}

/// File metadata, as `stat(2)` reports it.
#[pyclass(name = "Metadata", module = "ninefold", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyMetadata(pub(crate) nf::Metadata);

impl From<nf::Metadata> for PyMetadata {
    fn from(m: nf::Metadata) -> PyMetadata {
        PyMetadata(m)
    }
}

#[pymethods]
impl PyMetadata {
    /// Inode number.
    #[getter]
    fn ino(&self) -> u64 {
        self.0.ino
    }
    /// File type.
    #[getter]
    fn file_type(&self) -> PyFileType {
        self.0.file_type.into()
    }
    /// Full `st_mode`.
    #[getter]
    fn mode(&self) -> u32 {
        self.0.mode
    }
    /// Hard links.
    #[getter]
    fn nlink(&self) -> u64 {
        self.0.nlink
    }
    /// Owner.
    #[getter]
    fn uid(&self) -> u32 {
        self.0.uid
    }
    /// Group.
    #[getter]
    fn gid(&self) -> u32 {
        self.0.gid
    }
    /// Size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }
    /// Preferred I/O size.
    #[getter]
    fn block_size(&self) -> u64 {
        self.0.block_size
    }
    /// Allocated 512-byte blocks.
    #[getter]
    fn blocks(&self) -> u64 {
        self.0.blocks
    }
    /// Device number.
    #[getter]
    fn rdev(&self) -> u64 {
        self.0.rdev
    }
    /// Last access (aware UTC datetime).
    #[getter]
    fn atime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.atime)
    }
    /// Last modification (aware UTC datetime).
    #[getter]
    fn mtime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.mtime)
    }
    /// Last status change (aware UTC datetime).
    #[getter]
    fn ctime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.ctime)
    }
    /// Birth time (reserved; servers report the epoch).
    #[getter]
    fn btime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.btime)
    }
    /// Last access, nanoseconds since the epoch.
    #[getter]
    fn atime_ns(&self) -> i128 {
        to_ns(self.0.atime)
    }
    /// Last modification, nanoseconds since the epoch.
    #[getter]
    fn mtime_ns(&self) -> i128 {
        to_ns(self.0.mtime)
    }
    /// Last status change, nanoseconds since the epoch.
    #[getter]
    fn ctime_ns(&self) -> i128 {
        to_ns(self.0.ctime)
    }
    /// Data version (reserved; servers report 0).
    #[getter]
    fn data_version(&self) -> u64 {
        self.0.data_version
    }
    /// A regular file.
    fn is_file(&self) -> bool {
        self.0.is_file()
    }
    /// A directory.
    fn is_dir(&self) -> bool {
        self.0.is_dir()
    }
    /// A symbolic link.
    fn is_symlink(&self) -> bool {
        self.0.is_symlink()
    }
    /// The permission bits (`mode & 0o7777`).
    fn permissions(&self) -> u32 {
        self.0.permissions()
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyMetadata>().map(|o| o.get().0 == self.0).unwrap_or(false)
    }
    fn __repr__(&self) -> String {
        format!(
            "Metadata(ino={}, file_type=FileType.{:?}, mode=0o{:o}, nlink={}, uid={}, gid={}, size={})",
            self.0.ino, self.0.file_type, self.0.mode, self.0.nlink, self.0.uid, self.0.gid, self.0.size
        )
    }
}

/// One directory entry.
#[pyclass(name = "DirEntry", module = "ninefold", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyDirEntry(pub(crate) nf::DirEntry);

impl From<nf::DirEntry> for PyDirEntry {
    fn from(e: nf::DirEntry) -> PyDirEntry {
        PyDirEntry(e)
    }
}

#[pymethods]
impl PyDirEntry {
    /// The name as text (lossy: invalid UTF-8 becomes U+FFFD).
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// The exact name bytes: feed these to the `*_at` methods.
    #[getter]
    fn name_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.name_bytes)
    }
    /// Whether `name` is exact.
    #[getter]
    fn name_is_utf8(&self) -> bool {
        self.0.name_is_utf8
    }
    /// The entry's type as the server listed it.
    #[getter]
    fn file_type(&self) -> PyFileType {
        self.0.file_type.into()
    }
    /// Inode number.
    #[getter]
    fn ino(&self) -> u64 {
        self.0.ino
    }
    /// Full metadata (only with readdirplus; `None` on plain 9P2000.L).
    #[getter]
    fn metadata(&self) -> Option<PyMetadata> {
        self.0.metadata.map(PyMetadata)
    }
    /// A directory (by the listed type).
    fn is_dir(&self) -> bool {
        self.0.file_type == nf::FileType::Dir
    }
    /// A regular file (by the listed type).
    fn is_file(&self) -> bool {
        self.0.file_type == nf::FileType::File
    }
    /// A symbolic link (by the listed type).
    fn is_symlink(&self) -> bool {
        self.0.file_type == nf::FileType::Symlink
    }
    fn __repr__(&self) -> String {
        format!(
            "DirEntry(name={:?}, file_type=FileType.{:?}, ino={})",
            self.0.name, self.0.file_type, self.0.ino
        )
    }
}

/// A list of entries as Python objects.
pub(crate) struct Entries(pub(crate) Vec<nf::DirEntry>);

impl<'py> IntoPyObject<'py> for Entries {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v: Vec<PyDirEntry> = self.0.into_iter().map(PyDirEntry).collect();
        Ok(v.into_pyobject(py)?.into_any())
    }
}

/// Filesystem usage and limits, as `statfs(2)`.
#[pyclass(name = "StatFs", module = "ninefold", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyStatFs {
    /// Block size.
    block_size: u32,
    /// Total blocks.
    blocks: u64,
    /// Free blocks.
    blocks_free: u64,
    /// Free blocks for unprivileged users.
    blocks_available: u64,
    /// Total inodes.
    files: u64,
    /// Free inodes.
    files_free: u64,
    /// Filesystem id.
    filesystem_id: u64,
    /// Longest name.
    max_name_len: u32,
}

impl From<nf::StatFs> for PyStatFs {
    fn from(s: nf::StatFs) -> PyStatFs {
        PyStatFs {
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

#[pymethods]
impl PyStatFs {
    fn __repr__(&self) -> String {
        format!(
            "StatFs(block_size={}, blocks={}, blocks_free={}, blocks_available={}, files={}, files_free={}, filesystem_id={}, max_name_len={})",
            self.block_size, self.blocks, self.blocks_free, self.blocks_available, self.files, self.files_free, self.filesystem_id, self.max_name_len
        )
    }
}

/// Negotiated session properties (a snapshot).
#[pyclass(name = "Capabilities", module = "ninefold", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct PyCapabilities {
    /// The negotiated dialect's version string (`"9P2000.L.Z"`,
    /// `"9P2000.L"`, `"9P2000.u"` or `"9P2000"`).
    dialect: &'static str,
    /// ZeroFS extensions, first generation.
    extensions_v1: bool,
    /// ZeroFS extensions, second generation.
    extensions_v2: bool,
    /// Negotiated msize.
    msize: u32,
    /// Bytes asked for per read.
    max_read_chunk: u32,
    /// Bytes sent per write.
    max_write_chunk: u32,
}

impl From<nf::Capabilities> for PyCapabilities {
    fn from(c: nf::Capabilities) -> PyCapabilities {
        PyCapabilities {
            dialect: c.dialect.version(),
            extensions_v1: c.extensions_v1,
            extensions_v2: c.extensions_v2,
            msize: c.msize,
            max_read_chunk: c.max_read_chunk,
            max_write_chunk: c.max_write_chunk,
        }
    }
}

#[pymethods]
impl PyCapabilities {
    fn __repr__(&self) -> String {
        format!(
            "Capabilities(dialect={:?}, extensions_v1={}, extensions_v2={}, msize={}, max_read_chunk={}, max_write_chunk={})",
            self.dialect, py_bool(self.extensions_v1), py_bool(self.extensions_v2), self.msize, self.max_read_chunk, self.max_write_chunk
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// How `open` opens a file.
#[pyclass(name = "OpenOptions", module = "ninefold", get_all, set_all, from_py_object)]
#[derive(Debug, Clone)]
pub(crate) struct PyOpenOptions {
    /// Open for reading.
    read: bool,
    /// Open for writing.
    write: bool,
    /// Create if missing.
    create: bool,
    /// Atomic exclusive create.
    create_new: bool,
    /// Truncate to zero length.
    truncate: bool,
    /// Permission bits of a created file.
    mode: u32,
}

#[pymethods]
impl PyOpenOptions {
    #[new]
    #[pyo3(signature = (*, read=false, write=false, create=false, create_new=false, truncate=false, mode=0o644))]
    fn new(
        read: bool,
        write: bool,
        create: bool,
        create_new: bool,
        truncate: bool,
        mode: u32,
    ) -> Self {
        PyOpenOptions { read, write, create, create_new, truncate, mode }
    }
    fn __repr__(&self) -> String {
        format!(
            "OpenOptions(read={}, write={}, create={}, create_new={}, truncate={}, mode=0o{:o})",
            py_bool(self.read),
            py_bool(self.write),
            py_bool(self.create),
            py_bool(self.create_new),
            py_bool(self.truncate),
            self.mode
        )
    }
}

impl PyOpenOptions {
    /// The client's options.
    pub(crate) fn to_client(&self) -> nf::OpenOptions {
        nf::OpenOptions::new()
            .read(self.read)
            .write(self.write)
            .create(self.create)
            .create_new(self.create_new)
            .truncate(self.truncate)
            .mode(self.mode)
    }
}

/// Identity and tuning for `connect_with`.
#[pyclass(name = "ConnectOptions", module = "ninefold", get_all, set_all, from_py_object)]
#[derive(Debug, Clone)]
pub(crate) struct PyConnectOptions {
    /// Numeric user id sent at attach.
    uid: u32,
    /// Group of everything this client creates.
    gid: u32,
    /// User name sent at attach.
    uname: String,
    /// Export to attach to.
    aname: String,
    /// Requested msize.
    msize: u32,
    /// Bound on dial + negotiation + attach in ms (`None`: no bound).
    connect_timeout_ms: Option<u64>,
    /// Bound on requests in flight on the connection.
    max_in_flight: usize,
}

#[pymethods]
impl PyConnectOptions {
    #[new]
    #[pyo3(signature = (*, uid=None, gid=None, uname=None, aname=String::new(), msize=1<<20, connect_timeout_ms=Some(30_000), max_in_flight=None))]
    fn new(
        uid: Option<u32>,
        gid: Option<u32>,
        uname: Option<String>,
        aname: String,
        msize: u32,
        connect_timeout_ms: Option<u64>,
        max_in_flight: Option<usize>,
    ) -> Self {
        let d = nf::ConnectOptions::default();
        PyConnectOptions {
            uid: uid.unwrap_or(d.uid),
            gid: gid.unwrap_or(d.gid),
            uname: uname.unwrap_or(d.uname),
            aname,
            msize,
            connect_timeout_ms,
            max_in_flight: max_in_flight.unwrap_or(d.max_in_flight),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "ConnectOptions(uid={}, gid={}, uname={:?}, aname={:?}, msize={}, connect_timeout_ms={}, max_in_flight={})",
            self.uid,
            self.gid,
            self.uname,
            self.aname,
            self.msize,
            self.connect_timeout_ms.map_or("None".to_owned(), |v| v.to_string()),
            self.max_in_flight
        )
    }
}

impl PyConnectOptions {
    /// The client's options.
    pub(crate) fn to_client(&self) -> nf::ConnectOptions {
        nf::ConnectOptions::new()
            .uid(self.uid)
            .gid(self.gid)
            .uname(self.uname.clone())
            .aname(self.aname.clone())
            .msize(self.msize)
            .connect_timeout_ms(self.connect_timeout_ms)
            .max_in_flight(self.max_in_flight)
    }
}

/// A time to set: `SetTime.Now` (the server's clock) or
/// `SetTime.At(datetime)`.
#[pyclass(name = "SetTime", module = "ninefold", frozen, from_py_object)]
#[derive(Debug, Clone)]
pub(crate) struct PySetTime(pub(crate) nf::SetTime);

#[pymethods]
impl PySetTime {
    /// The server's current time.
    #[classattr]
    #[pyo3(name = "Now")]
    fn now() -> PySetTime {
        PySetTime(nf::SetTime::Now)
    }
    /// An explicit time: a `datetime` or seconds since the epoch.
    #[staticmethod]
    #[pyo3(name = "At")]
    fn at(time: &Bound<'_, PyAny>) -> PyResult<PySetTime> {
        crate::convert::from_time(time).map(|t| PySetTime(nf::SetTime::At(t)))
    }
    /// Whether this is `SetTime.Now`.
    #[getter]
    fn is_now(&self) -> bool {
        self.0 == nf::SetTime::Now
    }
    /// The explicit time (`None` for `Now`).
    #[getter]
    fn time<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.0 {
            nf::SetTime::Now => Ok(None),
            nf::SetTime::At(t) => to_datetime(py, t).map(Some),
        }
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PySetTime>().map(|o| o.get().0 == self.0).unwrap_or(false)
    }
    fn __repr__(&self) -> String {
        match self.0 {
            nf::SetTime::Now => "SetTime.Now".to_owned(),
            nf::SetTime::At(t) => format!("SetTime.At({}.{:09})", t.secs, t.nanos),
        }
    }
}

/// Metadata changes; a `None` field is left alone.
#[pyclass(name = "SetAttrs", module = "ninefold", from_py_object)]
#[derive(Debug, Clone, Default)]
pub(crate) struct PySetAttrs(pub(crate) nf::SetAttrs);

#[pymethods]
impl PySetAttrs {
    #[new]
    #[pyo3(signature = (*, mode=None, uid=None, gid=None, size=None, atime=None, mtime=None))]
    fn new(
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<&Bound<'_, PyAny>>,
        mtime: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(PySetAttrs(nf::SetAttrs {
            mode,
            uid,
            gid,
            size,
            atime: opt_set_time(atime)?,
            mtime: opt_set_time(mtime)?,
        }))
    }
    /// Permission bits.
    #[getter]
    fn mode(&self) -> Option<u32> {
        self.0.mode
    }
    /// Owner.
    #[getter]
    fn uid(&self) -> Option<u32> {
        self.0.uid
    }
    /// Group.
    #[getter]
    fn gid(&self) -> Option<u32> {
        self.0.gid
    }
    /// Size.
    #[getter]
    fn size(&self) -> Option<u64> {
        self.0.size
    }
    /// Access time.
    #[getter]
    fn atime(&self) -> Option<PySetTime> {
        self.0.atime.map(PySetTime)
    }
    /// Modification time.
    #[getter]
    fn mtime(&self) -> Option<PySetTime> {
        self.0.mtime.map(PySetTime)
    }
    /// Whether nothing would change.
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn __repr__(&self) -> String {
        format!("SetAttrs({:?})", self.0)
    }
}

/// The kind of node `mknod` makes: `NodeKind.Fifo`, `NodeKind.Socket`,
/// `NodeKind.BlockDevice(major, minor)`, `NodeKind.CharDevice(major,
/// minor)`.
#[pyclass(name = "NodeKind", module = "ninefold", frozen, from_py_object)]
#[derive(Debug, Clone)]
pub(crate) struct PyNodeKind(pub(crate) nf::NodeKind);

#[pymethods]
impl PyNodeKind {
    /// A named pipe.
    #[classattr]
    #[pyo3(name = "Fifo")]
    fn fifo() -> PyNodeKind {
        PyNodeKind(nf::NodeKind::Fifo)
    }
    /// A unix socket node.
    #[classattr]
    #[pyo3(name = "Socket")]
    fn socket() -> PyNodeKind {
        PyNodeKind(nf::NodeKind::Socket)
    }
    /// A block device.
    #[staticmethod]
    #[pyo3(name = "BlockDevice")]
    fn block_device(major: u32, minor: u32) -> PyNodeKind {
        PyNodeKind(nf::NodeKind::BlockDevice { major, minor })
    }
    /// A character device.
    #[staticmethod]
    #[pyo3(name = "CharDevice")]
    fn char_device(major: u32, minor: u32) -> PyNodeKind {
        PyNodeKind(nf::NodeKind::CharDevice { major, minor })
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyNodeKind>().map(|o| o.get().0 == self.0).unwrap_or(false)
    }
    fn __repr__(&self) -> String {
        match self.0 {
            nf::NodeKind::Fifo => "NodeKind.Fifo".to_owned(),
            nf::NodeKind::Socket => "NodeKind.Socket".to_owned(),
            nf::NodeKind::BlockDevice { major, minor } => {
                format!("NodeKind.BlockDevice({major}, {minor})")
            }
            nf::NodeKind::CharDevice { major, minor } => {
                format!("NodeKind.CharDevice({major}, {minor})")
            }
        }
    }
}

/// The `SetAttrs` of an argument.
pub(crate) fn set_attrs_arg(obj: &Bound<'_, PyAny>) -> PyResult<nf::SetAttrs> {
    Ok(obj.cast::<PySetAttrs>()?.borrow().0)
}

/// A `SetTime`/`datetime`/number argument, or `None`.
pub(crate) fn opt_time_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<nf::SetTime>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => set_time_arg(o).map(Some),
    }
}
