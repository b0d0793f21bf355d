package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
)

// RewindContext is Rewind bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) RewindContext(ctx context.Context) error {
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_rewind(h, t, e)
	})
	return pathErr("rewind", d.name, err)
}

// Rewind: restarts the listing from the first entry.
func (d *Dir) Rewind() error {
	return d.RewindContext(context.Background())
}

// MetadataContext is Metadata bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) MetadataContext(ctx context.Context) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_metadata(h, t, &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("stat", d.name, err)
	}
	return metadata(&out), nil
}

// Metadata: metadata of the directory itself.
func (d *Dir) Metadata() (Metadata, error) {
	return d.MetadataContext(context.Background())
}

// SetAttrContext is SetAttr bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) SetAttrContext(ctx context.Context, attrs SetAttrs) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_set_attr(h, t, attrs.toC(), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("setattr", d.name, err)
	}
	return metadata(&out), nil
}

// SetAttr: changes the directory itself.
func (d *Dir) SetAttr(attrs SetAttrs) (Metadata, error) {
	return d.SetAttrContext(context.Background(), attrs)
}

// OpenAtContext is OpenAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) OpenAtContext(ctx context.Context, name []byte, opts OpenOptions) (*File, error) {
	var out *C.NfFile
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_open_at(h, t, bp(name), bl(name), openOptions(opts), &out, e)
	})
	if err != nil {
		return nil, pathErr("openat", d.child(name), err)
	}
	return newFile(out, d.child(name)), nil
}

// OpenAt: openat(2).
func (d *Dir) OpenAt(name []byte, opts OpenOptions) (*File, error) {
	return d.OpenAtContext(context.Background(), name, opts)
}

// OpenDirAtContext is OpenDirAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) OpenDirAtContext(ctx context.Context, name []byte) (*Dir, error) {
	var out *C.NfDir
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_open_dir_at(h, t, bp(name), bl(name), &out, e)
	})
	if err != nil {
		return nil, pathErr("opendirat", d.child(name), err)
	}
	return newDir(out, d.child(name)), nil
}

// OpenDirAt: descends into child directory name without decoding it.
func (d *Dir) OpenDirAt(name []byte) (*Dir, error) {
	return d.OpenDirAtContext(context.Background(), name)
}

// MetadataAtContext is MetadataAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) MetadataAtContext(ctx context.Context, name []byte) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_metadata_at(h, t, bp(name), bl(name), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("fstatat", d.child(name), err)
	}
	return metadata(&out), nil
}

// MetadataAt: fstatat(2); never follows symlinks.
func (d *Dir) MetadataAt(name []byte) (Metadata, error) {
	return d.MetadataAtContext(context.Background(), name)
}

// SetAttrAtContext is SetAttrAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) SetAttrAtContext(ctx context.Context, name []byte, attrs SetAttrs) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_set_attr_at(h, t, bp(name), bl(name), attrs.toC(), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("setattrat", d.child(name), err)
	}
	return metadata(&out), nil
}

// SetAttrAt: changes child name without opening it.
func (d *Dir) SetAttrAt(name []byte, attrs SetAttrs) (Metadata, error) {
	return d.SetAttrAtContext(context.Background(), name, attrs)
}

// CreateDirAtContext is CreateDirAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) CreateDirAtContext(ctx context.Context, name []byte, mode uint32) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_create_dir_at(h, t, bp(name), bl(name), C.uint32_t(mode), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("mkdirat", d.child(name), err)
	}
	return metadata(&out), nil
}

// CreateDirAt: mkdirat(2).
func (d *Dir) CreateDirAt(name []byte, mode uint32) (Metadata, error) {
	return d.CreateDirAtContext(context.Background(), name, mode)
}

// SymlinkAtContext is SymlinkAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) SymlinkAtContext(ctx context.Context, name []byte, target []byte) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_symlink_at(h, t, bp(name), bl(name), bp(target), bl(target), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("symlinkat", d.child(name), err)
	}
	return metadata(&out), nil
}

// SymlinkAt: symlinkat(2); target is stored verbatim.
func (d *Dir) SymlinkAt(name []byte, target []byte) (Metadata, error) {
	return d.SymlinkAtContext(context.Background(), name, target)
}

// MknodAtContext is MknodAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) MknodAtContext(ctx context.Context, name []byte, kind NodeKind, mode uint32) (Metadata, error) {
	var out C.NfMetadata
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_mknod_at(h, t, bp(name), bl(name), nodeKind(kind), C.uint32_t(mode), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("mknodat", d.child(name), err)
	}
	return metadata(&out), nil
}

// MknodAt: mknodat(2).
func (d *Dir) MknodAt(name []byte, kind NodeKind, mode uint32) (Metadata, error) {
	return d.MknodAtContext(context.Background(), name, kind, mode)
}

// RemoveFileAtContext is RemoveFileAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) RemoveFileAtContext(ctx context.Context, name []byte) error {
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_remove_file_at(h, t, bp(name), bl(name), e)
	})
	return pathErr("unlinkat", d.child(name), err)
}

// RemoveFileAt: unlinkat(2).
func (d *Dir) RemoveFileAt(name []byte) error {
	return d.RemoveFileAtContext(context.Background(), name)
}

// RemoveDirAtContext is RemoveDirAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) RemoveDirAtContext(ctx context.Context, name []byte) error {
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_remove_dir_at(h, t, bp(name), bl(name), e)
	})
	return pathErr("rmdirat", d.child(name), err)
}

// RemoveDirAt: unlinkat(2) with AT_REMOVEDIR.
func (d *Dir) RemoveDirAt(name []byte) error {
	return d.RemoveDirAtContext(context.Background(), name)
}

// ReadLinkAtContext is ReadLinkAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (d *Dir) ReadLinkAtContext(ctx context.Context, name []byte) ([]byte, error) {
	var out C.NfBuf
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_read_link_at(h, t, bp(name), bl(name), &out, e)
	})
	if err != nil {
		return nil, pathErr("readlinkat", d.child(name), err)
	}
	return takeBuf(&out), nil
}

// ReadLinkAt: readlinkat(2): the raw target of child symlink name.
func (d *Dir) ReadLinkAt(name []byte) ([]byte, error) {
	return d.ReadLinkAtContext(context.Background(), name)
}
