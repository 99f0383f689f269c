//! The command line's shape: global options and one variant per command (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// dbshift: one data layer for SQLite and PostgreSQL, and a verified move from the first to the
/// second.
#[derive(Debug, Parser)]
#[command(name = "dbshift", version, about, max_term_width = 100)]
#[command(
    long_about = "dbshift: one data layer for SQLite and PostgreSQL, and a verified move from the first to the second.

The database comes from a config file (--config, else DBSHIFT_CONFIG, else ./dbshift.toml, else a SQLite file dbshift.db in the working directory); DATABASE_URL, when set, replaces its URL.

Exit codes: 0 success, 1 verification found differences, 2 error (one `error: ...` line on stderr)."
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; they may stand before or after the command's name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The config file (TOML: `url`, optional `backend`, `password_file`, `[pool]`).
    #[arg(long, global = true, env = "DBSHIFT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// How much to log on stderr: error, warn, info, debug or trace. Overrides -v and RUST_LOG.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<tracing::Level>,

    /// Log more on stderr: -v info, -vv debug, -vvv trace. Without it and --log-level,
    /// RUST_LOG decides, else warnings only.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// How results are printed on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How a command prints its result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for people.
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// The commands. Each has its own file in `src/cli/`; `plan`, `migrate`, `verify` and `demo`
/// (the SQLite to PostgreSQL transfer) join here the same way.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply, list or revert the schema migrations of the configured database.
    ///
    /// The migrations are compiled into dbshift, one set per dialect (`migrations_sqlite/`,
    /// `migrations_postgres/`); the configured database's dialect picks the set. Applied
    /// versions are recorded in `__diesel_schema_migrations`, as diesel CLI does.
    #[command(subcommand)]
    Migrations(MigrationsCommand),

    /// Check that the configured database answers, and how fast.
    Ping,
}

/// What `dbshift migrations` does.
#[derive(Debug, Subcommand)]
pub enum MigrationsCommand {
    /// Apply every pending migration, oldest first, each in its own transaction.
    Run,
    /// List every migration of this dialect with its state: applied or pending.
    List,
    /// Revert the newest applied migration (its down.sql).
    Revert {
        /// Revert every applied migration, newest first.
        #[arg(long)]
        all: bool,
    },
}
