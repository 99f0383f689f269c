//! SQLite functions and operators whose PostgreSQL namesake gives another result on some
//! inputs, rewritten so that both agree on every input (the differential tests in
//! `tests/differential.rs` run each on both databases): `substr` with a negative start,
//! `upper`/`lower` (SQLite folds ASCII only), `CAST(.. AS INTEGER)` (SQLite truncates and
//! saturates), `iif`, `group_concat`, `GLOB`, and division by zero (SQLite gives NULL). What
//! cannot be made to agree is an `Err` with the reason.

use crate::sql::{matching_paren, split_top_level, unquote, Token, TokenKind};
use crate::transfer::model::PgType;

use super::dates;
use super::formatting;
use super::json;
use super::operand_types::{family, Family};
use super::scope::{Scope, Wanted};

/// The tokens of one call: the source text, the function's position and its closing paren.
pub(super) struct Call<'a, 't> {
    /// The translator, for the arguments (passed in, so this module does not depend on it).
    pub(super) translate: fn(&str, &Scope) -> Result<String, String>,
    pub(super) sql: &'a str,
    pub(super) tokens: &'a [Token<'t>],
    pub(super) at: usize,
    pub(super) close: usize,
}

impl Call<'_, '_> {
    fn arguments(&self) -> Vec<&[Token<'_>]> {
        split_top_level(&self.tokens[self.at + 2..self.close])
    }
}

/// The PostgreSQL text of a call SQLite and PostgreSQL would answer differently, or `None`
/// when the plain translation (same name, same arguments) already agrees.
pub(super) fn rewrite(call: &Call<'_, '_>, scope: &Scope) -> Option<Result<String, String>> {
    let function = call.tokens[call.at].text.to_ascii_lowercase();
    Some(match function.as_str() {
        "substr" | "substring" => substr(call, scope),
        "upper" | "lower" => ascii_case(call, scope, &function),
        "cast" => cast(call, scope),
        "iif" => iif(call, scope),
        "group_concat" => group_concat(call, scope),
        "min" | "max" if call.arguments().len() >= 2 => least_greatest(call, scope, &function),
        "round" => formatting::round(&call.arguments(), scope, &|t| sub(call, t, scope)),
        "typeof" => formatting::type_of(&call.arguments(), scope, &|t| sub(call, t, scope)),
        "date" | "time" | "datetime" | "julianday" | "strftime" => {
            let arguments = call.arguments();
            let value = arguments.get(usize::from(function == "strftime"));
            if value.is_some_and(|v| formatting::holds(v, scope) != Some(formatting::Holds::Text)) {
                Err(format!("`{function}` of a value that is not text (SQLite reads a number as a Julian day)"))
            } else {
                dates::date_function(&function, &arguments, &|t| sub(call, t, scope))
            }
        }
        "json_extract" => json::json_extract(call.tokens, call.at, call.close, scope, &|t| {
            sub(call, t, scope)
        }),
        "printf" | "format" => {
            formatting::printf(&call.arguments(), scope, &|t| sub(call, t, scope))
        }
        _ => return None,
    })
}

