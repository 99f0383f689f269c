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

/// A source with a contentless full-text table (its text is nowhere to copy from) and a
/// trigger whose `INSERT OR REPLACE` is not translated, neither of which the plan carries.
fn source_with_losses() -> crate::support::SqliteDb {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         CREATE TABLE audit (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 7);
         CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN INSERT OR REPLACE INTO audit (id, n) VALUES (NEW.id, NEW.n); END;
         CREATE VIRTUAL TABLE boxes USING fts5(body, content='');
         INSERT INTO boxes (rowid, body) VALUES (1, 'a b'), (2, 'c d');",
    );
    source
}

#[test]
fn a_skipped_virtual_table_and_a_dropped_trigger_fail_verification_by_name() {
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

/// Runs `migrate` from `source` into a new database and expects exit 0: every row arrived and
/// verified, so nothing the plan could have seen stopped the transfer half-way. Returns the
/// target and what the run printed.
fn migrates_whole(source: &crate::support::SqliteDb) -> (crate::support::PgDb, String) {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let url = source.path.display().to_string();
    let output = run(dir.path(), &["migrate", "--quiet", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("verification: ok"), "{text}");
    (target, text)
}

#[test]
fn a_nocase_key_keeps_apart_the_non_ascii_letters_sqlite_keeps_apart() {
    // SQLite's NOCASE folds only ASCII: `Ärger` and `ärger` are two keys there.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE words (word TEXT COLLATE NOCASE PRIMARY KEY, n INTEGER);
         CREATE TABLE tags (id INTEGER PRIMARY KEY, tag TEXT COLLATE NOCASE);
         CREATE UNIQUE INDEX tags_tag ON tags (tag);
         INSERT INTO words VALUES ('Ärger', 1), ('ärger', 2), ('Zoo', 3);
         INSERT INTO tags VALUES (1, 'Émile'), (2, 'émile');",
    );
    let (target, _) = migrates_whole(&source);
    let sql = "SELECT word, n FROM words ORDER BY n";
    assert_eq!(pg_rows(&target.url, sql), sqlite_rows(&source.path, sql));
    // The keys still fold ASCII as NOCASE does: `zoo` repeats `Zoo`.
    let refused = |sql: &str| {
        std::process::Command::new("psql")
            .args(["-X", "-q", "-d", &target.url, "-c", sql])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!refused("INSERT INTO words VALUES ('zoo', 4)"));
    assert!(
        !refused("INSERT INTO tags VALUES (3, 'ÉMILE')") || {
            // `ÉMILE` differs from both rows beyond ASCII case in SQLite too.
            sqlite_rows(
                &source.path,
                "SELECT count(*) FROM tags WHERE tag = 'ÉMILE'",
            ) == [[Some("0".to_string())]]
        }
    );
    assert!(!refused("INSERT INTO tags VALUES (4, 'éMILE')"));
}

#[test]
fn columns_named_like_postgresql_system_columns_are_renamed_in_the_plan() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, ctid TEXT, xmin INTEGER, xmax INTEGER,
                         cmin INTEGER, cmax INTEGER, tableoid INTEGER, oid_ INTEGER);
         INSERT INTO t VALUES (1, 'a', 2, 3, 4, 5, 6, 7), (2, 'b', 8, 9, 10, 11, 12, 13);",
    );
    let dir = tempfile::tempdir().unwrap();
    let url = source.path.display().to_string();
    let output = run(dir.path(), &["plan", &url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "renamed to `ctid_2` because PostgreSQL reserves the name for a system column"
        ),
        "{text}"
    );
    let (target, _) = migrates_whole(&source);
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT id, ctid_2, xmin_2, xmax_2, cmin_2, cmax_2, tableoid_2, oid_ FROM t ORDER BY id"
        ),
        sqlite_rows(&source.path, "SELECT * FROM t ORDER BY id")
    );
}

