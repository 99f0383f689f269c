//! What the transfer asks of a PostgreSQL error and connection, in one place: the server's
//! message on one line, whether the server answered at all, what kind of refusal an error is,
//! and a statement run under a savepoint so a refusal leaves the transaction usable.
//!
//! Every decision the loading side takes on a server error goes through [`refusal`]; nothing
//! else looks at an error's text.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Nullable, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use crate::transfer::error::Error;

/// What the server's error says about the statement it refused, as far as the loading side
/// needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No answer: the connection failed or the error came from the client side.
    NoAnswer,
    /// A duplicate key or an exclusion conflict (SQLSTATE 23505, 23P01).
    Duplicate,
    /// A row's foreign key names no parent row (SQLSTATE 23503): the parent may come later in
    /// the same table, or was rejected itself.
    MissingParent,
    /// The data broke a constraint or did not fit its type (SQLSTATE classes 22 and 23).
    Data,
    /// A foreign key's referenced columns have no unique constraint (SQLSTATE 42830,
    /// `invalid_foreign_key`).
    NoUniqueKeyForForeignKey,
    /// Anything else the server refused.
    Other,
}

/// Fragments of the messages of PostgreSQL's data exceptions (class 22) that Diesel reports
/// with no kind of its own.
const DATA_MESSAGES: &[&str] = &[
    "invalid input",
    "out of range",
    "too long",
    "invalid byte sequence",
    "violates",
    "unsupported Unicode",
    "malformed",
    "overflow",
    "invalid value",
    "invalid interval",
    "invalid cidr",
    "invalid inet",
    "unterminated",
    "cannot be represented",
    "unsupported jsonb",
    "not a valid",
    // 22026, a bit string of the wrong length for bit(n); 22000, a range whose bounds are
    // reversed.
    "does not match type",
    "lower bound must be less than or equal to",
    // 54001, a JSON document nested deeper than the server's parser reaches.
    "stack depth limit exceeded",
];

/// The message PostgreSQL gives SQLSTATE 42830 for a foreign key without a unique parent key.
const NO_UNIQUE_KEY_MESSAGE: &str = "no unique constraint matching";

/// Classifies a server error by SQLSTATE. Diesel 2.3 maps only the integrity violations
/// (23xxx), serialization failures and lost connections to a [`DatabaseErrorKind`] and keeps
/// the SQLSTATE itself private; the other codes the transfer needs (data exceptions, 42830) are
/// told by the message PostgreSQL writes for them, here and nowhere else.
pub(crate) fn refusal(e: &DieselError) -> Refusal {
    let DieselError::DatabaseError(kind, info) = e else {
        return Refusal::NoAnswer;
    };
    match kind {
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
            Refusal::NoAnswer
        }
        DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ExclusionViolation => {
            Refusal::Duplicate
        }
        DatabaseErrorKind::ForeignKeyViolation => Refusal::MissingParent,
        DatabaseErrorKind::NotNullViolation | DatabaseErrorKind::CheckViolation => Refusal::Data,
        _ => {
            let message = info.message();
            if DATA_MESSAGES.iter().any(|needle| message.contains(needle)) {
                Refusal::Data
            } else if message.contains(NO_UNIQUE_KEY_MESSAGE) {
                Refusal::NoUniqueKeyForForeignKey
            } else {
                Refusal::Other
            }
        }
    }
}

/// Fragments of the messages of server errors that a later run does not meet again: the
/// connection went away (a crash, an administrator's shutdown, a restart: SQLSTATE classes 08
/// and 57P01-57P03), the server ran out of something it gets back (disk full 53100, memory
/// 53200, connection slots 53300), a serialization failure or deadlock (class 40), and a lock
/// another session held (55P03) until it lets go. A statement timeout, a refused value, a
/// missing right or a broken schema come back the same on every run.
const PASSING_MESSAGES: &[&str] = &[
    "terminating connection",
    "server closed the connection",
    "connection to server",
    "the database system is",
    "could not connect",
    "no connection to the server",
    "could not extend file",
    "no space left on device",
    "could not write to file",
    "out of memory",
    "too many connections",
    "remaining connection slots",
    "deadlock detected",
    "could not serialize",
    "lock timeout",
    "could not obtain lock",
    "conflict with recovery",
];

