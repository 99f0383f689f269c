//! Translates SQLite expressions and view queries into PostgreSQL, token by token: names go
//! through the [`Scope`] (columns and relations renamed, a view's own `WITH` names kept),
//! functions through the vocabulary, operators and keywords to their PostgreSQL spelling
//! (`LIKE` to `ILIKE`, `IS` to `IS NOT DISTINCT FROM`, `flag = 1` to `flag = TRUE`). What would
//! not mean the same is an `Err` with the reason.

use std::collections::BTreeSet;

use crate::dialect::quote_literal;
use crate::sql::{matching_paren, split_top_level, tokenize, Token, TokenKind};
use crate::transfer::model::PgType;

use super::functions::{glob_as_like, nonzero_literal, operand_end, rewrite, Call};
use super::names::{pg_name, q, qualified};
use super::operand_types::{
    boolean_comparison, literal_affinity, mixed_arguments, text_function_argument, uncomparable,
    usable_as_is,
};
use super::scope::{Scope, ScopeColumn, ScopeRelation};
use super::tokens::{blob_literal, cast_type, join_tokens, number};
use super::vocabulary::{FUNCTIONS, KEYWORDS};

/// Translates a SQLite expression or query into PostgreSQL, renaming columns and relations
/// through `scope`. `Err` says why it is not portable.
pub fn translate(sql: &str, scope: &Scope) -> Result<String, String> {
    let tokens = tokenize(sql);
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    let mut translator = Translator {
        sql,
        tokens: &tokens,
        scope,
        quoted_numbers: literal_affinity(&tokens, scope)?,
        ctes: cte_names(&tokens, scope),
        out: Vec::with_capacity(tokens.len()),
        closers: Vec::new(),
    };
    let mut i = 0;
    while i < tokens.len() {
        i += translator.token(i)?;
        while translator.closers.last().is_some_and(|(end, _)| *end <= i) {
            let (_, text) = translator.closers.pop().unwrap_or_default();
            translator.out.extend(text);
        }
    }
    while let Some((_, text)) = translator.closers.pop() {
        translator.out.extend(text);
    }
    let out = translator.out;
    let uses_type = |wanted: fn(&PgType) -> bool| {
        columns_used(sql, scope)
            .iter()
            .any(|c| scope.column(c).is_some_and(|c| wanted(&c.pg_type)))
    };
    if out.iter().any(|t| t == "%") && uses_type(|t| matches!(t, PgType::Double | PgType::Real)) {
        return Err("`%` on a floating-point column has no PostgreSQL operator".into());
    }
    // SQLite keeps whole numbers of a NUMERIC column as integers and divides them as integers;
    // PostgreSQL's numeric division keeps the fraction.
    if out.iter().any(|t| t == "/") && uses_type(|t| matches!(t, PgType::Numeric(_))) {
        return Err("`/` on a numeric column divides whole numbers as integers in SQLite".into());
    }
    // SQLite prints a real with 15 significant digits, PostgreSQL with the shortest exact form.
    if out.iter().any(|t| t == "||")
        && uses_type(|t| matches!(t, PgType::Double | PgType::Real | PgType::Numeric(_)))
    {
        return Err("`||` on a real column prints it differently in PostgreSQL".into());
    }
    Ok(join_tokens(&out))
}

/// Names a view's `WITH` defines (`WITH [RECURSIVE] a AS (...), b AS (...)`): read after FROM
/// or JOIN, they are the query's own relations, not tables of the plan.
fn cte_names(tokens: &[Token<'_>], scope: &Scope) -> BTreeSet<String> {
    if !scope.query {
        return BTreeSet::new();
    }
    tokens
        .iter()
        .enumerate()
        .filter(|&(i, t)| {
            matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
                && tokens.get(i + 1).is_some_and(|n| n.is_word("AS"))
                && tokens.get(i + 2).is_some_and(|n| n.is_punct("("))
                && i > 0
                && (tokens[i - 1].is_word("WITH")
                    || tokens[i - 1].is_word("RECURSIVE")
                    || tokens[i - 1].is_punct(","))
        })
        .filter_map(|(_, t)| t.name())
        .map(|n| n.to_lowercase())
        .collect()
}

/// The state of one translation: the tokens read and the PostgreSQL tokens written. Each
/// method translates the token at `i` (with the tokens that belong to it) and returns how many
/// tokens it consumed.
struct Translator<'a, 't> {
    sql: &'a str,
    tokens: &'a [Token<'t>],
    scope: &'a Scope,
    /// Integer literals compared with text columns, written as strings.
    quoted_numbers: Vec<usize>,
    ctes: BTreeSet<String>,
    out: Vec<String>,
    /// Text to write once the token at the given position has been read (the end of a
    /// divisor guarded against zero, of a `LIKE` pattern given its collation), innermost last.
    closers: Vec<(usize, Vec<String>)>,
}