#[test]
fn orphans_of_a_nocase_parent_are_counted_as_postgresql_compares() {
    // SQLite matches the child `abc` to the parent `ABC` by the parent's NOCASE; PostgreSQL's
    // key compares bytes, so the plan must count it an orphan and add the key NOT VALID.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE p (code TEXT COLLATE NOCASE PRIMARY KEY);
         CREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT REFERENCES p (code));
         INSERT INTO p VALUES ('ABC');
         INSERT INTO c VALUES (1, 'abc'), (2, 'ABC');",
    );
    let dir = tempfile::tempdir().unwrap();
    let url = source.path.display().to_string();
    let output = run(dir.path(), &["plan", &url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 orphan"), "{text}");
    let (target, _) = migrates_whole(&source);
    assert_eq!(
        pg_rows(&target.url, "SELECT id, code FROM c ORDER BY id"),
        sqlite_rows(&source.path, "SELECT id, code FROM c ORDER BY id")
    );
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT convalidated FROM pg_constraint WHERE contype = 'f'"
        ),
        [[Some("f".to_string())]]
    );
}

#[test]
fn a_unique_key_whose_texts_are_one_instant_keeps_them_as_text() {
    // Two spellings of one instant are two keys in SQLite; as timestamptz they are one.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME UNIQUE);
         INSERT INTO events VALUES (1, '2024-01-01T00:00:00Z'), (2, '2024-01-01 00:00:00'),
                                   (3, '2024-02-01 10:00:00');",
    );
    let (target, text) = migrates_whole(&source);
    assert!(!text.contains("cannot run"), "{text}");
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'at'"
        ),
        [[Some("text".to_string())]]
    );
    let sql = "SELECT id, at FROM events ORDER BY id";
    assert_eq!(pg_rows(&target.url, sql), sqlite_rows(&source.path, sql));
}

#[test]
fn infinities_in_a_numeric_column_arrive() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, amount NUMERIC(10,2), total DECIMAL);
         INSERT INTO m VALUES (1, 1.5, 2), (2, 9e999, -9e999), (3, -9e999, 0.25);",
    );
    let (target, _) = migrates_whole(&source);
    assert_eq!(
        pg_rows(&target.url, "SELECT id, amount, total FROM m ORDER BY id"),
        [
            ["1", "1.5", "2"].map(|s| Some(s.to_string())),
            ["2", "Infinity", "-Infinity"].map(|s| Some(s.to_string())),
            ["3", "-Infinity", "0.25"].map(|s| Some(s.to_string())),
        ]
    );
}

#[test]
fn json_with_a_lone_surrogate_escape_arrives_as_json_text() {
    let source = sqlite_db();
    source.exec(
        r#"CREATE TABLE docs (id INTEGER PRIMARY KEY, body JSON);
           INSERT INTO docs VALUES (1, '{"a": "\ud800"}'), (2, '{"b": [1, 2]}'),
                                   (3, '["\udc00x", "\ud83d\ude00"]');"#,
    );
    let (target, _) = migrates_whole(&source);
    let sql = "SELECT id, body FROM docs ORDER BY id";
    assert_eq!(pg_rows(&target.url, sql), sqlite_rows(&source.path, sql));
    assert_eq!(
        pg_rows(&target.url, "SELECT body ->> 'b' FROM docs WHERE id = 2"),
        [[Some("[1, 2]".to_string())]]
    );
}

