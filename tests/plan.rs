//! Schema planning end to end: plans are made from real SQLite files (Chinook, the benchmark
//! database, hostile fixtures built here), their DDL runs on a real PostgreSQL with the source
//! rows loaded in between, and the PostgreSQL catalog is checked.

use std::path::Path;

use dbshift::transfer::model::{Conversion, PgType, SourceKey, TableMap};
use dbshift::transfer::plan::{catalog as introspect, profile, render};
use dbshift::transfer::plan::{plan, OrphanPolicy, Plan, PlanOptions, Severity};
use dbshift::transfer::Error;
use dbshift::{Backend, DbConfig, Registry, Value};
use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::{pg_db, shared_fixture, PgDb};

/// A PostgreSQL database with a plan applied: DDL in execution order, the source rows loaded
/// after `create` and before `after_load`, as the copier will do.
struct Applied {
    db: Box<dyn Backend>,
    _guard: PgDb,
}

impl Applied {
    fn query(&self, sql: &str) -> Vec<dbshift::Row> {
        self.db
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn scalar<T: dbshift::value::FromValue>(&self, sql: &str) -> T {
        self.db
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
            .unwrap()
    }

    /// `format_type` of every column of `table`, by name.
    fn column_types(&self, table: &str) -> Vec<(String, String, bool)> {
        self.query(&format!(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty, a.attnotnull AS nn FROM pg_attribute a \
             WHERE a.attrelid = '\"public\".\"{table}\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ))
        .iter()
        .map(|r| (r.get("name").unwrap(), r.get("ty").unwrap(), r.get("nn").unwrap()))
        .collect()
    }

    fn column_type(&self, table: &str, column: &str) -> (String, bool) {
        self.column_types(table)
            .into_iter()
            .find(|(n, _, _)| n == column)
            .map(|(_, t, nn)| (t, nn))
            .unwrap_or_else(|| panic!("no column {table}.{column}"))
    }

    fn default_of(&self, table: &str, column: &str) -> Option<String> {
        self.db
            .query_one(
                "SELECT pg_get_expr(d.adbin, d.adrelid) AS d FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
                 WHERE d.adrelid = to_regclass($1) AND a.attname = $2",
                &[Value::from(format!("\"public\".\"{table}\"")), Value::from(column)],
            )
            .ok()
            .map(|r| r.get("d").unwrap())
    }

    fn constraints(&self, table: &str, kind: &str) -> Vec<String> {
        self.query(&format!(
            "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '\"public\".\"{table}\"'::regclass AND contype = '{kind}' ORDER BY conname"
        ))
        .iter()
        .map(|r| r.get("def").unwrap())
        .collect()
    }

    fn indexes(&self, table: &str) -> Vec<String> {
        self.query(&format!("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = '{table}' ORDER BY indexname"))
            .iter()
            .map(|r| r.get("indexdef").unwrap())
            .collect()
    }
}

/// Runs the plan on a fresh PostgreSQL database, loading every table's rows from `source`.
fn apply(plan: &Plan, source: &Path) -> Applied {
    let guard = pg_db();
    let mut conn = diesel::PgConnection::establish(&guard.url).expect("connect to PostgreSQL");
    // The data layer opens SQLite for writing (and turns WAL on), so the rows are read from a
    // copy: a shared fixture must never be written.
    let copy = tempfile::tempdir().expect("temp dir");
    let copied = copy.path().join("source.sqlite");
    std::fs::copy(source, &copied).expect("copy the source");
    let sqlite = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&copied))
        .expect("open the SQLite source");
    let run = |conn: &mut diesel::PgConnection, sql: &str| {
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("PostgreSQL refused:\n{sql}\n{e}"))
    };
    for sql in &plan.before {
        run(&mut conn, sql);
    }
    for table in &plan.tables {
        for sql in &table.create {
            run(&mut conn, sql);
        }
    }
    for table in &plan.tables {
        for insert in inserts(&table.map, sqlite.as_ref()) {
            run(&mut conn, &insert);
        }
        for sql in &table.after_load {
            run(&mut conn, sql);
        }
        if let Some(identity) = &table.identity {
            run(&mut conn, &identity.sql);
        }
    }
    for table in &plan.tables {
        for fk in &table.foreign_keys {
            run(&mut conn, &fk.sql);
        }
    }
    for view in &plan.views {
        if let Some(sql) = &view.sql {
            run(&mut conn, sql);
        }
    }
    let db = Registry::with_defaults()
        .connect(&DbConfig::from_url(guard.url.clone()))
        .expect("connect");
    Applied { db, _guard: guard }
}

/// Multi-row INSERTs of the source rows as PostgreSQL literals of the planned types: a
/// stand-in for the copier, converting values the way the plan says.
fn inserts(map: &TableMap, sqlite: &dyn Backend) -> Vec<String> {
    if map.columns.is_empty() {
        return Vec::new();
    }
    let select: Vec<String> = map
        .columns
        .iter()
        .map(|c| dbshift::dialect::quote_ident(&c.source).unwrap())
        .collect();
    let order = match &map.key {
        SourceKey::Rowid => "rowid".to_string(),
        SourceKey::PrimaryKey(columns) => columns
            .iter()
            .map(|c| dbshift::dialect::quote_ident(c).unwrap())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let rows = sqlite
        .query(
            &format!(
                "SELECT {} FROM {} ORDER BY {order}",
                select.join(", "),
                dbshift::dialect::quote_ident(&map.source).unwrap()
            ),
            &[],
        )
        .unwrap_or_else(|e| panic!("reading {}: {e}", map.source));
    let targets: Vec<String> = map
        .columns
        .iter()
        .map(|c| dbshift::dialect::quote_ident(&c.target).unwrap())
        .collect();
    rows.chunks(500)
        .map(|chunk| {
            let values: Vec<String> = chunk
                .iter()
                .map(|row| {
                    let literals: Vec<String> = map
                        .columns
                        .iter()
                        .zip(row.values())
                        .map(|(c, v)| literal(&c.pg_type, c.conversion, v))
                        .collect();
                    format!("({})", literals.join(", "))
                })
                .collect();
            format!(
                "INSERT INTO {} ({}) VALUES {}",
                map.qualified_target(),
                targets.join(", "),
                values.join(", ")
            )
        })
        .collect()
}

fn literal(pg_type: &PgType, conversion: Option<Conversion>, value: &Value) -> String {
    use dbshift::dialect::quote_literal;
    let bytes = |b: &[u8]| {
        format!(
            "'\\x{}'::bytea",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        )
    };
    match (pg_type, conversion, value) {
        (_, _, Value::Null) => "NULL".into(),
        (PgType::Boolean, _, Value::Int(n)) => (if *n == 1 { "TRUE" } else { "FALSE" }).into(),
        (PgType::Boolean, _, Value::Text(t)) => quote_literal(t),
        (PgType::Timestamptz, Some(Conversion::UnixSeconds), Value::Int(n)) => {
            format!("to_timestamp({n})")
        }
        (PgType::Timestamptz, Some(Conversion::UnixMilliseconds), Value::Int(n)) => {
            format!("to_timestamp({n} / 1000.0)")
        }
        (PgType::Timestamptz, Some(Conversion::JulianDay), Value::Float(x)) => {
            format!("to_timestamp(({x:?} - 2440587.5) * 86400)")
        }
        (PgType::Bytea, _, Value::Bytes(b)) => bytes(b),
        (PgType::Bytea, _, Value::Text(t)) => bytes(t.as_bytes()),
        (PgType::Bytea, _, Value::Int(n)) => bytes(n.to_string().as_bytes()),
        (PgType::Bytea, _, Value::Float(x)) => bytes(format!("{x:?}").as_bytes()),
        (_, _, Value::Int(n)) => quote_literal(&n.to_string()),
        (_, _, Value::Float(x)) => quote_literal(&format!("{x:?}")),
        (_, _, Value::Text(t)) => quote_literal(t),
        (_, _, other) => panic!("no literal for {other:?} as {}", pg_type.sql()),
    }
}

fn plan_default(source: &Path) -> Plan {
    plan(source, &PlanOptions::default())
        .unwrap_or_else(|e| panic!("planning {}: {e}", source.display()))
}

fn review_about<'a>(plan: &'a Plan, object: &str) -> Vec<&'a dbshift::transfer::plan::ReviewItem> {
    plan.review
        .iter()
        .filter(|r| r.object.contains(object))
        .collect()
}

