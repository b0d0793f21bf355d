//! [`PassthroughAttacher`]: the anames that reach the export root.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ninefold_proto::Errno;
use ninefold_server::{Attacher, Node, Request, Result};

use super::node::Shared;

/// Attaches to a passthrough export's root for the empty aname (the
/// Linux client's default) and for the export path, as configured or
/// canonical, with or without a trailing `/`. Any other aname is ENOENT.
///
/// Built by [`Passthrough::attacher`](super::Passthrough::attacher).
#[derive(Clone, Debug)]
pub struct PassthroughAttacher {
    anames: Vec<Bytes>,
    root: Arc<dyn Node>,
}

/// `path` with and without trailing slashes.
fn spellings(path: &Path, out: &mut Vec<Bytes>) {
    let raw = path.as_os_str().as_bytes();
    let trimmed = match raw.iter().rposition(|&b| b != b'/') {
        Some(last) => &raw[..=last],
        None => &raw[..raw.len().min(1)],
    };
    for spelling in [trimmed.to_vec(), [trimmed, b"/"].concat()] {
        let spelling = Bytes::from(spelling);
        if !out.contains(&spelling) {
            out.push(spelling);
        }
    }
}

impl PassthroughAttacher {
    pub(crate) fn new(shared: Arc<Shared>, root: Arc<dyn Node>) -> PassthroughAttacher {
        let mut anames = vec![Bytes::new()];
        spellings(&shared.root_path, &mut anames);
        if let Some(canonical) = &shared.canonical {
            spellings(canonical, &mut anames);
        }
        PassthroughAttacher { anames, root }
    }

    /// The anames this attacher accepts.
    pub fn anames(&self) -> &[Bytes] {
        &self.anames
    }
}

#[async_trait]
impl Attacher for PassthroughAttacher {
    async fn attach(&self, req: &Request) -> Result<Arc<dyn Node>> {
        if self.anames.iter().any(|a| a.as_ref() == req.aname()) {
            Ok(self.root.clone())
        } else {
            Err(Errno::ENOENT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_with_and_without_slash() {
        let mut out = Vec::new();
        spellings(Path::new("/srv/share/"), &mut out);
        assert_eq!(
            out,
            vec![Bytes::from_static(b"/srv/share"), Bytes::from_static(b"/srv/share/")]
        );
        let mut root = Vec::new();
        spellings(Path::new("/"), &mut root);
        assert_eq!(root, vec![Bytes::from_static(b"/"), Bytes::from_static(b"//")]);
    }
}
