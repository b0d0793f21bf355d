package ninefold

/*
#include "ninefold.h"
*/
import "C"

import (
	"context"
	"sync"
	"syscall"
	"unsafe"
)

// op is one blocking call into the library: it gets the cancel token
// (nil when the context cannot be cancelled) and the error out-parameter.
type op func(tok *C.NfCancel, e *C.NfError) C.int32_t

// run calls f; when ctx can be cancelled, a token is triggered by ctx so
// that the library drops the operation (the client flushes a request
// already sent and releases fids it bound) and the call returns
// ctx.Err(). The token is freed only after the trigger can no longer run.
func run(ctx context.Context, f op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var e C.NfError
	if ctx.Done() == nil {
		return convert(f(nil, &e), &e)
	}
	tok := C.nf_cancel_new()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.nf_cancel_trigger(tok)
		close(fired)
	})
	rc := f(tok, &e)
	if !stop() {
		<-fired
	}
	C.nf_cancel_free(tok)
	if rc == C.NF_CANCELLED {
		C.nf_error_free(&e)
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.Canceled
	}
	return convert(rc, &e)
}

// convert turns a return code and its filled NfError into an *Error.
func convert(rc C.int32_t, e *C.NfError) error {
	if rc == C.NF_OK {
		return nil
	}
	msg := string(takeBuf(&e.message))
	return &Error{Code: Code(rc), Errno: syscall.Errno(e.errnum), Message: msg}
}

// handle guards a library handle: calls hold a reference while they
// run, so that Close (which marks the handle closed at once) frees the
// native object only when the last call has returned.
type handle struct {
	mu      sync.Mutex
	ptr     unsafe.Pointer
	refs    int
	closing bool
	free    func(unsafe.Pointer)
}

func newHandle(p unsafe.Pointer, free func(unsafe.Pointer)) *handle {
	return &handle{ptr: p, free: free}
}

// acquire returns the native pointer with a reference held, or nil once
// the handle is closed.
func (h *handle) acquire() unsafe.Pointer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ptr == nil || h.closing {
		return nil
	}
	h.refs++
	return h.ptr
}

// acquireClosing is acquire that also works while closing (for the close
// call itself).
func (h *handle) acquireClosing() unsafe.Pointer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ptr == nil {
		return nil
	}
	h.refs++
	return h.ptr
}

func (h *handle) release() {
	h.mu.Lock()
	var p unsafe.Pointer
	h.refs--
	if h.closing && h.refs == 0 && h.ptr != nil {
		p, h.ptr = h.ptr, nil
	}
	h.mu.Unlock()
	if p != nil {
		h.free(p)
	}
}

// shutdown marks the handle closed; the native object is freed now or
// when the last running call returns.
func (h *handle) shutdown() {
	h.mu.Lock()
	h.closing = true
	var p unsafe.Pointer
	if h.refs == 0 && h.ptr != nil {
		p, h.ptr = h.ptr, nil
	}
	h.mu.Unlock()
	if p != nil {
		h.free(p)
	}
}

// closedError is what a call on a closed handle returns.
func closedError() error {
	return &Error{Code: CodeClosed, Errno: syscall.EBADF, Message: "handle or client is closed"}
}

// debugPanic makes the native library panic inside its boundary and
// returns the error the caller gets (for tests).
func debugPanic() error {
	var e C.NfError
	return convert(C.nf_debug_panic(&e), &e)
}
