//! The registry: a third-party backend chosen through a config file, and the error for a
//! scheme nobody registered.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::support::sqlite_db;
use dbshift::backend::SqliteBackend;
use dbshift::config::RedactedUrl;
use dbshift::{Backend, DbConfig, Dialect, Error, Executor, Registry, Row, Value};

/// A third backend: SQLite underneath, counting every statement that passes through it.
/// It implements `Backend` by delegation only, as a third party would.
#[derive(Debug, Clone)]
struct CountingBackend {
    inner: SqliteBackend,
    statements: Arc<AtomicUsize>,
}

/// Counts the statements run inside a transaction.
struct CountingExecutor<'a> {
    inner: &'a mut dyn Executor,
    statements: &'a AtomicUsize,
}

impl Executor for CountingExecutor<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> dbshift::Result<usize> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> dbshift::Result<Vec<Row>> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.query(sql, params)
    }
    fn batch_execute(&mut self, sql: &str) -> dbshift::Result<()> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.batch_execute(sql)
    }
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
}

impl Backend for CountingBackend {
    fn name(&self) -> &str {
        "counting"
    }
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn url(&self) -> RedactedUrl {
        self.inner.url()
    }
    fn execute(&self, sql: &str, params: &[Value]) -> dbshift::Result<usize> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.execute(sql, params)
    }
    fn query(&self, sql: &str, params: &[Value]) -> dbshift::Result<Vec<Row>> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.query(sql, params)
    }
    fn batch_execute(&self, sql: &str) -> dbshift::Result<()> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.batch_execute(sql)
    }
    fn transaction_dyn(
        &self,
        options: &dbshift::backend::TransactionOptions,
        body: &mut dyn FnMut(&mut dyn Executor) -> dbshift::Result<()>,
    ) -> dbshift::Result<()> {
        let statements = &*self.statements;
        self.inner.transaction_dyn(options, &mut |tx| {
            body(&mut CountingExecutor {
                inner: tx,
                statements,
            })
        })
    }
    fn run_pending_migrations(&self) -> dbshift::Result<Vec<String>> {
        self.inner.run_pending_migrations()
    }
    fn applied_migrations(&self) -> dbshift::Result<Vec<String>> {
        self.inner.applied_migrations()
    }
    fn pending_migrations(&self) -> dbshift::Result<Vec<String>> {
        self.inner.pending_migrations()
    }
    fn revert_last_migration(&self) -> dbshift::Result<Option<String>> {
        self.inner.revert_last_migration()
    }
    fn close(&self) {
        self.inner.close()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The defaults plus `counting`, whose factory carries the shared counter.
fn registry_with_counting(statements: Arc<AtomicUsize>) -> Registry {
    let mut registry = Registry::with_defaults();
    registry.register("counting", move |config| {
        Ok(Box::new(CountingBackend {
            inner: SqliteBackend::connect(config)?,
            statements: statements.clone(),
        }))
    });
    registry
}

#[test]
fn a_third_backend_is_selected_by_a_config_file() {
    let file = sqlite_db();
    let config_path = file.dir.path().join("dbshift.toml");
    std::fs::write(
        &config_path,
        format!(
            "backend = \"counting\"\nurl = {:?}\n\n[pool]\nmax_size = 3\n",
            file.path.display().to_string()
        ),
    )
    .unwrap();
    // The file alone: `load` would let a `DATABASE_URL` in the test's environment replace the
    // file's URL, as it does by design (tested in the config tests).
    let config = DbConfig::from_file(&config_path).unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let db = registry_with_counting(statements.clone())
        .connect(&config)
        .unwrap();

    assert_eq!(db.name(), "counting");
    assert_eq!(db.dialect(), Dialect::Sqlite);
    let counting = db
        .as_any()
        .downcast_ref::<CountingBackend>()
        .expect("the factory made a CountingBackend");
    assert_eq!(
        counting.inner.pool().max_size(),
        3,
        "the file's pool settings reach the backend"
    );

    assert_eq!(db.run_pending_migrations().unwrap().len(), 2);
    assert_eq!(
        statements.load(Ordering::SeqCst),
        0,
        "migrations run beside the counter"
    );
    db.execute("INSERT INTO tags (name) VALUES ($1)", &["counted".into()])
        .unwrap();
    let clone = db.clone();
    let id: i64 = clone
        .transaction(|tx| {
            tx.execute(
                "UPDATE tags SET color = $1 WHERE name = $2",
                &["red".into(), "counted".into()],
            )?;
            tx.query("SELECT id FROM tags WHERE name = $1", &["counted".into()])?[0].get("id")
        })
        .unwrap();
    let row = db.query_one("SELECT id, color FROM tags", &[]).unwrap();
    assert_eq!(row.get::<i64, _>("id").unwrap(), id);
    assert_eq!(row.get::<String, _>("color").unwrap(), "red");
    assert_eq!(
        statements.load(Ordering::SeqCst),
        4,
        "1 insert + 2 in the transaction + 1 query, across clones"
    );
    // `ping` is a provided method: it reaches the database through the counted `query`.
    db.ping().unwrap();
    assert_eq!(statements.load(Ordering::SeqCst), 5);
}

#[test]
fn an_unknown_scheme_lists_the_known_ones() {
    let err = Registry::with_defaults()
        .connect(&DbConfig::from_url("mysql://app:pw@db/app"))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownScheme { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no backend for scheme `mysql`; available: file, postgres, postgresql, sqlite"
    );

    let config = DbConfig::from_toml("backend = \"Oracle\"\nurl = \"x.db\"\n", "`t.toml`").unwrap();
    let err = registry_with_counting(Arc::default())
        .connect(&config)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no backend for scheme `oracle`; available: counting, file, postgres, postgresql, sqlite"
    );
}
