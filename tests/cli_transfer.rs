//! `dbshift plan|migrate|verify` as a user runs them: exit codes, reports, reject files, a
//! refused target left untouched, `kill -9` then `--resume`, and no password in any output.

use std::process::{Output, Stdio};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::support::independent::assert_same_rows;
use crate::support::{dbshift, exits, pg_db, shared_fixture, sqlite_db};

/// Asserts no output of `output` holds the test server's password.
fn no_password(output: &Output) {
    let Some(password) = crate::support::password() else {
        return crate::support::skipped("the server is reached without a password");
    };
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(&password), "the password leaked: {all}");
}

/// Runs `dbshift ARGS SOURCE TARGET` in `dir`.
fn run_on(dir: &std::path::Path, args: &[&str], source: &std::path::Path, target: &str) -> Output {
    dbshift(dir)
        .args(args)
        .arg(source)
        .arg(target)
        .output()
        .unwrap()
}

/// The first record of the reject file of the report's first table.
fn first_reject(dir: &std::path::Path, report: &serde_json::Value) -> serde_json::Value {
    let file = report["tables"][0]["reject_file"].as_str().unwrap();
    let line = std::fs::read_to_string(dir.join(file)).unwrap();
    serde_json::from_str(line.lines().next().unwrap()).unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// The one `n` an SQL statement returns on `url`.
pub(crate) fn count(url: &str, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(sql)
        .load(&mut PgConnection::establish(url).unwrap())
        .unwrap();
    rows[0].n
}

#[test]
fn migrate_chinook_reports_json_and_verify_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let source = shared_fixture("chinook.sqlite");
    let output = dbshift(dir.path())
        .args(["migrate", "--format", "json", "--quiet"])
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    no_password(&output);
    exits(&output, 0);
    let report = json(&output);
    assert_eq!(report["tables"].as_array().unwrap().len(), 11);
    assert_eq!(report["verification"]["ok"], true);
    assert_eq!(report["totals"]["rows_rejected"], 0);
    // The password is masked (a URL without one has nothing to mask: `no_password` recorded
    // that check as skipped).
    if crate::support::password().is_some() {
        assert!(report["target"].as_str().unwrap().contains("***"));
    }
    // The values, read by the shells: texts as they were, REAL prices as numeric(10, 2), the
    // naive date texts as the same wall-clock timestamps.
    assert_same_rows(
        "invoice",
        &source,
        "SELECT InvoiceId, CustomerId, InvoiceDate, BillingCity, printf('%.2f', Total) FROM Invoice ORDER BY InvoiceId",
        &target.url,
        "SELECT invoiceid, customerid, invoicedate, billingcity, total FROM invoice ORDER BY invoiceid",
    );

    let output = dbshift(dir.path())
        .arg("verify")
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    no_password(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // A changed value makes verify exit 1 and name the table, key and column.
    target.exec("UPDATE track SET name = 'changed' WHERE trackid = 7");
    let output = dbshift(dir.path())
        .arg("verify")
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Track") && text.contains("column Name") && text.contains("DIFFERS"),
        "{text}"
    );
}

#[test]
fn a_non_empty_target_is_refused_in_one_line_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    target.exec("CREATE TABLE artist (x int); INSERT INTO artist VALUES (1)");
    let output = dbshift(dir.path())
        .arg("migrate")
        .arg(shared_fixture("chinook.sqlite"))
        .arg(&target.url)
        .output()
        .unwrap();
    no_password(&output);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("not empty")
            && stderr.contains("--if-exists"),
        "{stderr}"
    );
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"
        ),
        1
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM artist"), 1);
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname = '_dbshift'"
        ),
        0
    );
}

#[test]
fn bad_sources_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    std::fs::write(dir.path().join("notes.txt"), "hello, not a database\n").unwrap();
    std::fs::write(dir.path().join("empty.db"), "").unwrap();
    for (source, expected) in [
        ("missing.db", "no such file"),
        ("notes.txt", "SQLite 3 header"),
        ("empty.db", "empty"),
        (".", "directory"),
    ] {
        let output = dbshift(dir.path())
            .args(["migrate", source, &target.url])
            .output()
            .unwrap();
        no_password(&output);
        assert_eq!(output.status.code(), Some(2), "{source}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{source}: {stderr}");
    }
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"
        ),
        0
    );
}

