//! The [`Backend`] trait: one object-safe, cloneable handle to a pooled database, whatever the
//! database is. Services hold a `Box<dyn Backend>` and never name a Diesel connection type.
//!
//! Parameters use PostgreSQL's numbered placeholders (`$1`, `$2`, ...) on every backend; see
//! [`crate::sql`]. Results come back as dynamic [`Row`]s.

use std::any::Any;
use std::fmt;

use dyn_clone::DynClone;

use crate::config::RedactedUrl;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// Implements [`Executor`] for a Diesel connection whose backend module implements
/// [`dynamic::Bind`] for [`Value`]. Written once here so both built-in backends run statements
/// the same way.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! dynamic_executor {
    ($conn:ty, $dialect:expr, $driver:expr, $streaming:ty, $signature:path) => {
        /// Looks `sql` up ([`statement_cache::statement`](crate::backend::statement_cache))
        /// and hands Diesel's query for it and its slot to `run`. A query Diesel loads finds
        /// its slot set on this thread; one it executes is keyed by the slot's type instead
        /// (see `statement_cache.rs`), so `executed` asks for a slot of that kind.
        fn run_dynamic<R>(
            sql: &str,
            params: &[Value],
            executed: bool,
            run: impl FnOnce(
                $crate::backend::dynamic::DynQuery<'_, Value>,
                Option<u16>,
            ) -> diesel::QueryResult<R>,
        ) -> Result<R> {
            use $crate::backend::statement_cache;
            let signature = $signature(params).map(|signature| {
                if executed {
                    signature | statement_cache::EXECUTED
                } else {
                    signature
                }
            });
            let statement = statement_cache::statement(sql, params.len(), signature)
                .map_err(|e| $crate::backend::statement_error(sql, e))?;
            let _slot = statement_cache::enter(if executed { None } else { statement.slot });
            let query = $crate::backend::dynamic::DynQuery {
                sql,
                parts: &statement.parts,
                binds: params,
            };
            run(query, statement.slot).map_err(|e| Error::database(e, Some($driver)))
        }

        /// Executes `query` keyed by its executed slot's type, or by its text without one.
        fn execute_in_slot(
            query: $crate::backend::dynamic::DynQuery<'_, Value>,
            slot: Option<u16>,
            conn: &mut $conn,
        ) -> diesel::QueryResult<usize> {
            fn run<K: 'static>(
                query: $crate::backend::dynamic::DynQuery<'_, Value>,
                conn: &mut $conn,
            ) -> diesel::QueryResult<usize> {
                diesel::RunQueryDsl::execute(
                    $crate::backend::dynamic::Executed::<Value, K>::new(query),
                    conn,
                )
            }
            type Run = for<'q, 'c> fn(
                $crate::backend::dynamic::DynQuery<'q, Value>,
                &'c mut $conn,
            ) -> diesel::QueryResult<usize>;
            static BY_SLOT: [Run; $crate::backend::statement_cache::EXECUTED_SLOTS] =
                $crate::backend::dynamic::executed_by_slot!(run);
            match slot {
                Some(slot) => BY_SLOT[usize::from(slot)](query, conn),
                None => diesel::RunQueryDsl::execute(query, conn),
            }
        }

        impl $crate::backend::Executor for $conn {
            fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize> {
                run_dynamic(sql, params, true, |query, slot| {
                    execute_in_slot(query, slot, self)
                })
            }

            fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
                run_dynamic(sql, params, false, |query, _| {
                    diesel::RunQueryDsl::load(query, self)
                })
            }

            fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
                // Read like `query`, without collecting: a point read makes no vector of rows.
                run_dynamic(sql, params, false, |query, _| {
                    let mut rows = diesel::RunQueryDsl::load_iter::<
                        Row,
                        diesel::connection::DefaultLoadingMode,
                    >(query, self)?;
                    let Some(first) = rows.next().transpose()? else {
                        return Ok((None, 0));
                    };
                    let mut count = 1;
                    for row in rows {
                        row?;
                        count += 1;
                    }
                    Ok((Some(first), count))
                })
            }

            fn query_each(
                &mut self,
                sql: &str,
                params: &[Value],
                each: &mut dyn FnMut(Row) -> Result<()>,
            ) -> Result<()> {
                let statement = $crate::backend::statement_cache::statement(
                    sql,
                    params.len(),
                    $signature(params),
                )
                .map_err(|e| $crate::backend::statement_error(sql, e))?;
                let query = $crate::backend::dynamic::DynQuery {
                    sql,
                    parts: &statement.parts,
                    binds: params,
                };
                let database = |e| Error::database(e, Some($driver));
                let slot = $crate::backend::statement_cache::enter(statement.slot);
                let rows = diesel::RunQueryDsl::load_iter::<Row, $streaming>(query, self)
                    .map_err(database)?;
                // Prepared by now: statements that `each` runs set their own slots.
                drop(slot);
                // Each row is built, handed over and dropped before the next is read; stopping
                // early drops the cursor, which leaves the connection ready for the next query.
                for row in rows {
                    each(row.map_err(database)?)?;
                }
                Ok(())
            }

            fn batch_execute(&mut self, sql: &str) -> Result<()> {
                diesel::connection::SimpleConnection::batch_execute(self, sql)
                    .map_err(|e| Error::database(e, Some($driver)))
            }

            fn transaction_dyn(
                &mut self,
                body: &mut dyn FnMut(&mut dyn $crate::backend::Executor) -> Result<()>,
            ) -> Result<()> {
                // Diesel's transaction manager tracks the depth: inside the transaction that
                // handed this connection out, it is a savepoint.
                let mut panic = None;
                let result = diesel::Connection::transaction(self, |conn| {
                    $crate::backend::catch_panic(|| body(conn), &mut panic)
                });
                if let Some(panic) = panic {
                    std::panic::resume_unwind(panic);
                }
                result.map_err(|e: Error| e.with_driver($driver))
            }

            fn dialect(&self) -> Dialect {
                $dialect
            }
        }
    };
}

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod registry;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod statement_cache;

