//! `dbshift migrate` given bad input, as a user meets it: a source that is not a usable SQLite
//! database, a locked or WAL-mode source, a target that cannot be reached or used, a bad plan
//! file or option. Each is refused with one `error: ...` line saying what is wrong and what to
//! do, exit code 2, and leaves the source's bytes and the target's tables as they were.
//!
//! Then secrets and injection: no password in any output, at any log level, in the JSON report
//! or the plan file; passwords from PGPASSWORD and a config's `password_file`; TLS options passed
//! through; hostile table and column names that migrate, verify and harm nothing.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::cli_transfer::count;
use crate::support::dbshift;
use crate::support::independent::assert_same_rows;
use crate::support::{pg_db, sqlite_db, SqliteDb};

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

use crate::support::{password, skipped};

fn assert_no_secret(what: &str, haystack: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !haystack.contains(secret),
            "a password leaked into {what}: {haystack}"
        );
    }
}

/// Asserts `output` is a refusal: exit code 2, one `error: ...` line holding every `expected`
/// piece (case-insensitively), nothing on stdout, no password.
fn refused(output: &Output, expected: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{}", text(output));
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for piece in expected {
        assert!(
            stderr.to_lowercase().contains(&piece.to_lowercase()),
            "`{piece}` missing from: {stderr}"
        );
    }
    match password() {
        Some(password) => assert_no_secret("the output", &text(output), &[&password]),
        None => skipped("no password to look for in the output"),
    }
    stderr
}

fn hash_file(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    Some(hasher.finish())
}

/// The bytes of a SQLite source and its `-wal` (hashed), to compare before and after.
fn source_state(path: &Path) -> (Option<u64>, Option<u64>) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    (hash_file(path), hash_file(Path::new(&wal)))
}

/// Every table and schema of a target database, to compare before and after.
fn target_state(url: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT 'schema ' || nspname AS name FROM pg_namespace
          WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
         UNION ALL
         SELECT 'table ' || schemaname || '.' || tablename FROM pg_tables
          WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1",
    )
    .load(&mut PgConnection::establish(url).unwrap())
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

/// A real source: two tables, `t` spanning some 60 pages of 4 KiB.
fn real_source() -> SqliteDb {
    let db = sqlite_db();
    db.exec(
        "PRAGMA page_size = 4096;
             CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO small VALUES (1, 'a'), (2, 'b');
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT i, printf('%0100d', i) FROM n;",
    );
    db
}

/// Runs `migrate SOURCE TARGET extra...` and checks it is refused with `expected`, changing
/// neither side.
fn migrate_refused(source: &Path, target: &str, extra: &[&str], expected: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let source_before = source_state(source);
    let target_before = target_state(&crate::support::server().url(database_of(target)));
    let output = dbshift(dir.path())
        .arg("migrate")
        .args(extra)
        .arg(source)
        .arg(target)
        .output()
        .unwrap();
    let line = refused(&output, expected);
    assert_eq!(source_state(source), source_before, "the source changed");
    assert_eq!(
        target_state(&crate::support::server().url(database_of(target))),
        target_before,
        "the target changed"
    );
    line
}

fn database_of(url: &str) -> &str {
    let path = url.split('?').next().unwrap();
    &path[path.rfind('/').unwrap() + 1..]
}

// ---------------------------------------------------------------------------------------------
// Bad sources

#[test]
fn a_missing_source_is_refused() {
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    migrate_refused(
        &dir.path().join("missing.db"),
        &target.url,
        &[],
        &["missing.db", "no such file"],
    );
}

#[test]
fn a_directory_as_source_is_refused() {
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    migrate_refused(dir.path(), &target.url, &[], &["is a directory"]);
}

#[test]
fn an_empty_source_is_refused() {
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, "").unwrap();
    migrate_refused(&path, &target.url, &[], &["empty.db", "empty"]);
}

#[test]
fn a_text_file_as_source_is_refused() {
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello, not a database\n".repeat(20)).unwrap();
    migrate_refused(&path, &target.url, &[], &["notes.txt", "SQLite 3 header"]);
}

#[test]
fn a_truncated_source_is_refused() {
    let target = pg_db();
    let source = real_source();
    let bytes = std::fs::read(&source.path).unwrap();
    assert!(bytes.len() > 40 * 4096);
    std::fs::write(&source.path, &bytes[..10 * 4096]).unwrap();
    migrate_refused(&source.path, &target.url, &[], &["test.db", "corrupt"]);
}

