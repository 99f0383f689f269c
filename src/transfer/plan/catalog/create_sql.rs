//! Parses the `CREATE TABLE`, `CREATE INDEX`, `CREATE VIEW` and `CREATE VIRTUAL TABLE` text
//! SQLite keeps in its catalog, for what the pragmas do not tell: CHECK constraints,
//! collations, generated expressions, `AUTOINCREMENT`, deferrable foreign keys, index
//! expressions and `WHERE` clauses, view column lists and virtual table modules. Never panics on
//! malformed text.

use crate::sql::{matching_paren, span, split_top_level, tokenize, Token, TokenKind};

use super::schema::{Check, IndexPart, View, VirtualTable};

/// Whether `sql` creates a virtual table (`CREATE VIRTUAL TABLE`).
pub(super) fn is_virtual(sql: &str) -> bool {
    let tokens = tokenize(sql);
    tokens.len() > 2 && tokens[0].is_word("CREATE") && tokens[1].is_word("VIRTUAL")
}

/// What the `CREATE TABLE` text says beyond the pragmas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedTable {
    pub columns: Vec<ParsedColumn>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ParsedForeignKey>,
    pub without_rowid: bool,
    pub strict: bool,
    pub autoincrement: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedColumn {
    pub name: String,
    pub collation: Option<String>,
    pub generated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub parent: String,
    pub deferrable: Option<String>,
}

const COLUMN_CONSTRAINT_START: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// Parses the parts of a `CREATE TABLE` statement the pragmas do not report.
pub(crate) fn parse_create_table(sql: &str) -> std::result::Result<ParsedTable, String> {
    let tokens = tokenize(sql);
    let mut parsed = ParsedTable::default();
    let Some(open) = tokens.iter().position(|t| t.is_punct("(")) else {
        // `CREATE TABLE t AS SELECT ...` has no constraints to read.
        return Ok(parsed);
    };
    if tokens[..open].iter().any(|t| t.is_word("AS")) {
        return Ok(parsed);
    }
    let close = matching_paren(&tokens, open).ok_or("unbalanced parentheses")?;
    for token in &tokens[close + 1..] {
        if token.is_word("ROWID") {
            parsed.without_rowid = true;
        } else if token.is_word("STRICT") {
            parsed.strict = true;
        }
    }
    for part in split_top_level(&tokens[open + 1..close]) {
        let Some(first) = part.first() else { continue };
        let is_table_constraint = first.kind == TokenKind::Word
            && ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
                .iter()
                .any(|k| first.is_word(k));
        if is_table_constraint {
            parse_table_constraint(sql, part, &mut parsed);
        } else {
            parse_column(sql, part, &mut parsed);
        }
    }
    Ok(parsed)
}

fn parse_column(sql: &str, part: &[Token<'_>], parsed: &mut ParsedTable) {
    let Some(name) = part.first().and_then(Token::name) else {
        return;
    };
    let mut column = ParsedColumn {
        name: name.clone(),
        ..ParsedColumn::default()
    };
    let mut i = type_end(part);
    let mut constraint_name: Option<String> = None;
    while i < part.len() {
        let t = &part[i];
        if t.is_word("CONSTRAINT") {
            constraint_name = part.get(i + 1).and_then(Token::name);
            i += 2;
            continue;
        }
        if t.is_word("AUTOINCREMENT") {
            parsed.autoincrement = true;
        } else if t.is_word("COLLATE") {
            column.collation = part.get(i + 1).and_then(Token::name);
            i += 2;
            continue;
        } else if t.is_word("CHECK") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            if let Some(close) = matching_paren(part, i + 1) {
                parsed.checks.push(Check {
                    name: constraint_name.take(),
                    sql: span(sql, &part[i + 2..close]).to_string(),
                    column: Some(name.clone()),
                });
                i = close + 1;
                continue;
            }
        } else if t.is_word("AS") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            if let Some(close) = matching_paren(part, i + 1) {
                column.generated = Some(span(sql, &part[i + 2..close]).to_string());
                i = close + 1;
                continue;
            }
        } else if t.is_word("DEFAULT") {
            // The pragma reports the default; step over a parenthesised one so its words are
            // not read as constraints.
            if part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
                i = matching_paren(part, i + 1).map_or(part.len(), |c| c + 1);
                continue;
            }
            i += 2;
            continue;
        } else if t.is_word("REFERENCES") {
            let end = references_end(part, i);
            let clause = &part[i + 1..end];
            parsed.foreign_keys.push(ParsedForeignKey {
                name: constraint_name.take(),
                columns: vec![name.clone()],
                parent: clause.first().and_then(Token::name).unwrap_or_default(),
                deferrable: deferrable_clause(sql, clause),
            });
            i = end;
            continue;
        }
        i += 1;
    }
    parsed.columns.push(column);
}

