//! Sustained load on the data layer: 32 threads (each with its own clone of one backend) run
//! mixed reads, single-row writes and transactions for a bounded time on SQLite and on
//! PostgreSQL, then the final counts are checked against what the threads did. Prints
//! throughput, latency percentiles and errors; asserts no error and no lost write, never a time.
//!
//! `cargo bench --bench load -- [--seconds 60] [--threads 32]`

use std::time::{Duration, Instant};

use dbshift::{Backend, DbConfig, Error, Registry, Value};

struct Args {
    seconds: u64,
    threads: i64,
}

fn args() -> Args {
    let mut args = Args {
        seconds: 60,
        threads: 32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                args.seconds = it.next().expect("--seconds N").parse().expect("a number")
            }
            "--threads" => {
                args.threads = it.next().expect("--threads N").parse().expect("a number")
            }
            _ => {}
        }
    }
    args
}

#[derive(Default)]
struct Tally {
    inserted: i64,
    in_transactions: i64,
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

fn worker(db: Box<dyn Backend>, thread: i64, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut op: i64 = 0;
    while Instant::now() < until {
        let t = Value::Int(thread);
        let started = Instant::now();
        let result: dbshift::Result<()> = match op % 10 {
            0..=2 => db
                .execute(
                    "INSERT INTO load_items (thread, n, note) VALUES ($1, $2, 'single')",
                    &[t, Value::Int(op)],
                )
                .map(|_| {
                    tally.inserted += 1;
                }),
            3 | 4 => db
                .transaction(|tx| {
                    tx.execute(
                        "INSERT INTO load_items (thread, n, note) VALUES ($1, $2, 'tx')",
                        &[t.clone(), Value::Int(op)],
                    )?;
                    tx.execute(
                        "UPDATE load_totals SET writes = writes + 1 WHERE thread = $1",
                        std::slice::from_ref(&t),
                    )?;
                    Ok(())
                })
                .map(|()| {
                    tally.inserted += 1;
                    tally.in_transactions += 1;
                }),
            5 => match db.transaction(|tx| -> dbshift::Result<()> {
                tx.execute(
                    "INSERT INTO load_items (thread, n, note) VALUES ($1, $2, 'rolled back')",
                    &[t.clone(), Value::Int(op)],
                )?;
                Err(Error::Rollback("on purpose".into()))
            }) {
                Err(Error::Rollback(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(()) => Err(Error::Statement("a rollback committed".into())),
            },
            6..=8 => db
                .query(
                    "SELECT count(*) AS n FROM load_items WHERE thread = $1",
                    &[t],
                )
                .and_then(|rows| {
                    let n: i64 = rows[0].get("n")?;
                    if n == tally.inserted {
                        Ok(())
                    } else {
                        Err(Error::Statement(format!(
                            "thread {thread} sees {n} of its {} rows",
                            tally.inserted
                        )))
                    }
                }),
            _ => db
                .query(
                    "SELECT id, n, note FROM load_items WHERE thread = $1 ORDER BY id DESC LIMIT 5",
                    &[t],
                )
                .map(|_| ()),
        };
        tally.latencies.push(started.elapsed());
        if let Err(e) = result {
            tally.errors.push(e.to_string());
        }
        op += 1;
    }
    tally
}

fn run(name: &str, db: Box<dyn Backend>, args: &Args) {
    let d = db.dialect();
    db.batch_execute(&format!(
        "CREATE TABLE load_items ({}, thread INTEGER NOT NULL, n INTEGER NOT NULL, note TEXT);
         CREATE INDEX load_items_thread ON load_items (thread);
         CREATE TABLE load_totals (thread INTEGER PRIMARY KEY, writes INTEGER NOT NULL)",
        d.auto_increment_primary_key("id").expect("a valid name")
    ))
    .expect("create tables");
    for thread in 0..args.threads {
        db.execute(
            "INSERT INTO load_totals (thread, writes) VALUES ($1, 0)",
            &[Value::Int(thread)],
        )
        .expect("seed totals");
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let workers: Vec<_> = (0..args.threads)
        .map(|thread| {
            let db = db.clone();
            std::thread::spawn(move || worker(db, thread, until))
        })
        .collect();
    let tallies: Vec<Tally> = workers
        .into_iter()
        .map(|w| w.join().expect("no worker panics"))
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    latencies.sort();
    let errors: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
    let count = |sql: &str| {
        db.query_one(sql, &[])
            .expect("count")
            .get::<i64, _>(0)
            .expect("a number")
    };
    let inserted: i64 = tallies.iter().map(|t| t.inserted).sum();
    let in_transactions: i64 = tallies.iter().map(|t| t.in_transactions).sum();
    let rows = count("SELECT count(*) FROM load_items");
    let totals = count("SELECT sum(writes) FROM load_totals");
    let rolled_back = count("SELECT count(*) FROM load_items WHERE note = 'rolled back'");
    println!(
        "{name:<10} {:>8} ops {:>9.0} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {:>3}  writes {}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        errors.len(),
        if rows == inserted && totals == in_transactions && rolled_back == 0 { "all kept" } else { "LOST" }
    );
    for e in errors.iter().take(5) {
        println!("    error: {e}");
    }
    assert!(errors.is_empty(), "{name}: {} errors", errors.len());
    assert_eq!(
        (rows, totals, rolled_back),
        (inserted, in_transactions, 0),
        "{name}: writes were lost or a rollback kept"
    );
}

fn main() {
    let args = args();
    println!(
        "{} threads, {} s per backend, mixed reads, writes and transactions",
        args.threads, args.seconds
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = Registry::with_defaults();
    let sqlite = registry
        .connect(
            &DbConfig::sqlite(dir.path().join("load.db")).with_max_connections(args.threads as u32),
        )
        .expect("sqlite");
    run("sqlite", sqlite, &args);
    let server = dbshift::pg_server::TempServer::start().expect("a throwaway PostgreSQL");
    let url = server.create_database("load").expect("database");
    let postgres = registry
        .connect(&DbConfig::from_url(url).with_max_connections(args.threads as u32))
        .expect("postgres");
    run("postgres", postgres, &args);
}
