//! The application schema: both migration directories in step and in diesel CLI's layout, and
//! up, down, up on both databases.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{backend, Kind};
use dbshift::{Backend, Dialect};

const VERSIONS: [&str; 2] = ["20260101000000", "20260101000100"];
const TABLES: [&str; 4] = ["mission_events", "mission_tags", "missions", "tags"];

/// The migration folders of one dialect, each checked for diesel CLI's layout.
fn folders(dir: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(entry.path().is_dir(), "{dir}/{name} is not a folder");
        // YYYY-MM-DD-HHMMSS_name, as diesel CLI reads them.
        let (stamp, label) = name
            .split_once('_')
            .unwrap_or_else(|| panic!("{dir}/{name}: no `_name` part"));
        let shape_ok = stamp.len() == 17
            && stamp.char_indices().all(|(i, c)| {
                if [4, 7, 10].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        assert!(shape_ok, "{dir}/{name}: expected YYYY-MM-DD-HHMMSS_name");
        assert!(
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{dir}/{name}"
        );
        for file in ["up.sql", "down.sql"] {
            let text = std::fs::read_to_string(entry.path().join(file))
                .unwrap_or_else(|e| panic!("{dir}/{name}/{file}: {e}"));
            assert!(!text.trim().is_empty(), "{dir}/{name}/{file} is empty");
        }
        names.insert(name);
    }
    names
}

#[test]
fn both_directories_hold_the_same_versions_in_diesel_layout() {
    let sqlite = folders("migrations_sqlite");
    let postgres = folders("migrations_postgres");
    assert_eq!(
        sqlite, postgres,
        "the dialect directories must stay in step"
    );
    let versions: Vec<String> = sqlite
        .iter()
        .map(|name| name[..17].replace('-', ""))
        .collect();
    assert_eq!(versions, VERSIONS);
}

/// The application's tables (and, on PostgreSQL, enum types) present in the database.
fn schema_objects(db: &dyn Backend) -> Vec<String> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                            AND name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' ORDER BY name",
        Dialect::Postgres => "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' \
                              AND table_name NOT LIKE '\\_\\_diesel%' \
                              UNION ALL SELECT typname::text FROM pg_type WHERE typname IN ('mission_status', 'mission_priority') ORDER BY name",
    };
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get("name").unwrap())
        .collect()
}

both_backends! {
    fn migrations_go_up_down_and_up_again(kind) {
        let db = backend(kind);
        assert_eq!(db.pending_migrations().unwrap(), VERSIONS);
        assert!(db.applied_migrations().unwrap().is_empty());
        assert!(schema_objects(&*db).is_empty());

        assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
        let mut expected: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        if kind == Kind::Postgres {
            expected.extend(["mission_priority".to_string(), "mission_status".into()]);
            expected.sort();
        }
        assert_eq!(schema_objects(&*db), expected);
        assert!(db.run_pending_migrations().unwrap().is_empty());
        assert!(db.pending_migrations().unwrap().is_empty());
        assert_eq!(db.applied_migrations().unwrap(), VERSIONS);

        assert_eq!(db.revert_last_migration().unwrap().as_deref(), Some(VERSIONS[1]));
        assert_eq!(db.pending_migrations().unwrap(), [VERSIONS[1]]);
        assert!(!schema_objects(&*db).contains(&"tags".to_string()));
        assert!(db.query("SELECT 1 FROM tags", &[]).is_err());
        assert_eq!(db.revert_last_migration().unwrap().as_deref(), Some(VERSIONS[0]));
        assert_eq!(db.revert_last_migration().unwrap(), None);
        assert!(schema_objects(&*db).is_empty(), "down.sql leaves nothing behind");

        assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
        assert_eq!(schema_objects(&*db), expected);
        db.execute("INSERT INTO missions (title) VALUES ($1)", &["after up, down, up".into()]).unwrap();
        let row = db.query_one("SELECT title, status, priority, progress FROM missions", &[]).unwrap();
        assert_eq!(row.get::<String, _>("status").unwrap(), "draft");
        assert_eq!(row.get::<String, _>("priority").unwrap(), "medium");
        assert_eq!(row.get::<i64, _>("progress").unwrap(), 0);
    }
}
