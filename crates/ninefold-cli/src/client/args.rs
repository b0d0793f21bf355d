//! The client commands' flags and operands (clap derive).
//!
//! Every command takes [`ConnectArgs`]; operands are locations in the
//! syntax of `ninefold_client::Location` (docs/CLI.md), except the local
//! side of `get`, `put` and `cp`.

use clap::{Args, Subcommand};

/// Options that reach the server: identity, export and timeouts.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ConnectArgs {
    /// Numeric uid to attach as (the server checks permissions as this
    /// user). [default: the effective uid]
    #[arg(long, value_name = "UID", env = "NINEFOLD_UID")]
    pub(crate) uid: Option<u32>,

    /// Group of everything created. [default: the effective gid]
    #[arg(long, value_name = "GID", env = "NINEFOLD_GID")]
    pub(crate) gid: Option<u32>,

    /// User name sent at attach. [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub(crate) uname: Option<String>,

    /// Export to attach to (diod: the exported directory). [default: ""]
    #[arg(long, value_name = "ANAME", env = "NINEFOLD_ANAME")]
    pub(crate) aname: Option<String>,

    /// Authenticate with key NAME, whose secret is the content of FILE
    /// (the ninefold Tauth scheme, docs/AUTH.md; the server's
    /// `--auth-key NAME=FILE`). The secret never goes on the command line.
    #[arg(long, value_name = "NAME=FILE", env = "NINEFOLD_AUTH_KEY")]
    pub(crate) auth_key: Option<String>,

    /// msize to ask for, in bytes (the server may lower it).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub(crate) msize: u32,

    /// Give up connecting after this long (e.g. 500ms, 5s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub(crate) connect_timeout: String,

    /// Bound on the whole command (e.g. 30s, 10m); none by default.
    #[arg(long, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,

    /// Wait for an unreachable server and reconnect when the connection
    /// drops (the library's behaviour), instead of failing at once.
    #[arg(long)]
    pub(crate) wait: bool,

    /// tls:// locations: trust the CA certificates of this PEM file
    /// instead of the system's roots (also `?ca=FILE`).
    #[arg(long, value_name = "FILE", env = "NINEFOLD_TLS_CA")]
    pub(crate) tls_ca: Option<std::path::PathBuf>,

    /// tls:// locations: client certificate (PEM) for servers that ask
    /// for one (also `?cert=FILE`).
    #[arg(long, value_name = "FILE", env = "NINEFOLD_TLS_CERT")]
    pub(crate) tls_cert: Option<std::path::PathBuf>,

    /// tls:// locations: the client certificate's key (PEM; default: read
    /// from --tls-cert) (also `?key=FILE`).
    #[arg(long, value_name = "FILE", env = "NINEFOLD_TLS_KEY")]
    pub(crate) tls_key: Option<std::path::PathBuf>,

    /// tls:// locations: the name to send (SNI) and to check the server's
    /// certificate against, instead of the host (also `?servername=NAME`).
    #[arg(long, value_name = "NAME")]
    pub(crate) tls_server_name: Option<String>,
}

/// The client commands, flattened into the top-level command list.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// List directory contents.
    Ls(LsArgs),
    /// Print files to standard output.
    Cat(CatArgs),
    /// Copy remote files (or trees, with -r) to the local disk.
    Get(CopyArgs),
    /// Copy local files (or trees, with -r) to a server.
    Put(CopyArgs),
    /// Copy between the local disk and servers, or between two servers.
    Cp(CopyArgs),
    /// Show metadata.
    Stat(StatArgs),
    /// Make directories.
    Mkdir(MkdirArgs),
    /// Remove files or directories.
    Rm(RmArgs),
    /// Rename or move within one server.
    Mv(MvArgs),
    /// Make hard or symbolic links.
    Ln(LnArgs),
    /// Change permission bits.
    Chmod(ChmodArgs),
    /// Change owner and group (numeric ids).
    Chown(ChownArgs),
    /// Update times, creating missing files.
    Touch(TouchArgs),
    /// Shrink or extend files to a size.
    Truncate(TruncateArgs),
    /// Show filesystem usage.
    Df(DfArgs),
    /// Show a directory tree.
    Tree(TreeArgs),
    /// Show disk usage of trees.
    Du(DuArgs),
}

