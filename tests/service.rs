//! A small service built on dbshift's public API alone, as a separate crate would use it: its
//! own migration directories (`tests/service/`), given by a config file or compiled in, run,
//! listed and reverted on both databases; and diesel CLI's bookkeeping, reproduced with the
//! library diesel CLI itself calls (`diesel_migrations`' `FileBasedMigrations` and
//! `MigrationHarness`), agreeing with dbshift's both ways.

use std::path::{Path, PathBuf};

mod diesel_cli;

use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::support::{config, Guard, Kind};
use dbshift::{Backend, DbConfig, Dialect, EmbeddedMigration, Migrations, Registry};

const COUNTERS: &str = "20260202000000";
const VERSIONS: [&str; 2] = ["20260201000000", COUNTERS];

const SQLITE: &[EmbeddedMigration] = dbshift::embed_migrations!(
    "tests/service/migrations_sqlite",
    [
        "2026-02-01-000000_create_counters",
        "2026-02-02-000000_create_notes"
    ]
);
const POSTGRES: &[EmbeddedMigration] = dbshift::embed_migrations!(
    "tests/service/migrations_postgres",
    [
        "2026-02-01-000000_create_counters",
        "2026-02-02-000000_create_notes"
    ]
);

/// The service's migration directory of one dialect, in the source tree.
pub fn migrations_dir(dialect: Dialect) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/service")
        .join(format!("migrations_{dialect}"))
}

fn dialect(kind: Kind) -> Dialect {
    match kind {
        Kind::Sqlite => Dialect::Sqlite,
        Kind::Postgres => Dialect::Postgres,
    }
}

/// Copies a directory tree (the migration folders) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A service's own folder: `service.toml` naming the test database and the migration
/// directories by relative paths, which are resolved against the file, not the working
/// directory (the tests never change it).
pub fn service_config(kind: Kind) -> (DbConfig, Guard, tempfile::TempDir) {
    let (db_config, guard) = config(kind);
    let folder = tempfile::tempdir().unwrap();
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        copy_tree(
            &migrations_dir(dialect),
            &folder.path().join(format!("schema/{dialect}")),
        );
    }
    let path = folder.path().join("service.toml");
    std::fs::write(
        &path,
        format!(
            "url = {:?}\n[migrations]\nsqlite = \"schema/sqlite\"\npostgres = \"schema/postgres\"\n",
            db_config.url.expose()
        ),
    )
    .unwrap();
    (DbConfig::from_file(&path).unwrap(), guard, folder)
}

/// The user tables of the database, without diesel's bookkeeping.
fn tables(db: &dyn Backend) -> Vec<String> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                            AND name <> '__diesel_schema_migrations' ORDER BY name",
        Dialect::Postgres => "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' \
                              AND table_name <> '__diesel_schema_migrations' ORDER BY name",
    };
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get("name").unwrap())
        .collect()
}

/// Run, list, revert one by one, and run again: what `dbshift migrations` does.
fn run_list_revert(db: &dyn Backend) {
    assert_eq!(db.pending_migrations().unwrap(), VERSIONS);
    assert!(tables(db).is_empty());
    assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
    assert_eq!(
        tables(db),
        ["counters", "notes"],
        "the service's tables, not missions"
    );
    assert_eq!(db.applied_migrations().unwrap(), VERSIONS);
    assert!(db.pending_migrations().unwrap().is_empty());
    assert!(db.run_pending_migrations().unwrap().is_empty());

    assert_eq!(
        db.revert_last_migration().unwrap().as_deref(),
        Some(COUNTERS)
    );
    assert_eq!(tables(db), ["counters"]);
    assert_eq!(db.pending_migrations().unwrap(), [COUNTERS]);
    assert_eq!(
        db.revert_last_migration().unwrap().as_deref(),
        Some(VERSIONS[0])
    );
    assert_eq!(db.revert_last_migration().unwrap(), None);
    assert!(tables(db).is_empty());
    assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
    db.execute(
        "INSERT INTO counters (name, value) VALUES ($1, $2)",
        &["hits".into(), 1.into()],
    )
    .unwrap();
}

/// Runs `$body` with `$conn` a diesel connection of `$kind`, opened the way diesel CLI opens
/// `$url` (a SQLite file as `sqlite://PATH`); the body is compiled once per connection type.
macro_rules! with_diesel {
    ($kind:expr, $url:expr, |$conn:ident| $body:expr) => {
        match $kind {
            Kind::Sqlite => {
                let $conn = &mut diesel::SqliteConnection::establish(&format!("sqlite://{}", $url))
                    .unwrap();
                $body
            }
            #[cfg(feature = "postgres")]
            Kind::Postgres => {
                let $conn = &mut diesel::PgConnection::establish($url).unwrap();
                $body
            }
            #[cfg(not(feature = "postgres"))]
            Kind::Postgres => {
                unreachable!("PostgreSQL tests are not built without feature `postgres`")
            }
        }
    };
}

