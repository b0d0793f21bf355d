package ninefold

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"testing"
	"testing/iotest"
	"time"
)

// TestBulkIO: the bulk paths (Client.Read, ReadRange, Write; File.ReadAt,
// ReadInto, WriteAt), which the native library pipelines in chunk-sized
// requests copied straight to or from Go memory, against each server.
// A small msize makes a few MiB into hundreds of chunks, and the ranges
// straddle chunk boundaries and the end of file.
func TestBulkIO(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, _ *Client, dir string) {
		c, err := ClientConnectWith(s.target, ConnectOptions{Aname: s.aname, Msize: 16 << 10})
		must(t, err)
		defer c.Close()
		chunk := uint64(c.Capabilities().MaxReadChunk)
		if chunk == 0 || chunk > 16<<10 {
			t.Fatalf("read chunk %d with msize 16 KiB", chunk)
		}
		data := pattern(3<<20 + 4321)
		size := uint64(len(data))
		p := dir + "/bulk"
		must(t, c.Write(p, data))
		if got := must1[[]byte](t)(c.Read(p)); !bytes.Equal(got, data) {
			t.Fatalf("Read: %d bytes, want %d (or different bytes)", len(got), len(data))
		}
		f := must1[*File](t)(c.Open(p, OpenOptions{Read: true, Write: true}))
		defer f.Close()
		for _, r := range []struct{ off, n uint64 }{
			{0, chunk}, {1, chunk}, {chunk - 1, 2}, {chunk - 1, 10*chunk + 3},
			{3, 40 * chunk}, {size - 5, 100}, {size - 1, 1}, {size, 10}, {size + 100, 10},
			{7, math.MaxUint64}, {0, size}, {5, 0},
		} {
			want := []byte{}
			if r.off < size {
				want = data[r.off:min(size, r.off+min(r.n, size))]
			}
			if got := must1[[]byte](t)(c.ReadRange(p, r.off, r.n)); !bytes.Equal(got, want) {
				t.Fatalf("ReadRange(%d, %d): %d bytes, want %d", r.off, r.n, len(got), len(want))
			}
			if got := must1[[]byte](t)(f.ReadAt(r.off, r.n)); !bytes.Equal(got, want) {
				t.Fatalf("ReadAt(%d, %d): %d bytes, want %d", r.off, r.n, len(got), len(want))
			}
			if r.n > size+1 {
				continue
			}
			buf := bytes.Repeat([]byte{0xee}, int(r.n)+3)
			n, err := f.ReadInto(buf[:r.n], r.off)
			must(t, err)
			if n != len(want) || !bytes.Equal(buf[:n], want) {
				t.Fatalf("ReadInto(%d, %d): %d bytes", r.off, r.n, n)
			}
			if !bytes.Equal(buf[r.n:], []byte{0xee, 0xee, 0xee}) {
				t.Fatalf("ReadInto(%d, %d) wrote past its buffer", r.off, r.n)
			}
		}
		// A multi-chunk write at an unaligned offset that extends the file.
		patch := bytes.Repeat([]byte("patch!"), int(5*chunk+17)/6)
		at := size - 3*chunk + 5
		must(t, f.WriteAt(at, patch))
		want := append(append([]byte{}, data[:at]...), patch...)
		if got := must1[[]byte](t)(c.Read(p)); !bytes.Equal(got, want) {
			t.Fatalf("after WriteAt: %d bytes, want %d", len(got), len(want))
		}
		// Empty files and empty writes.
		must(t, c.Write(dir+"/empty", nil))
		if got, err := c.Read(dir + "/empty"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("Read of an empty file: %v %v", got, err)
		}
		must(t, f.WriteAt(1, nil))
		// Errors keep the whole-file operation's name and path.
		var pe *fs.PathError
		if _, err := c.Read(dir + "/missing"); !errors.Is(err, ErrNotFound) || !errors.As(err, &pe) ||
			pe.Op != "read" || pe.Path != dir+"/missing" {
			t.Fatalf("Read of a missing file: %v", err)
		}
		if _, err := c.ReadRange(dir+"/missing", 0, 1); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadRange of a missing file: %v", err)
		}
		if _, err := c.Read(dir); err == nil {
			t.Fatal("Read of a directory succeeded")
		}
		must(t, f.Close())
		if _, err := f.ReadAt(0, 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadAt(0, 0) after Close: %v", err)
		}
	})
}