#[test]
fn chinook_plans_and_applies_with_its_keys() {
    let source = shared_fixture("chinook.sqlite");
    let plan = plan_default(&source);
    assert_eq!(plan.tables.len(), 11);
    assert_eq!(plan.blocking().count(), 0);
    let pg = apply(&plan, &source);
    let tables: i64 = pg.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    assert_eq!(tables, 11);
    let primary_keys: i64 = pg.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace");
    assert_eq!(primary_keys, 11);
    let foreign_keys: i64 = pg.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND convalidated");
    assert_eq!(foreign_keys, 11);
    assert_eq!(
        pg.constraints("playlisttrack", "p"),
        vec!["PRIMARY KEY (playlistid, trackid)".to_string()]
    );
    assert_eq!(
        pg.column_type("invoice", "total"),
        ("numeric(10,2)".into(), true)
    );
    assert_eq!(
        pg.column_type("invoice", "invoicedate"),
        ("timestamp without time zone".into(), true)
    );
    assert_eq!(
        pg.column_type("employee", "reportsto"),
        ("bigint".into(), false)
    );
    let rows: i64 = pg.scalar("SELECT count(*) FROM track");
    assert_eq!(rows, 3503);
    let total: String = pg.scalar("SELECT sum(total)::text FROM invoice");
    assert_eq!(total, "2328.60");
    // The identity continues after the largest id.
    pg.db
        .execute("INSERT INTO genre (name) VALUES ('Polka')", &[])
        .unwrap();
    let id: i64 = pg.scalar("SELECT genreid FROM genre WHERE name = 'Polka'");
    assert_eq!(id, 26);
}

fn bench_db(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("bench.sqlite");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_bench_db.py");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(&path)
        .arg("0.01")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "gen_bench_db.py failed");
    path
}

#[test]
fn benchmark_db_keeps_constraints_and_gets_typed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let source = bench_db(dir.path());
    let plan = plan_default(&source);
    assert_eq!(
        plan.tables
            .iter()
            .map(|t| t.map.target.as_str())
            .collect::<Vec<_>>(),
        [
            "missions",
            "mission_events",
            "tags",
            "mission_tags",
            "attachments"
        ]
    );
    assert!(
        plan.review.iter().all(|r| r.severity == Severity::Info),
        "{:#?}",
        plan.review
    );
    let pg = apply(&plan, &source);

    // The types of typed-pre.sql, but for timestamps: the file's texts have no offset, so
    // they stay wall-clock times (typed-pre.sql reads them as UTC instants).
    let expected = [
        ("missions", "id", "bigint", true),
        ("missions", "title", "text", true),
        ("missions", "description", "text", false),
        ("missions", "status", "text", true),
        ("missions", "is_archived", "boolean", true),
        ("missions", "progress", "double precision", false),
        ("missions", "metadata", "jsonb", false),
        (
            "missions",
            "created_at",
            "timestamp without time zone",
            true,
        ),
        (
            "missions",
            "updated_at",
            "timestamp without time zone",
            false,
        ),
        ("mission_events", "payload", "jsonb", false),
        ("mission_events", "at", "timestamp with time zone", true),
        (
            "mission_tags",
            "added_at",
            "timestamp without time zone",
            true,
        ),
        ("attachments", "is_inline", "boolean", true),
        ("attachments", "content", "bytea", true),
        (
            "attachments",
            "created_at",
            "timestamp without time zone",
            true,
        ),
        ("attachments", "size_bytes", "bigint", true),
    ];
    for (table, column, ty, not_null) in expected {
        assert_eq!(
            pg.column_type(table, column),
            (ty.to_string(), not_null),
            "{table}.{column}"
        );
    }
    assert_eq!(
        pg.default_of("missions", "status").as_deref(),
        Some("'draft'::text")
    );
    assert_eq!(
        pg.default_of("missions", "is_archived").as_deref(),
        Some("false")
    );
    // Wall-clock columns: the default writes UTC wall-clock time, as SQLite's did.
    assert_eq!(
        pg.default_of("missions", "created_at")
            .map(|d| as_newer_majors_print(&d)),
        Some("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text)".to_string())
    );
    assert_eq!(
        pg.default_of("attachments", "created_at")
            .map(|d| as_newer_majors_print(&d)),
        Some("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text)".to_string())
    );
    let checks = pg.constraints("missions", "c");
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        checks
            .iter()
            .any(|c| c.contains("'draft'::text") && c.contains("'failed'::text")),
        "{checks:?}"
    );
    assert_eq!(
        pg.constraints("mission_tags", "p"),
        vec!["PRIMARY KEY (mission_id, tag_id)".to_string()]
    );
    assert!(pg.indexes("tags").iter().any(
        |i| i.starts_with("CREATE UNIQUE INDEX uq_tags_name ON public.tags USING btree (name)")
    ));
    assert!(pg.indexes("attachments").iter().any(|i| i
        .contains("UNIQUE INDEX uq_attachments_mission_filename")
        && i.contains("(mission_id, filename)")));
    assert!(pg
        .indexes("mission_events")
        .iter()
        .any(|i| i.contains("idx_events_mission_at") && i.contains("(mission_id, at)")));
    let fks: i64 = pg.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confdeltype = 'c' AND convalidated");
    assert_eq!(fks, 4);
    // Values arrived typed.
    let archived: i64 = pg.scalar("SELECT count(*) FROM missions WHERE is_archived");
    assert!(archived > 0);
    let owners: i64 =
        pg.scalar("SELECT count(*) FROM missions WHERE metadata ->> 'owner' IS NOT NULL");
    assert!(owners > 0);
    // Identity sequences restart above the data (and above sqlite_sequence).
    let next: i64 = pg.scalar("SELECT max(id) + 1 FROM missions");
    pg.db
        .execute("INSERT INTO missions (title) VALUES ('new')", &[])
        .unwrap();
    let id: i64 = pg.scalar("SELECT id FROM missions WHERE title = 'new'");
    assert_eq!(id, next);
    let created_recently: bool = pg.scalar(
        "SELECT created_at > (now() AT TIME ZONE 'UTC') - interval '1 minute' AND created_at <= now() AT TIME ZONE 'UTC' FROM missions WHERE title = 'new'",
    );
    assert!(created_recently);
    let text = render::render_text(&plan);
    assert!(
        text.contains("missions.is_archived: INTEGER -> boolean  [boolean.flag_name]"),
        "{text}"
    );
}

/// Builds a SQLite file from a script, through the same SQLite library the planner reads with.
fn sqlite_file(dir: &Path, name: &str, sql: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("building {name}: {e}"));
    path
}

