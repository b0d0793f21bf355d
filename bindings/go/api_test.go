package ninefold

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func must1[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestClientOperations(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		p := dir + "/notes.txt"
		must(t, c.Write(p, []byte("hello from ninefold")))
		if got := must1[[]byte](t)(c.Read(p)); string(got) != "hello from ninefold" {
			t.Fatalf("read %q", got)
		}
		if got := must1[[]byte](t)(c.ReadRange(p, 6, 4)); string(got) != "from" {
			t.Fatalf("read_range %q", got)
		}
		if got := must1[[]byte](t)(c.ReadRange(p, 15, 100)); string(got) != "fold" {
			t.Fatalf("short read_range %q", got)
		}
		off := must1[uint64](t)(c.Append(p, []byte("!")))
		if off != 19 {
			t.Fatalf("append landed at %d", off)
		}
		m := must1[Metadata](t)(c.Metadata(p))
		if m.Size != 20 || !m.IsFile() || m.IsDir() || m.FileType != FileTypeFile {
			t.Fatalf("metadata %+v", m)
		}
		if m.Mtime.IsZero() || time.Since(m.Mtime) > time.Hour {
			t.Fatalf("mtime %v", m.Mtime)
		}
		if !must1[bool](t)(c.Exists(p)) || must1[bool](t)(c.Exists(dir+"/nope")) {
			t.Fatal("exists")
		}
		m = must1[Metadata](t)(c.Chmod(p, 0o600))
		if m.Mode&0o7777 != 0o600 {
			t.Fatalf("chmod: mode %o", m.Mode)
		}
		m = must1[Metadata](t)(c.SetAttr(p, SetAttrs{Mode: Ptr(uint32(0o640))}))
		if m.Mode&0o7777 != 0o640 {
			t.Fatalf("set_attr: mode %o", m.Mode)
		}
		m = must1[Metadata](t)(c.Chown(p, nil, nil))
		if m.Size != 20 {
			t.Fatalf("chown no-op changed size: %+v", m)
		}
		uid := m.Uid
		m = must1[Metadata](t)(c.Chown(p, &uid, nil))
		if m.Uid != uid {
			t.Fatalf("chown uid %d", m.Uid)
		}
		m = must1[Metadata](t)(c.Truncate(p, 5))
		if m.Size != 5 {
			t.Fatalf("truncate size %d", m.Size)
		}
		when := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
		m = must1[Metadata](t)(c.SetTimes(p, SetTimeNow{}, SetTimeAt{Time: when}))
		if !m.Mtime.Equal(when) {
			t.Fatalf("set_times: mtime %v, want %v", m.Mtime, when)
		}
		if time.Since(m.Atime) > time.Hour {
			t.Fatalf("set_times now: atime %v", m.Atime)
		}
		st := must1[StatFs](t)(c.Statfs())
		if st.BlockSize == 0 || st.MaxNameLen == 0 {
			t.Fatalf("statfs %+v", st)
		}
		must(t, c.Sync())
		caps := c.Capabilities()
		if caps.Msize == 0 || caps.MaxReadChunk == 0 || caps.MaxWriteChunk == 0 {
			t.Fatalf("capabilities %+v", caps)
		}
		// Our server speaks ZeroFS's dialect by default; diod only 9P2000.L.
		wantDialect := "9P2000.L.Z"
		if s.name == "diod" {
			wantDialect = "9P2000.L"
		}
		if caps.Dialect != wantDialect {
			t.Fatalf("dialect %q from %s, want %q", caps.Dialect, s.name, wantDialect)
		}
		if caps.ExtensionsV1 != (wantDialect == "9P2000.L.Z") {
			t.Fatalf("extensions_v1 %v on %s", caps.ExtensionsV1, caps.Dialect)
		}

		// Namespace.
		m = must1[Metadata](t)(c.CreateDir(dir+"/sub", 0o755))
		if !m.IsDir() {
			t.Fatalf("create_dir %+v", m)
		}
		must(t, c.CreateDirAll(dir+"/a/b/c", 0o755))
		must(t, c.CreateDirAll(dir+"/a/b/c", 0o755))
		must(t, c.Rename(p, dir+"/sub/notes.md"))
		if must1[bool](t)(c.Exists(p)) {
			t.Fatal("rename left the source")
		}
		m = must1[Metadata](t)(c.HardLink(dir+"/sub/notes.md", dir+"/hard"))
		if m.Nlink != 2 {
			t.Fatalf("hard_link nlink %d", m.Nlink)
		}
		m = must1[Metadata](t)(c.Symlink("sub/notes.md", dir+"/link"))
		if !m.IsSymlink() {
			t.Fatalf("symlink %+v", m)
		}
		if got := must1[[]byte](t)(c.ReadLink(dir + "/link")); string(got) != "sub/notes.md" {
			t.Fatalf("read_link %q", got)
		}
		if !must1[Metadata](t)(c.Stat(dir + "/link")).IsSymlink() {
			t.Fatal("stat followed the symlink")
		}
		if must1[Metadata](t)(c.Metadata(dir+"/link")).Size != 5 {
			t.Fatal("metadata did not follow the symlink")
		}
		canon := must1[[]byte](t)(c.Canonicalize(dir + "/link"))
		if string(canon) != dir+"/sub/notes.md" {
			t.Fatalf("canonicalize %q", canon)
		}
		m = must1[Metadata](t)(c.Mknod(dir+"/fifo", NodeKindFifo{}, 0o644))
		if m.FileType != FileTypeFifo {
			t.Fatalf("mknod fifo %+v", m)
		}
		if s.name != "diod" { // diod's export is a real directory: sockets too
			m = must1[Metadata](t)(c.Mknod(dir+"/sock", NodeKindSocket{}, 0o644))
			if m.FileType != FileTypeSocket {
				t.Fatalf("mknod socket %+v", m)
			}
		}
		names := []string{}
		for _, e := range must1[[]DirEntry](t)(c.ReadDir(dir)) {
			names = append(names, e.Name)
			if !e.NameIsUtf8 || string(e.NameBytes) != e.Name || e.Ino == 0 {
				t.Fatalf("entry %+v", e)
			}
		}
		slices.Sort(names)
		want := []string{"a", "fifo", "hard", "link", "sub"}
		if s.name != "diod" {
			want = []string{"a", "fifo", "hard", "link", "sock", "sub"}
		}
		if !slices.Equal(names, want) {
			t.Fatalf("read_dir %v, want %v", names, want)
		}
		must(t, c.RemoveFile(dir+"/hard"))
		must(t, c.RemoveDir(dir+"/a/b/c"))
		must(t, c.RemoveDirAll(dir+"/a"))
		if must1[bool](t)(c.Exists(dir + "/a")) {
			t.Fatal("remove_dir_all left the directory")
		}

		// Handles.
		f := must1[*File](t)(c.Create(dir + "/data.bin"))
		must(t, f.WriteAt(0, make([]byte, 4096)))
		must(t, f.WriteAt(4096, []byte("tail")))
		must(t, f.SyncAll())
		must(t, f.SyncData())
		if got := must1[[]byte](t)(f.ReadAt(4096, 100)); string(got) != "tail" {
			t.Fatalf("file read_at %q", got)
		}
		if must1[Metadata](t)(f.Metadata()).Size != 4100 {
			t.Fatal("file metadata size")
		}
		must(t, f.SetLen(10))
		m = must1[Metadata](t)(f.SetAttr(SetAttrs{Size: Ptr(uint64(3))}))
		if m.Size != 3 {
			t.Fatalf("file set_attr size %d", m.Size)
		}
		must(t, f.Close())
		must(t, f.Close())
		if _, err := f.Metadata(); !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
		f = must1[*File](t)(c.Open(dir+"/new.txt", OpenOptions{Write: true, Create: true}))
		must(t, f.WriteAt(0, []byte("x")))
		must(t, f.Close())
		if m := must1[Metadata](t)(c.Metadata(dir + "/new.txt")); m.Mode&0o777 != 0o644&^0o022 && m.Mode&0o777 != 0o644 {
			t.Fatalf("default mode %o", m.Mode)
		}
		if _, err := c.Open(dir+"/new.txt", OpenOptions{Write: true, CreateNew: true}); !errors.Is(err, ErrAlreadyExists) {
			t.Fatalf("create_new on an existing file: %v", err)
		}
	})
}

