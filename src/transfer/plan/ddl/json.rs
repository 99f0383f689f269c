//! `json_extract(X, path)`. SQLite's value takes the type of what the path finds: a JSON string
//! is text, a number an integer or a real, `true`/`false` are 1/0, `null` and a missing path are
//! NULL, an object or array is its JSON text. A PostgreSQL expression has one type, so the
//! place of the call decides it: the type of the generated column it computes, a `CAST`, the
//! literal or column it is compared with, `||`, `LIKE` or a text function around it, `IS NULL`,
//! or an index key. Where nothing decides, it is not translated.
//!
//! The value is read with `->` one step at a time (a text step is a key, an integer step an
//! index, as in SQLite's path), and turned into the wanted type with `jsonb_typeof`. A value
//! SQLite would give as another type than the wanted one (a string compared with a number, a
//! real's 15-digit text, an object's text in SQLite's key order) makes PostgreSQL refuse the row
//! with a message that says so: loud, never another value. Not reproduced: an object with a key
//! written twice (SQLite reads the first, PostgreSQL the last).

use crate::dialect::quote_literal;
use crate::sql::{split_top_level, unquote, Token, TokenKind};
use crate::transfer::model::PgType;

use super::names::q;
use super::operand_types::{comparison, family, Family, TEXT_FUNCTIONS};
use super::scope::{Scope, Wanted};

/// The PostgreSQL text of `json_extract(arguments)` at `at` in `tokens` (the call's closing
/// paren at `close`); `sub` translates an argument that is not a plain column.
pub(super) fn json_extract(
    tokens: &[Token<'_>],
    at: usize,
    close: usize,
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let arguments = split_top_level(&tokens[at + 2..close]);
    let [document, path] = arguments[..] else {
        return Err(
            "`json_extract` with other than one path (SQLite then gives a JSON array)".into(),
        );
    };
    let steps = match path {
        [p] if p.kind == TokenKind::String => parse_path(&unquote(p.text))?,
        _ => return Err("`json_extract` with a path that is not a literal".into()),
    };
    // The whole expression, in any parentheses.
    let whole = tokens[..at].iter().all(|t| t.is_punct("("))
        && tokens[close + 1..].iter().all(|t| t.is_punct(")"))
        && at == tokens.len() - close - 1;
    let wanted = if whole && scope.wanted != Wanted::Any {
        scope.wanted
    } else {
        wanted_here(tokens, at, close, scope).ok_or(
            "`json_extract` where its type is not decided (SQLite gives a number, text or NULL as the JSON holds): compare it with a literal, CAST it, or give its column a type",
        )?
    };
    let (document, kind) = document_json(document, scope, sub)?;
    render(&value_at(&document, &steps), kind, wanted)
}

/// One step of a SQLite JSON path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(u32),
}

/// `$`, then `.key`, `."key"` and `[N]` steps. `[#-N]` (from the end) and `[#]` are not
/// translated.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let unsupported = || format!("JSON path `{path}` is not translated");
    let rest = path.strip_prefix('$').ok_or_else(unsupported)?;
    let mut steps = Vec::new();
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(after) = chars.strip_prefix(".\"") {
            let end = after.find('"').ok_or_else(unsupported)?;
            steps.push(Step::Key(after[..end].to_string()));
            chars = &after[end + 1..];
        } else if let Some(after) = chars.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(unsupported());
            }
            steps.push(Step::Key(after[..end].to_string()));
            chars = &after[end..];
        } else if let Some(after) = chars.strip_prefix('[') {
            let end = after.find(']').ok_or_else(unsupported)?;
            let index = after[..end].parse().map_err(|_| unsupported())?;
            steps.push(Step::Index(index));
            chars = &after[end + 1..];
        } else {
            return Err(unsupported());
        }
    }
    Ok(steps)
}