#[test]
fn a_check_the_source_rows_fail_is_added_not_valid_and_the_rows_arrive() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), m INTEGER CHECK (m < 100));
         PRAGMA ignore_check_constraints = 1;
         INSERT INTO t VALUES (1, 5, 1), (2, -1, 2), (3, -2, 3), (4, NULL, 4);",
    );
    let dir = tempfile::tempdir().unwrap();
    let url = source.path.display().to_string();
    let output = run(dir.path(), &["plan", &url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("2 row(s) of the source fail this CHECK"),
        "{text}"
    );
    let (target, _) = migrates_whole(&source);
    let sql = "SELECT id, n, m FROM t ORDER BY id";
    assert_eq!(pg_rows(&target.url, sql), sqlite_rows(&source.path, sql));
    // The CHECK the rows fail is NOT VALID, the other one valid, and both hold for new rows.
    let checks = pg_rows(
        &target.url,
        "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint WHERE contype = 'c' AND conrelid = 't'::regclass ORDER BY 2, 1",
    );
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert_eq!(checks[0][1].as_deref(), Some("f"), "{checks:?}");
    assert!(
        checks[0][0].as_deref().unwrap().contains("n > 0"),
        "{checks:?}"
    );
    assert_eq!(checks[1][1].as_deref(), Some("t"), "{checks:?}");
    let inserted = std::process::Command::new("psql")
        .args(["-X", "-q", "-d", &target.url, "-c"])
        .arg("INSERT INTO t VALUES (5, -3, 5)")
        .output()
        .unwrap();
    assert!(!inserted.status.success());
}

#[test]
fn a_real_value_in_sqlite_sequence_still_moves_the_identity_past_it() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
         INSERT INTO t (v) VALUES ('a');
         UPDATE sqlite_sequence SET seq = 100.0 WHERE name = 't';",
    );
    assert_eq!(
        sqlite_rows(&source.path, "SELECT typeof(seq) FROM sqlite_sequence"),
        [[Some("real".to_string())]]
    );
    let (target, _) = migrates_whole(&source);
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT nextval(pg_get_serial_sequence('public.t', 'id'))"
        ),
        [[Some("101".to_string())]]
    );
}

#[test]
fn migrate_prints_every_rename_and_writes_the_name_map() {
    // `äb` keeps its name; `Äb` (which lowercasing changes) and the column `ctid` are renamed.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE \"Äb\" (id INTEGER PRIMARY KEY, ctid TEXT, \"Name\" TEXT);
         CREATE TABLE \"äb\" (id INTEGER PRIMARY KEY);
         INSERT INTO \"Äb\" VALUES (1, 'a', 'n');
         INSERT INTO \"äb\" VALUES (7);",
    );
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let url = source.path.display().to_string();
    let output = run(dir.path(), &["migrate", "--quiet", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "renamed table `Äb` -> `äb_2`: its PostgreSQL name collides with another one"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "renamed column `Äb.ctid` -> `ctid_2`: PostgreSQL reserves the name for a system column"
        ),
        "{text}"
    );
    assert!(!text.contains("`äb` ->"), "{text}");
    let map: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("dbshift-names.json")).unwrap())
            .unwrap();
    assert_eq!(
        map["tables"][0],
        serde_json::json!({
            "source": "Äb", "target": "äb_2",
            "renamed": "its PostgreSQL name collides with another one",
            "columns": [
                {"source": "id", "target": "id"},
                {"source": "ctid", "target": "ctid_2",
                 "renamed": "PostgreSQL reserves the name for a system column"},
                {"source": "Name", "target": "name"},
            ]
        })
    );
    assert_eq!(
        map["tables"][1],
        serde_json::json!({"source": "äb", "target": "äb", "columns": [{"source": "id", "target": "id"}]})
    );
    // The map names the tables the target really holds.
    assert_eq!(
        pg_rows(&target.url, "SELECT id, ctid_2 FROM \"äb_2\""),
        [[Some("1".to_string()), Some("a".to_string())]]
    );
    assert_eq!(
        pg_rows(&target.url, "SELECT id FROM \"äb\""),
        [[Some("7".to_string())]]
    );
}

