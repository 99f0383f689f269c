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
    /// A statement failed on the database. [`Error::sqlstate`], [`Error::sqlite_code`] and
    /// the `is_*` methods tell what kind of failure it was.
    #[error("query failed: {message}")]
    Query {
        /// The database's message, with a hint of ours when we know the fix.
        message: String,
        /// What the database reported, beyond the message.
        #[source]
        source: DatabaseError,
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
    /// A backend's own method was called on a thread that has a transaction of the same backend
    /// (or a clone) open; statements of a transaction go through its executor.
    #[error("a transaction of this backend is open on this thread: run the statement through the transaction's executor (`tx`), not the backend")]
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
    /// Wraps a driver error from a statement run by `driver` (`None` when the
    /// caller cannot tell, as for a commit inside Diesel's transaction).
    pub(crate) fn database(source: diesel::result::Error, driver: Option<Driver>) -> Self {
        let source = DatabaseError::new(source, driver);
        Error::Query {
            message: source.message_with_hint(),
            source,
        }
    }

    /// Wraps a Diesel error from a statement.
    pub(crate) fn query(source: diesel::result::Error) -> Self {
        Self::database(source, None)
    }

    /// This error with the driver it came from, so its codes can be told.
    pub(crate) fn with_driver(self, driver: Driver) -> Self {
        match self {
            Error::Query { source, .. } if source.0.driver.is_none() => {
                Error::database(source.0.source, Some(driver))
            }
            other => other,
        }
    }

    /// What the database reported, when this error came from it.
    pub fn database_error(&self) -> Option<&DatabaseError> {
        match self {
            Error::Query { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The SQLSTATE of a PostgreSQL error (`23505` for a unique violation); see
    /// [`DatabaseError::sqlstate`].
    pub fn sqlstate(&self) -> Option<&str> {
        self.database_error().and_then(DatabaseError::sqlstate)
    }

    /// The result code of a SQLite error; see [`DatabaseError::sqlite_code`].
    pub fn sqlite_code(&self) -> Option<i32> {
        self.database_error().and_then(DatabaseError::sqlite_code)
    }

    /// The constraint a PostgreSQL integrity violation names (SQLite does not report it).
    pub fn constraint(&self) -> Option<&str> {
        self.database_error().and_then(DatabaseError::constraint)
    }

    /// Whether a row broke a unique or primary key (PostgreSQL 23505, SQLite
    /// `SQLITE_CONSTRAINT_UNIQUE` / `_PRIMARYKEY`).
    pub fn is_unique_violation(&self) -> bool {
        self.kind() == Some(Kind::Unique)
    }

    /// Whether a row broke a foreign key (PostgreSQL 23503, or 23001 for an `ON DELETE/UPDATE
    /// RESTRICT` key, which PostgreSQL 18 reports apart and older servers as 23503; SQLite
    /// `SQLITE_CONSTRAINT_FOREIGNKEY`).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self.kind(), Some(Kind::ForeignKey | Kind::Restrict))
    }

    /// Whether a `NOT NULL` column was given a null (PostgreSQL 23502, SQLite
    /// `SQLITE_CONSTRAINT_NOTNULL`).
    pub fn is_not_null_violation(&self) -> bool {
        self.kind() == Some(Kind::NotNull)
    }

    /// Whether a row broke a `CHECK` constraint (PostgreSQL 23514, SQLite
    /// `SQLITE_CONSTRAINT_CHECK`).
    pub fn is_check_violation(&self) -> bool {
        self.kind() == Some(Kind::Check)
    }

    /// Whether the database was busy or locked for longer than it waits (SQLite `SQLITE_BUSY`
    /// or `SQLITE_LOCKED` after the busy timeout, PostgreSQL 55P03 `lock_not_available`): the
    /// statement may succeed when retried later.
    pub fn is_busy(&self) -> bool {
        self.kind() == Some(Kind::Busy)
    }

    /// Whether PostgreSQL aborted the transaction for a conflict with a concurrent one
    /// (40001 `serialization_failure`, 40P01 `deadlock_detected`): running the whole
    /// transaction again may succeed. Transactions are retried on these automatically.
    pub fn is_serialization_failure(&self) -> bool {
        matches!(self.kind(), Some(Kind::Serialization | Kind::Deadlock))
    }

    fn kind(&self) -> Option<Kind> {
        self.database_error().map(|e| e.0.kind)
    }
}

/// Which driver an error came from: its codes are told apart by it. (Not `Dialect`, which
/// depends on this module for its `Result`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    Sqlite,
    Postgres,
}

/// What a database reported about a failed statement: its kind, codes and the names it gave.
/// Read it through [`Error::database_error`] or the methods of [`Error`].
/// Boxed, so that a `Result` of the data layer stays small.
#[derive(Debug)]
pub struct DatabaseError(Box<Details>);

#[derive(Debug)]
struct Details {
    kind: Kind,
    driver: Option<Driver>,
    message: String,
    constraint: Option<String>,
    table: Option<String>,
    column: Option<String>,
    /// Kept whole so the driver can be told again ([`Error::with_driver`]); not part of the API.
    source: diesel::result::Error,
}

/// The kinds of failure a caller acts on, from the driver's classification and, where the
/// driver has none, from the database's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
    Restrict,
    Exclusion,
    ReadOnly,
    Serialization,
    Deadlock,
    Busy,
    Other,
}

