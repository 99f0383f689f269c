//! Whole transfers through `transfer::run` on real databases.

use std::collections::HashMap;

use crate::support::independent::{assert_same_rows, pg_rows, sqlite_rows};
use crate::support::{pg_db, sqlite_db};
use dbshift::transfer::load::progress::Progress;
use dbshift::transfer::load::run::{data_only_work, run, IfExists, Mode, Options, Work};
use dbshift::{Backend, DbConfig, Registry, Value};

/// Transfer options for tests: two jobs, verification on, quiet.
pub fn options(
    source: &std::path::Path,
    target: &str,
    mode: Mode,
    rejects: &std::path::Path,
) -> Options {
    Options {
        source: source.to_path_buf(),
        target: DbConfig::from_url(target),
        mode,
        jobs: 2,
        if_exists: IfExists::Fail,
        resume: false,
        verify: true,
        reject_dir: rejects.to_path_buf(),
        progress: Progress::quiet(),
        lock_wait: None,
        split_rows: dbshift::transfer::load::run::SPLIT_ROWS,
    }
}

/// A PostgreSQL database at `url` with the application's schema from `migrations_postgres/`.
fn migrated_target(url: &str) -> Box<dyn Backend> {
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(url.to_string()))
        .unwrap();
    pg.run_pending_migrations().unwrap();
    pg
}

/// The data-only work into the application's schema (its migration bookkeeping left out).
fn app_work(options: &Options) -> Work {
    data_only_work(
        options,
        "public",
        &[],
        &["__diesel_schema_migrations".into()],
        &HashMap::new(),
    )
    .unwrap()
}

/// A SQLite missions database made by `migrations_sqlite/`, with awkward but valid rows.
fn missions_source() -> crate::support::SqliteDb {
    let db = sqlite_db();
    let sqlite = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&db.path))
        .unwrap();
    sqlite.run_pending_migrations().unwrap();
    sqlite
        .batch_execute(
            "INSERT INTO missions (title, description, status, priority, is_archived, progress, metadata, created_at, updated_at)
             VALUES ('Launch ☄', 'first', 'active', 'critical', 0, 40, '{\"crew\": [\"a\", \"b\"]}', '2024-01-02 03:04:05.678', '2024-01-02T03:04:05Z'),
                    ('Archive it', NULL, 'archived', 'low', 1, 100, '{}', '2023-12-31 23:59:59', '2024-01-01 00:00:00');
             INSERT INTO mission_events (mission_id, kind, message, payload) VALUES (1, 'status_changed', 'draft -> active', '{\"from\": \"draft\"}'), (2, 'note', 'tab\there', NULL);
             INSERT INTO tags (name, color) VALUES ('urgent', 'red'), ('ops', NULL);
             INSERT INTO mission_tags (mission_id, tag_id) VALUES (1, 1), (1, 2), (2, 2);",
        )
        .unwrap();
    db
}

