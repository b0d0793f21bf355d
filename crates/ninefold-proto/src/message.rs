//! [`Message`], and the type table: which type number means which message in
//! which dialect, and what each message is ([`MessageFacts`]). This file is
//! the one place that map is written down.

use bytes::{BufMut, Bytes};

use crate::dialect::DialectSet;
use crate::error::EncodeError;
use crate::facts::{FidRole, Fids, MessageFacts};
use crate::wire::{Fault, Reader, Wire, Writer};
use crate::{base, l, z, Dialect};

/// A row of the table:
///
/// ```text
/// /// doc
/// Name(path::Type) = number in DIALECTS [fact, ...] { Role: field, ... };
/// ```
///
/// The fact words are the builder methods of [`MessageFacts`]
/// (`mutates`, `mutates_by_open_flags`, `envelope`, `interruptible`,
/// `unbinds_fid`); the braces name every fid field of the message with its
/// [`FidRole`]. Both parts are optional.
macro_rules! messages {
    ($(
        $(#[$doc:meta])* $name:ident($path:ty) = $ty:literal in $dialects:ident
        $( [ $($fact:ident),* ] )?
        $( { $($role:ident : $field:ident),* } )? ;
    )*) => {
        /// Every 9P message of every dialect Ninefold speaks, named as on the
        /// wire. A message's layout may depend on the dialect it travels in
        /// (see each struct); [`Frame`](crate::Frame) pairs it with a tag.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Message {
            $( $(#[$doc])* $name($path), )*
        }

        impl Message {
            /// The type number on the wire.
            pub const fn msg_type(&self) -> u8 {
                match self { $( Message::$name(_) => $ty, )* }
            }

            /// The message name, as in the protocol (`"Tlopen"`).
            pub const fn name(&self) -> &'static str {
                match self { $( Message::$name(_) => stringify!($name), )* }
            }

            /// Whether this is a request (a T-message, sent by clients).
            /// Type numbers do not tell: in 9P2000.L.Z, Tgetlineage is 233.
            pub const fn is_request(&self) -> bool {
                match self { $( Message::$name(_) => stringify!($name).as_bytes()[0] == b'T', )* }
            }

            /// Whether the message exists in `dialect`.
            pub const fn is_in(&self, dialect: Dialect) -> bool {
                match self { $( Message::$name(_) => DialectSet::$dialects.contains(dialect), )* }
            }

            /// The facts of this message's type (fid roles, mutation,
            /// envelope, interruptibility), from its table row.
            ///
            /// ```
            /// use ninefold_proto::{base, Message};
            ///
            /// let clunk = Message::from(base::Tclunk { fid: 3 });
            /// assert!(clunk.facts().ends_fid());
            /// assert!(!clunk.facts().is_interruptible());
            /// ```
            pub fn facts(&self) -> &'static MessageFacts {
                let row = match self { $( Message::$name(_) => row::$name, )* };
                &ENTRIES[row as usize]
            }

            /// The fid numbers this message names, by role (read from the
            /// fields its table row declares).
            ///
            /// ```
            /// use ninefold_proto::{base, Message};
            ///
            /// let walk = Message::from(base::Twalk { fid: 1, newfid: 2, wnames: vec![] });
            /// let fids = walk.fids();
            /// assert_eq!((fids.fid, fids.newfid), (Some(1), Some(2)));
            /// ```
            pub fn fids(&self) -> Fids {
                #[allow(unused_mut)]
                let mut fids = Fids::default();
                match self {
                    $( Message::$name(_m) => { $($( fids.set(FidRole::$role, _m.$field); )*)? } )*
                }
                fids
            }

            pub(crate) fn body_len(&self, d: Dialect) -> Result<usize, EncodeError> {
                match self { $( Message::$name(m) => m.wire_len(d), )* }
            }

            pub(crate) fn put_body<B: BufMut>(&self, w: &mut Writer<'_, B>, d: Dialect) {
                match self { $( Message::$name(m) => m.put(w, d), )* }
            }
        }

        $(
            impl From<$path> for Message {
                fn from(m: $path) -> Message {
                    Message::$name(m)
                }
            }
        )*

        #[cfg(feature = "proptest")]
        impl Message {
            /// One strategy per message, with the dialects it belongs to.
            pub(crate) fn strategies(
            ) -> Vec<(DialectSet, proptest::strategy::BoxedStrategy<Message>)> {
                use proptest::strategy::Strategy;
                vec![ $( (
                    DialectSet::$dialects,
                    proptest::arbitrary::any::<$path>().prop_map(Message::$name).boxed(),
                ), )* ]
            }
        }

        /// The table, one row per message.
        pub(crate) const ENTRIES: &[MessageFacts] = &[
            $( MessageFacts::new(
                $ty,
                stringify!($name),
                DialectSet::$dialects,
                &[ $($( (FidRole::$role, stringify!($field)) ),*)? ],
            ) $($( .$fact() )*)?, )*
        ];

        /// Row numbers of `ENTRIES`, one constant per message.
        #[allow(non_upper_case_globals, dead_code)]
        mod row {
            #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
            enum Row { $( $name, )* }
            $( pub(super) const $name: u8 = Row::$name as u8; )*
        }

        /// Decodes the body of the message in row `row` of the table.
        #[inline(always)]
        fn decode_row(row: u8, r: &mut Reader<'_>, d: Dialect) -> Result<Message, Fault> {
            Ok(match row {
                $( row::$name => Message::$name(<$path as Wire>::get(r, d)?), )*
                _ => return Err(Fault::from(crate::error::DecodeErrorKind::Invalid("no such table row"))),
            })
        }
    };
}

