//! [`MessageFacts`]: what each message *is*, declared once on its row of
//! the message table (`message.rs`): which fields are fids and in which
//! role, whether it changes the tree, whether it carries the 9P2000.L.Z
//! envelope, whether a Tflush may interrupt it. Servers, middleware and
//! clients read these instead of keeping their own `match` tables.

use crate::dialect::DialectSet;
use crate::{Dialect, Message, OpenFlags, OpenMode};

/// The role a fid field plays in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FidRole {
    /// The fid the request acts on: an existing fid (for Tlink the
    /// directory, for Trenameat the old directory).
    Fid,
    /// A second existing fid (Tlink's file, Trename's and Trenameat's new
    /// directory).
    Fid2,
    /// A fid the request creates (Tattach, Twalk, Txattrwalk, Tlopenat ...):
    /// unused before, bound only on success.
    Newfid,
    /// An authentication fid (Tauth creates one, Tattach names one).
    Afid,
}

/// Whether a request can change the served tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mutation {
    /// Never (reads, walks, clunks, replies).
    No,
    /// Always (creates, writes, renames, removes, setattr ...).
    Yes,
    /// An open: it mutates when its flags ask for write access, truncation,
    /// append or creation (see [`Message::mutates`]).
    ByOpenFlags,
}

/// The facts of one message type, from its row of the message table.
///
/// ```
/// use ninefold_proto::{Dialect, FidRole, Mutation};
///
/// let walk = Dialect::L.message_facts(110).unwrap();
/// assert_eq!(walk.name(), "Twalk");
/// assert!(walk.is_interruptible());
/// assert_eq!(walk.fid_fields(), &[(FidRole::Fid, "fid"), (FidRole::Newfid, "newfid")]);
///
/// let mkdir = Dialect::Z.message_facts(72).unwrap();
/// assert_eq!(mkdir.mutation(), Mutation::Yes);
/// assert!(mkdir.has_envelope());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFacts {
    pub(crate) ty: u8,
    pub(crate) name: &'static str,
    pub(crate) dialects: DialectSet,
    mutation: Mutation,
    envelope: bool,
    interruptible: bool,
    ends_fid: bool,
    fid_fields: &'static [(FidRole, &'static str)],
}

impl MessageFacts {
    /// A row with no facts set: not a mutation, no envelope, not
    /// interruptible, no fids. The table adds facts with the builder
    /// methods below.
    pub(crate) const fn new(
        ty: u8,
        name: &'static str,
        dialects: DialectSet,
        fid_fields: &'static [(FidRole, &'static str)],
    ) -> MessageFacts {
        MessageFacts {
            ty,
            name,
            dialects,
            mutation: Mutation::No,
            envelope: false,
            interruptible: false,
            ends_fid: false,
            fid_fields,
        }
    }

    // ---- builders used by the table (one per fact word) ---------------

    pub(crate) const fn mutates(mut self) -> Self {
        self.mutation = Mutation::Yes;
        self
    }

    pub(crate) const fn mutates_by_open_flags(mut self) -> Self {
        self.mutation = Mutation::ByOpenFlags;
        self
    }

    pub(crate) const fn envelope(mut self) -> Self {
        self.envelope = true;
        self
    }

    pub(crate) const fn interruptible(mut self) -> Self {
        self.interruptible = true;
        self
    }

    pub(crate) const fn unbinds_fid(mut self) -> Self {
        self.ends_fid = true;
        self
    }

    // ---- the facts ---------------------------------------------------

    /// The type number on the wire.
    pub const fn msg_type(&self) -> u8 {
        self.ty
    }

    /// The message name, as in the protocol (`"Tlopen"`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether this is a request (a T-message).
    pub const fn is_request(&self) -> bool {
        self.name.as_bytes()[0] == b'T'
    }

    /// Whether the message exists in `dialect`.
    pub const fn is_in(&self, dialect: Dialect) -> bool {
        self.dialects.contains(dialect)
    }

    /// Whether the request can change the served tree.
    pub const fn mutation(&self) -> Mutation {
        self.mutation
    }

    /// Whether the request carries the 25-byte mutation envelope when it
    /// travels in 9P2000.L.Z (the 17 covered types; never in other
    /// dialects, see [`Dialect::has_envelope`]).
    pub const fn has_envelope(&self) -> bool {
        self.envelope
    }

    /// Whether a Tflush may abandon the request mid-way. Requests that
    /// are not interruptible (creates, renames, opens ...) run to
    /// completion and send their real reply before the Rflush.
    pub const fn is_interruptible(&self) -> bool {
        self.interruptible
    }

    /// Whether the request ends its fid (Tclunk, Tremove): the fid number
    /// is free again as soon as the request arrives.
    pub const fn ends_fid(&self) -> bool {
        self.ends_fid
    }

    /// Every fid field of the request, with its role and field name.
    pub const fn fid_fields(&self) -> &'static [(FidRole, &'static str)] {
        self.fid_fields
    }

    /// Every row of the message table, in table order.
    pub fn all() -> impl Iterator<Item = &'static MessageFacts> {
        crate::message::ENTRIES.iter()
    }
}

