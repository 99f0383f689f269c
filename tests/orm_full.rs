//! Full mode on applications an ORM wrote (issue 12): dbshift creates the schema itself, and
//! every value of every table must arrive with its meaning. Checked against independent
//! readings (the `sqlite3` shell and `psql`, never dbshift's reader), with the meaning of each
//! column written here by hand. Full mode may choose another PostgreSQL type than the ORM
//! would (a Rails `time` stays text, a quoted name may be lowercased): the check compares
//! meanings, so it holds whichever type carries the value, and fails on any value changed.

use std::path::Path;

use crate::support::independent::{pg_rows, sqlite_rows};

/// What a column's values mean, and so how the two readings must agree.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Integers and texts: the same text.
    Same,
    /// SQLite 1/0 into a PostgreSQL boolean.
    Bool,
    /// A REAL: the same double, bit for bit.
    Float,
    /// A REAL (or INTEGER) into `numeric`: the same number (the numeric reads back as the
    /// same double; full mode keeps a double's shortest exact decimal).
    Number,
    /// A time of day, alone or on ActiveRecord's 2000-01-01: the same microseconds of the day.
    TimeOfDay,
    /// A naive date/time text, meant as UTC: the same instant.
    Instant,
    /// A date/time text with an offset on SQLite, into `timestamptz`: the same instant.
    AwareInstant,
    /// JSON text: the same JSON value (jsonb may reorder keys); JSON null is not SQL NULL.
    Json,
    /// A blob: the same bytes.
    Bytes,
}

