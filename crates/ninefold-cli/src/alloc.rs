//! How the server process uses glibc's allocator (`ninefold serve`).
//!
//! **Large blocks get their own mapping, always.** glibc serves a block
//! of at least `M_MMAP_THRESHOLD` bytes (128 KiB) from a mapping of its
//! own, returned to the kernel when freed, but by default raises the
//! threshold to the size of the largest such block freed so far: after
//! the first 1 MiB buffer comes back, later ones are carved from the
//! per-thread arenas, and a freed one becomes a hole that stays resident
//! until the heap's top is free. The server's large buffers (1 MiB
//! Twrite frames, passthrough read buffers) are pooled up to a limit;
//! under more concurrency than the pools keep, the rest used to leave
//! such holes, and how much of them was resident after the load stopped
//! depended on the order of frees. Over a 10-minute soak of 64
//! connections the server's RSS swung 57–77 MiB from one drained segment
//! to the next (docs/BENCHMARKS.md, "Memory soak"). With the threshold
//! fixed, a large block not kept by a pool is unmapped when freed: the
//! RSS after a drained load is what the pools and the connections hold
//! (36–41 MiB in the same soak), and the small-object arenas stay small.
//!
//! Blocks below [`MMAP_THRESHOLD`] (receive buffers of small frames,
//! 64 KiB pooled buffers) are unaffected. A connection's read-ahead buffer
//! behind bulk frames is larger and so mapped when it is allocated: the
//! reader keeps it for reuse, and moves frames out of it while requests
//! hold them (`ninefold_server`'s `shell/recv.rs`). A threshold the user
//! sets (`MALLOC_MMAP_THRESHOLD_`, or `glibc.malloc.mmap_threshold` in
//! `GLIBC_TUNABLES`) wins.
//!
//! **How it is set, without `unsafe`.** glibc reads the threshold from
//! the `GLIBC_TUNABLES` environment variable when a program starts (a
//! threshold set that way, like `mallopt`, also stops the raising). So
//! `serve`, before it starts any thread, executes itself again, same
//! arguments, same process id, with `glibc.malloc.mmap_threshold` added to
//! that variable; the new image finds it set and goes on. If the
//! executable cannot be run again (it was deleted, or `exec` fails), the
//! server starts anyway with glibc's default.

/// Blocks of at least this many bytes are mapped on their own: the size
/// from which the server receives a frame into a pooled buffer of its own.
pub(crate) const MMAP_THRESHOLD: usize = 256 * 1024;

/// The tunable that fixes the threshold.
const TUNABLE: &str = "glibc.malloc.mmap_threshold";

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`] (see the module
/// documentation) unless the environment sets one: executes the program
/// again with it in `GLIBC_TUNABLES`. Returns only when it did not (the
/// threshold was set already, or the exec failed). Call it before any
/// thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn fix_mmap_threshold() {
    use std::os::unix::process::CommandExt;

    if user_set_threshold() {
        return;
    }
    let tunables = with_threshold(std::env::var("GLIBC_TUNABLES").ok().as_deref());
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    let exe = std::path::Path::new("/proc/self/exe");
    // `exec` returns only on failure.
    let err = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env("GLIBC_TUNABLES", tunables)
        .exec();
    tracing::debug!(error = %err, "cannot re-execute with {TUNABLE}; the allocator keeps its default");
}

/// Other C libraries: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn fix_mmap_threshold() {}

/// `GLIBC_TUNABLES` with the threshold added to what it held.
fn with_threshold(current: Option<&str>) -> String {
    let ours = format!("{TUNABLE}={MMAP_THRESHOLD}");
    match current {
        Some(t) if !t.is_empty() => format!("{t}:{ours}"),
        _ => ours,
    }
}

/// Whether the environment already sets glibc's mmap threshold.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn user_set_threshold() -> bool {
    std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains(TUNABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_added_to_the_tunables_already_set() {
        assert_eq!(with_threshold(None), "glibc.malloc.mmap_threshold=262144");
        assert_eq!(with_threshold(Some("")), "glibc.malloc.mmap_threshold=262144");
        assert_eq!(
            with_threshold(Some("glibc.malloc.hugetlb=1")),
            "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=262144"
        );
    }
}
