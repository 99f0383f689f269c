//! What the `Box<dyn Backend>` layer costs over typed Diesel on the same r2d2 pool: a point
//! read by primary key and a single-row insert, on SQLite and PostgreSQL.
//!
//! Run with `cargo bench --bench backend`. PostgreSQL is a throwaway server started from the
//! installed binaries, or `DATABASE_URL` when set (the bench creates and drops its own table
//! there). Prints a table; asserts nothing about time. The two ways of each case run in
//! alternating rounds, short ones (a few milliseconds on SQLite), so drift in the machine's
//! speed hits both alike: with five long rounds, a slow spell of a shared machine that fell
//! on one way's rounds moved the comparison by tens of percent from run to run.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};

use dbshift::backend::{PostgresBackend, SqliteBackend};
use dbshift::pg_server::TempServer;
use dbshift::{Backend, DbConfig, Value};

diesel::table! {
    bench_items (id) {
        id -> BigInt,
        name -> Text,
        score -> Double,
    }
}

const ROWS: i64 = 10_000;
const ROUNDS: i64 = 40;

/// Latencies of one way of doing one case, over all rounds.
#[derive(Default)]
struct Samples(Vec<Duration>);

impl Samples {
    fn time(&mut self, op: impl FnOnce()) {
        let started = Instant::now();
        op();
        self.0.push(started.elapsed());
    }

    fn total(&self) -> Duration {
        self.0.iter().sum()
    }

    fn mean(&self) -> Duration {
        self.total() / self.0.len() as u32
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
    }

    fn ops_per_sec(&self) -> f64 {
        self.0.len() as f64 / self.total().as_secs_f64()
    }
}

/// One case measured both ways on one backend.
struct Case {
    backend: &'static str,
    name: &'static str,
    dynamic: Samples,
    typed: Samples,
}

/// What the benchmark needs of each backend: the trait object and typed access to its pool.
trait Typed {
    fn read(&self, id: i64) -> (i64, String, f64);
    fn insert(&self, name: &str, score: f64);
}

/// Typed Diesel on a pool; written once for both connection types.
macro_rules! typed_on_pool {
    ($conn:ty) => {
        impl Typed for Pool<ConnectionManager<$conn>> {
            fn read(&self, id: i64) -> (i64, String, f64) {
                let mut conn = self.get().expect("pooled connection");
                bench_items::table
                    .find(id)
                    .first(&mut conn)
                    .expect("typed read")
            }

            fn insert(&self, name: &str, score: f64) {
                let mut conn = self.get().expect("pooled connection");
                diesel::insert_into(bench_items::table)
                    .values((bench_items::name.eq(name), bench_items::score.eq(score)))
                    .execute(&mut conn)
                    .expect("typed insert");
            }
        }
    };
}

typed_on_pool!(diesel::SqliteConnection);
typed_on_pool!(diesel::PgConnection);

/// Reads the row's values by moving them out, as typed Diesel hands over its owned `String`
/// (`Row::get` would copy the text, which is the convenience API's cost, not the layer's).
fn dynamic_read(db: &dyn Backend, id: i64) -> (i64, String, f64) {
    let row = db
        .query_one(
            "SELECT id, name, score FROM bench_items WHERE id = $1",
            &[Value::Int(id)],
        )
        .expect("dyn read");
    match row.into_values().as_mut_slice() {
        [Value::Int(id), Value::Text(name), Value::Float(score)] => {
            (*id, std::mem::take(name), *score)
        }
        other => panic!("unexpected row {other:?}"),
    }
}

fn dynamic_insert(db: &dyn Backend, name: &str, score: f64) {
    db.execute(
        "INSERT INTO bench_items (name, score) VALUES ($1, $2)",
        &[name.into(), Value::Float(score)],
    )
    .expect("dyn insert");
}

