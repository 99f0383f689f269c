//! The command's modes and options that no other test runs, each checked on what it does to
//! the target (read back with `psql`), not only on its exit code or report.

use crate::support::independent::{assert_same_rows, pg_rows, scalar};
use crate::support::{chinook, exits, pg_db, run, sqlite_db};

#[test]
fn schema_only_creates_tables_keys_and_foreign_keys_but_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--schema-only",
            "--quiet",
            &chinook(),
            &target.url,
        ],
    );
    exits(&output, 0);
    let count = |sql: &str| scalar(&target.url, sql);
    assert_eq!(
        count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"),
        "11"
    );
    assert_eq!(count("SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace"), "11");
    assert_eq!(count("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"), "11");
    assert_eq!(count("SELECT count(*) FROM track"), "0");
    assert_eq!(count("SELECT count(*) FROM invoice"), "0");
    // Rows can be added afterwards with --data-only into the schema it made.
    let output = run(
        dir.path(),
        &["migrate", "--data-only", "--quiet", &chinook(), &target.url],
    );
    exits(&output, 0);
    assert_eq!(count("SELECT count(*) FROM track"), "3503");
}

#[test]
fn no_verify_copies_and_never_reports_verification_ok() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--no-verify", &chinook(), &target.url],
    );
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: skipped"), "{text}");
    assert!(!text.contains("verification: ok"), "{text}");
    assert_eq!(
        scalar(&target.url, "SELECT count(*) FROM invoiceline"),
        "2240"
    );
    assert_same_rows(
        "invoiceline",
        std::path::Path::new(&chinook()),
        "SELECT InvoiceLineId, InvoiceId, TrackId, printf('%.2f', UnitPrice), Quantity FROM InvoiceLine ORDER BY 1",
        &target.url,
        "SELECT invoicelineid, invoiceid, trackid, unitprice, quantity FROM invoiceline ORDER BY 1",
    );
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--no-verify",
            "--format",
            "json",
            "--if-exists",
            "drop",
            &chinook(),
            &target.url,
        ],
    );
    exits(&output, 0);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["verification"].is_null(), "{report}");
}

#[test]
fn rejected_rows_never_let_migrate_or_verify_say_ok() {
    // The copy matches what was sent, but a row the target refused is not in it: neither
    // command may call that "ok", and both exit 1.
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT);
         INSERT INTO t VALUES (1, 'ok'), (2, 'too long');",
    );
    let target = pg_db();
    target.exec("CREATE TABLE t (id bigint PRIMARY KEY, c varchar(3))");
    let url = source.path.display().to_string();
    let output = run(
        dir.path(),
        &["migrate", "--data-only", "--quiet", &url, &target.url],
    );
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("verification: ok"), "{text}");
    assert!(
        text.contains("verification: the target matches what was copied, but not all the source: 1 row(s) rejected"),
        "{text}"
    );
    let output = run(dir.path(), &["verify", "--data-only", &url, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("verification: ok"), "{text}");
    assert!(
        text.contains("but for 1 rejected row(s) the reject files list"),
        "{text}"
    );
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM t"), "1");
}

#[test]
fn tables_exclude_and_schema_choose_what_goes_where() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--quiet",
            "--tables",
            "Art*",
            "--tables",
            "Album",
            "--tables",
            "Track",
            "--exclude",
            "Track",
            "--schema",
            "music",
            &chinook(),
            &target.url,
        ],
    );
    exits(&output, 0);
    let tables = pg_rows(
        &target.url,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema', '_dbshift') ORDER BY 1",
    );
    let tables: Vec<String> = tables.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(tables, ["music.album", "music.artist"]);
    assert_eq!(
        scalar(&target.url, "SELECT count(*) FROM music.album"),
        "347"
    );
    assert_same_rows(
        "music.album",
        std::path::Path::new(&chinook()),
        "SELECT AlbumId, Title, ArtistId FROM Album ORDER BY 1",
        &target.url,
        "SELECT albumid, title, artistid FROM music.album ORDER BY 1",
    );
    // The foreign key between the two chosen tables is there; the ones to left-out tables are not.
    assert_eq!(
        scalar(
            &target.url,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
        ),
        "1"
    );
}

#[test]
fn on_orphans_fail_blocks_the_plan_and_migrate_refuses_it_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1), (2, 99);",
    );
    let path = source.path.display().to_string();
    let output = run(
        dir.path(),
        &[
            "--format",
            "json",
            "plan",
            "--on-orphans",
            "fail",
            "--out",
            "plan.toml",
            &path,
        ],
    );
    exits(&output, 0);
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let blocking: Vec<&serde_json::Value> = plan["review"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["severity"] == "blocking")
        .collect();
    assert_eq!(blocking.len(), 1, "{plan}");
    assert!(
        blocking[0]["object"].as_str().unwrap().contains("child"),
        "{plan}"
    );
    let target = pg_db();
    let output = run(
        dir.path(),
        &["migrate", "--plan", "plan.toml", &path, &target.url],
    );
    exits(&output, 2);
    assert_eq!(
        scalar(
            &target.url,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        "0"
    );
    // The default keeps the key NOT VALID and the orphan row.
    let output = run(dir.path(), &["migrate", "--quiet", &path, &target.url]);
    exits(&output, 0);
    assert_eq!(
        scalar(
            &target.url,
            "SELECT convalidated FROM pg_constraint WHERE contype = 'f'"
        ),
        "f"
    );
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM child"), "2");
}

