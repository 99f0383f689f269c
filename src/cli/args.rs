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

Exit codes: 0 success, 1 rows were rejected or verification found differences, 2 error (one `error: ...` line on stderr)."
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

    /// Short for `--format json`.
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,
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

    /// Show how a SQLite database would become a PostgreSQL schema, before anything runs.
    ///
    /// Reads SOURCE read-only, profiles what every column really holds, and prints the
    /// PostgreSQL DDL in execution order with every decision and its reason: the type chosen for
    /// each column, columns widened because their values do not fit the declared type (with
    /// counts and examples), and objects flagged for review (triggers, untranslatable views,
    /// CHECKs and defaults) with their original SQL. Warnings never stop the plan.
    ///
    /// `--out plan.toml` saves the plan; edit it and give it back with `dbshift migrate --plan`.
    #[cfg(transfer)]
    Plan(PlanArgs),

    /// Copy a SQLite database into PostgreSQL, verify it, and report.
    ///
    /// Steps: plan, create tables, copy rows (binary COPY, tables in parallel), keys and
    /// indexes, foreign keys, sequences, ANALYZE, verification. A value PostgreSQL cannot hold as
    /// planned goes, with its whole row, to a reject file (table, key, column, reason); the
    /// report counts it and the exit code is 1. Progress is recorded in the target, so a
    /// transfer that stopped (a crash, kill -9, a lost server) is finished with `--resume`.
    ///
    /// TARGET is a postgres:// URL; its password may instead come from PGPASSWORD, ~/.pgpass or
    /// the config's `password_file`. With `--rehearse`, the transfer runs into a throwaway local
    /// PostgreSQL that is removed afterwards.
    ///
    /// Exit codes: 0 every row arrived and verified, 1 rows rejected or verification found
    /// differences, 2 error (nothing is changed when the target is refused).
    #[cfg(transfer)]
    Migrate(MigrateArgs),

    /// Compare a SQLite database with the PostgreSQL copy of it: row counts and content
    /// checksums per table; differences name the table, key and column. Rows the reject
    /// directory lists as rejected are left out of the comparison and counted. Exit code 1 when
    /// they differ or rows were rejected.
    #[cfg(transfer)]
    Verify(VerifyArgs),

    /// Write a sample missions database through the data layer (migrations_sqlite/ and the
    /// missions store) and, with `--rehearse`, migrate it into a throwaway PostgreSQL.
    #[cfg(transfer)]
    Demo(DemoArgs),
}

#[cfg(transfer)]
/// Which tables a transfer takes.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Only these tables (SQLite names; globs with * and ?; repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_name = "PATTERN")]
    pub tables: Vec<String>,

    /// Leave these tables out (SQLite names; globs with * and ?; repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_name = "PATTERN")]
    pub exclude: Vec<String>,

    /// The PostgreSQL schema the tables go in.
    #[arg(long, default_value = "public", value_name = "NAME")]
    pub schema: String,

    /// The zone the source's date/time texts without an offset were written in (an IANA name
    /// such as Europe/Paris, UTC, or an offset such as +02:00): such columns become timestamptz
    /// with each text read in that zone. Without it they stay wall-clock `timestamp`
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub source_timezone: Option<dbshift::transfer::model::SourceZone>,
}

#[cfg(transfer)]
fn parse_zone(text: &str) -> Result<dbshift::transfer::model::SourceZone, String> {
    text.parse()
}

#[cfg(transfer)]
/// `dbshift plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The SQLite database (a path or a sqlite: URL). It is opened read-only.
    pub source: String,

    /// Save the plan as TOML here (to edit and pass to `migrate --plan`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Start from the options of this plan file (its overrides, schema, case, tables).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Keep identifiers' case instead of lowercasing them (they are quoted either way).
    #[arg(long)]
    pub keep_case: bool,

    /// The ORM that wrote the source (django, sqlalchemy, rails, diesel, prisma, peewee), or
    /// `none`; found from its bookkeeping tables when not given (Peewee keeps none: name it).
    /// With one, names keep their case and its fields get the types it would create on
    /// PostgreSQL.
    #[arg(long, value_name = "NAME", value_parser = parse_orm)]
    pub orm: Option<dbshift::transfer::orm::OrmChoice>,

    /// Foreign keys whose child rows have no parent: add them NOT VALID (report the orphans),
    /// or fail.
    #[arg(long, value_enum, default_value_t = OrphanArg::NotValid)]
    pub on_orphans: OrphanArg,

    /// Which tables.
    #[command(flatten)]
    pub select: SelectArgs,
}

#[cfg(transfer)]
/// What to do with foreign keys whose child rows have no parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrphanArg {
    /// Add the key NOT VALID: new rows are checked, old orphans are reported.
    NotValid,
    /// Stop the plan with a blocking item.
    Fail,
}

#[cfg(transfer)]
/// What to do when the target already holds the tables (`dbshift::transfer::IfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IfExistsArg {
    /// Refuse, changing nothing (the default).
    Fail,
    /// Empty the existing tables first.
    Truncate,
    /// Drop and recreate the tables (full mode).
    Drop,
}

#[cfg(transfer)]
impl From<IfExistsArg> for dbshift::transfer::IfExists {
    fn from(arg: IfExistsArg) -> Self {
        match arg {
            IfExistsArg::Fail => dbshift::transfer::IfExists::Fail,
            IfExistsArg::Truncate => dbshift::transfer::IfExists::Truncate,
            IfExistsArg::Drop => dbshift::transfer::IfExists::Drop,
        }
    }
}

