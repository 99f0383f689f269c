//! Widening: the type a column keeps when the declared type cannot hold every value it holds
//! (a 2 in a boolean, text in a number column), with the count and examples of the values
//! that did not fit, so the decision can be reviewed.

use super::{CastRule, ColumnFacts, Found};
use crate::transfer::model::{Conversion, PgType};
use crate::transfer::plan::profile::{ColumnProfile, Kind};
use crate::transfer::plan::sqlite_types::Declared;

/// A widened column: the type that holds every value, and the values that did not fit the
/// declared one.
pub(super) struct Widened {
    pub(super) found: Found,
    pub(super) misfits: u64,
    pub(super) examples: Vec<String>,
}

/// The type that holds every value when the declared one cannot, with the count and examples
/// of the values that did not fit.
pub(super) fn widen(facts: &ColumnFacts<'_>, kind: Declared) -> Widened {
    let p = facts.profile;
    let declared = if facts.declared.is_empty() {
        "(no declared type)"
    } else {
        facts.declared
    };
    let (misfits, examples) = misfits(p, kind);
    let examples: Vec<String> = examples.into_iter().take(3).collect();
    let classes = class_list(p);
    let found = if p.blobs > 0 && p.blobs < p.non_null() {
        Found::new(
            PgType::Bytea,
            CastRule::WidenBytea,
            format!("declared `{declared}` but holds {classes}; blobs and other values only fit together as bytes ({misfits} value(s) do not fit the declared type)"),
        )
    } else if p.blobs == p.non_null() {
        Found::new(
            PgType::Bytea,
            CastRule::BlobDeclared,
            format!("declared `{declared}` but every value is a blob"),
        )
    } else if p.integers == p.non_null() {
        Found::new(
            PgType::BigInt,
            CastRule::WidenBigint,
            format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); every value is an integer, kept as bigint"),
        )
    } else if p.integers + p.reals == p.non_null() {
        Found::new(
            PgType::Numeric(None),
            CastRule::WidenNumeric,
            format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); every value is a number, kept exactly as numeric"),
        )
    } else {
        Found::new(
            PgType::Text,
            CastRule::WidenText,
            format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); kept as text so every value survives"),
        )
    };
    Widened {
        found,
        misfits,
        examples,
    }
}

/// A column whose values of different storage classes one type would make equal (`42`,
/// `'42'`, `x'3432'`): it keeps the class most of its values are in, with its type, and the
/// values of the other classes are rejected by the conversion that keeps one class, so no two
/// distinct values arrive equal. A plan file can choose otherwise (another type, a
/// `*_only` conversion, or none to keep them all as that type).
pub(super) fn dominant_class(facts: &ColumnFacts<'_>) -> Widened {
    let p = facts.profile;
    let numbers = p.integers + p.reals;
    let (pg_type, conversion, kept, others) = if numbers >= p.texts && numbers >= p.blobs {
        let pg_type = if p.reals == 0 {
            PgType::BigInt
        } else {
            PgType::Numeric(None)
        };
        (
            pg_type,
            Conversion::NumbersOnly,
            "numbers",
            p.texts + p.blobs,
        )
    } else if p.texts >= p.blobs {
        (
            PgType::Text,
            Conversion::TextOnly,
            "text",
            numbers + p.blobs,
        )
    } else {
        (
            PgType::Bytea,
            Conversion::BlobsOnly,
            "blobs",
            numbers + p.texts,
        )
    };
    let reason = format!(
        "holds {}, and {} value(s) held in more than one storage class would become equal as one type (`42`, `'42'`, `x'3432'`): the {kept} are kept as {}, the {others} other value(s) are rejected (to keep them all, set the column's type and conversion in the plan file)",
        class_list(p),
        p.class_collisions,
        pg_type.sql()
    );
    Widened {
        found: Found::new(pg_type, CastRule::MixedDominant, reason).converted(conversion),
        misfits: others,
        examples: Vec::new(),
    }
}

/// How many values the declared type cannot hold, and examples of them.
fn misfits(p: &ColumnProfile, kind: Declared) -> (u64, Vec<String>) {
    match kind {
        Declared::Boolean => (
            p.non_null() - p.zero_one - p.text_booleans,
            [
                p.examples_of(Kind::IntegerNotBoolean),
                p.examples_of(Kind::TextNotBoolean),
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Date | Declared::Timestamp => (
            p.non_null() - p.text_timestamps,
            [
                p.examples_of(Kind::TextNotTimestamp),
                p.examples_of(Kind::Integer),
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Json => (
            p.texts - p.json_documents - p.json_scalars + p.blobs,
            [p.examples_of(Kind::TextNotJson), p.examples_of(Kind::Blob)].concat(),
        ),
        Declared::Uuid => (
            p.non_null() - p.uuids,
            [
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Integer),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::SmallInt | Declared::Int4 | Declared::BigInt => (
            p.reals + p.texts + p.blobs,
            [
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Double | Declared::Decimal(_) => (
            p.texts + p.blobs,
            [p.examples_of(Kind::Text), p.examples_of(Kind::Blob)].concat(),
        ),
        _ => (
            p.blobs.min(p.non_null() - p.blobs),
            [
                p.examples_of(Kind::Blob),
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Integer),
            ]
            .concat(),
        ),
    }
}

fn class_list(p: &ColumnProfile) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (p.integers, "integers"),
        (p.reals, "reals"),
        (p.texts, "texts"),
        (p.blobs, "blobs"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}