messages! {
    // ---- 9P2000 (types 100-127); Tauth, Tattach, Rerror, Tcreate and stat
    // ---- records take their 9P2000.u form in .u and .L.
    /// 100: negotiate msize and dialect.
    Tversion(base::Tversion) = 100 in ALL;
    /// 101
    Rversion(base::Rversion) = 101 in ALL;
    /// 102: open an authentication fid.
    Tauth(base::Tauth) = 102 in ALL { Afid: afid };
    /// 103
    Rauth(base::Rauth) = 103 in ALL;
    /// 104: attach a fid to the root of an export.
    Tattach(base::Tattach) = 104 in ALL { Newfid: fid, Afid: afid };
    /// 105
    Rattach(base::Rattach) = 105 in ALL;
    /// 107: error reply of 9P2000 and 9P2000.u.
    Rerror(base::Rerror) = 107 in PLAN9;
    /// 108: abort a request.
    Tflush(base::Tflush) = 108 in ALL;
    /// 109
    Rflush(base::Rflush) = 109 in ALL;
    /// 110: walk a fid along names.
    Twalk(base::Twalk) = 110 in ALL [interruptible] { Fid: fid, Newfid: newfid };
    /// 111
    Rwalk(base::Rwalk) = 111 in ALL;
    /// 112: open (9P2000/.u).
    Topen(base::Topen) = 112 in PLAN9 [mutates_by_open_flags] { Fid: fid };
    /// 113
    Ropen(base::Ropen) = 113 in PLAN9;
    /// 114: create and open (9P2000/.u).
    Tcreate(base::Tcreate) = 114 in PLAN9 [mutates] { Fid: fid };
    /// 115
    Rcreate(base::Rcreate) = 115 in PLAN9;
    /// 116: read from an open fid.
    Tread(base::Tread) = 116 in ALL [interruptible] { Fid: fid };
    /// 117
    Rread(base::Rread) = 117 in ALL;
    /// 118: write to an open fid (enveloped in .L.Z).
    Twrite(base::Twrite) = 118 in ALL [mutates, envelope, interruptible] { Fid: fid };
    /// 119
    Rwrite(base::Rwrite) = 119 in ALL;
    /// 120: forget a fid.
    Tclunk(base::Tclunk) = 120 in ALL [unbinds_fid] { Fid: fid };
    /// 121
    Rclunk(base::Rclunk) = 121 in ALL;
    /// 122: remove the file and clunk the fid.
    Tremove(base::Tremove) = 122 in ALL [mutates, unbinds_fid] { Fid: fid };
    /// 123
    Rremove(base::Rremove) = 123 in ALL;
    /// 124: read a stat record.
    Tstat(base::Tstat) = 124 in ALL [interruptible] { Fid: fid };
    /// 125
    Rstat(base::Rstat) = 125 in ALL;
    /// 126: write a stat record (in .L only as the kernel's last-resort rename).
    Twstat(base::Twstat) = 126 in ALL [mutates] { Fid: fid };
    /// 127
    Rwstat(base::Rwstat) = 127 in ALL;

    // ---- 9P2000.L (types 6-77)
    /// 7: error reply of 9P2000.L.
    Rlerror(l::Rlerror) = 7 in DOTL;
    /// 8: filesystem statistics.
    Tstatfs(l::Tstatfs) = 8 in DOTL [interruptible] { Fid: fid };
    /// 9
    Rstatfs(l::Rstatfs) = 9 in DOTL;
    /// 12: open with Linux flags.
    Tlopen(l::Tlopen) = 12 in DOTL [mutates_by_open_flags] { Fid: fid };
    /// 13
    Rlopen(l::Rlopen) = 13 in DOTL;
    /// 14: create and open a regular file; the fid becomes the file.
    Tlcreate(l::Tlcreate) = 14 in DOTL [mutates, envelope] { Fid: fid };
    /// 15
    Rlcreate(l::Rlcreate) = 15 in DOTL;
    /// 16: create a symbolic link.
    Tsymlink(l::Tsymlink) = 16 in DOTL [mutates, envelope] { Fid: fid };
    /// 17
    Rsymlink(l::Rsymlink) = 17 in DOTL;
    /// 18: create a device, FIFO or socket node.
    Tmknod(l::Tmknod) = 18 in DOTL [mutates, envelope] { Fid: dfid };
    /// 19
    Rmknod(l::Rmknod) = 19 in DOTL;
    /// 20: rename the file a fid names.
    Trename(l::Trename) = 20 in DOTL [mutates, envelope] { Fid: fid, Fid2: dfid };
    /// 21
    Rrename(l::Rrename) = 21 in DOTL;
    /// 22: read a symbolic link.
    Treadlink(l::Treadlink) = 22 in DOTL [interruptible] { Fid: fid };
    /// 23
    Rreadlink(l::Rreadlink) = 23 in DOTL;
    /// 24: get attributes.
    Tgetattr(l::Tgetattr) = 24 in DOTL [interruptible] { Fid: fid };
    /// 25
    Rgetattr(l::Rgetattr) = 25 in DOTL;
    /// 26: set attributes.
    Tsetattr(l::Tsetattr) = 26 in DOTL [mutates, envelope] { Fid: fid };
    /// 27
    Rsetattr(l::Rsetattr) = 27 in DOTL;
    /// 30: open an extended attribute (or the list) for reading.
    Txattrwalk(l::Txattrwalk) = 30 in DOTL [interruptible] { Fid: fid, Newfid: newfid };
    /// 31
    Rxattrwalk(l::Rxattrwalk) = 31 in DOTL;
    /// 32: prepare a fid to write an extended attribute.
    Txattrcreate(l::Txattrcreate) = 32 in DOTL [mutates] { Fid: fid };
    /// 33
    Rxattrcreate(l::Rxattrcreate) = 33 in DOTL;
    /// 40: read directory entries.
    Treaddir(l::Treaddir) = 40 in DOTL [interruptible] { Fid: fid };
    /// 41
    Rreaddir(l::Rreaddir) = 41 in DOTL;
    /// 50: flush a file to stable storage.
    Tfsync(l::Tfsync) = 50 in DOTL [interruptible] { Fid: fid };
    /// 51: also the reply to Tfsyncdur (232).
    Rfsync(l::Rfsync) = 51 in DOTL;
    /// 52: acquire or release a POSIX byte-range lock.
    Tlock(l::Tlock) = 52 in DOTL [interruptible] { Fid: fid };
    /// 53
    Rlock(l::Rlock) = 53 in DOTL;
    /// 54: test for a conflicting lock.
    Tgetlock(l::Tgetlock) = 54 in DOTL [interruptible] { Fid: fid };
    /// 55
    Rgetlock(l::Rgetlock) = 55 in DOTL;
    /// 70: create a hard link.
    Tlink(l::Tlink) = 70 in DOTL [mutates, envelope] { Fid: dfid, Fid2: fid };
    /// 71
    Rlink(l::Rlink) = 71 in DOTL;
    /// 72: create a directory.
    Tmkdir(l::Tmkdir) = 72 in DOTL [mutates, envelope] { Fid: dfid };
    /// 73
    Rmkdir(l::Rmkdir) = 73 in DOTL;
    /// 74: rename by directory and name.
    Trenameat(l::Trenameat) = 74 in DOTL [mutates, envelope] { Fid: olddirfid, Fid2: newdirfid };
    /// 75
    Rrenameat(l::Rrenameat) = 75 in DOTL;
    /// 76: remove by directory and name.
    Tunlinkat(l::Tunlinkat) = 76 in DOTL [mutates, envelope] { Fid: dirfid };
    /// 77
    Runlinkat(l::Runlinkat) = 77 in DOTL;

    // ---- 9P2000.L.Z private messages (types 228-255)
    /// 228: allocate, punch or zero a range.
    Tfallocate(z::Tfallocate) = 228 in Z [mutates, envelope] { Fid: fid };
    /// 229
    Rfallocate(z::Rfallocate) = 229 in Z;
    /// 230: clone, open and read the start of a file in one round trip.
    Tlopenatread(z::Tlopenatread) = 230 in Z [mutates_by_open_flags] { Fid: fid, Newfid: newfid };
    /// 231
    Rlopenatread(z::Rlopenatread) = 231 in Z;
    /// 232: fsync with a scope and a durability-lineage check (reply: Rfsync).
    Tfsyncdur(z::Tfsyncdur) = 232 in Z [interruptible] { Fid: fid };
    /// 233: ask for the durability lineage (also the liveness probe).
    Tgetlineage(z::Tgetlineage) = 233 in Z [interruptible];
    /// 234
    Rgetlineage(z::Rgetlineage) = 234 in Z;
    /// 236: clone and open in one round trip.
    Tlopenat(z::Tlopenat) = 236 in Z [mutates_by_open_flags] { Fid: fid, Newfid: newfid };
    /// 237
    Rlopenat(z::Rlopenat) = 237 in Z;
    /// 238: exclusive create on a new fid, returning attributes.
    Tlcreateattr(z::Tlcreateattr) = 238 in Z [mutates, envelope] { Fid: dfid, Newfid: newfid };
    /// 239
    Rlcreateattr(z::Rlcreateattr) = 239 in Z;
    /// 240: mkdir returning attributes.
    Tmkdirattr(z::Tmkdirattr) = 240 in Z [mutates, envelope] { Fid: dfid };
    /// 241
    Rmkdirattr(z::Rmkdirattr) = 241 in Z;
    /// 242: symlink returning attributes.
    Tsymlinkattr(z::Tsymlinkattr) = 242 in Z [mutates, envelope] { Fid: dfid };
    /// 243
    Rsymlinkattr(z::Rsymlinkattr) = 243 in Z;
    /// 244: mknod returning attributes.
    Tmknodattr(z::Tmknodattr) = 244 in Z [mutates, envelope] { Fid: dfid };
    /// 245
    Rmknodattr(z::Rmknodattr) = 245 in Z;
    /// 246: link returning the linked object's attributes.
    Tlinkattr(z::Tlinkattr) = 246 in Z [mutates, envelope] { Fid: dfid, Fid2: fid };
    /// 247
    Rlinkattr(z::Rlinkattr) = 247 in Z;
    /// 248: setattr returning attributes.
    Tsetattrattr(z::Tsetattrattr) = 248 in Z [mutates, envelope] { Fid: fid };
    /// 249
    Rsetattrattr(z::Rsetattrattr) = 249 in Z;
    /// 250: bind a fid to an object by qid.path (reconnect replay).
    Trebind(z::Trebind) = 250 in Z { Newfid: fid };
    /// 251
    Rrebind(z::Rrebind) = 251 in Z;
    /// 252: all-or-nothing walk returning the final object's attributes.
    Twalkgetattr(z::Twalkgetattr) = 252 in Z [interruptible] { Fid: fid, Newfid: newfid };
    /// 253
    Rwalkgetattr(z::Rwalkgetattr) = 253 in Z;
    /// 254: read directory entries with attributes.
    Treaddirattr(z::Treaddirattr) = 254 in Z [interruptible] { Fid: fid };
    /// 255
    Rreaddirattr(z::Rreaddirattr) = 255 in Z;
}

