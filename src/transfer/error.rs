//! Error and Result of the transfer layer. Messages are one line, lowercase, name the object in
//! backticks and say what to do where that is not obvious. URLs are always redacted.
//!
//! A message says what happened in the library's terms; it never names a command-line flag.
//! The variants a caller can act on (an unfinished transfer, tables already there, a stopped
//! transfer) are variants of their own, so the command line can add its flags to them.
//! Errors from the driver are kept as their `source`.

use std::path::PathBuf;

use crate::redact::RedactedUrl;

/// The result type of the transfer layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything planning, copying and verifying can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source path does not exist, is a directory, or is not a SQLite database.
    #[error("`{path}` is not a usable SQLite database: {reason}")]
    NotSqlite {
        /// The source path.
        path: PathBuf,
        /// Why (missing, a directory, empty, wrong header, corrupt).
        reason: String,
    },
    /// Reading the source failed.
    #[error("reading SQLite `{path}` failed: {message}")]
    Source {
        /// The source path.
        path: PathBuf,
        /// SQLite's message, with the table when known.
        message: String,
        /// The driver's error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The target PostgreSQL refused or failed an operation.
    #[error("PostgreSQL {url}: {message}")]
    Target {
        /// The target, without its password.
        url: RedactedUrl,
        /// What was being done, then the server's message, with the table when known.
        message: String,
        /// The driver's error, when the server (rather than a check of ours) refused.
        #[source]
        source: Option<diesel::result::Error>,
    },
    /// The target already holds tables the transfer would write, and [`IfExists`] is `Fail`.
    ///
    /// [`IfExists`]: crate::transfer::IfExists
    #[error("target {url} is not empty: {tables} already exist")]
    TargetNotEmpty {
        /// The target, without its password.
        url: RedactedUrl,
        /// The tables found, comma separated (first few).
        tables: String,
    },
    /// Replacing the existing tables would also drop objects the transfer does not create
    /// again (a user's views, functions over the tables, other tables' foreign keys).
    #[error("target {url}: dropping the existing tables would also drop {objects}, which depend on them; drop or change those first, nothing was changed")]
    DropWouldRemove {
        /// The target, without its password.
        url: RedactedUrl,
        /// The dependent objects, comma separated (first few), each with its kind.
        objects: String,
    },
    /// A statement waited longer than [`Options::lock_wait`](crate::transfer::Options::lock_wait)
    /// for a lock another session holds.
    #[error("gave up after {seconds} s waiting for {what}")]
    LockWait {
        /// How long a statement was allowed to wait.
        seconds: f64,
        /// The lock and its holder, as last seen (`a lock on `t` held by pid ...`).
        what: String,
    },
    /// The target records a transfer that did not finish, and this run neither resumes it nor
    /// starts over.
    #[error("a previous transfer into {url} did not finish")]
    Unfinished {
        /// The target, without its password.
        url: RedactedUrl,
    },
    /// A resumed transfer found its recorded work unusable; only starting over can help.
    #[error("the recorded transfer is {reason}")]
    RecordedWork {
        /// What is wrong with it (`empty`, `unreadable (...)`).
        reason: String,
    },
    /// [`IfExists::Truncate`] keeps the target's tables, which only [`Mode::DataOnly`] can use.
    ///
    /// [`IfExists::Truncate`]: crate::transfer::IfExists::Truncate
    /// [`Mode::DataOnly`]: crate::transfer::Mode::DataOnly
    #[error("emptying the existing tables keeps them as they are, which only a data-only transfer can use; a full transfer replaces them by dropping them")]
    TruncateNeedsDataOnly,
    /// PostgreSQL failed a statement of the loading side outside the steps of a transfer
    /// (copying a table's rows, reading the target's catalog or a table back).
    #[error("{doing} failed: {message}")]
    Server {
        /// What was being done, naming the table when there is one.
        doing: String,
        /// The server's message on one line.
        message: String,
        /// The driver's error.
        #[source]
        source: diesel::result::Error,
    },
    /// A plan file could not be read or does not fit the source.
    #[error("plan file `{path}`: {message}")]
    PlanFile {
        /// The plan file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        message: String,
    },
    /// A column's values go into a type whose unit nothing decides (an integer into an
    /// `interval`: seconds or microseconds? a date/time: counted from when?), and neither a
    /// per-column conversion nor an ORM's convention says which.
    #[error("column `{column}` holds {holds} for {pg_type} and what they count cannot be guessed; set its conversion to {}, or name the ORM that wrote the database", choices.join(" or "))]
    AmbiguousConversion {
        /// `table.column` in the source.
        column: String,
        /// What the column holds: `numbers` or `date/times`.
        holds: String,
        /// The target type, as written in DDL.
        pg_type: String,
        /// The conversions that would decide it, by their plan-file names in backticks.
        choices: Vec<String>,
    },
    /// A column holds date/time texts without a UTC offset for a `timestamptz`, and neither
    /// the source's zone, a per-column conversion nor an ORM's convention says which zone
    /// they were written in.
    #[error("column `{column}` holds date/time texts without a UTC offset for {pg_type}, and nothing says which zone they were written in")]
    NaiveTimes {
        /// `table.column` in the source.
        column: String,
        /// The target type, as written in DDL.
        pg_type: String,
    },
    /// A column holds date/time texts with a UTC offset other than zero for a `timestamp`,
    /// which keeps no offset, and neither a per-column conversion nor an ORM's convention says
    /// whether the application reads its naive times as UTC.
    #[error("column `{column}` holds date/time texts with a UTC offset for {pg_type}, which keeps none, and nothing says the application reads that column's times as UTC")]
    OffsetTimes {
        /// `table.column` in the source.
        column: String,
        /// The target type, as written in DDL.
        pg_type: String,
    },
    /// An option or argument is unusable.
    #[error("{0}")]
    Invalid(String),
    /// Writing a reject file or report failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A transfer stopped after it had started writing, for a reason a later run does not meet
    /// again ([`Error::passes`]); the target holds its progress, and running it again with
    /// [`Options::resume`](crate::transfer::Options::resume) finishes it. A failure that would
    /// repeat is returned as it is, never wrapped in this variant.
    #[error("{source}; the target keeps the progress made, and resuming finishes the transfer")]
    Stopped {
        /// What stopped it.
        source: Box<Error>,
    },
    /// The data layer failed.
    #[error(transparent)]
    Data(#[from] crate::Error),
}
