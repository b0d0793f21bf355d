//! From [`ExportSpec`]s to served trees: passthrough directories,
//! in-memory trees, the embedded welcome tree, and the table that picks
//! a tree by Tattach's aname.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use ninefold_fs::memfs::MemFs;
use ninefold_fs::passthrough::{Passthrough, PassthroughError};
use ninefold_server::{Attacher, Errno, Node, Request};

use super::config::{ExportSpec, Settings, Source};

/// The README of the embedded tree. `{MOUNT}` is replaced with the
/// mount command for the first listener.
const WELCOME_README: &str = "\
This is ninefold, a 9P server, serving an in-memory tree.

Everything you see here lives in the server's memory: you can create,
edit, rename and delete files and directories, and it all disappears when
the server stops. Nothing on the server's disk is touched.

Try it from Linux (as root):

    {MOUNT}
    cat /mnt/README
    echo 'hi there' > /mnt/tmp/note.txt
    ls -l /mnt/tmp
    umount /mnt

Any 9P2000, 9P2000.u or 9P2000.L client works too: connect, send
Tversion, attach with an empty aname, and walk from there.

To export a directory of this machine instead, run

    ninefold serve /path/to/dir            (add --read-only to be safe)

and `ninefold serve --help` lists the other options (listening
addresses, several exports by aname, limits, metrics).
";

/// One export ready to serve.
#[derive(Clone, Debug)]
pub(crate) struct Export {
    /// Its root.
    pub(crate) root: Arc<dyn Node>,
    /// Whether changes are refused.
    pub(crate) read_only: bool,
    /// What it is, for the start-up message.
    pub(crate) label: String,
}

/// The trees of a server by aname. The empty aname (and, for a
/// directory default export, its path as diod users write it) reaches
/// the default export; an aname that names nothing is ENOENT.
#[derive(Debug, Default)]
pub(crate) struct ExportTable {
    named: HashMap<Bytes, Export>,
    default: Option<Export>,
    /// Names listed at start (not the path aliases).
    names: Vec<String>,
    /// The extra anames reaching the default export (a directory's path).
    default_aliases: Vec<Bytes>,
}

impl ExportTable {
    /// Builds every export of `settings`. `mount_hint` goes into the
    /// welcome README.
    pub(crate) fn build(settings: &Settings, mount_hint: &str) -> Result<ExportTable> {
        let mut table = ExportTable::default();
        if let Some(spec) = &settings.root {
            let (export, aliases) = build_one(spec, settings, mount_hint)
                .context("cannot set up the default export")?;
            for alias in aliases.into_iter().filter(|a| !a.is_empty()) {
                table.named.insert(alias.clone(), export.clone());
                table.default_aliases.push(alias);
            }
            table.default = Some(export);
        }
        for (name, spec) in &settings.exports {
            let (export, _) = build_one(spec, settings, mount_hint)
                .with_context(|| format!("cannot set up export {name:?}"))?;
            table.named.insert(Bytes::copy_from_slice(name.as_bytes()), export);
            table.names.push(name.clone());
        }
        Ok(table)
    }

    /// The export an aname reaches.
    pub(crate) fn lookup(&self, aname: &[u8]) -> Option<&Export> {
        if aname.is_empty() {
            return self.default.as_ref();
        }
        self.named.get(aname)
    }

    /// The default export.
    pub(crate) fn default_export(&self) -> Option<&Export> {
        self.default.as_ref()
    }

    /// The named exports, in name order, with what they are.
    pub(crate) fn named(&self) -> impl Iterator<Item = (&str, &Export)> {
        self.names.iter().filter_map(|n| self.named.get(n.as_bytes()).map(|e| (n.as_str(), e)))
    }

    /// Every aname an access grant may name: `""` for the default export,
    /// then the named exports.
    pub(crate) fn export_names(&self) -> Vec<String> {
        let default = self.default.as_ref().map(|_| String::new());
        default.into_iter().chain(self.names.iter().cloned()).collect()
    }

    /// The anames besides `""` that reach the default export.
    pub(crate) fn default_aliases(&self) -> &[Bytes] {
        &self.default_aliases
    }

    /// Whether any export refuses changes.
    pub(crate) fn any_read_only(&self) -> bool {
        self.default.iter().chain(self.named.values()).any(|e| e.read_only)
    }
}

/// Attaches by aname through a shared [`ExportTable`].
#[derive(Debug, Clone)]
pub(crate) struct TableAttacher(pub(crate) Arc<ExportTable>);

#[async_trait]
impl Attacher for TableAttacher {
    async fn attach(&self, req: &Request) -> ninefold_server::Result<Arc<dyn Node>> {
        match self.0.lookup(req.aname()) {
            Some(e) => Ok(e.root.clone()),
            None => {
                tracing::debug!(aname = %String::from_utf8_lossy(req.aname()), "attach to unknown aname");
                Err(Errno::ENOENT)
            }
        }
    }

    async fn roots(&self, _req: &Request) -> Vec<(Bytes, Arc<dyn Node>)> {
        let t = &self.0;
        let named = t.named().map(|(n, e)| (Bytes::copy_from_slice(n.as_bytes()), e.root.clone()));
        t.default_export()
            .map(|e| (Bytes::new(), e.root.clone()))
            .into_iter()
            .chain(named)
            .collect()
    }
}

