//! Hostile SQLite files through plan, migrate and verify: every storage class in every declared
//! type, values at the edges, awkward names, orphans, and junk sent into a typed schema. The bar:
//! every value arrives equal in PostgreSQL or is in the reject file with its reason, and
//! verification agrees. The fixtures are built here, never committed.

use std::collections::HashMap;

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::independent::pg_rows;
use crate::support::{dbshift, pg_db, sqlite_db, PgDb, SqliteDb};
use crate::transfer::options;
use dbshift::transfer::load::run::{data_only_work, plan_work, run, ColumnSetting, Mode};
use dbshift::transfer::{PlanOptions, Report};
use dbshift::{Backend, DbConfig, Registry, Value};

/// A SQLite file made by `sql`.
fn source(sql: &str) -> SqliteDb {
    let db = sqlite_db();
    db.exec(sql);
    db
}

/// A full migration of `source` with the default plan, and a connection to its target.
struct Migrated {
    report: Report,
    pg: Box<dyn Backend>,
    _rejects: tempfile::TempDir,
    target: PgDb,
}

fn migrate(source: &SqliteDb) -> Migrated {
    migrate_with(source, &PlanOptions::default())
}

fn migrate_with(source: &SqliteDb, plan_options: &PlanOptions) -> Migrated {
    let target = pg_db();
    let rejects = tempfile::tempdir().unwrap();
    let plan = dbshift::transfer::plan(&source.path, plan_options).unwrap();
    let work = plan_work(&plan, &source.path).unwrap();
    let report = run(
        &options(&source.path, &target.url, Mode::Full, rejects.path()),
        work,
    )
    .unwrap();
    balanced(&report);
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    Migrated {
        report,
        pg,
        _rejects: rejects,
        target,
    }
}

/// Copies `source` with `--data-only` into a fresh database that `ddl` made, with these
/// per-column settings; every row read is written or rejected.
fn data_only_into(
    source: &SqliteDb,
    ddl: &str,
    settings: &HashMap<String, ColumnSetting>,
) -> (Report, PgDb, tempfile::TempDir) {
    let target = pg_db();
    target.exec(ddl);
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = data_only_work(&options, "public", &[], &[], settings).unwrap();
    let report = run(&options, work).unwrap();
    balanced(&report);
    (report, target, rejects)
}

/// The record of row `id` (its `id` or rowid key) in the reject file of the report's first
/// table.
fn rejected_row(report: &Report, id: i64) -> serde_json::Value {
    let file = report.tables[0].stats.reject_file.as_ref().unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["key"]["id"] == id || r["key"]["rowid"] == id)
        .unwrap_or_else(|| panic!("row {id} is not in the reject file: {text}"))
}

/// Verification agrees on every table and every row read was written or rejected; its verdict
/// is ok exactly when every object not carried was accepted.
fn balanced(report: &Report) {
    let verification = report.verification.as_ref().unwrap();
    assert!(verification.tables.iter().all(|t| t.ok()), "{report}");
    assert_eq!(
        verification.ok,
        verification.not_carried.iter().all(|i| i.accepted),
        "{report}"
    );
    for table in &report.tables {
        let s = &table.stats;
        assert_eq!(
            s.rows_read,
            s.rows_written + s.rows_rejected,
            "{}: {report}",
            table.table
        );
    }
}

/// A full migration that must keep every value: no rejects, no repairs.
/// The objects the verdict lists as not carried (the verdict is then not ok).
fn not_carried(report: &Report) -> String {
    let verification = report.verification.as_ref().unwrap();
    assert!(!verification.ok, "{report}");
    verification
        .not_carried
        .iter()
        .map(|i| format!("{}: {}", i.object, i.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

fn migrate_clean(source: &SqliteDb) -> Migrated {
    let migrated = migrate(source);
    let report = &migrated.report;
    assert_eq!(report.totals.rows_rejected, 0, "{report}");
    assert_eq!(report.totals.values_repaired, 0, "{report}");
    migrated
}

impl Migrated {
    /// The single value `v` of a query on the target.
    fn value(&self, sql: &str) -> Value {
        self.pg
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .value("v")
            .unwrap()
            .clone()
    }

    /// The single text value of a query on the target, as `psql` prints it: read by
    /// PostgreSQL's own output, not through dbshift's reader. NULL is refused.
    fn text(&self, sql: &str) -> String {
        let rows = pg_rows(&self.target.url, sql);
        assert_eq!(rows.len(), 1, "{sql}: one row");
        assert_eq!(rows[0].len(), 1, "{sql}: one column");
        rows[0][0].clone().unwrap_or_else(|| panic!("{sql}: NULL"))
    }

    /// The single integer of a query on the target, as `psql` prints it.
    fn int(&self, sql: &str) -> i64 {
        let text = self.text(sql);
        text.parse()
            .unwrap_or_else(|e| panic!("{sql}: `{text}` is not an integer: {e}"))
    }

    /// The PostgreSQL type of `table.column` (names as PostgreSQL spells them).
    fn column_type(&self, table: &str, column: &str) -> String {
        self.pg
            .query_one(
                "SELECT format_type(atttypid, atttypmod) AS v FROM pg_attribute \
                 WHERE attrelid = to_regclass(quote_ident($1)) AND attname = $2",
                &[table.into(), column.into()],
            )
            .unwrap_or_else(|e| panic!("{table}.{column}: {e}"))
            .get("v")
            .unwrap()
    }
}

/// The single value `v` of a query on the SQLite file.
fn sqlite_value(source: &SqliteDb, sql: &str) -> Value {
    Registry::with_defaults()
        .connect(&DbConfig::sqlite(&source.path))
        .unwrap()
        .query_one(sql, &[])
        .unwrap()
        .value("v")
        .unwrap()
        .clone()
}

fn quote(name: &str) -> String {
    dbshift::dialect::quote_ident(name).unwrap()
}

const DECLARED_TYPES: [&str; 19] = [
    "INTEGER",
    "INT",
    "BIGINT",
    "SMALLINT",
    "REAL",
    "DOUBLE",
    "FLOAT",
    "NUMERIC",
    "DECIMAL(10,2)",
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "TIMESTAMP",
    "JSON",
    "BLOB",
    "TEXT",
    "VARCHAR(5)",
    "",
    "STRANGE",
];

#[test]
fn every_storage_class_in_every_declared_type_arrives() {
    // One table per declared type, each holding NULL, an integer, a real, text and a blob. A
    // column's affinity would turn 42 into '42' in a TEXT column, so the rows go in under no
    // declared type and the declared type is written into the schema afterwards, as tools that
    // edit `sqlite_master` leave files.
    let mut sql = String::new();
    for i in 0..DECLARED_TYPES.len() {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v);
             INSERT INTO t{i} (id, v) VALUES (1, NULL), (2, 42), (3, 2.5), (4, 'hello world'), (5, x'00ff10');"
        ));
    }
    sql.push_str("PRAGMA writable_schema = ON;");
    for (i, declared) in DECLARED_TYPES.iter().enumerate() {
        sql.push_str(&format!(
            "UPDATE sqlite_master SET sql = replace(sql, ', v)', ', v {declared})') WHERE name = 't{i}';"
        ));
    }
    sql.push_str("PRAGMA writable_schema = OFF;");
    let source = source(&sql);
    for (i, declared) in DECLARED_TYPES.iter().enumerate() {
        let classes = sqlite_value(
            &source,
            &format!(
                "SELECT group_concat(typeof(v), ',') AS v FROM (SELECT v FROM t{i} ORDER BY id)"
            ),
        );
        assert!(
            matches!(&classes, Value::Text(t) if t == "null,integer,real,text,blob"
                // SQLite reads an integer stored in a REAL-affinity column as a real.
                || t == "null,real,real,text,blob" && ["REAL", "DOUBLE", "FLOAT"].contains(declared)),
            "{declared}: {classes:?}"
        );
    }
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.report.tables.len(), DECLARED_TYPES.len());
    for (i, declared) in DECLARED_TYPES.iter().enumerate() {
        let table = format!("t{i}");
        let pg_type = migrated.column_type(&table, "v");
        // The blob arrives with its bytes, whatever the column became.
        let blob = migrated.value(&format!("SELECT v::text AS v FROM {table} WHERE id = 5"));
        assert!(
            matches!(&blob, Value::Text(t) if t.contains("00ff10") || t == "\0\u{ff}\u{10}"),
            "{declared} -> {pg_type}: {blob:?}"
        );
        assert_eq!(
            migrated.int(&format!(
                "SELECT count(*) AS v FROM {table} WHERE v IS NULL"
            )),
            1,
            "{declared} -> {pg_type}"
        );
        let as_text = if pg_type == "bytea" {
            "convert_from(v, 'UTF8')"
        } else {
            "v::text"
        };
        for (id, expected) in [(2, "42"), (3, "2.5"), (4, "hello world")] {
            let got = migrated.text(&format!(
                "SELECT {as_text} AS v FROM {table} WHERE id = {id}"
            ));
            // A REAL column's 42 is SQLite's real 42.0, whose text (in a bytea column) says so.
            assert!(
                got == expected || id == 2 && got == "42.0",
                "{declared} -> {pg_type}: {got:?}"
            );
        }
    }
}