#[cfg(feature = "postgres")]
pub use postgres::PostgresBackend;
pub use registry::{Factory, Registry};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteBackend;

/// Runs statements on one connection: the pool's for a single statement, or the one a
/// transaction holds.
pub trait Executor {
    /// Runs a statement with `$N` parameters; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize>;
    /// Runs a query with `$N` parameters and returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs a query with `$N` parameters and returns its first row (if any) and how many rows
    /// it returned; what [`query_one`](trait.Executor.html#method.query_one) and
    /// [`query_opt`](trait.Executor.html#method.query_opt) check. The default takes them
    /// from [`Executor::query`]; the built-in backends read the rows without collecting them.
    fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        let rows = self.query(sql, params)?;
        let count = rows.len();
        Ok((rows.into_iter().next(), count))
    }
    /// Runs a query with `$N` parameters and calls `each` with its rows in order, holding one
    /// at a time, so a result of any size reads in constant memory; an error from `each` stops
    /// the query and is returned. The built-in backends stream (SQLite steps its statement,
    /// PostgreSQL reads in libpq's single-row mode); the default collects with
    /// [`Executor::query`] first.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        self.query(sql, params)?.into_iter().try_for_each(each)
    }
    /// Runs several `;`-separated statements without parameters.
    fn batch_execute(&mut self, sql: &str) -> Result<()>;
    /// The SQL dialect of this connection.
    fn dialect(&self) -> Dialect;
    /// Runs `body` atomically on this connection: its statements all take effect, or none
    /// does when it returns `Err` or panics (the panic then continues). Prefer the generic
    /// [`dyn Executor::transaction`](trait.Executor.html#method.transaction) wrapper.
    ///
    /// Inside a transaction (the executor [`Backend::transaction_dyn`] hands out) this is a
    /// savepoint: rolling it back leaves the caller's transaction open and usable, also on
    /// PostgreSQL after an error, and the caller's commit or rollback decides in the end. On a
    /// pool handle used as an executor (`&dyn Backend`) it is a transaction of its own, with
    /// the default [`TransactionOptions`]. On a bare Diesel connection outside any transaction
    /// (reachable only through the concrete backends' `conn()`) it is Diesel's plain `BEGIN`.
    ///
    /// The default runs `body` between `SAVEPOINT`, `RELEASE` and `ROLLBACK TO`, which both
    /// dialects accept inside a transaction; the built-in connections use Diesel's transaction
    /// manager instead, so Diesel's own bookkeeping of the depth stays right.
    fn transaction_dyn(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()> {
        self.batch_execute("SAVEPOINT dbshift_executor")?;
        let mut panic = None;
        let mut this = self;
        let result = catch_panic(|| body(&mut this), &mut panic);
        let end = match result {
            Ok(()) => this.batch_execute("RELEASE SAVEPOINT dbshift_executor"),
            Err(_) => this.batch_execute(
                "ROLLBACK TO SAVEPOINT dbshift_executor; RELEASE SAVEPOINT dbshift_executor",
            ),
        };
        if let Some(panic) = panic {
            std::panic::resume_unwind(panic);
        }
        result.and(end)
    }
}