/// The fid numbers a request names, by role (see [`Message::fids`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Fids {
    /// [`FidRole::Fid`].
    pub fid: Option<u32>,
    /// [`FidRole::Fid2`].
    pub fid2: Option<u32>,
    /// [`FidRole::Newfid`].
    pub newfid: Option<u32>,
    /// [`FidRole::Afid`].
    pub afid: Option<u32>,
}

impl Fids {
    pub(crate) fn set(&mut self, role: FidRole, fid: u32) {
        match role {
            FidRole::Fid => self.fid = Some(fid),
            FidRole::Fid2 => self.fid2 = Some(fid),
            FidRole::Newfid => self.newfid = Some(fid),
            FidRole::Afid => self.afid = Some(fid),
        }
    }

    /// The fid a request is "about": its fid, else its new fid.
    pub fn primary(&self) -> Option<u32> {
        self.fid.or(self.newfid)
    }
}

impl Message {
    /// Whether this request can change the served tree: its type's
    /// [`Mutation`], with opens judged by their flags (write access,
    /// truncation, append, creation or 9P2000 remove-on-close mutate).
    ///
    /// ```
    /// use ninefold_proto::{base, l, Message, OpenFlags};
    ///
    /// assert!(!Message::from(l::Tlopen { fid: 1, flags: OpenFlags::RDONLY }).mutates());
    /// assert!(Message::from(l::Tlopen { fid: 1, flags: OpenFlags::RDWR }).mutates());
    /// assert!(!Message::from(base::Tclunk { fid: 1 }).mutates());
    /// ```
    pub fn mutates(&self) -> bool {
        match self.facts().mutation {
            Mutation::No => false,
            Mutation::Yes => true,
            Mutation::ByOpenFlags => match self {
                Message::Tlopen(o) => open_writes(o.flags),
                Message::Tlopenat(o) => open_writes(o.flags),
                Message::Tlopenatread(o) => open_writes(o.flags),
                Message::Topen(o) => {
                    let access = o.mode.access();
                    access == OpenMode::WRITE
                        || access == OpenMode::RDWR
                        || o.mode.intersects(OpenMode::TRUNC | OpenMode::RCLOSE | OpenMode::APPEND)
                }
                // A new open message without a rule here: assume it writes.
                _ => true,
            },
        }
    }
}