/// Whether running the same transfer again can get past this error (see [`PASSING_MESSAGES`]):
/// a lost connection or a resource the server gets back, never a refusal that will repeat.
pub(crate) fn passes(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            PASSING_MESSAGES
                .iter()
                .any(|needle| message.contains(needle))
        }
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Whether the server gave up waiting for a lock (`lock_timeout`, SQLSTATE 55P03).
pub(crate) fn is_lock_timeout(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(_, info) if info.message().contains("lock timeout"))
}

/// Whether the server answered with an error (rather than the connection failing).
pub(crate) fn answered(e: &DieselError) -> bool {
    refusal(e) != Refusal::NoAnswer
}

/// Whether the server refused the *data* (so isolating rows can find the culprits), rather
/// than the statement, the connection or the schema.
pub fn is_data_error(e: &DieselError) -> bool {
    matches!(
        refusal(e),
        Refusal::Data | Refusal::Duplicate | Refusal::MissingParent
    )
}

/// The message of a Diesel error without Diesel's decoration, on one line, with the server's
/// detail in parentheses.
pub fn server_message(e: &DieselError) -> String {
    match e {
        DieselError::DatabaseError(_, info) => {
            let mut message = info.message().to_string();
            if let Some(detail) = info.details() {
                message.push_str(" (");
                message.push_str(detail);
                message.push(')');
            }
            crate::backend::postgres::one_line(&message)
        }
        other => crate::backend::postgres::one_line(&other.to_string()),
    }
}

/// An error of the loading side that keeps the driver's: `doing` says what failed (`copying
/// table ...`), the message is the server's.
pub(crate) fn server_error(doing: impl Into<String>, e: DieselError) -> Error {
    Error::Server {
        doing: doing.into(),
        message: server_message(&e),
        source: e,
    }
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    setting: String,
}

/// The name dbshift's sessions carry in `pg_stat_activity`, one per process, so the lock
/// watcher finds them (and an administrator sees who they are).
pub(crate) fn application_name() -> String {
    format!("dbshift/{}", std::process::id())
}

/// Sets what a bulk load needs on one of dbshift's sessions, whatever the role, database or
/// server defaults are (a managed service may cut statements at a few seconds): no statement,
/// idle or transaction timeout, and a lock timeout of `lock_wait` (none when `None`). Returns
/// what differed, as `name: was -> now`, for the report. Settings the server does not know
/// (`idle_session_timeout` before 14, `transaction_timeout` before 17) are left alone.
pub(crate) fn prepare_session(
    conn: &mut PgConnection,
    lock_wait: Option<std::time::Duration>,
) -> QueryResult<Vec<String>> {
    let lock_ms = lock_wait.map_or(0, |d| d.as_millis().max(1));
    let wanted = [
        ("statement_timeout", 0),
        ("lock_timeout", lock_ms),
        ("idle_in_transaction_session_timeout", 0),
        ("idle_session_timeout", 0),
        ("transaction_timeout", 0),
    ];
    let current: Vec<Setting> = diesel::sql_query(
        "SELECT name::text AS name, setting::text AS setting FROM pg_settings WHERE name IN \
         ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', \
          'idle_session_timeout', 'transaction_timeout')",
    )
    .load(conn)?;
    let mut changed = Vec::new();
    let mut sql = format!(
        "SET application_name = '{}';",
        application_name().replace('\'', "''")
    );
    for (name, value) in wanted {
        let Some(now) = current.iter().find(|s| s.name == name) else {
            continue;
        };
        if now.setting != value.to_string() {
            changed.push(format!(
                "{name}: {} -> {}",
                shown_ms(&now.setting),
                shown_ms(&value.to_string())
            ));
        }
        sql.push_str(&format!("SET {name} = {value};"));
    }
    conn.batch_execute(&sql)?;
    Ok(changed)
}

