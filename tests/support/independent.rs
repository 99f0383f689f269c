//! Independent readings for checking what a transfer wrote: the source through the `sqlite3`
//! command-line shell (read-only) and the target through `psql` (`COPY ... TO STDOUT`). Neither
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
        .args(["-readonly", "-list", "-noheader", "-nullvalue", NULL])
        .args(["-separator", FIELD, "-newline", RECORD])
        .arg(path)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed (apt install sqlite3)");
    assert!(
        output.status.success(),
        "sqlite3 refused `{sql}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    split(&output.stdout)
}

/// Rows of `sql` (a query) run on the PostgreSQL database at `url` by `psql`, as `COPY ... TO
/// STDOUT` prints them (each type's own output form; a row ends with a newline, NULL is `\N`),
/// with the session time zone set to UTC (so `timestamptz` prints as `+00`).
pub fn pg_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg(format!("COPY ({sql}) TO STDOUT"))
        .env("PGTZ", "UTC")
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "psql refused `{sql}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 from psql");
    text.lines()
        .map(|line| line.split('\t').map(copy_field).collect())
        .collect()
}

/// One field of COPY's text format: `\N` is NULL; backslash escapes are undone.
fn copy_field(field: &str) -> Option<String> {
    if field == "\\N" {
        return None;
    }
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some(out)
}

/// The one value of a one-row, one-column query on PostgreSQL, as `psql` prints it (an empty
/// text for NULL).
pub fn scalar(url: &str, sql: &str) -> String {
    let rows = pg_rows(url, sql);
    assert_eq!(rows.len(), 1, "{sql}");
    rows[0][0].clone().unwrap_or_default()
}

/// What both shells print for SQL NULL (a text no test value holds).
const NULL: &str = "<<NULL>>";
/// Between fields and after each row of the `sqlite3` shell: ASCII unit and record separators,
/// which no test value holds, so the output needs no quoting (an empty text is an empty field,
/// not a lost row).
const FIELD: &str = "\x1f";
const RECORD: &str = "\x1e";

fn split(bytes: &[u8]) -> Vec<Vec<Option<String>>> {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8 from the shell");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let mut rows: Vec<&str> = text.split('\x1e').collect();
    if rows.last() == Some(&"") {
        rows.pop();
    }
    rows.into_iter()
        .map(|row| {
            row.split('\x1f')
                .map(|cell| (cell != NULL).then(|| cell.to_string()))
                .collect()
        })
        .collect()
}

/// Asserts that `sqlite_sql` on the SQLite file and `pg_sql` on the PostgreSQL database give
/// the same rows in the same order, naming the first row that differs (`what` says where).
pub fn assert_same_rows(what: &str, source: &Path, sqlite_sql: &str, url: &str, pg_sql: &str) {
    let expected = sqlite_rows(source, sqlite_sql);
    let actual = pg_rows(url, pg_sql);
    assert!(
        !expected.is_empty(),
        "{what}: the source has rows to compare"
    );
    if let Some(at) = expected
        .iter()
        .zip(&actual)
        .position(|(want, got)| want != got)
    {
        panic!(
            "{what}: row {at} differs: source {:?}, target {:?}",
            expected[at], actual[at]
        );
    }
    assert_eq!(expected.len(), actual.len(), "{what}: row count");
}