/// No entry for this type number.
const NONE: u8 = u8::MAX;

/// The per-dialect tables: `TABLES[dialect][type]` is an index into
/// `ENTRIES`, or `NONE`.
static TABLES: [[u8; 256]; 4] =
    [table(Dialect::Base), table(Dialect::U), table(Dialect::L), table(Dialect::Z)];

const fn table(d: Dialect) -> [u8; 256] {
    assert!(ENTRIES.len() < NONE as usize);
    let mut t = [NONE; 256];
    let mut i = 0;
    while i < ENTRIES.len() {
        let e = &ENTRIES[i];
        if e.dialects.contains(d) {
            // Two messages with one number in one dialect is a table bug.
            assert!(t[e.ty as usize] == NONE);
            t[e.ty as usize] = i as u8;
        }
        i += 1;
    }
    t
}

/// The row of `ENTRIES` that type `ty` means in dialect `d`, and its entry.
fn lookup(d: Dialect, ty: u8) -> Option<(u8, &'static MessageFacts)> {
    match TABLES[d.index()][ty as usize] {
        NONE => None,
        row => ENTRIES.get(row as usize).map(|e| (row, e)),
    }
}

fn entry(d: Dialect, ty: u8) -> Option<&'static MessageFacts> {
    lookup(d, ty).map(|(_, e)| e)
}