/// A timeout setting as people read it: `0` is no limit, else milliseconds.
fn shown_ms(setting: &str) -> String {
    match setting {
        "0" => "0 (no limit)".to_string(),
        ms => format!("{ms} ms"),
    }
}

#[derive(QueryableByName)]
struct OptText {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// The first column (named `value`) of the first row of `sql`, when there is a row and it is
/// not NULL.
pub(crate) fn query_text(conn: &mut PgConnection, sql: &str) -> QueryResult<Option<String>> {
    let rows: Vec<OptText> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.value))
}

/// Runs one statement under a savepoint. An error `tolerated` accepts is rolled back to the
/// savepoint and handed back as `Ok(Some(..))`, the transaction still usable; any other error
/// is returned as it is.
pub(crate) fn under_savepoint(
    conn: &mut PgConnection,
    sql: &str,
    tolerated: impl Fn(&DieselError) -> bool,
) -> QueryResult<Option<DieselError>> {
    conn.batch_execute("SAVEPOINT dbshift_statement")?;
    match conn.batch_execute(sql) {
        Ok(()) => {
            conn.batch_execute("RELEASE SAVEPOINT dbshift_statement")?;
            Ok(None)
        }
        Err(e) if tolerated(&e) => {
            conn.batch_execute(
                "ROLLBACK TO SAVEPOINT dbshift_statement; RELEASE SAVEPOINT dbshift_statement",
            )?;
            Ok(Some(e))
        }
        Err(e) => Err(e),
    }
}

/// A server error kept past the call that reported it (Diesel's errors do not clone): the
/// message and detail, and the constraint and table it names.
pub(crate) fn kept(e: &DieselError) -> DieselError {
    match e {
        DieselError::DatabaseError(kind, info) => DieselError::DatabaseError(
            *kind,
            Box::new(KeptInfo {
                message: info.message().to_string(),
                details: info.details().map(str::to_string),
                constraint: info.constraint_name().map(str::to_string),
                table: info.table_name().map(str::to_string),
            }),
        ),
        other => DieselError::QueryBuilderError(other.to_string().into()),
    }
}

#[derive(Debug)]
struct KeptInfo {
    message: String,
    details: Option<String>,
    constraint: Option<String>,
    table: Option<String>,
}

impl diesel::result::DatabaseErrorInformation for KeptInfo {
    fn message(&self) -> &str {
        &self.message
    }
    fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }
    fn hint(&self) -> Option<&str> {
        None
    }
    fn table_name(&self) -> Option<&str> {
        self.table.as_deref()
    }
    fn column_name(&self) -> Option<&str> {
        None
    }
    fn constraint_name(&self) -> Option<&str> {
        self.constraint.as_deref()
    }
    fn statement_position(&self) -> Option<i32> {
        None
    }
}

#[derive(diesel::QueryableByName)]
pub(crate) struct KeyColumn {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) parent: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) child_column: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) parent_column: String,
}

/// The columns of foreign key `constraint` of `table` (qualified), in key order, with its parent
/// table: what a row refused for a missing parent pointed at.
pub(crate) fn foreign_key_columns(
    conn: &mut PgConnection,
    constraint: &str,
    table: &str,
) -> QueryResult<Vec<KeyColumn>> {
    diesel::sql_query(format!(
        "SELECT p.relname::text AS parent, ca.attname::text AS child_column,
                pa.attname::text AS parent_column
         FROM pg_constraint k
         JOIN pg_class p ON p.oid = k.confrelid
         CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS u(c, f, n)
         JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.c
         JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.f
         WHERE k.conname = {} AND k.conrelid = to_regclass({})
         ORDER BY u.n",
        crate::dialect::quote_literal(constraint),
        crate::dialect::quote_literal(table)
    ))
    .load(conn)
}