const HOSTILE: &str = r#"
CREATE TABLE "select" (
    "from" INTEGER PRIMARY KEY AUTOINCREMENT,
    "order by" TEXT NOT NULL DEFAULT 'x' CHECK ("order by" <> ''),
    "Ärger" TEXT,
    "ärger" TEXT,
    qty INTEGER,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    updated_ms INTEGER,
    seen DATETIME,
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    doc TEXT CHECK (doc IS NULL OR json_valid(doc)),
    code TEXT COLLATE NOCASE UNIQUE,
    price REAL DEFAULT 1.5,
    amount DECIMAL(8,2) DEFAULT 0,
    raw BLOB DEFAULT x'00ff',
    note TEXT DEFAULT 'null',
    stamp TEXT DEFAULT CURRENT_TIMESTAMP,
    stamp2 DATETIME DEFAULT (datetime('now')),
    frozen DATETIME DEFAULT 'now',
    word TEXT DEFAULT 'now',
    flag BOOLEAN DEFAULT TRUE,
    token TEXT DEFAULT (lower(hex(randomblob(16)))),
    negative INTEGER DEFAULT -1,
    twice REAL GENERATED ALWAYS AS (price * 2) VIRTUAL,
    label TEXT AS (upper(code)) STORED,
    fancy TEXT AS (printf('%05d', qty)) STORED,
    CHECK (qty >= 0 OR qty IS NULL OR typeof(qty) = 'text'),
    CONSTRAINT glob_check CHECK (code GLOB '[A-Za-z]*' OR code IS NULL)
);
INSERT INTO "select" ("order by", "Ärger", "ärger", qty, created_at, updated_ms, seen, is_active, doc, code, price, amount, note, stamp)
VALUES ('a', 'Big', 'small', 1, 1700000000, 1700000000123, '2024-01-02 03:04:05', 1, '{"k": [1, 2]}', 'AbC', 2.5, 12.34, 'n1', 'later'),
       ('b', NULL, NULL, 2, 1600000000, 1600000000999, '2023-05-06T07:08:09Z', 0, '[1]', 'xyz', NULL, 1, CAST(x'610062' AS TEXT), NULL),
       ('c', NULL, NULL, NULL, 1650000000, NULL, NULL, 1, NULL, NULL, 3, 7.5, CAST(x'ff' AS TEXT), NULL);
INSERT INTO "select" ("order by", qty, created_at) VALUES ('d', 'n/a', 1650000001);
INSERT INTO "select" ("order by", qty, created_at) VALUES ('e', 99, 1650000002);
DELETE FROM "select" WHERE "from" = 5;

CREATE TABLE this_table_name_is_far_longer_than_the_sixty_three_bytes_postgresql_allows_x (
    this_column_name_is_also_far_longer_than_the_sixty_three_bytes_allowed_1 INTEGER,
    this_column_name_is_also_far_longer_than_the_sixty_three_bytes_allowed_2 INTEGER
);
INSERT INTO this_table_name_is_far_longer_than_the_sixty_three_bytes_postgresql_allows_x VALUES (1, 2);

CREATE TABLE notes (body TEXT);
CREATE INDEX notes_body ON notes (body);
INSERT INTO notes VALUES ('short'), (hex(zeroblob(2000)));

CREATE TABLE events (at DATETIME DEFAULT 'now', day DATE DEFAULT CURRENT_DATE, starts TIME DEFAULT CURRENT_TIME);
INSERT INTO events VALUES ('2024-01-01 10:00:00', '2024-01-01', '08:30'), ('2024-01-02T10:00:00.5+02:00', '2024-02-29', '23:59:59.25');

CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v, PRIMARY KEY (a, b)) WITHOUT ROWID;
INSERT INTO pairs VALUES ('x', 1, 1.5), ('x', 2, 'two'), ('y', 1, x'01');

CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id) ON DELETE SET NULL, name TEXT);
INSERT INTO node VALUES (1, NULL, 'root'), (2, 1, 'child'), (3, 42, 'orphan');
CREATE TABLE left_side (id INTEGER PRIMARY KEY, right_id INTEGER REFERENCES right_side(id) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE right_side (id INTEGER PRIMARY KEY, left_id INTEGER REFERENCES left_side(id));
INSERT INTO left_side VALUES (1, 1);
INSERT INTO right_side VALUES (1, 1);

CREATE INDEX select_lower_code ON "select" (lower(code));
CREATE INDEX select_active_qty ON "select" (qty) WHERE is_active = 1 AND qty > 0;
CREATE INDEX select_price_partial ON "select" (price DESC) WHERE price > 0;
CREATE INDEX select_glob ON "select" (code) WHERE code GLOB 'a*';
CREATE INDEX select_seen ON "select" (code) WHERE seen IS NOT NULL AND is_active = 1;

CREATE VIEW cheap AS SELECT "from" AS id, price FROM "select" WHERE price < 10;
CREATE VIEW active_codes AS SELECT code, seen FROM "select" WHERE is_active = 1 ORDER BY seen;
CREATE VIEW from_missing AS SELECT * FROM no_such_table;
CREATE VIEW names AS SELECT group_concat(name, ',') AS all_names FROM node;
CREATE TRIGGER node_touch AFTER UPDATE ON node BEGIN UPDATE node SET name = name WHERE id = new.id; END;

CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'porter');
INSERT INTO docs (title, body) VALUES ('hello', 'the quick brown fox'), ('bye', 'lazy dogs');
ANALYZE;
"#;

/// A default as the newer majors print it back (15 and 18 do; 13 prints `X AT TIME ZONE 'UTC'` as the
/// function it calls); `scripts/pg-majors.sh 13` runs these tests there.
fn as_newer_majors_print(default: &str) -> String {
    default.replace(
        "timezone('UTC'::text, CURRENT_TIMESTAMP)",
        "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text)",
    )
}