/// Where a column definition's type ends: after its words and a parenthesised size, at the
/// first constraint keyword.
fn type_end(part: &[Token<'_>]) -> usize {
    let mut i = 1;
    while i < part.len() {
        let t = &part[i];
        if t.kind == TokenKind::Word && COLUMN_CONSTRAINT_START.iter().any(|k| t.is_word(k)) {
            break;
        }
        i = if t.is_punct("(") {
            matching_paren(part, i).map_or(part.len(), |c| c + 1)
        } else {
            i + 1
        };
    }
    i
}

/// Where the column's `REFERENCES` clause starting at `at` ends: at the next column
/// constraint, or the end of the definition.
fn references_end(part: &[Token<'_>], at: usize) -> usize {
    const NEXT_CONSTRAINT: &[&str] = &[
        "CONSTRAINT",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "GENERATED",
        "AS",
        "PRIMARY",
        "UNIQUE",
    ];
    part[at + 1..]
        .iter()
        .position(|t| t.kind == TokenKind::Word && NEXT_CONSTRAINT.iter().any(|k| t.is_word(k)))
        .map_or(part.len(), |p| at + 1 + p)
}

fn parse_table_constraint(sql: &str, part: &[Token<'_>], parsed: &mut ParsedTable) {
    let mut i = 0;
    let mut name = None;
    if part[0].is_word("CONSTRAINT") {
        name = part.get(1).and_then(Token::name);
        i = 2;
    }
    let Some(kind) = part.get(i) else { return };
    if kind.is_word("CHECK") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
        if let Some(close) = matching_paren(part, i + 1) {
            parsed.checks.push(Check {
                name,
                sql: span(sql, &part[i + 2..close]).to_string(),
                column: None,
            });
        }
    } else if kind.is_word("PRIMARY") {
        if part[i..].iter().any(|t| t.is_word("AUTOINCREMENT")) {
            parsed.autoincrement = true;
        }
    } else if kind.is_word("FOREIGN") {
        let Some(open) = part.iter().position(|t| t.is_punct("(")) else {
            return;
        };
        let Some(close) = matching_paren(part, open) else {
            return;
        };
        let columns = split_top_level(&part[open + 1..close])
            .iter()
            .filter_map(|c| c.first().and_then(Token::name))
            .collect();
        let Some(references) = part.iter().position(|t| t.is_word("REFERENCES")) else {
            return;
        };
        let clause = &part[references + 1..];
        parsed.foreign_keys.push(ParsedForeignKey {
            name,
            columns,
            parent: clause.first().and_then(Token::name).unwrap_or_default(),
            deferrable: deferrable_clause(sql, clause),
        });
    }
}

/// `[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]` in a foreign key clause, normalised.
fn deferrable_clause(sql: &str, clause: &[Token<'_>]) -> Option<String> {
    let at = clause.iter().position(|t| t.is_word("DEFERRABLE"))?;
    let start = if at > 0 && clause[at - 1].is_word("NOT") {
        at - 1
    } else {
        at
    };
    let mut end = at + 1;
    if clause.get(end).is_some_and(|t| t.is_word("INITIALLY")) && clause.get(end + 1).is_some() {
        end += 2;
    }
    Some(
        span(sql, &clause[start..end])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase(),
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedIndex {
    pub parts: Vec<IndexPart>,
    pub where_sql: Option<String>,
}

/// Parses `CREATE [UNIQUE] INDEX name ON table (parts) [WHERE expr]`.
pub(crate) fn parse_create_index(sql: &str) -> Option<ParsedIndex> {
    let tokens = tokenize(sql);
    let on = tokens.iter().position(|t| t.is_word("ON"))?;
    let open = on + tokens[on..].iter().position(|t| t.is_punct("("))?;
    let close = matching_paren(&tokens, open)?;
    let mut parts = Vec::new();
    for part in split_top_level(&tokens[open + 1..close]) {
        let mut end = part.len();
        let mut descending = false;
        if end > 0 && (part[end - 1].is_word("DESC") || part[end - 1].is_word("ASC")) {
            descending = part[end - 1].is_word("DESC");
            end -= 1;
        }
        let mut collation = None;
        if end >= 2 && part[end - 2].is_word("COLLATE") {
            collation = part[end - 1].name();
            end -= 2;
        }
        let body = &part[..end];
        let (column, expression) = match body {
            [single] if matches!(single.kind, TokenKind::Word | TokenKind::QuotedIdent) => {
                (single.name(), None)
            }
            _ => (None, Some(span(sql, body).to_string())),
        };
        parts.push(IndexPart {
            column,
            expression,
            descending,
            collation,
        });
    }
    let where_sql = tokens[close + 1..]
        .iter()
        .position(|t| t.is_word("WHERE"))
        .map(|w| {
            span(sql, &tokens[close + 2 + w..])
                .trim_end_matches(';')
                .trim()
                .to_string()
        });
    Some(ParsedIndex { parts, where_sql })
}

pub(super) fn parse_view(name: &str, sql: &str) -> View {
    let tokens = tokenize(sql);
    let mut view = View {
        name: name.to_string(),
        columns: Vec::new(),
        select_sql: String::new(),
        sql: sql.to_string(),
    };
    let Some(view_at) = tokens.iter().position(|t| t.is_word("VIEW")) else {
        return view;
    };
    let Some(as_at) = tokens
        .iter()
        .skip(view_at)
        .position(|t| t.is_word("AS"))
        .map(|p| p + view_at)
    else {
        return view;
    };
    if let Some(open) = tokens[view_at..as_at]
        .iter()
        .position(|t| t.is_punct("("))
        .map(|p| p + view_at)
    {
        if let Some(close) = matching_paren(&tokens, open) {
            view.columns = split_top_level(&tokens[open + 1..close])
                .iter()
                .filter_map(|c| c.first().and_then(Token::name))
                .collect();
        }
    }
    view.select_sql = span(sql, &tokens[as_at + 1..])
        .trim_end_matches(';')
        .trim()
        .to_string();
    view
}

pub(super) fn parse_virtual(sql: &str) -> Option<VirtualTable> {
    let tokens = tokenize(sql);
    let using = tokens.iter().position(|t| t.is_word("USING"))?;
    let module = tokens.get(using + 1)?.name()?.to_lowercase();
    let mut arguments = Vec::new();
    if tokens.get(using + 2).is_some_and(|t| t.is_punct("(")) {
        let close = matching_paren(&tokens, using + 2).unwrap_or(tokens.len());
        for part in split_top_level(&tokens[using + 3..close.min(tokens.len())]) {
            arguments.push(span(sql, part).to_string());
        }
    }
    Some(VirtualTable { module, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_table_text_gives_checks_collations_generated_and_deferrable_keys() {
        let sql = "CREATE TABLE \"order\" (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                   name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) > 0), \
                   price DECIMAL(10, 2) DEFAULT (0) CONSTRAINT positive CHECK (price >= 0), \
                   total AS (price * 2) STORED, \
                   parent INT CONSTRAINT fk_parent REFERENCES \"order\"(id) DEFERRABLE INITIALLY DEFERRED, \
                   CONSTRAINT both_ok CHECK (id > 0 AND price < 1e9), \
                   FOREIGN KEY (name) REFERENCES names(name) ON DELETE CASCADE) WITHOUT ROWID, STRICT";
        let parsed = parse_create_table(sql).unwrap();
        assert!(parsed.autoincrement && parsed.without_rowid && parsed.strict);
        assert_eq!(parsed.columns.len(), 5);
        assert_eq!(parsed.columns[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.columns[3].generated.as_deref(), Some("price * 2"));
        let checks: Vec<(Option<&str>, &str)> = parsed
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.sql.as_str()))
            .collect();
        assert_eq!(
            checks,
            vec![
                (None, "length(name) > 0"),
                (Some("positive"), "price >= 0"),
                (Some("both_ok"), "id > 0 AND price < 1e9")
            ]
        );
        assert_eq!(parsed.foreign_keys[0].name.as_deref(), Some("fk_parent"));
        assert_eq!(
            parsed.foreign_keys[0].deferrable.as_deref(),
            Some("DEFERRABLE INITIALLY DEFERRED")
        );
        assert_eq!(parsed.foreign_keys[1].columns, vec!["name".to_string()]);
        assert_eq!(parsed.foreign_keys[1].parent, "names");
    }

    #[test]
    fn create_index_text_gives_expressions_collations_and_where() {
        let parsed = parse_create_index("CREATE UNIQUE INDEX i ON t (lower(a), b COLLATE NOCASE DESC, \"c d\") WHERE a IS NOT NULL").unwrap();
        assert_eq!(parsed.parts[0].expression.as_deref(), Some("lower(a)"));
        assert_eq!(parsed.parts[1].column.as_deref(), Some("b"));
        assert!(parsed.parts[1].descending);
        assert_eq!(parsed.parts[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.parts[2].column.as_deref(), Some("c d"));
        assert_eq!(parsed.where_sql.as_deref(), Some("a IS NOT NULL"));
    }

    #[test]
    fn views_and_virtual_tables_are_split() {
        let view = parse_view("v", "CREATE VIEW v (a, \"b\") AS SELECT 1, 2;");
        assert_eq!(view.columns, vec!["a".to_string(), "b".into()]);
        assert_eq!(view.select_sql, "SELECT 1, 2");
        let vt = parse_virtual(
            "CREATE VIRTUAL TABLE f USING fts5(title, body UNINDEXED, tokenize = 'porter ascii')",
        )
        .unwrap();
        assert_eq!(vt.module, "fts5");
        assert_eq!(vt.arguments.len(), 3);
        assert_eq!(vt.option("tokenize").as_deref(), Some("porter ascii"));
    }

    #[test]
    fn garbage_sql_never_panics() {
        for sql in [
            "",
            "CREATE TABLE",
            "CREATE TABLE t (",
            "CREATE TABLE t (a CHECK (",
            "CREATE TABLE t (CONSTRAINT)",
            "((((",
            "CREATE INDEX i ON",
        ] {
            let _ = parse_create_table(sql);
            let _ = parse_create_index(sql);
            let _ = parse_view("v", sql);
            let _ = parse_virtual(sql);
        }
    }
}