/// An export and the extra anames that reach it.
fn build_one(
    spec: &ExportSpec,
    settings: &Settings,
    mount_hint: &str,
) -> Result<(Export, Vec<Bytes>)> {
    let ro = if spec.read_only { ", read-only" } else { "" };
    match &spec.source {
        Source::Welcome => {
            let root = welcome_tree(mount_hint)?;
            Ok((
                Export { root, read_only: spec.read_only, label: format!("in-memory tree{ro}") },
                Vec::new(),
            ))
        }
        Source::Memory => {
            let root = memory_tree()?;
            Ok((
                Export {
                    root,
                    read_only: spec.read_only,
                    label: format!("empty in-memory tree{ro}"),
                },
                Vec::new(),
            ))
        }
        Source::Dir(path) => {
            let p = directory(path, spec.read_only, settings)?;
            let aliases = p.attacher().anames().to_vec();
            let label = format!("directory {}{ro}", p.path().display());
            Ok((Export { root: p.root(), read_only: spec.read_only, label }, aliases))
        }
    }
}

/// A host directory through passthrough.
fn directory(path: &Path, read_only: bool, settings: &Settings) -> Result<Passthrough> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("directory {} does not exist", path.display())
        }
        Err(e) => anyhow::bail!("cannot access {}: {e}", path.display()),
        Ok(m) if !m.is_dir() => anyhow::bail!("{} is not a directory", path.display()),
        Ok(_) => {}
    }
    let mut builder =
        Passthrough::builder(path).read_only(read_only).id_map(settings.id_map.clone());
    if let Some(n) = settings.limits.descriptors_per_connection {
        builder = builder.descriptors_per_connection(n);
    }
    builder.build().map_err(|e| match e {
        PassthroughError::Root { path, source } => {
            anyhow::anyhow!("cannot open {}: {source}", path.display())
        }
        other => anyhow::Error::new(other),
    })
}

/// The embedded default tree: a README, a hello file and a sticky,
/// world-writable `tmp`, in a root anyone may write to.
pub(crate) fn welcome_tree(mount_hint: &str) -> Result<Arc<dyn Node>> {
    let readme = WELCOME_README.replace("{MOUNT}", mount_hint);
    let fs = MemFs::builder()
        .root_mode(0o1777)
        .file_mode("README", readme, 0o644)
        .file_mode("hello.txt", "Hello from ninefold! This file is writable.\n", 0o666)
        .dir_mode("tmp", 0o1777)
        .build()
        .context("cannot build the in-memory tree")?;
    Ok(fs.root())
}

/// An empty in-memory tree anyone may write to.
fn memory_tree() -> Result<Arc<dyn Node>> {
    let fs =
        MemFs::builder().root_mode(0o1777).build().context("cannot build the in-memory tree")?;
    Ok(fs.root())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn settings(root: Option<Source>, exports: &[(&str, Source)]) -> Settings {
        let mut s =
            super::super::config::Settings::merge(&Default::default(), Default::default()).unwrap();
        s.root = root.map(|source| ExportSpec { source, read_only: false });
        s.exports = exports
            .iter()
            .map(|(n, source)| {
                (n.to_string(), ExportSpec { source: source.clone(), read_only: true })
            })
            .collect::<BTreeMap<_, _>>();
        s
    }

    #[tokio::test]
    async fn anames_pick_trees() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(
            Some(Source::Welcome),
            &[("scratch", Source::Memory), ("d", Source::Dir(dir.path().into()))],
        );
        let t = ExportTable::build(&s, "mount ...").unwrap();
        assert!(t.lookup(b"").is_some_and(|e| !e.read_only && e.label.contains("in-memory")));
        assert!(t.lookup(b"scratch").is_some_and(|e| e.read_only));
        assert!(t.lookup(b"d").is_some_and(|e| e.label.contains("directory")));
        assert!(t.lookup(b"nope").is_none());
        assert!(t.any_read_only());
        assert_eq!(t.named().map(|(n, _)| n).collect::<Vec<_>>(), ["d", "scratch"]);
    }

    #[tokio::test]
    async fn directory_default_is_reachable_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let t =
            ExportTable::build(&settings(Some(Source::Dir(dir.path().into())), &[]), "").unwrap();
        let path = dir.path().to_str().unwrap().as_bytes();
        assert!(t.lookup(path).is_some());
        assert!(t.lookup(b"").is_some());
        assert!(!t.any_read_only());
    }

    #[tokio::test]
    async fn missing_directory_is_a_clear_error() {
        let s = settings(Some(Source::Dir("/nonexistent/ninefold-test".into())), &[]);
        let e = format!("{:#}", ExportTable::build(&s, "").unwrap_err());
        assert!(e.contains("/nonexistent/ninefold-test does not exist"), "{e}");
        let file = tempfile::NamedTempFile::new().unwrap();
        let s = settings(None, &[("f", Source::Dir(file.path().into()))]);
        let e = format!("{:#}", ExportTable::build(&s, "").unwrap_err());
        assert!(e.contains("is not a directory") && e.contains("\"f\""), "{e}");
    }
}
