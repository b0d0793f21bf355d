//! Listing directories and walking remote trees without recursion (a
//! server decides how deep a tree is): an explicit stack, symlinks never
//! followed, at most [`MAX_DEPTH`] levels.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use ninefold_client::{Client, Error, FileType, Metadata};

use super::Failure;

/// Deepest tree walked; below it a walk fails instead of growing.
pub(crate) const MAX_DEPTH: usize = 4096;

/// Metadata requests in flight while listing (plain 9P2000.L has no
/// readdirplus, so `ls -l` costs one walk + getattr per entry).
const META_CONCURRENCY: usize = 32;

/// One directory entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The name, lossy UTF-8 (for display).
    pub(crate) name: String,
    /// The exact name.
    pub(crate) name_bytes: Bytes,
    /// Type from the listing, or from the metadata when the server sent
    /// `DT_UNKNOWN`.
    pub(crate) ty: FileType,
    /// Present when asked for.
    pub(crate) meta: Option<Metadata>,
}

/// A remote path below `dir`.
pub(crate) fn child(dir: &Path, name: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(name))
}

/// The entries of `dir`, sorted by name, with metadata when `meta` (or
/// when the listing does not say an entry's type).
pub(crate) async fn list(client: &Client, dir: &Path, meta: bool) -> Result<Vec<Entry>, Error> {
    let d = client.open_dir(dir).await?;
    let mut raw = Vec::new();
    loop {
        let batch = d.next_batch(None).await?;
        if batch.is_empty() {
            break;
        }
        raw.extend(batch);
    }
    raw.sort_by(|a, b| a.name_bytes.cmp(&b.name_bytes));
    let d = &d;
    stream::iter(raw)
        .map(|e| async move {
            let m = if meta || e.file_type == FileType::Unknown {
                match d.metadata_at(&e.name_bytes).await {
                    Ok(m) => Some(m),
                    // Removed between the listing and the stat.
                    Err(Error::NotFound) => return Ok(None),
                    Err(err) => return Err(err),
                }
            } else {
                None
            };
            let ty = m.map_or(e.file_type, |m| m.file_type);
            Ok(Some(Entry { name: e.name, name_bytes: e.name_bytes, ty, meta: m }))
        })
        .buffered(META_CONCURRENCY)
        .try_filter_map(|e| async move { Ok(e) })
        .try_collect()
        .await
}

/// A step of a depth-first walk.
#[derive(Debug)]
pub(crate) enum Event {
    /// An entry, before its children (pre-order).
    Enter(Item),
    /// A directory's children are done (post-order).
    Exit(PathBuf),
}

/// One object met by a walk.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Remote path.
    pub(crate) path: PathBuf,
    /// Path relative to the walk's root (empty for the root).
    pub(crate) rel: PathBuf,
    /// Root is 0.
    pub(crate) depth: usize,
    /// Type (symlinks are not followed).
    pub(crate) ty: FileType,
    /// Metadata, when asked for (always for the root).
    pub(crate) meta: Option<Metadata>,
    /// Whether it is the last of its siblings (for `tree`).
    pub(crate) last: bool,
}

/// What to walk and how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WalkOpts {
    /// Fetch every entry's metadata.
    pub(crate) meta: bool,
    /// Skip names starting with `.`.
    pub(crate) skip_hidden: bool,
    /// Descend at most this deep (the root's children are depth 1).
    pub(crate) max_depth: Option<usize>,
}

/// Walks the tree at `root` (whose metadata is `root_meta`). Directories
/// that cannot be listed are reported in the second result and skipped.
pub(crate) async fn walk(
    client: &Client,
    root: &Path,
    root_meta: Metadata,
    opts: WalkOpts,
) -> (Vec<Event>, Vec<Failure>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    enum Todo {
        Visit(Item),
        Exit(PathBuf),
    }
    let mut stack = vec![Todo::Visit(Item {
        path: root.to_path_buf(),
        rel: PathBuf::new(),
        depth: 0,
        ty: root_meta.file_type,
        meta: Some(root_meta),
        last: true,
    })];
    while let Some(t) = stack.pop() {
        let item = match t {
            Todo::Exit(p) => {
                events.push(Event::Exit(p));
                continue;
            }
            Todo::Visit(item) => item,
        };
        let descend = item.ty == FileType::Dir && opts.max_depth.is_none_or(|m| item.depth < m);
        let (path, rel, depth) = (item.path.clone(), item.rel.clone(), item.depth);
        events.push(Event::Enter(item));
        if !descend {
            continue;
        }
        stack.push(Todo::Exit(path.clone()));
        if depth >= MAX_DEPTH {
            errors.push(Failure::At {
                what: path.display().to_string(),
                msg: format!("tree deeper than {MAX_DEPTH} levels; not descending"),
            });
            continue;
        }
        let entries = match list(client, &path, opts.meta).await {
            Ok(e) => e,
            Err(e) => {
                errors.push(Failure::at(path.display(), &e));
                continue;
            }
        };
        let entries: Vec<_> = entries
            .into_iter()
            .filter(|e| !(opts.skip_hidden && e.name_bytes.first() == Some(&b'.')))
            .collect();
        let n = entries.len();
        for (i, e) in entries.into_iter().enumerate().rev() {
            stack.push(Todo::Visit(Item {
                path: child(&path, &e.name_bytes),
                rel: child(&rel, &e.name_bytes),
                depth: depth + 1,
                ty: e.ty,
                meta: e.meta,
                last: i + 1 == n,
            }));
        }
    }
    (events, errors)
}