/// Makes `bench_items` with [`ROWS`] rows.
fn create_table(db: &dyn Backend) {
    let key = db.dialect().auto_increment_primary_key("id").unwrap();
    let score_type = match db.dialect() {
        dbshift::Dialect::Sqlite => "REAL",
        dbshift::Dialect::Postgres => "DOUBLE PRECISION",
    };
    db.batch_execute(&format!("DROP TABLE IF EXISTS bench_items; CREATE TABLE bench_items ({key}, name TEXT NOT NULL, score {score_type} NOT NULL)"))
        .unwrap();
    db.transaction(|tx| {
        for i in 0..ROWS {
            tx.execute(
                "INSERT INTO bench_items (name, score) VALUES ($1, $2)",
                &[format!("item {i}").into(), Value::Float(i as f64 / 3.0)],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

fn run(backend: &'static str, db: &dyn Backend, typed: &dyn Typed, ops: i64) -> Vec<Case> {
    let ops_per_round = ops / ROUNDS;
    create_table(db);
    let mut read = Case {
        backend,
        name: "point read by id",
        dynamic: Samples::default(),
        typed: Samples::default(),
    };
    let mut insert = Case {
        backend,
        name: "single-row insert",
        dynamic: Samples::default(),
        typed: Samples::default(),
    };
    // Warm up both ways: connections, prepared statements, page cache.
    for i in 1..=500 {
        assert_eq!(dynamic_read(db, i), typed.read(i));
    }
    let id = |n: i64| 1 + (n * 7919) % ROWS;
    for round in 0..ROUNDS {
        // Alternate which way goes first, so neither always runs on a warmer machine.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for dynamic in order {
            for n in round * ops_per_round..(round + 1) * ops_per_round {
                if dynamic {
                    read.dynamic.time(|| {
                        std::hint::black_box(dynamic_read(db, id(n)));
                    });
                } else {
                    read.typed.time(|| {
                        std::hint::black_box(typed.read(id(n)));
                    });
                }
            }
            for n in round * ops_per_round / 2..(round + 1) * ops_per_round / 2 {
                let name = format!("new {round} {n}");
                if dynamic {
                    insert.dynamic.time(|| dynamic_insert(db, &name, n as f64));
                } else {
                    insert.typed.time(|| typed.insert(&name, n as f64));
                }
            }
        }
    }
    db.batch_execute("DROP TABLE bench_items").unwrap();
    vec![read, insert]
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn print(cases: &[Case]) {
    println!(
        "\n{:<9} {:<18} {:<12} {:>10} {:>10} {:>9} {:>9} {:>9}",
        "backend", "case", "way", "ops", "ops/s", "mean µs", "p50 µs", "p99 µs"
    );
    for case in cases {
        for (way, samples) in [
            ("dyn Backend", &case.dynamic),
            ("typed Diesel", &case.typed),
        ] {
            println!(
                "{:<9} {:<18} {:<12} {:>10} {:>10.0} {:>9} {:>9} {:>9}",
                case.backend,
                case.name,
                way,
                samples.0.len(),
                samples.ops_per_sec(),
                micros(samples.mean()),
                micros(samples.percentile(0.50)),
                micros(samples.percentile(0.99)),
            );
        }
        let overhead = |a: Duration, b: Duration| (a.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0;
        println!(
            "{:<9} {:<18} overhead of dyn Backend: mean {:+.1}%, p50 {:+.1}%",
            case.backend,
            case.name,
            overhead(case.dynamic.mean(), case.typed.mean()),
            overhead(case.dynamic.percentile(0.5), case.typed.percentile(0.5)),
        );
    }
}

/// `--profile BACKEND-CASE-WAY N` (say `sqlite-read-dyn 20000`): sets up as the timed run
/// does, then runs only that way of that case N times in [`profiled_loop`], printing nothing.
/// For an instruction count that the machine's load does not blur, run it under
/// `valgrind --tool=callgrind --toggle-collect=*profiled_loop*` and divide by N.
fn profile(which: &str, n: i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let server;
    let (db, typed): (Box<dyn Backend>, Box<dyn Typed>) = if which.starts_with("sqlite-") {
        let sqlite = SqliteBackend::connect(&DbConfig::sqlite(dir.path().join("bench.db")))
            .expect("open SQLite");
        (Box::new(sqlite.clone()), Box::new(sqlite.pool().clone()))
    } else {
        server = TempServer::start().expect("start a throwaway PostgreSQL");
        let url = server
            .create_database("bench")
            .expect("create the bench database");
        let postgres =
            PostgresBackend::connect(&DbConfig::from_url(url)).expect("connect to PostgreSQL");
        (
            Box::new(postgres.clone()),
            Box::new(postgres.pool().clone()),
        )
    };
    create_table(&*db);
    for i in 1..=500 {
        assert_eq!(dynamic_read(&*db, i), typed.read(i));
    }
    profiled_loop(which, &*db, &*typed, n);
}

#[inline(never)]
fn profiled_loop(which: &str, db: &dyn Backend, typed: &dyn Typed, n: i64) {
    let id = |n: i64| 1 + (n * 7919) % ROWS;
    let way = which.split_once('-').map_or(which, |(_, rest)| rest);
    for i in 0..n {
        match way {
            "read-dyn" => drop(std::hint::black_box(dynamic_read(db, id(i)))),
            "read-typed" => drop(std::hint::black_box(typed.read(id(i)))),
            "insert-dyn" => dynamic_insert(db, "profiled", i as f64),
            "insert-typed" => typed.insert("profiled", i as f64),
            other => {
                panic!("unknown way `{other}`: read-dyn, read-typed, insert-dyn, insert-typed")
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--profile") {
        let which = args.get(at + 1).expect("--profile BACKEND-CASE-WAY N");
        let n = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        profile(which, n);
        return;
    }
    let mut cases = Vec::new();

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteBackend::connect(&DbConfig::sqlite(dir.path().join("bench.db")))
        .expect("open SQLite");
    cases.extend(run("sqlite", &sqlite, sqlite.pool(), 100_000));

    let server;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            server =
                TempServer::start().expect("start a throwaway PostgreSQL (or set DATABASE_URL)");
            server
                .create_database("bench")
                .expect("create the bench database")
        }
    };
    let postgres =
        PostgresBackend::connect(&DbConfig::from_url(url)).expect("connect to PostgreSQL");
    cases.extend(run("postgres", &postgres, postgres.pool(), 20_000));

    print(&cases);
}
