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
//! Blocks below [`MMAP_THRESHOLD`] (receive buffers of frames under
//! 256 KiB, 64 KiB pooled buffers) are unaffected. A threshold the user
//! sets (`MALLOC_MMAP_THRESHOLD_`, or `glibc.malloc.mmap_threshold` in
//! `GLIBC_TUNABLES`) wins.

/// Blocks of at least this many bytes are mapped on their own: the size
/// from which the server receives a frame into a pooled buffer of its own.
pub(crate) const MMAP_THRESHOLD: usize = 256 * 1024;

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`] (see the module
/// documentation), unless the environment sets one. Called before the
/// runtime starts any thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn fix_mmap_threshold() {
    if user_set_threshold() {
        return;
    }
    let threshold = libc::c_int::try_from(MMAP_THRESHOLD).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes allocator parameters, takes plain
    // integers and is called while the process has a single thread.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, threshold) };
    if ok != 1 {
        tracing::debug!("mallopt(M_MMAP_THRESHOLD) refused; the allocator keeps its default");
    }
}

/// Other C libraries: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn fix_mmap_threshold() {}

/// Whether the environment already sets glibc's mmap threshold.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn user_set_threshold() -> bool {
    std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.mmap_threshold"))
}
