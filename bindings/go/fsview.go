package ninefold

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

// FS is an io/fs view of a client: fs.FS, fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS and fs.SubFS (plus Lstat and ReadLink for fs.ReadLinkFS).
// Names are io/fs names ("." is the attach root; no leading slash).
// Open and Stat follow symlinks, as os.DirFS does.
type FS struct {
	c    *Client
	root string // client path of ".", without a trailing slash ("" is the attach root)
}

// FS returns an io/fs view of the whole attach tree.
func (c *Client) FS() *FS { return &FS{c: c} }

var (
	_ fs.FS         = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.SubFS      = (*FS)(nil)
)

// full maps a valid io/fs name to a client path.
func (f *FS) full(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return f.root + "/", nil
	}
	return f.root + "/" + name, nil
}

// rename puts the io/fs name (not the client path) in errors.
func rename(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens name for reading: a directory gives an fs.ReadDirFile, a
// file an fs.File that is also an io.Seeker and io.ReaderAt.
func (f *FS) Open(name string) (fs.File, error) {
	p, err := f.full("open", name)
	if err != nil {
		return nil, err
	}
	m, err := f.c.Metadata(p)
	if err != nil {
		return nil, rename("open", name, err)
	}
	info := &fileInfo{name: path.Base(name), m: m}
	if m.IsDir() {
		d, err := f.c.OpenDir(p)
		if err != nil {
			return nil, rename("open", name, err)
		}
		return &fsDir{fsys: f, d: d, name: name, info: info}, nil
	}
	file, err := f.c.Open(p, OpenOptions{Read: true})
	if err != nil {
		return nil, rename("open", name, err)
	}
	return &fsFile{f: file, name: name, info: info}, nil
}

// ReadFile reads the whole file.
func (f *FS) ReadFile(name string) ([]byte, error) {
	p, err := f.full("readfile", name)
	if err != nil {
		return nil, err
	}
	data, err := f.c.Read(p)
	if err != nil {
		return nil, rename("readfile", name, err)
	}
	return data, nil
}

// Stat describes name, following symlinks.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	p, err := f.full("stat", name)
	if err != nil {
		return nil, err
	}
	m, err := f.c.Metadata(p)
	if err != nil {
		return nil, rename("stat", name, err)
	}
	return &fileInfo{name: path.Base(name), m: m}, nil
}

// Lstat describes name without following a final symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	p, err := f.full("lstat", name)
	if err != nil {
		return nil, err
	}
	m, err := f.c.Stat(p)
	if err != nil {
		return nil, rename("lstat", name, err)
	}
	return &fileInfo{name: path.Base(name), m: m}, nil
}

// ReadLink is the target of symlink name.
func (f *FS) ReadLink(name string) (string, error) {
	p, err := f.full("readlink", name)
	if err != nil {
		return "", err
	}
	t, err := f.c.ReadLink(p)
	if err != nil {
		return "", rename("readlink", name, err)
	}
	return string(t), nil
}

// ReadDir lists name sorted by file name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := f.full("readdir", name)
	if err != nil {
		return nil, err
	}
	list, err := f.c.ReadDir(p)
	if err != nil {
		return nil, rename("readdir", name, err)
	}
	out := f.entries(name, list)
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Sub is the view rooted at dir.
func (f *FS) Sub(dir string) (fs.FS, error) {
	p, err := f.full("sub", dir)
	if err != nil {
		return nil, err
	}
	if dir == "." {
		return f, nil
	}
	return &FS{c: f.c, root: p}, nil
}

func (f *FS) entries(dir string, list []DirEntry) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(list))
	for _, e := range list {
		out = append(out, &dirEntry{fsys: f, dir: dir, e: e})
	}
	return out
}

// fileInfo is Metadata as an fs.FileInfo.
type fileInfo struct {
	name string
	m    Metadata
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return int64(i.m.Size) }
func (i *fileInfo) Mode() fs.FileMode  { return i.m.FileMode() }
func (i *fileInfo) ModTime() time.Time { return i.m.Mtime }
func (i *fileInfo) IsDir() bool        { return i.m.IsDir() }

// Sys is the [Metadata].
func (i *fileInfo) Sys() any { return i.m }

// dirEntry is a DirEntry as an fs.DirEntry; Info is an lstat, made on
// first use.
type dirEntry struct {
	fsys *FS
	dir  string
	e    DirEntry
}

func (d *dirEntry) Name() string { return d.e.Name }
func (d *dirEntry) IsDir() bool  { return d.Type().IsDir() }

func (d *dirEntry) Type() fs.FileMode {
	if d.e.FileType == FileTypeUnknown {
		if info, err := d.Info(); err == nil {
			return info.Mode().Type()
		}
	}
	return d.e.FileType.modeType()
}

func (d *dirEntry) Info() (fs.FileInfo, error) {
	if d.e.Metadata != nil {
		return &fileInfo{name: d.e.Name, m: *d.e.Metadata}, nil
	}
	return d.fsys.Lstat(path.Join(d.dir, d.e.Name))
}

func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// fsFile is an open file of the io/fs view.
type fsFile struct {
	f    *File
	name string
	info *fileInfo
}

func (f *fsFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *fsFile) Read(p []byte) (int, error) { return f.wrap(f.f.Read(p)) }
func (f *fsFile) ReadAt(p []byte, off int64) (int, error) {
	return f.wrap(f.f.IO().ReadAt(p, off))
}
func (f *fsFile) Seek(off int64, whence int) (int64, error) {
	n, err := f.f.Seek(off, whence)
	if err != nil {
		return n, rename("seek", f.name, err)
	}
	return n, nil
}
func (f *fsFile) Close() error { return f.f.Close() }

func (f *fsFile) wrap(n int, err error) (int, error) {
	if err == nil || err == io.EOF {
		return n, err
	}
	return n, rename("read", f.name, err)
}

// fsDir is an open directory of the io/fs view.
type fsDir struct {
	fsys *FS
	d    *Dir
	name string
	info *fileInfo
	buf  []fs.DirEntry
	eof  bool
}

func (d *fsDir) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *fsDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}

func (d *fsDir) Close() error { return d.d.Close() }

// ReadDir returns the next n entries (all of the rest when n <= 0), in
// directory order.
func (d *fsDir) ReadDir(n int) ([]fs.DirEntry, error) {
	for !d.eof && (n <= 0 || len(d.buf) < n) {
		batch, err := d.d.NextBatch(nil)
		if err != nil {
			return nil, rename("readdir", d.name, err)
		}
		if len(batch) == 0 {
			d.eof = true
			break
		}
		d.buf = append(d.buf, d.fsys.entries(d.name, batch)...)
	}
	if n <= 0 {
		out := d.buf
		d.buf = nil
		return out, nil
	}
	if len(d.buf) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.buf))
	out := d.buf[:k:k]
	d.buf = d.buf[k:]
	return out, nil
}
