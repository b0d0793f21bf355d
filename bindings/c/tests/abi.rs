//! The C functions called as C would, against our server (memfs) started
//! in process: results, error codes, buffers, cancellation and panics.

#![allow(missing_docs, clippy::undocumented_unsafe_blocks)]

use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

use ninefold_capi::*;
use ninefold_fs::memfs::MemFs;
use ninefold_server::{Exports, Server};

struct Srv {
    _rt: tokio::runtime::Runtime,
    target: String,
}

fn server() -> Srv {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let target = format!("tcp://{}", l.local_addr().unwrap());
    let fs = MemFs::new();
    let server = Server::builder(Exports::new().export("/memfs", fs.root())).build().unwrap();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(l)?;
        server.serve_tcp(l).await
    });
    Srv { _rt: rt, target }
}

fn zero_err() -> NfError {
    NfError { code: 0, errnum: 0, message: NfBuf { ptr: null_mut(), len: 0, owner: null_mut() } }
}

fn message(e: &mut NfError) -> String {
    let s = if e.message.ptr.is_null() {
        String::new()
    } else {
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(e.message.ptr, e.message.len) })
            .into_owned()
    };
    unsafe { nf_error_free(e) };
    s
}

fn connect(target: &str) -> *mut NfClient {
    let aname = b"/memfs";
    let opts = NfConnectOptions { msize: 65536, ..Default::default() };
    let mut c = null_mut();
    let mut e = zero_err();
    let rc = unsafe {
        nf_client_connect_with(
            null(),
            target.as_ptr(),
            target.len(),
            &opts,
            null(),
            0,
            aname.as_ptr(),
            aname.len(),
            &mut c,
            &mut e,
        )
    };
    assert_eq!(rc, 0, "{}", message(&mut e));
    c
}

#[test]
fn operations_errors_and_buffers() {
    let srv = server();
    let c = connect(&srv.target);
    let mut e = zero_err();
    unsafe {
        let p = b"/hello.txt";
        let data = b"hello from C";
        assert_eq!(
            nf_client_write(c, null(), p.as_ptr(), p.len(), data.as_ptr(), data.len(), &mut e),
            0
        );
        let mut buf = NfBuf { ptr: null_mut(), len: 0, owner: null_mut() };
        assert_eq!(nf_client_read(c, null(), p.as_ptr(), p.len(), &mut buf, &mut e), 0);
        assert_eq!(std::slice::from_raw_parts(buf.ptr, buf.len), data);
        nf_buf_free(&mut buf);
        assert!(buf.ptr.is_null());
        nf_buf_free(&mut buf);

        // Capabilities: the dialect as a NUL-terminated version string
        // (our server speaks ZeroFS's dialect by default).
        let mut caps = NfCapabilities::default();
        assert_eq!(nf_client_capabilities(c, &mut caps, &mut e), 0);
        assert_eq!(caps.msize, 65536);
        let dialect = std::ffi::CStr::from_ptr(caps.dialect.as_ptr());
        assert_eq!(dialect.to_str(), Ok("9P2000.L.Z"));
        assert!(caps.extensions_v1);

        let mut m = NfMetadata::default();
        assert_eq!(nf_client_metadata(c, null(), p.as_ptr(), p.len(), &mut m, &mut e), 0);
        assert_eq!(m.size, data.len() as u64);
        assert_eq!(m.file_type, NfFileType::NF_FILE as u32);

        let missing = b"/nope";
        let rc = nf_client_stat(c, null(), missing.as_ptr(), missing.len(), &mut m, &mut e);
        assert_eq!(rc, NfErrorCode::NF_NOT_FOUND as i32);
        assert_eq!((e.code, e.errnum), (rc, 2));
        assert_eq!(message(&mut e), "not found");

        // A NULL out-parameter is refused before anything runs.
        let rc = nf_client_stat(c, null(), p.as_ptr(), p.len(), null_mut(), &mut e);
        assert_eq!(rc, NfErrorCode::NF_INVALID_ARGUMENT as i32);
        message(&mut e);

        // A file handle: positioned reads into the caller's buffer.
        let mut f = null_mut();
        let opts = NfOpenOptions {
            read: true,
            write: true,
            create: false,
            create_new: false,
            truncate: false,
            mode: 0o644,
        };
        assert_eq!(nf_client_open(c, null(), p.as_ptr(), p.len(), opts, &mut f, &mut e), 0);
        let mut out = [0u8; 64];
        let mut n = 0usize;
        assert_eq!(nf_file_read_at(f, null(), 6, out.as_mut_ptr(), out.len(), &mut n, &mut e), 0);
        assert_eq!(&out[..n], b"from C");
        assert_eq!(nf_file_close(f, null(), &mut e), 0);
        let rc = nf_file_read_at(f, null(), 0, out.as_mut_ptr(), out.len(), &mut n, &mut e);
        assert_eq!(rc, NfErrorCode::NF_CLOSED as i32);
        message(&mut e);
        nf_file_free(f);

        // Listing.
        let mut d = null_mut();
        let root = b"/";
        assert_eq!(nf_client_open_dir(c, null(), root.as_ptr(), root.len(), &mut d, &mut e), 0);
        let mut entries = NfDirEntries { ptr: null_mut(), len: 0, cap: 0 };
        assert_eq!(nf_dir_next_batch(d, null(), false, 0, &mut entries, &mut e), 0);
        let list = std::slice::from_raw_parts(entries.ptr, entries.len);
        let names: Vec<&[u8]> = list
            .iter()
            .map(|x| std::slice::from_raw_parts(x.name_bytes.ptr, x.name_bytes.len))
            .collect();
        assert_eq!(names, vec![&b"hello.txt"[..]]);
        nf_dir_entries_free(&mut entries);
        nf_dir_free(d);
        nf_client_free(c);
    }
}