/// A borrowed executor is one: generic code can take `impl Executor` and be given `&mut tx`.
impl<E: Executor + ?Sized> Executor for &mut E {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize> {
        (**self).execute(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        (**self).query(sql, params)
    }

    fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        (**self).query_first(sql, params)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        (**self).query_each(sql, params, each)
    }

    fn batch_execute(&mut self, sql: &str) -> Result<()> {
        (**self).batch_execute(sql)
    }

    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }

    fn transaction_dyn(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()> {
        (**self).transaction_dyn(body)
    }
}

/// A pool handle is an executor too: each statement runs on a pooled connection and commits
/// at once, and [`Executor::transaction_dyn`] is [`Backend::transaction_dyn`] with the default
/// [`TransactionOptions`]. So a function written against `&mut dyn Executor` runs inside a
/// caller's transaction or straight on the pool:
///
/// ```no_run
/// # fn demo(db: &dyn dbshift::Backend) -> dbshift::Result<()> {
/// use dbshift::Executor;
/// fn add_tag(tx: &mut dyn Executor, name: &str) -> dbshift::Result<usize> {
///     tx.execute("INSERT INTO tags (name) VALUES ($1)", &[name.into()])
/// }
/// add_tag(&mut { db }, "on the pool")?;
/// db.transaction(|tx| add_tag(tx, "in a transaction"))?;
/// # Ok(()) }
/// ```
impl Executor for &(dyn Backend + '_) {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize> {
        Backend::execute(*self, sql, params)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Backend::query(*self, sql, params)
    }

    fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        Backend::query_first(*self, sql, params)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        Backend::query_each(*self, sql, params, each)
    }

    fn batch_execute(&mut self, sql: &str) -> Result<()> {
        Backend::batch_execute(*self, sql)
    }

    fn dialect(&self) -> Dialect {
        Backend::dialect(*self)
    }

    fn transaction_dyn(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()> {
        Backend::transaction_dyn(*self, &TransactionOptions::default(), body)
    }
}

/// A pooled database handle, chosen at run time (see [`Registry`]).
///
/// Object-safe, `Send + Sync`, and cloneable through [`dyn_clone`]: clones share one pool.
/// Every method blocks the calling thread until the database answers; a method that needs a
/// connection waits at most the configured connect timeout for one to come free and then fails
/// with [`Error::PoolTimeout`].
pub trait Backend: DynClone + Send + Sync + fmt::Debug {
    /// The registry name of this backend (`sqlite`, `postgres`, or a third party's).
    fn name(&self) -> &str;

