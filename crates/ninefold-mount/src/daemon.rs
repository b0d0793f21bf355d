//! Running a mount: foreground or as a background daemon, clean unmount
//! on SIGINT/SIGTERM/SIGHUP, and the `mount.ninefold` helper's
//! command line.
//!
//! Background mode re-runs the same executable with the same arguments
//! and [`CHILD_ENV`] set: the child starts a new session (setsid), mounts,
//! and prints `ready` (or `error: ...`) on a pipe the parent reads; the
//! parent exits with the outcome, so `mount -t ninefold` and fstab see a
//! mount that is already there, or the reason it is not.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fuser::{Config, MountOption, SessionACL};
use ninefold_client::GetattrMask;

use crate::core::Core;
use crate::fs::NinefoldFs;
use crate::remote::Remote;
use crate::{MountError, MountOptions};

/// Set in the environment of the background daemon's process.
pub const CHILD_ENV: &str = "NINEFOLD_MOUNT_DAEMON";

/// How long queued writes may take to drain at unmount.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the first connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Mounts `target` on `mountpoint`. In the foreground this returns when
/// the file system is unmounted (by `umount`/`fusermount3 -u`, or after
/// SIGINT/SIGTERM/SIGHUP, which unmount it); otherwise it returns once the
/// background daemon has mounted it.
pub fn mount(target: &str, mountpoint: &Path, opts: MountOptions) -> Result<(), MountError> {
    let child = std::env::var_os(CHILD_ENV).is_some();
    if !opts.foreground && !child {
        return background(&opts);
    }
    if child {
        // Leave the caller's session: no SIGHUP when its terminal closes.
        let _ = rustix::process::setsid();
    }
    init_logging(&opts);
    let r = foreground(target, mountpoint, opts, child);
    if let Err(e) = &r {
        if child {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "error: {e}");
            let _ = out.flush();
        }
    }
    r
}

fn init_logging(opts: &MountOptions) {
    let filter = opts.log.clone().unwrap_or_else(|| "warn".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Starts the daemon and waits for its verdict.
fn background(opts: &MountOptions) -> Result<(), MountError> {
    let exe = std::env::current_exe()
        .map_err(|e| MountError::Daemon(format!("cannot find own executable: {e}")))?;
    let stderr = match &opts.logfile {
        Some(p) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| MountError::Daemon(format!("cannot open log file {p}: {e}")))?,
        ),
        None => Stdio::null(),
    };
    let mut cmd = Command::new(exe);
    // Keep argv[0]: `mount.ninefold` (a symlink) must stay the helper.
    if let Some(arg0) = std::env::args_os().next() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, arg0);
    }
    let mut child = cmd
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| MountError::Daemon(format!("cannot start the mount daemon: {e}")))?;
    let Some(out) = child.stdout.take() else {
        return Err(MountError::Daemon("mount daemon has no status pipe".into()));
    };
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        if line == "ready" {
            return Ok(());
        }
        if let Some(msg) = line.strip_prefix("error: ") {
            let _ = child.wait();
            return Err(MountError::Daemon(msg.to_owned()));
        }
    }
    let status = child.wait().map_err(|e| MountError::Daemon(e.to_string()))?;
    Err(MountError::Daemon(format!("mount daemon exited ({status}) before mounting")))
}