/// The missions schema's tables as the two schemas imply they arrive, written here and read
/// through the `sqlite3` shell and `psql` (never dbshift's reader, converter or `verify`):
/// `BOOLEAN` 0/1 as `f`/`t`, naive texts as UTC instants to the microsecond, JSON texts as the
/// same JSON value, enum texts as their labels. `skip` leaves out source rows the test expects
/// to be rejected (an SQL condition on the source's `missions`).
fn assert_missions_arrived(source: &std::path::Path, url: &str, skip: &str) {
    // The source's fraction digits padded to six (`strftime`'s `%f` keeps only three).
    let at = |column: &str| {
        format!(
            "strftime('%Y-%m-%d %H:%M:%S', {column}) || '.' || CASE WHEN instr({column}, '.') > 0 \
             THEN substr(substr({column}, instr({column}, '.') + 1) || '000000', 1, 6) ELSE '000000' END"
        )
    };
    let pg_at = |column: &str| format!("to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')");
    let boolean = "CASE is_archived WHEN 1 THEN 't' WHEN 0 THEN 'f' END";
    let tables = [
        (
            "missions",
            format!(
                "SELECT id, title, description, status, priority, {boolean}, progress, metadata, {}, {} \
                 FROM missions WHERE NOT ({skip}) ORDER BY id",
                at("created_at"),
                at("updated_at")
            ),
            format!(
                "SELECT id, title, description, status, priority, is_archived, progress, metadata, {}, {} \
                 FROM missions ORDER BY id",
                pg_at("created_at"),
                pg_at("updated_at")
            ),
            Some(7),
        ),
        (
            "mission_events",
            format!(
                "SELECT id, mission_id, kind, message, payload, {} FROM mission_events \
                 WHERE mission_id NOT IN (SELECT id FROM missions WHERE {skip}) ORDER BY id",
                at("created_at")
            ),
            format!(
                "SELECT id, mission_id, kind, message, payload, {} FROM mission_events ORDER BY id",
                pg_at("created_at")
            ),
            Some(4),
        ),
        (
            "tags",
            format!("SELECT id, name, color, {} FROM tags ORDER BY id", at("created_at")),
            format!("SELECT id, name, color, {} FROM tags ORDER BY id", pg_at("created_at")),
            None,
        ),
        (
            "mission_tags",
            "SELECT mission_id, tag_id FROM mission_tags ORDER BY 1, 2".to_string(),
            "SELECT mission_id, tag_id FROM mission_tags ORDER BY 1, 2".to_string(),
            None,
        ),
    ];
    for (table, sqlite_sql, pg_sql, json) in tables {
        let mut expected = sqlite_rows(source, &sqlite_sql);
        let mut actual = pg_rows(url, &pg_sql);
        assert!(!expected.is_empty(), "{table}: the source has rows");
        // JSON is compared as a value: jsonb prints its own spacing and key order.
        if let Some(column) = json {
            for row in expected.iter_mut().chain(actual.iter_mut()) {
                row[column] = row[column].as_deref().map(|text| {
                    serde_json::from_str::<serde_json::Value>(text)
                        .unwrap_or_else(|e| panic!("{table}: `{text}` is JSON: {e}"))
                        .to_string()
                });
            }
        }
        assert_eq!(
            actual, expected,
            "{table}: every value, source against target"
        );
    }
}

#[test]
fn data_only_fills_a_schema_made_by_the_postgres_migrations() {
    let source = missions_source();
    let target = pg_db();
    let pg = migrated_target(&target.url);
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = app_work(&options);
    assert_eq!(work.tables.len(), 4, "{:?}", work.warnings);
    let report = run(&options, work).unwrap();
    assert_eq!(report.totals.rows_written, 2 + 2 + 2 + 3, "{report}");
    assert_eq!(report.totals.rows_rejected, 0, "{report}");
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_missions_arrived(&source.path, &target.url, "false");

    let row = pg
        .query_one(
            "SELECT status::text AS status, priority::text AS priority, is_archived, metadata, created_at FROM missions WHERE id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<String, _>("status").unwrap(), "active");
    assert_eq!(row.get::<String, _>("priority").unwrap(), "critical");
    assert_eq!(row.value("is_archived").unwrap(), &Value::Bool(false));
    assert_eq!(
        row.get::<serde_json::Value, _>("metadata").unwrap()["crew"][1],
        "b"
    );
    assert_eq!(
        row.get::<chrono::DateTime<chrono::Utc>, _>("created_at")
            .unwrap()
            .to_rfc3339(),
        "2024-01-02T03:04:05.678+00:00"
    );
    // The identity moved past the copied ids: a new row does not collide.
    pg.execute(
        "INSERT INTO missions (title) VALUES ($1)",
        &["after".into()],
    )
    .unwrap();
    let id = pg
        .query_one("SELECT max(id) AS id FROM missions", &[])
        .unwrap()
        .get::<i64, _>("id")
        .unwrap();
    assert_eq!(id, 3);
    // The state schema is gone once the transfer finished.
    assert!(pg
        .query_one("SELECT to_regclass('_dbshift.run') IS NULL AS gone", &[])
        .unwrap()
        .get::<bool, _>("gone")
        .unwrap());
}

#[test]
fn data_only_refuses_a_non_empty_target_and_changes_nothing() {
    let source = missions_source();
    let target = pg_db();
    let pg = migrated_target(&target.url);
    pg.execute(
        "INSERT INTO tags (name) VALUES ($1)",
        &["already here".into()],
    )
    .unwrap();
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = app_work(&options);
    let err = run(&options, work).unwrap_err().to_string();
    assert!(err.contains("not empty") && err.contains("`tags`"), "{err}");
    // The row that was there is still the only one, read by psql.
    assert_eq!(
        pg_rows(&target.url, "SELECT name FROM tags"),
        [[Some("already here".to_string())]]
    );
    assert_eq!(
        pg.query_one("SELECT count(*) AS n FROM missions", &[])
            .unwrap()
            .get::<i64, _>("n")
            .unwrap(),
        0
    );
    assert!(pg
        .query_one("SELECT to_regclass('_dbshift.run') IS NULL AS gone", &[])
        .unwrap()
        .get::<bool, _>("gone")
        .unwrap());
}

#[test]
fn data_only_rejects_values_the_target_type_cannot_hold() {
    let source = missions_source();
    // SQLite's CHECKs hold the value sets; a hand-written row from before they existed does not.
    let sqlite = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&source.path))
        .unwrap();
    sqlite.batch_execute("PRAGMA ignore_check_constraints = ON; INSERT INTO missions (title, status) VALUES ('legacy', 'in-progress')").unwrap();
    let target = pg_db();
    migrated_target(&target.url);
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = app_work(&options);
    let report = run(&options, work).unwrap();
    assert_eq!(report.totals.rows_rejected, 1, "{report}");
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    // Every other row arrived with its values; the rejected one is absent.
    assert_missions_arrived(&source.path, &target.url, "status = 'in-progress'");
    let missions = report
        .tables
        .iter()
        .find(|t| t.table == "missions")
        .unwrap();
    let text = std::fs::read_to_string(missions.stats.reject_file.as_ref().unwrap()).unwrap();
    assert!(
        text.contains("in-progress") && text.contains("not a label of enum mission_status"),
        "{text}"
    );
}