/// diesel CLI's view of a database: applied versions (oldest first) and the versions of
/// `dir` it would still run.
fn diesel_view(kind: Kind, url: &str, dir: &Path) -> (Vec<String>, Vec<String>) {
    fn view<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        dir: &Path,
    ) -> (Vec<String>, Vec<String>) {
        let source = FileBasedMigrations::from_path(dir).unwrap();
        let mut applied: Vec<String> = conn
            .applied_migrations()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        applied.sort();
        let pending = conn
            .pending_migrations(source)
            .unwrap()
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        (applied, pending)
    }
    with_diesel!(kind, url, |conn| view(conn, dir))
}

/// `diesel migration run` on `dir`.
fn diesel_run(kind: Kind, url: &str, dir: &Path) {
    let source = FileBasedMigrations::from_path(dir).unwrap();
    with_diesel!(kind, url, |conn| drop(
        conn.run_pending_migrations(source).unwrap()
    ))
}

/// `diesel migration revert` on `dir`; returns the version reverted.
fn diesel_revert(kind: Kind, url: &str, dir: &Path) -> String {
    let source = FileBasedMigrations::from_path(dir).unwrap();
    with_diesel!(kind, url, |conn| conn
        .revert_last_migration(source)
        .unwrap()
        .to_string())
}

/// What `diesel setup` adds to a PostgreSQL project (its text, verbatim); on SQLite it adds
/// nothing, so the folder there holds a statement of no effect, to show the version is what
/// counts.
fn diesel_setup_folder(kind: Kind) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("00000000000000_diesel_initial_setup");
    std::fs::create_dir(&folder).unwrap();
    let (up, down) = match kind {
        Kind::Sqlite => ("SELECT 1;", "SELECT 1;"),
        Kind::Postgres => (
            r#"CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF (
        NEW IS DISTINCT FROM OLD AND
        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
    ) THEN
        NEW.updated_at := current_timestamp;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"#,
            "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\nDROP FUNCTION IF EXISTS diesel_set_updated_at();\n",
        ),
    };
    std::fs::write(folder.join("up.sql"), up).unwrap();
    std::fs::write(folder.join("down.sql"), down).unwrap();
    dir
}

fn url_of(config: &DbConfig) -> String {
    config.url.expose().to_string()
}

