//! Error and Result of the data layer.
//!
//! One `#[non_exhaustive]` enum for everything the data layer can fail with. Messages are
//! lowercase, name things in backticks and never contain a password: URLs are carried as
//! [`crate::redact::RedactedUrl`].

use crate::redact::RedactedUrl;

/// The result type of the data layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the data layer can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No registered backend handles the URL's scheme.
    #[error("no backend for scheme `{scheme}`; available: {available}")]
    UnknownScheme {
        /// The scheme that was asked for.
        scheme: String,
        /// The registered schemes, comma separated.
        available: String,
    },
    /// The backend exists but this build left it out.
    #[error("{0}")]
    NotCompiled(&'static str),
    /// A connection could not be made.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// Where we tried to connect, without the password.
        url: RedactedUrl,
        /// The driver's message.
        message: String,
    },
    /// Every pooled connection stayed busy for the whole connect timeout.
    #[error("timed out after {timeout:?} waiting for a connection from the pool (all {max_size} in use)")]
    PoolTimeout {
        /// How long we waited.
        timeout: std::time::Duration,
        /// The pool's size.
        max_size: u32,
    },
    /// A statement failed on the database.
    #[error("query failed: {message}")]
    Query {
        /// The database's message.
        message: String,
        /// The underlying Diesel error.
        #[source]
        source: diesel::result::Error,
    },
    /// The SQL text or its parameters are unusable before reaching the database.
    #[error("invalid statement: {0}")]
    Statement(String),
    /// A value could not be read as the requested type.
    #[error("cannot read column `{column}` as {expected}: found {found}")]
    Conversion {
        /// The column (name or index).
        column: String,
        /// The Rust-side type that was asked for.
        expected: &'static str,
        /// A description of the value that was there.
        found: String,
    },
    /// A schema migration failed.
    #[error("migration failed: {message}")]
    Migration {
        /// What went wrong, including the migration version when known.
        message: String,
    },
    /// The configuration is unusable.
    #[error("config {origin}: {message}")]
    Config {
        /// Where the config came from (a path, or `environment`).
        origin: String,
        /// What is wrong with it.
        message: String,
    },
    /// No row has the key that was asked for.
    #[error("no row in `{table}` with {key}")]
    NotFound {
        /// The table that was searched.
        table: &'static str,
        /// The key, written as `column = value`.
        key: String,
    },
    /// A closure given to a transaction asked for a rollback.
    #[error("transaction rolled back: {0}")]
    Rollback(String),
    /// A backend's own method was called on a thread that has a transaction open on the same
    /// database; statements of a transaction go through its executor.
    #[error("a transaction is open on this thread on this database: run the statement through the transaction's executor (`tx`), not the backend")]
    InTransaction,
    /// The backend was closed with [`crate::Backend::close`].
    #[error("the backend was closed")]
    Closed,
    /// A local throwaway PostgreSQL server could not be started or driven.
    #[error("local PostgreSQL server: {message}")]
    Server {
        /// What went wrong, with the install hint when binaries are missing.
        message: String,
    },
    /// An I/O error outside the database driver.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps a Diesel error from a statement.
    pub(crate) fn query(source: diesel::result::Error) -> Self {
        let message = match &source {
            diesel::result::Error::DatabaseError(_, info) => info.message().to_string(),
            other => other.to_string(),
        };
        Error::Query { message, source }
    }

    /// Whether the database reported a busy or locked condition worth retrying.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Query { message, .. } => {
                message.contains("database is locked")
                    || message.contains("database table is locked")
            }
            _ => false,
        }
    }

    /// Whether this is a serialization failure or deadlock (PostgreSQL SQLSTATE 40001 / 40P01).
    pub fn is_serialization_failure(&self) -> bool {
        matches!(
            self,
            Error::Query {
                source: diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::SerializationFailure,
                    _
                ),
                ..
            }
        ) || matches!(self, Error::Query { message, .. } if message.contains("deadlock detected"))
    }
}

impl From<diesel::result::Error> for Error {
    fn from(source: diesel::result::Error) -> Self {
        Error::query(source)
    }
}
