package ninefold

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

// tree makes a small tree under dir and returns the io/fs view of it.
func tree(t *testing.T, c *Client, dir string) fs.FS {
	t.Helper()
	must(t, c.CreateDirAll(dir+"/tree/b/d", 0o755))
	must(t, c.CreateDirAll(dir+"/tree/empty", 0o755))
	must(t, c.Write(dir+"/tree/a.txt", []byte("alpha\n")))
	must(t, c.Write(dir+"/tree/b/c.txt", []byte("charlie\n")))
	must(t, c.Write(dir+"/tree/b/d/e.txt", bytes.Repeat([]byte("echo "), 10000)))
	must(t, c.Write(dir+"/tree/page.tmpl", []byte(`{{define "page"}}Hello, {{.}}!{{end}}`)))
	must1[Metadata](t)(c.Symlink("a.txt", dir+"/tree/link"))
	sub, err := c.FS().Sub(strings.TrimPrefix(dir, "/") + "/tree")
	must(t, err)
	return sub
}

func TestFSTestFS(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		fsys := tree(t, c, dir)
		if err := fstest.TestFS(fsys, "a.txt", "b/c.txt", "b/d/e.txt", "empty", "page.tmpl", "link"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFSWalkHTTPTemplate(t *testing.T) {
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		fsys := tree(t, c, dir)
		var walked []string
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			walked = append(walked, p)
			return nil
		})
		must(t, err)
		want := []string{".", "a.txt", "b", "b/c.txt", "b/d", "b/d/e.txt", "empty", "link", "page.tmpl"}
		if !slices.Equal(walked, want) {
			t.Fatalf("walk %v, want %v", walked, want)
		}

		srv := httptest.NewServer(http.FileServer(http.FS(fsys)))
		defer srv.Close()
		for path, body := range map[string]string{"/a.txt": "alpha\n", "/b/c.txt": "charlie\n", "/link": "alpha\n"} {
			resp, err := http.Get(srv.URL + path)
			must(t, err)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != body {
				t.Fatalf("GET %s: %d %q", path, resp.StatusCode, got)
			}
		}
		req, _ := http.NewRequest("GET", srv.URL+"/b/d/e.txt", nil)
		req.Header.Set("Range", "bytes=5-9")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || string(got) != "echo " {
			t.Fatalf("range GET: %d %q", resp.StatusCode, got)
		}
		resp, err = http.Get(srv.URL + "/b/")
		must(t, err)
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(got), "c.txt") || !strings.Contains(string(got), "d/") {
			t.Fatalf("directory listing %q", got)
		}
		resp, err = http.Get(srv.URL + "/missing")
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("missing: %d", resp.StatusCode)
		}

		tmpl, err := template.ParseFS(fsys, "*.tmpl")
		must(t, err)
		var out bytes.Buffer
		must(t, tmpl.ExecuteTemplate(&out, "page", "9P"))
		if out.String() != "Hello, 9P!" {
			t.Fatalf("template: %q", out.String())
		}

		// io/fs errors.
		if _, err := fs.ReadFile(fsys, "nope"); !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing file: %v", err)
		}
		var pe *fs.PathError
		if _, err := fs.Stat(fsys, "b/nope"); !errors.As(err, &pe) || pe.Path != "b/nope" || pe.Op != "stat" {
			t.Fatalf("stat path error: %v", err)
		}
		if _, err := fsys.Open("/abs"); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("invalid name: %v", err)
		}
		if _, err := fsys.Open("../up"); !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("invalid name: %v", err)
		}
		var errno syscall.Errno
		if _, err := fs.ReadDir(fsys, "a.txt"); !errors.As(err, &errno) || errno != syscall.ENOTDIR {
			t.Fatalf("readdir of a file: %v", err)
		}
	})
}

// TestIOCopy64MiB streams 64 MiB in and out with io.Copy and compares
// checksums.
func TestIOCopy64MiB(t *testing.T) {
	const size = 64 << 20
	eachServer(t, func(t *testing.T, s *server, c *Client, dir string) {
		rng := rand.NewChaCha8([32]byte{9, 'P'})
		in := sha256.New()
		f := must1[*File](t)(c.Create(dir + "/big"))
		// LimitReader has no WriteTo, so io.Copy uses File.ReadFrom.
		n, err := io.Copy(f, io.TeeReader(io.LimitReader(rng, size), in))
		must(t, err)
		if n != size {
			t.Fatalf("copied %d", n)
		}
		must(t, f.Close())
		if m := must1[Metadata](t)(c.Metadata(dir + "/big")); m.Size != size {
			t.Fatalf("size %d", m.Size)
		}
		g := must1[*File](t)(c.Open(dir+"/big", OpenOptions{Read: true}))
		defer g.Close()
		out := sha256.New()
		// File.WriteTo streams it back.
		n, err = io.Copy(out, g)
		must(t, err)
		if n != size || !bytes.Equal(in.Sum(nil), out.Sum(nil)) {
			t.Fatalf("read back %d bytes, checksum mismatch", n)
		}
		// The plain io.Reader path (small buffers) and Seek.
		_, err = g.Seek(size-10, io.SeekStart)
		must(t, err)
		tail, err := io.ReadAll(struct{ io.Reader }{g})
		must(t, err)
		if len(tail) != 10 {
			t.Fatalf("tail %d", len(tail))
		}
		if pos, err := g.Seek(-4, io.SeekEnd); err != nil || pos != size-4 {
			t.Fatalf("seek end: %d %v", pos, err)
		}
		// io.ReaderAt / io.WriterAt through IO().
		x := g.IO()
		buf := make([]byte, 8)
		if n, err := x.ReadAt(buf, size-4); n != 4 || err != io.EOF {
			t.Fatalf("ReadAt at the end: %d %v", n, err)
		}
		sr := io.NewSectionReader(x, 100, 1000)
		sec, err := io.ReadAll(sr)
		must(t, err)
		if len(sec) != 1000 {
			t.Fatalf("section %d", len(sec))
		}
		w := must1[*File](t)(c.Open(dir+"/big", OpenOptions{Write: true}))
		defer w.Close()
		if n, err := w.IO().WriteAt([]byte("XY"), 3); n != 2 || err != nil {
			t.Fatalf("WriteAt %d %v", n, err)
		}
		if got := must1[[]byte](t)(c.ReadRange(dir+"/big", 3, 2)); string(got) != "XY" {
			t.Fatalf("after WriteAt %q", got)
		}
		if _, err := w.Write([]byte("hd")); err != nil {
			t.Fatal(err)
		}
		if got := must1[[]byte](t)(c.ReadRange(dir+"/big", 0, 2)); string(got) != "hd" {
			t.Fatalf("after Write %q", got)
		}
	})
}
