//! Splice or copy: which way a large read's payload goes to the socket,
//! chosen by what each way has been measured to cost on this host.
//!
//! Neither way wins everywhere. On one host a 1 MiB read spliced into a
//! tcp socket cost the server 0.42× the copy; on another the splice cost
//! 1.3× the copy and moved a quarter less data (docs/BENCHMARKS.md,
//! "splice or copy, measured at run time"). Over unix sockets, and for
//! 64 KiB reads over tcp, the splice won on both. A fixed threshold is
//! right for one host and wrong for the next, so over tcp the server
//! measures reads of 128 KiB and more. Over unix sockets it does not:
//! splicing won on every host and size measured (0.45× the server's CPU
//! per 64 KiB read here, 1.6× the copying build's 1 MiB reads on the
//! other host), and a measured choice there cost up to a third of the row
//! in exploring and noise ([`UNIX`] always splices). Nor for tcp reads
//! below 128 KiB ([`TCP`]): spliced they moved 1.8× the data of copied
//! ones on the host where large ones lost (4,428–4,496 against 2,440–
//! 2,548 MB/s at depth 4), but their measured figures crossed back and
//! forth (copying looked 15–20 % cheaper in some runs), and a run that
//! settled on copying lost 40 % of the row.
//!
//! For each transport (one [`Choice`] per process and transport) and each
//! size class of read (64 KiB, 128 KiB, ... up to 1 MiB and more), the
//! server keeps what a byte cost each way, in two parts:
//! - **fill**: the filesystem's read, into a pipe or into a buffer
//!   (timed around the call, in `ops::read`);
//! - **send**: how long the payload took to go into the socket, from its
//!   first byte to its last, waits for a full socket included (timed by
//!   the connection's writer). The waits are the point: the server's own
//!   system calls cost about the same either way on the host where
//!   splicing lost, and what differed was how fast the socket drained
//!   (a spliced 1 MiB reply into tcp went out as full segments and a
//!   53-byte one after each 64 KiB, against full segments only when
//!   copied).
//!
//! A payload's send time also depends on what was queued before it (a
//! tcp socket holds megabytes), so a send is a sample only after
//! [`SETTLE_BYTES`] of the connection's large payloads in a row went the
//! same way; to get such samples, the ways are taken in runs of
//! [`RUN_BYTES`] of reads. Until both ways have a few samples in a class
//! the runs take turns; after that the cheaper way is kept until the
//! other is 15 % cheaper, and one run in [`EXPLORE_NEAR`] (in
//! [`EXPLORE_FAR`] when one way costs 1.5× the other or more) takes the
//! other way so that its figure follows the host's load. Each figure is
//! a moving average (1/8 weight), a sample above 4× the average clipped
//! (a call preempted half-way). A change of choice is logged at `debug`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::SPLICE_MIN;

/// Bytes of reads of a class taken the same way in a row.
pub(crate) const RUN_BYTES: usize = 16 << 20;
/// Bytes of large payloads a connection sent the same way before its
/// sends are samples of that way.
pub(crate) const SETTLE_BYTES: usize = 8 << 20;
/// One run in this many takes the way not chosen, when the ways cost
/// within 1.5× of each other.
pub(crate) const EXPLORE_NEAR: u32 = 16;
/// One run in this many takes the way not chosen, when they do not.
pub(crate) const EXPLORE_FAR: u32 = 64;
/// Samples of each part of each way before a class's choice is made.
const WARM: u32 = 4;
/// Size classes: 64 KiB, 128, 256, 512 KiB, then 1 MiB and up.
pub(crate) const CLASSES: usize = 5;

/// Which way a payload goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Way {
    /// Through a pipe, `splice(2)` into the socket.
    Splice,
    /// Read into memory, copied into the socket by `writev`.
    Copy,
}