func TestDirOperations(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		d := must1[*Dir](t)(c.OpenDir(dir))
		defer d.Close()
		if !must1[Metadata](t)(d.Metadata()).IsDir() {
			t.Fatal("dir metadata")
		}
		if m := must1[Metadata](t)(d.SetAttr(SetAttrs{Mode: Ptr(uint32(0o750))})); m.Mode&0o777 != 0o750 {
			t.Fatalf("dir set_attr %o", m.Mode)
		}
		f := must1[*File](t)(d.OpenAt([]byte("f"), OpenOptions{Read: true, Write: true, Create: true, Mode: 0o600}))
		must(t, f.WriteAt(0, []byte("abc")))
		must(t, f.Close())
		if m := must1[Metadata](t)(d.MetadataAt([]byte("f"))); m.Size != 3 || m.Mode&0o777 != 0o600 {
			t.Fatalf("metadata_at %+v", m)
		}
		if m := must1[Metadata](t)(d.SetAttrAt([]byte("f"), SetAttrs{Mode: Ptr(uint32(0o644))})); m.Mode&0o777 != 0o644 {
			t.Fatalf("set_attr_at %o", m.Mode)
		}
		if !must1[Metadata](t)(d.CreateDirAt([]byte("sub"), 0o755)).IsDir() {
			t.Fatal("create_dir_at")
		}
		sub := must1[*Dir](t)(d.OpenDirAt([]byte("sub")))
		defer sub.Close()
		if !must1[Metadata](t)(d.SymlinkAt([]byte("ln"), []byte("f"))).IsSymlink() {
			t.Fatal("symlink_at")
		}
		if got := must1[[]byte](t)(d.ReadLinkAt([]byte("ln"))); string(got) != "f" {
			t.Fatalf("read_link_at %q", got)
		}
		if m := must1[Metadata](t)(sub.LinkAt(d, []byte("f"), []byte("f2"))); m.Nlink != 2 {
			t.Fatalf("link_at nlink %d", m.Nlink)
		}
		if m := must1[Metadata](t)(d.MknodAt([]byte("p"), NodeKindFifo{}, 0o600)); m.FileType != FileTypeFifo {
			t.Fatalf("mknod_at %+v", m)
		}
		must(t, d.RenameAt([]byte("p"), sub, []byte("p2")))
		must(t, sub.RenameAt([]byte("p2"), sub, []byte("p3")))
		must(t, sub.RemoveFileAt([]byte("p3")))
		must(t, sub.RemoveFileAt([]byte("f2")))
		must(t, d.RemoveFileAt([]byte("ln")))

		// The listing: batches, Entries, rewind.
		for i := 0; i < 300; i++ {
			must1[Metadata](t)(sub.CreateDirAt([]byte("e"+itoa3(i)), 0o755))
		}
		var seen []string
		for e, err := range sub.Entries() {
			must(t, err)
			seen = append(seen, e.Name)
		}
		if len(seen) != 300 {
			t.Fatalf("entries: %d", len(seen))
		}
		if b := must1[[]DirEntry](t)(sub.NextBatch(nil)); len(b) != 0 {
			t.Fatalf("after the end: %d entries", len(b))
		}
		must(t, sub.Rewind())
		two := 2
		if b := must1[[]DirEntry](t)(sub.NextBatch(&two)); len(b) != 2 {
			t.Fatalf("next_batch(2): %d", len(b))
		}
		// Stopping a range loop early is fine.
		n := 0
		for _, err := range sub.Entries() {
			must(t, err)
			n++
			if n == 3 {
				break
			}
		}
		for i := 0; i < 300; i++ {
			must(t, sub.RemoveDirAt([]byte("e"+itoa3(i))))
		}
		must(t, d.RemoveDirAt([]byte("sub")))
		if _, err := d.MetadataAt([]byte("sub")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after remove_dir_at: %v", err)
		}
		must(t, d.Close())
		if _, err := d.NextBatch(nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	})
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}

