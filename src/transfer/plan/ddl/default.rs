//! SQLite `DEFAULT` expressions in PostgreSQL, by the column's chosen type: the current time in
//! its many SQLite spellings, literals read as the column's type, and what cannot carry over
//! (local time, `'now'` evaluated once) flagged with why.

use crate::dialect::quote_literal;
use crate::sql::{matching_paren, tokenize, Token, TokenKind};
use crate::transfer::model::{Conversion, PgType};
use crate::transfer::plan::profile::{json_shape, timestamp_shape};

use super::tokens::{blob_literal, canonical, number};

/// What becomes of a SQLite `DEFAULT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultSql {
    /// No default (SQLite's was `NULL`).
    None,
    /// The PostgreSQL default expression.
    Sql(String),
    /// Not translated, with why; the column gets no default.
    Flagged(String),
}

/// The current time in one of SQLite's text or number forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Now {
    /// `YYYY-MM-DD HH:MM:SS` (`CURRENT_TIMESTAMP`, `datetime('now')`).
    DateTime,
    /// `YYYY-MM-DD HH:MM:SS.SSS` (`strftime('%Y-%m-%d %H:%M:%f', 'now')`).
    DateTimeMillis,
    /// `YYYY-MM-DD HH:MM:SS.SSS000` (`strftime('%Y-%m-%d %H:%M:%f000', 'now')`: six
    /// fractional digits, the fixed-width form dbshift's own data layer writes).
    DateTimeMicros,
    /// `YYYY-MM-DDTHH:MM:SS.SSSZ`.
    IsoMillisZ,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    IsoZ,
    /// `YYYY-MM-DD`.
    Date,
    /// `HH:MM:SS`.
    Time,
    /// Unix seconds.
    UnixSeconds,
    /// Unix milliseconds.
    UnixMillis,
    /// A Julian day number.
    JulianDay,
}

fn now_form(canonical: &str) -> Option<Now> {
    let strftime = |format: &str| format!("STRFTIME('{format}','now')");
    let c = canonical;
    Some(match c {
        "CURRENT_TIMESTAMP" | "DATETIME('now')" | "DATETIME('NOW')" => Now::DateTime,
        "CURRENT_DATE" | "DATE('now')" | "DATE('NOW')" => Now::Date,
        "CURRENT_TIME" | "TIME('now')" | "TIME('NOW')" => Now::Time,
        "JULIANDAY('now')" | "JULIANDAY()" => Now::JulianDay,
        "UNIXEPOCH()" | "UNIXEPOCH('now')" | "CAST(STRFTIME('%s','now')AS INTEGER)" => {
            Now::UnixSeconds
        }
        "CAST((JULIANDAY('now')-2440587.5)*86400000 AS INTEGER)"
        | "STRFTIME('%s','now')*1000"
        | "CAST(STRFTIME('%s','now')AS INTEGER)*1000"
        | "UNIXEPOCH()*1000" => Now::UnixMillis,
        _ if c == strftime("%Y-%m-%d %H:%M:%S") => Now::DateTime,
        _ if c == strftime("%Y-%m-%d %H:%M:%f") => Now::DateTimeMillis,
        _ if c == strftime("%Y-%m-%d %H:%M:%f000") => Now::DateTimeMicros,
        _ if c == strftime("%Y-%m-%dT%H:%M:%fZ") => Now::IsoMillisZ,
        _ if c == strftime("%Y-%m-%dT%H:%M:%SZ") => Now::IsoZ,
        _ if c == strftime("%Y-%m-%d") => Now::Date,
        _ if c == strftime("%H:%M:%S") => Now::Time,
        _ if c == strftime("%s") => Now::UnixSeconds,
        _ => return None,
    })
}

const UTC_NOW: &str = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')";