both_backends! {
    fn own_migrations_from_a_config_file(kind) {
        let (config, _guard, _folder) = service_config(kind);
        let db = Registry::with_defaults().connect(&config).unwrap();
        run_list_revert(&*db);
    }

    fn own_migrations_compiled_in(kind) {
        let migrations = Migrations::embedded(SQLITE, POSTGRES).unwrap();
        let from_dirs = Migrations::from_dirs(
            migrations_dir(Dialect::Sqlite),
            migrations_dir(Dialect::Postgres),
        )
        .unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(migrations.versions(dialect), from_dirs.versions(dialect), "every folder embedded");
        }
        let (config, _guard) = config(kind);
        let db = Registry::with_defaults()
            .connect(&config.with_migrations(migrations))
            .unwrap();
        run_list_revert(&*db);
    }

    fn diesel_cli_and_dbshift_agree_both_ways(kind) {
        let (config, _guard, _folder) = service_config(kind);
        let url = url_of(&config);
        let dir = migrations_dir(dialect(kind));
        let db = Registry::with_defaults().connect(&config).unwrap();

        // dbshift runs, diesel CLI sees them applied and nothing pending.
        db.run_pending_migrations().unwrap();
        assert_eq!(diesel_view(kind, &url, &dir), (VERSIONS.map(String::from).to_vec(), vec![]));
        // diesel CLI reverts the newest, dbshift sees it pending and runs it again.
        assert_eq!(diesel_revert(kind, &url, &dir), COUNTERS);
        assert_eq!(db.pending_migrations().unwrap(), [COUNTERS]);
        assert_eq!(db.applied_migrations().unwrap(), [VERSIONS[0]]);
        assert_eq!(db.run_pending_migrations().unwrap(), [COUNTERS]);
        // dbshift reverts everything, diesel CLI sees everything pending.
        while db.revert_last_migration().unwrap().is_some() {}
        assert_eq!(diesel_view(kind, &url, &dir), (vec![], VERSIONS.map(String::from).to_vec()));
        // diesel CLI runs everything, dbshift sees it applied and reverts it.
        diesel_run(kind, &url, &dir);
        assert_eq!(db.applied_migrations().unwrap(), VERSIONS);
        assert!(db.pending_migrations().unwrap().is_empty());
        assert_eq!(tables(&*db), ["counters", "notes"]);
        assert_eq!(db.revert_last_migration().unwrap().as_deref(), Some(COUNTERS));
        assert_eq!(diesel_view(kind, &url, &dir).1, [COUNTERS]);
    }

    fn diesel_setup_does_not_break_revert_all(kind) {
        let (config, _guard, _folder) = service_config(kind);
        let url = url_of(&config);
        let setup = diesel_setup_folder(kind);
        diesel_run(kind, &url, setup.path());
        let db = Registry::with_defaults().connect(&config).unwrap();
        assert_eq!(db.pending_migrations().unwrap(), VERSIONS);
        assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
        assert_eq!(db.applied_migrations().unwrap(), ["00000000000000", VERSIONS[0], VERSIONS[1]]);
        let mut reverted = Vec::new();
        while let Some(version) = db.revert_last_migration().unwrap() {
            reverted.push(version);
        }
        assert_eq!(reverted, [COUNTERS, VERSIONS[0]]);
        assert_eq!(db.applied_migrations().unwrap(), ["00000000000000"], "diesel's own stays");
        if kind == Kind::Postgres {
            let row = db.query_one("SELECT count(*) AS n FROM pg_proc WHERE proname = 'diesel_manage_updated_at'", &[]).unwrap();
            assert_eq!(row.get::<i64, _>("n").unwrap(), 1);
        }
        // diesel CLI, given its own folder, still reverts it.
        assert_eq!(diesel_revert(kind, &url, setup.path()), "00000000000000");
        assert!(db.applied_migrations().unwrap().is_empty());
    }

    fn an_unknown_applied_version_stops_revert_and_changes_nothing(kind) {
        let (config, _guard, _folder) = service_config(kind);
        let db = Registry::with_defaults().connect(&config).unwrap();
        db.run_pending_migrations().unwrap();
        db.execute("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)", &["20990101000000".into()]).unwrap();
        let err = db.revert_last_migration().unwrap_err().to_string();
        assert!(err.contains("`20990101000000` is not in"), "{err}");
        assert!(err.contains("schema/"), "names the directory: {err}");
        assert_eq!(db.applied_migrations().unwrap(), [VERSIONS[0], VERSIONS[1], "20990101000000"]);
        assert_eq!(tables(&*db), ["counters", "notes"]);
    }

    fn a_dialect_the_config_gives_no_directory_is_an_error(kind) {
        let (db_config, _guard) = config(kind);
        let folder = tempfile::tempdir().unwrap();
        let other = match kind { Kind::Sqlite => Dialect::Postgres, Kind::Postgres => Dialect::Sqlite };
        copy_tree(&migrations_dir(other), &folder.path().join("m"));
        let path = folder.path().join("service.toml");
        std::fs::write(&path, format!("url = {:?}\n[migrations]\n{other} = \"m\"\n", db_config.url.expose())).unwrap();
        let db = Registry::with_defaults().connect(&DbConfig::from_file(&path).unwrap()).unwrap();
        let err = db.run_pending_migrations().unwrap_err().to_string();
        assert!(err.contains(&format!("names no `{}` directory", dialect(kind))), "{err}");
        assert!(tables(&*db).is_empty());
    }
}

#[test]
fn a_missing_migrations_directory_fails_at_connect_with_its_name() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("service.toml");
    std::fs::write(
        &path,
        "url = \"app.db\"\n[migrations]\nsqlite = \"nowhere\"\n",
    )
    .unwrap();
    let config = DbConfig::from_file(&path).unwrap();
    let err = Registry::with_defaults()
        .connect(&config)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read migrations directory") && err.contains("nowhere"),
        "{err}"
    );
    assert!(!folder.path().join("app.db").exists() && !Path::new("app.db").exists());
}

