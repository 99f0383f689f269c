//! Load: 16 threads, each with its own clone of one backend, 1,000 mixed operations each
//! (single-statement writes, committed and rolled-back transactions, reads), on both databases.
//! No operation may fail (on SQLite: no `database is locked`), and the final counts are exact.

use std::time::Instant;

use crate::support::backend;
use dbshift::{Error, Value};

const THREADS: i64 = 16;
const OPS: i64 = 1_000;

/// What one thread did, to check against the database afterwards.
#[derive(Debug, Default)]
struct Tally {
    inserted: i64,
    in_transactions: i64,
    rolled_back: i64,
    reads: i64,
}

both_backends! {
    fn sixteen_threads_of_mixed_reads_and_writes_end_with_exact_counts(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute(&format!(
            "CREATE TABLE load_items ({}, thread INTEGER NOT NULL, n INTEGER NOT NULL, note TEXT);
             CREATE INDEX load_items_thread ON load_items (thread);
             CREATE TABLE load_totals (thread INTEGER PRIMARY KEY, writes INTEGER NOT NULL)",
            d.auto_increment_primary_key("id").unwrap()
        )).unwrap();
        for thread in 0..THREADS {
            db.execute("INSERT INTO load_totals (thread, writes) VALUES ($1, 0)", &[Value::Int(thread)]).unwrap();
        }
        let started = Instant::now();
        let workers: Vec<_> = (0..THREADS).map(|thread| {
            let db = db.handle();
            std::thread::spawn(move || -> Result<Tally, String> {
                let mut tally = Tally::default();
                let mut last: Option<(i64, i64)> = None;
                let fail = |op: i64, e: Error| format!("thread {thread}, op {op}: {e}");
                for op in 0..OPS {
                    let t = Value::Int(thread);
                    match op % 10 {
                        0..=2 => {
                            let row = db.query_one("INSERT INTO load_items (thread, n, note) VALUES ($1, $2, $3) RETURNING id", &[t, Value::Int(op), "single".into()]).map_err(|e| fail(op, e))?;
                            last = Some((row.get("id").map_err(|e| fail(op, e))?, op));
                            tally.inserted += 1;
                        }
                        3 | 4 => {
                            db.transaction(|tx| {
                                tx.execute("INSERT INTO load_items (thread, n, note) VALUES ($1, $2, 'tx')", &[t.clone(), Value::Int(op)])?;
                                tx.execute("UPDATE load_totals SET writes = writes + 1 WHERE thread = $1", std::slice::from_ref(&t))?;
                                Ok(())
                            }).map_err(|e| fail(op, e))?;
                            tally.inserted += 1;
                            tally.in_transactions += 1;
                        }
                        5 => {
                            let result = db.transaction(|tx| -> dbshift::Result<()> {
                                tx.execute("INSERT INTO load_items (thread, n, note) VALUES ($1, $2, 'rolled back')", &[t.clone(), Value::Int(op)])?;
                                tx.execute("UPDATE load_totals SET writes = writes + 1000 WHERE thread = $1", std::slice::from_ref(&t))?;
                                Err(Error::Rollback("on purpose".into()))
                            });
                            match result {
                                Err(Error::Rollback(_)) => tally.rolled_back += 1,
                                Err(e) => return Err(fail(op, e)),
                                Ok(()) => return Err(fail(op, Error::Statement("the rollback committed".into()))),
                            }
                        }
                        6 | 7 => {
                            let n: i64 = db.query_one("SELECT count(*) AS n FROM load_items WHERE thread = $1", &[t]).and_then(|r| r.get("n")).map_err(|e| fail(op, e))?;
                            if n != tally.inserted {
                                return Err(format!("thread {thread}, op {op}: sees {n} rows, wrote {}", tally.inserted));
                            }
                            tally.reads += 1;
                        }
                        8 => {
                            if let Some((id, n)) = last {
                                let got: i64 = db.query_one("SELECT n FROM load_items WHERE id = $1", &[Value::Int(id)]).and_then(|r| r.get("n")).map_err(|e| fail(op, e))?;
                                if got != n {
                                    return Err(format!("thread {thread}, op {op}: row {id} holds {got}, not {n}"));
                                }
                            }
                            tally.reads += 1;
                        }
                        _ => {
                            let writes: i64 = db.transaction(|tx| tx.query("SELECT writes FROM load_totals WHERE thread = $1", std::slice::from_ref(&t))?[0].get("writes")).map_err(|e| fail(op, e))?;
                            if writes != tally.in_transactions {
                                return Err(format!("thread {thread}, op {op}: total {writes}, expected {}", tally.in_transactions));
                            }
                            tally.reads += 1;
                        }
                    }
                }
                Ok(tally)
            })
        }).collect();
        let tallies: Vec<Tally> = workers.into_iter().map(|w| w.join().expect("no worker panics").unwrap_or_else(|e| panic!("{e}"))).collect();
        eprintln!("load test on {kind:?}: {} operations in {:?}", THREADS * OPS, started.elapsed());

        for tally in &tallies {
            assert_eq!((tally.inserted, tally.in_transactions, tally.rolled_back, tally.reads), (500, 200, 100, 400), "{tally:?}");
        }
        let count = |sql: &str| db.query_one(sql, &[]).unwrap().get::<i64, _>(0).unwrap();
        assert_eq!(count("SELECT count(*) FROM load_items"), THREADS * 500);
        assert_eq!(count("SELECT count(*) FROM load_items WHERE note = 'tx'"), THREADS * 200);
        assert_eq!(count("SELECT count(*) FROM load_items WHERE note = 'rolled back'"), 0);
        assert_eq!(count("SELECT sum(writes) FROM load_totals"), THREADS * 200);
        assert_eq!(count("SELECT count(DISTINCT thread) FROM load_items"), THREADS);
    }
}