#[test]
fn rejected_rows_are_in_the_report_the_reject_file_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO t VALUES (1, 10), (2, 'twenty'), (3, 30);");
    let target = pg_db();
    target.exec("CREATE TABLE t (id bigint PRIMARY KEY, n bigint)");
    let output = run_on(
        dir.path(),
        &[
            "migrate",
            "--data-only",
            "--format",
            "json",
            "--reject-dir",
            "rejects",
        ],
        &source.path,
        &target.url,
    );
    no_password(&output);
    exits(&output, 1);
    let report = json(&output);
    assert_eq!(report["totals"]["rows_rejected"], 1);
    assert_eq!(report["verification"]["ok"], true);
    let reject = first_reject(dir.path(), &report);
    assert_eq!(reject["key"]["rowid"], 2);
    assert_eq!(reject["column"], "n");
    assert_eq!(reject["value"], "twenty");
    assert!(reject["reason"]
        .as_str()
        .unwrap()
        .contains("not an integer"));
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 2);
    assert_same_rows(
        "t",
        &source.path,
        "SELECT id, n FROM t WHERE id <> 2 ORDER BY id",
        &target.url,
        "SELECT id, n FROM t ORDER BY id",
    );
}

#[test]
fn kill_9_during_the_copy_then_resume_verifies_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
            "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO small VALUES (1, 'a'), (2, 'b');
             CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT, at TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250000)
             INSERT INTO big SELECT i, printf('%0100d', i), datetime(1700000000 + i, 'unixepoch') FROM n;",
        );
    let target = pg_db();
    let mut child = dbshift(dir.path())
        .args(["migrate", "--quiet", "--jobs", "1"])
        .arg(&source.path)
        .arg(&target.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while `big` is being copied.
    let started = std::time::Instant::now();
    loop {
        let copying = count(
            &target.url,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY%big%'",
        );
        if copying > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the migration ended before it could be killed"
        );
        assert!(
            started.elapsed().as_secs() < 60,
            "the copy of `big` never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Killed as soon as the COPY runs: wherever it is in the table, resuming must finish it.
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Without --resume the unfinished transfer is refused.
    let output = dbshift(dir.path())
        .arg("migrate")
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--resume"));

    let output = run_on(
        dir.path(),
        &["migrate", "--resume", "--format", "json", "--quiet"],
        &source.path,
        &target.url,
    );
    no_password(&output);
    exits(&output, 0);
    let report = json(&output);
    assert_eq!(report["verification"]["ok"], true, "{report}");
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM big"), 250_000);
    assert_eq!(
        count(&target.url, "SELECT count(DISTINCT id) AS n FROM big"),
        250_000
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM small"), 2);
    // Every value, read independently of dbshift: the text timestamps arrive as UTC instants.
    assert_same_rows(
        "big",
        &source.path,
        "SELECT id, payload, at FROM big ORDER BY id",
        &target.url,
        "SELECT id, payload, at FROM big ORDER BY id",
    );
    assert_same_rows(
        "small",
        &source.path,
        "SELECT id, v FROM small ORDER BY id",
        &target.url,
        "SELECT id, v FROM small ORDER BY id",
    );
}

#[test]
fn dry_run_and_plan_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let source = shared_fixture("chinook.sqlite");
    let output = dbshift(dir.path())
        .args(["migrate", "--dry-run"])
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    no_password(&output);
    exits(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("nothing was changed"));
    let output = dbshift(dir.path())
        .args(["plan", "--out", "plan.toml"])
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("CREATE TABLE"));
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"
        ),
        0
    );
    // The saved plan drives a migration.
    let output = dbshift(dir.path())
        .args(["migrate", "--plan", "plan.toml", "--quiet"])
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    exits(&output, 0);
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'"
        ),
        11
    );
}

/// A crash at each point of a transfer (the process aborts there, as with `kill -9`), then
/// `--resume`: the transfer finishes, verifies, and holds every row exactly once.
#[test]
fn a_crash_at_every_step_is_finished_by_resume() {
    let source = sqlite_db();
    source.exec(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), at TEXT);
             CREATE INDEX child_parent ON child (parent_id);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
             INSERT INTO parent SELECT i, 'p' || i FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
             INSERT INTO child SELECT i, i % 300 + 1, datetime(1700000000 + i, 'unixepoch') FROM n;",
        );
    for point in [
        "created:child",
        "copying:child",
        "copied:parent",
        "indexing:child",
        "finishing",
        "verifying",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let target = pg_db();
        let output = dbshift(dir.path())
            .args(["migrate", "--quiet", "--jobs", "1"])
            .arg(&source.path)
            .arg(&target.url)
            .env("DBSHIFT_FAULT", point)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            None,
            "{point}: the process should have died: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let output = run_on(
            dir.path(),
            &["migrate", "--resume", "--quiet", "--format", "json"],
            &source.path,
            &target.url,
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{point}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(json(&output)["verification"]["ok"], true, "{point}");
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM child"),
            30_000,
            "{point}"
        );
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM parent"),
            300,
            "{point}"
        );
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
            1,
            "{point}"
        );
        assert_eq!(
            count(
                &target.url,
                "SELECT count(*) AS n FROM pg_namespace WHERE nspname = '_dbshift'"
            ),
            0,
            "{point}"
        );
        assert_same_rows(
            &format!("{point}: child"),
            &source.path,
            "SELECT id, parent_id, at FROM child ORDER BY id",
            &target.url,
            "SELECT id, parent_id, at FROM child ORDER BY id",
        );
        assert_same_rows(
            &format!("{point}: parent"),
            &source.path,
            "SELECT id, name FROM parent ORDER BY id",
            &target.url,
            "SELECT id, name FROM parent ORDER BY id",
        );
    }
}

