//! `ninefold mount TARGET MOUNTPOINT [-o OPTIONS]`: parses the command
//! line and hands over to the `ninefold-mount` crate (docs/MOUNT.md).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use ninefold_mount::MountOptions;

/// Options of `ninefold mount`.
#[derive(Debug, Args)]
pub(crate) struct MountArgs {
    /// The server: tcp://HOST:PORT, HOST:PORT, HOST, unix:/PATH or a
    /// socket path.
    #[arg(value_name = "TARGET")]
    pub(crate) target: String,

    /// Directory to mount on.
    #[arg(value_name = "MOUNTPOINT")]
    pub(crate) mountpoint: PathBuf,

    /// Comma-separated mount options (aname=, cache=strict|default|loose,
    /// allow_other, default_permissions, auto_unmount, ro, msize=,
    /// access=user|single, log=, logfile= ...). Repeatable.
    #[arg(short = 'o', value_name = "OPTIONS")]
    pub(crate) options: Vec<String>,

    /// Stay in the foreground (unmounts on SIGINT/SIGTERM).
    #[arg(short = 'f', long)]
    pub(crate) foreground: bool,
}

/// Runs `ninefold mount`.
pub(crate) fn run(args: MountArgs) -> Result<()> {
    let mut opts = MountOptions::default();
    for o in &args.options {
        opts.apply(o)?;
    }
    opts.foreground |= args.foreground;
    ninefold_mount::mount(&args.target, &args.mountpoint, opts)?;
    Ok(())
}

/// Whether this process was started as `mount.ninefold` (a symlink to
/// `ninefold`, as mount(8) runs it for `-t ninefold` and fstab lines).
pub(crate) fn invoked_as_helper() -> bool {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n == "mount.ninefold"))
        .unwrap_or(false)
}