#[test]
fn values_at_the_edges_arrive_exactly() {
    let source = source(
        "CREATE TABLE ints (id INTEGER PRIMARY KEY, n INT);
         INSERT INTO ints VALUES (1, 9223372036854775807), (2, -9223372036854775808), (3, 0);
         CREATE TABLE reals (id INTEGER PRIMARY KEY, x REAL, any_x);
         INSERT INTO reals VALUES (1, -0.0, -0.0), (2, 1e308, 1e308), (3, 5e-324, 5e-324),
             (4, 0.30000000000000004, 0.30000000000000004), (5, 9e999, 9e999),
             (6, -9e999, -9e999), (7, NULL, NULL);
         CREATE TABLE texts (id INTEGER PRIMARY KEY, t TEXT);
         INSERT INTO texts VALUES (1, 'emoji 😀 and 𝄞'), (2, 'plain'),
             (3, '10 MB:' || replace(hex(zeroblob(5242880)), '00', 'ab'));
         CREATE TABLE nul_text (id INTEGER PRIMARY KEY, t TEXT);
         INSERT INTO nul_text VALUES (1, CAST(x'610062' AS TEXT)), (2, 'fine');
         CREATE TABLE bad_utf8 (id INTEGER PRIMARY KEY, t TEXT);
         INSERT INTO bad_utf8 VALUES (1, CAST(x'61ff80fe62' AS TEXT)), (2, 'fine');",
    );
    let migrated = migrate_clean(&source);

    assert_eq!(migrated.column_type("ints", "n"), "bigint");
    assert_eq!(
        migrated.text("SELECT string_agg(n::text, ',' ORDER BY id) AS v FROM ints"),
        "9223372036854775807,-9223372036854775808,0"
    );

    // Every real keeps its bits: the subnormal and 17-digit values their digits, -0.0 its sign
    // where SQLite keeps it (a REAL column stores a whole real as an integer, so SQLite itself
    // reads that one back as 0.0; a column without affinity keeps -0.0).
    let expected = [
        -0.0f64,
        1e308,
        5e-324,
        0.30000000000000004,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let hex = |values: &[f64]| {
        values
            .iter()
            .map(|x| format!("{:016x}", x.to_bits()))
            .collect::<Vec<_>>()
            .join(",")
    };
    for column in ["x", "any_x"] {
        assert_eq!(migrated.column_type("reals", column), "double precision");
        let from_sqlite: Vec<f64> = (1..=6)
            .map(|id| {
                match sqlite_value(
                    &source,
                    &format!("SELECT {column} AS v FROM reals WHERE id = {id}"),
                ) {
                    Value::Float(x) => x,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(hex(&from_sqlite[1..]), hex(&expected[1..]), "{column}");
        assert_eq!(
            migrated.text(&format!(
                "SELECT string_agg(encode(float8send({column}), 'hex'), ',' ORDER BY id) AS v FROM reals"
            )),
            hex(&from_sqlite),
            "{column}"
        );
    }
    assert_eq!(
        migrated.text("SELECT encode(float8send(any_x), 'hex') AS v FROM reals WHERE id = 1"),
        "8000000000000000",
        "-0.0 lost its sign"
    );

    assert_eq!(migrated.column_type("texts", "t"), "text");
    assert_eq!(
        migrated.text("SELECT t AS v FROM texts WHERE id = 1"),
        "emoji 😀 and 𝄞"
    );
    // The 10 MB text: SQLite's length, and PostgreSQL's digest of the text built the same way.
    assert_eq!(
        sqlite_value(&source, "SELECT length(t) AS v FROM texts WHERE id = 3"),
        Value::Int(6 + 10_485_760)
    );
    assert_eq!(
        migrated.value(
            "SELECT length(t) = 6 + 10485760 AND md5(t) = md5('10 MB:' || repeat('ab', 5242880)) \
             AS v FROM texts WHERE id = 3"
        ),
        Value::Bool(true)
    );

    // PostgreSQL text holds neither NUL nor invalid UTF-8: those columns became bytea, with the
    // exact bytes.
    assert_eq!(migrated.column_type("nul_text", "t"), "bytea");
    assert_eq!(
        migrated.value("SELECT t AS v FROM nul_text WHERE id = 1"),
        Value::Bytes(b"a\0b".to_vec())
    );
    assert_eq!(migrated.column_type("bad_utf8", "t"), "bytea");
    assert_eq!(
        migrated.value("SELECT t AS v FROM bad_utf8 WHERE id = 1"),
        Value::Bytes(b"a\xff\x80\xfeb".to_vec())
    );
    assert_eq!(
        migrated.value("SELECT t AS v FROM bad_utf8 WHERE id = 2"),
        Value::Bytes(b"fine".to_vec())
    );
}

#[test]
fn blobs_of_zero_bytes_and_fifty_megabytes_arrive_exactly() {
    // A 50 MB blob that is not all one byte ("a5a5..."), so a shifted or truncated page would
    // change the digest.
    let source = source(
        "CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB);
         INSERT INTO blobs VALUES (1, x''), (2, zeroblob(0)), (3, NULL),
             (4, CAST(replace(hex(zeroblob(26214400)), '00', 'a5') AS BLOB));",
    );
    assert_eq!(
        sqlite_value(&source, "SELECT group_concat(typeof(b)) AS v FROM blobs"),
        Value::Text("blob,blob,null,blob".into())
    );
    let expected_len = match sqlite_value(&source, "SELECT length(b) AS v FROM blobs WHERE id = 4")
    {
        Value::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(expected_len, 52_428_800);
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.column_type("blobs", "b"), "bytea");
    assert_eq!(
        migrated.text(
            "SELECT string_agg(coalesce(length(b)::text, 'null'), ',' ORDER BY id) AS v FROM blobs"
        ),
        format!("0,0,null,{expected_len}")
    );
    assert_eq!(
        migrated.text("SELECT md5(b) AS v FROM blobs WHERE id = 4"),
        migrated.text("SELECT md5(convert_to(repeat('a5', 26214400), 'UTF8')) AS v")
    );
}

#[test]
fn dates_in_every_format_and_invalid_ones_arrive() {
    let source = source(
        "CREATE TABLE iso (id INTEGER PRIMARY KEY, at DATETIME, day DATE, ts TIMESTAMP);
         INSERT INTO iso VALUES
             (1, '2024-01-02 03:04:05', '2024-01-02', '2024-01-02T03:04:05Z'),
             (2, '2024-01-02T03:04:05.123456', '1999-12-31', '2024-01-02T03:04:05.5+02:00'),
             (3, '2024-01-02 03:04', '2000-02-29', '2024-01-02 03:04:05.123-05:30'),
             (4, NULL, NULL, NULL);
         CREATE TABLE unix_s (id INTEGER PRIMARY KEY, at DATETIME);
         INSERT INTO unix_s VALUES (1, 1704164645), (2, 0), (3, 1704164645.25);
         CREATE TABLE unix_ms (id INTEGER PRIMARY KEY, at TIMESTAMP);
         INSERT INTO unix_ms VALUES (1, 1704164645123), (2, 1704164645000);
         CREATE TABLE julian (id INTEGER PRIMARY KEY, at DATETIME);
         INSERT INTO julian VALUES (1, 2460311.5), (2, julianday('2024-01-02 03:04:05'));
         CREATE TABLE bad (id INTEGER PRIMARY KEY, at DATETIME, day DATE);
         INSERT INTO bad VALUES (1, '2024-01-02 03:04:05', '2024-01-02'),
             (2, 'not a date', '2024-02-30'), (3, '2024-13-01 00:00:00', 'yesterday'),
             (4, 1704164645, x'00'), (5, '', '');",
    );
    let migrated = migrate_clean(&source);
    let utc = |sql: &str| {
        migrated.text(&format!(
            "SELECT string_agg(coalesce(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'null'), ',' ORDER BY id) AS v FROM ({sql}) s"
        ))
    };
    assert_eq!(
        migrated.column_type("iso", "ts"),
        "timestamp with time zone"
    );
    assert_eq!(
        utc("SELECT id, ts AS at FROM iso"),
        "2024-01-02 03:04:05.000000,2024-01-02 01:04:05.500000,2024-01-02 08:34:05.123000,null"
    );
    assert_eq!(
        migrated
            .text("SELECT string_agg(coalesce(day::text, 'null'), ',' ORDER BY id) AS v FROM iso"),
        "2024-01-02,1999-12-31,2000-02-29,null"
    );
    // Texts without an offset stay the same wall-clock times, no zone applied.
    assert_eq!(
        migrated.text("SELECT string_agg(coalesce(to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), 'null'), ',' ORDER BY id) AS v FROM iso"),
        "2024-01-02 03:04:05.000000,2024-01-02 03:04:05.123456,2024-01-02 03:04:00.000000,null"
    );
    assert_eq!(
        migrated.column_type("iso", "at"),
        "timestamp without time zone"
    );
    // Milliseconds and Julian days are recognised by their range and become instants; seconds
    // that include 0 are not self-evidently seconds and stay exact numbers.
    assert_eq!(
        migrated.column_type("unix_ms", "at"),
        "timestamp with time zone"
    );
    assert_eq!(
        utc("SELECT id, at FROM unix_ms"),
        "2024-01-02 03:04:05.123000,2024-01-02 03:04:05.000000"
    );
    assert_eq!(
        migrated.column_type("julian", "at"),
        "timestamp with time zone"
    );
    assert_eq!(
        utc("SELECT id, at FROM julian"),
        "2024-01-02 00:00:00.000000,2024-01-02 03:04:05.000000"
    );
    assert_eq!(migrated.column_type("unix_s", "at"), "numeric");
    assert_eq!(
        migrated.text("SELECT string_agg(at::text, ',' ORDER BY id) AS v FROM unix_s"),
        "1704164645,0,1704164645.25"
    );
    // A column with dates that are not dates keeps every value as it was.
    for column in ["at", "day"] {
        let pg_type = migrated.column_type("bad", column);
        assert!(
            ["text", "bytea"].contains(&pg_type.as_str()),
            "bad.{column} became {pg_type}"
        );
    }
    assert_eq!(
        migrated.text("SELECT at AS v FROM bad WHERE id = 2"),
        "not a date"
    );
}

#[test]
fn json_and_non_json_in_one_column_arrive() {
    let source = source(
        r#"CREATE TABLE docs (id INTEGER PRIMARY KEY, doc JSON, pure JSON);
         INSERT INTO docs VALUES
             (1, '{"a": [1, 2.50, "😀"], "b": null}', '{"k": 1}'),
             (2, 'not json', '[1, 2]'),
             (3, '{"dup": 1, "dup": 2}', '"str"'),
             (4, 42, '{"nested": {"deep": [true, false]}}'),
             (5, '', NULL),
             (6, '{"unterminated": ', '{"n": 1.0e400}');"#,
    );
    let migrated = migrate_clean(&source);
    // A column with non-JSON text stays text, every value as it was.
    assert_eq!(migrated.column_type("docs", "doc"), "text");
    assert_eq!(
        migrated.text("SELECT doc AS v FROM docs WHERE id = 1"),
        r#"{"a": [1, 2.50, "😀"], "b": null}"#
    );
    assert_eq!(
        migrated.text("SELECT doc AS v FROM docs WHERE id = 2"),
        "not json"
    );
    // Only JSON: jsonb, each document equal as JSON (the value `1.0e400` too, which no f64
    // holds).
    assert_eq!(migrated.column_type("docs", "pure"), "jsonb");
    assert_eq!(
        migrated.value(r#"SELECT pure = '{"n": 1.0e400}'::jsonb AND pure->'n' = to_jsonb(1e400::numeric) AS v FROM docs WHERE id = 6"#),
        Value::Bool(true)
    );
    assert_eq!(
        migrated.value(r#"SELECT pure = '"str"'::jsonb AS v FROM docs WHERE id = 3"#),
        Value::Bool(true)
    );
}

#[test]
fn json_that_jsonb_would_fold_arrives_as_written_in_json() {
    // jsonb keeps the last of a key written twice (SQLite's json_extract reads the first) and
    // 0 for -0, and verification compares documents as jsonb does: such a column became jsonb
    // and "verification: ok" while the first value and the sign were gone.
    let source = source(
        r#"CREATE TABLE docs (id INTEGER PRIMARY KEY, twice JSON, zero JSON, plain JSON);
         INSERT INTO docs VALUES
             (1, '{"a": 1, "a": 2}', '{"v": -0.0}', '{"a": 1}'),
             (2, '{"b": {"c": 1}}', '[0, -0]', '[1, 2]');"#,
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.column_type("docs", "twice"), "json");
    assert_eq!(migrated.column_type("docs", "zero"), "json");
    assert_eq!(migrated.column_type("docs", "plain"), "jsonb");
    for (column, id, text) in [
        ("twice", 1, r#"{"a": 1, "a": 2}"#),
        ("twice", 2, r#"{"b": {"c": 1}}"#),
        ("zero", 1, r#"{"v": -0.0}"#),
        ("zero", 2, "[0, -0]"),
    ] {
        assert_eq!(
            migrated.text(&format!(
                "SELECT {column}::text AS v FROM docs WHERE id = {id}"
            )),
            text
        );
    }
    // The independent truths: PostgreSQL itself folds these documents as jsonb (so jsonb would
    // have changed them), and SQLite's json_extract reads the first of a key written twice.
    assert_eq!(
        migrated.text(
            "SELECT string_agg((twice::text::jsonb)::text || ' ' || (zero::text::jsonb)::text, '; ' ORDER BY id) AS v FROM docs"
        ),
        r#"{"a": 2} {"v": 0.0}; {"b": {"c": 1}} [0, 0]"#
    );
    assert_eq!(
        sqlite_value(
            &source,
            "SELECT json_extract(twice, '$.a') AS v FROM docs WHERE id = 1"
        ),
        Value::Int(1)
    );
}

#[test]
fn wide_empty_and_long_tables_arrive() {
    let columns: Vec<String> = (0..200).map(|i| format!("c{i} INTEGER")).collect();
    let values: Vec<String> = (0..200).map(|i| format!("{i} * n")).collect();
    let source = source(&format!(
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, {});
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50)
         INSERT INTO wide SELECT n, {} FROM s;
         CREATE TABLE empty (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE long (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100001)
         INSERT INTO long SELECT n * 7 - 3000000, 'v' || n FROM s;
         DELETE FROM long WHERE id % 5 = 0;
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20001)
         INSERT INTO long SELECT 9000000000000 + n * 13, 'late' || n FROM s;
         CREATE TABLE rowid_only (v TEXT);
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100001)
         INSERT INTO rowid_only (rowid, v) SELECT n * 3, 'r' || n FROM s;",
        columns.join(", "),
        values.join(", ")
    ));
    let long_rows = match sqlite_value(&source, "SELECT count(*) AS v FROM long") {
        Value::Int(n) => n,
        other => panic!("{other:?}"),
    };
    let migrated = migrate_clean(&source);
    assert_eq!(
        migrated
            .int("SELECT count(*) AS v FROM information_schema.columns WHERE table_name = 'wide'"),
        201
    );
    assert_eq!(
        migrated.int("SELECT c199 AS v FROM wide WHERE id = 50"),
        199 * 50
    );
    assert_eq!(migrated.int("SELECT count(*) AS v FROM empty"), 0);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM long"), long_rows);
    assert_eq!(
        migrated.text("SELECT min(id)::text || ' ' || max(id)::text AS v FROM long"),
        "-2999993 9000000260013"
    );
    assert_eq!(
        migrated.int("SELECT count(*) AS v FROM rowid_only"),
        100_001
    );
    assert_eq!(
        migrated.int("SELECT count(DISTINCT v) AS v FROM rowid_only"),
        100_001
    );
    let long = migrated
        .report
        .tables
        .iter()
        .find(|t| t.table == "long")
        .unwrap();
    assert_eq!(long.stats.rows_read, long_rows as u64);
}

#[test]
fn hostile_names_arrive_distinct_and_usable() {
    let long_name = "a_table_name_that_is_much_longer_than_sixty_three_bytes_in_total_length";
    let source = source(&format!(
        r#"CREATE TABLE "order" ("select" INTEGER PRIMARY KEY, "user" TEXT, "Mixed Case" TEXT);
         INSERT INTO "order" VALUES (1, 'u', 'm');
         CREATE TABLE "with space; DROP TABLE x; --" ("col ""q"" 'a'" TEXT, "über ✓" TEXT);
         INSERT INTO "with space; DROP TABLE x; --" VALUES ('q', 'ü');
         CREATE TABLE "{long_name}" ("{long_name}_column_one" INTEGER, "{long_name}_column_two" INTEGER);
         INSERT INTO "{long_name}" VALUES (1, 2);
         CREATE TABLE casing ("Émile" TEXT, "émile" TEXT, "emile" TEXT);
         INSERT INTO casing VALUES ('upper first', 'lower', 'all upper');
         CREATE TABLE "Ä" (v TEXT);
         CREATE TABLE "ä" (v TEXT);
         INSERT INTO "Ä" VALUES ('upper');
         INSERT INTO "ä" VALUES ('lower');"#
    ));
    // SQLite folds only ASCII case (it refuses `Name` beside `name`), so names that differ in
    // the case of other letters are distinct there and collide once lowercased.
    let tables = match sqlite_value(
        &source,
        "SELECT count(*) AS v FROM sqlite_master WHERE type = 'table'",
    ) {
        Value::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(tables, 6);
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.report.tables.len(), 6, "{}", migrated.report);
    // Every column arrived, with names PostgreSQL accepts (at most 63 bytes) and distinct.
    let names = migrated.text(
        "SELECT string_agg(table_name || '.' || column_name, '|' ORDER BY table_name, ordinal_position) AS v \
         FROM information_schema.columns WHERE table_schema = 'public'",
    );
    let names: Vec<&str> = names.split('|').collect();
    assert_eq!(names.len(), 3 + 2 + 2 + 3 + 1 + 1, "{names:?}");
    let casing: Vec<&str> = names
        .iter()
        .filter(|n| n.starts_with("casing."))
        .copied()
        .collect();
    assert_eq!(casing.len(), 3, "{names:?}");
    // The values are where they were: each casing column holds its own value.
    let plan = dbshift::transfer::plan(&source.path, &PlanOptions::default()).unwrap();
    let casing_plan = plan.table("casing").unwrap();
    let expected = ["upper first", "lower", "all upper"];
    for (column, value) in casing_plan.map.columns.iter().zip(expected) {
        assert_eq!(
            migrated.text(&format!(
                "SELECT {} AS v FROM casing",
                quote(&column.target)
            )),
            value,
            "{column:?}"
        );
    }
    for table in &plan.tables {
        assert!(table.map.target.len() <= 63, "{}", table.map.target);
        for column in &table.map.columns {
            assert!(column.target.len() <= 63, "{}", column.target);
        }
    }
    for (table, value) in [("Ä", "upper"), ("ä", "lower")] {
        let target = &plan.table(table).unwrap().map.target;
        assert_eq!(
            migrated.text(&format!("SELECT v AS v FROM {}", quote(target))),
            value,
            "{table} -> {target}"
        );
    }
    let spaced = plan.table("with space; DROP TABLE x; --").unwrap();
    assert_eq!(
        migrated.text(&format!(
            "SELECT {} || {} AS v FROM {}",
            quote(&spaced.map.columns[0].target),
            quote(&spaced.map.columns[1].target),
            quote(&spaced.map.target),
        )),
        "qü"
    );
}

#[test]
fn orphans_arrive_and_their_keys_are_added_not_valid() {
    let source = source(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
         INSERT INTO parent VALUES (1, 'one');
         INSERT INTO child VALUES (1, 1, 'has a parent'), (2, 99, 'orphan'), (3, NULL, 'no parent');",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM child"), 3);
    assert_eq!(
        migrated.value(
            "SELECT convalidated AS v FROM pg_constraint WHERE contype = 'f' AND conrelid = 'child'::regclass"
        ),
        Value::Bool(false)
    );
    // The key holds from now on.
    assert!(migrated
        .pg
        .execute("INSERT INTO child (id, parent_id) VALUES (4, 98)", &[])
        .is_err());
}

#[test]
fn data_only_junk_into_typed_columns_is_rejected_with_reasons() {
    let source = source(
        "CREATE TABLE typed (id INTEGER PRIMARY KEY, n, flag, doc, at, ref, mood, note);
         INSERT INTO typed VALUES
             (1, 7, 1, '{\"a\": 1}', '2024-01-02 03:04:05Z', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 'ok'),
             (2, 'seven', 1, '{}', NULL, NULL, 'sad', 'n is text'),
             (3, 2.5, 0, '[]', NULL, NULL, NULL, 'n is a fraction'),
             (4, 9223372036854775807, 0, NULL, NULL, NULL, NULL, 'n overflows integer'),
             (5, x'01', 1, NULL, NULL, NULL, NULL, 'n is a blob'),
             (6, 1, 2, NULL, NULL, NULL, NULL, 'flag is 2'),
             (7, 1, 'maybe', NULL, NULL, NULL, NULL, 'flag is maybe'),
             (8, 1, 1, '{\"unterminated\": ', NULL, NULL, NULL, 'doc is not JSON'),
             (9, 1, 1, x'7b7d', NULL, NULL, NULL, 'doc is a blob'),
             (10, 1, 1, NULL, 'yesterday', NULL, NULL, 'at is not a time'),
             (11, 1, 1, NULL, '2024-02-30 00:00:00', NULL, NULL, 'at is not a date'),
             (12, 1, 1, NULL, NULL, 'not-a-uuid', NULL, 'ref is not a uuid'),
             (13, 1, 1, NULL, NULL, x'0102', NULL, 'ref is a short blob'),
             (14, 1, 1, NULL, NULL, NULL, 'HAPPY', 'mood is not a label'),
             (15, 1, 1, NULL, NULL, NULL, NULL, CAST(x'6100' AS TEXT)),
             (16, 1, 1, NULL, NULL, NULL, NULL, CAST(x'ff' AS TEXT)),
             (17, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             (18, 1, 1, '{\"k\": 1, \"k\": 2}', NULL, NULL, NULL, 'doc repeats a key'),
             (19, 1, 1, '[-0.0]', NULL, NULL, NULL, 'doc holds a negative zero');",
    );
    // The text instants are UTC, said per column (without it, wall-clock text going into a
    // timestamptz is refused: its zone is not written).
    let settings: HashMap<String, ColumnSetting> = toml::from_str(
        r#"["typed.at"]
conversion = { naive_in_zone = "UTC" }"#,
    )
    .unwrap();
    let (report, target, _rejects) = data_only_into(
        &source,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE TABLE typed (id bigint PRIMARY KEY, n integer, flag boolean, doc jsonb,
             at timestamptz, ref uuid, mood mood, note text);",
        &settings,
    );
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    assert_eq!(report.totals.rows_read, 19, "{report}");
    assert_eq!(report.totals.rows_written, 2, "{report}");
    assert_eq!(report.totals.rows_rejected, 17, "{report}");
    assert_eq!(
        pg.query_one(
            "SELECT string_agg(id::text, ',' ORDER BY id) AS v FROM typed",
            &[]
        )
        .unwrap()
        .get::<String, _>("v")
        .unwrap(),
        "1,17"
    );
    let row = pg
        .query_one(
            "SELECT n, flag, doc->>'a' AS a, extract(epoch FROM at)::bigint AS at, ref::text AS ref, mood::text AS mood FROM typed WHERE id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<i64, _>("n").unwrap(), 7);
    assert_eq!(row.value("flag").unwrap(), &Value::Bool(true));
    assert_eq!(row.get::<String, _>("a").unwrap(), "1");
    assert_eq!(row.get::<i64, _>("at").unwrap(), 1_704_164_645);
    assert_eq!(
        row.get::<String, _>("ref").unwrap(),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );
    assert_eq!(row.get::<String, _>("mood").unwrap(), "happy");
    let reason = |id: i64| -> String {
        let record = rejected_row(&report, id);
        format!("{} {}", record["column"], record["reason"])
    };
    for (id, column, words) in [
        (2, "n", "not an integer"),
        (3, "n", "integer"),
        (4, "n", "out of range"),
        (5, "n", "blob"),
        (6, "flag", "boolean"),
        (7, "flag", "boolean"),
        (8, "doc", "JSON"),
        (9, "doc", "JSON"),
        // jsonb would keep the last of the keys (SQLite's json_extract reads the first) and 0.
        (18, "doc", "twice"),
        (19, "doc", "negative zero"),
        (10, "at", "`yesterday` is not a date/time"),
        (11, "at", "`2024-02-30 00:00:00` is not a date/time"),
        (12, "ref", "UUID"),
        (13, "ref", "UUID"),
        (14, "mood", "not a label of enum"),
        (15, "note", "NUL"),
        (16, "note", "UTF-8"),
    ] {
        let got = reason(id);
        assert!(
            got.contains(&format!("\"{column}\"")) && got.contains(words),
            "row {id}: {got}"
        );
    }
}

/// Asserts the run exited 0, showing its output when not.
fn succeeded(output: &std::process::Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn cli_migrates_and_verifies_a_hostile_file() {
    let source = source(
        r#"CREATE TABLE "select" ("from" INTEGER PRIMARY KEY, "we;ird --name" TEXT, x, "Ü" REAL);
         INSERT INTO "select" VALUES
             (1, 'emoji 😀', CAST(x'00ff' AS TEXT), -0.0),
             (2, CAST(x'c328' AS TEXT), 9223372036854775807, 9e999),
             (3, NULL, x'', 5e-324),
             (-9223372036854775808, '', 'text', 0.30000000000000004);
         CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE kid (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
         INSERT INTO kid VALUES (1, 404);
         CREATE TABLE vacant (id INTEGER PRIMARY KEY);"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = dbshift(dir.path())
        .args(["migrate", "--format", "json", "--quiet"])
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    succeeded(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verification"]["ok"], true, "{report}");
    assert_eq!(report["totals"]["rows_rejected"], 0, "{report}");
    assert_eq!(report["totals"]["rows_read"], 5, "{report}");
    assert_eq!(report["totals"]["rows_written"], 5, "{report}");
    assert_eq!(report["tables"].as_array().unwrap().len(), 4, "{report}");

    let output = dbshift(dir.path())
        .arg("verify")
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    succeeded(&output);
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    let row = pg
        .query_one(
            r#"SELECT x, encode(float8send("ü"), 'hex') AS bits FROM "select" WHERE "from" = 1"#,
            &[],
        )
        .unwrap();
    assert_eq!(row.value("x").unwrap(), &Value::Bytes(b"\0\xff".to_vec()));
    assert_eq!(row.get::<String, _>("bits").unwrap(), "0000000000000000");
}

#[test]
fn values_beyond_their_declared_type_widen_the_column() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, short VARCHAR(5), small SMALLINT, dec DECIMAL(10,2),
             flag BOOLEAN, whole INT);
         INSERT INTO t VALUES
             (1, 'abcde', 1, 1.25, 0, 1),
             (2, '😀😀😀😀😀', 100000, 123456789.125, 1, 1e19),
             (3, 'abcdefghij', -32769, 1e20, 2, -1e19),
             (4, '', NULL, 0.30000000000000004, 'yes', 2.5);",
    );
    let migrated = migrate_clean(&source);
    for (column, expected) in [
        ("short", "abcde|😀😀😀😀😀|abcdefghij|"),
        ("small", "1|100000|-32769|null"),
        ("flag", "0|1|2|yes"),
    ] {
        assert_eq!(
            migrated.text(&format!(
                "SELECT string_agg(coalesce({column}::text, 'null'), '|' ORDER BY id) AS v FROM t"
            )),
            expected,
            "{column} became {}",
            migrated.column_type("t", column)
        );
    }
    // Reals keep their bits whatever type the column became.
    let dec = migrated.column_type("t", "dec");
    let whole = migrated.column_type("t", "whole");
    for (column, pg_type, values) in [
        (
            "dec",
            &dec,
            [1.25f64, 123456789.125, 1e20, 0.30000000000000004],
        ),
        ("whole", &whole, [1.0, 1e19, -1e19, 2.5]),
    ] {
        for (id, x) in (1..).zip(values) {
            let got = migrated.text(&format!(
                "SELECT {column}::text AS v FROM t WHERE id = {id}"
            ));
            let back: f64 = got
                .parse()
                .unwrap_or_else(|e| panic!("{column} ({pg_type}) {got}: {e}"));
            assert_eq!(back.to_bits(), x.to_bits(), "{column} ({pg_type}): {got}");
        }
    }
}

#[test]
fn keys_that_differ_only_in_storage_class_are_caught_by_the_plan() {
    // SQLite compares 1, '1' and x'31' as different values, so all three fit one PRIMARY KEY
    // column without a type; as text or bytes they are one value and PostgreSQL would refuse
    // the key after the copy. The plan says so before anything runs.
    let source = source(
        "CREATE TABLE k (code PRIMARY KEY, label UNIQUE);
         INSERT INTO k VALUES (1, 'a'), ('1', 'b'), (x'31', 'c'), (2.5, 'd'), ('2.50', 'e');
         CREATE TABLE w (name TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
         INSERT INTO w VALUES (CAST(x'610062' AS TEXT), 1), ('a', 2), (CAST(x'ff' AS TEXT), 3), ('😀', 4);",
    );
    let plan = dbshift::transfer::plan(&source.path, &PlanOptions::default()).unwrap();
    let blocking: Vec<String> = plan
        .blocking()
        .map(|i| format!("{}: {}", i.object, i.message))
        .collect();
    assert_eq!(blocking.len(), 1, "{blocking:?}");
    assert!(
        blocking[0].contains("`k`")
            && blocking[0].contains("(code)")
            && blocking[0].contains("2 row(s)"),
        "{blocking:?}"
    );
    let err = plan_work(&plan, &source.path).unwrap_err().to_string();
    assert!(err.contains("cannot run"), "{err}");

    // Once the rows are fixed the keys arrive, with text keys that are not UTF-8 as bytes.
    source.exec(
        "UPDATE k SET code = 'one' WHERE label = 'b'; UPDATE k SET code = 'uno' WHERE label = 'c';",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM k"), 5);
    assert_eq!(migrated.column_type("w", "name"), "bytea");
    assert_eq!(
        migrated.int(
            "SELECT count(*) AS v FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid IN ('k'::regclass, 'w'::regclass)"
        ),
        3
    );
    assert_eq!(
        migrated.value("SELECT v AS v FROM w WHERE name = '\\x610062'::bytea"),
        Value::Int(1)
    );
}

/// A real U+FFFD in text is text; bytes that are not UTF-8 beside one are kept as bytes. The
/// reader takes valid text as SQLite hands it over and reads the stored bytes again only when a
/// U+FFFD might be a replaced byte.
#[test]
fn a_real_replacement_character_stays_text_and_invalid_bytes_stay_bytes() {
    let source = source(
        "CREATE TABLE r (id INTEGER PRIMARY KEY, good TEXT, bad TEXT);
         INSERT INTO r VALUES
           (1, 'x' || CAST(x'efbfbd' AS TEXT) || 'y', CAST(x'ff' AS TEXT)),
           (2, CAST(x'efbfbd' AS TEXT), CAST(x'efbfbdff' AS TEXT)),
           (3, 'plain', 'plain');",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.column_type("r", "good"), "text");
    assert_eq!(migrated.column_type("r", "bad"), "bytea");
    assert_eq!(
        migrated.value("SELECT good AS v FROM r WHERE id = 1"),
        Value::Text("x\u{FFFD}y".into())
    );
    assert_eq!(
        migrated.value("SELECT encode(bad, 'hex') AS v FROM r WHERE id = 2"),
        Value::Text("efbfbdff".into())
    );
    assert_eq!(
        migrated.value("SELECT encode(bad, 'hex') AS v FROM r WHERE id = 1"),
        Value::Text("ff".into())
    );
}

/// SQLite allows 2000 columns, PostgreSQL 1600: the plan refuses such a table before anything
/// runs, and the rest of the database migrates without it.
#[test]
fn a_table_wider_than_postgresql_allows_is_refused_by_the_plan() {
    let columns: Vec<String> = (0..1700).map(|i| format!("c{i} INTEGER")).collect();
    let source = source(&format!(
        "CREATE TABLE wide ({}); INSERT INTO wide (c0) VALUES (1);
         CREATE TABLE narrow (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO narrow (v) VALUES ('kept');",
        columns.join(", ")
    ));
    let plan = dbshift::transfer::plan(&source.path, &PlanOptions::default()).unwrap();
    let blocking: Vec<String> = plan.blocking().map(|i| i.message.clone()).collect();
    assert_eq!(blocking.len(), 1, "{blocking:?}");
    assert!(blocking[0].contains("1700 columns"), "{blocking:?}");
    let err = plan_work(&plan, &source.path).unwrap_err().to_string();
    assert!(err.contains("cannot run"), "{err}");

    let options = PlanOptions {
        exclude: vec!["wide".into()],
        ..PlanOptions::default()
    };
    let plan = dbshift::transfer::plan(&source.path, &options).unwrap();
    assert_eq!(plan.blocking().count(), 0);
    assert_eq!(plan.tables.len(), 1);
}

/// An id at the top of the 64-bit range leaves no id to hand out: the identity is left
/// exhausted (a clear error on the next insert) instead of failing the migration or handing out
/// an id that exists. A rowid alias declared descending (`PRIMARY KEY (x DESC)`) still restarts
/// past its largest value.
#[test]
fn identities_at_the_top_of_the_range_are_left_exhausted() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (9223372036854775807, 'max'), (-9223372036854775808, 'min');
         CREATE TABLE d (x INTEGER, y TEXT, PRIMARY KEY (x DESC));
         INSERT INTO d VALUES (5, 'a'), (3, 'b');",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM t"), 2);
    let err = migrated
        .pg
        .execute("INSERT INTO t (v) VALUES ('next')", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("reached maximum value"), "{err}");
    assert_eq!(
        migrated.int("WITH i AS (INSERT INTO d (y) VALUES ('c') RETURNING x) SELECT x AS v FROM i"),
        6
    );
}

/// A column declared `INTEGER PRIMARY KEY DESC` is not the rowid (a quirk SQLite keeps): it may
/// hold NULL and text, and its values are not the rowids. Its rows arrive, none rejected for a
/// NULL key, and a table of them large enough to be copied in parts is cut by its real rowid.
#[test]
fn an_integer_primary_key_desc_column_is_not_the_rowid() {
    let source = source(
        "CREATE TABLE d (id INTEGER PRIMARY KEY DESC, v TEXT);
         INSERT INTO d (rowid, id, v) VALUES (1, 10, 'a'), (2, NULL, 'b'), (3, NULL, 'c');
         CREATE TABLE f (id INTEGER PRIMARY KEY DESC, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO f (rowid, id, v) SELECT i, 1000000 - i, 'v' || i FROM n;
         INSERT INTO f (id, v) VALUES ('key', 'text');",
    );
    let target = pg_db();
    let rejects = tempfile::tempdir().unwrap();
    let plan = dbshift::transfer::plan(&source.path, &PlanOptions::default()).unwrap();
    let work = plan_work(&plan, &source.path).unwrap();
    let mut run_options = options(&source.path, &target.url, Mode::Full, rejects.path());
    run_options.split_rows = 1000;
    let report = run(&run_options, work).unwrap();
    balanced(&report);
    assert_eq!(report.totals.rows_rejected, 0, "{report}");
    let count = |sql: &str| pg_rows(&target.url, sql)[0][0].clone().unwrap();
    assert_eq!(count("SELECT count(*) FROM d WHERE id IS NULL"), "2");
    assert_eq!(
        count("SELECT string_agg(v, ',' ORDER BY v) FROM d"),
        "a,b,c"
    );
    assert_eq!(count("SELECT count(*) FROM f"), "3001");
    assert_eq!(
        count("SELECT count(*) FROM f WHERE CASE WHEN id = 'key' THEN v = 'text' ELSE v = 'v' || (1000000 - id::bigint) END"),
        "3001"
    );
}

/// Date/time texts written finer than PostgreSQL's microseconds (.NET writes seven digits) are
/// rejected with their reason instead of arriving rounded, where verification, rounding the
/// source the same way, would have called them equal; trailing zeros past the sixth digit are
/// no finer and arrive.
#[test]
fn data_only_times_finer_than_microseconds_are_rejected_not_rounded() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at, atz, tod);
         INSERT INTO t VALUES
             (1, '2024-01-01 10:00:00.1234560', '2024-01-01 10:00:00.5000000Z', '10:00:00.1000000'),
             (2, '2024-01-01 10:00:00.9999996', NULL, NULL),
             (3, NULL, '2024-01-01 10:00:00.1234567Z', NULL),
             (4, NULL, NULL, '10:00:00.1234567');",
    );
    let (report, target, _rejects) = data_only_into(
        &source,
        "CREATE TABLE t (id bigint PRIMARY KEY, at timestamp, atz timestamptz, tod time);",
        &HashMap::new(),
    );
    assert_eq!(report.totals.rows_written, 1, "{report}");
    assert_eq!(report.totals.rows_rejected, 3, "{report}");
    let row = pg_rows(
        &target.url,
        "SELECT at::text, (atz AT TIME ZONE 'UTC')::text, tod::text FROM t WHERE id = 1",
    );
    assert_eq!(
        row[0],
        [
            Some("2024-01-01 10:00:00.123456".to_string()),
            Some("2024-01-01 10:00:00.5".to_string()),
            Some("10:00:00.1".to_string())
        ]
    );
    for (id, column) in [(2, "at"), (3, "atz"), (4, "tod")] {
        let record = rejected_row(&report, id);
        assert_eq!(record["column"], column, "{record}");
        let reason = record["reason"].as_str().unwrap();
        assert!(reason.contains("finer than"), "{reason}");
    }
}

/// Data-only into columns of types the copier sends as text: arrays of types with arguments
/// (once taken for their element type, so `{ab}` was sent to a `varchar(3)[]` as binary text
/// and the transfer failed), a bit string and a range. Values the server accepts arrive; one it
/// refuses (too long, wrong length, reversed bounds) rejects its row, and the transfer finishes.
#[test]
fn data_only_arrays_bit_strings_and_ranges_arrive_or_are_rejected() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, names, amounts, flags, span);
         INSERT INTO t VALUES
             (1, '{ab,c}', '{1.5,-2.25}', '101', '[1,5]'),
             (2, '{abcd}', NULL, NULL, NULL),
             (3, NULL, NULL, '1', NULL),
             (4, NULL, NULL, NULL, '[5,1]');",
    );
    let (report, target, _rejects) = data_only_into(
        &source,
        "CREATE TABLE t (id bigint PRIMARY KEY, names varchar(3)[], amounts numeric(4,2)[],
             flags bit(3), span int4range);",
        &HashMap::new(),
    );
    assert_eq!(report.totals.rows_written, 1, "{report}");
    assert_eq!(report.totals.rows_rejected, 3, "{report}");
    let row = pg_rows(
        &target.url,
        "SELECT names::text, amounts::text, flags::text, span::text FROM t WHERE id = 1",
    );
    assert_eq!(
        row[0],
        ["{ab,c}", "{1.50,-2.25}", "101", "[1,6)"].map(|v| Some(v.to_string()))
    );
    for (id, words) in [
        (2, "too long"),
        (3, "does not match type"),
        (4, "lower bound"),
    ] {
        let record = rejected_row(&report, id);
        let reason = record["reason"].as_str().unwrap();
        assert!(reason.contains(words), "row {id}: {reason}");
    }
}

/// A source table named like the sequence PostgreSQL makes for another table's identity
/// (`t_id_seq` beside `t (id INTEGER PRIMARY KEY)`) keeps its name and its rows: the identity's
/// sequence is named in the DDL instead of taking the name when `t` is created first.
#[test]
fn a_table_named_like_an_identity_sequence_arrives() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t (id, v) SELECT i, 'v' || i FROM n;
         CREATE TABLE t_id_seq (x INTEGER);
         INSERT INTO t_id_seq VALUES (7), (8);",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM t"), 2000);
    assert_eq!(migrated.int("SELECT sum(x) AS v FROM t_id_seq"), 15);
    assert_eq!(
        migrated.int(
            "WITH i AS (INSERT INTO t (v) VALUES ('next') RETURNING id) SELECT id AS v FROM i"
        ),
        2001
    );
}

