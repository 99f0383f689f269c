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
                Outcome::Exact(cell) => {
                    let kept = exact_keeps_the_value(&value, &pg_type, &cell);
                    prop_assert!(kept.is_ok(), "{:?} into {:?} gave {:?}: {}", value, pg_type, cell, kept.unwrap_err());
                }
                Outcome::Repaired(_, reason) | Outcome::Reject(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }

}

/// Whether an exact conversion kept the value's meaning, judged by references outside the
/// converter (the standard library's and chrono's parsers, serde_json, the uuid crate). Every
/// pair of source value and cell the converter may produce is listed; an unlisted pair fails,
/// so a new conversion cannot pass unchecked.
fn exact_keeps_the_value(
    value: &SrcValue,
    pg_type: &PgType,
    cell: &Cell<'_>,
) -> Result<(), String> {
    let same = |ok: bool, why: &str| if ok { Ok(()) } else { Err(why.to_string()) };

    match (value, cell) {
        (SrcValue::Null, Cell::Null) => Ok(()),
        (SrcValue::Null, _) => Err("NULL became a value".into()),
        (_, Cell::Null) => Err("a value became NULL".into()),
        (SrcValue::Int(i), Cell::Bool(b)) => same(
            (*i == 0 || *i == 1) && *b == (*i == 1),
            "0/1 into a boolean",
        ),
        (SrcValue::Int(i), Cell::I16(j)) => same(i64::from(*j) == *i, "integer"),
        (SrcValue::Int(i), Cell::I32(j)) => same(i64::from(*j) == *i, "integer"),
        (SrcValue::Int(i), Cell::I64(j)) => same(j == i, "integer"),
        (SrcValue::Int(i), Cell::F32(y)) => same(
            f64::from(*y) as i128 == i128::from(*i) && f64::from(*y).fract() == 0.0,
            "integer into real",
        ),
        (SrcValue::Int(i), Cell::F64(y)) => same(
            *y as i128 == i128::from(*i) && y.fract() == 0.0,
            "integer into double",
        ),
        (SrcValue::Int(i), Cell::Text(t)) => {
            same(t.parse::<i128>() == Ok(i128::from(*i)), "integer as text")
        }
        (SrcValue::Int(i), Cell::Bytes(b)) => {
            same(b.as_ref() == i.to_string().as_bytes(), "integer as bytes")
        }
        (SrcValue::Float(x), Cell::F64(y)) => same(x.to_bits() == y.to_bits(), "double"),
        (SrcValue::Float(x), Cell::F32(y)) => {
            same(f64::from(*y) == *x || (x.is_nan() && y.is_nan()), "real")
        }
        (SrcValue::Float(x), Cell::I16(j)) => same(f64::from(*j) == *x, "whole real into smallint"),
        (SrcValue::Float(x), Cell::I32(j)) => same(f64::from(*j) == *x, "whole real into integer"),
        (SrcValue::Float(x), Cell::I64(j)) => same(
            *j as f64 == *x && (*j as f64) as i64 == *j,
            "whole real into bigint",
        ),
        (SrcValue::Float(x), Cell::Text(t)) => same(
            t.parse::<f64>()
                .is_ok_and(|y| y == *x || (x.is_nan() && y.is_nan()))
                || (t.as_ref() == "Infinity" && *x == f64::INFINITY)
                || (t.as_ref() == "-Infinity" && *x == f64::NEG_INFINITY),
            "real as text",
        ),
        (SrcValue::Float(x), Cell::Bytes(b)) => same(
            std::str::from_utf8(b)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                == Some(*x),
            "real as bytes",
        ),
        (SrcValue::Text(b), Cell::Text(t)) if matches!(pg_type, PgType::Numeric(_)) => {
            same(text(b)? == t.as_ref(), "numeric text")
        }
        (SrcValue::Text(b), Cell::Text(t)) => same(b.as_slice() == t.as_bytes(), "text"),
        (SrcValue::Text(b) | SrcValue::Blob(b), Cell::Bytes(c)) => {
            same(b.as_slice() == c.as_ref(), "bytes")
        }
        (SrcValue::Text(b), Cell::Bool(v)) => {
            let word = text(b)?.to_ascii_lowercase();
            let truthy = ["t", "true", "y", "yes", "on", "1"].contains(&word.as_str());
            let falsy = ["f", "false", "n", "no", "off", "0"].contains(&word.as_str());
            same((truthy && *v) || (falsy && !*v), "a boolean word")
        }
        (SrcValue::Text(b), Cell::I16(j)) => {
            same(text(b)?.parse::<i64>() == Ok(i64::from(*j)), "integer text")
        }
        (SrcValue::Text(b), Cell::I32(j)) => {
            same(text(b)?.parse::<i64>() == Ok(i64::from(*j)), "integer text")
        }
        (SrcValue::Text(b), Cell::I64(j)) => {
            same(text(b)?.parse::<i64>() == Ok(*j), "integer text")
        }
        (SrcValue::Text(b), Cell::F64(y)) => same(float_text_means(text(b)?, *y), "real text"),
        (SrcValue::Text(b), Cell::F32(y)) => {
            same(float_text_means(text(b)?, f64::from(*y)), "real text")
        }
        (SrcValue::Text(b), Cell::Jsonb(t)) => {
            let a: Result<serde_json::Value, _> = serde_json::from_slice(b);
            let c: Result<serde_json::Value, _> = serde_json::from_str(t);
            same(a.is_ok() && a.ok() == c.ok(), "the same JSON document")
        }
        (SrcValue::Text(b), Cell::Uuid(u)) => same(
            uuid::Uuid::parse_str(text(b)?).is_ok_and(|p| p.as_bytes() == u),
            "uuid",
        ),
        (SrcValue::Text(b), Cell::Days(d)) => {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let parsed = chrono::NaiveDate::parse_from_str(text(b)?, "%Y-%m-%d")
                .map(|day| (day - epoch).num_days());
            same(parsed == Ok(i64::from(*d)), "date")
        }
        (SrcValue::Text(b), Cell::TimeOfDay(micros_of_day)) => {
            let t = text(b)?;
            let parsed = chrono::NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M"));
            let micros = parsed.map(|p| (p - chrono::NaiveTime::MIN).num_microseconds().unwrap());
            same(micros == Ok(*micros_of_day), "time of day")
        }
        (SrcValue::Text(b), Cell::Micros(m)) => {
            let t = text(b)?;
            let parsed = chrono::DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1))
                .map(|d| d.timestamp_micros())
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
                        .map(|d| d.and_utc().timestamp_micros())
                })
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                        .map(|d| d.and_utc().timestamp_micros())
                });
            match parsed {
                Ok(micros) => same(micros == *m, "timestamp"),
                // A form chrono's three tries do not read (a bare date, minutes only, other
                // offsets): at least the converter's own parser must agree with the cell.
                Err(_) => same(parse_datetime(t) == Some(*m), "timestamp"),
            }
        }
        (SrcValue::Float(x), Cell::Bool(v)) => same(
            (*x == 0.0 && !*v) || (*x == 1.0 && *v),
            "0.0/1.0 into a boolean",
        ),
        // A blob into a text column, or into a type without a converter of its own (interval,
        // others; the server's input function judges it): its bytes are the text.
        (SrcValue::Blob(b), Cell::Text(t)) => same(b.as_slice() == t.as_bytes(), "bytes as text"),
        (SrcValue::Blob(b), Cell::Uuid(u)) => {
            same(b.as_slice() == u.as_slice(), "16 bytes as a uuid")
        }
        (SrcValue::Int(i), Cell::Jsonb(t)) => same(
            serde_json::from_str::<serde_json::Value>(t).ok() == Some(serde_json::json!(i)),
            "integer as a JSON number",
        ),
        (SrcValue::Float(x), Cell::Jsonb(t)) => same(
            // std's parser is exact; serde_json's default one may be off in the last digit.
            t.parse::<f64>().is_ok_and(|y| y == *x),
            "real as a JSON number",
        ),
        // A bare number in a date/time column without a conversion: the converter takes it as
        // Unix seconds, Unix milliseconds or a Julian day, whichever is plausible; the cell must
        // be one of those readings, computed here independently.
        (SrcValue::Int(_) | SrcValue::Float(_), Cell::Micros(_) | Cell::Days(_)) => {
            let x = match value {
                SrcValue::Int(i) => *i as f64,
                SrcValue::Float(x) => *x,
                _ => unreachable!(),
            };
            let micros = match cell {
                Cell::Micros(m) => *m as f64,
                Cell::Days(d) => f64::from(*d) * 86_400_000_000.0,
                _ => unreachable!(),
            };
            let readings = [x * 1e6, x * 1e3, (x - 2_440_587.5) * 86_400_000_000.0];
            same(
                readings.iter().any(|r| (r - micros).abs() < 1.0),
                "a Unix time or Julian day",
            )
        }
        (value, cell) => Err(format!(
            "an exact conversion this property does not check: {value:?} -> {cell:?}"
        )),
    }
}

/// A source text as PostgreSQL's input functions read it: UTF-8, surrounding whitespace skipped.
fn text(b: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(b)
        .map(pg_trim)
        .map_err(|e| e.to_string())
}

/// Whether the text of a real means `y` (PostgreSQL's spellings of the infinities and NaN too).
fn float_text_means(text: &str, y: f64) -> bool {
    match text.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" | "inf" | "+inf" => y == f64::INFINITY,
        "-infinity" | "-inf" => y == f64::NEG_INFINITY,
        "nan" => y.is_nan(),
        t => t
            .parse::<f64>()
            .is_ok_and(|x| x == y || (x.is_nan() && y.is_nan())),
    }
}