#[test]
fn hostile_sqlite_plans_and_applies() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_file(dir.path(), "hostile.sqlite", HOSTILE);
    let plan = plan_default(&source);
    let pg = apply(&plan, &source);
    let decision = |table: &str, column: &str| {
        plan.decisions
            .iter()
            .find(|d| d.table == table && d.column == column)
            .unwrap_or_else(|| panic!("no decision for {table}.{column}"))
            .clone()
    };

    // Reserved words, spaces and unicode as identifiers; a collision after lowercasing.
    let types = pg.column_types("select");
    let names: Vec<&str> = types.iter().map(|(n, _, _)| n.as_str()).collect();
    assert!(
        names.starts_with(&["from", "order by", "ärger_2", "ärger", "qty"]),
        "{names:?}"
    );
    // `ärger` keeps its name; `Ärger`, which lowercasing changes, takes the suffix.
    assert!(!review_about(&plan, "column `select.Ärger`").is_empty());
    assert!(review_about(&plan, "column `select.ärger`").is_empty());

    // Types from the data.
    assert_eq!(pg.column_type("select", "qty").0, "text");
    let qty = decision("select", "qty");
    assert!(
        qty.widened && qty.flagged && qty.misfits == 1 && qty.examples == vec!["n/a".to_string()],
        "{qty:?}"
    );
    assert_eq!(
        pg.column_type("select", "created_at"),
        ("timestamp with time zone".into(), true)
    );
    assert_eq!(
        decision("select", "created_at").conversion,
        Some(Conversion::UnixSeconds)
    );
    assert_eq!(
        decision("select", "updated_ms").conversion,
        Some(Conversion::UnixMilliseconds)
    );
    assert_eq!(
        pg.column_type("select", "seen").0,
        "timestamp with time zone"
    );
    assert_eq!(pg.column_type("select", "is_active").0, "boolean");
    assert_eq!(pg.column_type("select", "doc").0, "jsonb");
    assert_eq!(decision("select", "doc").rule, "json.checked");
    assert_eq!(pg.column_type("select", "price").0, "double precision");
    assert_eq!(pg.column_type("select", "amount").0, "numeric(8,2)");
    assert_eq!(pg.column_type("select", "note").0, "bytea");
    assert_eq!(decision("select", "note").rule, "text.invalid_bytes");
    assert_eq!(pg.column_type("select", "flag").0, "boolean");
    assert_eq!(pg.column_type("pairs", "v").0, "bytea");

    // Defaults: translated, or flagged and left out.
    assert_eq!(
        pg.default_of("select", "order by").as_deref(),
        Some("'x'::text")
    );
    assert_eq!(
        pg.default_of("select", "created_at").as_deref(),
        Some("CURRENT_TIMESTAMP")
    );
    assert_eq!(
        pg.default_of("select", "is_active").as_deref(),
        Some("true")
    );
    assert_eq!(pg.default_of("select", "price").as_deref(), Some("1.5"));
    assert_eq!(pg.default_of("select", "amount").as_deref(), Some("0"));
    assert_eq!(pg.default_of("select", "flag").as_deref(), Some("true"));
    assert_eq!(
        pg.default_of("select", "negative").as_deref(),
        Some("'-1'::integer")
    );
    assert_eq!(
        pg.default_of("select", "word").as_deref(),
        Some("'now'::text")
    );
    let stamp = pg.default_of("select", "stamp").unwrap();
    assert_eq!(
        as_newer_majors_print(&stamp),
        "to_char((CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text)"
    );
    // A wall-clock column: SQLite's CURRENT_TIMESTAMP writes UTC wall-clock text.
    assert_eq!(
        pg.default_of("select", "stamp2")
            .map(|d| as_newer_majors_print(&d)),
        Some("(CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text)".to_string())
    );
    // SQLite stored the word 'now' in rows that took the default: the column stays text.
    assert_eq!(
        pg.default_of("select", "frozen").as_deref(),
        Some("'now'::text")
    );
    assert_eq!(pg.column_type("events", "at").0, "timestamp with time zone");
    assert_eq!(pg.column_type("events", "day").0, "date");
    assert_eq!(
        pg.column_type("events", "starts").0,
        "time without time zone"
    );
    assert!(pg
        .default_of("events", "starts")
        .unwrap()
        .ends_with("::time without time zone"));
    assert_eq!(pg.default_of("events", "at"), None);
    assert_eq!(
        as_newer_majors_print(&pg.default_of("events", "day").unwrap()),
        "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC'::text))::date"
    );
    assert_eq!(pg.default_of("select", "token"), None);
    assert!(review_about(&plan, "column `events.at`")
        .iter()
        .any(|r| r.message.contains("freeze")));
    assert!(review_about(&plan, "column `select.token`")
        .iter()
        .any(|r| r.sql.as_deref() == Some("DEFAULT lower(hex(randomblob(16)))")));

    // Identity above both max(id) = 4 and sqlite_sequence = 5.
    let identity = plan.table("select").unwrap().identity.clone().unwrap();
    assert_eq!(
        (identity.column.as_str(), identity.restart_with),
        ("from", 6)
    );

    // Generated columns: translated ones are generated in PostgreSQL, the other keeps values.
    let generated: Vec<String> =
        pg.query("SELECT attname::text AS a FROM pg_attribute WHERE attrelid = 'public.select'::regclass AND attgenerated = 's' ORDER BY attnum").iter().map(|r| r.get("a").unwrap()).collect();
    assert_eq!(generated, vec!["twice".to_string(), "label".into()]);
    assert!(plan
        .table("select")
        .unwrap()
        .map
        .columns
        .iter()
        .any(|c| c.source == "fancy"));
    assert!(!plan
        .table("select")
        .unwrap()
        .map
        .columns
        .iter()
        .any(|c| c.source == "twice"));
    let label: String = pg.scalar("SELECT label FROM \"select\" WHERE code = 'AbC'");
    assert_eq!(label, "ABC");

    // CHECKs: translated, implied by the type (dropped), or flagged.
    let checks = pg.constraints("select", "c");
    assert!(
        checks
            .iter()
            .any(|c| c.contains("\"order by\" <> ''::text")),
        "{checks:?}"
    );
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert!(review_about(&plan, "table `select`")
        .iter()
        .any(|r| r.message.starts_with("CHECK dropped")
            && r.sql.as_deref() == Some("is_active IN (0, 1)")));
    assert!(review_about(&plan, "table `select`")
        .iter()
        .any(|r| r.message.starts_with("CHECK not translated")
            && r.sql.as_deref().is_some_and(|s| s.contains("GLOB"))));

    // NOCASE unique becomes a unique ASCII lower() index; partial and expression indexes.
    let indexes = pg.indexes("select");
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("UNIQUE INDEX") && i.contains("lower((code COLLATE \"C\"))")),
        "{indexes:?}"
    );
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("select_lower_code") && i.contains("lower((code COLLATE \"C\"))")),
        "{indexes:?}"
    );
    assert!(
        indexes.iter().any(|i| i.contains("select_price_partial")
            && i.contains("price DESC")
            && i.contains("WHERE (price > ")),
        "{indexes:?}"
    );
    assert!(
        !indexes.iter().any(|i| i.contains("select_active_qty")),
        "{indexes:?}"
    );
    // GLOB is case-sensitive: LIKE under the "C" collation.
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("select_glob") && i.contains("~~ ('a%'::text COLLATE \"C\")")),
        "{indexes:?}"
    );

    // An index over text longer than a btree entry may hold is flagged, not dropped.
    assert!(review_about(&plan, "index `notes_body`")
        .iter()
        .any(|r| r.message.contains("4000 bytes")));

    // Long names are cut to 63 bytes, deterministically.
    let long = plan
        .tables
        .iter()
        .find(|t| t.map.source.starts_with("this_table"))
        .unwrap();
    assert!(long.map.target.len() <= 63 && long.map.columns.iter().all(|c| c.target.len() <= 63));
    assert_ne!(long.map.columns[0].target, long.map.columns[1].target);
    assert_eq!(
        plan_default(&source)
            .tables
            .iter()
            .find(|t| t.map.source.starts_with("this_table"))
            .unwrap()
            .map,
        long.map
    );

    // WITHOUT ROWID pages on its primary key.
    assert_eq!(
        plan.table("pairs").unwrap().map.key,
        SourceKey::PrimaryKey(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        pg.constraints("pairs", "p"),
        vec!["PRIMARY KEY (a, b)".to_string()]
    );

    // Self and cyclic foreign keys; the orphan makes the self key NOT VALID.
    let node_fk = &plan.table("node").unwrap().foreign_keys[0];
    assert_eq!((node_fk.orphan_rows, node_fk.not_valid), (1, true));
    let valid: Vec<(String, bool)> = pg
        .query("SELECT conname::text AS n, convalidated AS v FROM pg_constraint WHERE contype = 'f' ORDER BY conname")
        .iter()
        .map(|r| (r.get("n").unwrap(), r.get("v").unwrap()))
        .collect();
    assert_eq!(
        valid,
        vec![
            ("left_side_right_id_fkey".to_string(), true),
            ("node_parent_id_fkey".into(), false),
            ("right_side_left_id_fkey".into(), true)
        ]
    );
    assert!(pg.constraints("left_side", "f")[0].contains("DEFERRABLE INITIALLY DEFERRED"));
    assert!(pg.constraints("node", "f")[0].contains("ON DELETE SET NULL"));

    // Views: the portable one exists, the other is flagged with its SQL; triggers are listed.
    let active: i64 = pg.scalar("SELECT count(*) FROM active_codes");
    assert_eq!(active, 3);
    assert!(plan
        .views
        .iter()
        .any(|v| v.source == "from_missing" && v.sql.is_none()));
    assert!(
        indexes.iter().any(|i| i.contains("select_seen")
            && i.contains("WHERE ((seen IS NOT NULL) AND (is_active = true))")),
        "{indexes:?}"
    );
    let cheap: i64 = pg.scalar("SELECT count(*) FROM cheap");
    assert_eq!(cheap, 3);
    let names_view = plan.views.iter().find(|v| v.source == "names").unwrap();
    // group_concat becomes string_agg over the values' text.
    assert!(
        names_view.sql.as_ref().is_some_and(|sql| sql
            .to_string()
            .contains("string_agg(CAST(\"name\" AS text), ',')")),
        "{names_view:?}"
    );
    // The trigger becomes a PL/pgSQL function and trigger (issue 10).
    assert!(
        plan.views.iter().any(|o| o.source == "node_touch"
            && o.sql
                .as_ref()
                .is_some_and(|s| s.contains("CREATE TRIGGER \"node_touch\" AFTER UPDATE"))),
        "{:?}",
        plan.views
    );

    // FTS5: a table with a generated tsvector and a GIN index; shadow tables skipped.
    let hits: i64 =
        pg.scalar("SELECT count(*) FROM docs WHERE tsv @@ to_tsquery('english', 'dog')");
    assert_eq!(hits, 1);
    assert!(pg
        .indexes("docs")
        .iter()
        .any(|i| i.contains("USING gin (tsv)")));
    assert!(plan
        .tables
        .iter()
        .all(|t| !t.map.source.starts_with("docs_") && !t.map.source.starts_with("sqlite_")));
    assert!(review_about(&plan, "table `docs_data`")
        .iter()
        .any(|r| r.message.contains("shadow table")));
    assert!(review_about(&plan, "table `sqlite_stat1`")
        .iter()
        .any(|r| r.message.contains("statistics")));

    // The report shows widened columns with counts and examples.
    let text = render::render_text(&plan);
    assert!(
        text.contains("select.qty: INTEGER -> text  [widen.text]")
            && text.contains("examples: \"n/a\""),
        "{text}"
    );
}

