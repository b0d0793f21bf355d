//! Attaching: from Tattach's aname to a root node.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::Errno;

use super::{Node, Request, Result};

/// Chooses the root node for a Tattach. [`Request::aname`] and
/// [`Request::identity`] say what was asked and by whom.
///
/// Implemented by `Arc<dyn Node>` (one tree, attached with the empty
/// aname or `/`) and [`Exports`] (a tree per aname). Implement it to
/// authorise users or build trees on demand.
#[async_trait]
pub trait Attacher: Send + Sync + 'static {
    /// The root for this attach, or an errno (ENOENT for an unknown
    /// aname, EACCES/EPERM for a refused user).
    async fn attach(&self, req: &Request) -> Result<Arc<dyn Node>>;

    /// The export roots, with the aname that attaches each (9P2000.L.Z
    /// Trebind names its attach root by `qid.path` only, so the server
    /// looks for it among these). The default is the tree the empty
    /// aname attaches, if any.
    async fn roots(&self, req: &Request) -> Vec<(Bytes, Arc<dyn Node>)> {
        let mut empty = req.clone();
        empty.aname = Bytes::new();
        match self.attach(&empty).await {
            Ok(root) => vec![(Bytes::new(), root)],
            Err(_) => Vec::new(),
        }
    }
}

/// A single tree answers the aname the Linux client sends by default
/// (empty) and `/`; any other aname is unknown (ENOENT), so a mistyped
/// `aname=` fails the mount instead of silently serving something else.
#[async_trait]
impl Attacher for Arc<dyn Node> {
    async fn attach(&self, req: &Request) -> Result<Arc<dyn Node>> {
        match req.aname() {
            b"" | b"/" => Ok(self.clone()),
            _ => Err(Errno::ENOENT),
        }
    }
}

/// Several trees served by one server, chosen by aname (vhost style).
///
/// An attach whose aname names no export gets ENOENT, unless a default
/// is set, which also serves the empty aname the Linux client sends when
/// the mount has no `aname=` option.
///
/// ```
/// # use async_trait::async_trait;
/// # use ninefold_proto::Qid;
/// # use ninefold_server::{Exports, Node};
/// # use std::sync::Arc;
/// # #[derive(Debug)] struct Tree;
/// # #[async_trait] impl Node for Tree { fn qid(&self) -> Qid { Qid::default() } }
/// let home: Arc<dyn Node> = Arc::new(Tree);
/// let scratch: Arc<dyn Node> = Arc::new(Tree);
/// let exports = Exports::new()
///     .export("home", home.clone())
///     .export("scratch", scratch)
///     .default_root(home);
/// assert_eq!(exports.len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Exports {
    map: HashMap<Bytes, Arc<dyn Node>>,
    default: Option<Arc<dyn Node>>,
}

impl Exports {
    /// No exports yet.
    pub fn new() -> Exports {
        Exports::default()
    }

    /// Adds (or replaces) the tree served for `aname`.
    #[must_use]
    pub fn export(mut self, aname: impl Into<Bytes>, root: Arc<dyn Node>) -> Exports {
        self.map.insert(aname.into(), root);
        self
    }

    /// The tree served for the empty aname and any aname not exported.
    #[must_use]
    pub fn default_root(mut self, root: Arc<dyn Node>) -> Exports {
        self.default = Some(root);
        self
    }

    /// The number of named exports.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no named exports.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The root for `aname`, if any.
    pub fn get(&self, aname: &[u8]) -> Option<&Arc<dyn Node>> {
        self.map.get(aname).or(self.default.as_ref())
    }
}

#[async_trait]
impl Attacher for Exports {
    async fn attach(&self, req: &Request) -> Result<Arc<dyn Node>> {
        self.get(req.aname()).cloned().ok_or(Errno::ENOENT)
    }

    async fn roots(&self, _req: &Request) -> Vec<(Bytes, Arc<dyn Node>)> {
        let mut roots: Vec<_> = self.map.iter().map(|(a, n)| (a.clone(), n.clone())).collect();
        if let Some(d) = &self.default {
            roots.push((Bytes::new(), d.clone()));
        }
        roots
    }
}