    /// The SQL dialect statements must be written in.
    fn dialect(&self) -> Dialect;

    /// Where this backend is connected, without the password.
    fn url(&self) -> RedactedUrl;

    /// Runs one statement on a pooled connection; returns the number of rows changed.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize>;

    /// Runs one query on a pooled connection and returns every row.
    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;

    /// Runs one query on a pooled connection and returns its first row (if any) and how many
    /// rows it returned (see [`Executor::query_first`]). The default takes them from
    /// [`Backend::query`].
    fn query_first(&self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        let rows = self.query(sql, params)?;
        let count = rows.len();
        Ok((rows.into_iter().next(), count))
    }

    /// Runs several `;`-separated statements without parameters on one pooled connection.
    fn batch_execute(&self, sql: &str) -> Result<()>;

    /// Runs one query on a pooled connection and calls `each` with its rows in order, one at a
    /// time (see [`Executor::query_each`]); the connection is held until the last row. The
    /// default collects with [`Backend::query`] first.
    ///
    /// ```no_run
    /// # fn demo(db: &dyn dbshift::Backend) -> dbshift::Result<()> {
    /// let mut total = 0i64;
    /// db.query_each("SELECT value FROM counters", &[], &mut |row| {
    ///     total += row.get::<i64, _>("value")?;
    ///     Ok(())
    /// })?;
    /// # Ok(()) }
    /// ```
    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        self.query(sql, params)?.into_iter().try_for_each(each)
    }

    /// Runs `body` in a transaction on one connection. Commits when `body` returns `Ok`, rolls
    /// back when it returns `Err` or panics (the panic then continues). Prefer the generic
    /// [`dyn Backend::transaction`](trait.Backend.html#method.transaction) wrapper.
    ///
    /// A read-modify-write transaction gives the same result on both built-in backends: SQLite
    /// starts it with `BEGIN IMMEDIATE` (writers queue on the busy timeout); PostgreSQL runs it
    /// at `options.isolation` (SERIALIZABLE by default) and runs `body` again, up to
    /// `options.max_attempts` times in all, when the server aborts it with a serialization
    /// failure or a deadlock. `body` may therefore run more than once: it should do nothing
    /// outside the database that cannot be repeated.
    ///
    /// While `body` runs, this thread's statements must go through its executor: this backend's
    /// own methods, and its clones' (a nested transaction too), fail with
    /// [`Error::InTransaction`] instead of running on another connection of the pool.
    fn transaction_dyn(
        &self,
        options: &TransactionOptions,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()>;

    /// Applies the embedded schema migrations of this dialect that are not applied yet;
    /// returns their versions. The default has none to run.
    fn run_pending_migrations(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// The versions of the applied schema migrations, oldest first. The default has none.
    fn applied_migrations(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// The versions of the embedded schema migrations that are not applied yet, oldest first.
    /// The default has none.
    fn pending_migrations(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Reverts the newest applied migration; returns its version, or `None` when none is
    /// applied. The default reverts nothing.
    fn revert_last_migration(&self) -> Result<Option<String>> {
        Ok(None)
    }

    /// Checks that the database answers. The default runs `SELECT 1`.
    fn ping(&self) -> Result<()> {
        let rows = self.query("SELECT 1", &[])?;
        match rows.first().map(|r| r.get::<i64, _>(0)) {
            Some(Ok(1)) => Ok(()),
            _ => Err(Error::Statement("`SELECT 1` did not answer 1".into())),
        }
    }

    /// Stops handing out connections: later calls on this backend and all its clones fail with
    /// [`Error::Closed`]. Idle connections close when the last clone is dropped. The default
    /// does nothing.
    fn close(&self) {}

    /// The concrete backend, for fast paths that need it (PostgreSQL COPY in the transfer).
    fn as_any(&self) -> &dyn Any;
}

dyn_clone::clone_trait_object!(Backend);

impl dyn Backend + '_ {
    /// Runs `body` in a transaction with the default [`TransactionOptions`] and returns its
    /// value; see [`Backend::transaction_dyn`] (`body` may run more than once).
    ///
    /// ```no_run
    /// # fn demo(db: &dyn dbshift::Backend) -> dbshift::Result<()> {
    /// let id: i64 = db.transaction(|tx| {
    ///     tx.execute("INSERT INTO tags (name) VALUES ($1)", &["urgent".into()])?;
    ///     tx.query("SELECT id FROM tags WHERE name = $1", &["urgent".into()])?[0].get("id")
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<T>(&self, body: impl FnMut(&mut dyn Executor) -> Result<T>) -> Result<T> {
        self.transaction_with(&TransactionOptions::default(), body)
    }

    /// Runs `body` in a transaction with `options` and returns its value.
    ///
    /// ```no_run
    /// # fn demo(db: &dyn dbshift::Backend) -> dbshift::Result<()> {
    /// use dbshift::{Isolation, TransactionOptions};
    /// let options = TransactionOptions::default().isolation(Isolation::ReadCommitted);
    /// let n: i64 = db.transaction_with(&options, |tx| tx.query("SELECT 1 AS n", &[])?[0].get("n"))?;
    /// # Ok(()) }
    /// ```
    pub fn transaction_with<T>(
        &self,
        options: &TransactionOptions,
        mut body: impl FnMut(&mut dyn Executor) -> Result<T>,
    ) -> Result<T> {
        let mut output = None;
        self.transaction_dyn(options, &mut |tx| {
            output = Some(body(tx)?);
            Ok(())
        })?;
        output.ok_or_else(|| Error::Statement("transaction body did not run".into()))
    }

    /// Runs a query that must return exactly one row.
    pub fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        exactly_one(self.query_first(sql, params)?)
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        at_most_one(self.query_first(sql, params)?)
    }
}

impl dyn Executor + '_ {
    /// Runs `body` atomically on this connection and returns its value; see
    /// [`Executor::transaction_dyn`] (inside a transaction, a savepoint). A failure inside
    /// leaves the caller's transaction usable, so the caller may go on without it:
    ///
    /// ```no_run
    /// # fn demo(db: &dyn dbshift::Backend) -> dbshift::Result<()> {
    /// db.transaction(|tx| {
    ///     tx.execute("INSERT INTO tags (name) VALUES ($1)", &["kept".into()])?;
    ///     let again = tx.transaction(|tx| tx.execute("INSERT INTO tags (name) VALUES ($1)", &["kept".into()]));
    ///     assert!(again.unwrap_err().is_unique_violation());
    ///     tx.query_one("SELECT count(*) AS n FROM tags", &[])?.get::<i64, _>("n")
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<T>(
        &mut self,
        mut body: impl FnMut(&mut dyn Executor) -> Result<T>,
    ) -> Result<T> {
        let mut output = None;
        self.transaction_dyn(&mut |tx| {
            output = Some(body(tx)?);
            Ok(())
        })?;
        output.ok_or_else(|| Error::Statement("transaction body did not run".into()))
    }

    /// Runs a query that must return exactly one row, on this connection.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        exactly_one(self.query_first(sql, params)?)
    }

    /// Runs a query that returns at most one row, on this connection.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        at_most_one(self.query_first(sql, params)?)
    }
}