func TestNonUTF8Names(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		d := must1[*Dir](t)(c.OpenDir(dir))
		defer d.Close()
		name := []byte{'b', 'a', 'd', 0xff, 0xfe}
		must1[Metadata](t)(d.CreateDirAt(name, 0o755))
		var got DirEntry
		for e, err := range d.Entries() {
			must(t, err)
			got = e
		}
		if !bytes.Equal(got.NameBytes, name) || got.NameIsUtf8 || got.Name != "bad\uFFFD\uFFFD" {
			t.Fatalf("entry %+v", got)
		}
		must(t, d.RemoveDirAt(got.NameBytes))
	})
}

func TestErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		must(t, c.Write(dir+"/file", []byte("x")))
		must(t, c.CreateDirAll(dir+"/full/x", 0o755))

		cases := []struct {
			name     string
			err      error
			sentinel error
			fsErr    error
			errno    syscall.Errno
			op, path string
		}{
			{"missing", errOf(c.Stat(dir + "/missing")), ErrNotFound, fs.ErrNotExist, syscall.ENOENT, "stat", dir + "/missing"},
			{"exists", errOf(c.CreateDir(dir+"/file", 0o755)), ErrAlreadyExists, fs.ErrExist, syscall.EEXIST, "mkdir", dir + "/file"},
			{"notdir", errOf(c.Stat(dir + "/file/x")), ErrNotADirectory, nil, syscall.ENOTDIR, "stat", dir + "/file/x"},
			{"isdir", errOf(c.Open(dir+"/full", OpenOptions{Write: true})), ErrIsADirectory, nil, syscall.EISDIR, "open", dir + "/full"},
			{"notempty", c.RemoveDir(dir + "/full"), ErrDirectoryNotEmpty, fs.ErrExist, syscall.ENOTEMPTY, "rmdir", dir + "/full"},
			{"toolong", errOf(c.Stat(dir + "/" + string(bytes.Repeat([]byte("n"), 300)))), ErrNameTooLong, nil, syscall.ENAMETOOLONG, "stat", ""},
			{"invalid", errOf(c.Stat(dir + "/../x")), ErrInvalidArgument, fs.ErrInvalid, syscall.EINVAL, "stat", dir + "/../x"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.err
				if err == nil {
					t.Fatal("no error")
				}
				if !errors.Is(err, tc.sentinel) {
					t.Fatalf("%v is not %v", err, tc.sentinel)
				}
				if tc.fsErr != nil && !errors.Is(err, tc.fsErr) {
					t.Fatalf("%v is not %v", err, tc.fsErr)
				}
				var errno syscall.Errno
				if !errors.As(err, &errno) || errno != tc.errno || ErrorToErrno(err) != tc.errno {
					t.Fatalf("errno of %v: %v, want %v", err, errno, tc.errno)
				}
				if !errors.Is(err, tc.errno) {
					t.Fatalf("%v is not %v", err, tc.errno)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Op != tc.op || (tc.path != "" && pe.Path != tc.path) {
					t.Fatalf("path error of %v: %+v", err, pe)
				}
				var ne *Error
				if !errors.As(err, &ne) || ne.Message == "" {
					t.Fatalf("*Error of %v", err)
				}
				for _, other := range []error{ErrNotFound, ErrAlreadyExists, ErrClosed, ErrProtocol} {
					if other != tc.sentinel && errors.Is(err, other) {
						t.Fatalf("%v also matches %v", err, other)
					}
				}
			})
		}

		// Two-path operations report both paths, like package os.
		err := c.Rename(dir+"/missing", dir+"/other")
		var le *os.LinkError
		if !errors.As(err, &le) || le.Old != dir+"/missing" || le.New != dir+"/other" ||
			!errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("rename error %v", err)
		}

		// Permission: another identity in a directory only root may write.
		must1[Metadata](t)(c.CreateDir(dir+"/locked", 0o755))
		other, err := ClientConnectWith(s.target, ConnectOptions{Aname: s.aname, Uid: Ptr(uint32(65534)), Gid: Ptr(uint32(65534)), Uname: "nobody"})
		must(t, err)
		defer other.Close()
		err = other.Write(dir+"/locked/x", []byte("no"))
		if !errors.Is(err, ErrPermissionDenied) || !errors.Is(err, fs.ErrPermission) || ErrorToErrno(err) != syscall.EACCES {
			t.Fatalf("write as nobody: %v", err)
		}
		_, err = other.Chown(dir+"/file", Ptr(uint32(65534)), nil)
		// diod answers EACCES where Linux chown(2) gives EPERM.
		wantPerm, wantErrno := ErrNotPermitted, syscall.EPERM
		if s.name == "diod" {
			wantPerm, wantErrno = ErrPermissionDenied, syscall.EACCES
		}
		if !errors.Is(err, wantPerm) || !errors.Is(err, fs.ErrPermission) || ErrorToErrno(err) != wantErrno {
			t.Fatalf("chown as nobody: %v", err)
		}

		// Symlink loops.
		must1[Metadata](t)(c.Symlink("loop2", dir+"/loop1"))
		must1[Metadata](t)(c.Symlink("loop1", dir+"/loop2"))
		if _, err := c.Metadata(dir + "/loop1"); !errors.Is(err, ErrTooManySymlinks) || ErrorToErrno(err) != syscall.ELOOP {
			t.Fatalf("loop: %v", err)
		}

		// A closed client.
		c2 := s.connect(t)
		must(t, c2.Close())
		must(t, c2.Close())
		if _, err := c2.Stat("/"); !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) || ErrorToErrno(err) != syscall.EBADF {
			t.Fatalf("closed client: %v", err)
		}
		if c2.Capabilities() != (Capabilities{}) {
			t.Fatal("capabilities after close")
		}
	})
}

