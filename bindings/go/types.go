package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"io/fs"
	"time"
	"unsafe"
)

// FileType is the type of a file.
type FileType uint8

// File types.
const (
	FileTypeFile FileType = iota
	FileTypeDir
	FileTypeSymlink
	FileTypeFifo
	FileTypeSocket
	FileTypeCharDevice
	FileTypeBlockDevice
	FileTypeUnknown
)

// String is the type's name.
func (t FileType) String() string {
	switch t {
	case FileTypeFile:
		return "File"
	case FileTypeDir:
		return "Dir"
	case FileTypeSymlink:
		return "Symlink"
	case FileTypeFifo:
		return "Fifo"
	case FileTypeSocket:
		return "Socket"
	case FileTypeCharDevice:
		return "CharDevice"
	case FileTypeBlockDevice:
		return "BlockDevice"
	}
	return "Unknown"
}

// modeType is the io/fs type bits of t.
func (t FileType) modeType() fs.FileMode {
	switch t {
	case FileTypeDir:
		return fs.ModeDir
	case FileTypeSymlink:
		return fs.ModeSymlink
	case FileTypeFifo:
		return fs.ModeNamedPipe
	case FileTypeSocket:
		return fs.ModeSocket
	case FileTypeCharDevice:
		return fs.ModeDevice | fs.ModeCharDevice
	case FileTypeBlockDevice:
		return fs.ModeDevice
	case FileTypeUnknown:
		return fs.ModeIrregular
	}
	return 0
}

// Metadata is what stat(2) reports.
type Metadata struct {
	Ino         uint64
	FileType    FileType
	Mode        uint32 // full st_mode: type and permission bits
	Nlink       uint64
	Uid         uint32
	Gid         uint32
	Size        uint64
	BlockSize   uint64
	Blocks      uint64 // 512-byte units
	Rdev        uint64
	Atime       time.Time
	Mtime       time.Time
	Ctime       time.Time
	Btime       time.Time // reserved (servers report 0)
	DataVersion uint64    // reserved (servers report 0)
}

// IsFile reports a regular file.
func (m Metadata) IsFile() bool { return m.FileType == FileTypeFile }

// IsDir reports a directory.
func (m Metadata) IsDir() bool { return m.FileType == FileTypeDir }

// IsSymlink reports a symbolic link.
func (m Metadata) IsSymlink() bool { return m.FileType == FileTypeSymlink }

