//! The loading side against targets as people have them: objects of their own that depend on
//! the tables, deferrable foreign keys, server defaults that cut statements short, locks held
//! by other sessions, and reject directories that earlier runs left behind. Each situation is
//! checked on what the target holds (read back with `psql`), not only on the exit code.

use std::path::Path;
use std::process::Output;

use crate::support::independent::pg_rows;
use crate::support::{dbshift, pg_db, shared_fixture};

fn run(dir: &Path, args: &[&str]) -> Output {
    dbshift(dir).args(args).output().unwrap()
}

fn exits(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The one value of a one-row, one-column query, as `psql` prints it.
fn scalar(url: &str, sql: &str) -> String {
    let rows = pg_rows(url, sql);
    assert_eq!(rows.len(), 1, "{sql}");
    rows[0][0].clone().unwrap_or_default()
}

fn chinook() -> String {
    shared_fixture("chinook.sqlite").display().to_string()
}

#[test]
fn if_exists_drop_refuses_when_a_user_view_or_foreign_key_depends_on_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    exits(
        &run(dir.path(), &["migrate", "--quiet", &chinook(), &target.url]),
        0,
    );
    target.exec(
        "CREATE VIEW long_tracks AS SELECT name FROM track WHERE milliseconds > 600000;
         CREATE VIEW longest AS SELECT name FROM long_tracks LIMIT 1;
         CREATE TABLE playlist_notes (track_id integer REFERENCES track (trackid), note text);
         INSERT INTO playlist_notes VALUES (1, 'kept')",
    );
    let long_tracks = scalar(&target.url, "SELECT count(*) FROM long_tracks");
    assert_ne!(long_tracks, "0");
    let drop = |dir: &Path| {
        run(
            dir,
            &[
                "migrate",
                "--quiet",
                "--if-exists",
                "drop",
                &chinook(),
                &target.url,
            ],
        )
    };
    let output = drop(dir.path());
    exits(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for name in ["long_tracks", "longest", "playlist_notes"] {
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    // Nothing changed: the views, the other table's key and its row are all there.
    assert_eq!(
        scalar(&target.url, "SELECT count(*) FROM long_tracks"),
        long_tracks
    );
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM longest"), "1");
    assert_eq!(
        scalar(
            &target.url,
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'playlist_notes'::regclass AND contype = 'f'"
        ),
        "1"
    );
    assert_eq!(
        scalar(
            &target.url,
            "SELECT count(*) FROM pg_namespace WHERE nspname = '_dbshift'"
        ),
        "0"
    );

    // Once the user's objects are gone, the same command replaces the tables.
    target.exec("DROP VIEW longest; DROP VIEW long_tracks; DROP TABLE playlist_notes");
    exits(&drop(dir.path()), 0);
    assert_eq!(scalar(&target.url, "SELECT count(*) FROM track"), "3503");
}
