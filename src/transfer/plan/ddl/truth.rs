//! Whether translated tokens form a boolean expression: SQLite takes any number as a truth
//! value, PostgreSQL needs a boolean where a condition stands (a CHECK, a partial index's
//! `WHERE`, the first argument of `iif`).

use crate::sql::{matching_paren, Token, TokenKind};

use super::operand_types::comparison;

/// Whether the `CASE` at `at` is a value, not a truth value: the parenthesised group around it
/// is compared (`(CASE .. END) >= 0`) or is a function's argument list.
fn compared_value(tokens: &[Token<'_>], at: usize) -> bool {
    let mut depth = 0usize;
    let open = (0..at).rev().find(|&i| {
        if tokens[i].is_punct(")") {
            depth += 1;
        } else if tokens[i].is_punct("(") {
            if depth == 0 {
                return true;
            }
            depth -= 1;
        }
        false
    });
    let Some(open) = open else {
        return false;
    };
    let Some(close) = matching_paren(tokens, open) else {
        return false;
    };
    let compares = |t: Option<&Token<'_>>| {
        comparison(t)
            || t.is_some_and(|t| t.is_word("IS") || t.is_word("IN") || t.is_word("BETWEEN"))
    };
    let call = open.checked_sub(1).is_some_and(|i| {
        tokens[i].kind == TokenKind::Word
            && !tokens[i].is_word("AND")
            && !tokens[i].is_word("OR")
            && !tokens[i].is_word("NOT")
    });
    call || compares(tokens.get(close + 1)) || compares(open.checked_sub(1).map(|i| &tokens[i]))
}

/// Whether PostgreSQL tokens form a boolean expression (see `translate_condition`).
pub(super) fn check_condition(tokens: &[Token<'_>]) -> Result<(), String> {
    if (0..tokens.len()).any(|i| tokens[i].is_word("CASE") && !compared_value(tokens, i)) {
        return Err("CASE may mix SQLite's integer truth values with booleans".into());
    }
    // The AND of `x BETWEEN 1 AND 10` is not a logical AND.
    let mut between_and = Vec::new();
    let mut open_between: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if t.is_word("BETWEEN") {
            open_between.push(depth);
        } else if t.is_word("AND") && open_between.last() == Some(&depth) {
            open_between.pop();
            between_and.push(i);
        }
    }
    let logical = |i: usize| {
        let t = &tokens[i];
        (t.is_word("AND") && !between_and.contains(&i)) || t.is_word("OR") || t.is_word("NOT")
    };
    // A number standing alone as an operand of AND, OR or NOT.
    let bound = |i: Option<usize>| {
        i.is_none_or(|i| tokens[i].is_punct("(") || tokens[i].is_punct(")") || logical(i))
    };
    let truthy = (0..tokens.len()).any(|i| {
        tokens[i].kind == TokenKind::Number
            && bound(i.checked_sub(1))
            && bound(Some(i + 1).filter(|&n| n < tokens.len()))
            && (i.checked_sub(1).is_some_and(logical) || (i + 1 < tokens.len() && logical(i + 1)))
    });
    if truthy {
        return Err("a number is used as a truth value".into());
    }
    // `(a > 1)` is boolean too: look inside parentheses that wrap everything.
    if tokens.len() >= 2
        && tokens[0].is_punct("(")
        && matching_paren(tokens, 0) == Some(tokens.len() - 1)
    {
        return check_condition(&tokens[1..tokens.len() - 1]);
    }
    let mut depth = 0usize;
    for t in tokens {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            let operator = t.kind == TokenKind::Punct
                && matches!(t.text, "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=");
            let keyword = [
                "IN", "BETWEEN", "ILIKE", "LIKE", "IS", "EXISTS", "NOT", "AND", "OR", "ISNULL",
                "NOTNULL", "TRUE", "FALSE",
            ]
            .iter()
            .any(|k| t.is_word(k));
            if operator || keyword {
                return Ok(());
            }
        }
    }
    Err("it is not a comparison: SQLite takes any number as a truth value, PostgreSQL needs a boolean".into())
}