fn exactly_one((first, count): (Option<Row>, usize)) -> Result<Row> {
    match (first, count) {
        (Some(row), 1) => Ok(row),
        (_, n) => Err(Error::Statement(format!(
            "expected exactly one row, got {n}"
        ))),
    }
}

fn at_most_one((first, count): (Option<Row>, usize)) -> Result<Option<Row>> {
    match count {
        0 | 1 => Ok(first),
        n => Err(Error::Statement(format!(
            "expected at most one row, got {n}"
        ))),
    }
}

/// How a transaction is isolated from concurrent ones. SQLite transactions are always
/// serializable (one writer at a time); the level matters on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Isolation {
    /// PostgreSQL `SERIALIZABLE`: the result is that of some serial order, and a transaction
    /// that cannot be ordered is aborted and retried. The default.
    #[default]
    Serializable,
    /// PostgreSQL `REPEATABLE READ`: one snapshot for the whole transaction; a concurrent
    /// update of a row it updates aborts it (and it is retried).
    RepeatableRead,
    /// PostgreSQL `READ COMMITTED` (the server's own default): each statement sees what was
    /// committed before it began. A read-then-write of the same row can lose a concurrent
    /// update unless the read says `FOR UPDATE` ([`crate::Dialect::for_update`]).
    ReadCommitted,
}