impl Translator<'_, '_> {
    fn push(&mut self, text: impl Into<String>) {
        self.out.push(text.into());
    }

    fn previous(&self, i: usize) -> Option<&Token<'_>> {
        i.checked_sub(1).map(|p| &self.tokens[p])
    }

    fn after_dot(&self, i: usize) -> bool {
        self.previous(i).is_some_and(|p| p.is_punct("."))
    }

    fn token(&mut self, i: usize) -> Result<usize, String> {
        let tokens = self.tokens;
        let t = &tokens[i];
        match t.kind {
            TokenKind::Word | TokenKind::QuotedIdent => return self.word(i),
            TokenKind::String => self.push(t.text),
            TokenKind::Number if self.quoted_numbers.contains(&i) => {
                self.push(quote_literal(&number(t.text)?))
            }
            TokenKind::Number => self.push(number(t.text)?),
            TokenKind::Blob => self.push(blob_literal(t.text)?),
            TokenKind::Punct => match t.text {
                "==" => self.push("="),
                "/" | "%" => return self.division(i),
                "(" | ")" | "," | "." | "+" | "-" | "*" | "=" | "<" | ">" | "<=" | ">=" | "<>"
                | "!=" | "||" | "&" | "|" | "<<" | ">>" | "~" => self.push(t.text),
                other => return Err(format!("`{other}` has no PostgreSQL equivalent here")),
            },
        }
        Ok(1)
    }

    fn word(&mut self, i: usize) -> Result<usize, String> {
        let tokens = self.tokens;
        let t = &tokens[i];
        let upper = t.text.to_ascii_uppercase();
        let after_dot = self.after_dot(i);
        // A keyword before a parenthesis (`WITH x AS (...)`, `OVER (...)`, `AND (...)`) is not
        // a call; CAST, EXISTS and IN are handled as calls.
        let keyword_paren = KEYWORDS.contains(&upper.as_str())
            && !matches!(upper.as_str(), "CAST" | "EXISTS" | "IN");
        if let Some(now) = current_time(&upper).filter(|_| t.kind == TokenKind::Word) {
            if !after_dot {
                self.push(now);
                return Ok(1);
            }
        }
        if t.kind == TokenKind::Word
            && tokens.get(i + 1).is_some_and(|n| n.is_punct("("))
            && !after_dot
            && !keyword_paren
        {
            return self.call(i);
        }
        if t.kind == TokenKind::Word && KEYWORDS.contains(&upper.as_str()) && !after_dot {
            return self.keyword(i, upper);
        }
        if t.kind == TokenKind::Word && upper == "GLOB" {
            // GLOB is case-sensitive, as LIKE is under the "C" collation.
            let pattern = tokens.get(i + 1).ok_or("`GLOB` without a pattern")?;
            self.push("LIKE");
            self.push(glob_as_like(pattern)?);
            self.push("COLLATE \"C\"");
            return Ok(2);
        }
        if t.kind == TokenKind::Word
            && matches!(
                upper.as_str(),
                "REGEXP" | "MATCH" | "COLLATE" | "INDEXED" | "PRAGMA"
            )
        {
            return Err(format!("`{}` has no PostgreSQL equivalent here", t.text));
        }
        self.name(i)
    }

    /// A function call (or `CAST (`, `EXISTS (`, `IN (`): the function's PostgreSQL name; the
    /// arguments follow as ordinary tokens.
    fn call(&mut self, i: usize) -> Result<usize, String> {
        let (tokens, scope) = (self.tokens, self.scope);
        let t = &tokens[i];
        let close = matching_paren(tokens, i + 1).ok_or("unbalanced parentheses")?;
        let arguments = &tokens[i + 2..close];
        let lower = t.text.to_ascii_lowercase();
        if matches!(lower.as_str(), "coalesce" | "ifnull" | "nullif") {
            mixed_arguments(arguments, scope)?;
        }
        text_function_argument(&lower, arguments, scope)?;
        let call = Call {
            translate,
            sql: self.sql,
            tokens,
            at: i,
            close,
        };
        if let Some(rewritten) = rewrite(&call, scope) {
            self.push(rewritten?);
            return Ok(close + 1 - i);
        }
        let name = match lower.as_str() {
            "min" if split_top_level(arguments).len() >= 2 => "LEAST",
            "max" if split_top_level(arguments).len() >= 2 => "GREATEST",
            "min" | "max" | "count" | "sum" | "avg" if !scope.query => {
                return Err(format!("`{}` is an aggregate", t.text));
            }
            "cast" => "CAST",
            "exists" => "EXISTS",
            "in" => "IN",
            _ => FUNCTIONS
                .iter()
                .find(|(s, _)| *s == lower)
                .map(|(_, p)| *p)
                .ok_or_else(|| {
                    format!("function `{}` has no PostgreSQL equivalent here", t.text)
                })?,
        };
        self.push(name);
        Ok(1)
    }

    fn keyword(&mut self, i: usize, upper: String) -> Result<usize, String> {
        let tokens = self.tokens;
        let next = tokens.get(i + 1);
        match upper.as_str() {
            "LIKE" => return self.like(i),
            "IS" => {
                // SQLite's `a IS b` is null-safe equality; PostgreSQL's IS takes only NULL,
                // TRUE, FALSE.
                let negated = next.is_some_and(|n| n.is_word("NOT"));
                let operand = tokens.get(i + 1 + usize::from(negated));
                let plain = operand
                    .is_some_and(|o| o.is_word("NULL") || o.is_word("TRUE") || o.is_word("FALSE"));
                if !plain {
                    self.push(if negated {
                        "IS DISTINCT FROM"
                    } else {
                        "IS NOT DISTINCT FROM"
                    });
                    return Ok(1 + usize::from(negated));
                }
                self.push("IS");
            }
            "AS" if i > 0 => {
                self.push("AS");
                // `CAST(x AS INTEGER)`: SQLite's integers are 8 bytes.
                let cast_to = next
                    .filter(|n| n.kind == TokenKind::Word)
                    .filter(|_| tokens.get(i + 2).is_some_and(|c| c.is_punct(")")))
                    .and_then(|ty| cast_type(ty.text));
                if let Some(mapped) = cast_to {
                    self.push(mapped);
                    return Ok(2);
                }
            }
            "LIMIT" if next.is_some_and(|n| n.is_punct("-")) => {
                return Err("`LIMIT -1` has no PostgreSQL equivalent".into())
            }
            _ => self.push(upper),
        }
        Ok(1)
    }

    /// `/` or `%`: SQLite gives NULL for a zero divisor, PostgreSQL an error, so a divisor
    /// that is not a non-zero literal becomes `NULLIF(divisor, 0)`.
    fn division(&mut self, i: usize) -> Result<usize, String> {
        let tokens = self.tokens;
        let end = operand_end(tokens, i + 1)
            .ok_or_else(|| format!("`{}` without a divisor", tokens[i].text))?;
        self.push(tokens[i].text);
        if !nonzero_literal(&tokens[i + 1..end]) {
            self.push("NULLIF");
            self.push("(");
            self.closers
                .push((end, vec![",".into(), "0".into(), ")".into()]));
        }
        Ok(1)
    }

    /// `LIKE`: SQLite's ignores the case of ASCII letters only and has no escape character
    /// unless given one; PostgreSQL's `ILIKE` under the "C" collation folds ASCII only, and
    /// `ESCAPE ''` turns off its default `\`.
    fn like(&mut self, i: usize) -> Result<usize, String> {
        let tokens = self.tokens;
        let end = operand_end(tokens, i + 1).ok_or("`LIKE` without a pattern")?;
        let escape = tokens.get(end).is_some_and(|t| t.is_word("ESCAPE"));
        if tokens
            .get(end)
            .is_some_and(|t| t.kind == TokenKind::Punct && !matches!(t.text, ")" | ","))
        {
            return Err("a `LIKE` pattern built by an expression is not translated".into());
        }
        self.push("ILIKE");
        let mut closer = vec!["COLLATE \"C\"".to_string()];
        if !escape {
            closer.extend(["ESCAPE".to_string(), "''".to_string()]);
        }
        self.closers.push((end, closer));
        Ok(1)
    }

    /// A name: a `WITH` name, a relation or column of the scope, SQLite's double-quoted string
    /// literal, or (in a view) an alias.
    fn name(&mut self, i: usize) -> Result<usize, String> {
        let (tokens, scope) = (self.tokens, self.scope);
        let t = &tokens[i];
        let name = t.name().unwrap_or_default();
        let next = tokens.get(i + 1);
        let qualifier = next.is_some_and(|n| n.is_punct("."));
        let defines = next.is_some_and(|n| n.is_word("AS"))
            && tokens.get(i + 2).is_some_and(|n| n.is_punct("("));
        let reads = self
            .previous(i)
            .is_some_and(|p| p.is_word("FROM") || p.is_word("JOIN"));
        if self.ctes.contains(&name.to_lowercase()) && (defines || reads) {
            self.push(q(&pg_name(&name, scope.keep_case)));
        } else if let Some(relation) = scope
            .relation(&name)
            .filter(|_| scope.query && !self.after_dot(i))
        {
            self.relation(i, &name, relation)?;
        } else if let Some(column) = scope.column(&name).filter(|_| !qualifier) {
            return self.column(i, column);
        } else if !scope.query && t.kind == TokenKind::QuotedIdent && t.text.starts_with('"') {
            // SQLite reads a double-quoted word that names no column as a string.
            self.push(quote_literal(&name));
        } else if scope.query {
            if reads {
                return Err(format!(
                    "it reads `{name}`, which is not a planned table or view"
                ));
            }
            self.push(q(&pg_name(&name, scope.keep_case)));
        } else {
            return Err(format!("unknown name `{name}`"));
        }
        Ok(1)
    }

    /// In a view, a name of the scope's relations: the qualified table in a FROM list, its
    /// PostgreSQL name as a qualifier, else the column of that name when there is one.
    fn relation(&mut self, i: usize, name: &str, relation: &ScopeRelation) -> Result<(), String> {
        let scope = self.scope;
        let qualifier = self.tokens.get(i + 1).is_some_and(|n| n.is_punct("."));
        let from_position = self
            .previous(i)
            .is_some_and(|p| p.is_word("FROM") || p.is_word("JOIN") || p.is_punct(","));
        if qualifier {
            self.push(q(&relation.target));
        } else if from_position {
            if scope.column(name).is_some() {
                return Err(format!("`{name}` names both a table and a column"));
            }
            self.push(qualified(&scope.schema, &relation.target));
        } else if let Some(column) = scope.column(name) {
            if !column.comparable
                && !usable_as_is(self.tokens, i, false, &column.pg_type, scope.query)
            {
                return Err(uncomparable(column));
            }
            self.push(q(&column.target));
        } else {
            self.push(q(&relation.target));
        }
        Ok(())
    }

    /// A column of the scope, by its PostgreSQL name; one whose type behaves differently must
    /// be used in a way that means the same (`flag = 1` on a boolean reads `flag = TRUE`).
    fn column(&mut self, i: usize, column: &ScopeColumn) -> Result<usize, String> {
        let tokens = self.tokens;
        if !column.comparable {
            if let Some(literal) = boolean_comparison(tokens, i, &column.pg_type) {
                self.push(q(&column.target));
                self.push(if tokens[i + 1].text == "==" {
                    "="
                } else {
                    tokens[i + 1].text
                });
                self.push(literal);
                return Ok(3);
            }
            if !usable_as_is(
                tokens,
                i,
                self.after_dot(i),
                &column.pg_type,
                self.scope.query,
            ) {
                return Err(uncomparable(column));
            }
        }
        self.push(q(&column.target));
        Ok(1)
    }
}

/// SQLite's `CURRENT_TIMESTAMP`, `CURRENT_DATE` and `CURRENT_TIME`: the statement's time in
/// UTC, as text.
fn current_time(upper: &str) -> Option<&'static str> {
    Some(match upper {
        "CURRENT_TIMESTAMP" => {
            "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        }
        "CURRENT_DATE" => "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        "CURRENT_TIME" => "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'HH24:MI:SS')",
        _ => return None,
    })
}

/// The names of the scope's columns an expression uses.
pub fn columns_used(sql: &str, scope: &Scope) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for t in tokenize(sql) {
        if matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) {
            if let Some(column) = t.name().and_then(|n| scope.column(&n)) {
                if !used.contains(&column.source) {
                    used.push(column.source.clone());
                }
            }
        }
    }
    used
}