#[test]
fn sqlite_url_forms_open_the_same_file_for_dbshift_and_diesel() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("app.db");
    let path = path.to_str().unwrap();
    let db = Registry::with_defaults()
        .connect(&DbConfig::from_url(format!("sqlite:{path}")))
        .unwrap();
    db.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)")
        .unwrap();
    drop(db);
    for url in [
        format!("sqlite://{path}"),
        path.to_string(),
        format!("sqlite://{path}?mode=ro"),
    ] {
        let db = Registry::with_defaults()
            .connect(&DbConfig::from_url(url.clone()))
            .unwrap();
        let row = db.query_one("SELECT x FROM t", &[]).unwrap();
        assert_eq!(row.get::<i64, _>(0).unwrap(), 7, "{url}");
    }
    // diesel (and so diesel CLI) reads `sqlite://PATH` and the bare path as the same file.
    for url in [format!("sqlite://{path}"), path.to_string()] {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            x: i64,
        }
        let mut conn = diesel::SqliteConnection::establish(&url).unwrap();
        let rows: Vec<X> = diesel::sql_query("SELECT x FROM t")
            .load(&mut conn)
            .unwrap();
        assert_eq!(rows.iter().map(|r| r.x).collect::<Vec<_>>(), [7], "{url}");
    }
    // `?mode=ro` is a URI parameter, not part of the file name: the file is read-only.
    let db = Registry::with_defaults()
        .connect(&DbConfig::from_url(format!("sqlite://{path}?mode=ro")))
        .unwrap();
    assert!(db.execute("INSERT INTO t VALUES (8)", &[]).is_err());
    assert_eq!(
        std::fs::read_dir(folder.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("sqlite:"))
            .count(),
        0
    );
}

/// A database of `kind` with the service's schema applied.
pub fn service_db(kind: Kind) -> crate::support::TestDb {
    let (config, guard) = config(kind);
    let migrations = Migrations::from_dirs(
        migrations_dir(Dialect::Sqlite),
        migrations_dir(Dialect::Postgres),
    )
    .unwrap();
    let backend = Registry::with_defaults()
        .connect(&config.with_migrations(migrations))
        .unwrap();
    backend.run_pending_migrations().unwrap();
    crate::support::TestDb { backend, guard }
}

both_backends! {
    fn the_service_end_to_end_on_its_own_schema(kind) {
        // What the issue's service does, on the public API only: config file, own migrations,
        // concurrent increments in transactions, a streamed read, a unique violation by method.
        let (config, _guard, _folder) = service_config(kind);
        let db = Registry::with_defaults().connect(&config).unwrap();
        assert_eq!(db.run_pending_migrations().unwrap(), VERSIONS);
        db.execute("INSERT INTO counters (name, value) VALUES ($1, 0)", &["hits".into()]).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        db.transaction(|tx| {
                            let row = tx.query_one("SELECT value FROM counters WHERE name = $1", &["hits".into()])?;
                            let value: i64 = row.get("value")?;
                            tx.execute("UPDATE counters SET value = $1 WHERE name = $2", &[(value + 1).into(), "hits".into()])?;
                            tx.execute("INSERT INTO notes (counter, body) VALUES ($1, $2)", &["hits".into(), format!("{t}-{i}").into()])?;
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let value: i64 = db.query_one("SELECT value FROM counters WHERE name = 'hits'", &[]).unwrap().get("value").unwrap();
        assert_eq!(value, 400);
        let mut bodies = std::collections::BTreeSet::new();
        db.query_each("SELECT body FROM notes ORDER BY id", &[], &mut |row| {
            bodies.insert(row.get::<String, _>("body")?);
            Ok(())
        })
        .unwrap();
        assert_eq!(bodies.len(), 400, "one note per increment, none twice");

        // Two million more notes, written by the database in one statement, read back as a
        // stream: the service's memory stays flat while every row passes.
        let generate = match db.dialect() {
            Dialect::Sqlite => "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                                INSERT INTO notes (counter, body) SELECT 'hits', 'bulk ' || i FROM n",
            Dialect::Postgres => "INSERT INTO notes (counter, body) SELECT 'hits', 'bulk ' || i FROM generate_series(1, $1) AS i",
        };
        let bulk = 2_000_000i64;
        assert_eq!(db.execute(generate, &[bulk.into()]).unwrap(), bulk as usize);
        let ((count, bulk_seen, last_id), peak) = crate::streaming::peak_bytes(|| {
            let (mut count, mut bulk_seen, mut last_id) = (0i64, 0i64, 0i64);
            db.query_each("SELECT id, body FROM notes ORDER BY id", &[], &mut |row| {
                let id: i64 = row.get("id")?;
                assert!(id > last_id, "in id order");
                last_id = id;
                count += 1;
                bulk_seen += i64::from(row.get::<String, _>("body")?.starts_with("bulk "));
                Ok(())
            })
            .unwrap();
            (count, bulk_seen, last_id)
        });
        assert_eq!((count, bulk_seen), (bulk + 400, bulk));
        assert!(last_id >= bulk + 400);
        assert!(peak < 1 << 20, "streaming {count} rows held {peak} bytes at once");
        let err = db
            .execute("INSERT INTO notes (counter, body) VALUES ($1, $2)", &["hits".into(), "0-0".into()])
            .unwrap_err();
        assert!(err.is_unique_violation(), "{err}");
    }
}