impl DatabaseError {
    fn new(source: diesel::result::Error, driver: Option<Driver>) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        let (kind, message, names) = match &source {
            E::DatabaseError(kind, info) => {
                let message = info.message().to_string();
                let kind = match kind {
                    K::UniqueViolation => Kind::Unique,
                    K::ForeignKeyViolation => Kind::ForeignKey,
                    K::NotNullViolation => Kind::NotNull,
                    K::CheckViolation => Kind::Check,
                    K::RestrictViolation => Kind::Restrict,
                    K::ExclusionViolation => Kind::Exclusion,
                    K::ReadOnlyTransaction => Kind::ReadOnly,
                    K::SerializationFailure => Kind::Serialization,
                    _ => kind_from_message(&message),
                };
                let name = |n: Option<&str>| n.map(str::to_string);
                let names = (
                    name(info.constraint_name()),
                    name(info.table_name()),
                    name(info.column_name()),
                );
                (kind, message, names)
            }
            other => (Kind::Other, other.to_string(), (None, None, None)),
        };
        DatabaseError(Box::new(Details {
            kind,
            driver,
            message,
            constraint: names.0,
            table: names.1,
            column: names.2,
            source,
        }))
    }

    /// The driver's error, for the crate's own classification of server errors (the transfer
    /// asks whether a failure passes); not part of the API.
    #[cfg_attr(not(transfer), allow(dead_code))]
    pub(crate) fn driver(&self) -> &diesel::result::Error {
        &self.0.source
    }

    /// The database's message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The table the database named (PostgreSQL integrity violations).
    pub fn table(&self) -> Option<&str> {
        self.0.table.as_deref()
    }

    /// The column the database named (PostgreSQL `NOT NULL` violations).
    pub fn column(&self) -> Option<&str> {
        self.0.column.as_deref()
    }

    /// The constraint the database named (PostgreSQL integrity violations).
    pub fn constraint(&self) -> Option<&str> {
        self.0.constraint.as_deref()
    }

    /// The SQLSTATE of a PostgreSQL error, for the failures a caller acts on; `None` for
    /// every other error and on SQLite.
    ///
    /// This is not the code the server sent, which Diesel 2.3 does not hand on: it reads the
    /// SQLSTATE (libpq's `PG_DIAG_SQLSTATE`) only to choose its `DatabaseErrorKind`, the error
    /// information it keeps (`DatabaseErrorInformation`: message, details, hint, table,
    /// column, constraint, statement position) has no method for the code, and the libpq
    /// result that holds it is private. So the code is rebuilt from what Diesel does hand on:
    ///
    /// - from Diesel's kind, exactly (Diesel gives each of these kinds for that one code):
    ///   `23505` unique, `23503` foreign key, `23502` not null, `23514` check, `23001`
    ///   restrict, `23P01` exclusion, `40001` serialization failure, `25006` read-only
    ///   transaction;
    /// - from the server's message, which holds only while its `lc_messages` is English:
    ///   `40P01` (`deadlock detected`) and `55P03` (`could not obtain lock ...`, `canceling
    ///   statement due to lock timeout`);
    /// - `None` for anything else (a syntax error `42601`, an undefined table `42P01`, a data
    ///   exception `22xxx`, a lost connection `08xxx`, ...), although the server sent a code.
    pub fn sqlstate(&self) -> Option<&str> {
        if self.0.driver != Some(Driver::Postgres) {
            return None;
        }
        Some(match self.0.kind {
            Kind::Unique => "23505",
            Kind::ForeignKey => "23503",
            Kind::NotNull => "23502",
            Kind::Check => "23514",
            Kind::Restrict => "23001",
            Kind::Exclusion => "23P01",
            Kind::ReadOnly => "25006",
            Kind::Serialization => "40001",
            Kind::Deadlock => "40P01",
            Kind::Busy => "55P03",
            Kind::Other => return None,
        })
    }

    /// The result code of a SQLite error, for the failures a caller acts on; `None` for every
    /// other error and on PostgreSQL.
    ///
    /// Rebuilt like [`DatabaseError::sqlstate`]: Diesel reads SQLite's extended code only to
    /// choose its kind and hands on the message alone. So this is:
    ///
    /// - the extended code where Diesel's kind pins it: `SQLITE_CONSTRAINT_FOREIGNKEY` (787),
    ///   `SQLITE_CONSTRAINT_NOTNULL` (1299), `SQLITE_CONSTRAINT_CHECK` (275);
    /// - the primary code `SQLITE_CONSTRAINT` (19) for a unique violation: Diesel gives one
    ///   kind to `SQLITE_CONSTRAINT_UNIQUE` (2067) and `SQLITE_CONSTRAINT_PRIMARYKEY` (1555),
    ///   and SQLite words both `UNIQUE constraint failed`;
    /// - from the message: `SQLITE_LOCKED` (6, `database table is locked`) and `SQLITE_BUSY`
    ///   (5, `database is locked`), which also stands for extended codes worded the same, such
    ///   as `SQLITE_BUSY_SNAPSHOT` (517).
    pub fn sqlite_code(&self) -> Option<i32> {
        if self.0.driver != Some(Driver::Sqlite) {
            return None;
        }
        match self.0.kind {
            Kind::Unique => Some(19),
            Kind::ForeignKey => Some(787),
            Kind::NotNull => Some(1299),
            Kind::Check => Some(275),
            Kind::Busy if self.0.message.contains("table is locked") => Some(6),
            Kind::Busy => Some(5),
            _ => None,
        }
    }

    /// The message with our hint for the two mistakes whose fix the database does not say:
    /// text bound to an enum or JSON column on PostgreSQL.
    fn message_with_hint(&self) -> String {
        let hint = type_mismatch(&self.0.message).map(|(column_type, column)| {
            if column_type == "jsonb" || column_type == "json" {
                format!("bind a `Value::Json` for `{column}`, or write the parameter as `$N::{column_type}`")
            } else {
                format!("write the parameter for `{column}` as `$N::{column_type}` (see `Dialect::cast_param`); SQLite accepts text there, PostgreSQL needs the cast")
            }
        });
        match hint {
            Some(hint) => format!("{}; {hint}", self.0.message),
            None => self.0.message.clone(),
        }
    }
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for DatabaseError {}