fn foreground(
    target: &str,
    mountpoint: &Path,
    opts: MountOptions,
    notify: bool,
) -> Result<(), MountError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads.max(2))
        .enable_all()
        .thread_name("ninefold-mount")
        .build()
        .map_err(|e| MountError::Daemon(format!("cannot start runtime: {e}")))?;
    let (target, key) = auth_of(target, &opts)?;
    let target = target.as_str();
    let connect_err = |source| MountError::Connect { target: target.to_owned(), source };
    let (remote, root_qpath) = rt.block_on(async {
        let fut = async {
            let remote =
                Remote::connect(target, opts.msize, &opts.aname, opts.uname.clone(), opts.uid, key)
                    .await?;
            let c = remote.conn();
            let root = remote.root(&c, opts.uid).await?;
            let attr = c.session.getattr(&root, GetattrMask::BASIC).await?.attr;
            if !attr.qid.is_dir() && attr.mode & ninefold_proto::S_IFMT != ninefold_proto::S_IFDIR {
                return Err(ninefold_client::Error::NotADirectory);
            }
            Ok((remote, attr.qid.path))
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, fut).await {
            Ok(r) => r.map_err(connect_err),
            Err(_) => Err(connect_err(ninefold_client::Error::ConnectFailed(format!(
                "timed out after {} s",
                CONNECT_TIMEOUT.as_secs()
            )))),
        }
    })?;
    let core = Arc::new(Core::new(remote, root_qpath, opts.clone()));
    let fs = NinefoldFs { core: core.clone(), rt: rt.handle().clone() };

    let mut config = Config::default();
    let fsname = opts.fsname.clone().unwrap_or_else(|| target.to_owned());
    config.mount_options =
        vec![MountOption::FSName(fsname), MountOption::Subtype("ninefold".into())];
    if opts.default_permissions {
        config.mount_options.push(MountOption::DefaultPermissions);
    }
    if opts.auto_unmount {
        config.mount_options.push(MountOption::AutoUnmount);
    }
    config.mount_options.push(if opts.read_only { MountOption::RO } else { MountOption::RW });
    if opts.allow_other {
        config.acl = SessionACL::All;
    } else if opts.auto_unmount {
        // fuser's auto_unmount needs the kernel's allow_other; requests of
        // users other than the owner and root are still refused here.
        config.acl = SessionACL::RootAndOwner;
    }
    config.n_threads = Some(opts.threads);
    config.clone_fd = opts.threads > 1;

    let mp = mountpoint.display().to_string();
    let mut session = fuser::Session::new(fs, mountpoint, &config)
        .map_err(|source| MountError::Mount { mountpoint: mp.clone(), source })?;
    let _ = core.notifier.set(session.notifier());
    let mut unmounter = session.unmount_callable();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let runner = std::thread::Builder::new()
        .name("ninefold-fuse".into())
        .spawn(move || {
            let r = session.run();
            let _ = done_tx.send(r);
        })
        .map_err(|e| MountError::Daemon(format!("cannot start FUSE thread: {e}")))?;
    tracing::info!(target, mountpoint = %mp, "mounted");
    if opts.readahead_kib > 0 {
        set_readahead(mountpoint, opts.readahead_kib);
    }
    if notify {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }

    let signalled = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = done_rx.await;
            return false;
        };
        tokio::select! {
            _ = int.recv() => true,
            _ = term.recv() => true,
            _ = hup.recv() => true,
            _ = done_rx => false,
        }
    });
    if signalled {
        tracing::info!(mountpoint = %mp, "signal: unmounting");
        if let Err(e) = unmounter.unmount() {
            // Busy: detach it lazily so the daemon can still exit cleanly.
            tracing::warn!(error = %e, "unmount failed; detaching lazily");
            let _ = Command::new("fusermount3").args(["-u", "-z"]).arg(mountpoint).status();
        }
    }
    let _ = runner.join();
    // Writes the kernel sent at unmount (dirty mmap pages) still go out.
    let drained =
        rt.block_on(async { tokio::time::timeout(DRAIN_TIMEOUT, core.behind.idle()).await });
    if drained.is_err() {
        tracing::error!("unmounted with queued writes that never reached the server");
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// The target without its `?auth=NAME&key-file=PATH` (or `key-env=`)
/// query, and the Tauth key named there or by the `auth=`/`key-file=`/
/// `key-env=` options (not both).
fn auth_of(
    target: &str,
    opts: &MountOptions,
) -> Result<(String, Option<ninefold_client::AuthKey>), MountError> {
    let (plain, in_target) = ninefold_client::split_auth_target(target)
        .map_err(|e| MountError::Option(format!("target {target}: {e}")))?;
    let in_opts = opts.auth_key()?;
    match (in_target, in_opts) {
        (Some(_), Some(_)) => Err(MountError::Option(
            "the Tauth key is named twice: give it in the target (?auth=) or in -o auth=, not both"
                .into(),
        )),
        (a, b) => Ok((plain, a.or(b))),
    }
}

/// Raises the kernel's read-ahead for the mount (its backing device's
/// `read_ahead_kb`), so sequential reads keep several FUSE reads in
/// flight; the kernel starts every FUSE mount at 128 KiB. Needs root;
/// found through /proc/self/mountinfo so that no request reaches the
/// file system before it serves.
fn set_readahead(mountpoint: &Path, kib: u32) {
    let Ok(mp) = std::fs::canonicalize(mountpoint) else { return };
    let Some(dev) = mount_device(&mp) else {
        tracing::debug!(mountpoint = %mp.display(), "mount not found in mountinfo");
        return;
    };
    let path = format!("/sys/class/bdi/{dev}/read_ahead_kb");
    if let Err(e) = std::fs::write(&path, kib.to_string()) {
        tracing::debug!(%path, error = %e, "cannot set read-ahead");
    }
}

/// `MAJOR:MINOR` of the FUSE mount on `mp`, from /proc/self/mountinfo.
fn mount_device(mp: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = escape_mount_path(&mp.to_string_lossy());
    text.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-")?;
        let fstype = f.get(sep + 1)?;
        (f.get(4) == Some(&want.as_str()) && fstype.starts_with("fuse"))
            .then(|| f.get(2).map(|d| (*d).to_owned()))
            .flatten()
    })
}