#[test]
fn keep_case_keeps_names_and_schema_option_is_used() {
    let source = shared_fixture("chinook.sqlite");
    let options = PlanOptions {
        keep_case: true,
        target_schema: "Music Store".into(),
        tables: vec!["Art*".into(), "Album".into()],
        ..PlanOptions::default()
    };
    let plan = plan(&source, &options).unwrap();
    assert_eq!(
        plan.tables
            .iter()
            .map(|t| t.map.target.as_str())
            .collect::<Vec<_>>(),
        ["Album", "Artist"]
    );
    assert_eq!(
        plan.before,
        vec!["CREATE SCHEMA IF NOT EXISTS \"Music Store\"".to_string()]
    );
    let pg = apply(&plan, &source);
    let columns: Vec<String> = pg
        .query("SELECT column_name::text AS c FROM information_schema.columns WHERE table_schema = 'Music Store' AND table_name = 'Album' ORDER BY ordinal_position")
        .iter()
        .map(|r| r.get("c").unwrap())
        .collect();
    assert_eq!(
        columns,
        vec!["AlbumId".to_string(), "Title".into(), "ArtistId".into()]
    );
    let fks: i64 = pg.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = '\"Music Store\"'::regnamespace");
    assert_eq!(fks, 1);
}

#[test]
fn orphans_block_when_asked_to_fail() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_file(
        dir.path(),
        "orphans.sqlite",
        "CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id), q_id INTEGER, q_k TEXT, FOREIGN KEY (q_id, q_k) REFERENCES q(id, k));
         CREATE TABLE q (id INTEGER, k TEXT, PRIMARY KEY (id, k));
         INSERT INTO p VALUES (1); INSERT INTO q VALUES (1, 'a');
         INSERT INTO c VALUES (1, 1, 1, 'a'), (2, 7, 1, 'b'), (3, NULL, NULL, 'zz'), (4, 8, 2, NULL);",
    );
    let options = PlanOptions {
        on_orphans: OrphanPolicy::Fail,
        ..PlanOptions::default()
    };
    let plan = plan(&source, &options).unwrap();
    let fks = &plan.table("c").unwrap().foreign_keys;
    assert_eq!(
        fks.iter().map(|f| f.orphan_rows).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(plan.blocking().count(), 2);
    let guard = pg_db();
    let mut conn = diesel::PgConnection::establish(&guard.url).unwrap();
    for sql in plan
        .tables
        .iter()
        .flat_map(|t| t.create.iter().chain(&t.after_load))
    {
        conn.batch_execute(sql).unwrap();
    }
    conn.batch_execute("INSERT INTO p VALUES (1); INSERT INTO q VALUES (1, 'a'); INSERT INTO c VALUES (2, 7, 1, 'b')").unwrap();
    assert!(
        conn.batch_execute(&fks[0].sql).is_err(),
        "PostgreSQL accepted an orphan"
    );
}

/// Orphans are counted per row, keys compared byte for byte ('A' is not 'a'), a key repeated
/// on several rows counted on each.
#[test]
fn orphans_are_counted_per_row_with_text_keys_compared_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_file(
        dir.path(),
        "text-orphans.sqlite",
        "CREATE TABLE p (code TEXT PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT REFERENCES p(code));
         INSERT INTO p VALUES ('a'), ('1');
         INSERT INTO c (code) VALUES ('a'), ('a'), ('A'), ('b'), ('b'), (1), (NULL);",
    );
    let plan = plan(&source, &PlanOptions::default()).unwrap();
    let fks = &plan.table("c").unwrap().foreign_keys;
    assert_eq!(fks[0].orphan_rows, 3);
    assert!(fks[0].not_valid);
}

#[test]
fn files_that_are_not_sqlite_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut corrupt = b"SQLite format 3\0".to_vec();
    corrupt.extend(std::iter::repeat_n(0xAB, 8192));
    let cases = [
        (dir.path().join("missing.db"), "no such file"),
        (dir.path().to_path_buf(), "directory"),
        (write("empty.db", b""), "empty"),
        (
            write(
                "text.db",
                b"hello, this is not a database at all, just some text that is long enough\n",
            ),
            "header",
        ),
        (write("short.db", b"SQLite format 3\0abc"), "shorter"),
        (write("corrupt.db", &corrupt), ""),
    ];
    for (path, reason) in cases {
        match plan(&path, &PlanOptions::default()) {
            Err(Error::NotSqlite { reason: got, .. }) => assert!(
                got.contains(reason) && !got.contains('\n'),
                "{}: {got}",
                path.display()
            ),
            other => panic!("{}: expected NotSqlite, got {other:?}", path.display()),
        }
    }
}