fn render_now(form: Now, pg_type: &PgType, conversion: Option<Conversion>) -> Option<String> {
    let epoch = "extract(epoch FROM CURRENT_TIMESTAMP)";
    let text = |format: &str| format!("to_char({UTC_NOW}, '{format}')");
    Some(match (pg_type, form) {
        (PgType::Timestamptz, _) => "CURRENT_TIMESTAMP".into(),
        (PgType::Timestamp, _) => UTC_NOW.into(),
        (PgType::Date, _) => format!("{UTC_NOW}::date"),
        (PgType::Time, _) => format!("{UTC_NOW}::time"),
        (PgType::Text | PgType::Varchar(_) | PgType::Citext, form) => match form {
            Now::DateTime => text("YYYY-MM-DD HH24:MI:SS"),
            Now::DateTimeMillis => text("YYYY-MM-DD HH24:MI:SS.MS"),
            Now::DateTimeMicros => text("YYYY-MM-DD HH24:MI:SS.MS\"000\""),
            Now::IsoMillisZ => text("YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\""),
            Now::IsoZ => text("YYYY-MM-DD\"T\"HH24:MI:SS\"Z\""),
            Now::Date => text("YYYY-MM-DD"),
            Now::Time => text("HH24:MI:SS"),
            Now::UnixSeconds => format!("(floor({epoch}))::bigint::text"),
            Now::UnixMillis => format!("(floor({epoch} * 1000))::bigint::text"),
            Now::JulianDay => return None,
        },
        (PgType::BigInt | PgType::Integer, Now::UnixSeconds) if conversion.is_none() => {
            format!("(floor({epoch}))::bigint")
        }
        (PgType::BigInt, Now::UnixMillis) if conversion.is_none() => {
            format!("(floor({epoch} * 1000))::bigint")
        }
        (PgType::Double | PgType::Numeric(_), Now::JulianDay) => {
            format!("({epoch} / 86400.0 + 2440587.5)")
        }
        (PgType::Double | PgType::Numeric(_), Now::UnixSeconds) => epoch.into(),
        _ => return None,
    })
}

/// `canonical` without its `,'localtime'` modifier (in any case).
fn without_localtime(canonical: &str) -> String {
    let lower = canonical.to_ascii_lowercase();
    match lower.find(",'localtime'") {
        Some(at) => format!(
            "{}{}",
            &canonical[..at],
            &canonical[at + ",'localtime'".len()..]
        ),
        None => canonical.to_string(),
    }
}