/// A path as /proc/self/mountinfo writes it (space, tab, newline and
/// backslash as octal escapes).
fn escape_mount_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for ch in p.chars() {
        match ch {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

/// `mount.ninefold SPEC DIR [-sfnvN] [-o OPTIONS]`: the mount(8) helper
/// (`mount -t ninefold ...` and fstab lines with type `ninefold`).
pub fn helper_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_helper(&args) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some((spec, dir, opts))) => match mount(&spec, Path::new(&dir), opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mount.ninefold: {e}");
                ExitCode::from(32)
            }
        },
        Err(e) => {
            eprintln!("mount.ninefold: {e}");
            eprintln!("usage: mount.ninefold TARGET DIR [-sfnv] [-o OPTIONS]");
            ExitCode::from(1)
        }
    }
}

type HelperArgs = Option<(String, String, MountOptions)>;

/// Parses the helper's arguments; `None` for a fake (`-f`) mount.
fn parse_helper(args: &[String]) -> Result<HelperArgs, MountError> {
    let mut pos = Vec::new();
    let mut opts = MountOptions::default();
    let mut fake = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(rest) = a.strip_prefix("-o") {
            let list = if rest.is_empty() {
                it.next().ok_or_else(|| MountError::Option("-o needs a value".into()))?.as_str()
            } else {
                rest
            };
            opts.apply(list)?;
        } else if a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                match c {
                    'f' => fake = true,
                    's' | 'n' | 'v' | 'N' => {}
                    other => return Err(MountError::Option(format!("unknown flag -{other}"))),
                }
            }
        } else {
            pos.push(a.clone());
        }
    }
    if pos.len() != 2 {
        return Err(MountError::Option(format!(
            "expected TARGET and DIR, got {} arguments",
            pos.len()
        )));
    }
    if fake {
        return Ok(None);
    }
    let dir = pos.pop().unwrap_or_default();
    let spec = pos.pop().unwrap_or_default();
    Ok(Some((spec, dir, opts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn helper_args() {
        let (spec, dir, o) =
            parse_helper(&s(&["tcp://127.0.0.1:1", "/mnt", "-n", "-o", "aname=/x,ro"]))
                .unwrap()
                .unwrap();
        assert_eq!((spec.as_str(), dir.as_str()), ("tcp://127.0.0.1:1", "/mnt"));
        assert_eq!(o.aname, "/x");
        assert!(o.read_only);
        assert!(parse_helper(&s(&["a", "/m", "-f"])).unwrap().is_none());
        assert!(parse_helper(&s(&["a"])).is_err());
        assert!(parse_helper(&s(&["a", "/m", "-o", "bogus=1"])).is_err());
    }

    #[test]
    fn mountinfo_paths_are_escaped() {
        assert_eq!(escape_mount_path("/mnt/a b\\c"), "/mnt/a\\040b\\134c");
    }
}