#[cfg(transfer)]
/// `dbshift migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite database (a path or a sqlite: URL). It is opened read-only, never modified.
    pub source: String,

    /// The PostgreSQL database, as a postgres:// URL (not needed with --rehearse).
    #[arg(required_unless_present = "rehearse")]
    pub target: Option<String>,

    /// Run into a throwaway local PostgreSQL (started from the installed server binaries and
    /// removed afterwards) to see what a real run would do.
    #[arg(long, conflicts_with = "target")]
    pub rehearse: bool,

    /// Use this plan file (from `dbshift plan --out`, possibly edited). With --data-only, a file
    /// of per-column settings: `[columns."table.column"] conversion = "..." policy = "..."`.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Copy only rows, into tables that already exist (made by the application's own
    /// migrations): columns matched by name, values converted to the target's types.
    #[arg(long, conflicts_with = "schema_only")]
    pub data_only: bool,

    /// Create only the schema (tables, keys, indexes, foreign keys, views), no rows.
    #[arg(long)]
    pub schema_only: bool,

    /// Tables copied at once, each on its own connection.
    #[arg(long, short = 'j', default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// A table with at least this many rows is copied in --jobs parallel streams, by ranges of
    /// its rowid, each committed and resumed on its own (full mode; 0: never split a table).
    /// Default: 200000 with --jobs 3 or more; off with fewer, where the load already keeps two
    /// cores busy and the parts would only give up COPY FREEZE.
    #[arg(long, value_name = "ROWS")]
    pub split_rows: Option<u64>,

    /// When the target already has the tables: fail (change nothing), truncate them, or drop
    /// and recreate them.
    #[arg(long, value_enum, default_value_t = IfExistsArg::Fail)]
    pub if_exists: IfExistsArg,

    /// Finish a transfer that stopped: tables already done are kept, the rest are redone.
    #[arg(long)]
    pub resume: bool,

    /// Skip the verification after copying.
    #[arg(long)]
    pub no_verify: bool,

    /// Give up when a statement waits longer than SECONDS for a lock another session holds
    /// (default: wait as long as it takes; the wait is shown meanwhile: table, session, since).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub lock_wait: Option<std::time::Duration>,

    /// Plan and check the target, print what would happen, change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where reject files go (created only when a row is rejected).
    #[arg(long, default_value = "dbshift-rejects", value_name = "DIR")]
    pub reject_dir: PathBuf,

    /// Where the name map goes: every table, column and view, SQLite name to PostgreSQL name,
    /// with the reason for each rename (JSON; full and schema-only modes)
    #[arg(long, default_value = "dbshift-names.json", value_name = "FILE")]
    pub name_map: PathBuf,

    /// No progress bars or progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Keep identifiers' case instead of lowercasing them.
    #[arg(long)]
    pub keep_case: bool,

    /// The ORM that wrote the source (django, sqlalchemy, rails, diesel, prisma, peewee), or
    /// `none`; found from its bookkeeping tables when not given (Peewee keeps none: name it).
    /// With --data-only its SQLite storage
    /// conventions decide how values become the types it created on PostgreSQL; in full mode
    /// names keep their case and its fields get the types it would create.
    #[arg(long, value_name = "NAME", value_parser = parse_orm)]
    pub orm: Option<dbshift::transfer::orm::OrmChoice>,

    /// Which tables.
    #[command(flatten)]
    pub select: SelectArgs,
}

#[cfg(transfer)]
/// `dbshift verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The SQLite database.
    pub source: String,

    /// The PostgreSQL database, as a postgres:// URL.
    pub target: String,

    /// The plan file the transfer used, if any.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// The transfer was --data-only: map tables by the target's own schema.
    #[arg(long)]
    pub data_only: bool,

    /// The ORM that wrote the source (django, sqlalchemy, rails, diesel, prisma, peewee), or
    /// `none`, as given to `migrate`; found from its bookkeeping tables when not given.
    #[arg(long, value_name = "NAME", value_parser = parse_orm)]
    pub orm: Option<dbshift::transfer::orm::OrmChoice>,

    /// Reject files of the transfer: rows listed there are expected to be absent.
    #[arg(long, default_value = "dbshift-rejects", value_name = "DIR")]
    pub reject_dir: PathBuf,

    /// Tables compared at once.
    #[arg(long, short = 'j', default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Which tables.
    #[command(flatten)]
    pub select: SelectArgs,
}

#[cfg(transfer)]
/// `dbshift demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the sample SQLite database [default: dbshift-demo.db, or a temporary
    /// directory removed afterwards with --rehearse].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// How many missions to write (with their events and tags).
    #[arg(long, default_value_t = 2000)]
    pub missions: usize,

    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,

    /// Then migrate it into a throwaway PostgreSQL and print the report.
    #[arg(long)]
    pub rehearse: bool,
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

#[cfg(transfer)]
/// `--orm`'s value: an ORM's name, `none` or `auto`.
fn parse_orm(text: &str) -> Result<dbshift::transfer::orm::OrmChoice, String> {
    text.parse()
}

/// A positive number of seconds, fractions allowed.
#[cfg(transfer)]
fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(std::time::Duration::from_secs_f64(s)),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}