/// A JSON document nested deeper than PostgreSQL's parser reaches ("stack depth limit
/// exceeded") rejects its row with the server's message; the other documents arrive and the
/// transfer finishes, where that one value used to stop it.
#[test]
fn a_json_document_too_deep_for_postgresql_rejects_its_row() {
    let source = source(
        "CREATE TABLE d (id INTEGER PRIMARY KEY, doc JSON);
         INSERT INTO d VALUES (1, '{\"a\": [1, 2]}'), (3, '[]');
         INSERT INTO d VALUES (2, replace(hex(zeroblob(200000)), '00', '[')
             || replace(hex(zeroblob(200000)), '00', ']'));",
    );
    let migrated = migrate(&source);
    let report = &migrated.report;
    assert_eq!(report.totals.rows_written, 2, "{report}");
    assert_eq!(report.totals.rows_rejected, 1, "{report}");
    assert_eq!(
        migrated.text("SELECT string_agg(id::text || doc::text, ' ' ORDER BY id) FROM d"),
        "1{\"a\": [1, 2]} 3[]"
    );
    let file = report.tables[0].stats.reject_file.as_ref().unwrap();
    let record: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        record["key"]["id"] == 2 || record["key"]["rowid"] == 2,
        "{record}"
    );
    let reason = record["reason"].as_str().unwrap();
    assert!(reason.contains("stack depth"), "{reason}");
}

