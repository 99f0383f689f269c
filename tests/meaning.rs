//! "Verification: ok" means nothing was lost: views arrive in an order PostgreSQL accepts and
//! compute the same rows, and every object not carried is named, checked by running the
//! built binary and reading the target back with `psql`.

use crate::support::independent::{pg_rows, sqlite_rows};
use crate::support::{exits, pg_db, run, sqlite_db};

#[test]
fn a_view_over_a_view_recreated_later_is_created_after_it() {
    let source = sqlite_db();
    // Dropping and recreating `base` puts it after `top` in the catalog.
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 7), (3, 9);
         CREATE VIEW base AS SELECT id, n FROM t;
         CREATE VIEW top AS SELECT id FROM base WHERE n > 5;
         DROP VIEW base;
         CREATE VIEW base AS SELECT id, n FROM t;",
    );
    let catalog = sqlite_rows(
        &source.path,
        "SELECT name FROM sqlite_master WHERE type = 'view'",
    );
    assert_eq!(
        catalog,
        [[Some("top".to_string())], [Some("base".to_string())]]
    );
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let url = source.path.display().to_string();
    exits(
        &run(dir.path(), &["migrate", "--quiet", &url, &target.url]),
        0,
    );
    assert_eq!(
        pg_rows(&target.url, "SELECT id FROM top ORDER BY id"),
        sqlite_rows(&source.path, "SELECT id FROM top ORDER BY id")
    );
}

/// A source with an R*Tree table and a trigger, neither of which the plan carries.
fn source_with_losses() -> crate::support::SqliteDb {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         CREATE TABLE audit (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 7);
         CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN INSERT INTO audit (n) VALUES (NEW.n); END;
         CREATE VIRTUAL TABLE boxes USING rtree(id, min_x, max_x);
         INSERT INTO boxes VALUES (1, 0, 10), (2, 5, 15);",
    );
    source
}

#[test]
fn a_skipped_rtree_table_and_a_dropped_trigger_fail_verification_by_name() {
    let source = source_with_losses();
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: FAILED"), "{text}");
    assert!(
        text.contains("not carried: virtual table `boxes`"),
        "{text}"
    );
    assert!(text.contains("not carried: trigger `t_audit`"), "{text}");
    // The standalone verification gives the same verdict.
    let output = run(dir.path(), &["verify", &url, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("not carried: virtual table `boxes`"),
        "{text}"
    );
    assert!(text.contains("verification: FAILED"), "{text}");
}

#[test]
fn objects_the_plan_file_accepts_leave_verification_ok() {
    let source = source_with_losses();
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    exits(&run(dir.path(), &["plan", "--out", "plan.toml", &url]), 0);
    let plan = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    // Accepting only the trigger still fails on the R*Tree table.
    let accept = |objects: &str| format!("accept = [{objects}]\n{plan}");
    std::fs::write(
        dir.path().join("plan.toml"),
        accept("\"trigger `t_audit`\""),
    )
    .unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &url, &target.url],
    );
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("not carried (accepted): trigger `t_audit`"),
        "{text}"
    );
    assert!(
        text.contains("not carried: virtual table `boxes`"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("plan.toml"),
        accept("\"trigger `t_audit`\", \"virtual table `boxes`\""),
    )
    .unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &url, &target.url],
    );
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    assert_eq!(
        pg_rows(&target.url, "SELECT count(*) FROM t"),
        [[Some("2".to_string())]]
    );
    let read = "SELECT id, n FROM t ORDER BY id";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
}

#[test]
fn a_generated_column_computing_another_value_fails_verification_by_name() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER,
             g INTEGER GENERATED ALWAYS AS (a / b) STORED,
             s TEXT GENERATED ALWAYS AS (substr('abcdef', -a)) VIRTUAL);
         INSERT INTO t (id, a, b) VALUES (1, 7, 2), (2, 3, 0), (3, NULL, 1), (4, -7, 2);",
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    exits(&run(dir.path(), &["plan", "--out", "plan.toml", &url]), 0);
    let target = pg_db();
    exits(
        &run(
            dir.path(),
            &["migrate", "--plan", "plan.toml", &url, &target.url],
        ),
        0,
    );
    // The values PostgreSQL computed are SQLite's, division by zero included.
    let read = "SELECT id, g, s FROM t ORDER BY id";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
    // An expression that computes something else is caught by value, by row and column.
    let plan = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    assert!(plan.contains("NULLIF(\"b\", 0)"), "{plan}");
    let edited = plan.replace("NULLIF(\"b\", 0)", "NULLIF(\"b\", 0) + 1");
    std::fs::write(dir.path().join("plan.toml"), edited).unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &url, &target.url],
    );
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("key id=1 column g: value differs"), "{text}");
}

#[test]
fn a_view_returning_other_rows_fails_verification_by_name() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT);
         INSERT INTO t VALUES (1, 5, 'émile'), (2, 7, 'Ärger'), (3, 9, NULL), (4, 9, 'x');
         CREATE VIEW big AS SELECT n, upper(name) AS up FROM t WHERE n > 5;",
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    exits(&run(dir.path(), &["plan", "--out", "plan.toml", &url]), 0);
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &url, &target.url],
    );
    exits(&output, 0);
    let read = "SELECT n, up FROM big ORDER BY n, coalesce(up, '')";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
    let plan = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    assert!(plan.contains("\"n\" > 5"), "{plan}");
    std::fs::write(
        dir.path().join("plan.toml"),
        plan.replace("\"n\" > 5", "\"n\" > 7"),
    )
    .unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &url, &target.url],
    );
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("view big: source 3 rows, target 2 rows"),
        "{text}"
    );
}
