//! Virtual tables carried, not skipped: an R*Tree table arrives as a plain table with every
//! row, keyed by its id and indexed for range queries, and verification counts its rows; read
//! back through the `sqlite3` shell and `psql`.

use crate::support::independent::{pg_rows, sqlite_rows};
use crate::support::{exits, pg_db, run, sqlite_db};

#[test]
fn an_rtree_table_arrives_with_its_rows_and_a_range_index() {
    let source = sqlite_db();
    let mut rows = String::new();
    for id in 1..=650 {
        let x = f64::from(id) * 1.5;
        rows.push_str(&format!(
            "INSERT INTO boxes VALUES ({id}, {x}, {}, {}, {}, 'box {id}');\n",
            x + 2.25,
            -x,
            -x + 0.1
        ));
    }
    source.exec(&format!(
        "CREATE VIRTUAL TABLE boxes USING rtree(id, min_x, max_x, min_y, max_y, +label);
         CREATE VIRTUAL TABLE cells USING rtree_i32(id, lo, hi);
         INSERT INTO cells VALUES (1, -5, 5), (2, 100, 200);
         {rows}"
    ));
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    assert!(!text.contains("not carried"), "{text}");
    // Every row, every coordinate (SQLite's R*Tree keeps 32-bit floats; the values as SQLite
    // returns them arrive unchanged).
    // The shell prints 15 digits; 17 give each double exactly, compared as numbers.
    let numbers = |rows: Vec<Vec<Option<String>>>| -> Vec<Vec<Option<f64>>> {
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| cell.and_then(|c| c.parse().ok()))
                    .collect()
            })
            .collect()
    };
    let expected = numbers(sqlite_rows(
        &source.path,
        "SELECT id, printf('%!.17g', min_x), printf('%!.17g', max_x), printf('%!.17g', min_y), printf('%!.17g', max_y) FROM boxes ORDER BY id",
    ));
    assert_eq!(expected.len(), 650);
    assert_eq!(
        numbers(pg_rows(
            &target.url,
            "SELECT id, min_x, max_x, min_y, max_y FROM boxes ORDER BY id"
        )),
        expected
    );
    let read = "SELECT id, label FROM boxes ORDER BY id";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
    let read = "SELECT id, lo, hi FROM cells ORDER BY id";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
    // A range query gives the same ids on both sides.
    let range = "SELECT id FROM boxes WHERE min_x <= 100 AND max_x >= 90 ORDER BY id";
    assert_eq!(
        pg_rows(&target.url, range),
        sqlite_rows(&source.path, range)
    );
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'boxes'::regclass AND attname IN ('id', 'min_x', 'label') ORDER BY attnum"
        ),
        // The id's integer type is chosen by its values, as for any integer key.
        [
            [Some("integer".to_string())],
            [Some("double precision".to_string())],
            [Some("text".to_string())]
        ]
    );
    let indexes = pg_rows(
        &target.url,
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'boxes' ORDER BY indexname",
    );
    let indexes: Vec<String> = indexes.into_iter().filter_map(|r| r[0].clone()).collect();
    assert!(
        indexes.iter().any(|i| i.contains("(min_x, max_x)")),
        "{indexes:?}"
    );
    assert!(
        indexes.iter().any(|i| i.contains("(min_y, max_y)")),
        "{indexes:?}"
    );
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("UNIQUE") && i.contains("(id)")),
        "{indexes:?}"
    );
    // Verification counts the carried rows: a row lost in the target is caught by name.
    target.exec("DELETE FROM boxes WHERE id = 600");
    let output = run(dir.path(), &["verify", &url, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("boxes"), "{text}");
    assert!(text.contains("verification: FAILED"), "{text}");
}

#[test]
fn an_external_content_fts_table_indexes_its_content_table_and_keeps_its_name_as_a_view() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT, stars INTEGER);
         CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', content_rowid='id');
         CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
             INSERT INTO docs_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
         END;
         CREATE TRIGGER docs_ad AFTER DELETE ON docs BEGIN
             INSERT INTO docs_fts (docs_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
         END;
         INSERT INTO docs VALUES (1, 'Hello world', 'first post', 3), (2, 'Second', 'hello again', NULL),
             (3, 'Third', NULL, 1), (4, NULL, 'nothing here', 0);",
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    assert!(!text.contains("not carried"), "{text}");
    // The view named like the full-text table reads the content rows.
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT rowid, title, body FROM docs_fts ORDER BY rowid"
        ),
        sqlite_rows(
            &source.path,
            "SELECT rowid, title, body FROM docs_fts ORDER BY rowid"
        )
    );
    // A search finds the same rows as SQLite's MATCH.
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT rowid FROM docs_fts WHERE docs_fts_tsv @@ websearch_to_tsquery('simple', 'hello') ORDER BY rowid"
        ),
        sqlite_rows(
            &source.path,
            "SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'hello' ORDER BY rowid"
        )
    );
    // The maintenance triggers are not needed: the generated column follows new rows.
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        ),
        [[Some("0".to_string())]]
    );
    target.exec("INSERT INTO docs (id, title, body) VALUES (5, 'new', 'Hello from PostgreSQL')");
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT rowid FROM docs_fts WHERE docs_fts_tsv @@ websearch_to_tsquery('simple', 'hello') ORDER BY rowid"
        ),
        [
            [Some("1".to_string())],
            [Some("2".to_string())],
            [Some("5".to_string())]
        ]
    );
    let indexes = pg_rows(
        &target.url,
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'docs' AND indexdef LIKE '%USING gin%'",
    );
    assert_eq!(indexes.len(), 1, "{indexes:?}");
}
