//! CHECK constraints and partial index conditions: translated only when the result is a
//! boolean expression in PostgreSQL, and recognised when they only restate what the column's
//! PostgreSQL type already guarantees.

use crate::sql::tokenize;
use crate::transfer::model::PgType;

use super::expression::translate;
use super::scope::Scope;
use super::tokens::{canonical, strip_outer};
use super::truth::check_condition;

/// Translates a condition (a CHECK, a partial index's `WHERE`): like [`translate`], and the
/// result must be a boolean expression in PostgreSQL. SQLite takes any number as a truth value
/// (`CHECK (length(x))`, `CASE WHEN .. THEN x > 0 ELSE 1 END`, `a AND 1`); PostgreSQL does not.
pub fn translate_condition(sql: &str, scope: &Scope) -> Result<String, String> {
    let translated = translate(sql, scope)?;
    check_condition(&tokenize(&translated))?;
    Ok(translated)
}

/// Whether a CHECK on one column only restates what the column's PostgreSQL type already
/// guarantees (`flag IN (0, 1)` on a boolean, `json_valid(doc)` on jsonb, `typeof(n) =
/// 'integer'` on bigint, ...). Returns why, so the plan can say it dropped the check.
pub fn check_implied_by_type(sql: &str, column: &str, pg_type: &PgType) -> Option<&'static str> {
    let mut text = canonical(sql, column);
    for prefix in ["$C IS NULL OR", "$C ISNULL OR"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim().to_string();
        }
    }
    if let Some(rest) = text.strip_suffix("OR $C IS NULL") {
        text = rest.trim().to_string();
    }
    let text = strip_outer(&text);
    let any = |patterns: &[&str]| patterns.iter().any(|p| *p == text);
    match pg_type {
        PgType::Boolean => any(&[
            "$C IN(0,1)",
            "$C IN(1,0)",
            "$C=0 OR $C=1",
            "$C=1 OR $C=0",
            "$C BETWEEN 0 AND 1",
            "$C>=0 AND $C<=1",
            "TYPEOF($C)='integer'",
        ])
        .then_some("the boolean type allows only true and false"),
        PgType::Jsonb | PgType::Json => any(&[
            "JSON_VALID($C)",
            "JSON_VALID($C)=1",
            "JSON_VALID($C)IS 1",
            "JSON_VALID($C)<>0",
            "JSON_VALID($C)!=0",
            "TYPEOF($C)='text'",
        ])
        .then_some("the jsonb type accepts only valid JSON"),
        PgType::Timestamptz | PgType::Timestamp | PgType::Date => {
            let forms = ["DATETIME($C)", "DATE($C)", "JULIANDAY($C)", "UNIXEPOCH($C)"];
            let hit = forms.iter().any(|f| {
                text == format!("{f}IS NOT NULL")
                    || text == format!("$C IS {f}")
                    || text == format!("$C={f}")
            }) || text == "TYPEOF($C)='text'"
                || text == "TYPEOF($C)='integer'";
            hit.then_some("the date/time type accepts only valid dates and times")
        }
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            any(&["TYPEOF($C)='integer'"]).then_some("the integer type accepts only integers")
        }
        PgType::Double | PgType::Real | PgType::Numeric(_) => any(&[
            "TYPEOF($C)='real'",
            "TYPEOF($C)IN('integer','real')",
            "TYPEOF($C)IN('real','integer')",
        ])
        .then_some("the numeric type accepts only numbers"),
        PgType::Text | PgType::Varchar(_) | PgType::Citext => {
            any(&["TYPEOF($C)='text'"]).then_some("the text type accepts only text")
        }
        PgType::Bytea => any(&["TYPEOF($C)='blob'"]).then_some("the bytea type accepts only bytes"),
        PgType::Uuid => any(&["TYPEOF($C)='text'", "LENGTH($C)=36"])
            .then_some("the uuid type accepts only UUIDs"),
        _ => None,
    }
}