/// Kinds Diesel has no variant for, told by the message the databases write for them.
fn kind_from_message(message: &str) -> Kind {
    // SQLite's SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL's 55P03 (`NOWAIT`, `lock_timeout`).
    if message.contains("database is locked")
        || message.contains("database table is locked")
        || message.starts_with("could not obtain lock")
        || message.starts_with("canceling statement due to lock timeout")
    {
        Kind::Busy
    } else if message.contains("deadlock detected") {
        Kind::Deadlock
    } else if message.starts_with("could not serialize access") {
        Kind::Serialization
    } else {
        Kind::Other
    }
}

/// The type and column of PostgreSQL's `column "c" is of type T but expression is of type text`.
fn type_mismatch(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("column \"")?;
    let (column, rest) = rest.split_once("\" is of type ")?;
    let (column_type, found) = rest.split_once(" but expression is of type ")?;
    (found == "text").then_some((column_type, column))
}

#[doc(hidden)]
impl From<diesel::result::Error> for Error {
    fn from(source: diesel::result::Error) -> Self {
        Error::query(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_for_an_enum_or_json_column_gets_a_hint() {
        assert_eq!(
            type_mismatch(
                "column \"status\" is of type mission_status but expression is of type text"
            ),
            Some(("mission_status", "status"))
        );
        assert_eq!(
            type_mismatch("column \"n\" is of type integer but expression is of type bigint"),
            None
        );
        assert_eq!(kind_from_message("deadlock detected"), Kind::Deadlock);
        assert_eq!(kind_from_message("database is locked"), Kind::Busy);
    }
}