#[test]
fn a_full_disk_under_the_reject_directory_fails_the_table_and_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 5000)
             INSERT INTO t SELECT i, CASE WHEN i % 10 = 0 THEN 'bad' ELSE i END FROM k;",
    );
    let target = pg_db();
    target.exec("CREATE TABLE t (id bigint PRIMARY KEY, n bigint)");
    // The reject file of `t` is a way into /dev/full: every write fails with ENOSPC.
    let rejects = dir.path().join("rejects");
    std::fs::create_dir(&rejects).unwrap();
    let final_path = dbshift::transfer::load::rejects::RejectSink::new(Some(&rejects), "t")
        .final_path()
        .unwrap();
    let partial = format!("{}.partial", final_path.display());
    std::os::unix::fs::symlink("/dev/full", &partial).unwrap();
    let output = run_on(
        dir.path(),
        &[
            "migrate",
            "--data-only",
            "--quiet",
            "--reject-dir",
            "rejects",
            "--format",
            "json",
        ],
        &source.path,
        &target.url,
    );
    no_password(&output);
    exits(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("reject file") && stderr.contains("No space left"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "no report claims a copy: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 0);
    assert!(!final_path.exists());
}

#[test]
fn if_exists_drop_reruns_a_migration_and_truncate_needs_data_only() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let source = shared_fixture("chinook.sqlite");
    let run = |extra: &[&str]| {
        let output = dbshift(dir.path())
            .args(["migrate", "--quiet"])
            .args(extra)
            .arg(&source)
            .arg(&target.url)
            .output()
            .unwrap();
        no_password(&output);
        output
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    target.exec("INSERT INTO genre (name) VALUES ('extra')");
    assert_eq!(
        run(&[]).status.code(),
        Some(2),
        "a second run must be refused"
    );
    let output = run(&["--if-exists", "truncate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--data-only"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Twice: dropping what the first drop-run made works the same.
    for attempt in ["first", "second"] {
        let output = run(&["--if-exists", "drop"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{attempt}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            count(
                &target.url,
                "SELECT count(*) AS n FROM genre WHERE name = 'extra'"
            ),
            0,
            "{attempt}"
        );
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM track"),
            3503,
            "{attempt}"
        );
        assert_same_rows(
            attempt,
            &source,
            "SELECT GenreId, Name FROM Genre ORDER BY GenreId",
            &target.url,
            "SELECT genreid, name FROM genre ORDER BY genreid",
        );
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
            11,
            "{attempt}"
        );
    }
}

#[test]
fn data_only_takes_column_conversions_from_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, took INTEGER, seen INTEGER); INSERT INTO runs VALUES (1, 1500000, 1700000000000), (2, 86400000000, 1700000000123);");
    let target = pg_db();
    target.exec("CREATE TABLE runs (id bigint PRIMARY KEY, took interval, seen timestamptz)");
    // Without a unit for either number column, nothing is written and the one line names
    // the first column and the choices.
    let output = run_on(
        dir.path(),
        &["migrate", "--data-only", "--quiet"],
        &source.path,
        &target.url,
    );
    exits(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`runs.took`"), "{stderr}");
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM runs"), 0);
    std::fs::write(
        dir.path().join("took.toml"),
        "[columns.\"runs.took\"]\nconversion = \"microseconds_to_interval\"\n",
    )
    .unwrap();
    let output = run_on(
        dir.path(),
        &["migrate", "--data-only", "--quiet", "--plan", "took.toml"],
        &source.path,
        &target.url,
    );
    exits(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`runs.seen` holds numbers")
            && stderr.contains("`unix_seconds` or `unix_milliseconds` or `julian_day`"),
        "{stderr}"
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM runs"), 0);
    std::fs::write(
        dir.path().join("columns.toml"),
        "[columns.\"runs.took\"]\nconversion = \"microseconds_to_interval\"\n[columns.\"runs.seen\"]\nconversion = \"unix_milliseconds\"\n",
    )
    .unwrap();
    let output = run_on(
        dir.path(),
        &[
            "migrate",
            "--data-only",
            "--quiet",
            "--plan",
            "columns.toml",
            "--format",
            "json",
        ],
        &source.path,
        &target.url,
    );
    exits(&output, 0);
    assert_eq!(json(&output)["verification"]["ok"], true);
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM runs WHERE took = interval '1.5 seconds'"
        ),
        1
    );
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM runs WHERE took = interval '1 day'"
        ),
        1
    );
    // Milliseconds, as the plan file said.
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM runs WHERE seen IN ('2023-11-14 22:13:20+00', '2023-11-14 22:13:20.123+00')"
        ),
        2
    );
    // Every value, as written here: microseconds as the interval, seconds and milliseconds as
    // the instant each stands for.
    assert_eq!(
        crate::support::independent::pg_rows(
            &target.url,
            "SELECT id, took, seen FROM runs ORDER BY id"
        ),
        [
            ["1", "00:00:01.5", "2023-11-14 22:13:20+00"],
            ["2", "1 day", "2023-11-14 22:13:20.123+00"],
        ]
        .map(|row| row.map(|cell| Some(cell.to_string())))
    );
    // A setting for a column that does not exist is an error, not ignored.
    std::fs::write(
        dir.path().join("typo.toml"),
        "[columns.\"runs.tok\"]\nconversion = \"seconds_to_interval\"\n",
    )
    .unwrap();
    let output = run_on(
        dir.path(),
        &["migrate", "--data-only", "--plan", "typo.toml"],
        &source.path,
        &target.url,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("runs.tok"));
}