#[test]
fn a_source_with_a_corrupted_page_is_refused() {
    let target = pg_db();
    let source = real_source();
    let mut bytes = std::fs::read(&source.path).unwrap();
    // A leaf page of `t` in the middle of the file: its header and cell pointers overwritten.
    let page = bytes.len() / 4096 / 2;
    let start = page * 4096;
    bytes[start..start + 512].fill(0xA5);
    std::fs::write(&source.path, &bytes).unwrap();
    migrate_refused(&source.path, &target.url, &[], &["test.db", "corrupt"]);
}

/// The chosen behaviour: a source locked by a writer is waited for (SQLite's busy timeout, 10
/// seconds), never read around; once the writer commits, the migration reads the committed
/// rows. A lock held longer than the timeout fails with `database is locked`.
#[test]
fn a_source_locked_by_a_writer_is_waited_for_then_read() {
    let target = pg_db();
    let source = real_source();
    let mut writer = SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
    writer
        .batch_execute("BEGIN EXCLUSIVE; INSERT INTO small VALUES (3, 'written under the lock');")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let child = dbshift(dir.path())
        .args(["migrate", "--quiet", "--format", "json"])
        .arg(&source.path)
        .arg(&target.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Give the child time to meet the lock; if it is slower, it reads after the commit and
    // the assertions below hold all the same (they check what was read, not how long it took).
    std::thread::sleep(Duration::from_millis(1500));
    writer.batch_execute("COMMIT").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM small"), 3);
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 2000);
    // The committed rows, with their values, read by the shells.
    for sql in [
        "SELECT id, v FROM small ORDER BY id",
        "SELECT id, v FROM t ORDER BY id",
    ] {
        assert_same_rows(sql, &source.path, sql, &target.url, sql);
    }
}

/// A writer's lock held past the busy timeout (10 seconds) is an error naming the lock, and
/// the target is left as it was: the source is never read around the lock.
#[test]
fn a_source_locked_past_the_busy_timeout_is_refused() {
    let target = pg_db();
    let source = real_source();
    let mut writer = SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
    writer
        .batch_execute("BEGIN EXCLUSIVE; INSERT INTO small VALUES (3, 'never committed');")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .arg("migrate")
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    writer.batch_execute("ROLLBACK").unwrap();
    refused(&output, &["holds a lock", "waited 10 s"]);
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        0,
        "nothing is created in the target"
    );
}

#[test]
fn a_wal_source_is_read_with_the_rows_still_in_its_wal() {
    let target = pg_db();
    let source = real_source();
    let mut writer = SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
    writer
        .batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             WITH RECURSIVE n(i) AS (SELECT 2001 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
             INSERT INTO t SELECT i, printf('%0100d', i) FROM n;
             INSERT INTO small VALUES (3, 'only in the wal');",
        )
        .unwrap();
    let mut wal = source.path.as_os_str().to_owned();
    wal.push("-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let before = source_state(&source.path);
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .args(["migrate", "--quiet"])
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 2500);
    assert_eq!(
        count(
            &target.url,
            "SELECT count(*) AS n FROM small WHERE v = 'only in the wal'"
        ),
        1
    );
    assert_eq!(source_state(&source.path), before, "the source changed");
    // Every value, the WAL's rows among them, as the sqlite3 shell reads the file.
    for sql in [
        "SELECT id, v FROM small ORDER BY id",
        "SELECT id, v FROM t ORDER BY id",
    ] {
        assert_same_rows(sql, &source.path, sql, &target.url, sql);
    }
    drop(writer);
}

// ---------------------------------------------------------------------------------------------
// Bad targets

/// `url` with another user, password, port or database.
fn with(url: &str, change: impl FnOnce(&mut url::Url)) -> String {
    let mut url = url::Url::parse(url).unwrap();
    change(&mut url);
    url.to_string()
}

/// Like [`migrate_refused`] for a target that cannot be looked at: only the source is checked.
fn refused_without_target(source: &Path, url: &str, expected: &[&str]) {
    let before = source_state(source);
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .arg("migrate")
        .arg(source)
        .arg(url)
        .output()
        .unwrap();
    refused(&output, expected);
    assert_eq!(source_state(source), before, "the source changed");
}

#[test]
fn an_unreachable_server_is_refused() {
    let source = real_source();
    let target = pg_db();
    let closed = crate::support::ClosedPort::new();
    let url = with(&target.url, |u| {
        u.set_port(Some(closed.port)).unwrap();
    });
    refused_without_target(
        &source.path,
        &url,
        &["connection refused", "is the server running"],
    );
}

