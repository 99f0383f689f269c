//! One transaction semantics on both databases: concurrent read-increment-write transactions
//! lose nothing, a conflict is retried a bounded number of times, the isolation level can be
//! chosen, and the backend handle refuses to run beside an open transaction on its thread.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::support::{backend, Kind};
use dbshift::{Backend, Error, Executor};
#[cfg(feature = "postgres")]
use dbshift::{Isolation, TransactionOptions};

const THREADS: i64 = 8;
const INCREMENTS: i64 = 50;

fn counter_table(db: &dyn Backend) {
    db.batch_execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)")
        .unwrap();
    db.execute(
        "INSERT INTO counters (name, value) VALUES ($1, 0)",
        &["hits".into()],
    )
    .unwrap();
}

fn counter(db: &dyn Backend) -> i64 {
    db.query_one("SELECT value FROM counters WHERE name = 'hits'", &[])
        .unwrap()
        .get("value")
        .unwrap()
}

/// Reads the counter, then writes it plus one: the code a service writes, with no locking
/// hint of its own.
fn increment(tx: &mut dyn dbshift::Executor) -> dbshift::Result<()> {
    let value: i64 =
        tx.query("SELECT value FROM counters WHERE name = 'hits'", &[])?[0].get("value")?;
    tx.execute(
        "UPDATE counters SET value = $1 WHERE name = 'hits'",
        &[(value + 1).into()],
    )?;
    Ok(())
}

both_backends! {
    fn concurrent_read_increment_write_transactions_lose_nothing(kind) {
        let db = backend(kind);
        counter_table(&*db);
        let attempts = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let db = db.handle();
                let attempts = attempts.clone();
                std::thread::spawn(move || {
                    for _ in 0..INCREMENTS {
                        db.transaction(|tx| {
                            attempts.fetch_add(1, Ordering::Relaxed);
                            increment(tx)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counter(&*db), THREADS * INCREMENTS);
        let attempts = i64::from(attempts.load(Ordering::Relaxed));
        eprintln!("{kind:?}: {attempts} attempts for {} increments", THREADS * INCREMENTS);
        if kind == Kind::Sqlite {
            assert_eq!(attempts, THREADS * INCREMENTS, "BEGIN IMMEDIATE never conflicts");
        }
    }

    fn the_backend_handle_refuses_to_run_beside_its_threads_transaction(kind) {
        let db = backend(kind);
        counter_table(&*db);
        let other = db.handle();
        db.transaction(|tx| {
            increment(tx)?;
            // The executor has the handle's conveniences, on the transaction's connection.
            assert_eq!(tx.query_one("SELECT value FROM counters", &[])?.get::<i64, _>("value")?, 1);
            assert!(tx.query_opt("SELECT value FROM counters WHERE name = 'none'", &[])?.is_none());
            for result in [
                db.execute("UPDATE counters SET value = 100", &[]).map(|_| ()),
                db.query("SELECT value FROM counters", &[]).map(|_| ()),
                db.batch_execute("UPDATE counters SET value = 100"),
                other.execute("UPDATE counters SET value = 100", &[]).map(|_| ()),
                db.transaction(|_| Ok(())),
                db.run_pending_migrations().map(|_| ()),
            ] {
                let err = result.unwrap_err();
                assert!(matches!(err, Error::InTransaction), "{err:?}");
                assert!(err.to_string().contains("through the transaction's executor (`tx`)"), "{err}");
            }
            // Another thread is not refused: it reads what was committed before.
            let seen = std::thread::scope(|s| s.spawn(|| counter(&*other)).join().unwrap());
            assert_eq!(seen, 0);
            Ok(())
        })
        .unwrap();
        assert_eq!(counter(&*db), 1, "only the transaction's write happened");
        // Once it has ended the handle works again, also after a failed or panicking body.
        let _ = db.transaction(|_| -> dbshift::Result<()> { Err(Error::Rollback("no".into())) });
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.transaction(|_| -> dbshift::Result<()> { panic!("body panics") })
        }));
        db.execute("UPDATE counters SET value = 5", &[]).unwrap();
        assert_eq!(counter(&*db), 5);
    }
}

/// An executor of a third party's that takes every default of the trait: it forwards the
/// statements to the transaction's executor and keeps [`Executor::transaction_dyn`]'s default
/// (SQL savepoints).
struct Forward<'a>(&'a mut dyn Executor);

impl Executor for Forward<'_> {
    fn execute(&mut self, sql: &str, params: &[dbshift::Value]) -> dbshift::Result<usize> {
        self.0.execute(sql, params)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[dbshift::Value],
    ) -> dbshift::Result<Vec<dbshift::Row>> {
        self.0.query(sql, params)
    }
    fn batch_execute(&mut self, sql: &str) -> dbshift::Result<()> {
        self.0.batch_execute(sql)
    }
    fn dialect(&self) -> dbshift::Dialect {
        self.0.dialect()
    }
}