/// How the server decides between splicing and copying large reads
/// (reads of at least 64 KiB from a filesystem that can fill a pipe,
/// over a plain tcp or unix socket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpliceReads {
    /// Measure both ways on this host, per transport and size of read,
    /// and take the cheaper (the default).
    #[default]
    Measured,
    /// Always splice when possible.
    Always,
    /// Never splice: every read is copied.
    Never,
}

impl std::str::FromStr for SpliceReads {
    type Err = String;

    fn from_str(s: &str) -> Result<SpliceReads, String> {
        match s {
            "measured" => Ok(SpliceReads::Measured),
            "always" => Ok(SpliceReads::Always),
            "never" => Ok(SpliceReads::Never),
            other => Err(format!("{other:?} is not one of measured, always, never")),
        }
    }
}

/// A moving average of picoseconds per byte, and how many samples it has.
#[derive(Debug, Default)]
struct Avg {
    ps_per_byte: AtomicU64,
    samples: AtomicU32,
}

impl Avg {
    fn get(&self) -> u64 {
        self.ps_per_byte.load(Ordering::Relaxed)
    }

    fn warm(&self) -> bool {
        self.samples.load(Ordering::Relaxed) >= WARM
    }

    /// Adds a sample. Racing updates may lose one; an average does not
    /// need every sample.
    fn add(&self, took: Duration, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let ps = took.as_nanos().saturating_mul(1000) / bytes as u128;
        let mut sample = u64::try_from(ps).unwrap_or(u64::MAX);
        let old = self.get();
        let n = self.samples.load(Ordering::Relaxed);
        let new = if n == 0 {
            sample
        } else {
            sample = sample.min(old.saturating_mul(4).max(1));
            // old + (sample - old) / 8, in signed arithmetic.
            let delta = (sample as i128 - old as i128) / 8;
            (old as i128 + delta).clamp(0, u64::MAX as i128) as u64
        };
        self.ps_per_byte.store(new, Ordering::Relaxed);
        self.samples.store(n.saturating_add(1), Ordering::Relaxed);
    }
}

/// One size class: each way's fill and send averages.
#[derive(Debug)]
struct Class {
    splice_fill: Avg,
    splice_send: Avg,
    copy_fill: Avg,
    copy_send: Avg,
    /// The way chosen (0 none yet, 1 splice, 2 copy).
    chosen: AtomicU32,
}

/// The measured choice of one transport (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Choice {
    transport: &'static str,
    /// Whether this transport is measured at all (else: always splice).
    measured: bool,
    /// The first size class measured; smaller reads always splice.
    from_class: usize,
    classes: [Class; CLASSES],
}

/// The choice for tcp sockets: reads of 128 KiB and more measured, smaller
/// ones spliced.
pub(crate) static TCP: Choice = Choice::from_class("tcp", 1);
/// The choice for unix sockets: always splice.
pub(crate) static UNIX: Choice = Choice::always("unix");

impl Avg {
    const fn new() -> Avg {
        Avg { ps_per_byte: AtomicU64::new(0), samples: AtomicU32::new(0) }
    }
}

impl Class {
    fn avg(&self, way: Way, part: Part) -> &Avg {
        match (way, part) {
            (Way::Splice, Part::Fill) => &self.splice_fill,
            (Way::Splice, Part::Send) => &self.splice_send,
            (Way::Copy, Part::Fill) => &self.copy_fill,
            (Way::Copy, Part::Send) => &self.copy_send,
        }
    }

    /// What a byte costs `way`: its slower part (the next read is filled
    /// while one is sent).
    fn cost(&self, way: Way) -> u64 {
        self.avg(way, Part::Fill).get().max(self.avg(way, Part::Send).get())
    }

    const fn new() -> Class {
        Class {
            splice_fill: Avg::new(),
            splice_send: Avg::new(),
            copy_fill: Avg::new(),
            copy_send: Avg::new(),
            chosen: AtomicU32::new(0),
        }
    }
}

impl Choice {
    const fn new(transport: &'static str) -> Choice {
        Choice::from_class(transport, 0)
    }