/// Whether a .L open asks for write access, truncation, append or creation.
fn open_writes(flags: OpenFlags) -> bool {
    flags.access_mode().can_write()
        || flags.intersects(OpenFlags::TRUNC | OpenFlags::APPEND | OpenFlags::CREATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{base, l, AccessMode};

    /// Section 4.2 of the ZeroFS dialect reference: the request types that
    /// carry the envelope in 9P2000.L.Z.
    const REFERENCE_ENVELOPE_TYPES: [u8; 17] =
        [14, 16, 18, 20, 26, 70, 72, 74, 76, 118, 228, 238, 240, 242, 244, 246, 248];

    #[test]
    fn the_envelope_set_is_the_reference_list() {
        let declared: Vec<u8> = Dialect::Z
            .message_types()
            .filter(|&ty| Dialect::Z.message_facts(ty).is_some_and(|f| f.has_envelope()))
            .collect();
        assert_eq!(declared, REFERENCE_ENVELOPE_TYPES);
        for ty in 0..=u8::MAX {
            let expected = REFERENCE_ENVELOPE_TYPES.contains(&ty);
            assert_eq!(Dialect::Z.has_envelope(ty), expected, "type {ty} in .Z");
            for d in [Dialect::Base, Dialect::U, Dialect::L] {
                assert!(!d.has_envelope(ty), "type {ty} in {d}");
            }
        }
    }

    #[test]
    fn facts_sit_only_on_requests() {
        for f in MessageFacts::all() {
            if !f.is_request() {
                assert_eq!(f.mutation(), Mutation::No, "{}", f.name());
                assert!(
                    !f.has_envelope() && !f.is_interruptible() && !f.ends_fid(),
                    "{}",
                    f.name()
                );
                assert!(f.fid_fields().is_empty(), "{}", f.name());
            }
            if f.has_envelope() {
                assert_eq!(
                    f.mutation(),
                    Mutation::Yes,
                    "{}: only mutations are enveloped",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn clunk_and_remove_end_their_fid() {
        let ending: Vec<&str> =
            MessageFacts::all().filter(|f| f.ends_fid()).map(|f| f.name()).collect();
        assert_eq!(ending, ["Tclunk", "Tremove"]);
    }

    #[test]
    fn fids_are_read_from_the_declared_fields() {
        let link = Message::from(l::Tlink { dfid: 3, fid: 4, name: "n".into() });
        assert_eq!(link.fids(), Fids { fid: Some(3), fid2: Some(4), ..Fids::default() });
        let walk = Message::from(base::Twalk { fid: 1, newfid: 2, wnames: vec![] });
        assert_eq!(walk.fids().primary(), Some(1));
        let attach = Message::from(base::Tattach {
            fid: 9,
            afid: crate::NOFID,
            uname: "".into(),
            aname: "".into(),
            n_uname: 0,
        });
        assert_eq!(attach.fids().newfid, Some(9));
        assert_eq!(attach.fids().primary(), Some(9));
        assert_eq!(Message::from(base::Tflush { oldtag: 1 }).fids(), Fids::default());
    }

    #[test]
    fn opens_mutate_by_their_flags() {
        let lopen = |flags| Message::Tlopen(l::Tlopen { fid: 1, flags });
        assert!(!lopen(OpenFlags::RDONLY).mutates());
        assert!(!lopen(OpenFlags::DIRECTORY | OpenFlags::NOFOLLOW).mutates());
        assert!(lopen(OpenFlags::RDONLY.with_access_mode(AccessMode::WriteOnly)).mutates());
        assert!(lopen(OpenFlags::RDWR).mutates());
        assert!(lopen(OpenFlags::TRUNC).mutates());
        let open = |mode| Message::Topen(base::Topen { fid: 1, mode });
        assert!(!open(OpenMode::READ).mutates());
        assert!(!open(OpenMode::EXEC).mutates());
        assert!(open(OpenMode::RDWR).mutates());
        assert!(open(OpenMode::READ | OpenMode::TRUNC).mutates());
        assert!(
            Message::Twrite(base::Twrite { fid: 1, offset: 0, data: Default::default() }).mutates()
        );
        assert!(!Message::Tread(base::Tread { fid: 1, offset: 0, count: 1 }).mutates());
    }

    /// The names of the fields of `debug` (a `{:?}` rendering) that end in
    /// `fid`, outside string literals.
    #[cfg(feature = "proptest")]
    fn fid_field_names(debug: &str) -> Vec<String> {
        let mut plain = String::new();
        let mut in_str = false;
        let mut escaped = false;
        for c in debug.chars() {
            if in_str {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => escaped = false,
                }
            } else if c == '"' {
                in_str = true;
            } else {
                plain.push(c);
            }
        }
        plain
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .filter_map(|w| w.strip_suffix(':'))
            .filter(|w| w.ends_with("fid"))
            .map(str::to_owned)
            .collect()
    }

    /// Every field of every request whose name ends in `fid` is declared
    /// on the request's table row, and every declared field exists.
    #[cfg(feature = "proptest")]
    #[test]
    fn every_fid_field_is_declared() {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;

        let mut runner = TestRunner::deterministic();
        let strategies = Message::strategies();
        assert_eq!(strategies.len(), crate::message::ENTRIES.len());
        for (_, strategy) in strategies {
            let m = strategy.new_tree(&mut runner).expect("a value").current();
            let facts = m.facts();
            let mut found = fid_field_names(&format!("{m:?}"));
            found.sort();
            let mut declared: Vec<String> =
                facts.fid_fields().iter().map(|(_, f)| (*f).to_owned()).collect();
            declared.sort();
            assert_eq!(found, declared, "fid fields of {}", facts.name());
        }
    }
}
