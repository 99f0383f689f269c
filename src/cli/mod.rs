//! The command line: parse the arguments, set up logging, connect, run one command, print its
//! result as text or JSON, and map the outcome to an exit code. The library does the work.

use std::fmt::Display;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;

use dbshift::{Backend, DbConfig, Registry};

pub mod args;
#[cfg(transfer)]
mod demo;
#[cfg(transfer)]
mod hints;
#[cfg(transfer)]
mod migrate;
mod migrations;
mod ping;
#[cfg(transfer)]
mod plan;
#[cfg(transfer)]
mod progress;
#[cfg(transfer)]
mod transfer;
#[cfg(transfer)]
mod verify;

use args::{Cli, Command, Format, GlobalArgs};

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Success,
    /// Exit code 1: rows were rejected, or a verification found differences.
    #[cfg_attr(not(transfer), allow(dead_code))] // Only the transfer commands return it.
    Differences,
}

/// Runs the command line and returns the process's exit code: 0 success, 1 differences found,
/// 2 error. An error is printed as one `error: ...` line on stderr.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(mut cli) => {
            if cli.global.json {
                cli.global.format = Format::Json;
            }
            cli
        }
        Err(e) => {
            // --help and --version are not errors; usage errors exit with 2 as clap does.
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
            // A usage error is one line like every other error: clap's own lines (what is
            // wrong, the possible values, the hint to try --help) joined.
            let rendered = e.render().to_string();
            let mut line = String::new();
            for part in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !line.is_empty() {
                    line.push_str(if line.ends_with(':') { " " } else { "; " });
                }
                line.push_str(part);
            }
            eprintln!("{line}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cli.global);
    match execute(&cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Differences) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(2)
        }
    }
}

/// The line printed for an error: the library's message with its causes, and for the
/// transfer's errors the flags that act on them ([`hints`]).
fn describe(error: &anyhow::Error) -> String {
    #[cfg(transfer)]
    if let Some(line) = error
        .downcast_ref::<dbshift::transfer::Error>()
        .and_then(hints::with_flags)
    {
        return line;
    }
    one_line(error.chain())
}

/// The error and its causes on one line, `: `-separated. A cause whose text the line already
/// holds is left out: several library errors quote their driver's message.
fn one_line<'e>(chain: impl Iterator<Item = &'e (dyn std::error::Error + 'static)>) -> String {
    let mut line = String::new();
    for cause in chain {
        let text = cause
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if collapsed(&line).contains(&collapsed(&text)) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// `text` with each run of whitespace made one space, as the library writes a server's message
/// on one line: a cause that differs from the line only so is the same text.
fn collapsed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn execute(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Migrations(command) => migrations::run(&cli.global, command),
        Command::Ping => ping::run(&cli.global),
        #[cfg(transfer)]
        Command::Plan(args) => plan::run(&cli.global, args),
        #[cfg(transfer)]
        Command::Migrate(args) => migrate::run(&cli.global, args),
        #[cfg(transfer)]
        Command::Verify(args) => verify::run(&cli.global, args),
        #[cfg(transfer)]
        Command::Demo(args) => demo::run(&cli.global, args),
    }
}

/// Logs go to stderr, so stdout stays the command's result. `--log-level` wins over `-v`,
/// which wins over `RUST_LOG`; the default is warnings only.
fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let level = global.log_level.or(match global.verbose {
        0 => None,
        1 => Some(tracing::Level::INFO),
        2 => Some(tracing::Level::DEBUG),
        _ => Some(tracing::Level::TRACE),
    });
    let filter = match level {
        Some(level) => EnvFilter::new(level.as_str()),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Loads the configuration and connects to its database.
pub fn connect(global: &GlobalArgs) -> anyhow::Result<(DbConfig, Box<dyn Backend>)> {
    let mut config = DbConfig::load(global.config.as_deref())?;
    // A command runs a few statements and exits, so idle connections kept warm are of no use.
    // Worse, r2d2 opens them on its own threads after a checkout, and a libpq connect still
    // running when the process exits crashed it (SIGSEGV) in libpq's exit-time cleanup. With
    // no idle minimum, every connect is one a caller waits for.
    config.pool.min_idle = 0;
    let db = Registry::with_defaults().connect(&config)?;
    Ok((config, db))
}

/// Prints a command's report on stdout: its `Display` for text, its `Serialize` for JSON.
pub fn print<R: Display + Serialize>(format: Format, report: &R) -> anyhow::Result<()> {
    match format {
        Format::Text => println!("{report}"),
        Format::Json => println!("{}", serde_json::to_string_pretty(report)?),
    }
    Ok(())
}
