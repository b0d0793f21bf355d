package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
	"math"
)

// ReadContext is Read bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
//
// The file is opened, its size asked for, and read into one Go buffer of
// that size (each byte crosses the C boundary with one copy); the size
// only decides how much is asked for, as in the core.
func (c *Client) ReadContext(ctx context.Context, path string) ([]byte, error) {
	f, err := c.OpenContext(ctx, path, OpenOptions{Read: true})
	if err != nil {
		return nil, asOp("read", err)
	}
	defer f.Close()
	m, err := f.MetadataContext(ctx)
	if err != nil {
		return nil, asOp("read", err)
	}
	data, err := f.readSpan(ctx, 0, math.MaxUint64, m.Size)
	if err != nil {
		return nil, asOp("read", err)
	}
	return data, nil
}

// Read: the whole file into memory.
func (c *Client) Read(path string) ([]byte, error) {
	return c.ReadContext(context.Background(), path)
}

// ReadRangeContext is ReadRange bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ReadRangeContext(ctx context.Context, path string, offset uint64, length uint64) ([]byte, error) {
	f, err := c.OpenContext(ctx, path, OpenOptions{Read: true})
	if err != nil {
		return nil, asOp("read", err)
	}
	defer f.Close()
	data, err := f.readSpan(ctx, offset, length, length)
	if err != nil {
		return nil, asOp("read", err)
	}
	return data, nil
}

// ReadRange: up to length bytes at offset; a short result is end of file.
// A length past what a slice can hold (math.MaxUint64) reads to the end.
func (c *Client) ReadRange(path string, offset uint64, length uint64) ([]byte, error) {
	return c.ReadRangeContext(context.Background(), path, offset, length)
}

// WriteContext is Write bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) WriteContext(ctx context.Context, path string, data []byte) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_write(h, t, sp(path), sl(path), bp(data), bl(data), e)
	})
	return pathErr("write", path, err)
}

// Write: creates or truncates the file, then writes all of data.
func (c *Client) Write(path string, data []byte) error {
	return c.WriteContext(context.Background(), path, data)
}

// AppendContext is Append bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) AppendContext(ctx context.Context, path string, data []byte) (uint64, error) {
	var out C.uint64_t
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_append(h, t, sp(path), sl(path), bp(data), bl(data), &out, e)
	})
	if err != nil {
		return 0, pathErr("append", path, err)
	}
	return uint64(out), nil
}

// Append: appends data at the end of the file and returns the offset where it landed.
func (c *Client) Append(path string, data []byte) (uint64, error) {
	return c.AppendContext(context.Background(), path, data)
}

// StatContext is Stat bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) StatContext(ctx context.Context, path string) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_stat(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("stat", path, err)
	}
	return metadata(&out), nil
}

// Stat: metadata, not following a final symlink.
func (c *Client) Stat(path string) (Metadata, error) {
	return c.StatContext(context.Background(), path)
}

// MetadataContext is Metadata bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) MetadataContext(ctx context.Context, path string) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_metadata(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("metadata", path, err)
	}
	return metadata(&out), nil
}

// Metadata: metadata, following symlinks (40-hop cap).
func (c *Client) Metadata(path string) (Metadata, error) {
	return c.MetadataContext(context.Background(), path)
}

// CanonicalizeContext is Canonicalize bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) CanonicalizeContext(ctx context.Context, path string) ([]byte, error) {
	var out C.NfBuf
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_canonicalize(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return nil, pathErr("canonicalize", path, err)
	}
	return takeBuf(&out), nil
}

// Canonicalize: the path with every symlink resolved (canonical path bytes).
func (c *Client) Canonicalize(path string) ([]byte, error) {
	return c.CanonicalizeContext(context.Background(), path)
}

// ExistsContext is Exists bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ExistsContext(ctx context.Context, path string) (bool, error) {
	var out C.bool
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_exists(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return false, pathErr("exists", path, err)
	}
	return bool(out), nil
}

// Exists: whether anything is at path (any type, no symlink follow).
func (c *Client) Exists(path string) (bool, error) {
	return c.ExistsContext(context.Background(), path)
}

// SetAttrContext is SetAttr bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) SetAttrContext(ctx context.Context, path string, attrs SetAttrs) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_set_attr(h, t, sp(path), sl(path), attrs.toC(), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("setattr", path, err)
	}
	return metadata(&out), nil
}

// SetAttr: applies any combination of metadata changes.
func (c *Client) SetAttr(path string, attrs SetAttrs) (Metadata, error) {
	return c.SetAttrContext(context.Background(), path, attrs)
}