/// Inside a transaction: a nested executor transaction that fails leaves the outer one usable
/// and undoes only its own writes; one that succeeds commits with the outer one. `label`
/// keeps the runs apart.
fn nested_transactions(tx: &mut dyn Executor, label: &str) -> dbshift::Result<()> {
    let start: i64 = tx
        .query_one("SELECT value FROM counters", &[])?
        .get("value")?;
    increment(tx)?;
    let failed = tx.transaction(|tx| {
        increment(tx)?;
        tx.execute("INSERT INTO counters (name, value) VALUES ('hits', 0)", &[])
    });
    assert!(failed.unwrap_err().is_unique_violation(), "{label}");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.transaction(|tx| -> dbshift::Result<()> {
            increment(tx)?;
            panic!("the nested body panics")
        })
    }));
    assert!(
        panicked.is_err(),
        "{label}: the panic goes on after the rollback"
    );
    let inner = tx.transaction(|tx| {
        increment(tx)?;
        tx.transaction(|tx| increment(tx))?;
        tx.query_one("SELECT value FROM counters", &[])?
            .get::<i64, _>("value")
    })?;
    assert_eq!(
        inner,
        start + 3,
        "{label}: the failed and the panicking increments were undone"
    );
    Ok(())
}

both_backends! {
    fn an_executor_transaction_inside_a_transaction_is_a_savepoint(kind) {
        let db = backend(kind);
        counter_table(&*db);
        db.transaction(|tx| nested_transactions(tx, "built-in")).unwrap();
        assert_eq!(counter(&*db), 3);
        db.transaction(|tx| nested_transactions(&mut Forward(tx), "the trait's default")).unwrap();
        assert_eq!(counter(&*db), 6);
        // The outer rollback undoes what the nested transactions committed into it.
        let err = db.transaction(|tx| {
            nested_transactions(tx, "rolled back")?;
            Err::<(), _>(Error::Rollback("the caller changes its mind".into()))
        });
        assert!(matches!(err, Err(Error::Rollback(_))));
        assert_eq!(counter(&*db), 6);
        // On the pool handle, an executor transaction is a transaction of its own.
        let mut pool: &dyn Backend = &*db;
        let err = Executor::transaction_dyn(&mut pool, &mut |tx| {
            increment(tx)?;
            Err(Error::Rollback("undo".into()))
        });
        assert!(matches!(err, Err(Error::Rollback(_))));
        assert_eq!(counter(&*db), 6);
        (&mut pool as &mut dyn Executor).transaction(increment).unwrap();
        assert_eq!(counter(&*db), 7);
    }
}

/// Makes the first attempt of a transaction conflict: after it has read the counter, another
/// connection commits a change to the same row, so its own update cannot be serialized.
#[cfg(feature = "postgres")]
fn conflicting_increment(
    db: &crate::support::TestDb,
    options: &TransactionOptions,
) -> (dbshift::Result<()>, u32) {
    let attempts = AtomicU32::new(0);
    let result = db.transaction_with(options, |tx| {
        let value: i64 =
            tx.query("SELECT value FROM counters WHERE name = 'hits'", &[])?[0].get("value")?;
        if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
            let other = db.handle();
            std::thread::spawn(move || {
                other.execute("UPDATE counters SET value = value + 10", &[])
            })
            .join()
            .unwrap()
            .unwrap();
        }
        tx.execute(
            "UPDATE counters SET value = $1 WHERE name = 'hits'",
            &[(value + 1).into()],
        )?;
        Ok(())
    });
    (result, attempts.load(Ordering::SeqCst))
}

#[cfg(feature = "postgres")]
#[test]
fn a_conflict_is_retried_up_to_max_attempts_then_reported() {
    let db = backend(Kind::Postgres);
    counter_table(&*db);
    let (result, attempts) =
        conflicting_increment(&db, &TransactionOptions::default().max_attempts(1));
    let err = result.unwrap_err();
    assert!(err.is_serialization_failure(), "{err}");
    assert_eq!(attempts, 1);
    assert_eq!(counter(&*db), 10, "the aborted attempt wrote nothing");

    let (result, attempts) = conflicting_increment(&db, &TransactionOptions::default());
    result.unwrap();
    assert_eq!(attempts, 2, "run again once, after the conflict");
    assert_eq!(counter(&*db), 21, "10 + 10 from the other connection + 1");

    // READ COMMITTED, asked for explicitly, does not see the conflict: the update is lost.
    let options = TransactionOptions::default().isolation(Isolation::ReadCommitted);
    let (result, attempts) = conflicting_increment(&db, &options);
    result.unwrap();
    assert_eq!(attempts, 1);
    assert_eq!(
        counter(&*db),
        22,
        "the other connection's +10 was overwritten"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn the_isolation_level_is_the_one_asked_for() {
    let db = backend(Kind::Postgres);
    for (options, expected) in [
        (TransactionOptions::default(), "serializable"),
        (
            TransactionOptions::default().isolation(Isolation::RepeatableRead),
            "repeatable read",
        ),
        (
            TransactionOptions::default().isolation(Isolation::ReadCommitted),
            "read committed",
        ),
    ] {
        let level: String = db
            .transaction_with(&options, |tx| {
                tx.query("SELECT current_setting('transaction_isolation') AS l", &[])?[0].get("l")
            })
            .unwrap();
        assert_eq!(level, expected);
    }
}