/// The source text of `tokens`, translated. What the whole expression becomes is not the
/// part's.
fn sub(call: &Call<'_, '_>, tokens: &[Token<'_>], scope: &Scope) -> Result<String, String> {
    sub_wanting(call, tokens, scope, Wanted::Any)
}

/// The source text of `tokens`, translated for a place that makes its value `wanted`.
fn sub_wanting(
    call: &Call<'_, '_>,
    tokens: &[Token<'_>],
    scope: &Scope,
    wanted: Wanted,
) -> Result<String, String> {
    let sql = crate::sql::span(call.sql, tokens);
    if scope.wanted == wanted {
        return (call.translate)(sql, scope);
    }
    let scope = Scope {
        wanted,
        ..scope.clone()
    };
    (call.translate)(sql, &scope)
}

/// An integer literal, with its sign.
fn integer_literal(tokens: &[Token<'_>]) -> Option<i64> {
    match tokens {
        [n] if n.kind == TokenKind::Number => n.text.parse().ok(),
        [sign, n] if sign.is_punct("-") && n.kind == TokenKind::Number => {
            n.text.parse::<i64>().ok().map(|v| -v)
        }
        [sign, n] if sign.is_punct("+") && n.kind == TokenKind::Number => n.text.parse().ok(),
        _ => None,
    }
}

/// `substr(X, start[, length])`: SQLite counts a negative start from the end of X, PostgreSQL
/// from before its first character. A negative length (the characters before start in SQLite,
/// an error in PostgreSQL) is not translated.
fn substr(call: &Call<'_, '_>, scope: &Scope) -> Result<String, String> {
    let arguments = call.arguments();
    let (text, start, length) = match arguments.as_slice() {
        [text, start] => (*text, *start, None),
        [text, start, length] => (*text, *start, Some(*length)),
        _ => return Err("`substr` takes two or three arguments".into()),
    };
    let text_sql = sub_wanting(call, text, scope, Wanted::Text)?;
    let length_sql = match length {
        None => String::new(),
        Some(length) => match integer_literal(length) {
            Some(n) if n >= 0 => format!(", {}", n.min(i64::from(i32::MAX))),
            _ => {
                return Err(
                    "`substr` with a length that may be negative (SQLite then takes the characters before the start)".into(),
                )
            }
        },
    };
    // Without a length SQLite takes at most its length limit (10^9) from a negative start.
    let length_sql = match (length_sql.is_empty(), integer_literal(start)) {
        (true, Some(n)) if n >= 0 => length_sql,
        (true, _) => ", 1000000000".to_string(),
        (false, _) => length_sql,
    };
    // PostgreSQL's start is a 32-bit integer; strings are shorter than its range, so a start
    // beyond it reads the same as its bound.
    let start_sql = match integer_literal(start) {
        Some(n) if n >= 0 => n.min(i64::from(i32::MAX)).to_string(),
        Some(n) => format!(
            "CAST(GREATEST(length({text_sql}) + 1 - {}, -2147483648) AS integer)",
            n.unsigned_abs()
        ),
        None => {
            let start_sql = sub(call, start, scope)?;
            format!(
                "CAST(CASE WHEN ({start_sql}) < 0 THEN GREATEST(length({text_sql}) + 1 + ({start_sql}), -2147483648) WHEN ({start_sql}) >= 0 THEN LEAST({start_sql}, 2147483647) END AS integer)"
            )
        }
    };
    Ok(format!("substr({text_sql}, {start_sql}{length_sql})"))
}

/// `upper`/`lower`: SQLite changes the case of ASCII letters only (`upper('émile')` is
/// 'éMILE'); PostgreSQL does the same under the "C" collation.
fn ascii_case(call: &Call<'_, '_>, scope: &Scope, function: &str) -> Result<String, String> {
    let [argument] = call.arguments()[..] else {
        return Err(format!("`{function}` takes one argument"));
    };
    let argument = sub_wanting(call, argument, scope, Wanted::Text)?;
    Ok(format!("{function}(({argument}) COLLATE \"C\")"))
}

/// What an operand is, as far as a cast's result depends on it.
fn operand_family(tokens: &[Token<'_>], scope: &Scope) -> Option<Family> {
    let column_family = |t: &Token<'_>| {
        t.name()
            .and_then(|n| scope.column(&n))
            .map(|c| family(&c.pg_type))
    };
    match tokens {
        [t] if t.kind == TokenKind::Number => Some(Family::Number),
        [t] if t.kind == TokenKind::String => Some(Family::Text),
        [t] if matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) => column_family(t),
        _ => None,
    }
}

/// Whether the operand may be text: a text column or a string literal anywhere in it.
fn may_be_text(tokens: &[Token<'_>], scope: &Scope) -> bool {
    tokens.iter().any(|t| {
        t.kind == TokenKind::String
            || (matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
                && t.name()
                    .and_then(|n| scope.column(&n))
                    .is_some_and(|c| family(&c.pg_type) != Family::Number))
    })
}

/// Whether the operand may be a floating-point number.
fn may_be_real(tokens: &[Token<'_>], scope: &Scope) -> bool {
    tokens.iter().any(|t| {
        (t.kind == TokenKind::Number
            && t.text.contains(['.', 'e', 'E'])
            && !t.text.starts_with("0x"))
            || (matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
                && t.name().and_then(|n| scope.column(&n)).is_some_and(|c| {
                    matches!(
                        c.pg_type,
                        PgType::Double | PgType::Real | PgType::Numeric(_)
                    )
                }))
    })
}

/// `CAST(x AS type)`. SQLite truncates a real toward zero and saturates at the 64-bit limits;
/// PostgreSQL rounds and refuses. SQLite reads the longest numeric prefix of a text ('1e3' is
/// 1 as an integer); PostgreSQL reads all of it or refuses, so a cast of text to a number is
/// not translated. A real as text is printed with 15 digits by SQLite, with the shortest exact
/// form by PostgreSQL.
fn cast(call: &Call<'_, '_>, scope: &Scope) -> Result<String, String> {
    let inside = &call.tokens[call.at + 2..call.close];
    let as_at = inside
        .iter()
        .enumerate()
        .rev()
        .find(|(i, t)| t.is_word("AS") && depth_at(inside, *i) == 0)
        .map(|(i, _)| i)
        .ok_or("`CAST` without `AS`")?;
    let (operand, target) = (&inside[..as_at], &inside[as_at + 1..]);
    let type_name = target
        .iter()
        .map(|t| t.text)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    if is_json_extract(operand) {
        // The JSON's value read as the cast's type (`json`): SQLite truncates a real.
        let as_ = |wanted| sub_wanting(call, operand, scope, wanted);
        return match type_name.as_str() {
            "INTEGER" | "INT" | "BIGINT" => {
                Ok(format!("CAST(trunc({}) AS bigint)", as_(Wanted::Number)?))
            }
            "REAL" | "FLOAT" | "DOUBLE" => as_(Wanted::Real),
            "TEXT" => as_(Wanted::Text),
            _ => Err(format!(
                "`CAST` to `{type_name}` has no PostgreSQL equivalent here"
            )),
        };
    }
    let operand_sql = sub(call, operand, scope)?;
    let known = operand_family(operand, scope);
    let text = known == Some(Family::Text) || (known.is_none() && may_be_text(operand, scope));
    let real = may_be_real(operand, scope);
    let refuse = |why: &str| Err(format!("`CAST` {why}"));
    match type_name.as_str() {
        "INTEGER" | "INT" | "BIGINT" => {
            if text {
                return refuse(
                    "of text to an integer reads a prefix of the text in SQLite ('1e3' is 1)",
                );
            }
            if known == Some(Family::Number) && !real {
                return Ok(format!("CAST({operand_sql} AS bigint)"));
            }
            // LEAST and GREATEST skip NULLs, hence the CASE.
            Ok(format!(
                "CASE WHEN ({operand_sql}) IS NULL THEN NULL ELSE CAST(trunc(LEAST(GREATEST(CAST({operand_sql} AS numeric), -9223372036854775808), 9223372036854775807)) AS bigint) END"
            ))
        }
        "REAL" | "FLOAT" | "DOUBLE" => {
            if text {
                return refuse("of text to a real reads a prefix of the text in SQLite");
            }
            Ok(format!("CAST({operand_sql} AS double precision)"))
        }
        "TEXT" => {
            if real {
                return refuse("of a real to text prints 15 digits in SQLite and the shortest exact form in PostgreSQL");
            }
            Ok(format!("CAST({operand_sql} AS text)"))
        }
        _ => refuse(&format!(
            "to `{type_name}` has no PostgreSQL equivalent here"
        )),
    }
}

/// Whether `tokens` are one `json_extract(..)` call.
fn is_json_extract(tokens: &[Token<'_>]) -> bool {
    tokens.len() > 2
        && tokens[0].is_word("json_extract")
        && tokens[1].is_punct("(")
        && matching_paren(tokens, 1) == Some(tokens.len() - 1)
}

/// The parenthesis depth at `at`.
fn depth_at(tokens: &[Token<'_>], at: usize) -> usize {
    tokens[..at].iter().fold(0usize, |d, t| {
        if t.is_punct("(") {
            d + 1
        } else if t.is_punct(")") {
            d.saturating_sub(1)
        } else {
            d
        }
    })
}

/// `iif(c, a, b)`: a `CASE`. The condition must be a comparison in PostgreSQL.
fn iif(call: &Call<'_, '_>, scope: &Scope) -> Result<String, String> {
    let [condition, then, otherwise] = call.arguments()[..] else {
        return Err("`iif` takes three arguments".into());
    };
    let condition = sub(call, condition, scope)?;
    super::truth::check_condition(&crate::sql::tokenize(&condition))?;
    let then = sub(call, then, scope)?;
    let otherwise = sub(call, otherwise, scope)?;
    Ok(format!(
        "CASE WHEN {condition} THEN {then} ELSE {otherwise} END"
    ))
}

/// `group_concat(x[, separator])`: `string_agg` over the text of x. A real's text differs
/// (see [`cast`]), so only integers and text are joined.
fn group_concat(call: &Call<'_, '_>, scope: &Scope) -> Result<String, String> {
    if !scope.query {
        return Err("`group_concat` is an aggregate".into());
    }
    let arguments = call.arguments();
    let (value, separator) = match arguments.as_slice() {
        [value] => (*value, None),
        [value, separator] => (*value, Some(*separator)),
        _ => return Err("`group_concat` takes one or two arguments".into()),
    };
    if value.first().is_some_and(|t| t.is_word("DISTINCT")) {
        return Err("`group_concat(DISTINCT ..)` is not translated".into());
    }
    if may_be_real(value, scope) {
        return Err("`group_concat` of a real prints 15 digits in SQLite and the shortest exact form in PostgreSQL".into());
    }
    let value = sub(call, value, scope)?;
    let separator = match separator {
        None => "','".to_string(),
        Some(s) => sub(call, s, scope)?,
    };
    Ok(format!("string_agg(CAST({value} AS text), {separator})"))
}

/// `min(a, b, ..)`/`max(a, b, ..)` of several values: SQLite's is NULL when any argument is,
/// PostgreSQL's `LEAST`/`GREATEST` skip NULLs.
fn least_greatest(call: &Call<'_, '_>, scope: &Scope, function: &str) -> Result<String, String> {
    let arguments = call
        .arguments()
        .into_iter()
        .map(|a| sub(call, a, scope))
        .collect::<Result<Vec<_>, _>>()?;
    let any_null = arguments
        .iter()
        .map(|a| format!("({a}) IS NULL"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let pg = if function == "min" {
        "LEAST"
    } else {
        "GREATEST"
    };
    Ok(format!(
        "CASE WHEN {any_null} THEN NULL ELSE {pg}({}) END",
        arguments.join(", ")
    ))
}

/// The end (exclusive) of the operand that starts at `start`: a literal, a (qualified) name,
/// a call, a parenthesised expression or a `CASE`, after any unary signs.
pub(super) fn operand_end(tokens: &[Token<'_>], start: usize) -> Option<usize> {
    let t = tokens.get(start)?;
    if t.is_punct("-") || t.is_punct("+") || t.is_punct("~") {
        return operand_end(tokens, start + 1);
    }
    if t.is_punct("(") {
        return matching_paren(tokens, start).map(|c| c + 1);
    }
    if t.is_word("CASE") {
        let mut depth = 0usize;
        for (i, t) in tokens.iter().enumerate().skip(start) {
            if t.is_word("CASE") {
                depth += 1;
            } else if t.is_word("END") {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
        }
        return None;
    }
    match t.kind {
        TokenKind::Number | TokenKind::String | TokenKind::Blob => Some(start + 1),
        TokenKind::Word | TokenKind::QuotedIdent => {
            if tokens.get(start + 1).is_some_and(|n| n.is_punct("(")) {
                return matching_paren(tokens, start + 1).map(|c| c + 1);
            }
            if tokens.get(start + 1).is_some_and(|n| n.is_punct(".")) {
                return operand_end(tokens, start + 2);
            }
            Some(start + 1)
        }
        TokenKind::Punct => None,
    }
}

/// Whether the divisor starting at `start` is a literal other than zero (no NULL guard).
pub(super) fn nonzero_literal(tokens: &[Token<'_>]) -> bool {
    let digits = match tokens {
        [n] | [_, n] if n.kind == TokenKind::Number => n.text,
        _ => return false,
    };
    super::tokens::number(digits)
        .ok()
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|n| n != 0.0)
}

/// A `GLOB` pattern as a `LIKE` pattern under the "C" collation (case-sensitive, like GLOB),
/// with `\` escaping LIKE's own wildcards. Character classes (`[a-z]`) are not translated.
pub(super) fn glob_as_like(pattern: &Token<'_>) -> Result<String, String> {
    if pattern.kind != TokenKind::String {
        return Err(
            "`GLOB` with a pattern that is not a literal has no PostgreSQL equivalent here".into(),
        );
    }
    let mut like = String::new();
    for c in unquote(pattern.text).chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '[' => {
                return Err(
                    "`GLOB` with a character class has no PostgreSQL equivalent here".into(),
                )
            }
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            c => like.push(c),
        }
    }
    Ok(crate::dialect::quote_literal(&like))
}
