//! [`SqliteBackend`]: the [`Backend`] on SQLite through Diesel and an r2d2 pool. Runs the
//! schema migrations its config names ([`DbConfig::schema_migrations`]).
//!
//! Every pooled connection gets `busy_timeout`, `journal_mode = WAL` (files only),
//! `synchronous = NORMAL` and `foreign_keys = ON` when it is opened. `:memory:` becomes a named
//! in-memory database on SQLite's `memdb` VFS, so every connection of the pool sees the same
//! data.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::query_builder::AstPass;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Binary, Double, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection, SqliteType, SqliteValue};
use diesel::QueryResult;
use diesel_dynamic_schema::dynamic_value::Any as AnySql;

use super::dynamic::Bind;
use super::{
    catch_panic, checkout_error, migrations, open_transactions, with_retries, Backend, Executor,
    TransactionOptions,
};
use crate::config::{DbConfig, RedactedUrl};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::value::{format_sqlite_timestamp, Row, Value};

/// A pooled SQLite database.
#[derive(Clone)]
pub struct SqliteBackend {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    url: RedactedUrl,
    max_size: u32,
    timeout: std::time::Duration,
    closed: Arc<AtomicBool>,
    /// The schema migrations this backend runs (the config's, or the bundled ones).
    migrations: Migrations,
    /// Shared by clones: marks this database's transactions open on a thread.
    id: u64,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("url", &self.url)
            .field("pool", &self.pool.state())
            .finish()
    }
}

#[derive(Debug)]
struct Pragmas {
    busy_timeout_ms: u64,
    in_memory: bool,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(
        &self,
        conn: &mut SqliteConnection,
    ) -> std::result::Result<(), diesel::r2d2::Error> {
        // busy_timeout goes first: switching to WAL itself may wait on another connection.
        let mut sql = format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON;",
            self.busy_timeout_ms
        );
        if !self.in_memory {
            sql.push_str(" PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        }
        SimpleConnection::batch_execute(conn, &sql).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Puts the process's SQLite library in multi-thread mode, without memory statistics: SQLite
/// then stops taking a mutex on every `sqlite3_*` call of a connection. Returns whether the
/// setting took; it can only be set before SQLite is first used in the process.
///
/// This is sound for every Diesel connection: `SqliteConnection` is `Send` but not `Sync`, so
/// one connection is never used by two threads at once, which is all multi-thread mode asks.
/// A process that shares one raw SQLite handle between threads outside Diesel must not call
/// it. The `dbshift` command calls it first thing; in the migrator's reader these mutexes
/// cost about a sixth of the client's CPU.
pub fn use_multi_thread_mode() -> bool {
    use libsqlite3_sys as ffi;
    // SAFETY: sqlite3_config is documented as callable before sqlite3_initialize (it returns
    // SQLITE_MISUSE, changing nothing, afterwards); the variadic arguments match each option:
    // none for SQLITE_CONFIG_MULTITHREAD, one int for SQLITE_CONFIG_MEMSTATUS.
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) == ffi::SQLITE_OK
            && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::os::raw::c_int)
                == ffi::SQLITE_OK
    }
}

/// The file name or URI SQLite should open for a config URL, and whether it is in memory.
///
/// `sqlite://REST` becomes the URI `file:REST`, exactly as Diesel (and so diesel CLI) opens
/// it, so both mean the same file even with URI parameters (`?mode=ro`); `sqlite:REST` means
/// the same as `sqlite://REST`; anything else is a path or `file:` URI given to SQLite as is.
pub(crate) fn sqlite_target(url: &str) -> (String, bool) {
    static MEMORY_DBS: AtomicU64 = AtomicU64::new(0);
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"));
    let path = rest.unwrap_or(url);
    if path.is_empty() || path == ":memory:" {
        let n = MEMORY_DBS.fetch_add(1, Ordering::Relaxed);
        // memdb databases whose name starts with '/' are shared by all connections of the
        // process, with ordinary locking (unlike shared-cache mode, which fails with
        // SQLITE_LOCKED instead of waiting on the busy timeout).
        return (
            format!("file:/dbshift-memory-{}-{n}?vfs=memdb", std::process::id()),
            true,
        );
    }
    let in_memory = path.contains("mode=memory") || path.contains("vfs=memdb");
    let target = match rest {
        Some(rest) => format!("file:{rest}"),
        None => path.to_string(),
    };
    (target, in_memory)
}

