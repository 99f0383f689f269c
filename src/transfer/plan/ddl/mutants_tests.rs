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