/// The README's main job: a sample database written through the data layer, migrated into a
/// throwaway PostgreSQL and verified; it can run again and leaves no file behind.
#[test]
fn demo_rehearse_runs_end_to_end_and_again() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = dbshift(dir.path())
            .args(["demo", "--rehearse", "--missions", "200"])
            .output()
            .unwrap();
        exits(&output, 0);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("verification: ok") && stdout.contains("missions"),
            "{stdout}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the rehearsal left files behind"
    );
}

/// A JSON column found all-JSON by the plan is checked by the server's parser during the copy;
/// a value written after the plan that is not JSON is isolated and rejected with the server's
/// reason, and the other rows arrive.
#[test]
fn a_value_written_after_the_plan_that_breaks_its_type_is_rejected_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, payload TEXT);
         INSERT INTO docs (payload) VALUES ('{\"a\": 1}'), ('[1, 2]'), ('{\"b\": {\"c\": null}}');",
    );
    let output = dbshift(dir.path())
        .args(["plan", "--format", "json", "--out", "plan.toml"])
        .arg(&source.path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let plan = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    assert!(plan.contains("jsonb"), "{plan}");
    source.exec("INSERT INTO docs (payload) VALUES ('not json'), ('{\"d\": 4}');");
    let target = pg_db();
    let output = run_on(
        dir.path(),
        &[
            "migrate",
            "--plan",
            "plan.toml",
            "--format",
            "json",
            "--reject-dir",
            "rejects",
        ],
        &source.path,
        &target.url,
    );
    exits(&output, 1);
    let report = json(&output);
    assert_eq!(report["totals"]["rows_rejected"], 1);
    assert_eq!(report["verification"]["ok"], true);
    let reject = first_reject(dir.path(), &report);
    assert_eq!(reject["key"]["rowid"], 4, "{reject}");
    assert_eq!(reject["column"], "payload", "{reject}");
    assert_eq!(reject["value"], "not json");
    assert!(
        reject["reason"].as_str().unwrap().contains("json"),
        "{reject}"
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM docs"), 4);
    // The other rows' JSON arrives as written (jsonb prints these texts unchanged).
    assert_same_rows(
        "docs",
        &source.path,
        "SELECT id, payload FROM docs WHERE id <> 4 ORDER BY id",
        &target.url,
        "SELECT id, payload FROM docs ORDER BY id",
    );
}

/// Rows written to the source after the plan was saved carry the ids past the plan's restart
/// value; the identity still moves past every copied id, so the application's next insert on
/// PostgreSQL gets a fresh id instead of a duplicate key.
#[test]
fn identities_move_past_ids_written_after_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
         INSERT INTO notes (body) VALUES ('a'), ('b');",
    );
    let output = dbshift(dir.path())
        .args(["plan", "--out", "plan.toml"])
        .arg(&source.path)
        .output()
        .unwrap();
    exits(&output, 0);
    source.exec("INSERT INTO notes (id, body) VALUES (1000, 'written after the plan');");
    let target = pg_db();
    let output = run_on(
        dir.path(),
        &["migrate", "--plan", "plan.toml", "--quiet"],
        &source.path,
        &target.url,
    );
    exits(&output, 0);
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM notes"), 3);
    assert_same_rows(
        "notes",
        &source.path,
        "SELECT id, body FROM notes ORDER BY id",
        &target.url,
        "SELECT id, body FROM notes ORDER BY id",
    );
    assert_eq!(
        count(
            &target.url,
            "WITH i AS (INSERT INTO notes (body) VALUES ('new') RETURNING id) SELECT id AS n FROM i"
        ),
        1001
    );
}

