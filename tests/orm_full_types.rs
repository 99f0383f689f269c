//! Full mode for applications on an ORM (issue 12): dbshift makes the PostgreSQL schema itself,
//! and with the ORM found (or named) every name keeps its exact case, since ORMs quote every
//! name, and a field whose SQLite declaration belongs to one field of that ORM gets the type
//! the ORM creates on PostgreSQL (Django's `char(32)` UUIDs become `uuid`, its `char(39)` IP
//! addresses `inet`; SQLAlchemy's naive `DATETIME` a `timestamp without time zone`).
//!
//! Two independent truths: the source and the target read through the `sqlite3` shell and
//! `psql` (every value of the converted columns, with the mapping written here), and the ORM
//! itself reading every object back from the full-mode schema (leaving out only the fields
//! whose SQLite declaration the ORM shares with another field, which stay as the numbers or
//! date/times they are and are compared through `psql` instead).

use std::process::Output;

use crate::orm_beds::{
    bed, django_supports_the_server, fill, migrate_with, python, report, succeeded,
};
use crate::support::independent::{assert_same_rows, pg_rows};
use crate::support::pg_db;

/// The report of a run that lost, skipped and changed nothing.
fn clean_report(output: &Output) -> serde_json::Value {
    let report = report(output);
    assert_eq!(report["totals"]["rows_rejected"], 0, "{report:#}");
    assert_eq!(report["totals"]["values_repaired"], 0, "{report:#}");
    assert_eq!(report["verification"]["ok"], true, "{report:#}");
    report
}

/// `column type` of every column of `table`, in order, as PostgreSQL's catalog names them.
fn column_types(url: &str, table: &str) -> Vec<String> {
    pg_rows(
        url,
        &format!(
            "SELECT column_name || ' ' || data_type FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
        ),
    )
    .into_iter()
    .map(|row| row[0].clone().unwrap())
    .collect()
}

fn has_all(types: &[String], wanted: &[&str]) {
    for want in wanted {
        assert!(
            types.iter().any(|t| t == want),
            "no column `{want}` in {types:?}"
        );
    }
}

#[test]
fn django_full_mode_keeps_every_value_the_quoted_case_and_djangos_types() {
    let filled = fill("django");
    let target = pg_db();
    let report = clean_report(&migrate_with(&filled, &target.url, &[]));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("ORM: django (found `django_migrations`)"),
        "{notes}"
    );
    // `db_column="LegacyCode"`: Django asks for "LegacyCode", so it keeps its case; the types
    // are those django/db/backends/postgresql/base.py creates.
    has_all(
        &column_types(&target.url, "shop_item"),
        &[
            "LegacyCode text",
            "ident uuid",
            "ip inet",
            "flag boolean",
            "maybe boolean",
            "moment timestamp with time zone",
            "took bigint",
        ],
    );
    has_all(&column_types(&target.url, "order"), &["quantity integer"]);
    // `bigint` is a DurationField or a BigIntegerField: kept as numbers, and said so; a
    // DecimalField's `decimal` has lost its digits: `numeric`, and said so.
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("column `shop_item.took`")
            && warnings.contains("microseconds_to_interval")
            && warnings.contains("column `shop_item.price`: Django declares every DecimalField"),
        "{warnings}"
    );
    // Every value of the converted columns, read without dbshift. Django writes UUIDs as 32
    // hex digits and aware datetimes as naive UTC text, leaving out a zero fraction.
    assert_same_rows(
        "shop_item",
        &filled.sqlite,
        "SELECT id, ident, ip, flag, maybe, \
         CASE WHEN length(moment) = 19 THEN moment || '.000000' ELSE moment END, \
         took, price, \"LegacyCode\" FROM shop_item ORDER BY id",
        &target.url,
        "SELECT id, replace(ident::text, '-', ''), host(ip), flag::int, maybe::int, \
         to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), \
         took, price, \"LegacyCode\" FROM shop_item ORDER BY id",
    );
    assert_same_rows(
        "order",
        &filled.sqlite,
        "SELECT id, item_id, quantity, waited FROM \"order\" ORDER BY id",
        &target.url,
        "SELECT id, item_id, quantity, waited FROM \"order\" ORDER BY id",
    );
    // Django reads every other field back from the schema dbshift made, with its own types,
    // answers the queries the same, and new objects get fresh ids. (`price` reads back as the
    // same number without Django's padding zeros: compared through psql above.)
    if django_supports_the_server(&target.url) {
        let check = python(
            &bed("django"),
            &[
                "check",
                &target.url,
                filled.expected.to_str().unwrap(),
                "--ignore",
                "took,waited,price",
            ],
        );
        let stdout = succeeded("django: reading the full-mode schema", &check);
        assert!(stdout.contains("0 differences"), "{stdout}");
    }
}

#[test]
fn without_an_orm_every_lowercased_mixed_case_name_is_listed() {
    let filled = fill("django");
    let target = pg_db();
    let report = clean_report(&migrate_with(&filled, &target.url, &["--orm", "none"]));
    assert!(report["notes"].to_string().contains("ORM: none (as asked)"));
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("mixed-case name(s) lowercased")
            && warnings.contains("column `shop_item.LegacyCode` -> `legacycode`"),
        "{warnings}"
    );
    let types = column_types(&target.url, "shop_item");
    // No ORM: the plan's own rules, which keep Django's UUIDs and addresses as text.
    has_all(&types, &["legacycode text", "ident text", "ip text"]);
    assert_same_rows(
        "shop_item",
        &filled.sqlite,
        "SELECT id, ident, ip, \"LegacyCode\" FROM shop_item ORDER BY id",
        &target.url,
        "SELECT id, ident, ip, legacycode FROM shop_item ORDER BY id",
    );
}

#[test]
fn sqlalchemy_full_mode_keeps_every_value_the_quoted_case_and_its_types() {
    let filled = fill("sqlalchemy");
    let target = pg_db();
    // SQLAlchemy without Alembic leaves no bookkeeping table: the ORM is named.
    let report = clean_report(&migrate_with(
        &filled,
        &target.url,
        &["--orm", "sqlalchemy"],
    ));
    assert!(report["notes"]
        .to_string()
        .contains("ORM: sqlalchemy (as asked)"));
    has_all(
        &column_types(&target.url, "item"),
        &[
            "LegacyCode text",
            "ident uuid",
            "moment timestamp without time zone",
            "data json",
            "flag boolean",
            "took timestamp without time zone",
        ],
    );
    // SQLAlchemy writes UUIDs as 32 hex digits, DATETIME as wall-clock text with six fraction
    // digits, JSON as text (which `json` keeps as written, key order and spaces included).
    assert_same_rows(
        "item",
        &filled.sqlite,
        "SELECT id, ident, moment, took, data, \"LegacyCode\" FROM item ORDER BY id",
        &target.url,
        "SELECT id, replace(ident::text, '-', ''), \
         to_char(moment, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(took, 'YYYY-MM-DD HH24:MI:SS.US'), \
         data::text, \"LegacyCode\" FROM item ORDER BY id",
    );
    let check = python(
        &bed("sqlalchemy"),
        &[
            "check",
            &target.url,
            filled.expected.to_str().unwrap(),
            "--ignore",
            "took,waited",
        ],
    );
    let stdout = succeeded("sqlalchemy: reading the full-mode schema", &check);
    assert!(stdout.contains("0 differences"), "{stdout}");
}
