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

/// What one run of a tool took.
struct Measured {
    /// Wall seconds.
    seconds: f64,
    /// Peak RSS in KiB: the largest of the process tree's processes.
    max_rss: u64,
    /// User and system CPU seconds of the tool and the processes it waited for.
    cpu: f64,
    /// Whether it exited with status 0.
    ok: bool,
}

/// Runs a command and measures it.
// The child is reaped by wait4 (which also reports its peak RSS), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn measure(command: &mut Command) -> Measured {
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
    let time = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measured {
        seconds,
        max_rss: usage.ru_maxrss as u64,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        ok,
    }
}

/// CPU seconds the server has spent: the postmaster's own and that of its children that have
/// exited (the backends of a tool's connections, autovacuum and parallel workers). Its
/// long-lived helpers (checkpointer, WAL writer) are left out. `None` off Linux.
fn server_cpu(postmaster: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", postmaster?)).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces:
    // utime, stime, cutime and cstime are the 14th to 17th fields of the line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let sum: f64 = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Some(sum / ticks)
}

/// One tool's runs.
struct Row {
    name: &'static str,
    times: Vec<f64>,
    rss: u64,
    client_cpu: Vec<f64>,
    server_cpu: Vec<f64>,
}

impl Row {
    fn new(name: &'static str) -> Self {
        Row {
            name,
            times: Vec::new(),
            rss: 0,
            client_cpu: Vec::new(),
            server_cpu: Vec::new(),
        }
    }
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
    let mut results: Vec<Row> = vec![
        Row::new(NO_VERIFY),
        Row::new(VERIFIED),
        Row::new("sqlite3|psql (typed)"),
    ];
    if args.baseline.is_some() {
        results.insert(1, Row::new("dbshift (baseline)"));
    }
    if have_pgloader {
        results.push(Row::new("pgloader"));
    }
    if have_duckdb {
        results.push(Row::new(DUCKDB));
        results.push(Row::new(DUCKDB_KEYS));
    } else {
        eprintln!("duckdb is not installed (pip install duckdb==1.4.4 duckdb-ext-sqlite duckdb-ext-postgres): its rows are left out");
    }
    let postmaster = server.postmaster_pid();
    for run in 0..args.runs {
        for row in results.iter_mut() {
            let name: &str = row.name;
            let database = format!(
                "bench_{}_{run}",
                name.chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
            );
            let url = server.create_database(&database).expect("create database");
            server.psql("postgres", "CHECKPOINT").expect("checkpoint");
            let server_before = server_cpu(postmaster);
            let measured = match name {
                NO_VERIFY | "dbshift (baseline)" => measure(
                    Command::new(match name {
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
                    if name == DUCKDB_KEYS {
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
            let server_spent = server_cpu(postmaster)
                .zip(server_before)
                .map(|(after, before)| after - before);
            let Measured {
                seconds,
                max_rss,
                cpu,
                ok,
            } = measured;
            // dbshift must succeed; a reference tool that fails (pgloader's default 1 GiB heap
            // is exhausted at scale 3) is reported as failed, not timed.
            assert!(ok || !name.starts_with("dbshift"), "{name} failed");
            if ok {
                row.times.push(seconds);
                row.rss = row.rss.max(max_rss);
                row.client_cpu.push(cpu);
                row.server_cpu.extend(server_spent);
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
    let dbshift_time = median(&mut results[0].times.clone());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\nscale {} ({rows} rows, {:.0} MiB), {} runs, median wall time, {cores} cores:",
        args.scale,
        size as f64 / 1048576.0,
        args.runs
    );
    println!(
        "{:<24} {:>9} {:>12} {:>13} {:>17} {:>11} {:>11} {:>11}",
        "tool",
        "seconds",
        "rows/s",
        "peak RSS MiB",
        "time / dbshift",
        "client CPU",
        "server CPU",
        "CPU/cores"
    );
    for row in &results {
        let name = row.name;
        if row.times.len() < args.runs {
            println!(
                "{name:<24} failed in {} of {} runs (its error is printed above)",
                args.runs - row.times.len(),
                args.runs
            );
            if row.times.is_empty() {
                continue;
            }
        }
        let t = median(&mut row.times.clone());
        let client = median(&mut row.client_cpu.clone());
        // The server's CPU is what its exited processes spent: shown when it was read.
        let (server, floor) = match row.server_cpu.is_empty() {
            true => ("-".to_string(), "-".to_string()),
            false => {
                let server = median(&mut row.server_cpu.clone());
                (
                    format!("{server:.2}"),
                    format!("{:.2}", (client + server) / cores as f64),
                )
            }
        };
        println!(
            "{name:<24} {t:>9.2} {:>12.0} {:>13.1} {:>16.2}x {client:>11.2} {server:>11} {floor:>11}",
            rows as f64 / t,
            row.rss as f64 / 1024.0,
            t / dbshift_time
        );
    }
    let verified = results.iter().find(|row| row.name == VERIFIED);
    if let Some(row) = verified.filter(|row| !row.times.is_empty()) {
        println!(
            "verified / --no-verify: {:.2}x",
            median(&mut row.times.clone()) / dbshift_time
        );
    }
    println!(
        "CPU/cores: the tool's and the server's CPU seconds over the {cores} cores, the least \
         wall time that work could take here however it were scheduled"
    );
}

/// `dbshift migrate --no-verify`: the copy alone, the row the ratios divide by.
const NO_VERIFY: &str = "dbshift --no-verify";
/// `dbshift migrate` as users run it: verification on (the default).
const VERIFIED: &str = "dbshift (verified)";
/// DuckDB's `CREATE TABLE ... AS SELECT` per table: no key, index or constraint.
const DUCKDB: &str = "duckdb (copy only)";
/// DuckDB's copy, then the typed reference schema's keys, indexes and foreign keys.
const DUCKDB_KEYS: &str = "duckdb + keys";