#[test]
fn a_table_copied_in_parts_resumes_exactly_after_a_kill_at_any_point() {
    // --split-rows 5000: `big` (30,000 rows) is copied in three parts on three connections,
    // each committed on its own; killed at each point, the resumed run copies what is missing
    // and nothing twice. The points `parts-created` and `copied:big:partN` exist only when the
    // table is copied in parts: the first run dying there shows that it was.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, n INTEGER CHECK (n >= 0));
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
         INSERT INTO big SELECT i * 3, printf('%050d', i), i % 11 FROM n;
         CREATE INDEX big_n ON big (n);",
    );
    for point in [
        "parts-created:big",
        "copying:big",
        "copied:big:part1",
        "copied:big:part3",
        "indexing:big",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let target = pg_db();
        let args = ["migrate", "--quiet", "--jobs", "3", "--split-rows", "5000"];
        let output = dbshift(dir.path())
            .args(args)
            .arg(&source.path)
            .arg(&target.url)
            .env("DBSHIFT_FAULT", point)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            None,
            "{point}: the process should have died: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Resumed with other settings after a part was recorded: the recorded parts go on.
        let mut resume = if point == "copied:big:part1" {
            vec!["migrate", "--quiet", "--jobs", "1"]
        } else {
            args.to_vec()
        };
        resume.extend(["--resume", "--format", "json"]);
        let output = run_on(dir.path(), &resume, &source.path, &target.url);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{point}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = json(&output);
        assert_eq!(report["verification"]["ok"], true, "{point}");
        assert_eq!(
            count(&target.url, "SELECT count(DISTINCT id) AS n FROM big"),
            30_000,
            "{point}"
        );
        assert_eq!(
            count(&target.url, "SELECT count(*) AS n FROM big"),
            30_000,
            "{point}"
        );
        if point == "copied:big:part1" {
            // Part 1 kept the rows the first run committed: they carry its transaction.
            assert!(
                count(
                    &target.url,
                    "SELECT count(DISTINCT xmin::text) AS n FROM big"
                ) >= 2,
                "{point}: the resumed run copied the whole table again"
            );
        }
        assert_same_rows(
            &format!("{point}: big"),
            &source.path,
            "SELECT id, payload, n FROM big ORDER BY id",
            &target.url,
            "SELECT id, payload, n FROM big ORDER BY id",
        );
    }
}

#[test]
fn the_rejects_of_a_table_copied_in_parts_end_in_the_tables_one_file() {
    // Planned on clean data, then three rows in three parts get text where the plan chose an
    // integer: each part rejects its row into a file of its own, merged at the end.
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9000)
         INSERT INTO big SELECT i, i FROM n;",
    );
    let output = dbshift(dir.path())
        .args(["plan", "--out", "plan.toml"])
        .arg(&source.path)
        .output()
        .unwrap();
    exits(&output, 0);
    source.exec("UPDATE big SET n = 'x' || id WHERE id IN (10, 4500, 8999);");
    let target = pg_db();
    let output = run_on(
        dir.path(),
        &[
            "migrate",
            "--plan",
            "plan.toml",
            "--quiet",
            "--format",
            "json",
            "--jobs",
            "3",
            "--split-rows",
            "1000",
        ],
        &source.path,
        &target.url,
    );
    let report = json(&output);
    assert_eq!(report["tables"][0]["rows_rejected"], 3, "{report}");
    let file = dir
        .path()
        .join(report["tables"][0]["reject_file"].as_str().unwrap());
    let mut keys: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["key"].to_string())
        .collect();
    keys.sort();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for id in ["10", "4500", "8999"] {
        assert!(keys.iter().any(|k| k.contains(id)), "{id} in {keys:?}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM big"), 8997);
}