/// Bulk I/O at msize 64 KiB: many chunks, pipelined at the C boundary
/// straight into and out of the caller's memory, at offsets that straddle
/// chunk boundaries, through a directory-opened file as well.
#[test]
fn bulk_reads_and_writes_in_caller_memory() {
    let srv = server();
    let c = connect(&srv.target);
    let mut e = zero_err();
    let data: Vec<u8> = (0..(1u32 << 20) + 4321).map(|i| (i * 7 + (i >> 11)) as u8).collect();
    unsafe {
        let p = b"/bulk.bin";
        let rc = nf_client_write(c, null(), p.as_ptr(), p.len(), data.as_ptr(), data.len(), &mut e);
        assert_eq!(rc, 0);
        let mut buf = NfBuf { ptr: null_mut(), len: 0, owner: null_mut() };
        assert_eq!(nf_client_read(c, null(), p.as_ptr(), p.len(), &mut buf, &mut e), 0);
        assert!(std::slice::from_raw_parts(buf.ptr, buf.len) == &data[..]);
        nf_buf_free(&mut buf);

        let mut at = 0u64;
        let tail = vec![0xabu8; 70_000];
        let rc = nf_client_append(
            c,
            null(),
            p.as_ptr(),
            p.len(),
            tail.as_ptr(),
            tail.len(),
            &mut at,
            &mut e,
        );
        assert_eq!((rc, at), (0, data.len() as u64));
        let mut whole = data.clone();
        whole.extend_from_slice(&tail);

        let opts = NfOpenOptions {
            read: true,
            write: true,
            create: false,
            create_new: false,
            truncate: false,
            mode: 0o644,
        };
        let mut d = null_mut();
        let root = b"/";
        assert_eq!(nf_client_open_dir(c, null(), root.as_ptr(), root.len(), &mut d, &mut e), 0);
        let mut f = null_mut();
        let name = b"bulk.bin";
        assert_eq!(nf_dir_open_at(d, null(), name.as_ptr(), name.len(), opts, &mut f, &mut e), 0);
        let chunk = 65536 - 24;
        for (off, len) in [
            (0, whole.len() + 100),
            (1, chunk),
            (chunk - 1, 2),
            (chunk - 3, 9 * chunk + 5),
            (whole.len() - 10, 64),
            (whole.len() + 5, 64),
            (17, 0),
        ] {
            let mut out = vec![0xeeu8; len + 8];
            let mut n = usize::MAX;
            let rc = nf_file_read_at(f, null(), off as u64, out.as_mut_ptr(), len, &mut n, &mut e);
            assert_eq!(rc, 0, "read_at({off}, {len})");
            let want = &whole[off.min(whole.len())..(off + len).min(whole.len())];
            assert_eq!(n, want.len(), "read_at({off}, {len})");
            assert!(&out[..n] == want, "read_at({off}, {len}) bytes");
            assert!(out[len..].iter().all(|&b| b == 0xee), "read_at({off}, {len}) wrote past len");
        }
        let patch = vec![0x11u8; 3 * chunk + 7];
        let rc = nf_file_write_at(f, null(), 5, patch.as_ptr(), patch.len(), &mut e);
        assert_eq!(rc, 0);
        whole[5..5 + patch.len()].copy_from_slice(&patch);
        assert_eq!(nf_client_read(c, null(), p.as_ptr(), p.len(), &mut buf, &mut e), 0);
        assert!(std::slice::from_raw_parts(buf.ptr, buf.len) == &whole[..]);
        nf_buf_free(&mut buf);
        nf_file_free(f);
        nf_dir_free(d);
        nf_client_free(c);
    }
}

#[test]
fn cancel_drops_a_blocked_call() {
    // A peer that accepts and never answers: connect waits in Tversion.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("tcp://{}", l.local_addr().unwrap());
    let tok = nf_cancel_new();
    let tok_addr = tok as usize;
    let trigger = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        unsafe { nf_cancel_trigger(tok_addr as *const NfCancel) };
    });
    let t = Instant::now();
    let mut c = null_mut();
    let mut e = zero_err();
    let rc = unsafe { nf_client_connect(tok, target.as_ptr(), target.len(), &mut c, &mut e) };
    assert_eq!(rc, NfErrorCode::NF_CANCELLED as i32);
    assert_eq!(e.errnum, 125);
    assert!(t.elapsed() < Duration::from_secs(10));
    message(&mut e);
    trigger.join().unwrap();
    // A triggered token cancels later calls at once.
    let rc = unsafe { nf_client_connect(tok, target.as_ptr(), target.len(), &mut c, &mut e) };
    assert_eq!(rc, NfErrorCode::NF_CANCELLED as i32);
    message(&mut e);
    unsafe { nf_cancel_free(tok) };
    drop(l);
}

#[test]
fn panics_become_errors() {
    let mut e = zero_err();
    let rc = unsafe { nf_debug_panic(&mut e) };
    assert_eq!(rc, NfErrorCode::NF_PANIC as i32);
    assert!(message(&mut e).contains("nf_debug_panic called"));
}

#[test]
fn null_handles_are_refused() {
    let mut e = zero_err();
    let p = b"/x";
    let rc = unsafe { nf_client_remove_file(null(), null(), p.as_ptr(), p.len(), &mut e) };
    assert_eq!(rc, NfErrorCode::NF_INVALID_ARGUMENT as i32);
    assert!(message(&mut e).contains("NULL client"));
}