/// The document and its type: a `jsonb` column as it is, any other value cast to `json`,
/// which keeps a number as written (SQLite reads `1e2` as the real 100.0, and `jsonb` would
/// keep only 100) and refuses malformed JSON as SQLite does.
fn document_json(
    document: &[Token<'_>],
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<(String, &'static str), String> {
    if let [only] = document {
        if let Some(column) = only.name().and_then(|n| scope.column(&n)) {
            return Ok(match column.pg_type {
                PgType::Jsonb => (q(&column.target), "jsonb"),
                PgType::Json => (q(&column.target), "json"),
                PgType::Text | PgType::Varchar(_) | PgType::Citext => {
                    (format!("CAST({} AS json)", q(&column.target)), "json")
                }
                _ => {
                    return Err(format!(
                        "`json_extract` of `{}`, which is {} in PostgreSQL",
                        column.source,
                        column.pg_type.sql()
                    ))
                }
            });
        }
    }
    Ok((format!("CAST(({}) AS json)", sub(document)?), "json"))
}

fn value_at(document: &str, steps: &[Step]) -> String {
    let mut out = format!("({document}");
    for step in steps {
        match step {
            Step::Key(key) => out.push_str(&format!(" -> {}", quote_literal(key))),
            Step::Index(i) => out.push_str(&format!(" -> {i}")),
        }
    }
    out.push(')');
    out
}

/// What the call's neighbours in `tokens` make of its value.
fn wanted_here(tokens: &[Token<'_>], at: usize, close: usize, scope: &Scope) -> Option<Wanted> {
    let before = at.checked_sub(1).and_then(|i| tokens.get(i));
    let after = tokens.get(close + 1);
    let is_null = after.is_some_and(|t| t.is_word("IS"))
        && (tokens.get(close + 2).is_some_and(|t| t.is_word("NULL"))
            || (tokens.get(close + 2).is_some_and(|t| t.is_word("NOT"))
                && tokens.get(close + 3).is_some_and(|t| t.is_word("NULL"))));
    if is_null || after.is_some_and(|t| t.is_word("ISNULL") || t.is_word("NOTNULL")) {
        return Some(Wanted::IndexKey);
    }
    let text_operator = |t: Option<&Token<'_>>| {
        t.is_some_and(|t| t.is_punct("||") || t.is_word("LIKE") || t.is_word("GLOB"))
    };
    if text_operator(before) || text_operator(after) {
        return Some(Wanted::Text);
    }
    if comparison(after) {
        if let Some(w) = operand_wanted(tokens, close + 2, scope) {
            return Some(w);
        }
    }
    if comparison(before) && at >= 2 {
        if let Some(w) = operand_wanted(tokens, at - 2, scope) {
            return Some(w);
        }
    }
    if after.is_some_and(|t| t.is_word("IN"))
        && tokens.get(close + 2).is_some_and(|t| t.is_punct("("))
    {
        return list_wanted(&tokens[close + 3..], scope);
    }
    let enclosing = enclosing_function(tokens, at)?;
    TEXT_FUNCTIONS
        .contains(&enclosing.as_str())
        .then_some(Wanted::Text)
}

/// What a literal or column at `at` compares as.
fn operand_wanted(tokens: &[Token<'_>], at: usize, scope: &Scope) -> Option<Wanted> {
    let t = tokens.get(at)?;
    let signed = (t.is_punct("-") || t.is_punct("+"))
        && tokens
            .get(at + 1)
            .is_some_and(|n| n.kind == TokenKind::Number);
    match t.kind {
        TokenKind::Number => Some(Wanted::Number),
        TokenKind::String => Some(Wanted::TextCompared),
        _ if signed => Some(Wanted::Number),
        TokenKind::Word | TokenKind::QuotedIdent
            if !tokens.get(at + 1).is_some_and(|n| n.is_punct("(")) =>
        {
            match family(&scope.column(&t.name()?)?.pg_type) {
                Family::Text => Some(Wanted::TextCompared),
                Family::Number => Some(Wanted::Number),
                Family::Other => None,
            }
        }
        _ => None,
    }
}

/// `IN (..)` of literals of one kind.
fn list_wanted(tokens: &[Token<'_>], scope: &Scope) -> Option<Wanted> {
    let close = tokens.iter().position(|t| t.is_punct(")"))?;
    let kinds: Vec<Option<Wanted>> = split_top_level(&tokens[..close])
        .into_iter()
        .map(|item| match item {
            [_] | [_, _] => operand_wanted(item, 0, scope),
            _ => None,
        })
        .collect();
    let first = *kinds.first()?;
    kinds.iter().all(|k| *k == first).then_some(first?)
}

/// The lowercase name of the function whose argument list holds `at`.
fn enclosing_function(tokens: &[Token<'_>], at: usize) -> Option<String> {
    let mut depth = 0usize;
    for i in (0..at).rev() {
        let t = &tokens[i];
        if t.is_punct(")") {
            depth += 1;
        } else if t.is_punct("(") {
            if depth == 0 {
                let name = tokens.get(i.checked_sub(1)?)?;
                return (name.kind == TokenKind::Word).then(|| name.text.to_ascii_lowercase());
            }
            depth -= 1;
        }
    }
    None
}

/// An expression PostgreSQL refuses, on the row only, with `why` and the JSON type in its
/// message; it depends on the row's value, so it is never folded when the plan is made.
fn refuse(typeof_: &str, why: &str, result: &str) -> String {
    // textcat is `||`, spelled so that checks for `||` over non-text values do not fire.
    format!(
        "CAST(CAST(textcat(textcat('json_extract: ', {typeof_}), {}) AS integer) AS {result})",
        quote_literal(&format!(" {why}"))
    )
}

/// The value in the wanted type.
/// The value (of type `kind`, `json` or `jsonb`) in the wanted type. A JSON number's text is
/// an integer for SQLite when it has no fraction or exponent and fits 64 bits (a `jsonb`
/// document has lost an exponent: `1e2` reads as 100 there, where SQLite's text is 100.0).
fn render(value: &str, kind: &str, wanted: Wanted) -> Result<String, String> {
    let text = format!("({value} #>> '{{}}')");
    let typeof_ = format!("{kind}_typeof({value})");
    let integral = format!("{text} ~ '^-?[0-9]+$' AND CAST({text} AS numeric) BETWEEN -9223372036854775808 AND 9223372036854775807");
    Ok(match wanted {
        Wanted::Any => return Err("`json_extract` where its type is not decided".into()),
        Wanted::IndexKey => text,
        // `json` has no equality; `jsonb` compares as SQLite's values do, but for `true` and 1
        // (both 1 in SQLite) and objects with the same members in another order (other texts in
        // SQLite).
        Wanted::UniqueKey => format!("CAST({value} AS jsonb)"),
        Wanted::Text => format!(
            "(CASE {typeof_} WHEN 'string' THEN {text} WHEN 'boolean' THEN CASE WHEN {text} = 'true' THEN '1' ELSE '0' END \
             WHEN 'number' THEN CASE WHEN {integral} THEN CAST(CAST(CAST({text} AS numeric) AS bigint) AS text) ELSE {} END \
             WHEN 'object' THEN {obj} WHEN 'array' THEN {obj} END)",
            refuse(&typeof_, "is a real or a big number, whose text SQLite writes with 15 digits", "text"),
            obj = refuse(&typeof_, "is JSON text SQLite writes in its own layout", "text"),
        ),
        Wanted::TextCompared => format!(
            "(CASE {typeof_} WHEN 'string' THEN {text} WHEN 'boolean' THEN {other} WHEN 'number' THEN {other} \
             WHEN 'object' THEN {other} WHEN 'array' THEN {other} END)",
            other = refuse(&typeof_, "is compared with text (SQLite holds it apart from any text)", "text"),
        ),
        Wanted::Number | Wanted::Integer | Wanted::Real => {
            let (number, boolean, pg) = match wanted {
                Wanted::Integer => (
                    format!("CASE WHEN {text} ~ '^-?[0-9]+([.]0*)?$' THEN CAST(CAST({text} AS numeric) AS bigint) ELSE {} END",
                        refuse(&typeof_, "is not a whole number of 64 bits", "bigint")),
                    "1",
                    "bigint",
                ),
                Wanted::Real => (format!("CAST({text} AS double precision)"), "1.0", "double precision"),
                _ => (format!("CAST({text} AS numeric)"), "1", "numeric"),
            };
            let zero = if pg == "double precision" { "0.0" } else { "0" };
            format!(
                "(CASE {typeof_} WHEN 'number' THEN {number} WHEN 'boolean' THEN CASE WHEN {text} = 'true' THEN {boolean} ELSE {zero} END \
                 WHEN 'string' THEN {s} WHEN 'object' THEN {s} WHEN 'array' THEN {s} END)",
                s = refuse(&typeof_, "is not a number (SQLite compares it as text)", pg),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_keys_quoted_keys_and_indexes() {
        assert_eq!(
            parse_path("$.a.\"b c\"[2].d").unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Key("b c".into()),
                Step::Index(2),
                Step::Key("d".into())
            ]
        );
        assert_eq!(parse_path("$").unwrap(), vec![]);
        for refused in ["a.b", "$[#-1]", "$[#]", "$.", "$.a[", "$x"] {
            assert!(parse_path(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn steps_are_keys_or_indexes_never_both() {
        assert_eq!(
            value_at("\"j\"", &parse_path("$.0[0]").unwrap()),
            "(\"j\" -> '0' -> 0)"
        );
    }
}