    /// Measures size classes from `from_class` on; smaller reads splice.
    const fn from_class(transport: &'static str, from_class: usize) -> Choice {
        Choice { transport, measured: true, from_class, classes: [const { Class::new() }; CLASSES] }
    }

    /// A transport that always splices, measuring nothing.
    const fn always(transport: &'static str) -> Choice {
        let mut c = Choice::new(transport);
        c.measured = false;
        c
    }

    /// Whether this transport's ways are measured.
    pub(crate) fn measured(&self) -> bool {
        self.measured
    }

    /// A measured choice of its own, for tests of what feeds it.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Choice {
        Choice::new("test")
    }

    /// The send samples of `way` in the class of `bytes`, and their
    /// average in picoseconds per byte.
    #[cfg(test)]
    pub(crate) fn send_figure(&self, way: Way, bytes: usize) -> (u32, u64) {
        let c = &self.classes[class_of(bytes)];
        let a = c.avg(way, Part::Send);
        (a.samples.load(Ordering::Relaxed), a.get())
    }

    /// The class of a payload of `bytes` (at least [`SPLICE_MIN`]).
    fn class(bytes: usize) -> &'static str {
        ["64 KiB", "128 KiB", "256 KiB", "512 KiB", "1 MiB"][class_of(bytes)]
    }

    /// Which way a read of `bytes` should go, the `n`th read of its class
    /// on its connection (runs are counted per connection: a send is
    /// a sample only after others of the same way on the same socket).
    pub(crate) fn pick(&self, bytes: usize, n: u32) -> Way {
        let i = class_of(bytes);
        if !self.measured || i < self.from_class {
            return Way::Splice;
        }
        let c = &self.classes[i];
        let warm = [Way::Splice, Way::Copy]
            .iter()
            .all(|&w| c.avg(w, Part::Fill).warm() && c.avg(w, Part::Send).warm());
        let run = n / run_reads(i);
        if !warm {
            // Runs in turn, splice first, so a lone large read is spliced.
            return if run % 2 == 0 { Way::Splice } else { Way::Copy };
        }
        let (splice, copy) = (c.cost(Way::Splice), c.cost(Way::Copy));
        let was = c.chosen.load(Ordering::Relaxed);
        // The other way must be 15 % cheaper to be taken over: single
        // runs differ by about that much.
        let best = match was {
            1 if copy.saturating_mul(100) < splice.saturating_mul(85) => Way::Copy,
            1 => Way::Splice,
            2 if splice.saturating_mul(100) < copy.saturating_mul(85) => Way::Splice,
            2 => Way::Copy,
            _ if splice <= copy => Way::Splice,
            _ => Way::Copy,
        };
        let code = if best == Way::Splice { 1 } else { 2 };
        if was != code && c.chosen.swap(code, Ordering::Relaxed) != code {
            tracing::debug!(
                transport = self.transport,
                reads = Choice::class(bytes),
                way = ?best,
                splice_ps_per_byte = splice,
                copy_ps_per_byte = copy,
                splice_fill = c.splice_fill.get(),
                copy_fill = c.copy_fill.get(),
                "large reads: the cheaper way changed"
            );
        }
        let far = splice.max(copy).saturating_mul(2) >= splice.min(copy).saturating_mul(3);
        let explore = if far { EXPLORE_FAR } else { EXPLORE_NEAR };
        match (run % explore == 0, best) {
            (false, way) => way,
            (true, Way::Splice) => Way::Copy,
            (true, Way::Copy) => Way::Splice,
        }
    }

    /// A read of `bytes` was filled the `way` way in `took`.
    pub(crate) fn filled(&self, way: Way, bytes: usize, took: Duration) {
        self.add(way, Part::Fill, bytes, took);
    }

    /// A payload of `bytes` went into the socket the `way` way in `took`,
    /// from its first byte to its last (see the module's documentation:
    /// only once [`SETTLE_BYTES`] went that way before it).
    pub(crate) fn sent(&self, way: Way, bytes: usize, took: Duration) {
        self.add(way, Part::Send, bytes, took);
    }

    fn add(&self, way: Way, part: Part, bytes: usize, took: Duration) {
        if bytes >= SPLICE_MIN {
            self.classes[class_of(bytes)].avg(way, part).add(took, bytes);
        }
    }
}

