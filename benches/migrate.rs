//! The transfer benchmark: generates the shared benchmark database, then in one run times
//! `dbshift migrate` (copy only, and verified as users run it), pgloader, DuckDB (its bare copy,
//! and the copy followed by the typed schema's keys, indexes and foreign keys) and the typed
//! `sqlite3 -csv | psql \copy` pipeline (two tables at a time) into fresh databases of one
//! throwaway PostgreSQL server, and prints wall time, rows/s, peak RSS and the ratios.
//! Tools that are not installed are left out with a note (DuckDB: `pip install duckdb==1.4.4
//! duckdb-ext-sqlite duckdb-ext-postgres`).
//!
//! `cargo bench --bench migrate -- [--scale 1] [--runs 3] [--jobs 2] [--baseline PATH]`. It
//! prints figures and asserts nothing about time. `--baseline` times another `dbshift` binary
//! (a release build of an earlier commit) in the same run, to compare a change before and after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dbshift::pg_server::TempServer;

struct Args {
    scale: String,
    runs: usize,
    jobs: usize,
    baseline: Option<PathBuf>,
}

fn args() -> Args {
    let mut args = Args {
        scale: "1".into(),
        runs: 3,
        jobs: 2,
        baseline: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--scale" => args.scale = it.next().expect("--scale N"),
            "--runs" => args.runs = it.next().expect("--runs N").parse().expect("a number"),
            "--jobs" => args.jobs = it.next().expect("--jobs N").parse().expect("a number"),
            "--baseline" => args.baseline = Some(it.next().expect("--baseline PATH").into()),
            // cargo bench passes --bench; ignore anything else.
            _ => {}
        }
    }
    args
}

/// Wall seconds and peak RSS (KiB, the largest of the process tree's processes) of a command.
// The child is reaped by wait4 (which also reports its peak RSS), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn measure(command: &mut Command) -> (f64, u64, bool) {
    // stderr goes to a file: a pipe read only after exit would block a chatty child.
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let started = Instant::now();
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().expect("reopen"))
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, zero is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    // ru_maxrss of wait4 covers the child; a shell's pipeline members are its children and are
    // reported by RUSAGE_CHILDREN of the shell, so the pipeline runs under `sh -c` whose own
    // maximum includes them.
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
        // The throwaway server's password is in the URLs and the pipeline's environment.
        let text = format!("command failed: {command:?}\n{stderr}");
        let text = match SECRET.get() {
            Some(secret) => text.replace(secret.as_str(), "***"),
            None => text,
        };
        eprintln!("{text}");
    }
    drop(child);
    (seconds, usage.ru_maxrss as u64, ok)
}

/// The password of the benchmark's server, kept out of printed commands.
static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    values[values.len() / 2]
}