#[test]
fn naive_text_stays_wall_clock_unless_the_source_timezone_is_given() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE e (id INTEGER PRIMARY KEY, at DATETIME, stamped TEXT,
                         seen DATETIME);
         INSERT INTO e VALUES (1, '2024-01-15 12:00:00', '2024-01-15T12:00:00Z', '2024-07-15 12:00:00'),
                              (2, '2024-07-15 12:00:00', '2024-07-15 12:00:00+02:00', '2024-10-27 02:30:00'),
                              (3, NULL, NULL, '2024-03-31 02:30:00');",
    );
    let url = source.path.display().to_string();
    // Without a zone: the same wall-clock values, as the application wrote them.
    let (target, _) = migrates_whole(&source);
    let types = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'e' AND column_name <> 'id' ORDER BY column_name";
    let typed = |rows: Vec<Vec<Option<String>>>| -> Vec<(String, String)> {
        rows.into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
            .collect()
    };
    assert_eq!(
        typed(pg_rows(&target.url, types)),
        [
            ("at".into(), "timestamp without time zone".into()),
            ("seen".into(), "timestamp without time zone".into()),
            ("stamped".into(), "timestamp with time zone".into()),
        ]
    );
    let sql = "SELECT id, at, seen FROM e ORDER BY id";
    assert_eq!(pg_rows(&target.url, sql), sqlite_rows(&source.path, sql));

    // With a zone: instants, each text read in Paris (winter +01, summer +02; the repeated
    // hour is the later instant and the skipped hour keeps the winter offset, as PostgreSQL
    // reads them); texts with an offset keep theirs.
    let dir = tempfile::tempdir().unwrap();
    exits(
        &run(
            dir.path(),
            &[
                "plan",
                "--source-timezone",
                "Europe/Paris",
                "--out",
                "plan.toml",
                &url,
            ],
        ),
        0,
    );
    let plan = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    assert!(
        plan.contains("source_timezone = \"Europe/Paris\""),
        "{plan}"
    );
    let target = pg_db();
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--quiet",
            "--plan",
            "plan.toml",
            &url,
            &target.url,
        ],
    );
    exits(&output, 0);
    assert_eq!(
        typed(pg_rows(&target.url, types)),
        [
            ("at".into(), "timestamp with time zone".into()),
            ("seen".into(), "timestamp with time zone".into()),
            ("stamped".into(), "timestamp with time zone".into()),
        ]
    );
    let utc = |s: &str| Some(s.to_string());
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT id, at, stamped, seen FROM e ORDER BY id"
        ),
        [
            vec![
                utc("1"),
                utc("2024-01-15 11:00:00+00"),
                utc("2024-01-15 12:00:00+00"),
                utc("2024-07-15 10:00:00+00")
            ],
            vec![
                utc("2"),
                utc("2024-07-15 10:00:00+00"),
                utc("2024-07-15 10:00:00+00"),
                utc("2024-10-27 01:30:00+00")
            ],
            vec![utc("3"), None, None, utc("2024-03-31 01:30:00+00")],
        ]
    );
    // The same zone from the command line, checked by PostgreSQL's own reading of the texts.
    let target = pg_db();
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--quiet",
            "--source-timezone",
            "Europe/Paris",
            &url,
            &target.url,
        ],
    );
    exits(&output, 0);
    assert_eq!(
        pg_rows(&target.url, "SELECT id, seen FROM e ORDER BY id"),
        pg_rows(
            &target.url,
            "SELECT id, (v AT TIME ZONE 'Europe/Paris') FROM (VALUES (1, timestamp '2024-07-15 12:00:00'), (2, timestamp '2024-10-27 02:30:00'), (3, timestamp '2024-03-31 02:30:00')) AS s (id, v) ORDER BY id"
        )
    );
    // An unknown zone is one line, before anything is read.
    let output = run(
        dir.path(),
        &["plan", "--source-timezone", "Mars/Olympus", &url],
    );
    exits(&output, 2);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("unknown time zone `Mars/Olympus`"), "{text}");
}