// ChmodContext is Chmod bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ChmodContext(ctx context.Context, path string, mode uint32) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_chmod(h, t, sp(path), sl(path), C.uint32_t(mode), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("chmod", path, err)
	}
	return metadata(&out), nil
}

// Chmod: sets the permission bits.
func (c *Client) Chmod(path string, mode uint32) (Metadata, error) {
	return c.ChmodContext(context.Background(), path, mode)
}

// ChownContext is Chown bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ChownContext(ctx context.Context, path string, uid *uint32, gid *uint32) (Metadata, error) {
	hasU, u, hasG, g := optU32(uid), C.uint32_t(deref(uid)), optU32(gid), C.uint32_t(deref(gid))
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_chown(h, t, sp(path), sl(path), hasU, u, hasG, g, &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("chown", path, err)
	}
	return metadata(&out), nil
}

// Chown: changes owner and/or group; nil leaves one unchanged.
func (c *Client) Chown(path string, uid *uint32, gid *uint32) (Metadata, error) {
	return c.ChownContext(context.Background(), path, uid, gid)
}

// TruncateContext is Truncate bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) TruncateContext(ctx context.Context, path string, size uint64) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_truncate(h, t, sp(path), sl(path), C.uint64_t(size), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("truncate", path, err)
	}
	return metadata(&out), nil
}

// Truncate: truncates or extends to size.
func (c *Client) Truncate(path string, size uint64) (Metadata, error) {
	return c.TruncateContext(context.Background(), path, size)
}

// SetTimesContext is SetTimes bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) SetTimesContext(ctx context.Context, path string, atime SetTime, mtime SetTime) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_set_times(h, t, sp(path), sl(path), setTime(atime), setTime(mtime), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("settimes", path, err)
	}
	return metadata(&out), nil
}

// SetTimes: sets access and/or modification time; nil leaves one unchanged.
func (c *Client) SetTimes(path string, atime SetTime, mtime SetTime) (Metadata, error) {
	return c.SetTimesContext(context.Background(), path, atime, mtime)
}

// StatfsContext is Statfs bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) StatfsContext(ctx context.Context) (StatFs, error) {
	var out C.NfStatFs
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_statfs(h, t, &out, e)
	})
	if err != nil {
		return StatFs{}, pathErr("statfs", c.target, err)
	}
	return statFs(&out), nil
}

// Statfs: filesystem usage and limits.
func (c *Client) Statfs() (StatFs, error) {
	return c.StatfsContext(context.Background())
}

// SyncContext is Sync bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) SyncContext(ctx context.Context) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_sync(h, t, e)
	})
	return pathErr("sync", c.target, err)
}

// Sync: flushes to durable storage.
func (c *Client) Sync() error {
	return c.SyncContext(context.Background())
}

// CreateDirContext is CreateDir bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) CreateDirContext(ctx context.Context, path string, mode uint32) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_create_dir(h, t, sp(path), sl(path), C.uint32_t(mode), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("mkdir", path, err)
	}
	return metadata(&out), nil
}

// CreateDir: creates a directory; the parent must exist.
func (c *Client) CreateDir(path string, mode uint32) (Metadata, error) {
	return c.CreateDirContext(context.Background(), path, mode)
}

// CreateDirAllContext is CreateDirAll bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) CreateDirAllContext(ctx context.Context, path string, mode uint32) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_create_dir_all(h, t, sp(path), sl(path), C.uint32_t(mode), e)
	})
	return pathErr("mkdir", path, err)
}

// CreateDirAll: creates a directory and any missing ancestors.
func (c *Client) CreateDirAll(path string, mode uint32) error {
	return c.CreateDirAllContext(context.Background(), path, mode)
}

// RemoveFileContext is RemoveFile bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) RemoveFileContext(ctx context.Context, path string) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_remove_file(h, t, sp(path), sl(path), e)
	})
	return pathErr("remove", path, err)
}

// RemoveFile: removes a file, symlink or device node.
func (c *Client) RemoveFile(path string) error {
	return c.RemoveFileContext(context.Background(), path)
}

// RemoveDirContext is RemoveDir bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) RemoveDirContext(ctx context.Context, path string) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_remove_dir(h, t, sp(path), sl(path), e)
	})
	return pathErr("rmdir", path, err)
}

// RemoveDir: removes an empty directory.
func (c *Client) RemoveDir(path string) error {
	return c.RemoveDirContext(context.Background(), path)
}

// RemoveDirAllContext is RemoveDirAll bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) RemoveDirAllContext(ctx context.Context, path string) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_remove_dir_all(h, t, sp(path), sl(path), e)
	})
	return pathErr("removeall", path, err)
}

