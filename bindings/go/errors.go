package ninefold

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Code is the variant of an [Error]: the seed's flat error table, plus
// [CodeInternal] for a bug caught inside the native library.
type Code int

// The error variants and their errno.
const (
	CodeNotFound          Code = 1  // ENOENT: no entry at the path
	CodePermissionDenied  Code = 2  // EACCES: denied by permission bits
	CodeNotPermitted      Code = 3  // EPERM: requires ownership or privilege
	CodeAlreadyExists     Code = 4  // EEXIST: the target already exists
	CodeNotADirectory     Code = 5  // ENOTDIR: a path component is not a directory
	CodeIsADirectory      Code = 6  // EISDIR: a directory where a non-directory was required
	CodeDirectoryNotEmpty Code = 7  // ENOTEMPTY: removing a non-empty directory
	CodeNameTooLong       Code = 8  // ENAMETOOLONG: a name exceeds 255 bytes
	CodeInvalidArgument   Code = 9  // EINVAL: bad input, client-side or from the server
	CodeTooManySymlinks   Code = 10 // ELOOP: resolution exceeded the 40-hop cap
	CodeClosed            Code = 11 // EBADF: a handle or client was used after Close
	CodeConnectFailed     Code = 12 // EIO: the initial connection or attach failed
	CodeIo                Code = 13 // any other server errno, preserved verbatim
	CodeProtocol          Code = 14 // EIO: wire-level failure
	CodeInternal          Code = 16 // EIO: a panic caught in the native library (a bug)
)

var codeNames = map[Code]string{
	CodeNotFound: "NotFound", CodePermissionDenied: "PermissionDenied",
	CodeNotPermitted: "NotPermitted", CodeAlreadyExists: "AlreadyExists",
	CodeNotADirectory: "NotADirectory", CodeIsADirectory: "IsADirectory",
	CodeDirectoryNotEmpty: "DirectoryNotEmpty", CodeNameTooLong: "NameTooLong",
	CodeInvalidArgument: "InvalidArgument", CodeTooManySymlinks: "TooManySymlinks",
	CodeClosed: "Closed", CodeConnectFailed: "ConnectFailed", CodeIo: "Io",
	CodeProtocol: "Protocol", CodeInternal: "Internal",
}

// String is the variant's name, as in the seed's table.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Error is every failure of the library: its variant, the Linux errno it
// stands for and the core's message. Calls naming a path wrap it in an
// [*fs.PathError] (two-path calls in an [*os.LinkError]), like package os.
//
//	errors.Is(err, ninefold.ErrNotFound)  // the variant
//	errors.Is(err, fs.ErrNotExist)        // the io/fs class (through the errno)
//	var errno syscall.Errno; errors.As(err, &errno)
//	var pe *fs.PathError; errors.As(err, &pe)
type Error struct {
	Code    Code
	Errno   syscall.Errno
	Message string
}

// Error is the core's message.
func (e *Error) Error() string { return e.Message }

// Unwrap gives the errno, so errors.As finds a syscall.Errno and
// errors.Is matches fs.ErrNotExist, fs.ErrExist, fs.ErrPermission and
// the errno constants.
func (e *Error) Unwrap() error { return e.Errno }

// Is matches the sentinel of the same variant (ErrNotFound, ...), and
// fs.ErrClosed / fs.ErrInvalid for Closed / InvalidArgument.
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok {
		return t.Code == e.Code
	}
	switch target {
	case fs.ErrClosed:
		return e.Code == CodeClosed
	case fs.ErrInvalid:
		return e.Code == CodeInvalidArgument
	}
	return false
}

func sentinel(c Code, errno syscall.Errno, msg string) error {
	return &Error{Code: c, Errno: errno, Message: msg}
}

// Sentinels, one per variant, for errors.Is.
var (
	ErrNotFound          = sentinel(CodeNotFound, syscall.ENOENT, "not found")
	ErrPermissionDenied  = sentinel(CodePermissionDenied, syscall.EACCES, "permission denied")
	ErrNotPermitted      = sentinel(CodeNotPermitted, syscall.EPERM, "operation not permitted")
	ErrAlreadyExists     = sentinel(CodeAlreadyExists, syscall.EEXIST, "already exists")
	ErrNotADirectory     = sentinel(CodeNotADirectory, syscall.ENOTDIR, "not a directory")
	ErrIsADirectory      = sentinel(CodeIsADirectory, syscall.EISDIR, "is a directory")
	ErrDirectoryNotEmpty = sentinel(CodeDirectoryNotEmpty, syscall.ENOTEMPTY, "directory not empty")
	ErrNameTooLong       = sentinel(CodeNameTooLong, syscall.ENAMETOOLONG, "name too long")
	ErrInvalidArgument   = sentinel(CodeInvalidArgument, syscall.EINVAL, "invalid argument")
	ErrTooManySymlinks   = sentinel(CodeTooManySymlinks, syscall.ELOOP, "too many levels of symbolic links")
	ErrClosed            = sentinel(CodeClosed, syscall.EBADF, "handle or client is closed")
	ErrConnectFailed     = sentinel(CodeConnectFailed, syscall.EIO, "connect failed")
	ErrIo                = sentinel(CodeIo, syscall.EIO, "server error")
	ErrProtocol          = sentinel(CodeProtocol, syscall.EIO, "protocol error")
	ErrInternal          = sentinel(CodeInternal, syscall.EIO, "panic in the native library")
)

// ErrorToErrno is the Linux errno of any error from this package (0 for
// nil, EIO for an error that carries none).
func ErrorToErrno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

// pathErr wraps err (an *Error or a context error) with op and path.
func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// asOp renames the operation of a *fs.PathError (a call made of others
// reports itself, not its parts).
func asOp(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: pe.Path, Err: pe.Err}
	}
	return err
}

// linkErr wraps err with op and both paths.
func linkErr(op, oldPath, newPath string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: oldPath, New: newPath, Err: err}
}
