//! SQLite functions that print or round numbers, or name a value's type, rewritten so that
//! PostgreSQL gives the same result (checked on both databases in `tests/differential.rs`):
//! `round`, `printf`/`format` for `%d %i %s %x %.Nf %%`, and `typeof` where the operand's type
//! decides the answer. Anything else is an `Err` with the reason.

use crate::dialect::quote_literal;
use crate::sql::{unquote, Token, TokenKind};
use crate::transfer::model::PgType;

use super::scope::Scope;

/// What an operand is known to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holds {
    Integer,
    Real,
    Text,
}

/// What `tokens` hold when that is known: a literal, or a plain column of the scope whose
/// PostgreSQL type keeps SQLite's values as they were.
pub(super) fn holds(tokens: &[Token<'_>], scope: &Scope) -> Option<Holds> {
    let number = |t: &Token<'_>| {
        if t.text.contains(['.', 'e', 'E']) && !t.text.starts_with("0x") {
            Holds::Real
        } else {
            Holds::Integer
        }
    };
    match tokens {
        [t] if t.kind == TokenKind::Number => Some(number(t)),
        [sign, rest @ ..] if sign.is_punct("-") => {
            holds(rest, scope).filter(|h| matches!(h, Holds::Integer | Holds::Real))
        }
        [t] if t.kind == TokenKind::String => Some(Holds::Text),
        [t] if matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) => {
            let column = scope.column(&t.name()?)?;
            if !column.comparable {
                return None;
            }
            match column.pg_type {
                PgType::SmallInt | PgType::Integer | PgType::BigInt => Some(Holds::Integer),
                PgType::Double | PgType::Real => Some(Holds::Real),
                PgType::Text | PgType::Varchar(_) | PgType::Citext => Some(Holds::Text),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `round(X[, N])`: SQLite rounds half away from zero and answers a real. With no digits it
/// adds ±0.5 and truncates to a 64-bit integer when the value fits one; with digits it prints
/// the value to N decimals and reads it back.
pub(super) fn round(
    arguments: &[&[Token<'_>]],
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let (x, digits) = match arguments {
        [x] => (*x, 0),
        [x, n] => match n {
            [t] if t.kind == TokenKind::Number => (
                *x,
                t.text
                    .parse::<i64>()
                    .map_err(|_| "`round` digits that are not an integer literal")?,
            ),
            _ => return Err("`round` with digits that are not a literal".into()),
        },
        _ => return Err("`round` takes one or two arguments".into()),
    };
    if !matches!(holds(x, scope), Some(Holds::Integer | Holds::Real)) {
        return Err(
            "`round` of a value not known to be a number (SQLite reads text's number prefix)"
                .into(),
        );
    }
    let v = format!("CAST({} AS double precision)", sub(x)?);
    let digits = digits.clamp(0, 30);
    if digits == 0 {
        let limit = "CAST(9223372036854775806 AS double precision)";
        return Ok(format!(
            "(CASE WHEN {v} >= 0 AND {v} < {limit} THEN trunc({v} + 0.5) WHEN {v} < 0 AND -{v} < {limit} THEN -trunc(-{v} + 0.5) ELSE {v} END)"
        ));
    }
    Ok(format!(
        "CAST(round(CAST({v} AS numeric), {digits}) AS double precision)"
    ))
}

/// `typeof(X)` where X's type decides it: a literal, or an integer column ('integer' or
/// 'null'). A real or text column may hold other kinds of values in SQLite, so it is not.
pub(super) fn type_of(
    arguments: &[&[Token<'_>]],
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let [x] = arguments else {
        return Err("`typeof` takes one argument".into());
    };
    let literal = |kind: &str| Ok(format!("CAST({} AS text)", quote_literal(kind)));
    match x {
        [t] if t.is_word("NULL") => literal("null"),
        [t] if t.kind == TokenKind::Blob => literal("blob"),
        [t] if t.kind != TokenKind::Word && t.kind != TokenKind::QuotedIdent => {
            match holds(x, scope) {
                Some(Holds::Integer) => literal("integer"),
                Some(Holds::Real) => literal("real"),
                Some(Holds::Text) => literal("text"),
                None => Err("`typeof` of this operand is not known in advance".into()),
            }
        }
        _ if holds(x, scope) == Some(Holds::Integer) => Ok(format!(
            "(CASE WHEN {} IS NULL THEN 'null' ELSE 'integer' END)",
            sub(x)?
        )),
        _ => Err(
            "`typeof` of a value whose SQLite storage class the column type does not decide".into(),
        ),
    }
}

/// `printf(format, ...)` / `format(...)` with a literal format of `%d %i %s %x %.Nf %%` (`%.Nf`
/// of reals, N at most 15: SQLite prints 16 significant digits, PostgreSQL's double to numeric
/// keeps 15, so they agree up to there) and no widths or flags: the pieces joined with `||`, each never NULL (SQLite prints NULL as 0 for
/// numbers and as nothing for `%s`).
pub(super) fn printf(
    arguments: &[&[Token<'_>]],
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let Some(([format], values)) = arguments.split_first().map(|(f, v)| (*f, v)) else {
        return Err("`printf` without a format".into());
    };
    if format.kind != TokenKind::String {
        return Err("`printf` with a format that is not a literal".into());
    }
    let text = unquote(format.text);
    let mut pieces: Vec<String> = Vec::new();
    let mut literal = String::new();
    let mut next = values.iter();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            spec.push(d);
            chars.next();
            if d.is_ascii_alphabetic() || d == '%' {
                break;
            }
        }
        if spec == "%" {
            literal.push('%');
            continue;
        }
        if !literal.is_empty() {
            pieces.push(quote_literal(&std::mem::take(&mut literal)));
        }
        let value = next
            .next()
            .ok_or("`printf` with fewer values than conversions")?;
        pieces.push(conversion(&spec, value, scope, sub)?);
    }
    if !literal.is_empty() {
        pieces.push(quote_literal(&literal));
    }
    if next.next().is_some() {
        return Err("`printf` with more values than conversions".into());
    }
    Ok(match pieces.len() {
        0 => "CAST('' AS text)".to_string(),
        1 => format!("CAST({} AS text)", pieces[0]),
        _ => format!("({})", pieces.join(" || ")),
    })
}

/// One `%` conversion of `printf` applied to `value`.
fn conversion(
    spec: &str,
    value: &[Token<'_>],
    scope: &Scope,
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let held = holds(value, scope);
    let refuse = || {
        Err(format!(
            "`printf` conversion `%{spec}` of this value is not translated"
        ))
    };
    let sql = sub(value)?;
    match spec {
        "d" | "i" if held == Some(Holds::Integer) => {
            Ok(format!("coalesce(CAST({sql} AS text), '0')"))
        }
        "s" if matches!(held, Some(Holds::Integer | Holds::Text)) => {
            Ok(format!("coalesce(CAST({sql} AS text), '')"))
        }
        "x" if held == Some(Holds::Integer) => Ok(format!("to_hex(coalesce({sql}, 0))")),
        _ => {
            let digits = spec
                .strip_prefix('.')
                .and_then(|s| s.strip_suffix('f'))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n <= 15);
            match (digits, held) {
                // numeric has no negative zero; SQLite prints -0.001 as `-0.00`. An integer
                // goes through a double in SQLite, printed with 16 significant digits: not
                // translated.
                (Some(n), Some(Holds::Real)) => {
                    let rounded = format!("round(CAST(coalesce({sql}, 0) AS numeric), {n})");
                    Ok(format!(
                        "(CASE WHEN {sql} < 0 AND {rounded} = 0 THEN '-' ELSE '' END || CAST({rounded} AS text))"
                    ))
                }
                _ => refuse(),
            }
        }
    }
}