/// Text too long for a btree entry: the index (here a primary key, so also the foreign key
/// that needs it) cannot be built in PostgreSQL. Every row still arrives and verifies; the
/// report names what was not created and how to make it by hand, and the transfer finishes.
#[test]
fn indexes_postgresql_cannot_build_are_reported_and_the_rows_arrive() {
    let source = source(
        "CREATE TABLE p (code TEXT PRIMARY KEY, v INTEGER);
         CREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT REFERENCES p(code));
         CREATE INDEX c_code ON c(code);
         INSERT INTO p VALUES (hex(randomblob(3000)), 1), ('short', 2);
         INSERT INTO c (code) SELECT code FROM p;",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM p"), 2);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM c"), 2);
    let warnings = migrated.report.warnings.join("\n");
    assert!(
        warnings.contains("table `p`: a key or index was not created")
            && warnings.contains("table `c`: a key or index was not created")
            && warnings.contains("foreign key `c_code_fkey` of `c` not created"),
        "{warnings}"
    );
    // Every row verifies, but "ok" would hide the keys and index left out.
    let lost = not_carried(&migrated.report);
    assert!(
        lost.contains("table `p`: a key or index was not created")
            && lost.contains("table `c`: a key or index was not created")
            && lost.contains("foreign key `c_code_fkey` of `c`: not created"),
        "{lost}"
    );
}