#[test]
fn the_source_is_never_modified_and_wal_data_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.sqlite");
    let mut writer = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    writer
        .batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT);
             INSERT INTO t (at) VALUES ('2024-01-01 00:00:00'), ('2024-01-02 00:00:00');",
        )
        .unwrap();
    assert!(dir.path().join("wal.sqlite-wal").exists());
    let snapshot = |p: &Path| {
        (
            std::fs::read(p).unwrap(),
            std::fs::metadata(p).unwrap().modified().unwrap(),
        )
    };
    let before = snapshot(&path);
    let plan = plan_default(&path);
    assert_eq!(
        plan.table("t").unwrap().source_rows,
        2,
        "rows in the -wal file were not read"
    );
    assert_eq!(
        plan.decisions
            .iter()
            .find(|d| d.column == "at")
            .unwrap()
            .chosen,
        "timestamp"
    );
    assert!(
        before == snapshot(&path),
        "planning changed the source file"
    );
    drop(writer);

    // A read-only directory and file (as the shared fixtures are) plan too.
    let fixture = shared_fixture("chinook.sqlite");
    let before = snapshot(&fixture);
    plan_default(&fixture);
    assert!(before == snapshot(&fixture));
}

#[test]
fn plans_round_trip_through_toml_and_overrides_change_the_plan() {
    let source = shared_fixture("chinook.sqlite");
    let plan = plan_default(&source);
    let text = plan.to_toml();
    assert_eq!(Plan::from_toml(&text).unwrap(), plan);
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    assert_eq!(json["tables"][0]["map"]["target"], "album");

    // Edit the options in the file, as a user would, and plan again.
    let edited = text.replacen(
        "[options.overrides]\n",
        "[options.overrides.types]\n\"NVARCHAR(120)\" = \"varchar(120)\"\n[options.overrides.columns.\"Track.Composer\"]\ntype = \"citext\"\nname = \"written_by\"\n",
        1,
    );
    let replanned = Plan::from_toml(&edited).unwrap().replan(&source).unwrap();
    let track = replanned.table("Track").unwrap();
    let composer = track
        .map
        .columns
        .iter()
        .find(|c| c.source == "Composer")
        .unwrap();
    assert_eq!(
        (composer.target.as_str(), &composer.pg_type),
        ("written_by", &PgType::Citext)
    );
    let name = track
        .map
        .columns
        .iter()
        .find(|c| c.source == "Name")
        .unwrap();
    assert_eq!(name.pg_type, PgType::Text, "Track.Name is NVARCHAR(200)");
    let artist_name = replanned
        .table("Artist")
        .unwrap()
        .map
        .columns
        .iter()
        .find(|c| c.source == "Name")
        .unwrap();
    assert_eq!(artist_name.pg_type, PgType::Varchar(Some(120)));
    assert_eq!(
        replanned.before,
        vec!["CREATE EXTENSION IF NOT EXISTS citext".to_string()]
    );
    let pg = apply(&replanned, &source);
    assert_eq!(pg.column_type("track", "written_by").0, "citext");

    let bad = edited.replacen("type = \"citext\"", "type = \"text); DROP TABLE x; --\"", 1);
    let err = Plan::from_toml(&bad).unwrap().replan(&source).unwrap_err();
    assert!(err.to_string().contains("not a type name"), "{err}");
}

#[test]
fn profile_counts_match_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let source = bench_db(dir.path());
    let mut db = introspect::Source::open(&source).unwrap();
    let schema = introspect::introspect(&mut db).unwrap();
    let one = profile::profile(&mut db, &schema, 1).unwrap();
    let two = profile::profile(&mut db, &schema, 2).unwrap();
    assert_eq!(one, two);
    let sqlite = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&source))
        .unwrap();
    for table in &one {
        for column in &table.columns {
            let q = dbshift::dialect::quote_ident(&column.column).unwrap();
            let row = sqlite
                .query_one(
                    &format!(
                        "SELECT count(*) AS n, sum(typeof({q}) = 'null') AS nulls, sum(typeof({q}) = 'integer') AS i, sum(typeof({q}) = 'real') AS r, \
                         sum(typeof({q}) = 'text') AS t, sum(typeof({q}) = 'blob') AS b, min(CASE WHEN typeof({q}) = 'integer' THEN {q} END) AS lo, \
                         max(CASE WHEN typeof({q}) = 'integer' THEN {q} END) AS hi, sum(typeof({q}) = 'text' AND json_valid({q}) AND substr({q}, 1, 1) IN ('{{', '[')) AS docs \
                         FROM \"{}\"",
                        table.table
                    ),
                    &[],
                )
                .unwrap();
            let get = |c: &str| row.get::<Option<i64>, _>(c).unwrap().unwrap_or(0) as u64;
            assert_eq!(table.rows, get("n"), "{}", table.table);
            let what = format!("{}.{}", table.table, column.column);
            assert_eq!(
                (
                    column.nulls,
                    column.integers,
                    column.reals,
                    column.texts,
                    column.blobs
                ),
                (get("nulls"), get("i"), get("r"), get("t"), get("b")),
                "{what}"
            );
            assert_eq!(
                column.int_min,
                row.get::<Option<i64>, _>("lo").unwrap(),
                "{what}"
            );
            assert_eq!(
                column.int_max,
                row.get::<Option<i64>, _>("hi").unwrap(),
                "{what}"
            );
            assert_eq!(column.json_documents, get("docs"), "{what}");
        }
    }
}

