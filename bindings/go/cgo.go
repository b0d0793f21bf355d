package ninefold

// The native library is the Rust crate bindings/c (ninefold-capi), built
// as a static library into ./native by `go generate` (build-native.sh).

/*
#cgo CFLAGS: -I${SRCDIR}/native/include
#cgo LDFLAGS: ${SRCDIR}/native/lib/libninefold_capi.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#include "ninefold.h"
*/
import "C"

import (
	"unsafe"
)

//go:generate sh build-native.sh

// sp is a string's bytes as a C byte pointer, valid for one call.
func sp(s string) *C.uint8_t {
	return (*C.uint8_t)(unsafe.Pointer(unsafe.StringData(s)))
}

// sl is a string's length as a C size.
func sl(s string) C.size_t { return C.size_t(len(s)) }

// bp is a byte slice as a C byte pointer, valid for one call.
func bp(b []byte) *C.uint8_t {
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b)))
}

// bl is a byte slice's length as a C size.
func bl(b []byte) C.size_t { return C.size_t(len(b)) }

// takeBuf copies a library buffer into Go memory and frees it.
func takeBuf(b *C.NfBuf) []byte {
	out := C.GoBytes(unsafe.Pointer(b.ptr), C.int(b.len))
	C.nf_buf_free(b)
	return out
}

// bytesOf copies a library buffer without freeing it.
func bytesOf(b *C.NfBuf) []byte {
	return C.GoBytes(unsafe.Pointer(b.ptr), C.int(b.len))
}