#[test]
fn values_of_different_storage_classes_never_arrive_equal() {
    // `42`, `'42'` and `x'3432'` are three values in SQLite; as one PostgreSQL type they would
    // be one. The numbers (most values) keep their type; the text and the blob are rejected,
    // each listed with its reason. A column mixing numbers with text that equals none of them
    // keeps every value, as text.
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, v, note);
         INSERT INTO m VALUES (1, 42, 1), (2, '42', 'n/a'), (3, x'3432', 2), (4, 7, 3), (5, 8, 'x');",
    );
    let src = source.path.display().to_string();
    let plan = run(dir.path(), &["plan", "--format", "json", &src]);
    exits(&plan, 0);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let rule = |column: &str| {
        plan["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["column"] == column)
            .unwrap()["rule"]
            .clone()
    };
    assert_eq!(rule("v"), "mixed.dominant");
    assert_eq!(rule("note"), "widen.text");
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &src, &target.url]);
    exits(&output, 1);
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT id::text, pg_typeof(v)::text, v::text, note FROM m ORDER BY id"
        ),
        vec![
            vec![
                Some("1".into()),
                Some("bigint".into()),
                Some("42".into()),
                Some("1".into())
            ],
            vec![
                Some("4".into()),
                Some("bigint".into()),
                Some("7".into()),
                Some("3".into())
            ],
            vec![
                Some("5".into()),
                Some("bigint".into()),
                Some("8".into()),
                Some("x".into())
            ],
        ]
    );
    let rejects = crate::load_situations::reject_lines(&dir.path().join("dbshift-rejects"));
    let mut rejected: Vec<String> = rejects
        .iter()
        .map(|r| format!("{} {}", r["key"], r["column"].as_str().unwrap()))
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        [r#"{"rowid":2} v"#, r#"{"rowid":3} v"#],
        "{rejects:?}"
    );
    assert!(rejects.iter().all(|r| r["reason"]
        .as_str()
        .unwrap()
        .contains("kept for its numbers")));
    // The source still tells the three apart; the kept rows are its numbers.
    assert_eq!(
        sqlite_rows(
            &source.path,
            "SELECT id, typeof(v) FROM m WHERE typeof(v) = 'integer' ORDER BY id"
        ),
        vec![
            vec![Some("1".into()), Some("integer".into())],
            vec![Some("4".into()), Some("integer".into())],
            vec![Some("5".into()), Some("integer".into())],
        ]
    );
}

#[test]
fn a_localtime_default_is_carried_once_the_sources_zone_is_given() {
    // `datetime('now', 'localtime')` writes the wall clock of the machine that wrote the row.
    // Without its zone the default is flagged (not carried, and the verdict says so); with
    // `--source-timezone` the rows are read in that zone and the default is the same clock.
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE visit (id INTEGER PRIMARY KEY, at TEXT NOT NULL DEFAULT (datetime('now', 'localtime')));
         INSERT INTO visit VALUES (1, '2024-07-01 12:00:00'), (2, '2024-01-15 08:30:00');
         CREATE TABLE utc_visit (id INTEGER PRIMARY KEY, at TEXT NOT NULL DEFAULT (datetime('now')));
         INSERT INTO utc_visit VALUES (1, '2024-07-01 10:00:00');",
    );
    let src = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--source-timezone",
            "Europe/Paris",
            &src,
            &target.url,
        ],
    );
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT id::text, (at AT TIME ZONE 'UTC')::text FROM visit ORDER BY id"
        ),
        vec![
            vec![Some("1".into()), Some("2024-07-01 10:00:00".into())],
            vec![Some("2".into()), Some("2024-01-15 07:30:00".into())],
        ]
    );
    // The default is the one the UTC form gets: the same clock reading.
    let default_of = |table: &str| {
        pg_rows(
            &target.url,
            &format!("SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = '{table}'::regclass AND a.attname = 'at'"),
        )
    };
    let utc = default_of("utc_visit");
    assert_eq!(utc.len(), 1, "the UTC form has a default: {utc:?}");
    assert_eq!(default_of("visit"), utc);
}