/// Translates a SQLite `DEFAULT` (its SQL text as `pragma table_info` reports it) for a column
/// of `pg_type`, into what SQLite would have stored: a literal in the column's type, or the
/// same clock reading in the column's form. Anything else is flagged, never copied as text.
pub fn translate_default(
    sql: &str,
    pg_type: &PgType,
    conversion: Option<Conversion>,
) -> DefaultSql {
    let canonical = canonical(sql, "\u{0}");
    if canonical.eq_ignore_ascii_case("NULL") {
        return DefaultSql::None;
    }
    let flag = |why: String| DefaultSql::Flagged(why);
    if canonical.to_ascii_lowercase().contains("'localtime'") {
        // The local wall-clock time of the machine that wrote the row. Once the user said which
        // zone that is (`--source-timezone`, so the column is read `naive_in_zone` into a
        // timestamptz), such a text means the instant it was written: the same clock reading
        // as the UTC form gives.
        if let Some(Conversion::NaiveInZone(_)) = conversion {
            let utc = without_localtime(&canonical);
            if let Some(expr) = now_form(&utc).and_then(|form| render_now(form, pg_type, None)) {
                return DefaultSql::Sql(expr);
            }
        }
        return flag(format!(
            "`{sql}` is the local time of the machine that wrote the row; no default set (give the zone it ran in with `--source-timezone` to keep it)"
        ));
    }
    if let Some(form) = now_form(&canonical) {
        return match render_now(form, pg_type, conversion) {
            Some(expr) => DefaultSql::Sql(expr),
            None => flag(format!(
                "`{sql}` has no equivalent for a {} column",
                pg_type.sql()
            )),
        };
    }
    let tokens = tokenize(sql);
    let inner: Vec<Token<'_>> = strip_parens(&tokens);
    match inner.as_slice() {
        [t] if t.is_word("TRUE") || t.is_word("FALSE") => {
            let value = t.is_word("TRUE");
            literal_default(
                if value { "1" } else { "0" },
                LiteralKind::Boolean(value),
                pg_type,
                conversion,
                sql,
            )
        }
        [sign, n] if (sign.is_punct("-") || sign.is_punct("+")) && n.kind == TokenKind::Number => {
            match number(n.text) {
                Ok(text) => literal_default(
                    &format!("{}{text}", if sign.is_punct("-") { "-" } else { "" }),
                    LiteralKind::Number,
                    pg_type,
                    conversion,
                    sql,
                ),
                Err(e) => flag(e),
            }
        }
        [n] if n.kind == TokenKind::Number => match number(n.text) {
            Ok(text) => literal_default(&text, LiteralKind::Number, pg_type, conversion, sql),
            Err(e) => flag(e),
        },
        // A default cannot name a column, so SQLite reads `"word"` as the string 'word'.
        [s] if s.kind == TokenKind::String
            || (s.kind == TokenKind::QuotedIdent && s.text.starts_with('"')) =>
        {
            literal_default(
                &crate::sql::unquote(s.text),
                LiteralKind::Text,
                pg_type,
                conversion,
                sql,
            )
        }
        [b] if b.kind == TokenKind::Blob => match (pg_type, blob_literal(b.text)) {
            (PgType::Bytea, Ok(literal)) => DefaultSql::Sql(literal),
            _ => flag(format!(
                "blob default `{sql}` does not fit a {} column",
                pg_type.sql()
            )),
        },
        inner => match constant(inner) {
            Some(Constant::Integer(n)) => literal_default(
                &n.to_string(),
                LiteralKind::Number,
                pg_type,
                conversion,
                sql,
            ),
            Some(Constant::Text(text)) => {
                literal_default(&text, LiteralKind::Text, pg_type, conversion, sql)
            }
            None => flag(format!(
                "default `{sql}` is an expression with no PostgreSQL equivalent; no default set"
            )),
        },
    }
}

/// The value of a constant expression SQLite evaluates when a row takes the default.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Constant {
    Integer(i64),
    Text(String),
}

