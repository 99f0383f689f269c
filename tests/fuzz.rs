//! Property-based fuzzing of everything that reads untrusted text or values: declared type
//! names, DEFAULT expressions, CHECK and index SQL, the plan file, the SQL lexer, timestamps
//! and the value converter. The property is "no panic", plus, for the converter, "an exact
//! conversion keeps the value". Case counts are bounded (`PROPTEST_CASES` raises them for a
//! longer run; `scripts` in the note record the figures).

use dbshift::transfer::load::values::{convert, parse_datetime, pg_trim, Cell, Outcome, SrcValue};
use dbshift::transfer::model::{parse_pg_type, ColumnMap, Conversion, PgType, ValuePolicy};
use dbshift::transfer::plan::ddl::{
    translate, translate_condition, translate_default, Scope, ScopeColumn,
};
use dbshift::transfer::plan::sqlite_types::{affinity, declared_kind};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000)
}

/// SQL-ish text: keywords, punctuation, quotes, numbers, odd unicode and control bytes.
fn sqlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "SELECT",
        "CASE",
        "WHEN",
        "THEN",
        "END",
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "LIKE",
        "GLOB",
        "COLLATE",
        "NOCASE",
        "datetime",
        "strftime",
        "'now'",
        "CURRENT_TIMESTAMP",
        "(",
        ")",
        ",",
        "'",
        "\"",
        "`",
        "[",
        "]",
        "--",
        "/*",
        "*/",
        "$1",
        "?",
        "||",
        "%",
        "-",
        "+",
        "*",
        "/",
        "=",
        "<>",
        "0",
        "1",
        "-1.5e308",
        "x'00ff'",
        "a",
        "b",
        "\u{0}",
        "é",
        "🦀",
        "\n",
        " ",
        ";",
        "json_valid",
        "typeof",
        "length",
        "substr",
    ]);
    prop::collection::vec(atoms, 0..40).prop_map(|parts| parts.concat())
}

fn scope() -> Scope {
    Scope {
        columns: vec![
            ScopeColumn {
                source: "a".into(),
                target: "a".into(),
                pg_type: PgType::BigInt,
                comparable: true,
            },
            ScopeColumn {
                source: "b".into(),
                target: "b".into(),
                pg_type: PgType::Text,
                comparable: true,
            },
        ],
        ..Scope::default()
    }
}

fn pg_types() -> impl Strategy<Value = PgType> {
    prop::sample::select(vec![
        PgType::Boolean,
        PgType::SmallInt,
        PgType::Integer,
        PgType::BigInt,
        PgType::Real,
        PgType::Double,
        PgType::Numeric(None),
        PgType::Numeric(Some((6, 2))),
        PgType::Text,
        PgType::Varchar(Some(3)),
        PgType::Bytea,
        PgType::Date,
        PgType::Time,
        PgType::Timestamp,
        PgType::Timestamptz,
        PgType::Interval,
        PgType::Json,
        PgType::Jsonb,
        PgType::Uuid,
        PgType::Inet,
        PgType::Enum {
            name: "e".into(),
            labels: vec!["a".into(), "b".into()],
        },
    ])
}

fn src_values() -> impl Strategy<Value = SrcValue> {
    prop_oneof![
        Just(SrcValue::Null),
        any::<i64>().prop_map(SrcValue::Int),
        any::<f64>().prop_map(SrcValue::Float),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(SrcValue::Text),
        ".{0,30}".prop_map(|s: String| SrcValue::Text(s.into_bytes())),
        sqlish().prop_map(|s| SrcValue::Text(s.into_bytes())),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(SrcValue::Blob),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn declared_type_names_never_panic(text in ".{0,40}", sql in sqlish()) {
        for t in [&text, &sql] {
            let _ = affinity(t);
            let _ = declared_kind(t);
            let _ = parse_pg_type(t);
        }
    }

    #[test]
    fn defaults_checks_and_index_sql_never_panic(sql in sqlish(), text in ".{0,60}", pg_type in pg_types()) {
        let scope = scope();
        for s in [&sql, &text] {
            let _ = translate(s, &scope);
            let _ = translate_condition(s, &scope);
            let _ = translate_default(s, &pg_type, None);
            let _ = translate_default(s, &pg_type, Some(Conversion::UnixSeconds));
            let _ = dbshift::sql::lex(s);
            let _ = dbshift::sql::segments(s, 2);
        }
    }

    #[test]
    fn plan_files_never_panic(text in ".{0,200}", sql in sqlish()) {
        let _ = dbshift::transfer::Plan::from_toml(&text);
        let _ = dbshift::transfer::Plan::from_toml(&format!("source = \"x\"\n[options]\ntarget_schema = \"{}\"\n", sql.replace('"', "")));
        let _ = dbshift::DbConfig::from_toml(&text, "fuzz");
    }

    #[test]
    fn timestamps_never_panic(text in ".{0,40}", digits in "[0-9 :T.Z+-]{0,32}") {
        let _ = parse_datetime(&text);
        let _ = parse_datetime(&digits);
    }

    #[test]
    fn the_converter_never_panics_and_exact_means_equal(value in src_values(), pg_type in pg_types(), not_null in any::<bool>()) {
        for policy in [ValuePolicy::Reject, ValuePolicy::Null, ValuePolicy::Replace, ValuePolicy::Escape] {
            let column = ColumnMap { source: "c".into(), target: "c".into(), pg_type: pg_type.clone(), not_null, policy, conversion: None, json_profiled: false };
            match convert(&value, &column) {
                Outcome::Exact(cell) => match (&value, &cell) {
                    (SrcValue::Int(i), Cell::I64(j)) => prop_assert_eq!(i, j),
                    (SrcValue::Float(x), Cell::F64(y)) => prop_assert_eq!(x.to_bits(), y.to_bits()),
                    // A numeric's text is the number, with the whitespace PostgreSQL skips taken off.
                    (SrcValue::Text(b), Cell::Text(t)) if matches!(pg_type, PgType::Numeric(_)) => {
                        prop_assert_eq!(pg_trim(std::str::from_utf8(b).unwrap()), t.as_ref())
                    }
                    (SrcValue::Text(b), Cell::Text(t)) => prop_assert_eq!(b.as_slice(), t.as_bytes()),
                    (SrcValue::Blob(b) | SrcValue::Text(b), Cell::Bytes(c)) => prop_assert_eq!(b.as_slice(), c.as_ref()),
                    (SrcValue::Null, cell) => prop_assert_eq!(cell, &Cell::Null),
                    _ => {}
                },
                Outcome::Repaired(_, reason) | Outcome::Reject(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }
}