/// `ls`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct LsArgs {
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub(crate) help: Option<bool>,
    /// Long listing: type, permissions, links, uid, gid, size, mtime (UTC).
    #[arg(short = 'l')]
    pub(crate) long: bool,
    /// Include names starting with `.`, and `.` and `..`.
    #[arg(short = 'a', long = "all")]
    pub(crate) all: bool,
    /// List subdirectories recursively.
    #[arg(short = 'R', long = "recursive")]
    pub(crate) recursive: bool,
    /// List directories themselves, not their contents.
    #[arg(short = 'd', long = "directory")]
    pub(crate) directory: bool,
    /// Sizes with K, M, G suffixes (with -l).
    #[arg(short = 'h', long = "human-readable")]
    pub(crate) human: bool,
    /// One JSON array of entries with full metadata (docs/CLI.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// Locations to list.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `cat`.
#[derive(Debug, Args)]
pub(crate) struct CatArgs {
    /// Files to print, in order.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `get`, `put` and `cp`: SOURCE... DEST.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// Copy directories and everything below them.
    #[arg(short = 'r', short_alias = 'R', long = "recursive")]
    pub(crate) recursive: bool,
    /// Keep access and modification times (permission bits are always kept).
    #[arg(short = 'p', long = "preserve")]
    pub(crate) preserve: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Files copied at once in a tree.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) jobs: usize,
    /// Sources, then the destination (`get` with one source: the current
    /// directory when the destination is left out).
    #[arg(required = true, value_name = "SOURCE... DEST")]
    pub(crate) operands: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `stat`.