/// Evaluates a constant expression of integer and text literals with `+ - * / %`, unary
/// minus, `||` and parentheses, as SQLite does (integer division truncates; `||` prints
/// integers). Reals, overflow, a zero divisor (SQLite's NULL) or arithmetic on text give
/// `None`: the default is then flagged.
fn constant(tokens: &[Token<'_>]) -> Option<Constant> {
    let mut at = 0;
    let value = sum(tokens, &mut at)?;
    (at == tokens.len()).then_some(value)
}

fn sum(tokens: &[Token<'_>], at: &mut usize) -> Option<Constant> {
    let mut left = product(tokens, at)?;
    while let Some(op) = tokens
        .get(*at)
        .filter(|t| t.is_punct("+") || t.is_punct("-"))
    {
        *at += 1;
        let right = product(tokens, at)?;
        left = integer_op(op.text, &left, &right)?;
    }
    Some(left)
}

fn product(tokens: &[Token<'_>], at: &mut usize) -> Option<Constant> {
    let mut left = concatenation(tokens, at)?;
    while let Some(op) = tokens
        .get(*at)
        .filter(|t| t.is_punct("*") || t.is_punct("/") || t.is_punct("%"))
    {
        *at += 1;
        let right = concatenation(tokens, at)?;
        left = integer_op(op.text, &left, &right)?;
    }
    Some(left)
}

/// `||` binds tighter than arithmetic in SQLite.
fn concatenation(tokens: &[Token<'_>], at: &mut usize) -> Option<Constant> {
    let mut left = unary(tokens, at)?;
    while tokens.get(*at).is_some_and(|t| t.is_punct("||")) {
        *at += 1;
        let right = unary(tokens, at)?;
        let text = |c: &Constant| match c {
            Constant::Integer(n) => n.to_string(),
            Constant::Text(t) => t.clone(),
        };
        left = Constant::Text(format!("{}{}", text(&left), text(&right)));
    }
    Some(left)
}

fn unary(tokens: &[Token<'_>], at: &mut usize) -> Option<Constant> {
    let t = tokens.get(*at)?;
    *at += 1;
    match t.kind {
        TokenKind::Punct if t.text == "-" => match unary(tokens, at)? {
            Constant::Integer(n) => n.checked_neg().map(Constant::Integer),
            Constant::Text(_) => None,
        },
        TokenKind::Punct if t.text == "+" => unary(tokens, at),
        TokenKind::Punct if t.text == "(" => {
            let value = sum(tokens, at)?;
            tokens.get(*at).filter(|t| t.is_punct(")"))?;
            *at += 1;
            Some(value)
        }
        TokenKind::Number => number(t.text).ok()?.parse().ok().map(Constant::Integer),
        TokenKind::String => Some(Constant::Text(crate::sql::unquote(t.text))),
        _ => None,
    }
}

fn integer_op(op: &str, left: &Constant, right: &Constant) -> Option<Constant> {
    let (Constant::Integer(a), Constant::Integer(b)) = (left, right) else {
        return None;
    };
    match op {
        "+" => a.checked_add(*b),
        "-" => a.checked_sub(*b),
        "*" => a.checked_mul(*b),
        "/" => a.checked_div(*b),
        "%" => a.checked_rem(*b),
        _ => None,
    }
    .map(Constant::Integer)
}

fn strip_parens<'a>(tokens: &[Token<'a>]) -> Vec<Token<'a>> {
    let mut slice = tokens;
    while slice.len() >= 2
        && slice[0].is_punct("(")
        && matching_paren(slice, 0) == Some(slice.len() - 1)
    {
        slice = &slice[1..slice.len() - 1];
    }
    slice.to_vec()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LiteralKind {
    Number,
    Text,
    Boolean(bool),
}

fn literal_default(
    value: &str,
    kind: LiteralKind,
    pg_type: &PgType,
    conversion: Option<Conversion>,
    sql: &str,
) -> DefaultSql {
    let flag = || {
        DefaultSql::Flagged(format!(
            "default `{sql}` does not fit a {} column; no default set",
            pg_type.sql()
        ))
    };
    let trimmed = value.trim();
    match pg_type {
        PgType::Boolean => match (kind, trimmed.to_ascii_lowercase().as_str()) {
            (LiteralKind::Boolean(b), _) => {
                DefaultSql::Sql(if b { "TRUE" } else { "FALSE" }.into())
            }
            (_, "1" | "t" | "true" | "y" | "yes" | "on") => DefaultSql::Sql("TRUE".into()),
            (_, "0" | "f" | "false" | "n" | "no" | "off") => DefaultSql::Sql("FALSE".into()),
            _ => flag(),
        },
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            integer_default(trimmed, pg_type).map_or_else(flag, DefaultSql::Sql)
        }
        PgType::Double | PgType::Real | PgType::Numeric(_) => match trimmed.parse::<f64>() {
            Ok(f) if f.is_finite() => DefaultSql::Sql(trimmed.to_string()),
            _ => flag(),
        },
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => match kind {
            // SQLite stores a number in a text column as its text; only integers are sure to
            // print the same on both sides.
            LiteralKind::Number if trimmed.parse::<i64>().is_err() => flag(),
            _ => DefaultSql::Sql(quote_literal(value)),
        },
        PgType::Timestamptz | PgType::Timestamp | PgType::Date if kind == LiteralKind::Number => {
            epoch_default(trimmed, pg_type, conversion).map_or_else(flag, DefaultSql::Sql)
        }
        PgType::Timestamptz | PgType::Timestamp | PgType::Date => match timestamp_shape(trimmed) {
            Some(shape) if *pg_type != PgType::Date || shape.date_only => {
                DefaultSql::Sql(quote_literal(trimmed))
            }
            // 'now' and 'today' would be frozen at CREATE TABLE time in PostgreSQL.
            _ => DefaultSql::Flagged(format!(
                "default `{sql}` is not a fixed date/time (PostgreSQL would freeze words like 'now' when the table is created); no default set"
            )),
        },
        PgType::Json | PgType::Jsonb => match json_shape(value) {
            Some(_) if kind != LiteralKind::Number || trimmed.parse::<f64>().is_ok() => {
                DefaultSql::Sql(quote_literal(value))
            }
            _ => flag(),
        },
        PgType::Uuid => match uuid::Uuid::parse_str(trimmed) {
            Ok(u) if u.hyphenated().to_string() == trimmed => {
                DefaultSql::Sql(quote_literal(trimmed))
            }
            _ => flag(),
        },
        PgType::Bytea => match kind {
            LiteralKind::Text => {
                let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
                DefaultSql::Sql(format!("'\\x{hex}'::bytea"))
            }
            _ => flag(),
        },
        _ => flag(),
    }
}

/// An integer literal (or a whole real, as SQLite stores `5.0`) that fits the integer type.
fn integer_default(trimmed: &str, pg_type: &PgType) -> Option<String> {
    let parsed = trimmed.parse::<i64>().ok().or_else(|| {
        trimmed
            .parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })?;
    let fits = match pg_type {
        PgType::SmallInt => i16::try_from(parsed).is_ok(),
        PgType::Integer => i32::try_from(parsed).is_ok(),
        _ => true,
    };
    fits.then(|| parsed.to_string())
}

/// A number on a date/time column: the instant it means under the column's conversion (Unix
/// seconds or milliseconds, Julian day), which only a `timestamptz` epoch column has.
fn epoch_default(
    trimmed: &str,
    pg_type: &PgType,
    conversion: Option<Conversion>,
) -> Option<String> {
    let n = trimmed.parse::<f64>().ok()?;
    match (pg_type, conversion) {
        (PgType::Timestamptz, Some(Conversion::UnixSeconds)) => {
            Some(format!("to_timestamp({trimmed})"))
        }
        (PgType::Timestamptz, Some(Conversion::UnixMilliseconds)) => {
            Some(format!("to_timestamp({trimmed} / 1000.0)"))
        }
        (PgType::Timestamptz, Some(Conversion::JulianDay)) => {
            Some(format!("to_timestamp(({n} - 2440587.5) * 86400)"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_translate_by_target_type() {
        use DefaultSql::{Flagged, Sql};
        let ts = PgType::Timestamptz;
        assert_eq!(
            translate_default("CURRENT_TIMESTAMP", &ts, None),
            Sql("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            translate_default("datetime('now')", &ts, None),
            Sql("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            translate_default("(datetime( 'now' ))", &PgType::Text, None),
            Sql(format!("to_char({UTC_NOW}, 'YYYY-MM-DD HH24:MI:SS')"))
        );
        assert_eq!(
            translate_default("strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", &PgType::Text, None),
            Sql(format!(
                "to_char({UTC_NOW}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            ))
        );
        assert_eq!(
            translate_default(
                "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
                &PgType::Timestamptz,
                None
            ),
            DefaultSql::Sql("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            translate_default("strftime('%s','now')", &PgType::BigInt, None),
            Sql("(floor(extract(epoch FROM CURRENT_TIMESTAMP)))::bigint".into())
        );
        assert_eq!(
            translate_default("strftime('%s','now')", &ts, Some(Conversion::UnixSeconds)),
            Sql("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            translate_default(
                "CAST(strftime('%s', 'now') AS INTEGER)",
                &PgType::BigInt,
                None
            ),
            translate_default("unixepoch()", &PgType::BigInt, None)
        );
        assert_eq!(
            translate_default(
                "(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                &PgType::BigInt,
                None
            ),
            Sql("(floor(extract(epoch FROM CURRENT_TIMESTAMP) * 1000))::bigint".into())
        );
        assert_eq!(
            translate_default("CURRENT_DATE", &PgType::Date, None),
            Sql(format!("{UTC_NOW}::date"))
        );
        assert!(matches!(
            translate_default("datetime('now', 'localtime')", &ts, None),
            Flagged(_)
        ));
        // With the source's zone known, the local wall clock is the instant it was written.
        let paris = Some(Conversion::NaiveInZone(
            "Europe/Paris"
                .parse::<crate::transfer::model::SourceZone>()
                .unwrap(),
        ));
        assert_eq!(
            translate_default("datetime('now', 'localtime')", &PgType::Timestamptz, paris),
            translate_default("datetime('now')", &PgType::Timestamptz, None)
        );
        assert!(matches!(
            translate_default("datetime('now', 'localtime')", &PgType::Timestamptz, paris),
            Sql(_)
        ));
        assert!(matches!(translate_default("'now'", &ts, None), Flagged(_)));
        assert_eq!(
            translate_default("'now'", &PgType::Text, None),
            Sql("'now'".into())
        );
        assert_eq!(
            translate_default("'2020-01-01 00:00:00'", &ts, None),
            Sql("'2020-01-01 00:00:00'".into())
        );
        assert_eq!(
            translate_default("0", &PgType::Boolean, None),
            Sql("FALSE".into())
        );
        assert_eq!(
            translate_default("TRUE", &PgType::Boolean, None),
            Sql("TRUE".into())
        );
        assert_eq!(
            translate_default("'t'", &PgType::Boolean, None),
            Sql("TRUE".into())
        );
        assert!(matches!(
            translate_default("2", &PgType::Boolean, None),
            Flagged(_)
        ));
        assert_eq!(
            translate_default("-1", &PgType::BigInt, None),
            Sql("-1".into())
        );
        assert_eq!(
            translate_default("0x10", &PgType::BigInt, None),
            Sql("16".into())
        );
        assert_eq!(
            translate_default("'5'", &PgType::Integer, None),
            Sql("5".into())
        );
        assert!(matches!(
            translate_default("'abc'", &PgType::Integer, None),
            Flagged(_)
        ));
        assert_eq!(
            translate_default("0", &PgType::Text, None),
            Sql("'0'".into())
        );
        assert_eq!(
            translate_default("'null'", &PgType::Text, None),
            Sql("'null'".into())
        );
        assert_eq!(
            translate_default("'null'", &PgType::Jsonb, None),
            Sql("'null'".into())
        );
        assert_eq!(
            translate_default("'{}'", &PgType::Jsonb, None),
            Sql("'{}'".into())
        );
        assert!(matches!(
            translate_default("'{'", &PgType::Jsonb, None),
            Flagged(_)
        ));
        assert_eq!(
            translate_default("NULL", &PgType::Text, None),
            DefaultSql::None
        );
        assert_eq!(
            translate_default("x'00FF'", &PgType::Bytea, None),
            Sql("'\\x00ff'::bytea".into())
        );
        assert_eq!(
            translate_default("1.5", &PgType::Double, None),
            Sql("1.5".into())
        );
        assert_eq!(
            translate_default("1700000000", &ts, Some(Conversion::UnixSeconds)),
            Sql("to_timestamp(1700000000)".into())
        );
        assert!(matches!(
            translate_default("(lower(hex(randomblob(16))))", &PgType::Text, None),
            Flagged(_)
        ));
        assert!(
            matches!(translate_default("'it''s'", &PgType::Text, None), Sql(s) if s == "'it''s'")
        );
        for garbage in ["(", "'", "((1)", "x'0'", "CURRENT_TIMESTAMP(", "1e999999"] {
            let _ = translate_default(garbage, &ts, None);
            let _ = translate_default(garbage, &PgType::Text, None);
        }
    }
}