#[test]
fn resume_finishes_a_transfer_that_stopped_without_duplicates() {
    let source = missions_source();
    let target = pg_db();
    let pg = migrated_target(&target.url);
    let rejects = tempfile::tempdir().unwrap();
    let mut options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    options.jobs = 1;
    let work = app_work(&options);
    // Break one table after planning: its copy fails with an error that is not about the data.
    pg.batch_execute("ALTER TABLE mission_events RENAME COLUMN message TO msg")
        .unwrap();
    let err = run(&options, work.clone()).unwrap_err().to_string();
    assert!(
        err.contains("mission_events") && err.contains("message"),
        "{err}"
    );
    let copied: i64 = pg
        .query_one(
            "SELECT count(*) AS n FROM _dbshift.steps WHERE id LIKE 'copy:%'",
            &[],
        )
        .unwrap()
        .get("n")
        .unwrap();
    assert!(copied >= 1, "some tables were done before the failure");
    assert_eq!(
        pg.query_one("SELECT count(*) AS n FROM mission_events", &[])
            .unwrap()
            .get::<i64, _>("n")
            .unwrap(),
        0
    );

    // Without --resume the unfinished transfer is refused, changing nothing.
    let err = run(&options, work.clone()).unwrap_err().to_string();
    assert!(err.contains("did not finish"), "{err}");

    pg.batch_execute("ALTER TABLE mission_events RENAME COLUMN msg TO message")
        .unwrap();
    options.resume = true;
    let report = run(&options, work).unwrap();
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert!(report.tables.iter().any(|t| !t.copied_now), "{report}");
    for (table, n) in [
        ("missions", 2),
        ("mission_events", 2),
        ("tags", 2),
        ("mission_tags", 3),
    ] {
        let count: i64 = pg
            .query_one(&format!("SELECT count(*) AS n FROM {table}"), &[])
            .unwrap()
            .get("n")
            .unwrap();
        assert_eq!(count, n, "{table}");
    }
    assert_missions_arrived(&source.path, &target.url, "false");
}