/// The two parts of a way's cost.
#[derive(Debug, Clone, Copy)]
enum Part {
    Fill,
    Send,
}

/// Reads in a run of class `i`.
fn run_reads(i: usize) -> u32 {
    u32::try_from((RUN_BYTES / (SPLICE_MIN << i)).max(1)).unwrap_or(u32::MAX)
}

/// The size class of a read of `bytes` (at least [`SPLICE_MIN`]).
pub(crate) fn class_of(bytes: usize) -> usize {
    let steps = (bytes / SPLICE_MIN).max(1).ilog2() as usize;
    steps.min(CLASSES - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// Feeds `rounds` reads of `bytes` in which the splice costs
    /// `splice_us` and the copy `copy_us` (half fill, half send).
    fn train(c: &Choice, bytes: usize, splice_us: u64, copy_us: u64, rounds: usize) {
        for _ in 0..rounds {
            c.filled(Way::Splice, bytes, us(splice_us / 2));
            c.sent(Way::Splice, bytes, us(splice_us / 2));
            c.filled(Way::Copy, bytes, us(copy_us / 2));
            c.sent(Way::Copy, bytes, us(copy_us / 2));
        }
    }

    /// A connection's reads: `n` more after the `asked` it made.
    fn picks_from(c: &Choice, bytes: usize, asked: &mut u32, n: u32) -> (u32, u32) {
        (0..n).fold((0, 0), |(s, k), _| {
            *asked += 1;
            match c.pick(bytes, *asked - 1) {
                Way::Splice => (s + 1, k),
                Way::Copy => (s, k + 1),
            }
        })
    }

    #[test]
    fn classes_double_from_64_kib_and_end_at_1_mib() {
        assert_eq!(class_of(SPLICE_MIN), 0);
        assert_eq!(class_of(128 * 1024 - 1), 0);
        assert_eq!(class_of(128 * 1024), 1);
        assert_eq!(class_of(256 * 1024), 2);
        assert_eq!(class_of(512 * 1024 + 5), 3);
        assert_eq!(class_of(MIB), 4);
        assert_eq!(class_of(16 * MIB), 4);
    }

    /// Reads in a run of 1 MiB reads.
    fn run() -> u32 {
        run_reads(class_of(MIB))
    }

    #[test]
    fn runs_are_16_mib_of_reads() {
        assert_eq!(run(), 16);
        assert_eq!(run_reads(class_of(64 * 1024)), 256);
    }

    #[test]
    fn until_both_ways_are_measured_they_take_turns_in_runs_splice_first() {
        let c = Choice::new("test");
        let first: Vec<Way> = (0..2 * run()).map(|n| c.pick(MIB, n)).collect();
        let run = run() as usize;
        assert!(first[..run].iter().all(|w| *w == Way::Splice), "{first:?}");
        assert!(first[run..].iter().all(|w| *w == Way::Copy), "{first:?}");
        // Measuring one way only does not end the turns.
        for _ in 0..10 {
            c.filled(Way::Splice, MIB, us(100));
            c.sent(Way::Splice, MIB, us(100));
        }
        let run = run as u32;
        let mut asked = 2 * run;
        assert_eq!(picks_from(&c, MIB, &mut asked, 4 * run), (2 * run, 2 * run));
        // Runs are per connection: another one starts with its own.
        assert_eq!(c.pick(MIB, 0), Way::Splice);
    }

    #[test]
    fn the_cheaper_way_is_taken_and_the_other_explored_in_runs() {
        let c = Choice::new("test");
        // Near: one run in 16 explores.
        train(&c, MIB, 440, 340, 8);
        let mut asked = 0;
        let (splice, copy) = picks_from(&c, MIB, &mut asked, run() * EXPLORE_NEAR * 2);
        assert_eq!((splice, copy), (2 * run(), run() * (EXPLORE_NEAR * 2 - 2)));
        // Far apart: one run in 64.
        let c = Choice::new("test");
        train(&c, MIB, 300, 900, 8);
        let mut asked = 0;
        let (splice, copy) = picks_from(&c, MIB, &mut asked, run() * EXPLORE_FAR * 2);
        assert_eq!((splice, copy), (run() * (EXPLORE_FAR * 2 - 2), 2 * run()));
        // Another class is measured on its own: 64 KiB reads still take
        // turns.
        assert_eq!(c.pick(64 * 1024, run_reads(0)), Way::Copy);
    }

    #[test]
    fn the_choice_changes_only_for_a_clear_difference() {
        let c = Choice::new("test");
        let cycle = run() * EXPLORE_NEAR;
        let mut asked = 0;
        train(&c, MIB, 300, 400, 8);
        assert_eq!(picks_from(&c, MIB, &mut asked, cycle).0, cycle - run());
        // Copying gets a little cheaper than splicing: not enough.
        train(&c, MIB, 600, 560, 40);
        assert_eq!(picks_from(&c, MIB, &mut asked, cycle).0, cycle - run());
        // Then clearly cheaper (say the peer moved to loopback tcp).
        train(&c, MIB, 800, 600, 40);
        assert_eq!(picks_from(&c, MIB, &mut asked, cycle).1, cycle - run());
    }

    #[test]
    fn unix_sockets_always_splice() {
        assert!(!UNIX.measured() && TCP.measured());
        assert!((0..1000).all(|n| UNIX.pick(MIB, n) == Way::Splice));
    }

    #[test]
    fn tcp_splices_reads_below_128_kib_and_measures_the_rest() {
        let c = Choice::from_class("test", 1);
        // Whatever the figures say of the 64 KiB class.
        train(&c, 64 * 1024, 900, 100, 8);
        assert!((0..4 * run_reads(0)).all(|n| c.pick(64 * 1024, n) == Way::Splice));
        assert!((0..4 * run_reads(0)).all(|n| c.pick(128 * 1024 - 1, n) == Way::Splice));
        // From 128 KiB the runs take turns until both ways are measured.
        assert_eq!(c.pick(128 * 1024, 0), Way::Splice);
        assert_eq!(c.pick(128 * 1024, run_reads(1)), Way::Copy);
        assert_eq!(TCP.from_class, 1);
    }

    #[test]
    fn an_outlier_moves_the_average_a_bounded_step() {
        let a = Avg::default();
        for _ in 0..8 {
            a.add(us(100), MIB);
        }
        let before = a.get();
        // A call preempted for 50 ms counts as 4x the average at most.
        a.add(Duration::from_millis(50), MIB);
        let after = a.get();
        assert!(after > before && after <= before + before * 3 / 8 + 1, "{before} -> {after}");
        // Nothing is learnt from an empty payload.
        a.add(us(5), 0);
        assert_eq!(a.get(), after);
    }

    #[test]
    fn small_payloads_are_not_samples() {
        let c = Choice::new("test");
        c.filled(Way::Copy, 4096, us(1));
        c.sent(Way::Copy, 4096, us(10));
        c.sent(Way::Splice, 1000, us(1));
        assert!(c
            .classes
            .iter()
            .all(|k| k.copy_fill.get() == 0 && k.copy_send.get() == 0 && k.splice_send.get() == 0));
    }

    #[test]
    fn the_policy_parses_from_its_names() {
        assert_eq!("measured".parse(), Ok(SpliceReads::Measured));
        assert_eq!("always".parse(), Ok(SpliceReads::Always));
        assert_eq!("never".parse(), Ok(SpliceReads::Never));
        assert!("sometimes".parse::<SpliceReads>().is_err());
    }
}
