//! The client commands: `ls`, `cat`, `get`, `put`, `cp`, `stat`, `mkdir`,
//! `rm`, `mv`, `ln`, `chmod`, `chown`, `touch`, `truncate`, `df`, `tree`
//! and `du`, over `ninefold_client`.
//!
//! - [`args`]: flags and operands;
//! - [`conn`]: connecting (fail fast, or `--wait`);
//! - [`fail`]: error messages and exit codes, coreutils style;
//! - [`info`]: `ls`, `stat`, `df`, `tree`, `du` and their formats;
//! - [`copy`]: `cat`, `get`, `put`, `cp`;
//! - [`edit`]: the commands that change the namespace or metadata.

pub(crate) mod args;
mod conn;
mod copy;
mod edit;
mod fail;
mod format;
mod info;
mod walk;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use ninefold_client::{Client, Location};

use args::{ClientCommand, ConnectArgs};
pub(crate) use fail::Failure;

/// Exit status of a usage error (as clap's own).
const EXIT_USAGE: u8 = 2;

/// Runs one client command and returns its exit status: 0 when every
/// operand succeeded, 1 when one failed, 2 for a usage error.
pub(crate) fn run(cmd: ClientCommand) -> ExitCode {
    let name = cmd.name();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ninefold")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ninefold: {name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut ctx = match Ctx::new(name, cmd.conn()) {
        Ok(c) => c,
        Err(f) => {
            fail::print(name, &f);
            return ExitCode::from(f.exit_code());
        }
    };
    let timeout = ctx.timeout;
    let outcome = runtime.block_on(async {
        let fut = dispatch(&mut ctx, cmd);
        let r = match timeout {
            Some(t) => tokio::time::timeout(t, fut).await.unwrap_or_else(|_| {
                Err(Failure::msg(format!("timed out after {}", conn::show_duration(t))))
            }),
            None => fut.await,
        };
        ctx.close().await;
        r
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(()) if !ctx.failed => ExitCode::SUCCESS,
        Ok(()) => ExitCode::FAILURE,
        Err(f) => {
            fail::print(name, &f);
            ExitCode::from(f.exit_code())
        }
    }
}

async fn dispatch(ctx: &mut Ctx, cmd: ClientCommand) -> Result<(), Failure> {
    match cmd {
        ClientCommand::Ls(a) => info::ls(ctx, a).await,
        ClientCommand::Stat(a) => info::stat(ctx, a).await,
        ClientCommand::Df(a) => info::df(ctx, a).await,
        ClientCommand::Tree(a) => info::tree(ctx, a).await,
        ClientCommand::Du(a) => info::du(ctx, a).await,
        ClientCommand::Cat(a) => copy::cat(ctx, a).await,
        ClientCommand::Get(a) => copy::get(ctx, a).await,
        ClientCommand::Put(a) => copy::put(ctx, a).await,
        ClientCommand::Cp(a) => copy::cp(ctx, a).await,
        ClientCommand::Mkdir(a) => edit::mkdir(ctx, a).await,
        ClientCommand::Rm(a) => edit::rm(ctx, a).await,
        ClientCommand::Mv(a) => edit::mv(ctx, a).await,
        ClientCommand::Ln(a) => edit::ln(ctx, a).await,
        ClientCommand::Chmod(a) => edit::chmod(ctx, a).await,
        ClientCommand::Chown(a) => edit::chown(ctx, a).await,
        ClientCommand::Touch(a) => edit::touch(ctx, a).await,
        ClientCommand::Truncate(a) => edit::truncate(ctx, a).await,
    }
}

/// One command's state: its connections (one per server) and whether an
/// operand failed.
pub(crate) struct Ctx {
    name: &'static str,
    conn: conn::Connector,
    clients: HashMap<String, Result<Client, Failure>>,
    timeout: Option<Duration>,
    /// Set once an operand failed: the exit status becomes 1.
    pub(crate) failed: bool,
}

impl Ctx {
    fn new(name: &'static str, args: &ConnectArgs) -> Result<Ctx, Failure> {
        let timeout = args.timeout.as_deref().map(conn::parse_duration).transpose()?;
        Ok(Ctx {
            name,
            conn: conn::Connector::new(args)?,
            clients: HashMap::new(),
            timeout,
            failed: false,
        })
    }

    /// Lets every connection finish its background clunks (bounded), so
    /// that no request is cut off or flushed at exit: some servers (diod)
    /// do not survive a connection closed under a flushed clunk.
    async fn close(&mut self) {
        let sessions: Vec<_> =
            self.clients.drain().filter_map(|(_, c)| c.ok()).map(|c| c.session()).collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        for s in sessions {
            while !s.is_dead() && tokio::time::Instant::now() < deadline {
                let st = s.stats();
                if st.fids_live == 0 && st.tags_in_use == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    /// Parses an operand as a location (a usage error when it is not one).
    pub(crate) fn location(&self, s: &str) -> Result<Location, Failure> {
        Location::parse(s)
            .map_err(|e| Failure::usage(format!("{s}: not a location: {}", fail::describe(&e))))
    }

    /// The client for `loc`'s server, connecting on first use. A server
    /// that could not be reached is not tried again.
    pub(crate) async fn client(&mut self, loc: &Location) -> Result<Client, Failure> {
        let key = loc.target.to_string();
        if let Some(r) = self.clients.get(&key) {
            return r.clone();
        }
        let r = self.conn.connect(&loc.target).await;
        self.clients.insert(key, r.clone());
        r
    }

    /// Prints a failure of one operand and remembers it for the exit
    /// status; usage errors are returned to end the command.
    pub(crate) fn report(&mut self, f: Failure) -> Result<(), Failure> {
        if f.is_usage() {
            return Err(f);
        }
        fail::print(self.name, &f);
        self.failed = true;
        Ok(())
    }

    /// Runs `f`, reporting its failure (the command goes on).
    pub(crate) fn check<T>(&mut self, r: Result<T, Failure>) -> Result<Option<T>, Failure> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(f) => self.report(f).map(|()| None),
        }
    }
}
