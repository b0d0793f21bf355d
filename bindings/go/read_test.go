package ninefold

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// fakeFile serves readInto from content, recording what readSpan asked
// for, and fails the test when a buffer was allocated further ahead of
// the bytes received than readSpan's policy allows.
type fakeFile struct {
	t       *testing.T
	content []byte
	offset  uint64 // where the readSpan under test started
	limit   uint64
	calls   int
	failAt  int // the call number that fails (0: none)
}

var errFake = errors.New("fake read error")

func (f *fakeFile) readInto(p []byte, off uint64) (int, error) {
	f.calls++
	if f.calls == f.failAt {
		return 0, errFake
	}
	have := off - f.offset
	// The buffer p lies in spans have+cap(p) bytes (a probe: fewer).
	if alloc := have + uint64(cap(p)); alloc > max(firstWindow, (growth+1)*have) {
		f.t.Errorf("buffer of %d bytes after only %d arrived", alloc, have)
	}
	if have+uint64(len(p)) > f.limit {
		f.t.Errorf("asked for bytes %d..%d past the limit %d", have, have+uint64(len(p)), f.limit)
	}
	if off >= uint64(len(f.content)) {
		return 0, nil
	}
	return copy(p, f.content[off:]), nil
}

// pattern is n bytes of a 4099-byte block (prime, so it lines up with no
// chunk size), copied rather than computed per byte (fast under -race).
func pattern(n int) []byte {
	block := make([]byte, 4099)
	for i := range block {
		block[i] = byte(i*7 + i>>7)
	}
	b := make([]byte, n)
	for i := 0; i < n; i += copy(b[i:], block) {
	}
	return b
}

// TestReadSpan covers the allocation policy behind Client.Read,
// Client.ReadRange and File.ReadAt without a server: a size that lies in
// either direction, a limit, an offset, the end of file on a chunk
// boundary, and errors.
func TestReadSpan(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		name                string
		size                int
		offset, limit, hint uint64
		wantAtMost          int // reads, 0: any number
	}{
		{name: "exact size", size: 40 * MiB, limit: math.MaxUint64, hint: 40 * MiB, wantAtMost: 3},
		{name: "empty file", size: 0, limit: math.MaxUint64, hint: 0, wantAtMost: 1},
		{name: "server claims 1 TiB", size: 10, limit: math.MaxUint64, hint: 1 << 40, wantAtMost: 1},
		{name: "server claims 1 TiB of a 17 MiB file", size: 17 * MiB, limit: math.MaxUint64, hint: 1 << 40, wantAtMost: 2},
		{name: "file grew past its size", size: 5*MiB + 123, limit: math.MaxUint64, hint: 100 * 1024},
		{name: "file shrank below its size", size: 3*MiB + 1, limit: math.MaxUint64, hint: 20 * MiB, wantAtMost: 2},
		{name: "window boundary", size: firstWindow, limit: math.MaxUint64, hint: firstWindow, wantAtMost: 2},
		{name: "limit", size: 2 * MiB, offset: 1000, limit: 5000, hint: 5000, wantAtMost: 1},
		{name: "huge limit (to the end)", size: 3 * MiB, offset: 7, limit: math.MaxUint64, hint: math.MaxUint64, wantAtMost: 1},
		{name: "offset past the end", size: 100, offset: 200, limit: 50, hint: 50, wantAtMost: 1},
		{name: "zero length", size: 100, offset: 3, limit: 0, hint: 0, wantAtMost: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			content := pattern(tc.size)
			f := &fakeFile{t: t, content: content, offset: tc.offset, limit: tc.limit}
			got, err := readSpan(f.readInto, tc.offset, tc.limit, tc.hint)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte{}
			if tc.offset < uint64(len(content)) {
				want = content[tc.offset:]
				if uint64(len(want)) > tc.limit {
					want = want[:tc.limit]
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(want))
			}
			if got == nil {
				t.Fatal("nil result for a successful read")
			}
			if tc.wantAtMost > 0 && f.calls > tc.wantAtMost {
				t.Errorf("%d reads, want at most %d", f.calls, tc.wantAtMost)
			}
			if cap(got)-len(got) > max(len(got), probeSize) {
				t.Errorf("result keeps %d bytes of capacity for %d bytes", cap(got), len(got))
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		for failAt := 1; failAt <= 3; failAt++ {
			f := &fakeFile{t: t, content: pattern(40 * MiB), limit: math.MaxUint64, failAt: failAt}
			if got, err := readSpan(f.readInto, 0, math.MaxUint64, 40*MiB); !errors.Is(err, errFake) || got != nil {
				t.Fatalf("failing read %d: %d bytes, %v", failAt, len(got), err)
			}
		}
	})
}
