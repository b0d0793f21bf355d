// Package ninefold is a 9P2000.L client for Go: the path-based API of
// the Rust crate ninefold-client (its Client, File and Dir), called
// through a C ABI (the Rust crate bindings/c, linked statically).
//
// Build the native library once with `go generate` in this directory
// (it runs build-native.sh: cargo build --release -p ninefold-capi);
// `go build` and `go test` then need no CGO_CFLAGS or CGO_LDFLAGS.
//
//	fs, err := ninefold.ClientConnect("tcp://127.0.0.1:5564")
//	if err != nil { ... }
//	defer fs.Close()
//	err = fs.Write("/notes.txt", []byte("hello"))
//	data, err := fs.Read("/notes.txt")
//
// Every call blocks and returns (value, error). Each one that may wait
// has a ...Context variant: cancelling the context drops the operation
// inside the library (a request already on the wire is flushed with
// Tflush and fids it bound are released), and the call returns
// ctx.Err(). Clients, files and directories are safe for concurrent use.
//
// Errors are *Error values (wrapped in *fs.PathError or *os.LinkError
// with the operation and path), matched with errors.Is against the
// sentinels (ErrNotFound, ...) and against io/fs (fs.ErrNotExist,
// fs.ErrExist, fs.ErrPermission, fs.ErrClosed, fs.ErrInvalid); the errno
// is found with errors.As(err, &errno) for a syscall.Errno.
//
// [Client.FS] is an io/fs view (fs.FS, fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS), so fs.WalkDir, http.FS and template.ParseFS work on a 9P
// server. A [File] is an io.Reader, io.Writer, io.Seeker and io.Closer
// (with io.WriterTo / io.ReaderFrom, so io.Copy streams in large
// pipelined chunks); [File.IO] adds io.ReaderAt and io.WriterAt.
package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
	"runtime"
	"unsafe"
)

// Client is a connected, attached 9P2000.L client: one identity, one
// session, safe to share across goroutines. Paths are relative to the
// attach root (a leading / is optional).
type Client struct {
	h      *handle
	target string
}

func newClient(p *C.NfClient, target string) *Client {
	c := &Client{h: newHandle(unsafe.Pointer(p), func(p unsafe.Pointer) {
		C.nf_client_free((*C.NfClient)(p))
	}), target: target}
	runtime.AddCleanup(c, func(h *handle) { h.shutdown() }, c.h)
	return c
}

// ClientConnect connects to target with default options. Targets:
// unix:/path, tcp://host:port, host:port, host (port 5564), or a bare
// /path or ./path (unix socket).
func ClientConnect(target string) (*Client, error) {
	return ClientConnectWithContext(context.Background(), target, ConnectOptions{})
}

// ClientConnectContext is ClientConnect bounded by ctx.
func ClientConnectContext(ctx context.Context, target string) (*Client, error) {
	return ClientConnectWithContext(ctx, target, ConnectOptions{})
}

// ClientConnectWith connects with explicit identity and tuning.
func ClientConnectWith(target string, opts ConnectOptions) (*Client, error) {
	return ClientConnectWithContext(context.Background(), target, opts)
}

// ClientConnectWithContext is ClientConnectWith bounded by ctx.
func ClientConnectWithContext(ctx context.Context, target string, opts ConnectOptions) (*Client, error) {
	var co C.NfConnectOptions
	if opts.Uid != nil {
		co.has_uid, co.uid = true, C.uint32_t(*opts.Uid)
	}
	if opts.Gid != nil {
		co.has_gid, co.gid = true, C.uint32_t(*opts.Gid)
	}
	co.msize = C.uint32_t(opts.Msize)
	if opts.ConnectTimeoutMs != nil {
		co.has_connect_timeout, co.connect_timeout_ms = true, C.uint64_t(*opts.ConnectTimeoutMs)
	}
	if opts.MaxInFlight > 0 {
		co.max_in_flight = C.size_t(opts.MaxInFlight)
	}
	uname, unameLen := (*C.uint8_t)(nil), C.size_t(0)
	if opts.Uname != "" {
		uname, unameLen = sp(opts.Uname), sl(opts.Uname)
	}
	var out *C.NfClient
	err := run(ctx, func(t *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_connect_with(t, sp(target), sl(target), &co, uname, unameLen,
			sp(opts.Aname), sl(opts.Aname), &out, e)
	})
	if err != nil {
		return nil, pathErr("connect", target, err)
	}
	return newClient(out, target), nil
}

// do runs one call on the client's native handle.
func (c *Client) do(ctx context.Context, f func(h *C.NfClient, t *C.NfCancel, e *C.NfError) C.int32_t) error {
	p := c.h.acquire()
	if p == nil {
		return closedError()
	}
	defer c.h.release()
	return run(ctx, func(t *C.NfCancel, e *C.NfError) C.int32_t {
		return f((*C.NfClient)(p), t, e)
	})
}

// Capabilities are the negotiated session properties (a live snapshot;
// zero after Close).
func (c *Client) Capabilities() Capabilities {
	var out C.NfCapabilities
	if err := c.do(context.Background(), func(h *C.NfClient, _ *C.NfCancel, e *C.NfError) C.int32_t {
		return C.nf_client_capabilities(h, &out, e)
	}); err != nil {
		return Capabilities{}
	}
	return Capabilities{ExtensionsV1: bool(out.extensions_v1), ExtensionsV2: bool(out.extensions_v2),
		Msize: uint32(out.msize), MaxReadChunk: uint32(out.max_read_chunk),
		MaxWriteChunk: uint32(out.max_write_chunk), Dialect: C.GoString(&out.dialect[0])}
}

// Close marks the client closed (later calls fail with ErrClosed) and
// releases it. Idempotent; never waits. Open files and directories keep
// working until closed; the connection ends with the last of them.
func (c *Client) Close() error {
	if p := c.h.acquireClosing(); p != nil {
		var e C.NfError
		C.nf_client_close((*C.NfClient)(p), nil, &e)
		C.nf_error_free(&e)
		c.h.release()
	}
	c.h.shutdown()
	return nil
}

// Target is the connection target the client was made with.
func (c *Client) Target() string { return c.target }

func optU32(p *uint32) C.bool { return C.bool(p != nil) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
