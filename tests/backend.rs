//! The `Backend` trait's behaviour, run by the same code on SQLite and PostgreSQL.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{backend, config, hold_connection, migrated, sqlite_db, Kind};
use dbshift::backend::SqliteBackend;
use dbshift::{Backend, DbConfig, Dialect, Error, Executor, Registry, Value};

both_backends! {
    fn executes_and_queries_with_dynamic_values(kind) {
        let db = backend(kind);
        assert_eq!(db.dialect(), if kind == Kind::Sqlite { Dialect::Sqlite } else { Dialect::Postgres });
        db.batch_execute(&format!(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, score {}, flag {}, at {}, doc {}, raw {}, u {})",
            if kind == Kind::Sqlite { "REAL" } else { "DOUBLE PRECISION" },
            db.dialect().bool_type(), db.dialect().timestamp_type(), db.dialect().json_type(),
            db.dialect().bytes_type(), db.dialect().uuid_type(),
        )).unwrap();
        let at = dbshift::value::parse_timestamp("2024-05-06 07:08:09.123456").unwrap();
        let u = uuid::Uuid::new_v4();
        let params = vec![
            Value::Int(i64::MAX), "it's \"quoted\" é".into(), Value::Float(-0.5), Value::Bool(true),
            Value::Timestamp(at), Value::Json(serde_json::json!({"k": [1, 2]})), Value::Bytes(vec![0, 255, 1]), Value::Uuid(u),
        ];
        let changed = db.execute("INSERT INTO t (id, name, score, flag, at, doc, raw, u) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &params).unwrap();
        assert_eq!(changed, 1);
        db.execute("INSERT INTO t (id, name) VALUES ($1, $2)", &[Value::Int(2), Value::Null]).unwrap();
        let row = db.query_one("SELECT * FROM t WHERE id = $1", &[Value::Int(i64::MAX)]).unwrap();
        assert_eq!(row.get::<i64, _>("id").unwrap(), i64::MAX);
        assert_eq!(row.get::<String, _>("name").unwrap(), "it's \"quoted\" é");
        assert_eq!(row.get::<f64, _>("score").unwrap(), -0.5);
        assert!(row.get::<bool, _>("flag").unwrap());
        assert_eq!(row.get::<chrono::DateTime<chrono::Utc>, _>("at").unwrap(), at);
        assert_eq!(row.get::<serde_json::Value, _>("doc").unwrap(), serde_json::json!({"k": [1, 2]}));
        assert_eq!(row.get::<Vec<u8>, _>("raw").unwrap(), vec![0, 255, 1]);
        assert_eq!(row.get::<uuid::Uuid, _>("u").unwrap(), u);
        let row = db.query_one("SELECT name, flag FROM t WHERE id = $1", &[Value::Int(2)]).unwrap();
        assert_eq!(row.value("name").unwrap(), &Value::Null);
        assert_eq!(row.get::<Option<bool>, _>("flag").unwrap(), None);
    }

    fn placeholders_can_repeat_and_reorder(kind) {
        let db = backend(kind);
        let row = db.query_one("SELECT $2 || '-' || $1 || '-' || $2 AS s, '$1' AS lit", &["a".into(), "b".into()]).unwrap();
        assert_eq!(row.get::<String, _>("s").unwrap(), "b-a-b");
        assert_eq!(row.get::<String, _>("lit").unwrap(), "$1");
        let err = db.query("SELECT $1, $3", &[Value::Int(1), Value::Int(2)]).unwrap_err();
        assert!(matches!(err, Error::Statement(_)), "{err}");
    }

    fn transactions_commit_roll_back_and_survive_panics(kind) {
        let db = migrated(kind);
        let id: i64 = db.transaction(|tx| {
            tx.execute("INSERT INTO tags (name) VALUES ($1)", &["kept".into()])?;
            tx.query("SELECT id FROM tags WHERE name = $1", &["kept".into()])?[0].get("id")
        }).unwrap();
        assert!(id > 0);
        let err = db.transaction(|tx| -> dbshift::Result<()> {
            tx.execute("INSERT INTO tags (name) VALUES ($1)", &["rolled back".into()])?;
            Err(Error::Rollback("changed my mind".into()))
        }).unwrap_err();
        assert!(err.to_string().contains("changed my mind"));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = db.transaction(|tx| -> dbshift::Result<()> {
                tx.execute("INSERT INTO tags (name) VALUES ($1)", &["panicked".into()])?;
                panic!("boom");
            });
        }));
        assert!(panicked.is_err());
        let names: Vec<String> = db.query("SELECT name FROM tags ORDER BY name", &[]).unwrap()
            .iter().map(|r| r.get("name").unwrap()).collect();
        assert_eq!(names, vec!["kept".to_string()]);
        db.ping().unwrap();
    }

    fn clones_share_the_pool_and_close_stops_them(kind) {
        let db = backend(kind);
        let clone = db.handle();
        db.batch_execute("CREATE TABLE c (x INTEGER)").unwrap();
        clone.execute("INSERT INTO c (x) VALUES ($1)", &[Value::Int(7)]).unwrap();
        assert_eq!(db.query_one("SELECT x FROM c", &[]).unwrap().get::<i64, _>(0).unwrap(), 7);
        db.close();
        assert!(matches!(clone.query("SELECT 1", &[]), Err(Error::Closed)));
    }
}