/// How [`Backend::transaction_dyn`] runs a transaction: its isolation level and how many times
/// it is attempted when the database aborts it for a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionOptions {
    /// The isolation level (PostgreSQL; SQLite is always serializable).
    pub isolation: Isolation,
    /// Attempts in all, at least 1: a transaction aborted by a serialization failure or a
    /// deadlock runs again until this many attempts failed, then fails with that error.
    pub max_attempts: u32,
}

impl Default for TransactionOptions {
    /// `SERIALIZABLE`, 20 attempts: eight threads incrementing one row, the worst case the
    /// tests run, need about 1.3 attempts per transaction on average.
    fn default() -> Self {
        TransactionOptions {
            isolation: Isolation::Serializable,
            max_attempts: 20,
        }
    }
}

impl TransactionOptions {
    /// Sets the isolation level.
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Sets how many attempts are made in all (0 is taken as 1).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }
}

/// Runs `attempt` until it succeeds, fails with an error other than a serialization failure
/// or deadlock, or has been made `max_attempts` times. Waits a little, growing and jittered,
/// between attempts, so that transactions that conflicted do not meet again at once.
pub(crate) fn with_retries(
    max_attempts: u32,
    mut attempt: impl FnMut() -> Result<()>,
) -> Result<()> {
    use std::hash::{BuildHasher, Hasher};
    let mut made = 0;
    loop {
        made += 1;
        match attempt() {
            Err(e) if e.is_serialization_failure() && made < max_attempts.max(1) => {
                let jitter = std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish()
                    % 1000;
                let base_micros = 500u64 << made.min(7);
                let wait = base_micros / 2 + base_micros * jitter / 1000;
                tracing::debug!(attempt = made, error = %e, "retrying a transaction");
                std::thread::sleep(std::time::Duration::from_micros(wait));
            }
            result => return result,
        }
    }
}

/// Which databases have a transaction open on this thread, by backend id (clones share one).
/// A backend's own methods refuse to run while their database is in this list, so a statement
/// meant for the transaction never runs on another connection beside it.
pub(crate) mod open_transactions {
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::error::{Error, Result};

    thread_local! {
        static OPEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    /// A new id for a backend (its clones keep it).
    pub(crate) fn new_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// Fails when a transaction on backend `id` is open on this thread.
    pub(crate) fn check_outside(id: u64) -> Result<()> {
        if OPEN.with(|open| open.borrow().contains(&id)) {
            return Err(Error::InTransaction);
        }
        Ok(())
    }

    /// Marks a transaction on `id` open until the guard is dropped; fails when one already is.
    pub(crate) fn enter(id: u64) -> Result<Guard> {
        check_outside(id)?;
        OPEN.with(|open| open.borrow_mut().push(id));
        Ok(Guard(id))
    }

    /// Ends the mark on drop, also when the body panicked.
    pub(crate) struct Guard(u64);

    impl Drop for Guard {
        fn drop(&mut self) {
            OPEN.with(|open| {
                let mut open = open.borrow_mut();
                if let Some(at) = open.iter().rposition(|id| *id == self.0) {
                    open.remove(at);
                }
            });
        }
    }
}

/// The error for a statement whose placeholders do not fit its parameters. A `?` in it is most
/// likely a placeholder of another driver's style, so the message says how to write them.
pub(crate) fn statement_error(sql: &str, message: String) -> Error {
    if sql.contains('?') {
        Error::Statement(format!(
            "{message}; placeholders are written `$1`, `$2`, ... on both databases, not `?`"
        ))
    } else {
        Error::Statement(message)
    }
}

/// Runs `body` with panics turned into a rollback: the transaction helpers of each backend call
/// this inside Diesel's transaction, then resume the panic once the rollback is done.
pub(crate) fn catch_panic<T>(
    body: impl FnOnce() -> Result<T>,
    payload: &mut Option<Box<dyn Any + Send>>,
) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(panic) => {
            *payload = Some(panic);
            Err(Error::Rollback("the transaction body panicked".into()))
        }
    }
}