/// A view with a CTE and a window function arrives and reads the same rows; a view that
/// passes the translator but that PostgreSQL refuses (here a number plus a word) is reported
/// with its SQL, and the transfer finishes.
#[test]
fn views_with_ctes_arrive_and_views_postgresql_refuses_are_reported() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, label TEXT);
         INSERT INTO t VALUES (1, 12345, 'a'), (2, NULL, 'b'), (3, 7, 'c');
         CREATE VIEW ranked AS WITH x AS (SELECT id, n FROM t WHERE n IS NOT NULL)
             SELECT id, row_number() OVER (ORDER BY n DESC) AS rn FROM x;
         CREATE VIEW refused AS SELECT length(label) + 'x' AS s FROM t;",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(
        migrated.int("SELECT rn AS v FROM ranked WHERE id = 1"),
        1,
        "{}",
        migrated.report
    );
    assert_eq!(migrated.int("SELECT count(*) AS v FROM ranked"), 2);
    let warnings = migrated.report.warnings.join("\n");
    assert!(
        warnings.contains("view `refused` not created") && warnings.contains("invalid input"),
        "{warnings}"
    );
    let lost = not_carried(&migrated.report);
    assert!(lost.contains("view `refused`: not created"), "{lost}");
    assert!(!lost.contains("ranked"), "{lost}");
}