both_backends! {
    fn an_exhausted_pool_times_out_instead_of_hanging(kind) {
        let (config, _guard) = config(kind);
        let config = config.with_max_connections(2).with_connect_timeout(Duration::from_secs(1));
        let db = Registry::with_defaults().connect(&config).unwrap();
        // One connection is held by a transaction on another thread, the other by a plain
        // checkout on a third thread; both wait for `release` before giving them back.
        let (ready_tx, ready) = mpsc::channel();
        let mut releases = Vec::new();
        let mut holders = Vec::new();
        for in_transaction in [true, false] {
            let (release_tx, release) = mpsc::channel::<()>();
            releases.push(release_tx);
            let db = db.clone();
            let ready_tx = ready_tx.clone();
            holders.push(std::thread::spawn(move || {
                if in_transaction {
                    db.transaction(|tx| {
                        tx.query("SELECT 1", &[])?;
                        ready_tx.send(()).unwrap();
                        let _ = release.recv();
                        Ok(())
                    })
                    .unwrap();
                } else {
                    let _held = hold_connection(&*db);
                    ready_tx.send(()).unwrap();
                    let _ = release.recv();
                }
            }));
        }
        ready.recv().unwrap();
        ready.recv().unwrap();
        let started = Instant::now();
        let err = db.query("SELECT 1", &[]).unwrap_err();
        let waited = started.elapsed();
        assert!(matches!(err, Error::PoolTimeout { max_size: 2, .. }), "{err:?}");
        // r2d2 waits at least the connect timeout (1 s) before giving up; how much longer
        // depends on the machine, so only the lower bound is checked.
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        assert!(err.to_string().contains("all 2 in use"), "{err}");
        releases.clear();
        for holder in holders {
            holder.join().unwrap();
        }
        db.ping().unwrap();
    }
}

fn pragma(conn: &mut dyn Executor, name: &str) -> Value {
    conn.query(&format!("PRAGMA {name}"), &[]).unwrap()[0].values()[0].clone()
}

#[test]
fn every_pooled_sqlite_connection_gets_wal_busy_timeout_and_foreign_keys() {
    let file = sqlite_db();
    let mut config = DbConfig::sqlite(&file.path).with_max_connections(4);
    config.pool.busy_timeout_ms = 1234;
    let db = SqliteBackend::connect(&config).unwrap();
    db.run_pending_migrations().unwrap();
    // Hold all four at once, so each check runs on a different connection.
    let mut conns: Vec<_> = (0..4).map(|_| db.conn().unwrap()).collect();
    for conn in &mut conns {
        let conn: &mut dyn Executor = &mut **conn;
        assert_eq!(pragma(conn, "journal_mode"), Value::Text("wal".into()));
        assert_eq!(pragma(conn, "busy_timeout"), Value::Int(1234));
        assert_eq!(pragma(conn, "foreign_keys"), Value::Int(1));
        assert_eq!(pragma(conn, "synchronous"), Value::Int(1), "NORMAL");
        let err = conn
            .execute(
                "INSERT INTO mission_events (mission_id, kind) VALUES ($1, $2)",
                &[Value::Int(999), "x".into()],
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("FOREIGN KEY constraint failed"),
            "{err}"
        );
    }
}