#[test]
fn a_server_crash_mid_copy_gives_a_clear_error_and_resume_completes() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let server = dbshift::pg_server::TempServer::start().unwrap();
    let url = server.create_database("crash").unwrap();
    let source = sqlite_db();
    let mut sqlite = diesel::SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
    sqlite
        .batch_execute(
            "CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
             INSERT INTO big SELECT i, printf('%080d', i) FROM n;",
        )
        .unwrap();
    // The throwaway server runs with synchronous_commit off, and the crash below is immediate:
    // this commit must reach the WAL on disk, or recovery may lose the table itself.
    diesel::PgConnection::establish(&url)
        .unwrap()
        .batch_execute(
            "SET synchronous_commit = on; CREATE TABLE big (id bigint PRIMARY KEY, payload text)",
        )
        .unwrap();
    let rejects = tempfile::tempdir().unwrap();
    let mut options = options(&source.path, &url, Mode::DataOnly, rejects.path());
    options.verify = true;
    let work = data_only_work(&options, "public", &[], &[], &HashMap::new()).unwrap();
    let handle = {
        let (options, work) = (options.clone(), work.clone());
        std::thread::spawn(move || run(&options, work))
    };
    // Wait until the COPY is running, then crash the server.
    let started = std::time::Instant::now();
    loop {
        let active = server
            .psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%'",
            )
            .unwrap_or_default();
        if active.trim() != "0" && !active.trim().is_empty() {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "the copy never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.stop().unwrap();
    let err = handle.join().unwrap().unwrap_err();
    // A lost server is a failure that passes: the error says resuming finishes the transfer.
    assert!(
        matches!(err, dbshift::transfer::Error::Stopped { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(!err.contains(server.password()), "{err}");
    assert!(
        err.contains("`big`"),
        "the table being copied is named: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    server.start_again().unwrap();
    options.resume = true;
    let report = run(&options, work).unwrap();
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_eq!(report.totals.rows_written, 400_000);
    let count = server.psql("crash", "SELECT count(*) FROM big").unwrap();
    assert_eq!(count.trim(), "400000");
    assert_same_rows(
        "big",
        &source.path,
        "SELECT id, payload FROM big ORDER BY id",
        &url,
        "SELECT id, payload FROM big ORDER BY id",
    );
}

fn full_options(source: &std::path::Path, target: &str, rejects: &std::path::Path) -> Options {
    options(source, target, Mode::Full, rejects)
}

#[test]
fn chinook_migrates_and_verifies() {
    let source = crate::support::shared_fixture("chinook.sqlite");
    let target = pg_db();
    let rejects = tempfile::tempdir().unwrap();
    let plan = dbshift::transfer::plan(&source, &Default::default()).unwrap();
    let work = dbshift::transfer::load::run::plan_work(&plan, &source).unwrap();
    let report = run(&full_options(&source, &target.url, rejects.path()), work).unwrap();
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_eq!(report.tables.len(), 11, "{report}");
    assert_eq!(report.totals.rows_rejected, 0, "{report}");
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    let keys: i64 = pg
        .query_one("SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace", &[])
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(keys, 11);
    let pks: i64 = pg.query_one("SELECT count(*) AS n FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace", &[]).unwrap().get("n").unwrap();
    assert_eq!(pks, 11);
    let tracks: i64 = pg
        .query_one("SELECT count(*) AS n FROM track", &[])
        .unwrap()
        .get("n")
        .unwrap();
    // Counted read-only: the shared fixture must never be written.
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut sqlite = dbshift::transfer::load::pages::open(&source).unwrap();
    let expected: Vec<N> = diesel::RunQueryDsl::load(
        diesel::sql_query("SELECT count(*) AS n FROM Track"),
        &mut sqlite,
    )
    .unwrap();
    assert_eq!(tracks, expected[0].n);
    // And the values, read by the shells (every column of every table: `independent.rs`).
    assert_same_rows(
        "track",
        &source,
        "SELECT TrackId, Name, Composer, Milliseconds, Bytes, printf('%.2f', UnitPrice) FROM Track ORDER BY TrackId",
        &target.url,
        "SELECT trackid, name, composer, milliseconds, bytes, unitprice FROM track ORDER BY trackid",
    );
    // A new row takes an id after the copied ones.
    pg.execute("INSERT INTO genre (name) VALUES ($1)", &["Shoegaze".into()])
        .unwrap();
}

/// The application path: a service on SQLite (schema from `migrations_sqlite/`, data written by
/// the missions store) moves to PostgreSQL (schema from `migrations_postgres/`) with
/// `--data-only`, switches its config, and reads the same missions through the same store.
#[test]
fn the_application_moves_to_postgres_and_reads_the_same_missions() {
    use dbshift::missions::{self, NewEvent, NewMission, Status};
    let source = sqlite_db();
    let sqlite = Registry::with_defaults()
        .connect(&DbConfig::sqlite(&source.path))
        .unwrap();
    missions::seed_demo(sqlite.as_ref(), 60).unwrap();
    let extra = missions::create(
        sqlite.as_ref(),
        &NewMission::new("50% off: 'quotes' and \"more\" 🚀"),
    )
    .unwrap();
    let event = NewEvent {
        message: Some("added on SQLite".into()),
        payload: Some(serde_json::json!({"n": 1.5})),
        ..NewEvent::new("note")
    };
    missions::add_event(sqlite.as_ref(), extra.id, &event).unwrap();
    missions::tag(sqlite.as_ref(), extra.id, "late-addition").unwrap();
    missions::change_status(sqlite.as_ref(), extra.id, Status::Active, Some("go")).unwrap();
    let snapshot = |db: &dyn dbshift::Backend| {
        let mut all = Vec::new();
        for status in Status::ALL {
            for mission in missions::list_by_status(db, *status).unwrap() {
                let events = missions::events(db, mission.id).unwrap();
                let tags = missions::tags(db, mission.id).unwrap();
                all.push((mission, events, tags));
            }
        }
        all.sort_by_key(|(m, _, _)| m.id);
        all
    };
    let before = snapshot(sqlite.as_ref());
    assert_eq!(before.len(), 61);
    drop(sqlite);

    // The application's own schema on PostgreSQL, then the rows.
    let target = pg_db();
    let config_file = source.dir.path().join("dbshift.toml");
    std::fs::write(&config_file, format!("url = \"{}\"\n", target.url)).unwrap();
    let postgres = Registry::with_defaults()
        .connect(&DbConfig::from_file(&config_file).unwrap())
        .unwrap();
    postgres.run_pending_migrations().unwrap();
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = app_work(&options);
    let report = run(&options, work).unwrap();
    assert_eq!(report.totals.rows_rejected, 0, "{report}");
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_missions_arrived(&source.path, &target.url, "false");

    // Same store, same code, other database: the same missions, events and tags.
    let after = snapshot(postgres.as_ref());
    assert_eq!(after, before);
    assert_eq!(
        missions::search_titles(postgres.as_ref(), "50% OFF")
            .unwrap()
            .len(),
        1
    );
    // And the service goes on writing: new ids do not collide with copied ones.
    let new = missions::create(postgres.as_ref(), &NewMission::new("first on PostgreSQL")).unwrap();
    assert!(new.id > extra.id);
    missions::tag(postgres.as_ref(), new.id, "late-addition").unwrap();
}

/// A database stored as UTF-16 (`PRAGMA encoding`) arrives as the same text: its stored bytes
/// are UTF-16, which must be converted, not taken for invalid UTF-8.
#[test]
fn a_utf16_database_arrives_as_the_same_text() {
    for encoding in ["UTF-16le", "UTF-16be"] {
        let source = sqlite_db();
        source.exec(&format!(
                "PRAGMA encoding = '{encoding}';
                 CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, doc TEXT);
                 INSERT INTO t VALUES (1, 'héllo 🦀 ünïcødé', '{{\"a\": \"ß\"}}'), (2, 'plain', '[]');"
            ));
        let target = pg_db();
        let rejects = tempfile::tempdir().unwrap();
        let plan = dbshift::transfer::plan(&source.path, &Default::default()).unwrap();
        let work = dbshift::transfer::load::run::plan_work(&plan, &source.path).unwrap();
        let report = run(
            &full_options(&source.path, &target.url, rejects.path()),
            work,
        )
        .unwrap();
        assert_eq!(report.totals.rows_rejected, 0, "{encoding}: {report}");
        assert!(
            report.verification.as_ref().unwrap().ok,
            "{encoding}: {report}"
        );
        let pg = Registry::with_defaults()
            .connect(&DbConfig::from_url(target.url.clone()))
            .unwrap();
        let row = pg
            .query_one("SELECT name, doc->>'a' AS a FROM t WHERE id = 1", &[])
            .unwrap();
        assert_eq!(
            row.get::<String, _>("name").unwrap(),
            "héllo 🦀 ünïcødé",
            "{encoding}"
        );
        assert_eq!(row.get::<String, _>("a").unwrap(), "ß", "{encoding}");
        // The shell reads the UTF-16 file as text too: the same characters on both sides.
        assert_same_rows(
            encoding,
            &source.path,
            "SELECT id, name, doc ->> '$.a' FROM t ORDER BY id",
            &target.url,
            "SELECT id, name, doc ->> 'a' FROM t ORDER BY id",
        );
    }
}

/// A rowid table whose real columns shadow `rowid`, `_rowid_` and `oid` has no key to page by;
/// it is read by position, over several pages, and its rejects are keyed by position.
#[test]
fn a_table_shadowing_every_rowid_alias_is_copied_by_position() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (rowid TEXT, _rowid_ TEXT, oid TEXT, n INTEGER);
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 45000)
             INSERT INTO t SELECT 'r' || i, 'x', 'o', i FROM k;
             UPDATE t SET n = 'not a number' WHERE n = 30000;",
    );
    let target = pg_db();
    let rejects = tempfile::tempdir().unwrap();
    let plan = dbshift::transfer::plan(&source.path, &Default::default()).unwrap();
    let work = dbshift::transfer::load::run::plan_work(&plan, &source.path).unwrap();
    let report = run(
        &full_options(&source.path, &target.url, rejects.path()),
        work,
    )
    .unwrap();
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_eq!(report.totals.rows_written, 45_000, "{report}");
    // Every value, in the source's order (the shadowed rowid is the insertion order here).
    assert_same_rows(
        "t",
        &source.path,
        "SELECT \"rowid\", \"_rowid_\", oid, n FROM t ORDER BY substr(\"rowid\", 2) + 0",
        &target.url,
        "SELECT \"rowid\", \"_rowid_\", oid, n FROM t ORDER BY substr(\"rowid\", 2)::int",
    );

    // Into a typed target the text value is rejected, keyed by its position.
    let target = pg_db();
    let pg = Registry::with_defaults()
        .connect(&DbConfig::from_url(target.url.clone()))
        .unwrap();
    pg.batch_execute("CREATE TABLE t (\"rowid\" text, \"_rowid_\" text, oid text, n bigint)")
        .unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = data_only_work(&options, "public", &[], &[], &HashMap::new()).unwrap();
    let report = run(&options, work).unwrap();
    assert_eq!(report.totals.rows_rejected, 1, "{report}");
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    let text =
        std::fs::read_to_string(report.tables[0].stats.reject_file.as_ref().unwrap()).unwrap();
    let reject: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(reject["key"]["position"], 30000, "{reject}");
    assert_eq!(reject["row"]["rowid"], "r30000");
    // The other rows arrived with their integers.
    assert_same_rows(
        "t into bigint",
        &source.path,
        "SELECT \"rowid\", n FROM t WHERE typeof(n) = 'integer' ORDER BY n",
        &target.url,
        "SELECT \"rowid\", n FROM t ORDER BY n",
    );
}

/// A `WITHOUT ROWID` table with a second table option (`STRICT`) is paged by its primary key
/// in a data-only transfer, not by a rowid it does not have.
#[test]
fn data_only_pages_a_strict_without_rowid_table_by_its_key() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
         INSERT INTO kv SELECT printf('key%06d', i), i FROM n;",
    );
    let target = pg_db();
    target.exec("CREATE TABLE kv (k text PRIMARY KEY, v bigint)");
    let rejects = tempfile::tempdir().unwrap();
    let options = options(&source.path, &target.url, Mode::DataOnly, rejects.path());
    let work = data_only_work(&options, "public", &[], &[], &HashMap::new()).unwrap();
    assert_eq!(
        work.tables[0].map.key,
        dbshift::transfer::model::SourceKey::PrimaryKey(vec!["k".into()])
    );
    let report = run(&options, work).unwrap();
    assert_eq!(report.totals.rows_written, 30_000, "{report}");
    assert!(report.verification.as_ref().unwrap().ok, "{report}");
    assert_same_rows(
        "kv",
        &source.path,
        "SELECT k, v FROM kv ORDER BY k",
        &target.url,
        "SELECT k, v FROM kv ORDER BY k COLLATE \"C\"",
    );
}