/// Small schemas with one oddity each: every plan must run on PostgreSQL as it is, rows
/// included, whatever it had to flag.
const ODD_SCHEMAS: &[(&str, &str)] = &[
    ("keywords", "CREATE TABLE \"order\" (\"user\" TEXT, \"group\" INTEGER, \"limit\" REAL); INSERT INTO \"order\" VALUES ('a', 1, 1.5);"),
    (
        "checks",
        "CREATE TABLE c (a INTEGER CHECK (a BETWEEN 1 AND 10), b TEXT CHECK (CASE WHEN a > 5 THEN b IS NOT NULL ELSE 1 END), \
         d TEXT CHECK (b || d <> ''), e INTEGER CHECK (e IS NOT 3), f TEXT CHECK (f NOT LIKE 'x%'), g INTEGER CHECK (rowid > 0)); \
         INSERT INTO c VALUES (6, 'b', 'd', 4, 'y', 1);",
    ),
    (
        "defaults",
        "CREATE TABLE d (a BLOB DEFAULT 'abc', b NUMERIC DEFAULT '1.50', c REAL DEFAULT -0.5, e INTEGER DEFAULT (1 + 1), \
         f DATE DEFAULT '2024-01-01', g JSON DEFAULT '[]', h UUID DEFAULT '123e4567-e89b-12d3-a456-426614174000', i TEXT DEFAULT 1.5, \
         j BOOLEAN DEFAULT 'yes', k TEXT DEFAULT x'41', l INTEGER DEFAULT 99999999999999999999, m TEXT DEFAULT \"quoted\"); \
         INSERT INTO d (a) VALUES (x'00');",
    ),
    (
        "epoch_date",
        "CREATE TABLE e (day DATE DEFAULT (unixepoch()), seen_at INTEGER DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))); \
         INSERT INTO e VALUES (1700000000, 1700000000000);",
    ),
    (
        "empty_types",
        "CREATE TABLE t (a DATE, b JSON, c UUID, d DOUBLE PRECISION, e UNSIGNED BIG INT, f NVARCHAR(10), g CLOB, h NUMERIC, \
         i TINYINT(1), j TIME, k STRING, l, m DECIMAL(5,2), n BOOLEAN, o DATETIME, p BLOB);",
    ),
    (
        "nocase",
        "CREATE TABLE u (name TEXT COLLATE NOCASE, n INTEGER COLLATE NOCASE, tag TEXT, UNIQUE (name, tag), PRIMARY KEY (name, tag)); \
         CREATE INDEX u_n ON u (n COLLATE NOCASE DESC); CREATE INDEX u_r ON u (tag COLLATE RTRIM); INSERT INTO u VALUES ('A', 1, 'x');",
    ),
    (
        "null_pk",
        "CREATE TABLE p (code TEXT PRIMARY KEY, v INTEGER); INSERT INTO p VALUES (NULL, 1), (NULL, 2), ('a', 3); \
         CREATE TABLE q (id INTEGER PRIMARY KEY, code TEXT REFERENCES p(code)); INSERT INTO q VALUES (1, 'a');",
    ),
    (
        "fk_mismatch",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT); CREATE TABLE child (id INTEGER PRIMARY KEY, pcode TEXT REFERENCES parent(code), \
         pid REFERENCES PARENT, other INTEGER REFERENCES missing(id)); INSERT INTO parent VALUES (1, 'a'); INSERT INTO child VALUES (1, 'a', 1, 5);",
    ),
    (
        "composite_fk",
        "CREATE TABLE a (x INTEGER, y TEXT, PRIMARY KEY (x, y)); CREATE TABLE b (id INTEGER PRIMARY KEY, x INTEGER, y TEXT, \
         FOREIGN KEY (x, y) REFERENCES A ON DELETE CASCADE ON UPDATE RESTRICT); INSERT INTO a VALUES (1, 'a'); INSERT INTO b VALUES (1, 1, 'a'), (2, NULL, 'zz');",
    ),
    (
        "views",
        "CREATE TABLE m (id INTEGER PRIMARY KEY, name TEXT, done INTEGER, at TEXT); INSERT INTO m VALUES (1, 'a', 0, '2024-01-01 00:00:00'); \
         CREATE TABLE n (id INTEGER PRIMARY KEY, m_id INTEGER REFERENCES m(id), note TEXT); INSERT INTO n VALUES (1, 1, 'x'); \
         CREATE VIEW v1 AS SELECT m.name, count(n.id) AS notes FROM m LEFT JOIN n ON n.m_id = m.id GROUP BY m.name HAVING count(*) > 0; \
         CREATE VIEW v2 AS SELECT * FROM m WHERE id IN (SELECT m_id FROM n) UNION ALL SELECT * FROM m WHERE id > 100; \
         CREATE VIEW v3 AS SELECT CAST(id AS TEXT) || '-' || upper(name) AS label, CASE WHEN id > 1 THEN 'big' ELSE 'small' END AS size FROM m; \
         CREATE VIEW v4 AS SELECT strftime('%Y', at) AS year FROM m; CREATE VIEW v5 AS SELECT year FROM v4; \
         CREATE VIEW v6 AS SELECT name FROM m ORDER BY name LIMIT 1 OFFSET 0;",
    ),
    (
        "fts4",
        "CREATE VIRTUAL TABLE f4 USING fts4(title, body, notindexed=body); INSERT INTO f4 VALUES ('a title', 'a body'); \
         CREATE VIRTUAL TABLE ext USING fts5(body, content='n2', content_rowid='id'); CREATE TABLE n2 (id INTEGER PRIMARY KEY, body TEXT);",
    ),
    (
        "rtree",
        "CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx); INSERT INTO boxes VALUES (1, 0, 1);",
    ),
    (
        "generated",
        "CREATE TABLE g (a TEXT, b TEXT, c INTEGER, d TEXT AS (a || b) STORED, e INTEGER AS (c + 1), f AS (e * 2), h TEXT AS (a || c)); \
         INSERT INTO g (a, b, c) VALUES ('x', 'y', 1); \
         CREATE INDEX g_ab ON g (a || b); CREATE INDEX g_ac ON g (a || c);",
    ),
    (
        "strict_and_rowid_columns",
        "CREATE TABLE s (id INTEGER PRIMARY KEY, v ANY) STRICT; INSERT INTO s VALUES (1, 1), (2, 'two'); \
         CREATE TABLE r (rowid TEXT, oid TEXT, _rowid_ TEXT); INSERT INTO r VALUES ('a', 'b', 'c');",
    ),
    (
        "affinity",
        "CREATE TABLE af (code TEXT CHECK (code <> 5 AND code IN ('a', 1)), n INTEGER CHECK (n <> ''), x REAL CHECK (x % 2 = 0 OR x IS NULL)); \
         INSERT INTO af VALUES ('a', 1, NULL); \
         CREATE VIEW af_v AS SELECT coalesce(code, '') AS c FROM af WHERE af.code = 1 OR code = 'a'; \
         CREATE VIEW af_w AS SELECT ifnull(n, '') AS n FROM af;",
    ),
    (
        "unique_after_conversion",
        "CREATE TABLE slots (at DATETIME UNIQUE, label TEXT); \
         INSERT INTO slots VALUES ('2024-01-01 10:00:00', 'a'), ('2024-01-01T10:00:00Z', 'b'), ('2024-01-01 10:00:00.000001', 'c'); \
         CREATE TABLE flags (name TEXT, on_off BOOLEAN, UNIQUE (name, on_off)); INSERT INTO flags VALUES ('x', 't'), ('x', 'false'), ('y', 1);",
    ),
    (
        "quotes_in_names",
        "CREATE TABLE \"we\"\"ird\" (\"co\"\"l\" INTEGER PRIMARY KEY, [sq] TEXT, `bt` TEXT); INSERT INTO \"we\"\"ird\" VALUES (1, 'a', 'b'); \
         CREATE INDEX \"i\"\"x\" ON \"we\"\"ird\" (\"co\"\"l\", sq);",
    ),
];