#[derive(Debug, Args)]
pub(crate) struct StatArgs {
    /// Follow a final symlink.
    #[arg(short = 'L', long = "dereference")]
    pub(crate) follow: bool,
    /// One JSON object per operand, one per line (docs/CLI.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// Locations to describe.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `mkdir`.
#[derive(Debug, Args)]
pub(crate) struct MkdirArgs {
    /// Make parents as needed; no error if the directory exists.
    #[arg(short = 'p', long = "parents")]
    pub(crate) parents: bool,
    /// Permission bits (octal or symbolic, as chmod). [default: 755]
    #[arg(short = 'm', long = "mode", value_name = "MODE")]
    pub(crate) mode: Option<String>,
    /// Directories to make.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `rm`.
#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// Remove directories and their contents.
    #[arg(short = 'r', short_alias = 'R', long = "recursive")]
    pub(crate) recursive: bool,
    /// Ignore missing operands; never fail for them.
    #[arg(short = 'f', long = "force")]
    pub(crate) force: bool,
    /// Remove empty directories.
    #[arg(short = 'd', long = "dir")]
    pub(crate) dir: bool,
    /// Locations to remove.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `mv`.
#[derive(Debug, Args)]
pub(crate) struct MvArgs {
    /// Sources, then the destination (an existing directory receives them).
    #[arg(required = true, num_args = 2.., value_name = "SOURCE... DEST")]
    pub(crate) operands: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `ln`.
#[derive(Debug, Args)]
pub(crate) struct LnArgs {
    /// Make a symbolic link whose text is TARGET, stored verbatim.
    #[arg(short = 's', long = "symbolic")]
    pub(crate) symbolic: bool,
    /// Replace an existing LINK.
    #[arg(short = 'f', long = "force")]
    pub(crate) force: bool,
    /// For a hard link: a location on LINK's server. For -s: any text.
    #[arg(value_name = "TARGET")]
    pub(crate) target: String,
    /// The new name.
    #[arg(value_name = "LINK")]
    pub(crate) link: String,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `chmod`.
#[derive(Debug, Args)]
pub(crate) struct ChmodArgs {
    /// Change directories' contents too.
    #[arg(short = 'R', long = "recursive")]
    pub(crate) recursive: bool,
    /// Octal (644) or symbolic (u+x,go-w, a=r) mode.
    #[arg(value_name = "MODE", allow_hyphen_values = true)]
    pub(crate) mode: String,
    /// Locations to change.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `chown`.
#[derive(Debug, Args)]
pub(crate) struct ChownArgs {
    /// Change directories' contents too.
    #[arg(short = 'R', long = "recursive")]
    pub(crate) recursive: bool,
    /// UID, UID:GID or :GID (numeric: names are not resolved remotely).
    #[arg(value_name = "OWNER[:GROUP]")]
    pub(crate) owner: String,
    /// Locations to change.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `touch`.
#[derive(Debug, Args)]
pub(crate) struct TouchArgs {
    /// Do not create missing files.
    #[arg(short = 'c', long = "no-create")]
    pub(crate) no_create: bool,
    /// Change only the access time.
    #[arg(short = 'a')]
    pub(crate) atime_only: bool,
    /// Change only the modification time.
    #[arg(short = 'm')]
    pub(crate) mtime_only: bool,
    /// Use this time (seconds since the epoch, `@` optional) instead of now.
    #[arg(short = 'd', long = "date", value_name = "@SECONDS")]
    pub(crate) date: Option<String>,
    /// Files to touch.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `truncate`.
#[derive(Debug, Args)]
pub(crate) struct TruncateArgs {
    /// New size: bytes, or with a K, M, G, T suffix (powers of 1024).
    #[arg(short = 's', long = "size", value_name = "SIZE")]
    pub(crate) size: String,
    /// Do not create missing files.
    #[arg(short = 'c', long = "no-create")]
    pub(crate) no_create: bool,
    /// Files to resize.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `df`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct DfArgs {
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub(crate) help: Option<bool>,
    /// Sizes with K, M, G suffixes.
    #[arg(short = 'h', long = "human-readable")]
    pub(crate) human: bool,
    /// Inode counts instead of blocks.
    #[arg(short = 'i', long = "inodes")]
    pub(crate) inodes: bool,
    /// One JSON object per server, one per line (docs/CLI.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// Servers (a path part is ignored).
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `tree`.
#[derive(Debug, Args)]
pub(crate) struct TreeArgs {
    /// Include names starting with `.`.
    #[arg(short = 'a')]
    pub(crate) all: bool,
    /// Descend at most this many levels.
    #[arg(short = 'L', value_name = "LEVEL")]
    pub(crate) level: Option<usize>,
    /// Directories to show.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

/// `du`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub(crate) struct DuArgs {
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help)]
    pub(crate) help: Option<bool>,
    /// Only a total for each operand.
    #[arg(short = 's', long = "summarize")]
    pub(crate) summarize: bool,
    /// Files too, not only directories.
    #[arg(short = 'a', long = "all")]
    pub(crate) all: bool,
    /// Sizes with K, M, G suffixes.
    #[arg(short = 'h', long = "human-readable")]
    pub(crate) human: bool,
    /// Apparent sizes in bytes instead of allocated 1K blocks.
    #[arg(short = 'b', long = "bytes")]
    pub(crate) bytes: bool,
    /// Locations to measure.
    #[arg(required = true, value_name = "LOCATION")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) conn: ConnectArgs,
}

impl ClientCommand {
    /// The command's name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ClientCommand::Ls(_) => "ls",
            ClientCommand::Cat(_) => "cat",
            ClientCommand::Get(_) => "get",
            ClientCommand::Put(_) => "put",
            ClientCommand::Cp(_) => "cp",
            ClientCommand::Stat(_) => "stat",
            ClientCommand::Mkdir(_) => "mkdir",
            ClientCommand::Rm(_) => "rm",
            ClientCommand::Mv(_) => "mv",
            ClientCommand::Ln(_) => "ln",
            ClientCommand::Chmod(_) => "chmod",
            ClientCommand::Chown(_) => "chown",
            ClientCommand::Touch(_) => "touch",
            ClientCommand::Truncate(_) => "truncate",
            ClientCommand::Df(_) => "df",
            ClientCommand::Tree(_) => "tree",
            ClientCommand::Du(_) => "du",
        }
    }

    /// The connection options.
    pub(crate) fn conn(&self) -> &ConnectArgs {
        match self {
            ClientCommand::Ls(a) => &a.conn,
            ClientCommand::Cat(a) => &a.conn,
            ClientCommand::Get(a) | ClientCommand::Put(a) | ClientCommand::Cp(a) => &a.conn,
            ClientCommand::Stat(a) => &a.conn,
            ClientCommand::Mkdir(a) => &a.conn,
            ClientCommand::Rm(a) => &a.conn,
            ClientCommand::Mv(a) => &a.conn,
            ClientCommand::Ln(a) => &a.conn,
            ClientCommand::Chmod(a) => &a.conn,
            ClientCommand::Chown(a) => &a.conn,
            ClientCommand::Touch(a) => &a.conn,
            ClientCommand::Truncate(a) => &a.conn,
            ClientCommand::Df(a) => &a.conn,
            ClientCommand::Tree(a) => &a.conn,
            ClientCommand::Du(a) => &a.conn,
        }
    }
}