fn total_rows(db: &Path) -> u64 {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT (SELECT count(*) FROM missions) + (SELECT count(*) FROM mission_events) + (SELECT count(*) FROM tags) + (SELECT count(*) FROM mission_tags) + (SELECT count(*) FROM attachments)")
        .output()
        .expect("sqlite3");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

fn pipeline_script(db: &Path, server: &TempServer, database: &str, shared: &Path) -> String {
    // Over TCP to 127.0.0.1 with the password, as dbshift and pgloader connect: the same
    // transport for every tool (a Unix socket is a few percent cheaper).
    let psql = format!(
        "PGPASSWORD={} psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p {} -U postgres -d {database}",
        server.password(),
        server.port()
    );
    let tables = [
        ("mission_events", "id, mission_id, kind, payload, at"),
        ("attachments", "id, mission_id, filename, mime_type, size_bytes, sha256, is_inline, '\\x' || hex(content), created_at"),
        ("missions", "id, title, description, status, priority, is_archived, progress, metadata, created_at, updated_at"),
        ("mission_tags", "mission_id, tag_id, added_at"),
        ("tags", "id, name, color"),
    ];
    let mut script = format!(
        "set -e -o pipefail\n{psql} -f {}\n",
        shared.join("bench/sql/typed-pre.sql").display()
    );
    // Two tables at a time, largest first, as a careful user with two cores would run it: a
    // new copy starts as soon as one of the two running ends (`wait -n`).
    for (i, (table, columns)) in tables.iter().enumerate() {
        if i >= 2 {
            script.push_str("wait -n\n");
        }
        script.push_str(&format!(
            "sqlite3 -csv {} \"SELECT {columns} FROM {table}\" | {psql} -c \"\\copy {table} FROM STDIN CSV\" &\n",
            db.display()
        ));
    }
    // The last two copies: `wait -n` returns each one's status, so a failed copy fails the
    // script (a plain `wait` would return 0).
    for _ in 0..tables.len().min(2) {
        script.push_str("wait -n\n");
    }
    script.push_str(&format!(
        "{psql} -f {}\n",
        shared.join("bench/sql/typed-post.sql").display()
    ));
    script
}

fn main() {
    let args = args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let data_dir = root.join("target/bench-data");
    std::fs::create_dir_all(&data_dir).expect("bench data dir");
    let db = data_dir.join(format!("bench-s{}.sqlite", args.scale));
    if !db.exists() {
        eprintln!(
            "generating the benchmark database at scale {} ...",
            args.scale
        );
        let status = Command::new("python3")
            .arg(shared.join("bench/gen_bench_db.py"))
            .arg(&db)
            .arg(&args.scale)
            .status()
            .expect("python3");
        assert!(status.success(), "gen_bench_db.py failed");
    }
    let rows = total_rows(&db);
    let size = std::fs::metadata(&db).expect("db").len();
    eprintln!(
        "source: {} ({rows} rows, {:.0} MiB)",
        db.display(),
        size as f64 / 1048576.0
    );
    let server = TempServer::start().expect("a throwaway PostgreSQL");
    let _ = SECRET.set(server.password().to_string());
    let dbshift = env!("CARGO_BIN_EXE_dbshift");
    let have_pgloader = Command::new("pgloader")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());

    let have_duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());

    // The first row is the one the ratios divide by.
    let mut results: Vec<(&str, Vec<f64>, u64)> = vec![
        (NO_VERIFY, vec![], 0),
        (VERIFIED, vec![], 0),
        ("sqlite3|psql (typed)", vec![], 0),
    ];
    if args.baseline.is_some() {
        results.insert(1, ("dbshift (baseline)", vec![], 0));
    }
    if have_pgloader {
        results.push(("pgloader", vec![], 0));
    }
    if have_duckdb {
        results.push((DUCKDB, vec![], 0));
        results.push((DUCKDB_KEYS, vec![], 0));
    } else {
        eprintln!("duckdb is not installed (pip install duckdb==1.4.4 duckdb-ext-sqlite duckdb-ext-postgres): its rows are left out");
    }
    for run in 0..args.runs {
        for (name, times, rss) in results.iter_mut() {
            let database = format!(
                "bench_{}_{run}",
                name.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            );
            let url = server.create_database(&database).expect("create database");
            server.psql("postgres", "CHECKPOINT").expect("checkpoint");
            let (seconds, max_rss, ok) = match *name {
                NO_VERIFY | "dbshift (baseline)" => measure(
                    Command::new(match *name {
                        NO_VERIFY => Path::new(dbshift),
                        _ => args.baseline.as_deref().expect("--baseline"),
                    })
                    .args(["migrate", "--no-verify", "--jobs", &args.jobs.to_string()])
                    .arg(&db)
                    .arg(&url),
                ),
                VERIFIED => measure(
                    Command::new(dbshift)
                        .args(["migrate", "--jobs", &args.jobs.to_string()])
                        .arg(&db)
                        .arg(&url),
                ),
                DUCKDB | DUCKDB_KEYS => {
                    let mut command = Command::new("python3");
                    command
                        .arg(root.join("benches/duckdb_copy.py"))
                        .arg(&db)
                        .arg(format!(
                            "host=127.0.0.1 port={} user=postgres dbname={database}",
                            server.port()
                        ))
                        .env("PGPASSWORD", server.password());
                    if *name == DUCKDB_KEYS {
                        command.arg(shared.join("bench/sql/typed-post.sql"));
                    }
                    measure(&mut command)
                }
                "pgloader" => measure(
                    Command::new("pgloader")
                        .arg(format!("sqlite://{}", db.display()))
                        .arg(url.replace("postgres://", "postgresql://")),
                ),
                _ => measure(
                    Command::new("bash")
                        .arg("-c")
                        .arg(pipeline_script(&db, &server, &database, &shared)),
                ),
            };
            // dbshift must succeed; a reference tool that fails (pgloader's default 1 GiB heap
            // is exhausted at scale 3) is reported as failed, not timed.
            assert!(ok || !name.starts_with("dbshift"), "{name} failed");
            if ok {
                times.push(seconds);
                *rss = (*rss).max(max_rss);
            }
            // Each load leaves work for autovacuum (pgloader's tables are neither frozen nor
            // analyzed); dropping the database keeps it from running into the next tool's time.
            server
                .psql("postgres", &format!("DROP DATABASE {database}"))
                .expect("drop database");
            if ok {
                eprintln!("run {run}: {name} {seconds:.2}s");
            } else {
                eprintln!("run {run}: {name} FAILED after {seconds:.2}s");
            }
        }
    }
    let dbshift_time = median(&mut results[0].1.clone());
    println!(
        "\nscale {} ({rows} rows, {:.0} MiB), {} runs, median wall time:",
        args.scale,
        size as f64 / 1048576.0,
        args.runs
    );
    println!(
        "{:<24} {:>9} {:>12} {:>13} {:>17}",
        "tool", "seconds", "rows/s", "peak RSS MiB", "time / dbshift"
    );
    for (name, times, rss) in &results {
        if times.len() < args.runs {
            println!(
                "{name:<24} failed in {} of {} runs (its error is printed above)",
                args.runs - times.len(),
                args.runs
            );
            if times.is_empty() {
                continue;
            }
        }
        let t = median(&mut times.clone());
        println!(
            "{name:<24} {t:>9.2} {:>12.0} {:>13.1} {:>16.2}x",
            rows as f64 / t,
            *rss as f64 / 1024.0,
            t / dbshift_time
        );
    }
    let verified = results.iter().find(|(name, ..)| *name == VERIFIED);
    if let Some((_, times, _)) = verified.filter(|(_, times, _)| !times.is_empty()) {
        println!(
            "verified / --no-verify: {:.2}x",
            median(&mut times.clone()) / dbshift_time
        );
    }
}

/// `dbshift migrate --no-verify`: the copy alone, the row the ratios divide by.
const NO_VERIFY: &str = "dbshift --no-verify";
/// `dbshift migrate` as users run it: verification on (the default).
const VERIFIED: &str = "dbshift (verified)";
/// DuckDB's `CREATE TABLE ... AS SELECT` per table: no key, index or constraint.
const DUCKDB: &str = "duckdb (copy only)";
/// DuckDB's copy, then the typed reference schema's keys, indexes and foreign keys.
const DUCKDB_KEYS: &str = "duckdb + keys";