#[test]
fn odd_schemas_plan_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in ODD_SCHEMAS {
        let source = sqlite_file(dir.path(), &format!("{name}.sqlite"), sql);
        let plan = plan(&source, &PlanOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if *name == "unique_after_conversion" {
            // The instant written two ways keeps its texts apart as text, and the plan runs.
            assert_eq!(plan.blocking().count(), 0, "{:#?}", plan.review);
            let at = plan.decisions.iter().find(|d| d.column == "at").unwrap();
            assert_eq!(
                (at.chosen.as_str(), at.rule.as_str()),
                ("text", "key.typed_collision")
            );
        }
        assert_eq!(plan.blocking().count(), 0, "{name}");
        let pg = apply(&plan, &source);
        match *name {
            "checks" => {
                let checks = pg.constraints("c", "c");
                assert_eq!(checks.len(), 4, "{checks:?}");
                assert!(
                    checks.iter().any(|c| c.contains("(a >= 1) AND (a <= 10)")),
                    "{checks:?}"
                );
                assert!(review_about(&plan, "table `c`")
                    .iter()
                    .any(|r| r.message.contains("CASE")));
                assert!(
                    checks.iter().any(|c| c.contains("IS DISTINCT FROM 3")),
                    "{checks:?}"
                );
                assert!(checks.iter().any(|c| c.contains("!~~*")), "{checks:?}");
                assert!(review_about(&plan, "table `c`")
                    .iter()
                    .any(|r| r.sql.as_deref() == Some("rowid > 0")));
            }
            "defaults" => {
                assert_eq!(
                    pg.default_of("d", "a").as_deref(),
                    Some("'\\x616263'::bytea")
                );
                assert_eq!(
                    pg.default_of("d", "j").as_deref(),
                    Some("true"),
                    "the row holds 'yes': a boolean"
                );
                assert_eq!(pg.default_of("d", "m").as_deref(), Some("'quoted'::text"));
                // A constant expression is evaluated as SQLite does (issue 10).
                assert_eq!(pg.default_of("d", "e").as_deref(), Some("2"));
            }
            "epoch_date" => {
                assert_eq!(pg.column_type("e", "day").0, "timestamp with time zone");
                assert_eq!(
                    pg.default_of("e", "day").as_deref(),
                    Some("CURRENT_TIMESTAMP")
                );
                assert_eq!(
                    pg.default_of("e", "seen_at").as_deref(),
                    Some("CURRENT_TIMESTAMP")
                );
                let day: String = pg.scalar(
                    "SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM e",
                );
                assert_eq!(day, "2023-11-14 22:13:20");
            }
            "empty_types" => {
                let types: Vec<String> = pg
                    .column_types("t")
                    .into_iter()
                    .map(|(_, t, _)| t)
                    .collect();
                assert_eq!(
                    types,
                    [
                        "date",
                        "jsonb",
                        "uuid",
                        "double precision",
                        "bigint",
                        "text",
                        "text",
                        "numeric",
                        "boolean",
                        "time without time zone",
                        "text",
                        "text",
                        "numeric(5,2)",
                        "boolean",
                        "timestamp with time zone",
                        "bytea"
                    ]
                );
            }
            "nocase" => {
                let indexes = pg.indexes("u");
                assert!(
                    indexes.iter().any(|i| i.contains("UNIQUE")
                        && i.contains("(lower((name COLLATE \"C\")), tag)")),
                    "{indexes:?}"
                );
                assert!(
                    indexes
                        .iter()
                        .any(|i| i.contains("u_n") && i.contains("(n DESC)")),
                    "{indexes:?}"
                );
                assert!(
                    indexes
                        .iter()
                        .any(|i| i.contains("u_r") && i.contains("rtrim(tag)")),
                    "{indexes:?}"
                );
                assert_eq!(pg.constraints("u", "p").len(), 1);
            }
            "null_pk" => {
                assert!(pg.constraints("p", "p").is_empty());
                assert!(pg
                    .indexes("p")
                    .iter()
                    .any(|i| i.contains("UNIQUE") && i.contains("(code)")));
                assert_eq!(pg.constraints("q", "f").len(), 1);
            }
            "fk_mismatch" => {
                assert!(
                    pg.constraints("child", "f").len() == 1,
                    "only pid -> parent(id) can be created"
                );
                assert_eq!(
                    review_about(&plan, "foreign key `child").len(),
                    2,
                    "{:#?}",
                    plan.review
                );
            }
            "composite_fk" => {
                assert_eq!(pg.constraints("b", "f"), vec!["FOREIGN KEY (x, y) REFERENCES a(x, y) ON UPDATE RESTRICT ON DELETE CASCADE".to_string()]);
                assert_eq!(
                    plan.table("b").unwrap().foreign_keys[0].orphan_rows,
                    0,
                    "rows with a NULL key part are not orphans"
                );
            }
            "views" => {
                let created: Vec<&str> = plan
                    .views
                    .iter()
                    .filter(|v| v.sql.is_some())
                    .map(|v| v.source.as_str())
                    .collect();
                assert_eq!(created, ["v1", "v2", "v3", "v6"]);
                let label: String = pg.scalar("SELECT label FROM v3");
                assert_eq!(label, "1-A");
                assert!(plan
                    .views
                    .iter()
                    .any(|v| v.source == "v5" && v.note.contains("v4")));
            }
            "fts4" => {
                assert_eq!(
                    plan.tables
                        .iter()
                        .map(|t| t.map.source.as_str())
                        .collect::<Vec<_>>(),
                    ["f4", "n2"]
                );
                let hits: i64 =
                    pg.scalar("SELECT count(*) FROM f4 WHERE tsv @@ to_tsquery('simple', 'title')");
                assert_eq!(hits, 1);
                let body_indexed: i64 =
                    pg.scalar("SELECT count(*) FROM f4 WHERE tsv @@ to_tsquery('simple', 'body')");
                assert_eq!(body_indexed, 0, "notindexed=body");
                assert!(review_about(&plan, "virtual table `ext`").len() == 1);
            }
            "rtree" => {
                // Carried as a plain table with its rows (issue 10).
                assert_eq!(plan.tables.len(), 1);
                assert!(review_about(&plan, "table `boxes`")
                    .iter()
                    .any(|r| r.message.contains("rtree")));
                let rows: i64 = pg.scalar("SELECT count(*) FROM boxes WHERE minx = 0 AND maxx = 1");
                assert_eq!(rows, 1);
            }
            "generated" => {
                let d: String = pg.scalar("SELECT d FROM g");
                assert_eq!(d, "xy");
                let generated: i64 = pg.scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.g'::regclass AND attgenerated = 's'");
                assert_eq!(
                    generated, 3,
                    "d, e and f (which reads e's expression); h concatenates an integer"
                );
                let f: i64 = pg.scalar("SELECT f FROM g");
                assert_eq!(f, 4);
                let indexes = pg.indexes("g");
                assert!(
                    indexes.iter().any(|i| i.contains("g_ab"))
                        && !indexes.iter().any(|i| i.contains("g_ac")),
                    "{indexes:?}"
                );
            }
            "strict_and_rowid_columns" => {
                assert_eq!(pg.column_type("s", "v").0, "text");
                assert!(review_about(&plan, "table `r`")
                    .iter()
                    .any(|r| r.message.contains("hide the rowid")));
            }
            "affinity" => {
                assert_eq!(pg.constraints("af", "c"), vec!["CHECK (((code <> '5'::text) AND (code = ANY (ARRAY['a'::text, '1'::text]))))".to_string()]);
                assert_eq!(
                    review_about(&plan, "table `af`")
                        .iter()
                        .filter(|r| r.severity == Severity::Warning)
                        .count(),
                    2,
                    "{:#?}",
                    plan.review
                );
                let rows: i64 = pg.scalar("SELECT count(*) FROM af_v");
                assert_eq!(rows, 1);
                assert!(plan
                    .views
                    .iter()
                    .any(|v| v.source == "af_w" && v.sql.is_none()));
            }
            "quotes_in_names" => {
                assert!(pg
                    .indexes("we\"ird")
                    .iter()
                    .any(|i| i.contains("\"i\"\"x\"")));
            }
            _ => {}
        }
    }
}

#[test]
fn the_profile_is_the_same_however_its_units_are_spread_over_threads() {
    // Rowids far apart make every row a unit of its own, so threads take them in varying
    // order; the examples (and everything else) must not depend on that.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.sqlite");
    let mut sql = String::from("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n);");
    for i in 0..40i64 {
        sql.push_str(&format!(
            "INSERT INTO t VALUES ({}, 'value {i}', {});",
            1 + i * 150_000,
            if i % 3 == 0 {
                format!("'{i}x'")
            } else {
                i.to_string()
            }
        ));
    }
    let status = std::process::Command::new("sqlite3")
        .arg(&path)
        .arg(&sql)
        .status()
        .unwrap();
    assert!(status.success());
    let mut db = introspect::Source::open(&path).unwrap();
    let schema = introspect::introspect(&mut db).unwrap();
    let first = profile::profile(&mut db, &schema, 1).unwrap();
    assert!(
        first[0].columns.iter().any(|c| !c.examples.is_empty()),
        "the profile keeps examples: {first:?}"
    );
    for threads in [2, 3, 2, 3, 2] {
        assert_eq!(
            profile::profile(&mut db, &schema, threads).unwrap(),
            first,
            "{threads} threads"
        );
    }
}