impl Dialect {
    /// The name of message type `ty` in this dialect, or `None` when the
    /// dialect has no such message.
    ///
    /// ```
    /// use ninefold_proto::Dialect;
    /// assert_eq!(Dialect::L.message_name(12), Some("Tlopen"));
    /// assert_eq!(Dialect::U.message_name(12), None);
    /// assert_eq!(Dialect::Z.message_name(233), Some("Tgetlineage"));
    /// ```
    pub fn message_name(self, ty: u8) -> Option<&'static str> {
        entry(self, ty).map(|e| e.name)
    }

    /// The facts of message type `ty` in this dialect (fid roles,
    /// mutation, envelope, interruptibility), or `None` when the dialect
    /// has no such message.
    ///
    /// ```
    /// use ninefold_proto::Dialect;
    /// assert!(Dialect::L.message_facts(120).unwrap().ends_fid()); // Tclunk
    /// assert!(Dialect::L.message_facts(233).is_none());
    /// ```
    pub fn message_facts(self, ty: u8) -> Option<&'static MessageFacts> {
        entry(self, ty)
    }

    /// Every type number this dialect defines, ascending.
    pub fn message_types(self) -> impl Iterator<Item = u8> {
        (0..=u8::MAX).filter(move |&ty| entry(self, ty).is_some())
    }
}