// TestBulkCancel: a deadline in the middle of a pipelined read or write
// ends the call with the context's error, the session stays usable (no
// stale reply lands in a later call), and the server's fid count returns
// to its baseline.
func TestBulkCancel(t *testing.T) {
	s := byName(t, "passthrough")
	c := s.connect(t)
	dir := "/bulk-cancel"
	_ = c.RemoveDirAll(dir)
	must(t, c.CreateDirAll(dir, 0o755))
	defer c.RemoveDirAll(dir)
	data := pattern(64 << 20)
	must(t, c.Write(dir+"/big", data))
	const fids = "ninefold_server_fid_count"
	baseFids := scrape(t, s.metrics, fids)
	for i, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		_, rerr := c.ReadContext(ctx, dir+"/big")
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), d)
		werr := c.WriteContext(ctx, dir+"/other", data)
		cancel()
		if i == 0 && (!errors.Is(rerr, context.DeadlineExceeded) || !errors.Is(werr, context.DeadlineExceeded)) {
			t.Fatalf("64 MiB within 1 ms: read %v, write %v", rerr, werr)
		}
		if got := must1[[]byte](t)(c.ReadRange(dir+"/big", 1<<20, 1000)); !bytes.Equal(got, data[1<<20:1<<20+1000]) {
			t.Fatal("a read after a cancelled one got other bytes")
		}
	}
	if got := must1[[]byte](t)(c.Read(dir + "/big")); !bytes.Equal(got, data) {
		t.Fatal("the whole file after cancelled calls differs")
	}
	waitFor(t, "the fid count to return to its baseline", func() bool { return scrape(t, s.metrics, fids) <= baseFids })
}

// TestFileStdlib: *File and f.IO() keep the standard library's interface
// contracts (testing/iotest: Read, Seek, ReadAt), Stat is os.File's, and
// archive/zip writes through a File and reads back through f.IO() (an
// io.ReaderAt).
func TestFileStdlib(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		p := dir + "/stdlib.bin"
		// iotest reads it a few bytes per call, many times over.
		data := pattern(3000)
		must(t, c.Write(p, data))
		f := must1[*File](t)(c.Open(p, OpenOptions{Read: true}))
		defer f.Close()
		must(t, iotest.TestReader(f, data))
		g := must1[*File](t)(c.Open(p, OpenOptions{Read: true}))
		defer g.Close()
		must(t, iotest.TestReader(g.IO(), data))
		info := must1[fs.FileInfo](t)(f.Stat())
		if info.Name() != "stdlib.bin" || info.Size() != int64(len(data)) || !info.Mode().IsRegular() {
			t.Fatalf("Stat: %s %d %v", info.Name(), info.Size(), info.Mode())
		}
		if m, ok := info.Sys().(Metadata); !ok || m.Size != uint64(len(data)) {
			t.Fatalf("Stat().Sys(): %#v", info.Sys())
		}

		z := dir + "/archive.zip"
		w := must1[*File](t)(c.Create(z))
		zw := zip.NewWriter(w)
		member := must1[io.Writer](t)(zw.Create("inner/hello.txt"))
		must1[int](t)(member.Write(data[:2000]))
		must(t, zw.Close())
		must(t, w.Close())
		r := must1[*File](t)(c.Open(z, OpenOptions{Read: true}))
		defer r.Close()
		size := must1[fs.FileInfo](t)(r.Stat()).Size()
		zr := must1[*zip.Reader](t)(zip.NewReader(r.IO(), size))
		got := must1[[]byte](t)(fs.ReadFile(zr, "inner/hello.txt"))
		if !bytes.Equal(got, data[:2000]) {
			t.Fatal("zip member read back differs")
		}
		must(t, r.Close())
		if _, err := r.Stat(); !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("Stat after Close: %v", err)
		}
	})
}
