//! Token-level helpers shared by the translators: literals in PostgreSQL's spelling, SQLite's
//! `CAST` type names, joining tokens back into SQL text, and the canonical text used to
//! recognise an expression by its shape.

use crate::sql::{matching_paren, tokenize, TokenKind};

use super::vocabulary::KEYWORDS;

pub(super) fn cast_type(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT" | "BIGINT" => "bigint",
        "TEXT" => "text",
        "REAL" | "FLOAT" | "DOUBLE" => "double precision",
        "NUMERIC" => "numeric",
        "BLOB" => "bytea",
        _ => return None,
    })
}

pub(super) fn number(text: &str) -> Result<String, String> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .map(|n| (n as i64).to_string())
            .map_err(|_| format!("`{text}` is not a number"));
    }
    if text.parse::<f64>().is_err() {
        return Err(format!("`{text}` is not a number"));
    }
    Ok(text.to_string())
}

pub(super) fn blob_literal(text: &str) -> Result<String, String> {
    let hex = text.get(2..text.len().saturating_sub(1)).unwrap_or("");
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || hex.len() % 2 != 0 {
        return Err(format!("`{text}` is not a blob literal"));
    }
    Ok(format!("'\\x{}'::bytea", hex.to_ascii_lowercase()))
}

/// Joins tokens with single spaces, except around `.`, after `(` and before `)` and `,`, and
/// between a function name and its `(`.
pub(super) fn join_tokens(tokens: &[String]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            let prev = tokens[i - 1].as_str();
            let function_call = t == "("
                && (prev == "CAST"
                    || (prev
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !KEYWORDS.contains(&prev)
                        && prev != "ILIKE"
                        && !prev.contains(' ')));
            let tight = matches!(t.as_str(), ")" | "," | ".")
                || prev == "("
                || prev == "."
                || function_call;
            if !tight {
                out.push(' ');
            }
        }
        out.push_str(t);
    }
    out
}

/// The canonical text of an expression for pattern matching: words uppercased, the column
/// `column` written `$C`, `==` as `=`, no spaces, one pair of outer parentheses removed.
pub(super) fn canonical(sql: &str, column: &str) -> String {
    let mut out = String::new();
    let mut previous_wordlike = false;
    for t in tokenize(sql) {
        let wordlike = t.kind != TokenKind::Punct;
        if wordlike && previous_wordlike {
            out.push(' ');
        }
        previous_wordlike = wordlike;
        match t.kind {
            TokenKind::Word | TokenKind::QuotedIdent
                if t.name().is_some_and(|n| n.eq_ignore_ascii_case(column)) =>
            {
                out.push_str("$C")
            }
            TokenKind::Word => out.push_str(&t.text.to_ascii_uppercase()),
            TokenKind::Punct if t.text == "==" => out.push('='),
            _ => out.push_str(t.text),
        }
    }
    strip_outer(&out)
}

/// `text` without the parentheses that enclose all of it.
pub(super) fn strip_outer(text: &str) -> String {
    let mut text = text.trim().to_string();
    loop {
        let tokens = tokenize(&text);
        if tokens.len() >= 2
            && tokens[0].is_punct("(")
            && matching_paren(&tokens, 0) == Some(tokens.len() - 1)
        {
            text = text[1..text.len() - 1].trim().to_string();
        } else {
            return text;
        }
    }
}