#[test]
fn a_sqlite_writer_waits_for_the_busy_timeout_then_fails_with_database_is_locked() {
    let file = sqlite_db();
    // A first writer holds the write lock until told to release it; the second writer's
    // outcome shows whether it waited (it can only succeed once the lock is released) or gave
    // up (it fails while the lock is still held). No assertion depends on how long anything
    // took.
    let run =
        |busy_timeout_ms: u64, release_while_waiting: bool| -> (dbshift::Result<usize>, bool) {
            let mut config = DbConfig::sqlite(&file.path).with_max_connections(2);
            config.pool.busy_timeout_ms = busy_timeout_ms;
            let db = Registry::with_defaults().connect(&config).unwrap();
            db.batch_execute("CREATE TABLE IF NOT EXISTS w (x INTEGER)")
                .unwrap();
            let (locked_tx, locked) = mpsc::channel();
            let (release_tx, release) = mpsc::channel::<()>();
            let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let writer = {
                let db = db.clone();
                let released = released.clone();
                std::thread::spawn(move || {
                    db.transaction(|tx| {
                        tx.execute("INSERT INTO w (x) VALUES (1)", &[])?;
                        locked_tx.send(()).unwrap();
                        let _ = release.recv();
                        released.store(true, std::sync::atomic::Ordering::SeqCst);
                        Ok(())
                    })
                    .unwrap()
                })
            };
            locked.recv().unwrap();
            let (releaser, held) = if release_while_waiting {
                let releaser = std::thread::spawn(move || {
                    // Released while the second writer is (most likely) waiting; if it has not
                    // started waiting yet, it still finds the lock free and succeeds.
                    std::thread::sleep(Duration::from_millis(300));
                    let _ = release_tx.send(());
                });
                (Some(releaser), None)
            } else {
                (None, Some(release_tx))
            };
            let result = db.execute("INSERT INTO w (x) VALUES (2)", &[]);
            let lock_was_released = released.load(std::sync::atomic::Ordering::SeqCst);
            if let Some(releaser) = releaser {
                releaser.join().unwrap();
            }
            drop(held);
            writer.join().unwrap();
            (result, lock_was_released)
        };
    // The lock is released within the timeout: the second writer waits and succeeds.
    let (result, _) = run(5000, true);
    assert_eq!(result.unwrap(), 1);
    // The lock is never released while the second writer waits: it gives up with `busy`,
    // while the lock is still held.
    let (result, lock_was_released) = run(100, false);
    let err = result.unwrap_err();
    assert!(err.is_busy(), "{err}");
    assert!(err.to_string().contains("database is locked"), "{err}");
    assert!(!lock_was_released, "it failed only once the lock was gone");
}

