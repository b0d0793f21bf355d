package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sync"
	"unsafe"
)

// File is an open file. The core's I/O is positioned (ReadAt, WriteAt)
// and safe for concurrent use; for the io interfaces the Go handle adds
// a cursor (Read, Write, Seek), and WriteTo / ReadFrom move large
// pipelined chunks so io.Copy streams. With Stat it is also an fs.File.
//
// ReadAt and WriteAt have the seed's signatures (ReadAt(offset, length)
// returns the bytes), which the standard library's io.ReaderAt and
// io.WriterAt cannot share; [File.IO] is the same open file with those
// (for io.NewSectionReader, archive/zip, debug/elf and the like):
//
//	zr, err := zip.NewReader(f.IO(), size)
type File struct {
	h    *handle
	name string

	mu  sync.Mutex // guards pos
	pos int64
}

func newFile(p *C.NfFile, name string) *File {
	f := &File{h: newHandle(unsafe.Pointer(p), func(p unsafe.Pointer) {
		C.nf_file_free((*C.NfFile)(p))
	}), name: name}
	runtime.AddCleanup(f, func(h *handle) { h.shutdown() }, f.h)
	return f
}

// Name is the path the file was opened by.
func (f *File) Name() string { return f.name }

// Stat is Metadata as an fs.FileInfo (named by the last element of
// Name; Sys returns the Metadata), as os.File.Stat.
func (f *File) Stat() (fs.FileInfo, error) {
	m, err := f.Metadata()
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: path.Base(f.name), m: m}, nil
}

func (f *File) do(ctx context.Context, fn func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t) error {
	p := f.h.acquire()
	if p == nil {
		return closedError()
	}
	defer f.h.release()
	return run(ctx, func(t *C.NfCancel, e *C.NfError) C.int32_t {
		return fn((*C.NfFile)(p), t, e)
	})
}

// ReadIntoContext reads up to len(p) bytes at offset into p and returns
// how many it read; fewer than len(p) means end of file. Large reads are
// pipelined in the core; p is written only during the call.
func (f *File) ReadIntoContext(ctx context.Context, p []byte, offset uint64) (int, error) {
	var n C.size_t
	err := f.do(ctx, func(h *C.NfFile, t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_file_read_at(h, t, C.uint64_t(offset), bp(p), bl(p), &n, e)
	})
	if err != nil {
		return 0, pathErr("read", f.name, err)
	}
	return int(n), nil
}

// ReadInto is ReadIntoContext with context.Background().
func (f *File) ReadInto(p []byte, offset uint64) (int, error) {
	return f.ReadIntoContext(context.Background(), p, offset)
}

// ReadAtContext is ReadAt bounded by ctx.
func (f *File) ReadAtContext(ctx context.Context, offset uint64, length uint64) ([]byte, error) {
	return f.readSpan(ctx, offset, length, length)
}

// How much a read allocates before the bytes arrive: firstWindow at
// first, then up to growth times what has arrived (at most maxAhead more),
// never past the length asked for or the size the server reported. A
// size a server claims (or a length a caller passes as "all of it")
// therefore costs memory only in proportion to the bytes actually sent,
// while a file whose size is known is read into one buffer with one copy
// and at most a firstWindow-sized copy on growth.
const (
	firstWindow = 16 << 20
	growth      = 16
	maxAhead    = 1 << 30
	probeSize   = 64 << 10
)

// readSpan is the readSpan of f's ReadIntoContext.
func (f *File) readSpan(ctx context.Context, offset, limit, hint uint64) ([]byte, error) {
	return readSpan(func(p []byte, off uint64) (int, error) {
		return f.ReadIntoContext(ctx, p, off)
	}, offset, limit, hint)
}

