//! Error and Result of the transfer layer. Messages are one line, lowercase, name the object in
//! backticks and say what to do where that is not obvious. URLs are always redacted.

use std::path::PathBuf;

use crate::config::RedactedUrl;

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
    },
    /// The target PostgreSQL refused or failed an operation.
    #[error("PostgreSQL {url}: {message}")]
    Target {
        /// The target, without its password.
        url: RedactedUrl,
        /// The server's message, with the table when known.
        message: String,
    },
    /// The target already holds tables the transfer would write, and `--if-exists` is `fail`.
    #[error("target {url} is not empty: {tables} already exist; use --if-exists truncate|drop, --resume, or an empty database")]
    TargetNotEmpty {
        /// The target, without its password.
        url: RedactedUrl,
        /// The tables found, comma separated (first few).
        tables: String,
    },
    /// A plan file could not be read or does not fit the source.
    #[error("plan file `{path}`: {message}")]
    PlanFile {
        /// The plan file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        message: String,
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
    /// A transfer stopped after it had started writing; the target holds its progress.
    #[error("{source}; run the same command with --resume to finish the transfer")]
    Stopped {
        /// What stopped it.
        source: Box<Error>,
    },
    /// The data layer failed.
    #[error(transparent)]
    Data(#[from] crate::Error),
}
