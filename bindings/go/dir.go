package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
	"iter"
	"runtime"
	"unsafe"
)

// Dir is an open directory: a pull-based listing cursor plus
// openat-style operations on its children. Child names are bytes: feed
// DirEntry.NameBytes back verbatim. Safe for concurrent use.
type Dir struct {
	h    *handle
	name string
}

func newDir(p *C.NfDir, name string) *Dir {
	d := &Dir{h: newHandle(unsafe.Pointer(p), func(p unsafe.Pointer) {
		C.nf_dir_free((*C.NfDir)(p))
	}), name: name}
	runtime.AddCleanup(d, func(h *handle) { h.shutdown() }, d.h)
	return d
}

// Name is the path the directory was opened by.
func (d *Dir) Name() string { return d.name }

// child is the path of child name, for errors.
func (d *Dir) child(name []byte) string {
	if d.name == "" || d.name[len(d.name)-1] == '/' {
		return d.name + string(name)
	}
	return d.name + "/" + string(name)
}

func (d *Dir) do(ctx context.Context, f func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t) error {
	p := d.h.acquire()
	if p == nil {
		return closedError()
	}
	defer d.h.release()
	return run(ctx, func(t *C.NfCancel, e *C.NfError) C.int32_t {
		return f((*C.NfDir)(p), t, e)
	})
}

// with2 runs f with this directory and other acquired.
func (d *Dir) with2(ctx context.Context, other *Dir, f func(h, o *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t) error {
	o := other.h.acquire()
	if o == nil {
		return closedError()
	}
	defer other.h.release()
	return d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return f(h, (*C.NfDir)(o), t, e)
	})
}

// NextBatchContext is NextBatch bounded by ctx.
func (d *Dir) NextBatchContext(ctx context.Context, max *int) ([]DirEntry, error) {
	var out C.NfDirEntries
	hasMax, m := max != nil, 0
	if max != nil {
		if *max < 0 {
			return nil, pathErr("readdir", d.name, ErrInvalidArgument)
		}
		m = *max
	}
	err := d.do(ctx, func(h *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_next_batch(h, t, C.bool(hasMax), C.size_t(m), &out, e)
	})
	if err != nil {
		return nil, pathErr("readdir", d.name, err)
	}
	return takeEntries(&out), nil
}

// NextBatch returns the next entries in directory order (. and ..
// excluded); an empty result means the end. A nil max returns one
// server batch.
func (d *Dir) NextBatch(max *int) ([]DirEntry, error) {
	return d.NextBatchContext(context.Background(), max)
}

// EntriesContext is Entries bounded by ctx.
func (d *Dir) EntriesContext(ctx context.Context) iter.Seq2[DirEntry, error] {
	return func(yield func(DirEntry, error) bool) {
		for {
			batch, err := d.NextBatchContext(ctx, nil)
			if err != nil {
				yield(DirEntry{}, err)
				return
			}
			if len(batch) == 0 {
				return
			}
			for _, e := range batch {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// Entries streams the rest of the listing, one server batch at a time,
// as a range-over-func iterator; an error is yielded once and ends it.
//
//	for entry, err := range dir.Entries() { ... }
func (d *Dir) Entries() iter.Seq2[DirEntry, error] {
	return d.EntriesContext(context.Background())
}

// LinkAtContext is LinkAt bounded by ctx.
func (d *Dir) LinkAtContext(ctx context.Context, originalDir *Dir, originalName, newName []byte) (Metadata, error) {
	var out C.NfMetadata
	err := d.with2(ctx, originalDir, func(h, o *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_link_at(h, t, o, bp(originalName), bl(originalName), bp(newName), bl(newName), &out, e)
	})
	if err != nil {
		return Metadata{}, linkErr("linkat", originalDir.child(originalName), d.child(newName), err)
	}
	return metadata(&out), nil
}

// LinkAt is linkat(2): newName here for originalName in originalDir.
func (d *Dir) LinkAt(originalDir *Dir, originalName, newName []byte) (Metadata, error) {
	return d.LinkAtContext(context.Background(), originalDir, originalName, newName)
}

// RenameAtContext is RenameAt bounded by ctx.
func (d *Dir) RenameAtContext(ctx context.Context, oldName []byte, newDir *Dir, newName []byte) error {
	err := d.with2(ctx, newDir, func(h, n *C.NfDir, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_dir_rename_at(h, t, bp(oldName), bl(oldName), n, bp(newName), bl(newName), e)
	})
	return linkErr("renameat", d.child(oldName), newDir.child(newName), err)
}

// RenameAt is renameat(2); newDir may be d itself.
func (d *Dir) RenameAt(oldName []byte, newDir *Dir, newName []byte) error {
	return d.RenameAtContext(context.Background(), oldName, newDir, newName)
}

// Close marks the directory closed and releases its fids. Idempotent;
// never waits.
func (d *Dir) Close() error {
	if p := d.h.acquireClosing(); p != nil {
		var e C.NfError
		C.nf_dir_close((*C.NfDir)(p), nil, &e)
		C.nf_error_free(&e)
		d.h.release()
	}
	d.h.shutdown()
	return nil
}
