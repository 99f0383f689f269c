//! Hostile SQLite files through plan, migrate and verify: every storage class in every declared
//! type, values at the edges, awkward names, orphans, and junk sent into a typed schema. The bar:
//! every value arrives equal in PostgreSQL or is in the reject file with its reason, and
//! verification agrees. The fixtures are built here, never committed.

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::{pg_db, sqlite_db, PgDb, SqliteDb};
use dbshift::transfer::progress::Progress;
use dbshift::transfer::run::{plan_work, run, IfExists, Mode, Options};
use dbshift::transfer::{PlanOptions, Report};
use dbshift::{Backend, DbConfig, Registry, Value};

/// A SQLite file made by `sql`.
fn source(sql: &str) -> SqliteDb {
    let db = sqlite_db();
    diesel::SqliteConnection::establish(db.path.to_str().unwrap())
        .unwrap()
        .batch_execute(sql)
        .unwrap();
    db
}

fn options(source: &SqliteDb, target: &PgDb, mode: Mode, rejects: &std::path::Path) -> Options {
    Options {
        source: source.path.clone(),
        target: DbConfig::from_url(target.url.clone()),
        mode,
        jobs: 2,
        if_exists: IfExists::Fail,
        resume: false,
        verify: true,
        reject_dir: rejects.to_path_buf(),
        progress: Progress::quiet(),
    }
}

/// A full migration of `source` with the default plan, and a connection to its target.
struct Migrated {
    report: Report,
    pg: Box<dyn Backend>,
    _rejects: tempfile::TempDir,
    _target: PgDb,
}

fn migrate(source: &SqliteDb) -> Migrated {
    migrate_with(source, &PlanOptions::default())
}

fn migrate_with(source: &SqliteDb, plan_options: &PlanOptions) -> Migrated {
    let target = pg_db();
    let rejects = tempfile::tempdir().unwrap();
    let plan = dbshift::transfer::plan(&source.path, plan_options).unwrap();
    let work = plan_work(&plan, &source.path).unwrap();
    let report = run(&options(source, &target, Mode::Full, rejects.path()), work).unwrap();
    balanced(&report);
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    Migrated {
        report,
        pg,
        _rejects: rejects,
        _target: target,
    }
}

/// Verification agrees and every row read was written or rejected.
fn balanced(report: &Report) {
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
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

    fn text(&self, sql: &str) -> String {
        match self.value(sql) {
            Value::Text(text) => text,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn int(&self, sql: &str) -> i64 {
        match self.value(sql) {
            Value::Int(i) => i,
            other => panic!("{sql}: {other:?}"),
        }
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
    for i in 0..DECLARED_TYPES.len() {
        let classes = sqlite_value(
            &source,
            &format!(
                "SELECT group_concat(typeof(v), ',') AS v FROM (SELECT v FROM t{i} ORDER BY id)"
            ),
        );
        assert!(
            matches!(&classes, Value::Text(t) if t == "null,integer,real,text,blob"
                // SQLite reads an integer stored in a REAL-affinity column as a real.
                || t == "null,real,real,text,blob" && ["REAL", "DOUBLE", "FLOAT"].contains(&DECLARED_TYPES[i])),
            "{}: {classes:?}",
            DECLARED_TYPES[i]
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