// RemoveDirAll: removes a directory and everything below it (not atomic).
func (c *Client) RemoveDirAll(path string) error {
	return c.RemoveDirAllContext(context.Background(), path)
}

// RenameContext is Rename bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) RenameContext(ctx context.Context, from string, to string) error {
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_rename(h, t, sp(from), sl(from), sp(to), sl(to), e)
	})
	return linkErr("rename", from, to, err)
}

// Rename: renames atomically, replacing an existing target.
func (c *Client) Rename(from string, to string) error {
	return c.RenameContext(context.Background(), from, to)
}

// HardLinkContext is HardLink bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) HardLinkContext(ctx context.Context, original string, link string) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_hard_link(h, t, sp(original), sl(original), sp(link), sl(link), &out, e)
	})
	if err != nil {
		return Metadata{}, linkErr("link", original, link, err)
	}
	return metadata(&out), nil
}

// HardLink: a new name for an existing inode.
func (c *Client) HardLink(original string, link string) (Metadata, error) {
	return c.HardLinkContext(context.Background(), original, link)
}

// SymlinkContext is Symlink bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) SymlinkContext(ctx context.Context, target string, linkPath string) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_symlink(h, t, sp(target), sl(target), sp(linkPath), sl(linkPath), &out, e)
	})
	if err != nil {
		return Metadata{}, linkErr("symlink", target, linkPath, err)
	}
	return metadata(&out), nil
}

// Symlink: a symlink at linkPath; target is stored verbatim.
func (c *Client) Symlink(target string, linkPath string) (Metadata, error) {
	return c.SymlinkContext(context.Background(), target, linkPath)
}

// ReadLinkContext is ReadLink bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ReadLinkContext(ctx context.Context, path string) ([]byte, error) {
	var out C.NfBuf
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_read_link(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return nil, pathErr("readlink", path, err)
	}
	return takeBuf(&out), nil
}

// ReadLink: the raw target of a symlink (lossless).
func (c *Client) ReadLink(path string) ([]byte, error) {
	return c.ReadLinkContext(context.Background(), path)
}

// MknodContext is Mknod bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) MknodContext(ctx context.Context, path string, kind NodeKind, mode uint32) (Metadata, error) {
	var out C.NfMetadata
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_mknod(h, t, sp(path), sl(path), nodeKind(kind), C.uint32_t(mode), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("mknod", path, err)
	}
	return metadata(&out), nil
}

// Mknod: creates a FIFO, socket or device node.
func (c *Client) Mknod(path string, kind NodeKind, mode uint32) (Metadata, error) {
	return c.MknodContext(context.Background(), path, kind, mode)
}

// ReadDirContext is ReadDir bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) ReadDirContext(ctx context.Context, path string) ([]DirEntry, error) {
	var out C.NfDirEntries
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_read_dir(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return nil, pathErr("readdir", path, err)
	}
	return takeEntries(&out), nil
}

// ReadDir: the whole directory in directory order; . and .. excluded.
func (c *Client) ReadDir(path string) ([]DirEntry, error) {
	return c.ReadDirContext(context.Background(), path)
}

// OpenDirContext is OpenDir bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) OpenDirContext(ctx context.Context, path string) (*Dir, error) {
	var out *C.NfDir
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_open_dir(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return nil, pathErr("opendir", path, err)
	}
	return newDir(out, path), nil
}

// OpenDir: a directory handle: listing cursor plus child operations.
func (c *Client) OpenDir(path string) (*Dir, error) {
	return c.OpenDirContext(context.Background(), path)
}

// OpenContext is Open bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) OpenContext(ctx context.Context, path string, opts OpenOptions) (*File, error) {
	var out *C.NfFile
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_open(h, t, sp(path), sl(path), openOptions(opts), &out, e)
	})
	if err != nil {
		return nil, pathErr("open", path, err)
	}
	return newFile(out, path), nil
}

// Open: opens a file for positioned I/O.
func (c *Client) Open(path string, opts OpenOptions) (*File, error) {
	return c.OpenContext(context.Background(), path, opts)
}

// CreateContext is Create bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (c *Client) CreateContext(ctx context.Context, path string) (*File, error) {
	var out *C.NfFile
	err := c.do(ctx, func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_create(h, t, sp(path), sl(path), &out, e)
	})
	if err != nil {
		return nil, pathErr("create", path, err)
	}
	return newFile(out, path), nil
}

// Create: opens read-write, creating or truncating the file (mode 0o644).
func (c *Client) Create(path string) (*File, error) {
	return c.CreateContext(context.Background(), path)
}