impl SqliteBackend {
    /// Opens a pool on the SQLite database of `config` (created if missing).
    pub fn connect(config: &DbConfig) -> Result<Self> {
        config.validate()?;
        let url = config.url.redacted();
        let migrations = config.schema_migrations()?;
        let (target, in_memory) = sqlite_target(config.url.expose());
        let timeout = config.pool.connect_timeout();
        // An in-memory database lives while one connection is open: keep one idle always.
        let min_idle = if in_memory {
            config.pool.min_idle.max(1)
        } else {
            config.pool.min_idle
        };
        // r2d2 runs `SELECT 1` on every checkout by default, to catch connections a server
        // dropped. A SQLite connection is a handle on a local file that nothing drops, so the
        // check found nothing and cost a point read about a sixth of its time.
        let mut builder = Pool::builder()
            .max_size(config.pool.max_size)
            .min_idle(Some(min_idle))
            .test_on_check_out(false)
            .connection_timeout(timeout);
        if in_memory {
            // Recycling every connection at once would free the in-memory database.
            builder = builder.max_lifetime(None).idle_timeout(None);
        }
        let pool = builder
            .connection_customizer(Box::new(Pragmas {
                busy_timeout_ms: config.pool.busy_timeout_ms,
                in_memory,
            }))
            .build(ConnectionManager::<SqliteConnection>::new(target))
            .map_err(|e| Error::Connect {
                url: url.clone(),
                message: e.to_string(),
            })?;
        // With no idle minimum the pool opens nothing yet; one checkout makes a missing
        // directory or an unreadable file fail here, as PostgreSQL's first connect does.
        drop(
            pool.get().map_err(|e| {
                checkout_error(e, pool.state(), config.pool.max_size, timeout, &url)
            })?,
        );
        tracing::debug!(%url, max_size = config.pool.max_size, "opened sqlite pool");
        Ok(SqliteBackend {
            pool,
            url,
            max_size: config.pool.max_size,
            timeout,
            closed: Arc::new(AtomicBool::new(false)),
            migrations,
            id: open_transactions::new_id(),
        })
    }

