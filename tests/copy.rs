//! The row copier and verification on real databases, below the orchestration: one table,
//! hand-made maps, every storage class in the way.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::support::{pg_db, sqlite_db};
use dbshift::transfer::load::copy::{copy_table, TableJob};
use dbshift::transfer::load::verify::{rejected_keys, verify_table};
use dbshift::transfer::model::{ColumnMap, PgType, SourceKey, TableMap, ValuePolicy};
use dbshift::transfer::plan::Statement;

fn column(name: &str, pg_type: PgType) -> ColumnMap {
    ColumnMap {
        source: name.into(),
        target: name.into(),
        pg_type,
        not_null: false,
        policy: ValuePolicy::Reject,
        conversion: None,
        json_profiled: false,
    }
}

fn things_map() -> TableMap {
    TableMap {
        source: "things".into(),
        target_schema: "public".into(),
        target: "things".into(),
        key: SourceKey::Rowid,
        generated: Vec::new(),
        columns: vec![
            column("id", PgType::BigInt),
            column("name", PgType::Text),
            column("score", PgType::Double),
            column("flag", PgType::Boolean),
            column("at", PgType::Timestamptz),
            column("doc", PgType::Jsonb),
            column("raw", PgType::Bytea),
        ],
    }
}

const CREATE_PG: &str = "CREATE TABLE things (id bigint, name text, score double precision, flag boolean, at timestamptz, doc jsonb, raw bytea)";

fn source_with_rows(n: i64) -> crate::support::SqliteDb {
    let db = sqlite_db();
    let mut conn = SqliteConnection::establish(db.path.to_str().unwrap()).unwrap();
    conn.batch_execute(&format!(
        "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, score REAL, flag BOOLEAN, at DATETIME, doc JSON, raw BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO things SELECT i * 3, 'name ' || i || char(9) || '\\', i / 7.0, i % 2,
             datetime(1700000000 + i, 'unixepoch'), json_object('i', i, 'tags', json_array('a', 'b')), randomblob(i % 50) FROM n;
         INSERT INTO things VALUES (-9223372036854775808, NULL, -0.0, NULL, '2024-01-01T10:00:00+02:00', '[]', x'');
         INSERT INTO things VALUES (9223372036854775807, 'emoji 🦀 and é', 1e308, 1, '2024-02-29 23:59:59.999999', '{{\"b\": 1, \"a\": [1e2]}}', x'00ff');
         INSERT INTO things VALUES (5, CAST(x'61006200' AS TEXT), 'not a number', 2, 'yesterday', '{{bad json', 12);
         INSERT INTO things VALUES (7, CAST(x'61006200' AS TEXT), 1.5, 0, '2024-01-01', '{{}}', x'01');"
    ))
    .unwrap();
    db
}

fn source_columns() -> Vec<String> {
    ["id", "name", "score", "flag", "at", "doc", "raw"]
        .map(String::from)
        .to_vec()
}