/// A table and every column of it with its meaning.
pub(crate) type TableSpec = (&'static str, &'static [(&'static str, Kind)]);

/// The name PostgreSQL gave `name` among `names`: the same, or the same ignoring case.
fn pg_name(names: &[String], name: &str) -> String {
    names
        .iter()
        .find(|n| n.as_str() == name)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(name)))
        .unwrap_or_else(|| panic!("`{name}` is missing on PostgreSQL (have {names:?})"))
        .clone()
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sqlite_expr(kind: Kind, column: &str) -> String {
    let c = quote(column);
    match kind {
        Kind::Float | Kind::Number => format!("quote({c})"),
        // `hex(NULL)` is an empty text, as is the hex of an empty blob.
        Kind::Bytes => format!("CASE WHEN {c} IS NULL THEN NULL ELSE lower(hex({c})) END"),
        _ => c,
    }
}

fn pg_expr(kind: Kind, column: &str) -> String {
    let c = quote(column);
    match kind {
        Kind::Bytes => format!("encode({c}, 'hex')"),
        Kind::Same | Kind::TimeOfDay | Kind::Json => format!("{c}::text"),
        _ => c,
    }
}

/// The meaning of one cell as comparable text; `side` is "sqlite" or "pg".
fn meaning(kind: Kind, cell: &Option<String>, side: &str) -> Option<String> {
    let text = cell.as_deref()?;
    // `quote(NULL)` is the text NULL.
    if side == "sqlite" && matches!(kind, Kind::Float | Kind::Number) && text == "NULL" {
        return None;
    }
    macro_rules! bad {
        () => {
            panic!("{side} value `{text}` is not a {kind:?}")
        };
    }
    Some(match kind {
        Kind::Same => text.to_string(),
        Kind::Bool => match (side, text) {
            ("sqlite", "1") | ("pg", "t") => "true".into(),
            ("sqlite", "0") | ("pg", "f") => "false".into(),
            _ => bad!(),
        },
        Kind::Float => format!("{:?}", text.parse::<f64>().unwrap_or_else(|_| bad!())),
        Kind::Number => format!("{:?}", text.parse::<f64>().unwrap_or_else(|_| bad!())),
        Kind::TimeOfDay => {
            let clock = text.strip_prefix("2000-01-01 ").unwrap_or(text);
            chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S%.f")
                .unwrap_or_else(|_| bad!())
                .format("%H:%M:%S%.6f")
                .to_string()
        }
        Kind::Instant => {
            let naive = match side {
                "pg" => text.strip_suffix("+00").unwrap_or(text),
                _ => text,
            };
            chrono::NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap_or_else(|_| bad!())
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string()
        }
        Kind::AwareInstant => chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")
            .unwrap_or_else(|_| bad!())
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string(),
        Kind::Json => serde_json::from_str::<serde_json::Value>(text)
            .unwrap_or_else(|_| bad!())
            .to_string(),
        Kind::Bytes => text.to_ascii_lowercase(),
    })
}

/// Asserts that every table and column of the SQLite file `source` is in `spec`, and that each
/// arrived at `url` with its meaning: the rows of each table, read independently on both
/// sides and put in their meaning, are the same multiset. Returns the number of values
/// compared.
pub(crate) fn assert_every_value_kept(source: &Path, url: &str, spec: &[TableSpec]) -> usize {
    let tables = sqlite_rows(
        source,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    let mut listed: Vec<&str> = spec.iter().map(|(t, _)| *t).collect();
    listed.sort_unstable();
    let tables: Vec<String> = tables.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(tables, listed, "every table of the source is checked");
    let pg_tables: Vec<String> = pg_rows(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();
    let mut compared = 0;
    for (table, columns) in spec {
        let source_columns: Vec<String> = sqlite_rows(
            source,
            &format!("SELECT name FROM pragma_table_info('{table}')"),
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
        let mut names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let mut all: Vec<&str> = source_columns.iter().map(String::as_str).collect();
        names.sort_unstable();
        all.sort_unstable();
        assert_eq!(names, all, "every column of `{table}` is checked");
        let pg_table = pg_name(&pg_tables, table);
        let pg_columns: Vec<String> = pg_rows(
            url,
            &format!(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{pg_table}'"
            ),
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
        let sqlite_sql = format!(
            "SELECT {} FROM {}",
            columns
                .iter()
                .map(|(c, k)| sqlite_expr(*k, c))
                .collect::<Vec<_>>()
                .join(", "),
            quote(table)
        );
        let pg_sql = format!(
            "SELECT {} FROM {}",
            columns
                .iter()
                .map(|(c, k)| pg_expr(*k, &pg_name(&pg_columns, c)))
                .collect::<Vec<_>>()
                .join(", "),
            quote(&pg_table)
        );
        let read = |rows: Vec<Vec<Option<String>>>, side: &str| {
            let mut rows: Vec<Vec<Option<String>>> = rows
                .iter()
                .map(|row| {
                    row.iter()
                        .zip(columns.iter())
                        .map(|(cell, (_, kind))| meaning(*kind, cell, side))
                        .collect()
                })
                .collect();
            rows.sort();
            rows
        };
        let expected = read(sqlite_rows(source, &sqlite_sql), "sqlite");
        let actual = read(pg_rows(url, &pg_sql), "pg");
        assert!(!expected.is_empty(), "`{table}` has rows to compare");
        assert_eq!(expected.len(), actual.len(), "`{table}`: row count");
        for (want, got) in expected.iter().zip(&actual) {
            for ((want, got), (column, kind)) in want.iter().zip(got).zip(columns.iter()) {
                assert_eq!(
                    want, got,
                    "`{table}.{column}` ({kind:?}) differs; source row {want:?}"
                );
            }
        }
        compared += expected.len() * columns.len();
    }
    compared
}

/// The Rails bed's tables (tests/orm/rails/bed.rb), every column with its meaning.
const RAILS: &[TableSpec] = {
    use Kind::*;
    &[
        (
            "ar_internal_metadata",
            &[
                ("key", Same),
                ("value", Same),
                ("created_at", Instant),
                ("updated_at", Instant),
            ],
        ),
        ("schema_migrations", &[("version", Same)]),
        (
            "categories",
            &[("id", Same), ("name", Same), ("parent_id", Same)],
        ),
        ("tags", &[("id", Same), ("label", Same)]),
        (
            "amounts",
            &[
                ("id", Same),
                ("cents", Number),
                ("fine", Number),
                ("plain", Number),
            ],
        ),
        ("items_tags", &[("item_id", Same), ("tag_id", Same)]),
        (
            "order",
            &[
                ("id", Same),
                ("item_id", Same),
                ("quantity", Same),
                ("note", Same),
            ],
        ),
        (
            "items",
            &[
                ("id", Same),
                ("category_id", Same),
                ("flag", Bool),
                ("maybe", Bool),
                ("small", Same),
                ("number", Same),
                ("big", Same),
                ("ratio", Float),
                ("price", Number),
                ("wide", Number),
                ("day", Same),
                ("clock", TimeOfDay),
                ("moment", Instant),
                ("seen_at", Instant),
                ("ident", Same),
                ("mood", Same),
                ("status", Same),
                ("data", Json),
                ("blob", Bytes),
                ("LegacyCode", Same),
                ("created_at", Instant),
                ("updated_at", Instant),
            ],
        ),
    ]
};

#[test]
fn rails_full_mode_loses_no_value() {
    let filled = crate::orm_beds::rails_fill();
    let target = crate::support::pg_db();
    let output = crate::support::run(
        filled.dir.path(),
        &[
            "migrate",
            "--quiet",
            filled.sqlite.to_str().unwrap(),
            &target.url,
        ],
    );
    crate::support::exits(&output, 0);
    let compared = assert_every_value_kept(&filled.sqlite, &target.url, RAILS);
    assert!(compared > 150, "{compared} values compared");
}
