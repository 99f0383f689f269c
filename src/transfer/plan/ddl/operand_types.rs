//! Where PostgreSQL's types would refuse, or read differently, what SQLite accepted: a literal
//! compared with a column of another type, text functions over numbers, `coalesce` over mixed
//! types, and columns whose PostgreSQL type (boolean, timestamp, JSON...) no longer behaves like
//! the SQLite values. Each check names the column and why.

use crate::sql::{matching_paren, split_top_level, Token, TokenKind};
use crate::transfer::model::PgType;
use crate::transfer::plan::profile::timestamp_shape;

use super::scope::{Scope, ScopeColumn};
use super::vocabulary::KEYWORDS;

/// SQLite functions that read their (first) argument as text, whatever it holds.
pub(super) const TEXT_FUNCTIONS: &[&str] = &[
    "lower",
    "upper",
    "length",
    "trim",
    "ltrim",
    "rtrim",
    "substr",
    "substring",
    "replace",
    "instr",
];

/// SQLite's string functions take any value and read it as text, and `abs` reads text as a
/// number; PostgreSQL's take text only (`length` also bytes) and numbers only, and would refuse
/// the expression when it is created. A column of another type as the first argument is not
/// portable as written.
pub(super) fn text_function_argument(
    function: &str,
    args: &[Token<'_>],
    scope: &Scope,
) -> Result<(), String> {
    let numeric_function = function == "abs";
    if !TEXT_FUNCTIONS.contains(&function) && !numeric_function {
        return Ok(());
    }
    let first = split_top_level(args).into_iter().next().unwrap_or_default();
    let [only] = first else {
        return Ok(());
    };
    let Some(column) = only.name().and_then(|n| scope.column(&n)) else {
        return Ok(());
    };
    let takes = match &column.pg_type {
        PgType::SmallInt
        | PgType::Integer
        | PgType::BigInt
        | PgType::Real
        | PgType::Double
        | PgType::Numeric(_) => numeric_function,
        _ if numeric_function => false,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => true,
        PgType::Bytea => function == "length",
        _ => false,
    };
    let kind = if numeric_function { "numbers" } else { "text" };
    if takes {
        Ok(())
    } else {
        Err(format!(
            "`{function}` of `{}`, which is {} in PostgreSQL (where `{function}` takes {kind} only)",
            column.source,
            column.pg_type.sql()
        ))
    }
}

/// What a value is, as far as PostgreSQL's type checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Text,
    Number,
    Other,
}

pub(super) fn family(pg_type: &PgType) -> Family {
    match pg_type {
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => Family::Text,
        PgType::SmallInt
        | PgType::Integer
        | PgType::BigInt
        | PgType::Real
        | PgType::Double
        | PgType::Numeric(_) => Family::Number,
        _ => Family::Other,
    }
}

/// The column a token stands for, when it is a plain column reference.
pub(super) fn column_at<'s>(
    tokens: &[Token<'_>],
    at: usize,
    scope: &'s Scope,
) -> Option<&'s ScopeColumn> {
    let t = tokens.get(at)?;
    if !matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
        || tokens
            .get(at + 1)
            .is_some_and(|n| n.is_punct("(") || n.is_punct("."))
    {
        return None;
    }
    scope.column(&t.name()?)
}