// readSpan reads from offset until end of file or limit bytes into one Go
// buffer with readInto (a short count is end of file); with ReadInto the
// native library copies each byte once, straight into it. hint is the
// expected length: the size the server reported, or limit. Reaching hint
// below limit, one small probe read checks that the file did not grow.
func readSpan(readInto func(p []byte, off uint64) (int, error), offset, limit, hint uint64) ([]byte, error) {
	if limit == 0 {
		// Nothing to read, but a closed handle still says so.
		if _, err := readInto(nil, offset); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	want := min(hint, limit, uint64(maxInt))
	buf := make([]byte, 0, min(want, firstWindow))
	for {
		have := uint64(len(buf))
		if have >= limit {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			if have >= want {
				// The expected end: probe for more without growing buf.
				probe := make([]byte, min(probeSize, limit-have))
				n, err := readInto(probe, offset+have)
				if err != nil {
					return nil, err
				}
				buf = append(buf, probe[:n]...)
				if n < len(probe) {
					return clip(buf), nil
				}
				want = min(uint64(cap(buf)), limit)
				continue
			}
			ahead := uint64(maxAhead)
			if have < maxAhead/growth {
				ahead = max(growth*have, firstWindow)
			}
			next := make([]byte, len(buf), min(want, have+ahead))
			copy(next, buf)
			buf = next
		}
		room := buf[len(buf):cap(buf)]
		if uint64(len(room)) > limit-have {
			room = room[:limit-have]
		}
		n, err := readInto(room, offset+have)
		if err != nil {
			return nil, err
		}
		buf = buf[:len(buf)+n]
		if n < len(room) {
			return clip(buf), nil
		}
	}
}

// clip returns b, copied to its own length when most of its capacity is
// unused (a file that ended well short of what was allocated for it).
func clip(b []byte) []byte {
	if cap(b)-len(b) <= max(len(b), probeSize) {
		return b
	}
	return append([]byte(nil), b...)
}

// ReadAt returns up to length bytes at offset; a short result is end of
// file. A length past what a slice can hold (math.MaxUint64) reads to the
// end; memory is allocated as the bytes arrive, not for length up front.
// (For io.ReaderAt, see [File.IO].)
func (f *File) ReadAt(offset uint64, length uint64) ([]byte, error) {
	return f.ReadAtContext(context.Background(), offset, length)
}

// Close marks the file closed (later calls fail with ErrClosed) and
// releases its fid. Idempotent; never waits.
func (f *File) Close() error {
	if p := f.h.acquireClosing(); p != nil {
		var e C.NfError
		C.nf_file_close((*C.NfFile)(p), nil, &e)
		C.nf_error_free(&e)
		f.h.release()
	}
	f.h.shutdown()
	return nil
}

const maxInt = int(^uint(0) >> 1)

// Read reads at the cursor and advances it (io.Reader); io.EOF at end.
func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.ReadInto(p, uint64(f.pos))
	f.pos += int64(n)
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes at the cursor and advances it (io.Writer).
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.WriteAt(uint64(f.pos), p); err != nil {
		return 0, err
	}
	f.pos += int64(len(p))
	return len(p), nil
}

// Seek moves the cursor (io.Seeker); io.SeekEnd asks the server for the
// size.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.pos
	case io.SeekEnd:
		m, err := f.Metadata()
		if err != nil {
			return 0, err
		}
		base = int64(m.Size)
	default:
		return 0, pathErr("seek", f.name, errors.New("invalid whence"))
	}
	if base+offset < 0 {
		return 0, pathErr("seek", f.name, errors.New("negative position"))
	}
	f.pos = base + offset
	return f.pos, nil
}

// chunk is the size WriteTo and ReadFrom move per call: enough for the
// core to keep its pipeline of msize-sized requests full.
const chunk = 8 << 20

// WriteTo copies from the cursor to the end of file into w (io.WriterTo,
// used by io.Copy).
func (f *File) WriteTo(w io.Writer) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := make([]byte, chunk)
	var total int64
	for {
		n, err := f.ReadInto(buf, uint64(f.pos))
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		f.pos += int64(n)
		m, werr := w.Write(buf[:n])
		total += int64(m)
		if werr != nil {
			return total, werr
		}
		if m != n {
			return total, io.ErrShortWrite
		}
	}
}

// ReadFrom copies r to the file at the cursor until io.EOF (io.ReaderFrom,
// used by io.Copy).
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := make([]byte, chunk)
	var total int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if err := f.WriteAt(uint64(f.pos), buf[:n]); err != nil {
				return total, err
			}
			f.pos += int64(n)
			total += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// IO is f with the standard library's signatures: io.ReaderAt and
// io.WriterAt (whose ReadAt/WriteAt differ from the seed's) besides
// everything else *File has. It is the same open file: it shares f's
// cursor, and closing either closes both.
func (f *File) IO() *FileIO { return &FileIO{f} }

// FileIO implements io.Reader, io.Writer, io.ReaderAt, io.WriterAt,
// io.Seeker, io.Closer, io.WriterTo and io.ReaderFrom over a [File].
type FileIO struct{ *File }

// ReadAt implements io.ReaderAt: a short read returns io.EOF.
func (x *FileIO) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("read", x.name, errors.New("negative offset"))
	}
	n, err := x.ReadInto(p, uint64(off))
	if err != nil {
		return n, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements io.WriterAt.
func (x *FileIO) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("write", x.name, errors.New("negative offset"))
	}
	if err := x.File.WriteAt(uint64(off), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

var (
	_ io.ReadWriteSeeker = (*File)(nil)
	_ io.Closer          = (*File)(nil)
	_ io.WriterTo        = (*File)(nil)
	_ io.ReaderFrom      = (*File)(nil)
	_ fs.File            = (*File)(nil)
	_ io.ReaderAt        = (*FileIO)(nil)
	_ fs.File            = (*FileIO)(nil)
	_ io.WriterAt        = (*FileIO)(nil)
	_ io.ReadWriteCloser = (*FileIO)(nil)
	_ io.Seeker          = (*FileIO)(nil)
)