#[test]
fn a_wrong_password_is_refused() {
    let source = real_source();
    let target = pg_db();
    let url = with(&target.url, |u| {
        u.set_password(Some("not-the-password-4711")).unwrap();
    });
    if !crate::support::checks_passwords() {
        return skipped("the server does not check passwords (trust authentication)");
    }
    let line = migrate_refused(&source.path, &url, &[], &["password authentication failed"]);
    assert!(!line.contains("not-the-password-4711"), "{line}");
}

#[test]
fn a_database_that_does_not_exist_is_refused() {
    let source = real_source();
    let target = pg_db();
    let url = with(&target.url, |u| u.set_path("no_such_database_4711"));
    refused_without_target(
        &source.path,
        &url,
        &["no_such_database_4711", "does not exist"],
    );
}

#[test]
fn a_user_without_create_rights_is_refused_before_anything_is_written() {
    let source = real_source();
    let target = pg_db();
    let role = format!("weak_{}", std::process::id());
    target.exec(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'weak-secret-4711';
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
    ));
    let url = with(&target.url, |u| {
        u.set_username(&role).unwrap();
        u.set_password(Some("weak-secret-4711")).unwrap();
    });
    let line = migrate_refused(
        &source.path,
        &url,
        &[],
        &[&role, "may not create schemas", "grant create on database"],
    );
    assert!(!line.contains("weak-secret-4711"), "{line}");
    // Allowed to create the transfer's own schema, still not tables in `public`.
    let mut admin = PgConnection::establish(&target.url).unwrap();
    admin
        .batch_execute(&format!(
            "GRANT CREATE ON DATABASE \"{}\" TO {role}",
            target.name
        ))
        .unwrap();
    migrate_refused(
        &source.path,
        &url,
        &[],
        &[
            &role,
            "may not create tables in schema `public`",
            "grant create on schema \"public\"",
        ],
    );
    admin
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .unwrap();
}

#[test]
fn a_non_empty_target_is_refused_without_if_exists() {
    let source = real_source();
    let target = pg_db();
    target.exec("CREATE TABLE t (x int); INSERT INTO t VALUES (1)");
    migrate_refused(
        &source.path,
        &target.url,
        &[],
        &["not empty", "`t`", "--if-exists"],
    );
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 1);
}

// ---------------------------------------------------------------------------------------------
// Bad plan files and options

#[test]
fn a_plan_file_with_broken_toml_is_refused() {
    let source = real_source();
    let target = pg_db();
    let plan = source.dir.path().join("plan.toml");
    std::fs::write(&plan, "[options\nschema = \n").unwrap();
    migrate_refused(
        &source.path,
        &target.url,
        &["--plan", plan.to_str().unwrap()],
        &["plan.toml", "line 1"],
    );
}