// FileMode is the mode as io/fs spells it (type bits, permissions,
// setuid/setgid/sticky).
func (m Metadata) FileMode() fs.FileMode {
	mode := fs.FileMode(m.Mode&0o777) | m.FileType.modeType()
	if m.Mode&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m.Mode&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m.Mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// DirEntry is one directory entry.
type DirEntry struct {
	Name       string // UTF-8; invalid bytes become U+FFFD
	NameBytes  []byte // exact on-wire bytes, for the *At methods
	NameIsUtf8 bool
	FileType   FileType
	Ino        uint64
	Metadata   *Metadata // only when readdirplus is negotiated
}

// StatFs is filesystem usage and limits.
type StatFs struct {
	BlockSize       uint32
	Blocks          uint64
	BlocksFree      uint64
	BlocksAvailable uint64
	Files           uint64
	FilesFree       uint64
	FilesystemId    uint64
	MaxNameLen      uint32
}

// Capabilities are negotiated session properties (a snapshot that can
// change across reconnects).
type Capabilities struct {
	ExtensionsV1  bool
	ExtensionsV2  bool
	Msize         uint32
	MaxReadChunk  uint32
	MaxWriteChunk uint32
	// Dialect is the negotiated version string: "9P2000.L.Z" (ZeroFS's
	// extensions), "9P2000.L", "9P2000.u" or "9P2000".
	Dialect string
}

// OpenOptions says how to open a file. Mode 0 means the default, 0o644
// (chmod afterwards for a file with no permission bits).
type OpenOptions struct {
	Read      bool
	Write     bool
	Create    bool
	CreateNew bool // atomic exclusive create
	Truncate  bool
	Mode      uint32
}

// ConnectOptions is identity and tuning for [ClientConnectWith]. The zero
// value is all defaults.
type ConnectOptions struct {
	Uid   *uint32 // nil: the process's effective uid
	Gid   *uint32 // nil: the process's effective gid
	Uname string  // "": $USER (informational)
	Aname string  // "": the server's default export
	Msize uint32  // 0: 1 MiB (servers clamp it)
	// ConnectTimeoutMs bounds dial + negotiation + attach. nil: 30000;
	// a pointer to 0 waits indefinitely (bound it with a context instead).
	ConnectTimeoutMs *uint64
	MaxInFlight      int // 0: the core's default
}

// SetTime is a time to set: [SetTimeNow] or [SetTimeAt]. A nil SetTime
// leaves the time unchanged.
type SetTime interface{ setTime() C.NfSetTime }

// SetTimeNow is the server's clock.
type SetTimeNow struct{}

// SetTimeAt is an explicit time.
type SetTimeAt struct{ Time time.Time }

func (SetTimeNow) setTime() C.NfSetTime { return C.NfSetTime{kind: C.NF_TIME_NOW} }

func (t SetTimeAt) setTime() C.NfSetTime {
	return C.NfSetTime{kind: C.NF_TIME_AT, at: C.NfTimestamp{
		secs: C.int64_t(t.Time.Unix()), nanos: C.uint32_t(t.Time.Nanosecond())}}
}

func setTime(t SetTime) C.NfSetTime {
	if t == nil {
		return C.NfSetTime{kind: C.NF_TIME_UNCHANGED}
	}
	return t.setTime()
}

// SetAttrs is a set of metadata changes; nil fields are left alone and
// an all-nil SetAttrs is a no-op.
type SetAttrs struct {
	Mode  *uint32
	Uid   *uint32
	Gid   *uint32
	Size  *uint64
	Atime SetTime
	Mtime SetTime
}

func (a SetAttrs) toC() C.NfSetAttrs {
	var c C.NfSetAttrs
	if a.Mode != nil {
		c.has_mode, c.mode = true, C.uint32_t(*a.Mode)
	}
	if a.Uid != nil {
		c.has_uid, c.uid = true, C.uint32_t(*a.Uid)
	}
	if a.Gid != nil {
		c.has_gid, c.gid = true, C.uint32_t(*a.Gid)
	}
	if a.Size != nil {
		c.has_size, c.size = true, C.uint64_t(*a.Size)
	}
	c.atime, c.mtime = setTime(a.Atime), setTime(a.Mtime)
	return c
}

// NodeKind is what [Client.Mknod] makes: [NodeKindFifo], [NodeKindSocket],
// [NodeKindBlockDevice] or [NodeKindCharDevice].
type NodeKind interface{ nodeKind() C.NfNodeKind }

// NodeKindFifo is a named pipe.
type NodeKindFifo struct{}

// NodeKindSocket is a unix socket node.
type NodeKindSocket struct{}

// NodeKindBlockDevice is a block device.
type NodeKindBlockDevice struct{ Major, Minor uint32 }

// NodeKindCharDevice is a character device.
type NodeKindCharDevice struct{ Major, Minor uint32 }

func (NodeKindFifo) nodeKind() C.NfNodeKind   { return C.NfNodeKind{kind: C.NF_NODE_FIFO} }
func (NodeKindSocket) nodeKind() C.NfNodeKind { return C.NfNodeKind{kind: C.NF_NODE_SOCKET} }
func (k NodeKindBlockDevice) nodeKind() C.NfNodeKind {
	return C.NfNodeKind{kind: C.NF_NODE_BLOCK_DEVICE, major: C.uint32_t(k.Major), minor: C.uint32_t(k.Minor)}
}
func (k NodeKindCharDevice) nodeKind() C.NfNodeKind {
	return C.NfNodeKind{kind: C.NF_NODE_CHAR_DEVICE, major: C.uint32_t(k.Major), minor: C.uint32_t(k.Minor)}
}

func nodeKind(k NodeKind) C.NfNodeKind {
	if k == nil {
		return C.NfNodeKind{kind: 0xffffffff} // refused by the library
	}
	return k.nodeKind()
}

// Ptr returns a pointer to v, for the optional (*T) fields.
func Ptr[T any](v T) *T { return &v }

func openOptions(o OpenOptions) C.NfOpenOptions {
	mode := o.Mode
	if mode == 0 {
		mode = 0o644
	}
	return C.NfOpenOptions{read: C.bool(o.Read), write: C.bool(o.Write), create: C.bool(o.Create),
		create_new: C.bool(o.CreateNew), truncate: C.bool(o.Truncate), mode: C.uint32_t(mode)}
}

func ts(t C.NfTimestamp) time.Time { return time.Unix(int64(t.secs), int64(t.nanos)) }

func metadata(m *C.NfMetadata) Metadata {
	return Metadata{
		Ino: uint64(m.ino), FileType: FileType(m.file_type), Mode: uint32(m.mode),
		Nlink: uint64(m.nlink), Uid: uint32(m.uid), Gid: uint32(m.gid), Size: uint64(m.size),
		BlockSize: uint64(m.block_size), Blocks: uint64(m.blocks), Rdev: uint64(m.rdev),
		Atime: ts(m.atime), Mtime: ts(m.mtime), Ctime: ts(m.ctime), Btime: ts(m.btime),
		DataVersion: uint64(m.data_version),
	}
}

// takeEntries copies a library entry array into Go values and frees it.
func takeEntries(list *C.NfDirEntries) []DirEntry {
	defer C.nf_dir_entries_free(list)
	if list.len == 0 {
		return nil
	}
	raw := unsafe.Slice(list.ptr, int(list.len))
	out := make([]DirEntry, len(raw))
	for i := range raw {
		e := &raw[i]
		out[i] = DirEntry{
			Name:       string(bytesOf(&e.name)),
			NameBytes:  bytesOf(&e.name_bytes),
			NameIsUtf8: bool(e.name_is_utf8),
			FileType:   FileType(e.file_type),
			Ino:        uint64(e.ino),
		}
		if e.has_metadata {
			m := metadata(&e.metadata)
			out[i].Metadata = &m
		}
	}
	return out
}

func statFs(s *C.NfStatFs) StatFs {
	return StatFs{BlockSize: uint32(s.block_size), Blocks: uint64(s.blocks),
		BlocksFree: uint64(s.blocks_free), BlocksAvailable: uint64(s.blocks_available),
		Files: uint64(s.files), FilesFree: uint64(s.files_free),
		FilesystemId: uint64(s.filesystem_id), MaxNameLen: uint32(s.max_name_len)}
}