/// What the transfer's errors say about running again, decided here with the server errors
/// they carry (the error module itself looks at no error).
impl Error {
    /// Whether running the same transfer again can get past this error: the connection was
    /// lost, the server ran out of disk or memory, a lock was held by another session, a reject
    /// file could not be written for lack of space. A refusal that will repeat (a constraint, a
    /// value, a right, a timeout the server imposes, a broken plan) is not.
    pub fn passes(&self) -> bool {
        match self {
            Error::Target {
                source: Some(e), ..
            }
            | Error::Server { source: e, .. } => passes(e),
            Error::Stopped { .. } | Error::LockWait { .. } => true,
            Error::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
                    || source.raw_os_error() == Some(28)
            }
            Error::Data(e) => match e {
                crate::Error::Connect { .. } | crate::Error::PoolTimeout { .. } => true,
                crate::Error::Query { source, .. } => passes(source.driver()),
                _ => false,
            },
            _ => false,
        }
    }

    /// The driver's error this error carries, when it comes from the server.
    pub(crate) fn driver_error(&self) -> Option<&diesel::result::Error> {
        match self {
            Error::Target {
                source: Some(e), ..
            }
            | Error::Server { source: e, .. } => Some(e),
            Error::Data(crate::Error::Query { source, .. }) => Some(source.driver()),
            Error::Stopped { source } => source.driver_error(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_string()))
    }

    #[test]
    fn refusals_follow_the_kind_then_the_message() {
        let unknown = DatabaseErrorKind::Unknown;
        for (error, expected) in [
            (DieselError::NotFound, Refusal::NoAnswer),
            (
                server(DatabaseErrorKind::ClosedConnection, "violates"),
                Refusal::NoAnswer,
            ),
            (
                server(DatabaseErrorKind::UniqueViolation, "duplicate key"),
                Refusal::Duplicate,
            ),
            (
                server(DatabaseErrorKind::CheckViolation, "x"),
                Refusal::Data,
            ),
            (
                server(unknown, "invalid input syntax for type integer: \"a\""),
                Refusal::Data,
            ),
            (
                server(
                    unknown,
                    "there is no unique constraint matching given keys for referenced table \"p\"",
                ),
                Refusal::NoUniqueKeyForForeignKey,
            ),
            (
                server(unknown, "bit string length 1 does not match type bit(3)"),
                Refusal::Data,
            ),
            (
                server(
                    unknown,
                    "range lower bound must be less than or equal to range upper bound",
                ),
                Refusal::Data,
            ),
            (server(unknown, "stack depth limit exceeded"), Refusal::Data),
            (
                server(unknown, "function length(integer) does not exist"),
                Refusal::Other,
            ),
        ] {
            assert_eq!(refusal(&error), expected, "{error}");
        }
    }

    #[test]
    fn only_errors_that_pass_are_worth_running_again() {
        let unknown = DatabaseErrorKind::Unknown;
        for message in [
            "terminating connection due to administrator command",
            "terminating connection because of crash of another server process",
            "the database system is shutting down",
            "could not extend file \"base/1/2\": No space left on device",
            "canceling statement due to lock timeout",
            "deadlock detected",
        ] {
            assert!(passes(&server(unknown, message)), "{message}");
        }
        assert!(passes(&server(DatabaseErrorKind::ClosedConnection, "x")));
        for message in [
            "canceling statement due to statement timeout",
            "insert or update on table \"c\" violates foreign key constraint \"c_p_fkey\"",
            "permission denied for table t",
            "column \"message\" of relation \"t\" does not exist",
            "invalid input syntax for type integer: \"a\"",
        ] {
            assert!(!passes(&server(unknown, message)), "{message}");
        }
        assert!(!passes(&server(
            DatabaseErrorKind::ForeignKeyViolation,
            "x"
        )));
        assert!(is_lock_timeout(&server(
            unknown,
            "canceling statement due to lock timeout"
        )));
    }

    #[test]
    fn only_a_database_error_that_arrived_is_an_answer() {
        assert!(answered(&server(DatabaseErrorKind::Unknown, "x")));
        assert!(!answered(&server(
            DatabaseErrorKind::UnableToSendCommand,
            "x"
        )));
        assert!(!answered(&DieselError::RollbackTransaction));
        assert!(is_data_error(&server(
            DatabaseErrorKind::UniqueViolation,
            "x"
        )));
        assert!(!is_data_error(&server(
            DatabaseErrorKind::SerializationFailure,
            "could not serialize access"
        )));
    }
}