pub(super) fn comparison(t: Option<&Token<'_>>) -> bool {
    t.is_some_and(|t| {
        t.kind == TokenKind::Punct
            && matches!(t.text, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=")
    })
}

pub(super) fn arithmetic(t: Option<&Token<'_>>) -> bool {
    t.is_some_and(|t| {
        t.kind == TokenKind::Punct && matches!(t.text, "+" | "-" | "*" | "/" | "%" | "||")
    })
}

/// SQLite compares a column with a literal after converting the literal to the column's
/// affinity (`code = 1` on a TEXT column compares with '1'); PostgreSQL refuses mixed types.
/// Returns the integer literals to write as strings, or why the comparison cannot carry over.
pub(super) fn literal_affinity(tokens: &[Token<'_>], scope: &Scope) -> Result<Vec<usize>, String> {
    let mut quoted = Vec::new();
    let check = |column: &ScopeColumn,
                 literal: usize,
                 quoted: &mut Vec<usize>|
     -> Result<(), String> {
        let t = &tokens[literal];
        match (family(&column.pg_type), t.kind) {
            (Family::Text, TokenKind::Number) if t.text.parse::<i64>().is_err() => Err(format!(
                "`{}` is text but is compared with the number {}",
                column.source, t.text
            )),
            (Family::Text, TokenKind::Number) => {
                quoted.push(literal);
                Ok(())
            }
            (Family::Number, TokenKind::String)
                if crate::sql::unquote(t.text).trim().parse::<f64>().is_err() =>
            {
                Err(format!(
                    "`{}` is a number but is compared with the text {}",
                    column.source, t.text
                ))
            }
            _ => Ok(()),
        }
    };
    let literal = |at: usize| {
        tokens
            .get(at)
            .is_some_and(|t| matches!(t.kind, TokenKind::Number | TokenKind::String))
    };
    for at in 0..tokens.len() {
        let Some(column) = column_at(tokens, at, scope) else {
            continue;
        };
        if comparison(tokens.get(at + 1))
            && literal(at + 2)
            && !arithmetic(tokens.get(at + 3))
            && !(at > 0 && arithmetic(tokens.get(at - 1)))
        {
            check(column, at + 2, &mut quoted)?;
        }
        if at >= 2
            && comparison(tokens.get(at - 1))
            && literal(at - 2)
            && !arithmetic(tokens.get(at + 1))
            && !(at > 2 && arithmetic(tokens.get(at - 3)))
        {
            check(column, at - 2, &mut quoted)?;
        }
        let in_at = if tokens.get(at + 1).is_some_and(|t| t.is_word("NOT")) {
            at + 2
        } else {
            at + 1
        };
        if tokens.get(in_at).is_some_and(|t| t.is_word("IN"))
            && tokens.get(in_at + 1).is_some_and(|t| t.is_punct("("))
        {
            if let Some(close) = matching_paren(tokens, in_at + 1) {
                let mut start = in_at + 2;
                for item in split_top_level(&tokens[in_at + 2..close]) {
                    if item.len() == 1 && literal(start) {
                        check(column, start, &mut quoted)?;
                    }
                    start += item.len() + 1;
                }
            }
        }
    }
    Ok(quoted)
}

/// `coalesce`/`ifnull`/`nullif` over text and numbers together: SQLite returns whichever,
/// PostgreSQL needs one type.
pub(super) fn mixed_arguments(arguments: &[Token<'_>], scope: &Scope) -> Result<(), String> {
    let mut families = Vec::new();
    let mut start = 0;
    for argument in split_top_level(arguments) {
        let family = match argument {
            [t] if t.kind == TokenKind::String => Some(Family::Text),
            [t] if t.kind == TokenKind::Number => Some(Family::Number),
            [_] => column_at(arguments, start, scope).map(|c| family(&c.pg_type)),
            _ => None,
        };
        families.extend(family);
        start += argument.len() + 1;
    }
    if families.contains(&Family::Text) && families.contains(&Family::Number) {
        return Err(
            "it mixes text and numbers in one coalesce/nullif, which PostgreSQL refuses".into(),
        );
    }
    Ok(())
}

/// `TRUE`/`FALSE` when the column reference at `at` is a boolean compared with 0 or 1.
pub(super) fn boolean_comparison(
    tokens: &[Token<'_>],
    at: usize,
    pg_type: &PgType,
) -> Option<&'static str> {
    let (op, value) = (tokens.get(at + 1)?, tokens.get(at + 2)?);
    let comparison = matches!(op.text, "=" | "==" | "!=" | "<>") && op.kind == TokenKind::Punct;
    let followed_by_operator = tokens
        .get(at + 3)
        .is_some_and(|t| t.kind == TokenKind::Punct && !matches!(t.text, ")" | ","));
    if *pg_type != PgType::Boolean
        || !comparison
        || followed_by_operator
        || value.kind != TokenKind::Number
    {
        return None;
    }
    match value.text {
        "0" => Some("FALSE"),
        "1" => Some("TRUE"),
        _ => None,
    }
}

/// Whether a column whose PostgreSQL type differs from its SQLite values (a boolean, a
/// timestamp, JSON...) is used at `at` in a way that means the same in PostgreSQL: tested for
/// `NULL`, a date/time compared with an ISO-8601 literal, or (in a query) a plain select item,
/// ordering key or `count`/`min`/`max` argument.
pub(super) fn usable_as_is(
    tokens: &[Token<'_>],
    at: usize,
    qualified: bool,
    pg_type: &PgType,
    query: bool,
) -> bool {
    let next = tokens.get(at + 1);
    let after = tokens.get(at + 2);
    if next.is_some_and(|n| n.is_word("IS")) {
        let operand = if after.is_some_and(|a| a.is_word("NOT")) {
            tokens.get(at + 3)
        } else {
            after
        };
        if operand.is_some_and(|o| o.is_word("NULL")) {
            return true;
        }
    }
    if next.is_some_and(|n| n.is_word("ISNULL") || n.is_word("NOTNULL")) {
        return true;
    }
    let temporal = matches!(
        pg_type,
        PgType::Timestamptz | PgType::Timestamp | PgType::Date
    );
    if temporal
        && next.is_some_and(|n| {
            n.kind == TokenKind::Punct
                && matches!(n.text, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=")
        })
        && after.is_some_and(|a| {
            a.kind == TokenKind::String && timestamp_shape(&crate::sql::unquote(a.text)).is_some()
        })
        && !tokens
            .get(at + 3)
            .is_some_and(|t| t.kind == TokenKind::Punct && !matches!(t.text, ")" | ","))
    {
        return true;
    }
    query && plain_query_item(tokens, at, qualified)
}

/// Whether the column reference at `at` (`t.c` when `qualified`) stands alone in a query: a
/// select item, an ordering or grouping key, or the argument of `count`/`min`/`max`, where
/// PostgreSQL returns the value as SQLite did.
fn plain_query_item(tokens: &[Token<'_>], at: usize, qualified: bool) -> bool {
    let next = tokens.get(at + 1);
    let start = if qualified { at.saturating_sub(2) } else { at };
    let depth: usize = tokens[..start].iter().fold(0usize, |d, t| {
        if t.is_punct("(") {
            d + 1
        } else if t.is_punct(")") {
            d.saturating_sub(1)
        } else {
            d
        }
    });
    let prev = start.checked_sub(1).map(|p| &tokens[p]);
    let aggregate = start >= 2
        && prev.is_some_and(|p| p.is_punct("("))
        && ["count", "min", "max"]
            .iter()
            .any(|f| tokens[start - 2].is_word(f))
        && next.is_some_and(|n| n.is_punct(")"));
    if aggregate {
        return true;
    }
    let starts_item = prev.is_some_and(|p| {
        p.is_word("SELECT") || p.is_word("DISTINCT") || p.is_word("BY") || p.is_punct(",")
    });
    let ends_item = match next {
        None => true,
        Some(n) => {
            n.is_punct(",")
                || n.is_punct(")")
                || [
                    "FROM", "AS", "ASC", "DESC", "NULLS", "WHERE", "GROUP", "ORDER", "LIMIT",
                    "UNION", "HAVING",
                ]
                .iter()
                .any(|k| n.is_word(k))
                || (n.kind == TokenKind::Word
                    && !KEYWORDS.contains(&n.text.to_ascii_uppercase().as_str()))
        }
    };
    depth == 0 && starts_item && ends_item
}

pub(super) fn uncomparable(column: &ScopeColumn) -> String {
    format!(
        "uses `{}`, which becomes {} in PostgreSQL, where SQLite's comparisons and functions on it do not carry over",
        column.source,
        column.pg_type.sql()
    )
}