#[test]
fn an_in_memory_sqlite_database_is_shared_by_every_connection_and_thread() {
    let registry = Registry::with_defaults();
    let db = registry
        .connect(&DbConfig::sqlite(":memory:").with_max_connections(4))
        .unwrap();
    db.batch_execute("CREATE TABLE m (thread INTEGER NOT NULL, n INTEGER NOT NULL)")
        .unwrap();
    {
        let sqlite = db.as_any().downcast_ref::<SqliteBackend>().unwrap();
        let mut conns: Vec<_> = (0..4).map(|_| sqlite.conn().unwrap()).collect();
        for (i, conn) in conns.iter_mut().enumerate() {
            Executor::execute(
                &mut **conn,
                "INSERT INTO m (thread, n) VALUES ($1, -1)",
                &[Value::Int(i as i64)],
            )
            .unwrap();
        }
        for conn in &mut conns {
            let rows = Executor::query(&mut **conn, "SELECT count(*) AS n FROM m", &[]).unwrap();
            assert_eq!(rows[0].get::<i64, _>("n").unwrap(), 4);
        }
    }
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for n in 0..50 {
                    db.execute(
                        "INSERT INTO m (thread, n) VALUES ($1, $2)",
                        &[Value::Int(t), Value::Int(n)],
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let row = db
        .query_one(
            "SELECT count(*) AS n, sum(n) AS total FROM m WHERE n >= 0",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<i64, _>("n").unwrap(), 400);
    assert_eq!(
        row.get::<i64, _>("total").unwrap(),
        8 * (0..50).sum::<i64>()
    );
    // Another `:memory:` backend is another database.
    let other = registry.connect(&DbConfig::sqlite(":memory:")).unwrap();
    let err = other.query("SELECT * FROM m", &[]).unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
}

#[test]
fn a_sqlite_file_in_a_missing_directory_is_a_connect_error() {
    let file = sqlite_db();
    let path = file.path.parent().unwrap().join("missing/dir/app.db");
    let err = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&path).with_connect_timeout(Duration::from_secs(1)))
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("missing/dir/app.db"), "{err}");
    assert!(
        err.to_string().ends_with(": unable to open database file"),
        "{err}"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn wrong_password_and_unreachable_port_are_connect_errors_without_the_password() {
    let secret = "hunter2-wrong-Secret";
    let mut cases = Vec::new();
    match crate::support::server().temp() {
        Some(temp) => cases.push((temp.port(), "password authentication failed")),
        None => crate::support::skipped(
            "a wrong password needs the throwaway server (an external one may not check it)",
        ),
    }
    let closed = crate::support::ClosedPort::new();
    cases.push((closed.port, "Connection refused"));
    for (port, reason) in cases {
        let config = DbConfig::postgres("127.0.0.1", port, "postgres", "postgres", Some(secret))
            .with_connect_timeout(Duration::from_secs(2));
        let err = Registry::with_defaults().connect(&config).unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        assert!(err.to_string().contains(reason), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}

#[cfg(not(feature = "postgres"))]
#[test]
fn connecting_to_postgres_without_the_feature_says_how_to_enable_it() {
    let err = Registry::with_defaults()
        .connect(&DbConfig::from_url("postgres://app:pw@localhost/app"))
        .unwrap_err();
    assert!(matches!(err, Error::NotCompiled(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "PostgreSQL support was not compiled in (enable feature `postgres`)"
    );
}

#[test]
fn sqlite_text_that_is_not_utf8_reads_as_bytes_and_a_stored_replacement_character_as_text() {
    let db = backend(Kind::Sqlite);
    let row = db
        .query_one(
            "SELECT CAST(x'66ff6f' AS TEXT) AS bad, $1 AS good, CAST(x'efbfbd' AS TEXT) AS fffd",
            &["é\u{FFFD}".into()],
        )
        .unwrap();
    assert_eq!(
        row.value("bad").unwrap(),
        &Value::Bytes(vec![0x66, 0xff, 0x6f])
    );
    assert_eq!(row.value("good").unwrap(), &Value::Text("é\u{FFFD}".into()));
    assert_eq!(row.value("fffd").unwrap(), &Value::Text("\u{FFFD}".into()));
}

both_backends! {
    fn rows_of_different_statements_keep_their_own_column_names(kind) {
        let db = backend(kind);
        // The names of the last result are reused while they match; a result with other
        // names, or the same count of other names, must get its own.
        for _ in 0..2 {
            let a = db.query_one("SELECT 1 AS a, 2 AS b", &[]).unwrap();
            let c = db.query_one("SELECT 1 AS c, 2 AS d", &[]).unwrap();
            let e = db.query_one("SELECT 1 AS c, 2 AS d, 3 AS e", &[]).unwrap();
            assert_eq!(a.columns(), ["a", "b"]);
            assert_eq!(c.columns(), ["c", "d"]);
            assert_eq!(e.columns(), ["c", "d", "e"]);
            assert_eq!(a.get::<i64, _>("b").unwrap(), 2);
        }
        let rows = db.query("SELECT n, n * 2 AS twice FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) t ORDER BY n", &[]).unwrap();
        assert_eq!(rows.iter().map(|r| r.get::<i64, _>("twice").unwrap()).collect::<Vec<_>>(), [2, 4, 6]);
        assert!(rows.iter().all(|r| r.columns() == ["n", "twice"]));
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_connections_carry_the_configured_application_name() {
    let pg = crate::support::pg_db();
    for (name, expected) in [
        (None, "dbshift"),
        (Some("billing service"), "billing service"),
    ] {
        let mut config = DbConfig::from_url(pg.url.clone());
        config.application_name = name.map(String::from);
        let db = Registry::with_defaults().connect(&config).unwrap();
        let row = db
            .query_one("SELECT current_setting('application_name') AS name", &[])
            .unwrap();
        assert_eq!(row.get::<String, _>("name").unwrap(), expected);
    }
}

both_backends! {
    fn every_runtime_statement_keeps_its_own_prepared_form_on_every_connection(kind) {
        // Prepared statements are found again by a slot per statement, shared by every thread
        // and connection of the process: threads running many statements, in orders of their
        // own, over a pool of two connections each get each statement's own answer.
        let (config, _guard) = config(kind);
        let db = Registry::with_defaults().connect(&config.with_max_connections(2)).unwrap();
        let threads: Vec<_> = (0..4i64)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for round in 0..3i64 {
                        for k in 0..60i64 {
                            let k = (k * (t + 1) + round) % 60;
                            let sql = format!("SELECT $1 + {k} AS v, '{k}' AS k");
                            let row = db.query_one(&sql, &[Value::Int(1000 * t)]).unwrap();
                            assert_eq!(row.get::<i64, _>("v").unwrap(), 1000 * t + k, "{sql}");
                            assert_eq!(row.get::<String, _>("k").unwrap(), k.to_string());
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // One text with parameters of different types: on PostgreSQL each set of types is a
        // prepared statement of its own (a `bigint` `$1` cannot take a text).
        let sql = "SELECT CAST($1 AS TEXT) AS t";
        for (param, expected) in [
            (Value::Int(7), Some("7")),
            ("seven".into(), Some("seven")),
            (Value::Null, None),
            (Value::Bool(true), Some(if kind == Kind::Sqlite { "1" } else { "true" })),
            (Value::Int(8), Some("8")),
        ] {
            let row = db.query_one(sql, std::slice::from_ref(&param)).unwrap();
            assert_eq!(row.get::<Option<String>, _>("t").unwrap().as_deref(), expected, "{param:?}");
        }
        // Inside a row callback, another statement runs with its own prepared form.
        let mut seen = Vec::new();
        db.query_each("SELECT $1 + 1 AS v UNION ALL SELECT $1 + 2", &[Value::Int(10)], &mut |row| {
            let inner = db.query_one("SELECT $1 * 2 AS w", &[row.value("v")?.clone()])?;
            seen.push(inner.get::<i64, _>("w")?);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [22, 24]);
    }
}

/// The same text, prepared once per connection and run again after the table changed under
/// it: the rows carry the columns as they are now, a rename that changes only the case and a
/// column added to `SELECT *` (SQLite prepares the statement again behind an unchanged text;
/// nothing may keep the names it had). SQLite only: PostgreSQL refuses to run a prepared
/// statement whose result changed ("cached plan must not change result type").
#[test]
fn a_sqlite_statement_run_again_after_its_table_changed_reads_the_new_columns() {
    let db = backend(Kind::Sqlite);
    db.batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT)")
        .unwrap();
    db.execute(
        "INSERT INTO t (id, name) VALUES ($1, $2)",
        &[Value::Int(1), "one".into()],
    )
    .unwrap();
    let sql = "SELECT * FROM t WHERE id = $1";
    let read = || {
        let one = db.query_one(sql, &[Value::Int(1)]).unwrap();
        let opt = db.query_opt(sql, &[Value::Int(1)]).unwrap().unwrap();
        assert_eq!(one, opt);
        assert_eq!(
            db.query(sql, &[Value::Int(1)]).unwrap(),
            std::slice::from_ref(&one)
        );
        let mut each = Vec::new();
        db.query_each(sql, &[Value::Int(1)], &mut |row| {
            each.push(row);
            Ok(())
        })
        .unwrap();
        assert_eq!(each, std::slice::from_ref(&one));
        one
    };
    assert_eq!(read().columns(), ["id", "name"]);
    db.batch_execute("ALTER TABLE t RENAME COLUMN name TO \"Name\"")
        .unwrap();
    let row = read();
    assert_eq!(row.columns(), ["id", "Name"]);
    assert_eq!(row.get::<String, _>("Name").unwrap(), "one");
    assert!(row.get::<String, _>("name").is_err());
    db.batch_execute("ALTER TABLE t ADD COLUMN extra BIGINT")
        .unwrap();
    db.execute("UPDATE t SET extra = 7", &[]).unwrap();
    let row = read();
    assert_eq!(row.columns(), ["id", "Name", "extra"]);
    assert_eq!(row.get::<i64, _>("extra").unwrap(), 7);
}

both_backends! {
    fn query_one_and_query_opt_count_every_row(kind) {
        let db = backend(kind);
        db.batch_execute("CREATE TABLE n (v BIGINT)").unwrap();
        for v in [1, 2, 3] {
            db.execute("INSERT INTO n (v) VALUES ($1)", &[Value::Int(v)]).unwrap();
        }
        let sql = "SELECT v FROM n WHERE v >= $1 ORDER BY v";
        assert_eq!(db.query_one(sql, &[Value::Int(3)]).unwrap().get::<i64, _>("v").unwrap(), 3);
        assert_eq!(db.query_opt(sql, &[Value::Int(4)]).unwrap(), None);
        let none = db.query_one(sql, &[Value::Int(4)]).unwrap_err().to_string();
        assert!(none.contains("expected exactly one row, got 0"), "{none}");
        let three = db.query_one(sql, &[Value::Int(1)]).unwrap_err().to_string();
        assert!(three.contains("expected exactly one row, got 3"), "{three}");
        let two = db.query_opt(sql, &[Value::Int(2)]).unwrap_err().to_string();
        assert!(two.contains("expected at most one row, got 2"), "{two}");
        // The same inside a transaction, through the executor.
        db.transaction(|tx| {
            assert_eq!(tx.query_opt(sql, &[Value::Int(3)])?.unwrap().get::<i64, _>("v")?, 3);
            assert!(tx.query_one(sql, &[Value::Int(2)]).is_err());
            Ok(())
        }).unwrap();
    }

    fn parameters_are_bound_in_the_documented_storage_form(kind) {
        // The table in `dbshift::value`: what each variant is sent as, seen by the database.
        let db = backend(kind);
        let at = dbshift::value::parse_timestamp("2024-05-06 07:08:09.123456").unwrap();
        let u = uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let doc = serde_json::json!({"k": [1, 2], "s": "é"});
        let cases: Vec<(Value, &str, &str, Value)> = vec![
            (Value::Null, "null", "", Value::Null),
            (Value::Bool(true), "integer", "boolean", Value::Int(1)),
            (Value::Int(-5), "integer", "bigint", Value::Int(-5)),
            (Value::Float(0.25), "real", "double precision", Value::Float(0.25)),
            ("text".into(), "text", "text", "text".into()),
            (Value::Bytes(vec![0, 255]), "blob", "bytea", Value::Bytes(vec![0, 255])),
            (Value::Timestamp(at), "text", "timestamp with time zone", "2024-05-06 07:08:09.123456".into()),
            (Value::Json(doc.clone()), "text", "jsonb", doc.to_string().into()),
            (Value::Uuid(u), "text", "uuid", "67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
        ];
        for (param, sqlite_type, postgres_type, sqlite_value) in cases {
            // PostgreSQL gives an untyped `NULL` the type its context asks for, and here none
            // does.
            if kind == Kind::Postgres && param.is_null() {
                continue;
            }
            if kind == Kind::Sqlite {
                let row = db.query_one("SELECT typeof($1) AS t, $1 AS v", std::slice::from_ref(&param)).unwrap();
                assert_eq!(row.get::<String, _>("t").unwrap(), sqlite_type, "{param:?}");
                assert_eq!(row.value("v").unwrap(), &sqlite_value, "{param:?}");
            } else {
                let row = db.query_one("SELECT pg_typeof($1)::text AS t, $1 AS v", std::slice::from_ref(&param)).unwrap();
                assert_eq!(row.get::<String, _>("t").unwrap(), postgres_type, "{param:?}");
                assert_eq!(row.value("v").unwrap(), &param, "{param:?}");
            }
        }
    }
}

both_backends! {
    fn every_executed_statement_keeps_its_own_prepared_form_on_every_connection(kind) {
        // Statements Diesel executes are keyed by a slot type each, for the first 64 of the
        // process, and by their text after that: more distinct statements than that, from
        // threads over a pool of two connections, each write what their own text says.
        let (config, _guard) = config(kind);
        let db = Registry::with_defaults().connect(&config.with_max_connections(2)).unwrap();
        db.batch_execute("CREATE TABLE e (t BIGINT, k BIGINT, v BIGINT, PRIMARY KEY (t, k))").unwrap();
        let threads: Vec<_> = (0..3i64)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for round in 0..2i64 {
                        for k in 0..80i64 {
                            // A different order per thread and round (3 and 7 are prime to 80).
                            let k = (k * [1, 3, 7][t as usize] + round) % 80;
                            if round == 0 {
                                let sql = format!("INSERT INTO e (t, k, v) VALUES ($1, {k}, $2 + {k})");
                                assert_eq!(db.execute(&sql, &[Value::Int(t), Value::Int(1000 * t)]).unwrap(), 1);
                            } else {
                                let sql = format!("UPDATE e SET v = v * 2 WHERE t = $1 AND k = {k}");
                                assert_eq!(db.execute(&sql, &[Value::Int(t)]).unwrap(), 1, "{sql}");
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let rows = db.query("SELECT t, k, v FROM e ORDER BY t, k", &[]).unwrap();
        assert_eq!(rows.len(), 240);
        for row in rows {
            let (t, k) = (row.get::<i64, _>("t").unwrap(), row.get::<i64, _>("k").unwrap());
            assert_eq!(row.get::<i64, _>("v").unwrap(), 2 * (1000 * t + k), "t {t} k {k}");
        }
    }
}
