//! "Verification: ok" means nothing was lost: views arrive in an order PostgreSQL accepts and
//! compute the same rows, and every object not carried is named, checked by running the
//! built binary and reading the target back with `psql`.

use std::path::Path;
use std::process::Output;

use crate::support::independent::{pg_rows, sqlite_rows};
use crate::support::{dbshift, pg_db, sqlite_db};

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

#[test]
fn a_view_over_a_view_recreated_later_is_created_after_it() {
    let source = sqlite_db();
    // Dropping and recreating `base` puts it after `top` in the catalog.
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5), (2, 7), (3, 9);
         CREATE VIEW base AS SELECT id, n FROM t;
         CREATE VIEW top AS SELECT id FROM base WHERE n > 5;
         DROP VIEW base;
         CREATE VIEW base AS SELECT id, n FROM t;",
    );
    let catalog = sqlite_rows(
        &source.path,
        "SELECT name FROM sqlite_master WHERE type = 'view'",
    );
    assert_eq!(
        catalog,
        [[Some("top".to_string())], [Some("base".to_string())]]
    );
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let url = source.path.display().to_string();
    exits(
        &run(dir.path(), &["migrate", "--quiet", &url, &target.url]),
        0,
    );
    assert_eq!(
        pg_rows(&target.url, "SELECT id FROM top ORDER BY id"),
        sqlite_rows(&source.path, "SELECT id FROM top ORDER BY id")
    );
}
