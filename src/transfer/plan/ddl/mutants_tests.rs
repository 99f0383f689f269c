//! Translations `cargo mutants` found untested (see `docs/testing.md`): a view's own `WITH`
//! names after a comma or `RECURSIVE`, and a fixed timestamp default on a `date` column, which
//! PostgreSQL would silently cut to its date.

use super::*;
use crate::transfer::model::PgType;

fn view_scope() -> Scope {
    Scope {
        relations: vec![ScopeRelation {
            source: "Track".into(),
            target: "track".into(),
        }],
        schema: "public".into(),
        query: true,
        wanted: Default::default(),
        ..Scope::default()
    }
}

#[test]
fn names_a_views_with_defines_stay_its_own_and_are_not_qualified() {
    let scope = view_scope();
    let sql = translate(
        "WITH a AS (SELECT 1 AS n), b AS (SELECT n FROM a) SELECT n FROM b JOIN Track ON 1 = 1",
        &scope,
    )
    .unwrap();
    assert_eq!(
        sql,
        "WITH \"a\" AS (SELECT 1 AS \"n\"), \"b\" AS (SELECT \"n\" FROM \"a\") SELECT \"n\" FROM \"b\" JOIN \"public\".\"track\" ON 1 = 1"
    );
    let sql = translate(
        "WITH RECURSIVE r AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM r WHERE i < 3) SELECT i FROM r",
        &scope,
    )
    .unwrap();
    assert!(sql.contains("FROM \"r\""), "{sql}");
    assert!(!sql.contains("\"public\".\"r\""), "{sql}");
}

#[test]
fn a_date_column_takes_a_fixed_date_default_but_not_a_timestamp_it_would_cut() {
    assert_eq!(
        translate_default("'2024-01-31'", &PgType::Date, None),
        DefaultSql::Sql("'2024-01-31'".into())
    );
    assert!(matches!(
        translate_default("'2024-01-31 10:00:00'", &PgType::Date, None),
        DefaultSql::Flagged(_)
    ));
    assert_eq!(
        translate_default("'2024-01-31 10:00:00'", &PgType::Timestamptz, None),
        DefaultSql::Sql("'2024-01-31 10:00:00'".into())
    );
    assert!(matches!(
        translate_default("'now'", &PgType::Timestamp, None),
        DefaultSql::Flagged(_)
    ));
}

fn column_scope() -> Scope {
    let column = |name: &str, pg_type: PgType| ScopeColumn {
        source: name.into(),
        target: name.into(),
        pg_type,
        comparable: true,
    };
    Scope {
        columns: vec![column("n", PgType::BigInt), column("code", PgType::Text)],
        ..Scope::default()
    }
}

#[test]
fn relations_after_a_comma_or_join_are_the_plans_tables() {
    let mut scope = view_scope();
    scope.relations.push(ScopeRelation {
        source: "Album".into(),
        target: "album".into(),
    });
    assert_eq!(
        translate("SELECT 1 FROM Album, Track", &scope).unwrap(),
        "SELECT 1 FROM \"public\".\"album\", \"public\".\"track\""
    );
    assert_eq!(
        translate("SELECT 1 FROM Album JOIN Track ON 1 = 1", &scope).unwrap(),
        "SELECT 1 FROM \"public\".\"album\" JOIN \"public\".\"track\" ON 1 = 1"
    );
}

#[test]
fn substr_keeps_a_literal_length_and_coalesce_sees_each_arguments_type() {
    let scope = column_scope();
    let sql = translate("substr(code, 2, 3)", &scope).unwrap();
    assert!(sql.ends_with(", 3)"), "{sql}");
    assert!(translate("substr(code, 2, -1)", &scope).is_err());
    // Without a length from a start that is not negative, PostgreSQL's own rule is SQLite's.
    assert_eq!(
        translate("substr(code, 2)", &scope).unwrap(),
        "substr(\"code\", 2)"
    );
    // The second argument is the text column, not the first one again.
    assert!(translate("coalesce(n, code)", &scope).is_err());
    assert!(translate("coalesce(code, code)", &scope).is_ok());
}

#[test]
fn a_parenthesised_number_compared_is_no_truth_value() {
    let scope = column_scope();
    assert!(translate_condition("n > (1)", &scope).is_ok());
    assert!(translate_condition("n > 1 AND 1", &scope).is_err());
}

#[test]
fn short_hashes_are_fnv_1a_folded_to_32_bits() {
    // Worked out by hand from the FNV-1a definition (offset basis, prime 0x100000001b3).
    assert_eq!(short_hash(""), "4fd0bfc1");
    assert_eq!(short_hash("a"), "296230c0");
    assert_eq!(short_hash("orders_customer_id_fkey"), "98c9fecb");
}