#[test]
fn copies_verifies_and_rejects_with_reasons() {
    let source = source_with_rows(2000);
    let target = pg_db();
    let mut conn = PgConnection::establish(&target.url).unwrap();
    let rejects = tempfile::tempdir().unwrap();
    let map = things_map();
    let columns = source_columns();
    let before = vec![Statement::from(CREATE_PG)];
    let job = TableJob {
        source_path: &source.path,
        map: &map,
        source_columns: &columns,
        before: &before,
        after: &[],
        freeze: true,
        reject_dir: Some(rejects.path()),
        progress: &|_| {},
        checksum: None,
        range: None,
    };
    let stats = copy_table(&mut conn, &job).unwrap();
    assert_eq!(stats.rows_read, 2004);
    assert_eq!(stats.rows_written, 2002);
    assert_eq!(stats.rows_rejected, 2);
    assert!(!stats.isolated);
    let file = stats.reject_file.expect("a reject file");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let reject: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(reject["table"], "things");
    assert_eq!(reject["action"], "rejected");
    assert_eq!(reject["key"]["rowid"], 5);
    assert_eq!(reject["column"], "name");
    assert!(
        reject["reason"].as_str().unwrap().contains("NUL"),
        "{reject}"
    );
    assert_eq!(reject["row"]["score"], "not a number");
    // The values that arrived, read by the shells, with the mapping written here: booleans 0/1
    // as f/t, blobs as bytea's hex, JSON by its member; the two NUL rows (5 and 7) are absent.
    crate::support::independent::assert_same_rows(
        "things",
        &source.path,
        "SELECT id, name, CASE flag WHEN 1 THEN 't' WHEN 0 THEN 'f' END, '\\x' || lower(hex(raw)), \
         json_extract(doc, '$.i'), json_extract(doc, '$.tags[1]') FROM things WHERE id NOT IN (5, 7) ORDER BY id",
        &target.url,
        "SELECT id, name, flag, raw, doc ->> 'i', doc -> 'tags' ->> 1 FROM things ORDER BY id",
    );

    let skip = rejected_keys(rejects.path()).unwrap();
    let check = verify_table(
        &mut conn,
        &source.path,
        &map,
        &columns,
        Some("id"),
        skip.get("things"),
    )
    .unwrap();
    assert!(check.ok(), "{check:?}");
    assert_eq!(check.source_rows, 2002);

    // A changed value is found and named, not only a missing row.
    conn.batch_execute("UPDATE things SET score = score + 1e-9 WHERE id = 30")
        .unwrap();
    let check = verify_table(
        &mut conn,
        &source.path,
        &map,
        &columns,
        Some("id"),
        skip.get("things"),
    )
    .unwrap();
    assert!(!check.ok());
    assert_eq!(check.differences.len(), 1, "{check:?}");
    assert_eq!(check.differences[0].column.as_deref(), Some("score"));
    assert!(check.differences[0].key.is_some());

    // A missing row too, also without a key column.
    conn.batch_execute("DELETE FROM things WHERE id = 60")
        .unwrap();
    let check = verify_table(
        &mut conn,
        &source.path,
        &map,
        &columns,
        None,
        skip.get("things"),
    )
    .unwrap();
    assert_eq!(check.target_rows, 2001);
    assert!(
        check
            .differences
            .iter()
            .any(|d| d.what.contains("no identical row")),
        "{check:?}"
    );
}

#[test]
fn server_refusals_are_isolated_to_the_rows_that_cause_them() {
    let source = source_with_rows(3000);
    let target = pg_db();
    let mut conn = PgConnection::establish(&target.url).unwrap();
    let rejects = tempfile::tempdir().unwrap();
    let mut map = things_map();
    map.columns[1].policy = ValuePolicy::Escape;
    let columns = source_columns();
    // A CHECK the converter knows nothing about: only the server can refuse these rows.
    let before = vec![Statement::from(format!(
        "{CREATE_PG}; ALTER TABLE things ADD CHECK (id % 1000 <> 0)"
    ))];
    let job = TableJob {
        source_path: &source.path,
        map: &map,
        source_columns: &columns,
        before: &before,
        after: &[],
        freeze: false,
        reject_dir: Some(rejects.path()),
        progress: &|_| {},
        checksum: None,
        range: None,
    };
    let stats = copy_table(&mut conn, &job).unwrap();
    assert!(stats.isolated);
    // ids 3*i divisible by 1000 for i in 1..=3000: 3000, 6000, 9000 -> 3 rows refused by the
    // server; row 5 refused by the converter (its score is text); row 7's name repaired.
    assert_eq!(stats.rows_rejected, 4, "{stats:?}");
    assert_eq!(stats.values_repaired, 1);
    assert_eq!(stats.rows_written, 3000);
    let lines = std::fs::read_to_string(stats.reject_file.unwrap()).unwrap();
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains("check constraint"))
            .count(),
        3,
        "{lines}"
    );
    let name: String =
        diesel::dsl::sql::<diesel::sql_types::Text>("SELECT name FROM things WHERE id = 7")
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(name, "a\\x00b\\x00");
    // Every other row arrived with its values; row 7's name as escaped text.
    crate::support::independent::assert_same_rows(
        "things",
        &source.path,
        "SELECT id, CASE id WHEN 7 THEN 'a\\x00b\\x00' ELSE name END, \
         CASE flag WHEN 1 THEN 't' WHEN 0 THEN 'f' END, '\\x' || lower(hex(raw)) FROM things \
         WHERE id NOT IN (5, 3000, 6000, 9000) ORDER BY id",
        &target.url,
        "SELECT id, name, flag, raw FROM things ORDER BY id",
    );
    let skip = rejected_keys(rejects.path()).unwrap();
    let check = verify_table(
        &mut conn,
        &source.path,
        &map,
        &columns,
        Some("id"),
        skip.get("things"),
    )
    .unwrap();
    assert!(check.ok(), "{check:?}");
}
