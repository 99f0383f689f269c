//! Independent readings for checking what a transfer wrote: the source through the `sqlite3`
//! command-line shell (read-only) and the target through `psql`'s own text output. Neither
//! goes through dbshift's reader, converters or verification, so a conversion dbshift gets
//! wrong consistently (a zone, a unit, an epoch, a boolean, a scale) shows up as a difference.
//!
//! Cells are text as each shell prints it, or `None` for SQL NULL. Tests write the mapping
//! between the two readings themselves, as SQL expressions on each side.

use std::path::Path;
use std::process::Command;

/// Rows of `sql` run on the SQLite file `path`, opened read-only by the `sqlite3` shell.
pub fn sqlite_rows(path: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    let output = Command::new("sqlite3")
        .args(["-readonly", "-csv", "-nullvalue", NULL])
        .arg(path)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed (apt install sqlite3)");
    assert!(
        output.status.success(),
        "sqlite3 refused `{sql}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_csv(&output.stdout)
}

/// Rows of `sql` run on the PostgreSQL database at `url` by `psql`, with the session time
/// zone set to UTC (so `timestamptz` prints as `+00`).
pub fn pg_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let output = Command::new("psql")
        .args(["-X", "-q", "--csv", "-t", "-v", "ON_ERROR_STOP=1", "-P"])
        .arg(format!("null={NULL}"))
        .args(["-d", url, "-c", sql])
        .env("PGTZ", "UTC")
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "psql refused `{sql}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_csv(&output.stdout)
}

/// What both shells print for SQL NULL (a text no test value holds).
const NULL: &str = "<<NULL>>";

fn parse_csv(bytes: &[u8]) -> Vec<Vec<Option<String>>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|record| {
            record
                .expect("CSV from the shell")
                .iter()
                .map(|cell| (cell != NULL).then(|| cell.to_string()))
                .collect()
        })
        .collect()
}