/// Maps an r2d2 checkout failure to a clear error: a timeout when every connection is in use,
/// a connect error otherwise.
pub(crate) fn checkout_error(
    error: r2d2::Error,
    state: r2d2::State,
    max_size: u32,
    timeout: std::time::Duration,
    url: &RedactedUrl,
) -> Error {
    if state.connections >= max_size && state.idle_connections == 0 {
        Error::PoolTimeout { timeout, max_size }
    } else {
        let message = error.to_string();
        let message = message
            .strip_prefix("timed out waiting for connection: ")
            .unwrap_or(&message);
        Error::Connect {
            url: url.clone(),
            message: message.trim().to_string(),
        }
    }
}

/// Schema migrations on any Diesel connection, shared by the built-in backends. Diesel's
/// harness keeps the bookkeeping, so diesel CLI sees what dbshift applied and the other way
/// round.
pub(crate) mod migrations {
    use crate::error::{Error, Result};
    use crate::migrations::{MigrationList, DIESEL_INITIAL_SETUP};
    use diesel::migration::MigrationSource;
    use diesel_migrations::MigrationHarness;

    fn error(e: Box<dyn std::error::Error + Send + Sync>) -> Error {
        Error::Migration {
            message: e.to_string(),
        }
    }

    pub(crate) fn run_pending<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        list: &MigrationList,
    ) -> Result<Vec<String>> {
        let versions = conn.run_pending_migrations(list).map_err(error)?;
        Ok(versions.iter().map(ToString::to_string).collect())
    }

    /// Versions oldest first: diesel gives them newest first.
    pub(crate) fn applied<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
    ) -> Result<Vec<String>> {
        let applied = conn.applied_migrations().map_err(error)?;
        let mut versions: Vec<String> = applied.iter().map(ToString::to_string).collect();
        versions.sort();
        Ok(versions)
    }

    pub(crate) fn pending<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        list: &MigrationList,
    ) -> Result<Vec<String>> {
        let applied = applied(conn)?;
        Ok(list
            .versions()
            .filter(|v| applied.binary_search_by(|a| a.as_str().cmp(v)).is_err())
            .map(str::to_string)
            .collect())
    }

    /// Reverts the newest applied migration. `diesel setup`'s initial migration, when the list
    /// lacks it, is where reverting stops (it belongs to diesel CLI, and `--all` must end
    /// cleanly); any other version the list lacks is an error that changes nothing.
    pub(crate) fn revert_last<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        list: &MigrationList,
    ) -> Result<Option<String>> {
        let Some(newest) = applied(conn)?.pop() else {
            return Ok(None);
        };
        let migrations = MigrationSource::<DB>::migrations(&list).map_err(error)?;
        match migrations
            .iter()
            .find(|m| m.name().version().to_string() == newest)
        {
            Some(migration) => {
                let version = conn.revert_migration(&**migration).map_err(error)?;
                Ok(Some(version.to_string()))
            }
            None if newest == DIESEL_INITIAL_SETUP => Ok(None),
            None => Err(Error::Migration {
                message: format!(
                    "the newest applied migration `{newest}` is not in {}; revert it with the tool that applied it",
                    list.origin()
                ),
            }),
        }
    }
}