impl Message {
    /// Decodes the body of a message of type `ty`, or `None` when the
    /// dialect has no such type.
    #[inline]
    pub(crate) fn decode_body(
        ty: u8,
        r: &mut Reader<'_>,
        d: Dialect,
    ) -> Option<(&'static str, Result<Message, Fault>)> {
        let (row, e) = lookup(d, ty)?;
        Some((e.name, decode_row(row, r, d)))
    }

    /// The trailing `data[count]` of a message that ends in one, which a
    /// vectored encode sends as its own segment.
    pub fn payload(&self) -> Option<&Bytes> {
        match self {
            Message::Rread(m) => Some(&m.data),
            Message::Twrite(m) => Some(&m.data),
            Message::Rlopenatread(m) => Some(&m.data),
            Message::Rreaddir(m) => Some(m.data.as_bytes()),
            Message::Rreaddirattr(m) => Some(m.data.as_bytes()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_by_name_not_number() {
        assert!(Message::from(z::Tgetlineage).is_request());
        assert!(!Message::from(z::Rgetlineage { token: 1, writer_epoch: 0 }).is_request());
        assert!(!Message::from(l::Rfsync).is_request());
        assert!(Message::from(base::Tclunk { fid: 1 }).is_request());
    }

    #[test]
    fn every_table_row_is_reachable_in_some_dialect() {
        for (row, e) in ENTRIES.iter().enumerate() {
            let reachable = Dialect::ALL
                .iter()
                .any(|&d| e.dialects.contains(d) && TABLES[d.index()][e.ty as usize] == row as u8);
            assert!(reachable, "{} ({}) is in no table", e.name, e.ty);
        }
    }

    #[test]
    fn private_numbers_exist_only_in_z() {
        for ty in 228..=255u8 {
            for d in [Dialect::Base, Dialect::U, Dialect::L] {
                assert_eq!(d.message_name(ty), None, "{ty} in {d}");
            }
        }
        assert_eq!(Dialect::Z.message_name(235), None);
        assert_eq!(Dialect::Z.message_name(232), Some("Tfsyncdur"));
    }
}
