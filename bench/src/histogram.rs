//! [`Histogram`]: a fixed-size log-linear latency histogram.
//!
//! Values (nanoseconds) below 128 are counted exactly; above, each power of
//! two is split into 64 buckets, so a reported percentile is within 1/64
//! (1.6 %) of the true value. Recording is an index computation and an
//! increment; histograms of several connections merge by addition.

/// Sub-buckets per power of two, as a bit count.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = ((64 - SUB_BITS as usize) * SUB as usize) + SUB as usize;

/// Latency histogram in nanoseconds.
///
/// ```
/// use ninefold_bench::Histogram;
/// let mut h = Histogram::new();
/// for v in 1..=1000u64 { h.record(v * 1000); }
/// let p50 = h.percentile(0.50);
/// assert!((490_000..=510_000).contains(&p50), "{p50}");
/// assert_eq!(h.count(), 1000);
/// ```
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    max: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("p50", &self.percentile(0.5))
            .field("max", &self.max)
            .finish()
    }
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram { counts: vec![0; BUCKETS].into_boxed_slice(), count: 0, max: 0 }
    }

    fn index(v: u64) -> usize {
        if v < 2 * SUB {
            return v as usize;
        }
        let e = 63 - v.leading_zeros(); // >= SUB_BITS + 1
        let m = v >> (e - SUB_BITS); // in [SUB, 2*SUB)
        ((e - SUB_BITS + 1) as u64 * SUB + m - SUB) as usize
    }

    /// The lowest value and the width of bucket `i`.
    fn bucket(i: usize) -> (u64, u64) {
        let i = i as u64;
        if i < 2 * SUB {
            return (i, 1);
        }
        let e = i / SUB + u64::from(SUB_BITS) - 1;
        let m = i % SUB + SUB;
        let shift = e - u64::from(SUB_BITS);
        (m << shift, 1 << shift)
    }

    /// Counts one value.
    pub fn record(&mut self, nanos: u64) {
        let i = Histogram::index(nanos);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.count += 1;
        self.max = self.max.max(nanos);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value recorded (exact).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0.0..=1.0): the middle of the bucket
    /// holding the `ceil(q * count)`-th smallest value, never above the
    /// maximum; the exact maximum for the largest rank. 0 when empty.
    pub fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        if rank >= self.count {
            return self.max;
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (low, width) = Histogram::bucket(i);
                return (low + width / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (low, width) = Histogram::bucket(i);
            assert_eq!(low, next, "bucket {i}");
            assert_eq!(Histogram::index(low), i);
            assert_eq!(Histogram::index(low + (width - 1)), i);
            next = low.wrapping_add(width);
        }
        assert_eq!(next, 0, "the last bucket ends at u64::MAX");
        assert_eq!(Histogram::index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_are_within_resolution() {
        let mut h = Histogram::new();
        for v in 0..100_000u64 {
            h.record(v * 37);
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = ((q * 100_000.0) as u64 - 1) * 37;
            let got = h.percentile(q);
            let err = (got as f64 - exact as f64).abs() / exact as f64;
            assert!(err < 1.0 / 60.0, "q={q} exact={exact} got={got}");
        }
        assert_eq!(h.percentile(1.0), h.max());
        assert_eq!(Histogram::new().percentile(0.5), 0);
    }

    #[test]
    fn merge_adds() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        a.record(10);
        b.record(1_000_000);
        b.record(1_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), 1_000_000);
        assert_eq!(a.percentile(0.1), 10);
        let p = a.percentile(0.9);
        assert!((985_000..=1_000_000).contains(&p), "{p}");
    }
}