#[test]
fn a_plan_file_with_an_unknown_key_is_refused() {
    let source = real_source();
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let output = dbshift(dir.path())
        .args(["plan", "--out"])
        .arg(&plan)
        .arg(&source.path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(&plan, format!("colour = \"blue\"\n{written}")).unwrap();
    migrate_refused(
        &source.path,
        &target.url,
        &["--plan", plan.to_str().unwrap()],
        &["plan.toml", "unknown field `colour`"],
    );
}

#[test]
fn invalid_option_values_are_refused_in_one_line() {
    let source = real_source();
    let target = pg_db();
    migrate_refused(
        &source.path,
        &target.url,
        &["--jobs", "0"],
        &["--jobs", "0 is not in 1..=64"],
    );
    migrate_refused(
        &source.path,
        &target.url,
        &["--if-exists", "maybe"],
        &["--if-exists", "maybe", "fail, truncate, drop"],
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Every file under `dir`, as text.
fn files_text(dir: &Path) -> String {
    let mut all = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect::<Vec<PathBuf>>(),
            );
        } else if let Ok(bytes) = std::fs::read(&path) {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

#[test]
fn no_password_in_any_output_at_any_log_level() {
    let Some(password) = password() else {
        return skipped("the server is reached without a password");
    };
    let source = real_source();
    let target = pg_db();
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .args(["plan", "--out", "plan.toml", "-vvv"])
        .arg(&source.path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let mut seen = text(&output);
    for log in [
        &["-vvv", "--format", "json"][..],
        &["--log-level", "trace", "--if-exists", "drop"],
    ] {
        let output = dbshift(dir.path())
            .arg("migrate")
            .args(log)
            .args(["--plan", "plan.toml", "--reject-dir", "rejects"])
            .arg(&source.path)
            .arg(&target.url)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("TRACE")
                || String::from_utf8_lossy(&output.stderr).contains("DEBUG"),
            "no logs at trace level: {}",
            text(&output)
        );
        seen.push_str(&text(&output));
    }
    // The same with the password from a config's `password_file`.
    std::fs::write(dir.path().join("secret"), format!("{password}\n")).unwrap();
    std::fs::write(
        dir.path().join("dbshift.toml"),
        "url = \"postgres://localhost/unused\"\npassword_file = \"secret\"\n",
    )
    .unwrap();
    let without = with(&target.url, |u| u.set_password(None).unwrap());
    let output = dbshift(dir.path())
        .args(["migrate", "-vvv", "--format", "json", "--if-exists", "drop"])
        .args(["--config", "dbshift.toml", "--reject-dir", "rejects"])
        .arg(&source.path)
        .arg(&without)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    seen.push_str(&text(&output));
    std::fs::remove_file(dir.path().join("secret")).unwrap();
    seen.push_str(&files_text(dir.path()));
    assert!(seen.contains("rows_rejected"), "no JSON report seen");
    assert!(seen.contains("[[tables]]"), "no plan file seen");
    assert_no_secret("output, logs or the plan file", &seen, &[&password]);
}

#[test]
fn the_password_may_come_from_pgpassword() {
    let Some(password) = password() else {
        return skipped("the server is reached without a password");
    };
    let dir = tempfile::tempdir().unwrap();
    let source = real_source();
    let target = pg_db();
    let without = with(&target.url, |u| u.set_password(None).unwrap());
    let output = dbshift(dir.path())
        .args(["migrate", "--quiet", "-vv"])
        .arg(&source.path)
        .arg(&without)
        .env("PGPASSWORD", &password)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_no_secret("the output", &text(&output), &[&password]);
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM t"), 2000);
    // Without it, the server asks for a password and the error says so.
    migrate_refused(&source.path, &without, &[], &["password"]);
}

#[test]
fn tls_options_in_the_url_are_passed_through() {
    let source = real_source();
    let target = pg_db();
    let required = format!("{}?sslmode=require", target.url);
    migrate_refused(&source.path, &required, &[], &["ssl"]);
    let disabled = format!("{}?sslmode=disable", target.url);
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .args(["migrate", "--quiet"])
        .arg(&source.path)
        .arg(&disabled)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

// ---------------------------------------------------------------------------------------------
// Injection

#[test]
fn hostile_names_migrate_verify_and_harm_nothing() {
    let source = sqlite_db();
    let names = [
        "x\"; DROP TABLE victim; --",
        "'); DROP TABLE victim; --",
        "$1",
        "back\\slash\\",
        "ünïcødé 表",
    ];
    let mut sql = String::new();
    for (i, table) in names.iter().enumerate() {
        let quoted = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
        let columns: Vec<String> = names
            .iter()
            .map(|c| format!("{} TEXT", quoted(&format!("{c} {i}"))))
            .collect();
        sql.push_str(&format!(
            "CREATE TABLE {} (id INTEGER PRIMARY KEY, {});",
            quoted(table),
            columns.join(", ")
        ));
        let values: Vec<String> = names
            .iter()
            .map(|c| format!("'{}'", c.replace('\'', "''")))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO {} VALUES (1, {});",
            quoted(table),
            values.join(", ")
        ));
        sql.push_str(&format!(
            "CREATE INDEX {} ON {} ({});",
            quoted(&format!("{table} index")),
            quoted(table),
            quoted(&format!("{} {i}", names[0]))
        ));
    }
    source.exec(&sql);
    let target = pg_db();
    target.exec(
            "CREATE TABLE victim (n int); INSERT INTO victim VALUES (1), (2);
             CREATE SCHEMA other; CREATE TABLE other.victim (n int); INSERT INTO other.victim VALUES (3);",
        );
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .args(["plan", "--keep-case", "--out", "plan.toml"])
        .arg(&source.path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let output = dbshift(dir.path())
        .args([
            "migrate",
            "--quiet",
            "--plan",
            "plan.toml",
            "--format",
            "json",
        ])
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verification"]["ok"], true, "{report}");
    assert_eq!(report["tables"].as_array().unwrap().len(), names.len());
    let output = dbshift(dir.path())
        .args(["verify", "--plan", "plan.toml"])
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(count(&target.url, "SELECT count(*) AS n FROM victim"), 2);
    assert_eq!(
        count(&target.url, "SELECT count(*) AS n FROM other.victim"),
        1
    );
    let quoted = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    for (i, table) in names.iter().enumerate() {
        for (j, column) in names.iter().enumerate() {
            let sql = format!(
                "SELECT count(*) AS n FROM public.{} WHERE {} = '{}'",
                quoted(table),
                quoted(&format!("{column} {i}")),
                names[j].replace('\'', "''")
            );
            assert_eq!(count(&target.url, &sql), 1, "{sql}");
        }
    }
}
