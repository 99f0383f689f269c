//! Errors a caller can act on: constraint violations recognised by method and code on both
//! databases, hints for the mistakes a newcomer makes, and unusable pool settings refused with
//! a one-line error instead of a panic.

use crate::service::service_db;
#[cfg(feature = "postgres")]
use crate::support::backend;
use crate::support::{sqlite_db, Kind};
use dbshift::{DbConfig, Dialect, Error, Registry, Value};

/// Which `is_*` methods say yes, in a fixed order, so a test sees every one at once.
fn kinds(err: &Error) -> [bool; 6] {
    [
        err.is_unique_violation(),
        err.is_foreign_key_violation(),
        err.is_not_null_violation(),
        err.is_check_violation(),
        err.is_serialization_failure(),
        err.is_busy(),
    ]
}

both_backends! {
    fn constraint_violations_are_told_apart_by_method_and_code(kind) {
        let db = service_db(kind);
        db.execute("INSERT INTO counters (name, value) VALUES ('hits', 0)", &[]).unwrap();
        let insert = "INSERT INTO notes (counter, body) VALUES ($1, $2)";
        db.execute(insert, &["hits".into(), "first".into()]).unwrap();
        // (parameters, which method is true, SQLSTATE, SQLite code)
        let cases: [(Vec<Value>, usize, &str, i32); 4] = [
            (vec!["hits".into(), "first".into()], 0, "23505", 19),
            (vec!["nobody".into(), "second".into()], 1, "23503", 787),
            (vec!["hits".into(), Value::Null], 2, "23502", 1299),
            (vec!["hits".into(), "".into()], 3, "23514", 275),
        ];
        for (params, which, sqlstate, sqlite_code) in cases {
            let err = db.execute(insert, &params).unwrap_err();
            let mut expected = [false; 6];
            expected[which] = true;
            assert_eq!(kinds(&err), expected, "{err}");
            match kind {
                Kind::Postgres => {
                    assert_eq!(err.sqlstate(), Some(sqlstate), "{err}");
                    assert_eq!(err.sqlite_code(), None);
                    if which != 2 {
                        assert!(err.constraint().is_some_and(|c| c.starts_with("notes_")), "{err}");
                    }
                }
                Kind::Sqlite => {
                    assert_eq!(err.sqlite_code(), Some(sqlite_code), "{err}");
                    assert_eq!(err.sqlstate(), None);
                }
            }
            assert!(!err.to_string().contains('\n'), "{err}");
            // The cause is dbshift's own type: no driver type to match on.
            let source = std::error::Error::source(&err).unwrap();
            assert!(source.downcast_ref::<dbshift::error::DatabaseError>().is_some());
        }
        // The same inside a transaction, and the transaction is not retried for it.
        let mut runs = 0;
        let err = db.transaction(|tx| { runs += 1; tx.execute(insert, &["hits".into(), "first".into()]) }).unwrap_err();
        assert!(err.is_unique_violation(), "{err}");
        assert_eq!(runs, 1);
        let n: i64 = db.query_one("SELECT count(*) AS n FROM notes", &[]).unwrap().get("n").unwrap();
        assert_eq!(n, 1, "no refused row was written");
    }

    fn a_question_mark_placeholder_gets_a_hint(kind) {
        let db = service_db(kind);
        let err = db.query("SELECT value FROM counters WHERE name = ?", &["hits".into()]).unwrap_err();
        assert!(matches!(err, Error::Statement(_)), "{err:?}");
        assert!(err.to_string().contains("placeholders are written `$1`, `$2`, ... on both databases, not `?`"), "{err}");
        let err = db.query("SELECT value FROM counters WHERE name = $2", &["hits".into()]).unwrap_err();
        assert!(!err.to_string().contains('?'), "no hint without a `?`: {err}");
    }

    fn unusable_pool_settings_fail_in_one_line_without_a_panic(kind) {
        // A service nests the data layer's config in its own file and deserializes it itself,
        // so `DbConfig::from_toml`'s check never ran.
        #[derive(serde::Deserialize)]
        struct AppConfig {
            database: DbConfig,
        }
        let (config, _guard) = crate::support::config(kind);
        let url = config.url.expose().to_string();
        for (pool, expected) in [
            ("max_size = 0", "`pool.max_size` must be at least 1"),
            ("max_size = 2\nmin_idle = 3", "`pool.min_idle` (3) is larger than `pool.max_size` (2)"),
            ("connect_timeout_secs = 0", "`pool.connect_timeout_secs` must be between 1 and 86400, not 0"),
            ("connect_timeout_secs = 18446744073709551615", "not 18446744073709551615"),
            ("busy_timeout_ms = 4294967296", "`pool.busy_timeout_ms` must be at most 2147483647"),
        ] {
            let text = format!("[database]\nurl = {url:?}\n[database.pool]\n{pool}\n");
            let app: AppConfig = toml::from_str(&text).unwrap();
            let err = Registry::with_defaults().connect(&app.database).unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains(expected) && !message.contains('\n'), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
        let err = Registry::with_defaults().connect(&config.with_max_connections(0)).unwrap_err();
        assert!(err.to_string().contains("`pool.max_size` must be at least 1"), "{err}");
    }
}

#[test]
fn a_refused_pool_setting_creates_no_sqlite_file() {
    let file = sqlite_db();
    let err = dbshift::backend::SqliteBackend::connect(
        &DbConfig::sqlite(&file.path).with_max_connections(0),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(!file.path.exists());
}

#[cfg(feature = "postgres")]
#[test]
fn text_for_an_enum_or_jsonb_column_gets_a_hint_on_postgres() {
    let db = backend(Kind::Postgres);
    db.run_pending_migrations().unwrap();
    let err = db
        .execute(
            "INSERT INTO missions (title, status) VALUES ($1, $2)",
            &["t".into(), "active".into()],
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("is of type mission_status but expression is of type text"),
        "{message}"
    );
    assert!(
        message.contains("write the parameter for `status` as `$N::mission_status`"),
        "{message}"
    );
    let err = db
        .execute(
            "INSERT INTO missions (title, metadata) VALUES ($1, $2)",
            &["t".into(), "{}".into()],
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("bind a `Value::Json` for `metadata`"),
        "{err}"
    );
    // The fix the hints give works.
    let cast = Dialect::Postgres.cast_param(2, "mission_status");
    db.execute(
        &format!("INSERT INTO missions (title, status) VALUES ($1, {cast})"),
        &["t".into(), "active".into()],
    )
    .unwrap();
}

#[test]
fn dialect_helpers_return_the_data_layers_result() {
    fn upsert(dialect: Dialect, table: &str) -> dbshift::Result<String> {
        let sql = dialect.upsert(table, &["k", "v"], &["k"], &["v"])?;
        Ok(sql)
    }
    assert!(upsert(Dialect::Sqlite, "kv")
        .unwrap()
        .starts_with("INSERT INTO \"kv\""));
    let err = upsert(Dialect::Postgres, "nul\0").unwrap_err();
    assert!(matches!(err, Error::Statement(_)), "{err:?}");
    let err = Dialect::Sqlite
        .auto_increment_primary_key("a\0")
        .unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
}

/// Two transactions that each lock a row the other then wants: PostgreSQL aborts one with a
/// deadlock (`40P01`), a failure `is_serialization_failure` covers, so by default it is retried.
#[cfg(feature = "postgres")]
#[test]
fn a_deadlock_is_a_serialization_failure_and_is_retried() {
    use dbshift::{Isolation, TransactionOptions};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    let db = backend(Kind::Postgres);
    db.batch_execute(
        "CREATE TABLE d (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO d VALUES (1, 0), (2, 0)",
    )
    .unwrap();
    let run = |options: TransactionOptions| {
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = [(1, 2), (2, 1)]
            .into_iter()
            .map(|(first, second)| {
                let (db, barrier) = (db.handle(), barrier.clone());
                std::thread::spawn(move || {
                    let waited = AtomicBool::new(false);
                    db.transaction_with(&options, |tx| {
                        tx.execute("UPDATE d SET n = n + 1 WHERE id = $1", &[Value::Int(first)])?;
                        // Both hold their first row before either asks for its second (once:
                        // a retry runs alone).
                        if !waited.swap(true, Ordering::SeqCst) {
                            barrier.wait();
                        }
                        tx.execute(
                            "UPDATE d SET n = n + 1 WHERE id = $1",
                            &[Value::Int(second)],
                        )
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    };
    let read_committed = TransactionOptions::default().isolation(Isolation::ReadCommitted);
    let results = run(read_committed.max_attempts(1));
    let errors: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{results:?}");
    let err = errors[0];
    assert_eq!(
        kinds(err),
        [false, false, false, false, true, false],
        "{err}"
    );
    assert_eq!(err.sqlstate(), Some("40P01"), "{err}");
    assert!(err.to_string().contains("deadlock detected"), "{err}");
    // Retried (the default), both transactions go through.
    let results = run(read_committed);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let total: i64 = db
        .query_one("SELECT sum(n) AS s FROM d", &[])
        .unwrap()
        .get("s")
        .unwrap();
    assert_eq!(
        total,
        2 + 4,
        "one transaction of the first run, both of the second"
    );
}

/// A row lock that is not granted at once (`NOWAIT`) or within `lock_timeout`: PostgreSQL's
/// `55P03`, which `is_busy` covers as it covers SQLite's `database is locked`.
#[cfg(feature = "postgres")]
#[test]
fn a_lock_not_granted_on_postgres_is_busy() {
    let db = backend(Kind::Postgres);
    db.batch_execute("CREATE TABLE l (id INT PRIMARY KEY); INSERT INTO l VALUES (1)")
        .unwrap();
    let other = db.handle();
    db.transaction(|tx| {
        tx.execute("UPDATE l SET id = 1 WHERE id = 1", &[])?;
        let other = other.clone();
        let errors = std::thread::spawn(move || {
            let nowait = other.query("SELECT id FROM l WHERE id = 1 FOR UPDATE NOWAIT", &[]);
            let timeout = other.transaction(|tx| {
                tx.batch_execute("SET LOCAL lock_timeout = '50ms'")?;
                tx.execute("UPDATE l SET id = 1 WHERE id = 1", &[])
            });
            [nowait.unwrap_err(), timeout.unwrap_err()]
        })
        .join()
        .unwrap();
        for err in errors {
            assert_eq!(
                kinds(&err),
                [false, false, false, false, false, true],
                "{err}"
            );
            assert_eq!(err.sqlstate(), Some("55P03"), "{err}");
        }
        Ok(())
    })
    .unwrap();
}

/// On SQLite a transaction takes the write lock first (`BEGIN IMMEDIATE`), so a competing
/// writer waits and then fails as busy: the conflict PostgreSQL reports as a serialization
/// failure never reaches a SQLite transaction's body.
#[test]
fn a_write_conflict_on_sqlite_is_busy_not_a_serialization_failure() {
    let file = sqlite_db();
    let config = DbConfig::sqlite(&file.path);
    let mut short = config.clone();
    short.pool.busy_timeout_ms = 50;
    let db = Registry::with_defaults().connect(&config).unwrap();
    db.batch_execute("CREATE TABLE c (n INTEGER NOT NULL); INSERT INTO c VALUES (0)")
        .unwrap();
    let impatient = Registry::with_defaults().connect(&short).unwrap();
    db.transaction(|tx| {
        let n: i64 = tx.query_one("SELECT n FROM c", &[])?.get("n")?;
        let err = std::thread::scope(|s| {
            s.spawn(|| impatient.transaction(|tx| tx.execute("UPDATE c SET n = n + 10", &[])))
                .join()
                .unwrap()
                .unwrap_err()
        });
        assert_eq!(
            kinds(&err),
            [false, false, false, false, false, true],
            "{err}"
        );
        assert_eq!(
            (err.sqlite_code(), err.sqlstate()),
            (Some(5), None),
            "{err}"
        );
        tx.execute("UPDATE c SET n = $1", &[Value::Int(n + 1)])
    })
    .unwrap();
    let n: i64 = db
        .query_one("SELECT n FROM c", &[])
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(n, 1);
}

/// The SQLSTATEs rebuilt from Diesel's other kinds, each from a real failure, and none for an
/// error of no kind a caller acts on.
#[cfg(feature = "postgres")]
#[test]
fn exclusion_and_read_only_failures_carry_their_sqlstate() {
    let db = backend(Kind::Postgres);
    db.batch_execute(
        "CREATE TABLE parent (id INT PRIMARY KEY); \
         CREATE TABLE child (parent INT REFERENCES parent ON DELETE RESTRICT); \
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1); \
         CREATE TABLE booking (during int4range, EXCLUDE USING gist (during WITH &&)); \
         INSERT INTO booking VALUES ('[1,5)')",
    )
    .unwrap();
    let restrict = db.execute("DELETE FROM parent", &[]).unwrap_err();
    let exclusion = db
        .execute("INSERT INTO booking VALUES ('[3,7)')", &[])
        .unwrap_err();
    let read_only = db
        .transaction(|tx| {
            tx.batch_execute("SET TRANSACTION READ ONLY")?;
            tx.execute("INSERT INTO parent VALUES (2)", &[])
        })
        .unwrap_err();
    let unknown = db.execute("SELECT * FROM no_such_table", &[]).unwrap_err();
    // `ON DELETE RESTRICT` is a foreign key violation: PostgreSQL 18 reports it as `23001`
    // (restrict_violation), older servers as `23503`.
    assert!(restrict.is_foreign_key_violation(), "{restrict}");
    let restrict_code = if restrict.to_string().contains("RESTRICT setting") {
        "23001"
    } else {
        "23503"
    };
    assert_eq!(restrict.sqlstate(), Some(restrict_code), "{restrict}");
    for (err, sqlstate) in [
        (&exclusion, Some("23P01")),
        (&read_only, Some("25006")),
        (&unknown, None),
    ] {
        assert_eq!(err.sqlstate(), sqlstate, "{err}");
        assert_eq!(kinds(err), [false; 6], "{err}");
    }
}