/// A CHECK and an expression index that pass the translator but that PostgreSQL refuses to
/// create (an integer compared with a word) are left out and reported; the table's other CHECK
/// is still enforced as the rows arrive, and every row arrives. (`substr` of an integer is
/// caught by the translator already, and flagged in the plan.)
#[test]
fn checks_and_indexes_postgresql_refuses_to_create_are_reported() {
    let source = source(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT CHECK (length(n) <> 'none'),
                         s TEXT CHECK (length(s) < 3), m INTEGER CHECK (substr(m, 1, 1) <> '0'));
         INSERT INTO t VALUES (1, '12345', 'ab', 5), (2, '7', NULL, 6);
         CREATE INDEX t_odd ON t ((length(n) + 'x'));",
    );
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM t"), 2);
    let warnings = migrated.report.warnings.join("\n");
    assert!(
        warnings.contains("table `t`: CHECK not created")
            && warnings.contains("table `t`: a key or index was not created")
            && warnings.contains("`substr` of `m`, which is bigint"),
        "{warnings}"
    );
    let lost = not_carried(&migrated.report);
    assert!(
        lost.contains("table `t`: CHECK not created")
            && lost.contains("table `t`: a key or index was not created")
            && lost.contains("table `t`: CHECK not translated"),
        "{lost}"
    );
    assert_eq!(
        migrated.int(
            "SELECT count(*) AS v FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'c'"
        ),
        1
    );
}

#[test]
fn a_source_locked_by_a_writer_is_waited_for() {
    // An application still writing its SQLite file holds a lock for a moment; planning and
    // copying wait for it instead of calling the file unreadable.
    let source =
        source("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');");
    let mut writer = diesel::SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
    writer
        .batch_execute("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2, 'b');")
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        writer.batch_execute("COMMIT").unwrap();
    });
    let plan = dbshift::transfer::plan(&source.path, &PlanOptions::default());
    release.join().unwrap();
    // It waited for the commit: the plan counted the writer's row too (reading past the lock,
    // as `immutable=1` would, sees a file mid-change).
    assert_eq!(plan.unwrap().tables[0].source_rows, 2);
    let migrated = migrate_clean(&source);
    assert_eq!(migrated.int("SELECT count(*) AS v FROM t"), 2);
}