func errOf[T any](_ T, err error) error { return err }

func TestConnectErrors(t *testing.T) {
	_, err := ClientConnect("tcp://127.0.0.1:1")
	if !errors.Is(err, ErrConnectFailed) || ErrorToErrno(err) != syscall.EIO {
		t.Fatalf("refused connection: %v", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != "connect" || pe.Path != "tcp://127.0.0.1:1" {
		t.Fatalf("path error %+v", pe)
	}
	s := byName(t, "memfs")
	_, err = ClientConnectWith(s.target, ConnectOptions{Aname: "no-such-export"})
	if err == nil {
		t.Fatal("unknown aname accepted")
	}
	if _, err := ClientConnect("bogus://x"); !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrConnectFailed) {
		t.Fatalf("bad target: %v", err)
	}
	c, err := ClientConnectWith(s.target, ConnectOptions{Msize: 65536, ConnectTimeoutMs: Ptr(uint64(5000)), MaxInFlight: 4})
	must(t, err)
	defer c.Close()
	if caps := c.Capabilities(); caps.Msize != 65536 {
		t.Fatalf("msize %d", caps.Msize)
	}
}

func TestPanicBecomesError(t *testing.T) {
	err := debugPanic()
	if !errors.Is(err, ErrInternal) || ErrorToErrno(err) != syscall.EIO {
		t.Fatalf("panic: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		f := must1[*File](t)(c.Create(dir + "/shared"))
		defer f.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				buf := bytes.Repeat([]byte{byte(g)}, 1000)
				for i := 0; i < 20; i++ {
					if err := f.WriteAt(uint64(g*1000), buf); err != nil {
						errs <- err
						return
					}
					if _, err := c.Stat(dir + "/shared"); err != nil {
						errs <- err
						return
					}
					if got, err := f.ReadAt(uint64(g*1000), 1000); err != nil || !bytes.Equal(got, buf) {
						errs <- errors.Join(err, errors.New("read back mismatch"))
						return
					}
				}
			}(g)
		}
		// Close races with the calls of another goroutine on a second handle.
		g2 := must1[*File](t)(c.Open(dir+"/shared", OpenOptions{Read: true}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_, _ = g2.ReadAt(0, 10)
			}
		}()
		time.Sleep(time.Millisecond)
		must(t, g2.Close())
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

func TestContextBeforeCall(t *testing.T) {
	s := byName(t, "memfs")
	c := s.connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.StatContext(ctx, "/"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.StatContext(ctx, "/"); err != nil {
		t.Fatalf("live context: %v", err)
	}
	_ = filepath.Join
}
