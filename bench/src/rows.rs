//! [`Row`]: the measurements a run can make.

use std::fmt;
use std::str::FromStr;

use crate::error::BenchError;

/// One measurement: an operation repeated by every outstanding slot of
/// every connection for the row's duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Row {
    /// `Tgetattr` (mask BASIC) on a fid walked to the scratch file.
    Getattr,
    /// `Twalk` of one name from the scratch directory to a new fid, then
    /// `Tclunk` of that fid: one op is the pair.
    WalkClunk,
    /// `Tread` of 4 KiB from the opened scratch file.
    Read4k,
    /// `Tread` of 64 KiB (capped at msize - 24).
    Read64k,
    /// `Tread` of 1 MiB (capped at msize - 24).
    Read1m,
    /// `Twrite` of 4 KiB to the opened scratch file.
    Write4k,
    /// `Twrite` of 64 KiB (capped at msize - 24).
    Write64k,
    /// `Twrite` of 1 MiB (capped at msize - 24).
    Write1m,
}

impl Row {
    /// Every row, in table order.
    pub const ALL: [Row; 8] = [
        Row::Getattr,
        Row::WalkClunk,
        Row::Read4k,
        Row::Read64k,
        Row::Read1m,
        Row::Write4k,
        Row::Write64k,
        Row::Write1m,
    ];

    /// The row's name, as given to `--rows` and printed.
    pub const fn name(self) -> &'static str {
        match self {
            Row::Getattr => "getattr",
            Row::WalkClunk => "walk-clunk",
            Row::Read4k => "read-4k",
            Row::Read64k => "read-64k",
            Row::Read1m => "read-1m",
            Row::Write4k => "write-4k",
            Row::Write64k => "write-64k",
            Row::Write1m => "write-1m",
        }
    }

    /// The I/O size the row asks for, before the msize cap (0: no data).
    pub const fn requested_io(self) -> u32 {
        match self {
            Row::Read4k | Row::Write4k => 4096,
            Row::Read64k | Row::Write64k => 64 << 10,
            Row::Read1m | Row::Write1m => 1 << 20,
            Row::Getattr | Row::WalkClunk => 0,
        }
    }

    /// Whether the row moves file data (and reports MB/s).
    pub const fn is_io(self) -> bool {
        self.requested_io() > 0
    }

    /// Whether the row writes.
    pub const fn is_write(self) -> bool {
        matches!(self, Row::Write4k | Row::Write64k | Row::Write1m)
    }

    /// The data size per request at a negotiated `msize`: the requested
    /// size, capped at `msize - 24` as the Linux client does.
    ///
    /// ```
    /// use ninefold_bench::Row;
    /// assert_eq!(Row::Read1m.io_size(1048600), 1 << 20);
    /// assert_eq!(Row::Read1m.io_size(65560), 65536);
    /// assert_eq!(Row::Write4k.io_size(65560), 4096);
    /// ```
    pub const fn io_size(self, msize: u32) -> u32 {
        let cap = ninefold_proto::sizes::client_io_size(0, msize);
        let want = self.requested_io();
        if want < cap {
            want
        } else {
            cap
        }
    }

    /// Parses a comma-separated list (`all` = every row).
    ///
    /// ```
    /// use ninefold_bench::Row;
    /// assert_eq!(Row::parse_list("getattr,read-1m").unwrap(), vec![Row::Getattr, Row::Read1m]);
    /// assert_eq!(Row::parse_list("all").unwrap().len(), 8);
    /// assert!(Row::parse_list("getattr,nope").is_err());
    /// ```
    pub fn parse_list(s: &str) -> Result<Vec<Row>, BenchError> {
        let mut rows = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                rows.extend(Row::ALL);
            } else {
                rows.push(part.parse()?);
            }
        }
        if rows.is_empty() {
            return Err(BenchError::Usage("no rows selected".into()));
        }
        Ok(rows)
    }
}

impl FromStr for Row {
    type Err = BenchError;

    fn from_str(s: &str) -> Result<Row, BenchError> {
        let alias = match s {
            "walk" | "walk+clunk" => "walk-clunk",
            "read4k" => "read-4k",
            "read64k" => "read-64k",
            "write64k" => "write-64k",
            "read1m" => "read-1m",
            "write4k" => "write-4k",
            "write1m" => "write-1m",
            other => other,
        };
        Row::ALL.into_iter().find(|r| r.name() == alias).ok_or_else(|| {
            let names: Vec<_> = Row::ALL.iter().map(|r| r.name()).collect();
            BenchError::Usage(format!("unknown row {s:?}; rows are: {}", names.join(", ")))
        })
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
