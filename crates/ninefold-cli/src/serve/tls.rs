//! TLS for `ninefold serve`: the `--tls-*` flags, the `[tls]` table of the
//! config file, the merged [`TlsSettings`], and the acceptor reloaded on
//! SIGHUP (docs/TLS.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use ninefold_server::tls::{TlsAcceptor, TlsFiles, DEFAULT_HANDSHAKE_TIMEOUT};
use serde::Deserialize;

use super::config::parse_duration;
use super::listen::ListenAddr;

/// The TLS flags of `ninefold serve` (each overrides its key of `[tls]`).
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "TLS (for tls://HOST:PORT listeners)")]
pub(crate) struct TlsArgs {
    /// Certificate chain (PEM, leaf first) of tls:// listeners.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,

    /// CA certificates (PEM) of client certificates: clients are asked for
    /// one, and a verified certificate names the connection's principal.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_client_ca: Option<PathBuf>,

    /// Refuse clients without a certificate signed by --tls-client-ca.
    #[arg(long)]
    pub(crate) tls_require_client_cert: bool,
}

/// `[tls]` in the config file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileTls {
    /// Certificate chain file.
    pub(crate) cert: Option<PathBuf>,
    /// Private key file.
    pub(crate) key: Option<PathBuf>,
    /// Client CA file.
    pub(crate) client_ca: Option<PathBuf>,
    /// Refuse clients without a certificate.
    pub(crate) require_client_cert: Option<bool>,
    /// `"10s"`: bound on a handshake.
    pub(crate) handshake_timeout: Option<String>,
}

/// TLS settings, merged and checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TlsSettings {
    /// The files, re-read on SIGHUP.
    pub(crate) files: TlsFiles,
    /// Bound on one handshake.
    pub(crate) handshake_timeout: Duration,
}

impl TlsSettings {
    /// Merges the flags over `[tls]`; `None` when nothing listens on
    /// tls:// (and then no TLS setting may be given).
    pub(crate) fn merge(
        args: &TlsArgs,
        file: Option<FileTls>,
        listen: &[ListenAddr],
    ) -> Result<Option<TlsSettings>> {
        let file = file.unwrap_or_default();
        let cert = args.tls_cert.clone().or(file.cert);
        let key = args.tls_key.clone().or(file.key);
        let client_ca = args.tls_client_ca.clone().or(file.client_ca);
        let require = args.tls_require_client_cert || file.require_client_cert.unwrap_or(false);
        let handshake_timeout = match file.handshake_timeout.as_deref() {
            Some(t) => parse_duration(t)
                .with_context(|| format!("invalid [tls] handshake_timeout {t:?}"))?
                .context("[tls] handshake_timeout cannot be off")?,
            None => DEFAULT_HANDSHAKE_TIMEOUT,
        };
        let any_tls = listen.iter().any(|l| matches!(l, ListenAddr::Tls { .. }));
        if !any_tls {
            if cert.is_some() || key.is_some() || client_ca.is_some() || require {
                bail!("TLS settings given, but no tls://HOST:PORT listener (add --listen tls://HOST:PORT)");
            }
            return Ok(None);
        }
        let (Some(cert), Some(key)) = (cert, key) else {
            bail!("a tls:// listener needs a certificate and its key (--tls-cert FILE --tls-key FILE, or cert/key in [tls])");
        };
        if require && client_ca.is_none() {
            bail!("--tls-require-client-cert needs --tls-client-ca FILE (the CA that signs client certificates)");
        }
        let mut files = TlsFiles::new(cert, key).require_client_cert(require);
        if let Some(ca) = client_ca {
            files = files.client_ca(ca);
        }
        Ok(Some(TlsSettings { files, handshake_timeout }))
    }

    /// Loads the material; errors name the file and what is wrong.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor> {
        let acceptor = TlsAcceptor::from_files(self.files.clone())
            .context("cannot load the TLS certificate")?;
        Ok(acceptor.handshake_timeout(self.handshake_timeout))
    }
}

/// Re-reads the TLS files (SIGHUP): new handshakes use the new material,
/// open connections keep theirs, and a failed reload keeps the old one.
pub(crate) fn reload(acceptor: Option<&Arc<TlsAcceptor>>) {
    let Some(a) = acceptor else {
        tracing::info!("SIGHUP received: no TLS listener, nothing to reload");
        return;
    };
    match a.reload() {
        Ok(()) => tracing::info!(
            cert = %a.files().map(|f| f.cert.display().to_string()).unwrap_or_default(),
            "SIGHUP received: TLS certificate, key and client CA reloaded"
        ),
        Err(e) => tracing::error!(
            error = %e,
            "SIGHUP received: TLS reload failed, keeping the certificate in use"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_listen() -> Vec<ListenAddr> {
        vec!["tls://127.0.0.1:5564".parse().unwrap()]
    }

    #[test]
    fn flags_override_the_file() {
        let args = TlsArgs { tls_cert: Some("/a.pem".into()), ..TlsArgs::default() };
        let file = FileTls {
            cert: Some("/file.pem".into()),
            key: Some("/file.key".into()),
            client_ca: Some("/ca.pem".into()),
            require_client_cert: Some(true),
            handshake_timeout: Some("3s".into()),
        };
        let s = TlsSettings::merge(&args, Some(file), &tls_listen()).unwrap().unwrap();
        assert_eq!(
            s.files,
            TlsFiles::new("/a.pem", "/file.key").client_ca("/ca.pem").require_client_cert(true)
        );
        assert_eq!(s.handshake_timeout, Duration::from_secs(3));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let e = |args: TlsArgs, listen: &[ListenAddr]| {
            TlsSettings::merge(&args, None, listen).unwrap_err().to_string()
        };
        let tcp = vec!["tcp://127.0.0.1:1".parse().unwrap()];
        let cert =
            TlsArgs { tls_cert: Some("c".into()), tls_key: Some("k".into()), ..TlsArgs::default() };
        assert!(e(cert.clone(), &tcp).contains("no tls://"));
        assert!(e(TlsArgs::default(), &tls_listen()).contains("--tls-cert"));
        let req = TlsArgs { tls_require_client_cert: true, ..cert.clone() };
        assert!(e(req, &tls_listen()).contains("--tls-client-ca"));
        assert_eq!(TlsSettings::merge(&TlsArgs::default(), None, &tcp).unwrap(), None);
        let file = FileTls { handshake_timeout: Some("off".into()), ..FileTls::default() };
        assert!(TlsSettings::merge(&cert, Some(file), &tls_listen()).is_err());
    }
}
