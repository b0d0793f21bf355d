package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
)

// WriteAtContext is WriteAt bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) WriteAtContext(ctx context.Context, offset uint64, data []byte) error {
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_write_at(h, t, C.uint64_t(offset), bp(data), bl(data), e)
	})
	return pathErr("write", f.name, err)
}

// WriteAt: writes all of data at offset (any size; chunked and pipelined).
func (f *File) WriteAt(offset uint64, data []byte) error {
	return f.WriteAtContext(context.Background(), offset, data)
}

// MetadataContext is Metadata bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) MetadataContext(ctx context.Context) (Metadata, error) {
	var out C.NfMetadata
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_metadata(h, t, &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("stat", f.name, err)
	}
	return metadata(&out), nil
}

// Metadata: fstat of this handle.
func (f *File) Metadata() (Metadata, error) {
	return f.MetadataContext(context.Background())
}

// SetLenContext is SetLen bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) SetLenContext(ctx context.Context, size uint64) error {
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_set_len(h, t, C.uint64_t(size), e)
	})
	return pathErr("truncate", f.name, err)
}

// SetLen: truncates or extends.
func (f *File) SetLen(size uint64) error {
	return f.SetLenContext(context.Background(), size)
}

// SetAttrContext is SetAttr bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) SetAttrContext(ctx context.Context, attrs SetAttrs) (Metadata, error) {
	var out C.NfMetadata
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_set_attr(h, t, attrs.toC(), &out, e)
	})
	if err != nil {
		return Metadata{}, pathErr("setattr", f.name, err)
	}
	return metadata(&out), nil
}

// SetAttr: metadata changes through the handle.
func (f *File) SetAttr(attrs SetAttrs) (Metadata, error) {
	return f.SetAttrContext(context.Background(), attrs)
}

// SyncAllContext is SyncAll bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) SyncAllContext(ctx context.Context) error {
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_sync_all(h, t, e)
	})
	return pathErr("sync", f.name, err)
}

// SyncAll: data and metadata to durable storage.
func (f *File) SyncAll() error {
	return f.SyncAllContext(context.Background())
}

// SyncDataContext is SyncData bounded by ctx: cancelling it drops the
// operation in the native library (a request already sent is flushed).
func (f *File) SyncDataContext(ctx context.Context) error {
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_sync_data(h, t, e)
	})
	return pathErr("sync", f.name, err)
}

// SyncData: data only to durable storage.
func (f *File) SyncData() error {
	return f.SyncDataContext(context.Background())
}