    /// A pooled connection, for callers inside the crate that need Diesel directly.
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        open_transactions::check_outside(self.id)?;
        self.pool.get().map_err(|e| {
            checkout_error(e, self.pool.state(), self.max_size, self.timeout, &self.url)
        })
    }

    /// The underlying r2d2 pool (for typed Diesel code sharing the same connections).
    pub fn pool(&self) -> &Pool<ConnectionManager<SqliteConnection>> {
        &self.pool
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &str {
        "sqlite"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn url(&self) -> RedactedUrl {
        self.url.clone()
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        Executor::execute(&mut *self.conn()?, sql, params)
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Executor::query(&mut *self.conn()?, sql, params)
    }

    fn query_first(&self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        Executor::query_first(&mut *self.conn()?, sql, params)
    }

    fn batch_execute(&self, sql: &str) -> Result<()> {
        Executor::batch_execute(&mut *self.conn()?, sql)
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        Executor::query_each(&mut *self.conn()?, sql, params, each)
    }

    fn transaction_dyn(
        &self,
        options: &TransactionOptions,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let _open = open_transactions::enter(self.id)?;
        // SQLite is serializable at every level: BEGIN IMMEDIATE takes the write lock first,
        // so a read-modify-write never conflicts and the retry below is for form's sake.
        with_retries(options.max_attempts, || {
            let mut panic = None;
            let result = conn.immediate_transaction(|conn| catch_panic(|| body(conn), &mut panic));
            if let Some(panic) = panic {
                std::panic::resume_unwind(panic);
            }
            result.map_err(|e| e.with_driver(crate::error::Driver::Sqlite))
        })
    }

    fn run_pending_migrations(&self) -> Result<Vec<String>> {
        migrations::run_pending(
            &mut *self.conn()?,
            &self.migrations.for_dialect(Dialect::Sqlite)?,
        )
    }

    fn applied_migrations(&self) -> Result<Vec<String>> {
        migrations::applied(&mut *self.conn()?)
    }

    fn pending_migrations(&self) -> Result<Vec<String>> {
        migrations::pending(
            &mut *self.conn()?,
            &self.migrations.for_dialect(Dialect::Sqlite)?,
        )
    }

    fn revert_last_migration(&self) -> Result<Option<String>> {
        migrations::revert_last(
            &mut *self.conn()?,
            &self.migrations.for_dialect(Dialect::Sqlite)?,
        )
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

dynamic_executor!(
    SqliteConnection,
    Dialect::Sqlite,
    crate::error::Driver::Sqlite,
    diesel::connection::DefaultLoadingMode,
    crate::backend::statement_cache::sqlite_signature
);

/// Text that SQLite stores for a value it has no type of its own for: a timestamp, a JSON
/// document or a UUID (see the table in [`crate::value`]). Private, so the conversions below
/// serve only the binds of this module.
#[derive(Debug, Clone, Copy, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(sqlite_type(name = "Text"))]
struct StoredText;

impl ToSql<StoredText, Sqlite> for chrono::DateTime<chrono::Utc> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(format_sqlite_timestamp(self));
        Ok(IsNull::No)
    }
}

impl ToSql<StoredText, Sqlite> for serde_json::Value {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<StoredText, Sqlite> for uuid::Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

/// A parameter is bound in the form SQLite stores it (see the table in [`crate::value`]),
/// straight from the value: nothing is converted or collected before the statement runs.
impl Bind<Sqlite> for Value {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        match self {
            Value::Null => out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&None),
            Value::Bool(b) => out.push_bind_param::<BigInt, i64>(if *b { &1 } else { &0 }),
            Value::Int(i) => out.push_bind_param::<BigInt, i64>(i),
            Value::Float(x) => out.push_bind_param::<Double, f64>(x),
            Value::Text(s) => out.push_bind_param::<Text, str>(s),
            Value::Bytes(b) => out.push_bind_param::<Binary, [u8]>(b),
            Value::Timestamp(t) => out.push_bind_param::<StoredText, _>(t),
            Value::Json(j) => out.push_bind_param::<StoredText, _>(j),
            Value::Uuid(u) => out.push_bind_param::<StoredText, _>(u),
        }
    }
}

/// A TEXT value as `Value::Text`, or as `Value::Bytes` when it is not valid UTF-8, so nothing
/// changes on the way. Diesel's `read_text` replaces invalid UTF-8 with U+FFFD silently, while
/// its `read_blob` on text copies the value first (about a quarter of what a point read cost
/// over typed Diesel). So text is read with `read_text`, and only a result holding U+FFFD,
/// rare in real data, is read again as raw bytes to tell a stored U+FFFD from a replaced byte.
fn read_text(value: &mut SqliteValue<'_, '_, '_>) -> Value {
    let text = value.read_text();
    // U+FFFD is EF BF BD in UTF-8: a byte scan rules it out in a few instructions, where the
    // search for the character costs a few hundred on short text.
    if !text.as_bytes().contains(&0xEF) || !text.contains('\u{FFFD}') {
        return Value::Text(text.to_owned());
    }
    match std::str::from_utf8(value.read_blob()) {
        Ok(text) => Value::Text(text.to_owned()),
        Err(_) => Value::Bytes(value.read_blob().to_vec()),
    }
}

impl FromSql<AnySql, Sqlite> for Value {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(match value.value_type() {
            Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                Value::Int(value.read_long())
            }
            Some(SqliteType::Double | SqliteType::Float) => Value::Float(value.read_double()),
            Some(SqliteType::Text) => read_text(&mut value),
            Some(SqliteType::Binary) => Value::Bytes(value.read_blob().to_vec()),
            None => Value::Null,
        })
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => <Self as FromSql<AnySql, Sqlite>>::from_sql(value),
            None => Ok(Value::Null),
        }
    }
}