#[test]
fn a_sqlite_url_is_a_source_too() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let url = format!("sqlite:{}", chinook());
    let output = run(dir.path(), &["migrate", "--quiet", &url, &target.url]);
    exits(&output, 0);
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM track"), "3503");
    assert_same_rows(
        "track",
        std::path::Path::new(&chinook()),
        "SELECT TrackId, Name, AlbumId, Composer, Milliseconds FROM Track ORDER BY 1",
        &target.url,
        "SELECT trackid, name, albumid, composer, milliseconds FROM track ORDER BY 1",
    );
}

#[test]
fn plan_with_a_plan_file_plans_again_with_its_edited_options() {
    let dir = tempfile::tempdir().unwrap();
    exits(
        &run(dir.path(), &["plan", "--out", "plan.toml", &chinook()]),
        0,
    );
    let text = std::fs::read_to_string(dir.path().join("plan.toml")).unwrap();
    assert!(text.contains("keep_case = false"), "{text}");
    std::fs::write(
        dir.path().join("plan.toml"),
        text.replacen("keep_case = false", "keep_case = true", 1),
    )
    .unwrap();
    let output = run(
        dir.path(),
        &[
            "--format",
            "json",
            "plan",
            "--plan",
            "plan.toml",
            &chinook(),
        ],
    );
    exits(&output, 0);
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["options"]["keep_case"], true);
    assert_eq!(plan["tables"][0]["map"]["target"], "Album");
}

#[test]
fn verify_reports_an_extra_target_row_and_checks_only_the_chosen_tables() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    exits(
        &run(dir.path(), &["migrate", "--quiet", &chinook(), &target.url]),
        0,
    );
    target.exec("INSERT INTO genre (genreid, name) VALUES (1000, 'not in the source')");
    let output = run(dir.path(), &["verify", &chinook(), &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Genre"), "{text}");
    assert!(
        text.contains("row is in the target but not in the source"),
        "{text}"
    );
    // The row is named by the user's values, not by an internal encoding.
    assert!(text.contains("key GenreId=1000 column -"), "{text}");
    // Verifying only other tables does not look at Genre.
    let output = run(
        dir.path(),
        &[
            "--format",
            "json",
            "verify",
            "--tables",
            "Album",
            "--tables",
            "Artist",
            &chinook(),
            &target.url,
        ],
    );
    exits(&output, 0);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let checked: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(checked.len(), 2, "{report}");
    assert!(
        checked.contains(&"Album") && checked.contains(&"Artist"),
        "{report}"
    );
}

#[test]
fn if_exists_truncate_empties_the_tables_and_copies_again_with_data_only() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    exits(
        &run(dir.path(), &["migrate", "--quiet", &chinook(), &target.url]),
        0,
    );
    target.exec("INSERT INTO genre (genreid, name) VALUES (1000, 'stale')");
    let output = run(
        dir.path(),
        &[
            "migrate",
            "--quiet",
            "--data-only",
            "--if-exists",
            "truncate",
            &chinook(),
            &target.url,
        ],
    );
    exits(&output, 0);
    assert_eq!(
        scalar(
            &target.url,
            "SELECT count(*) FROM genre WHERE genreid = 1000"
        ),
        "0"
    );
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM genre"), "25");
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM track"), "3503");
    assert_same_rows(
        "genre",
        std::path::Path::new(&chinook()),
        "SELECT GenreId, Name FROM Genre ORDER BY 1",
        &target.url,
        "SELECT genreid, name FROM genre ORDER BY 1",
    );
}

#[test]
fn migrate_rehearse_moves_the_source_into_a_throwaway_server() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &["--format", "json", "migrate", "--rehearse", &chinook()],
    );
    exits(&output, 0);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["tables"].as_array().unwrap().len(), 11);
    assert_eq!(report["totals"]["rows_written"], 15607);
    assert_eq!(report["verification"]["ok"], true, "{report}");
    // Nothing is left in the working directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn demo_without_rehearse_writes_the_sample_database_and_keeps_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    exits(
        &run(
            dir.path(),
            &["demo", "--missions", "50", "--out", "demo.db"],
        ),
        0,
    );
    let db = dir.path().join("demo.db");
    let missions = crate::support::independent::sqlite_rows(&db, "SELECT count(*) FROM missions");
    assert_eq!(missions[0][0].as_deref(), Some("50"));
    let before = std::fs::read(&db).unwrap();
    let output = run(
        dir.path(),
        &["demo", "--missions", "10", "--out", "demo.db"],
    );
    exits(&output, 2);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the existing file is kept"
    );
    exits(
        &run(
            dir.path(),
            &["demo", "--missions", "10", "--out", "demo.db", "--force"],
        ),
        0,
    );
    let missions = crate::support::independent::sqlite_rows(&db, "SELECT count(*) FROM missions");
    assert_eq!(missions[0][0].as_deref(), Some("10"));
}