/// Runtime SQL with runtime parameters as a Diesel query, shared by the built-in backends.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod dynamic {
    use diesel::backend::Backend as DieselBackend;
    use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
    use diesel::sql_types::Untyped;
    use diesel::{QueryResult, RunQueryDsl};

    use crate::sql::Part;

    /// How a parameter is pushed where its `$N` stands; each backend implements it for
    /// [`crate::Value`], so the values bind themselves.
    pub(crate) trait Bind<DB: DieselBackend> {
        /// Pushes this value as a bind parameter of its SQL type.
        fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
    }

    /// A statement cut at its placeholders ([`crate::sql::parts`]) with the binds in
    /// parameter order. Unlike `sql_query`, Diesel caches its prepared statement, so running
    /// a statement again does not prepare it again: keyed by the statement's slot when it has
    /// one ([`super::statement_cache`]; [`Executed`] when Diesel executes it), else by its SQL
    /// text.
    pub(crate) struct DynQuery<'a, B> {
        pub(crate) sql: &'a str,
        pub(crate) parts: &'a [Part],
        pub(crate) binds: &'a [B],
    }

    impl<B> QueryId for DynQuery<'_, B> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;

        /// The slot of the statement being run, which stands for its text, so Diesel finds
        /// its prepared form without writing the SQL out and hashing it. Diesel asks for this
        /// only while the backend runs the statement, with its slot set on this thread.
        fn query_id() -> Option<std::any::TypeId> {
            super::statement_cache::type_id()
        }
    }

    impl<B> Query for DynQuery<'_, B> {
        type SqlType = Untyped;
    }

    /// A [`DynQuery`] that Diesel executes, keyed by the slot type `K`
    /// ([`super::statement_cache::ExecutedSlot`]). Diesel takes an executed statement by
    /// reference and asks the reference for its id, which comes from the referent's type
    /// alone: so the type itself carries the slot, and each slot's copy of the execute path is
    /// compiled ([`executed_by_slot!`]).
    pub(crate) struct Executed<'a, B, K>(pub(crate) DynQuery<'a, B>, std::marker::PhantomData<K>);

    impl<'a, B, K> Executed<'a, B, K> {
        pub(crate) fn new(query: DynQuery<'a, B>) -> Self {
            Executed(query, std::marker::PhantomData)
        }
    }

    impl<B, K: 'static> QueryId for Executed<'_, B, K> {
        type QueryId = K;
        const HAS_STATIC_QUERY_ID: bool = true;
    }

    impl<DB: DieselBackend, B: Bind<DB>, K> QueryFragment<DB> for Executed<'_, B, K> {
        fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            self.0.walk_ast(out)
        }
    }

    impl<B, K, Conn> RunQueryDsl<Conn> for Executed<'_, B, K> {}

    /// `[run::<ExecutedSlot<0>>, run::<ExecutedSlot<1>>, ...]`, one function per executed
    /// slot ([`super::statement_cache::EXECUTED_SLOTS`] of them).
    macro_rules! executed_by_slot {
        ($run:ident) => {
            $crate::backend::dynamic::executed_by_slot!($run; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22
                23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49
                50 51 52 53 54 55 56 57 58 59 60 61 62 63)
        };
        ($run:ident; $($n:literal)*) => {
            [$($run::<$crate::backend::statement_cache::ExecutedSlot<$n>>),*]
        };
    }
    pub(crate) use executed_by_slot;

    impl<B, Conn> RunQueryDsl<Conn> for DynQuery<'_, B> {}

    impl<DB: DieselBackend, B: Bind<DB>> QueryFragment<DB> for DynQuery<'_, B> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            for part in self.parts {
                match part {
                    Part::Sql(range) => out.push_sql(&self.sql[range.clone()]),
                    Part::Param(n) => self.binds[n - 1].push(&mut out)?,
                }
            }
            Ok(())
        }
    }
}
