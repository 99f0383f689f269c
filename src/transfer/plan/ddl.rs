//! Pure: PostgreSQL names and DDL text for the planned schema. Turns SQLite identifiers into
//! PostgreSQL ones (lowercase, at most 63 bytes, unique), translates SQLite expressions
//! (CHECK constraints, defaults, generated columns, index expressions, views) where the
//! translation means the same thing, and renders each statement. Every identifier goes through
//! [`quote_ident`]. What cannot be translated faithfully comes back as an `Err` with the reason,
//! for the planner to flag. No I/O here.

use std::collections::BTreeSet;

use crate::dialect::{quote_ident, quote_literal};
use crate::sql::{matching_paren, split_top_level, tokenize, Token, TokenKind};
use crate::transfer::model::{Conversion, PgType};
use crate::transfer::plan::profile::{json_shape, timestamp_shape};

/// PostgreSQL's identifier limit, in bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Quotes a planned name. Planned names never hold NUL ([`pg_name`] removes it); should one,
/// the NUL is dropped rather than failing.
pub fn q(name: &str) -> String {
    quote_ident(name)
        .unwrap_or_else(|_| quote_ident(&name.replace('\0', "")).unwrap_or_else(|_| "\"\"".into()))
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", q(schema), q(name))
}

/// The PostgreSQL spelling of a SQLite name: lowercase unless `keep_case`, NUL removed, never
/// empty, and cut to 63 bytes with a stable hash of the full name appended when longer.
pub fn pg_name(source: &str, keep_case: bool) -> String {
    let mut name: String = if keep_case {
        source.to_string()
    } else {
        source.to_lowercase()
    };
    name.retain(|c| c != '\0');
    if name.is_empty() {
        name = format!("unnamed_{}", short_hash(source));
    }
    fit(&name, &short_hash(source))
}

/// Cuts `name` so that `name_suffix` fits in 63 bytes (at a character boundary).
fn fit(name: &str, suffix: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_string();
    }
    let room = MAX_IDENTIFIER_BYTES - suffix.len() - 1;
    let mut cut = room;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{suffix}", &name[..cut])
}

/// 8 hex digits of FNV-1a over `text`: stable across runs and platforms.
pub fn short_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", (hash >> 32) as u32 ^ hash as u32)
}

/// Names already taken in one PostgreSQL namespace (the relations of a schema, the columns of
/// a table). [`Namespace::claim`] hands out the wanted name or, when taken, a numbered variant,
/// so the same input always gives the same names.
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    /// Takes `wanted`, or `wanted_2`, `wanted_3`, ... (each cut to 63 bytes) when it is taken.
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = fit(&format!("{wanted}_{n}"), &format!("{n}"));
            if name.len() > MAX_IDENTIFIER_BYTES || !name.ends_with(&n.to_string()) {
                name = fit(wanted, &n.to_string());
            }
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

/// A column as an expression sees it.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// The SQLite name.
    pub source: String,
    /// The PostgreSQL name.
    pub target: String,
    /// The PostgreSQL type.
    pub pg_type: PgType,
    /// Whether expressions may use it as is: its PostgreSQL type behaves like its SQLite
    /// values in comparisons and functions (not a boolean, timestamp, JSON, bytes or a
    /// widened column).
    pub comparable: bool,
}

/// A table or view as a view's `FROM` sees it.
#[derive(Debug, Clone)]
pub struct ScopeRelation {
    /// The SQLite name.
    pub source: String,
    /// The PostgreSQL name.
    pub target: String,
}

/// What names an expression may use.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The visible columns.
    pub columns: Vec<ScopeColumn>,
    /// For views: the tables and views, and the target schema.
    pub relations: Vec<ScopeRelation>,
    /// The PostgreSQL schema of the relations.
    pub schema: String,
    /// Keep the case of names the scope does not know (aliases in views).
    pub keep_case: bool,
    /// A view's query (unknown names are aliases) rather than a table's expression (unknown
    /// names are errors, and double-quoted ones are SQLite's string literals).
    pub query: bool,
}

impl Scope {
    fn column(&self, name: &str) -> Option<&ScopeColumn> {
        self.columns
            .iter()
            .find(|c| c.source.eq_ignore_ascii_case(name))
    }

    fn relation(&self, name: &str) -> Option<&ScopeRelation> {
        self.relations
            .iter()
            .find(|r| r.source.eq_ignore_ascii_case(name))
    }
}

/// Words passed through (uppercased) by the translation.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "ASC",
    "DESC",
    "LIMIT",
    "OFFSET",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "DISTINCT",
    "ALL",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "ON",
    "USING",
    "EXISTS",
    "WITH",
    "TRUE",
    "FALSE",
    "NULLS",
    "FIRST",
    "LAST",
    "ESCAPE",
    "VALUES",
    "OVER",
    "PARTITION",
    "ROWS",
    "RANGE",
    "UNBOUNDED",
    "PRECEDING",
    "FOLLOWING",
    "CURRENT",
    "ROW",
    "FILTER",
    "LIKE",
];

/// SQLite functions with a PostgreSQL function that gives the same result, and its name.
const FUNCTIONS: &[(&str, &str)] = &[
    ("lower", "lower"),
    ("upper", "upper"),
    ("length", "length"),
    ("abs", "abs"),
    ("coalesce", "coalesce"),
    ("ifnull", "coalesce"),
    ("nullif", "nullif"),
    ("trim", "trim"),
    ("ltrim", "ltrim"),
    ("rtrim", "rtrim"),
    ("substr", "substr"),
    ("substring", "substr"),
    ("replace", "replace"),
    ("instr", "strpos"),
    ("count", "count"),
    ("sum", "sum"),
    ("avg", "avg"),
    ("min", "min"),
    ("max", "max"),
    // Window functions: the same definitions in both.
    ("row_number", "row_number"),
    ("rank", "rank"),
    ("dense_rank", "dense_rank"),
    ("percent_rank", "percent_rank"),
    ("cume_dist", "cume_dist"),
    ("ntile", "ntile"),
    ("lag", "lag"),
    ("lead", "lead"),
    ("first_value", "first_value"),
    ("last_value", "last_value"),
    ("nth_value", "nth_value"),
];

/// SQLite's string functions take any value and read it as text, and `abs` reads text as a
/// number; PostgreSQL's take text only (`length` also bytes) and numbers only, and would refuse
/// the expression when it is created. A column of another type as the first argument is not
/// portable as written.
fn text_function_argument(function: &str, args: &[Token<'_>], scope: &Scope) -> Result<(), String> {
    const TEXT_FUNCTIONS: &[&str] = &[
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

/// Translates a SQLite expression or query into PostgreSQL, renaming columns and relations
/// through `scope`. `Err` says why it is not portable.
pub fn translate(sql: &str, scope: &Scope) -> Result<String, String> {
    let tokens = tokenize(sql);
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    let quoted_numbers = literal_affinity(&tokens, scope)?;
    // Names a view's `WITH` defines (`WITH [RECURSIVE] a AS (...), b AS (...)`): read after
    // FROM or JOIN, they are the query's own relations, not tables of the plan.
    let ctes: BTreeSet<String> = if scope.query {
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
    } else {
        BTreeSet::new()
    };
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let next = tokens.get(i + 1);
        let previous = if i > 0 { Some(&tokens[i - 1]) } else { None };
        let after_dot = previous.is_some_and(|p| p.is_punct("."));
        match t.kind {
            TokenKind::Word | TokenKind::QuotedIdent => {
                let upper = t.text.to_ascii_uppercase();
                // A keyword before a parenthesis (`WITH x AS (...)`, `OVER (...)`, `AND (...)`)
                // is not a call; CAST, EXISTS and IN are handled as calls below.
                let keyword_paren = KEYWORDS.contains(&upper.as_str())
                    && !matches!(upper.as_str(), "CAST" | "EXISTS" | "IN");
                if t.kind == TokenKind::Word
                    && next.is_some_and(|n| n.is_punct("("))
                    && !after_dot
                    && !keyword_paren
                {
                    let close = matching_paren(&tokens, i + 1).ok_or("unbalanced parentheses")?;
                    let args = split_top_level(&tokens[i + 2..close]).len();
                    let lower = t.text.to_ascii_lowercase();
                    if matches!(lower.as_str(), "coalesce" | "ifnull" | "nullif") {
                        mixed_arguments(&tokens[i + 2..close], scope)?;
                    }
                    text_function_argument(&lower, &tokens[i + 2..close], scope)?;
                    let name = match lower.as_str() {
                        "min" | "max" if args >= 2 => {
                            if lower == "min" {
                                "LEAST"
                            } else {
                                "GREATEST"
                            }
                        }
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
                    out.push(name.to_string());
                    i += 1;
                    continue;
                }
                if t.kind == TokenKind::Word && KEYWORDS.contains(&upper.as_str()) && !after_dot {
                    match upper.as_str() {
                        "LIKE" => out.push("ILIKE".into()),
                        "IS" => {
                            // SQLite's `a IS b` is null-safe equality; PostgreSQL's IS takes only
                            // NULL, TRUE, FALSE.
                            let negated = next.is_some_and(|n| n.is_word("NOT"));
                            let operand = tokens.get(i + 1 + usize::from(negated));
                            let plain = operand.is_some_and(|o| {
                                o.is_word("NULL") || o.is_word("TRUE") || o.is_word("FALSE")
                            });
                            if plain {
                                out.push("IS".into());
                            } else {
                                out.push(
                                    if negated {
                                        "IS DISTINCT FROM"
                                    } else {
                                        "IS NOT DISTINCT FROM"
                                    }
                                    .into(),
                                );
                                i += 1 + usize::from(negated);
                                continue;
                            }
                        }
                        "AS" if previous.is_some() => {
                            out.push("AS".into());
                            // `CAST(x AS INTEGER)`: SQLite's integers are 8 bytes.
                            if let Some(ty) = next.filter(|n| n.kind == TokenKind::Word) {
                                if tokens.get(i + 2).is_some_and(|c| c.is_punct(")")) {
                                    if let Some(mapped) = cast_type(ty.text) {
                                        out.push(mapped.into());
                                        i += 2;
                                        continue;
                                    }
                                }
                            }
                        }
                        "LIMIT" if next.is_some_and(|n| n.is_punct("-")) => {
                            return Err("`LIMIT -1` has no PostgreSQL equivalent".into())
                        }
                        _ => out.push(upper),
                    }
                    i += 1;
                    continue;
                }
                if t.kind == TokenKind::Word
                    && matches!(
                        upper.as_str(),
                        "GLOB" | "REGEXP" | "MATCH" | "COLLATE" | "INDEXED" | "PRAGMA"
                    )
                {
                    return Err(format!("`{}` has no PostgreSQL equivalent here", t.text));
                }
                let name = t.name().unwrap_or_default();
                let qualifier = next.is_some_and(|n| n.is_punct("."));
                let defines = next.is_some_and(|n| n.is_word("AS"))
                    && tokens.get(i + 2).is_some_and(|n| n.is_punct("("));
                let reads = previous.is_some_and(|p| p.is_word("FROM") || p.is_word("JOIN"));
                if ctes.contains(&name.to_lowercase()) && (defines || reads) {
                    out.push(q(&pg_name(&name, scope.keep_case)));
                } else if let Some(relation) =
                    scope.relation(&name).filter(|_| scope.query && !after_dot)
                {
                    let from_position = previous
                        .is_some_and(|p| p.is_word("FROM") || p.is_word("JOIN") || p.is_punct(","));
                    if qualifier {
                        out.push(q(&relation.target));
                    } else if from_position {
                        if scope.column(&name).is_some() {
                            return Err(format!("`{name}` names both a table and a column"));
                        }
                        out.push(qualified(&scope.schema, &relation.target));
                    } else if let Some(column) = scope.column(&name) {
                        if !column.comparable
                            && !usable_as_is(&tokens, i, after_dot, &column.pg_type, scope.query)
                        {
                            return Err(uncomparable(column));
                        }
                        out.push(q(&column.target));
                    } else {
                        out.push(q(&relation.target));
                    }
                } else if let Some(column) = scope.column(&name).filter(|_| !qualifier) {
                    if !column.comparable {
                        // `flag = 1` on a boolean reads `flag = TRUE`.
                        if let Some(literal) = boolean_comparison(&tokens, i, &column.pg_type) {
                            out.push(q(&column.target));
                            out.push(if tokens[i + 1].text == "==" {
                                "=".into()
                            } else {
                                tokens[i + 1].text.to_string()
                            });
                            out.push(literal.into());
                            i += 3;
                            continue;
                        }
                        if !usable_as_is(&tokens, i, after_dot, &column.pg_type, scope.query) {
                            return Err(uncomparable(column));
                        }
                    }
                    out.push(q(&column.target));
                } else if !scope.query
                    && t.kind == TokenKind::QuotedIdent
                    && t.text.starts_with('"')
                {
                    // SQLite reads a double-quoted word that names no column as a string.
                    out.push(quote_literal(&name));
                } else if scope.query {
                    if previous.is_some_and(|p| p.is_word("FROM") || p.is_word("JOIN")) {
                        return Err(format!(
                            "it reads `{name}`, which is not a planned table or view"
                        ));
                    }
                    out.push(q(&pg_name(&name, scope.keep_case)));
                } else {
                    return Err(format!("unknown name `{name}`"));
                }
            }
            TokenKind::String => out.push(t.text.to_string()),
            TokenKind::Number if quoted_numbers.contains(&i) => {
                out.push(quote_literal(&number(t.text)?))
            }
            TokenKind::Number => out.push(number(t.text)?),
            TokenKind::Blob => out.push(blob_literal(t.text)?),
            TokenKind::Punct => match t.text {
                "==" => out.push("=".into()),
                "(" | ")" | "," | "." | "+" | "-" | "*" | "/" | "%" | "=" | "<" | ">" | "<="
                | ">=" | "<>" | "!=" | "||" | "&" | "|" | "<<" | ">>" => {
                    out.push(t.text.to_string())
                }
                "~" => out.push("~".into()),
                other => return Err(format!("`{other}` has no PostgreSQL equivalent here")),
            },
        }
        i += 1;
    }
    if out.iter().any(|t| t == "%")
        && columns_used(sql, scope).iter().any(|c| {
            scope
                .column(c)
                .is_some_and(|c| matches!(c.pg_type, PgType::Double | PgType::Real))
        })
    {
        return Err("`%` on a floating-point column has no PostgreSQL operator".into());
    }
    Ok(join_tokens(&out))
}

/// What a value is, as far as PostgreSQL's type checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Text,
    Number,
    Other,
}

fn family(pg_type: &PgType) -> Family {
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
fn column_at<'s>(tokens: &[Token<'_>], at: usize, scope: &'s Scope) -> Option<&'s ScopeColumn> {
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

fn comparison(t: Option<&Token<'_>>) -> bool {
    t.is_some_and(|t| {
        t.kind == TokenKind::Punct
            && matches!(t.text, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=")
    })
}

fn arithmetic(t: Option<&Token<'_>>) -> bool {
    t.is_some_and(|t| {
        t.kind == TokenKind::Punct && matches!(t.text, "+" | "-" | "*" | "/" | "%" | "||")
    })
}

/// SQLite compares a column with a literal after converting the literal to the column's
/// affinity (`code = 1` on a TEXT column compares with '1'); PostgreSQL refuses mixed types.
/// Returns the integer literals to write as strings, or why the comparison cannot carry over.
fn literal_affinity(tokens: &[Token<'_>], scope: &Scope) -> Result<Vec<usize>, String> {
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
fn mixed_arguments(arguments: &[Token<'_>], scope: &Scope) -> Result<(), String> {
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
fn boolean_comparison(tokens: &[Token<'_>], at: usize, pg_type: &PgType) -> Option<&'static str> {
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
fn usable_as_is(
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
    if !query {
        return false;
    }
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

/// Translates a condition (a CHECK, a partial index's `WHERE`): like [`translate`], and the
/// result must be a boolean expression in PostgreSQL. SQLite takes any number as a truth value
/// (`CHECK (length(x))`, `CASE WHEN .. THEN x > 0 ELSE 1 END`, `a AND 1`); PostgreSQL does not.
pub fn translate_condition(sql: &str, scope: &Scope) -> Result<String, String> {
    let translated = translate(sql, scope)?;
    check_condition(&tokenize(&translated))?;
    Ok(translated)
}

/// Whether PostgreSQL tokens form a boolean expression (see [`translate_condition`]).
fn check_condition(tokens: &[Token<'_>]) -> Result<(), String> {
    if tokens.iter().any(|t| t.is_word("CASE")) {
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

fn uncomparable(column: &ScopeColumn) -> String {
    format!(
        "uses `{}`, which becomes {} in PostgreSQL, where SQLite's comparisons and functions on it do not carry over",
        column.source,
        column.pg_type.sql()
    )
}

fn cast_type(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT" | "BIGINT" => "bigint",
        "TEXT" => "text",
        "REAL" | "FLOAT" | "DOUBLE" => "double precision",
        "NUMERIC" => "numeric",
        "BLOB" => "bytea",
        _ => return None,
    })
}

fn number(text: &str) -> Result<String, String> {
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

fn blob_literal(text: &str) -> Result<String, String> {
    let hex = text.get(2..text.len().saturating_sub(1)).unwrap_or("");
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || hex.len() % 2 != 0 {
        return Err(format!("`{text}` is not a blob literal"));
    }
    Ok(format!("'\\x{}'::bytea", hex.to_ascii_lowercase()))
}

/// Joins tokens with single spaces, except around `.`, after `(` and before `)` and `,`, and
/// between a function name and its `(`.
fn join_tokens(tokens: &[String]) -> String {
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
fn canonical(sql: &str, column: &str) -> String {
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
fn strip_outer(text: &str) -> String {
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

/// Whether a CHECK on one column only restates what the column's PostgreSQL type already
/// guarantees (`flag IN (0, 1)` on a boolean, `json_valid(doc)` on jsonb, `typeof(n) =
/// 'integer'` on bigint, ...). Returns why, so the plan can say it dropped the check.
pub fn check_implied_by_type(sql: &str, column: &str, pg_type: &PgType) -> Option<&'static str> {
    let mut text = canonical(sql, column);
    for prefix in ["$C IS NULL OR", "$C ISNULL OR"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim().to_string();
        }
    }
    if let Some(rest) = text.strip_suffix("OR $C IS NULL") {
        text = rest.trim().to_string();
    }
    let text = strip_outer(&text);
    let any = |patterns: &[&str]| patterns.iter().any(|p| *p == text);
    match pg_type {
        PgType::Boolean => any(&[
            "$C IN(0,1)",
            "$C IN(1,0)",
            "$C=0 OR $C=1",
            "$C=1 OR $C=0",
            "$C BETWEEN 0 AND 1",
            "$C>=0 AND $C<=1",
            "TYPEOF($C)='integer'",
        ])
        .then_some("the boolean type allows only true and false"),
        PgType::Jsonb | PgType::Json => any(&[
            "JSON_VALID($C)",
            "JSON_VALID($C)=1",
            "JSON_VALID($C)IS 1",
            "JSON_VALID($C)<>0",
            "JSON_VALID($C)!=0",
            "TYPEOF($C)='text'",
        ])
        .then_some("the jsonb type accepts only valid JSON"),
        PgType::Timestamptz | PgType::Timestamp | PgType::Date => {
            let forms = ["DATETIME($C)", "DATE($C)", "JULIANDAY($C)", "UNIXEPOCH($C)"];
            let hit = forms.iter().any(|f| {
                text == format!("{f}IS NOT NULL")
                    || text == format!("$C IS {f}")
                    || text == format!("$C={f}")
            }) || text == "TYPEOF($C)='text'"
                || text == "TYPEOF($C)='integer'";
            hit.then_some("the date/time type accepts only valid dates and times")
        }
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            any(&["TYPEOF($C)='integer'"]).then_some("the integer type accepts only integers")
        }
        PgType::Double | PgType::Real | PgType::Numeric(_) => any(&[
            "TYPEOF($C)='real'",
            "TYPEOF($C)IN('integer','real')",
            "TYPEOF($C)IN('real','integer')",
        ])
        .then_some("the numeric type accepts only numbers"),
        PgType::Text | PgType::Varchar(_) | PgType::Citext => {
            any(&["TYPEOF($C)='text'"]).then_some("the text type accepts only text")
        }
        PgType::Bytea => any(&["TYPEOF($C)='blob'"]).then_some("the bytea type accepts only bytes"),
        PgType::Uuid => any(&["TYPEOF($C)='text'", "LENGTH($C)=36"])
            .then_some("the uuid type accepts only UUIDs"),
        _ => None,
    }
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
        return flag(format!(
            "`{sql}` is the local time of the machine that wrote the row; no default set"
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
        _ => flag(format!(
            "default `{sql}` is an expression with no PostgreSQL equivalent; no default set"
        )),
    }
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
            let parsed = trimmed.parse::<i64>().ok().or_else(|| {
                trimmed
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            });
            let fits = |n: i64| match pg_type {
                PgType::SmallInt => i16::try_from(n).is_ok(),
                PgType::Integer => i32::try_from(n).is_ok(),
                _ => true,
            };
            match parsed {
                Some(n) if fits(n) => DefaultSql::Sql(n.to_string()),
                _ => flag(),
            }
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
        PgType::Timestamptz | PgType::Timestamp | PgType::Date => {
            if kind == LiteralKind::Number {
                let n = match trimmed.parse::<f64>() {
                    Ok(n) => n,
                    Err(_) => return flag(),
                };
                return match (pg_type, conversion) {
                    (PgType::Timestamptz, Some(Conversion::UnixSeconds)) => {
                        DefaultSql::Sql(format!("to_timestamp({trimmed})"))
                    }
                    (PgType::Timestamptz, Some(Conversion::UnixMilliseconds)) => {
                        DefaultSql::Sql(format!("to_timestamp({trimmed} / 1000.0)"))
                    }
                    (PgType::Timestamptz, Some(Conversion::JulianDay)) => {
                        DefaultSql::Sql(format!("to_timestamp(({n} - 2440587.5) * 86400)"))
                    }
                    _ => flag(),
                };
            }
            match timestamp_shape(trimmed) {
                Some(shape) if *pg_type != PgType::Date || shape.date_only => DefaultSql::Sql(quote_literal(trimmed)),
                // 'now' and 'today' would be frozen at CREATE TABLE time in PostgreSQL.
                _ => DefaultSql::Flagged(format!(
                    "default `{sql}` is not a fixed date/time (PostgreSQL would freeze words like 'now' when the table is created); no default set"
                )),
            }
        }
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

/// One column of a `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// PostgreSQL name.
    pub name: String,
    /// Type.
    pub pg_type: PgType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `DEFAULT` expression.
    pub default: Option<String>,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    pub identity: bool,
    /// `GENERATED ALWAYS AS (expr) STORED`.
    pub generated: Option<String>,
}

/// A named or unnamed CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDef {
    /// PostgreSQL constraint name, when SQLite named it.
    pub name: Option<String>,
    /// The translated expression.
    pub sql: String,
}

/// `CREATE TABLE` with columns, NOT NULL, DEFAULT, identity, generated columns and CHECKs (no
/// keys or indexes: those come after the data).
pub fn create_table(table: &str, columns: &[ColumnDef], checks: &[CheckDef]) -> String {
    let mut lines: Vec<String> = columns
        .iter()
        .map(|c| {
            let mut line = format!("    {} {}", q(&c.name), c.pg_type.sql());
            if let Some(expr) = &c.generated {
                line.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
            }
            if c.identity {
                line.push_str(" GENERATED BY DEFAULT AS IDENTITY");
            } else if c.not_null {
                line.push_str(" NOT NULL");
            }
            if let (Some(default), false, None) = (&c.default, c.identity, &c.generated) {
                line.push_str(&format!(" DEFAULT {default}"));
            }
            line
        })
        .collect();
    for check in checks {
        match &check.name {
            Some(name) => lines.push(format!("    CONSTRAINT {} CHECK ({})", q(name), check.sql)),
            None => lines.push(format!("    CHECK ({})", check.sql)),
        }
    }
    format!("CREATE TABLE {table} (\n{}\n)", lines.join(",\n"))
}

/// `ALTER TABLE .. ADD [CONSTRAINT ..] CHECK (..)`: a table's CHECKs are added one by one
/// right after its `CREATE TABLE`, before the rows, so PostgreSQL still enforces them as the
/// rows arrive, and one it refuses to create can be left out alone ([`is_add_check`]).
pub fn add_check(table: &str, check: &CheckDef) -> String {
    match &check.name {
        Some(name) => format!(
            "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({})",
            q(name),
            check.sql
        ),
        None => format!("ALTER TABLE {table} ADD CHECK ({})", check.sql),
    }
}

/// Whether `sql` is a statement [`add_check`] makes.
pub fn is_add_check(sql: &str) -> bool {
    sql.starts_with("ALTER TABLE ")
        && (sql.contains(" ADD CHECK (")
            || sql.contains(" CHECK (") && sql.contains(" ADD CONSTRAINT "))
}

/// `ALTER TABLE .. ADD CONSTRAINT .. PRIMARY KEY (..)`.
pub fn add_primary_key(table: &str, name: &str, columns: &[String]) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} PRIMARY KEY ({})",
        q(name),
        quote_list(columns)
    )
}

/// `ALTER TABLE .. ADD CONSTRAINT .. UNIQUE (..)`.
pub fn add_unique(table: &str, name: &str, columns: &[String]) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} UNIQUE ({})",
        q(name),
        quote_list(columns)
    )
}

/// `CREATE [UNIQUE] INDEX name ON table [USING method] (parts) [WHERE ..]`. Parts are already
/// rendered (quoted columns, `lower("c")`, `DESC`).
pub fn create_index(
    name: &str,
    table: &str,
    unique: bool,
    method: Option<&str>,
    parts: &[String],
    where_sql: Option<&str>,
) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {} ON {table} {}({})",
        if unique { "UNIQUE " } else { "" },
        q(name),
        method.map(|m| format!("USING {m} ")).unwrap_or_default(),
        parts.join(", ")
    );
    if let Some(where_sql) = where_sql {
        sql.push_str(&format!(" WHERE {where_sql}"));
    }
    sql
}

/// A foreign key as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyDef {
    /// Constraint name.
    pub name: String,
    /// Referencing columns (PostgreSQL names).
    pub columns: Vec<String>,
    /// `"schema"."parent"`.
    pub parent: String,
    /// Referenced columns (PostgreSQL names).
    pub parent_columns: Vec<String>,
    /// `ON DELETE` action as SQLite reports it.
    pub on_delete: String,
    /// `ON UPDATE` action.
    pub on_update: String,
    /// `DEFERRABLE ...` as written.
    pub deferrable: Option<String>,
    /// Add as `NOT VALID` (existing rows are not checked).
    pub not_valid: bool,
}

/// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY ..`.
pub fn add_foreign_key(table: &str, fk: &ForeignKeyDef) -> String {
    let mut sql = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        q(&fk.name),
        quote_list(&fk.columns),
        fk.parent,
        quote_list(&fk.parent_columns)
    );
    for (clause, action) in [("ON DELETE", &fk.on_delete), ("ON UPDATE", &fk.on_update)] {
        let action = action.to_ascii_uppercase();
        if matches!(
            action.as_str(),
            "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT"
        ) {
            sql.push_str(&format!(" {clause} {action}"));
        }
    }
    if let Some(deferrable) = &fk.deferrable {
        let d = deferrable.to_ascii_uppercase();
        if matches!(
            d.as_str(),
            "DEFERRABLE"
                | "DEFERRABLE INITIALLY DEFERRED"
                | "DEFERRABLE INITIALLY IMMEDIATE"
                | "NOT DEFERRABLE"
                | "NOT DEFERRABLE INITIALLY IMMEDIATE"
        ) {
            sql.push_str(&format!(" {d}"));
        }
    }
    if fk.not_valid {
        sql.push_str(" NOT VALID");
    }
    sql
}

/// Sets the identity of `table.column` (`table` quoted and qualified) to hand out `restart_with`
/// next, or one past the largest id in the table when rows written to the source after the
/// plan carried it further: an identity behind the copied ids would fail the application's
/// next insert. The largest id comes from the primary key's index, which exists by then. When
/// the largest id is already the type's maximum, the sequence is left exhausted (the next
/// insert fails with "reached maximum value", not with a duplicate key).
pub fn restart_identity(table: &str, column: &str, restart_with: i64) -> String {
    let sequence = format!(
        "pg_get_serial_sequence({}, {})",
        quote_literal(table),
        quote_literal(column)
    );
    format!(
        "SELECT CASE WHEN x.m >= s.seqmax THEN setval({sequence}, s.seqmax, true) \
         ELSE setval({sequence}, LEAST(GREATEST({restart_with}, x.m + 1), s.seqmax)::bigint, false) END \
         FROM (SELECT COALESCE((SELECT max({}) FROM {table}), 0)::numeric AS m) AS x, pg_sequence AS s \
         WHERE s.seqrelid = {sequence}::regclass",
        q(column)
    )
}

/// `CREATE VIEW name [(columns)] AS query`.
pub fn create_view(view: &str, columns: &[String], query: &str) -> String {
    if columns.is_empty() {
        format!("CREATE VIEW {view} AS {query}")
    } else {
        format!("CREATE VIEW {view} ({}) AS {query}", quote_list(columns))
    }
}

fn quote_list(names: &[String]) -> String {
    names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(columns: &[(&str, &str, PgType, bool)]) -> Scope {
        Scope {
            columns: columns
                .iter()
                .map(|(s, t, ty, comparable)| ScopeColumn {
                    source: s.to_string(),
                    target: t.to_string(),
                    pg_type: ty.clone(),
                    comparable: *comparable,
                })
                .collect(),
            schema: "public".into(),
            ..Scope::default()
        }
    }

    #[test]
    fn names_are_lowercased_cut_and_deduplicated() {
        assert_eq!(pg_name("Customer", false), "customer");
        assert_eq!(pg_name("Customer", true), "Customer");
        let long = "a".repeat(70);
        let cut = pg_name(&long, false);
        assert!(cut.len() <= 63 && cut.starts_with("aaaa"), "{cut}");
        assert_eq!(cut, pg_name(&long, false));
        assert_ne!(pg_name(&format!("{long}x"), false), cut);
        let unicode = "é".repeat(40);
        assert!(pg_name(&unicode, false).len() <= 63);
        assert!(pg_name("", false).starts_with("unnamed_"));
        let mut ns = Namespace::default();
        assert_eq!(ns.claim("t"), "t");
        assert_eq!(ns.claim("t"), "t_2");
        assert_eq!(ns.claim("t"), "t_3");
        let wide = "b".repeat(63);
        assert_eq!(ns.claim(&wide), wide);
        let second = ns.claim(&wide);
        assert!(second.len() <= 63 && second.ends_with("_2"), "{second}");
    }

    #[test]
    fn expressions_translate_with_renamed_columns() {
        let s = scope(&[
            ("Status", "status", PgType::Text, true),
            ("price", "price", PgType::Double, true),
            ("flag", "flag", PgType::Boolean, false),
        ]);
        assert_eq!(
            translate("Status IN ('a', \"b\")", &s).unwrap(),
            "\"status\" IN ('a', 'b')"
        );
        assert_eq!(
            translate("price >= 0 AND price == 1", &s).unwrap(),
            "\"price\" >= 0 AND \"price\" = 1"
        );
        assert_eq!(
            translate("length(status) > 0", &s).unwrap(),
            "length(\"status\") > 0"
        );
        assert_eq!(
            translate("ifnull(status, 'x') LIKE 'a%'", &s).unwrap(),
            "coalesce(\"status\", 'x') ILIKE 'a%'"
        );
        assert_eq!(
            translate("status IS NOT 'x'", &s).unwrap(),
            "\"status\" IS DISTINCT FROM 'x'"
        );
        assert_eq!(
            translate("status IS NOT NULL", &s).unwrap(),
            "\"status\" IS NOT NULL"
        );
        assert_eq!(
            translate("max(price, 0x10) > 1", &s).unwrap(),
            "GREATEST(\"price\", 16) > 1"
        );
        assert_eq!(
            translate("CAST(price AS INTEGER) > 1", &s).unwrap(),
            "CAST(\"price\" AS bigint) > 1"
        );
        assert_eq!(
            translate("flag = 1 AND flag != 0", &s).unwrap(),
            "\"flag\" = TRUE AND \"flag\" != FALSE"
        );
        assert_eq!(
            translate("flag IS NOT NULL", &s).unwrap(),
            "\"flag\" IS NOT NULL"
        );
        assert!(translate("flag + 1 = 2", &s)
            .unwrap_err()
            .contains("boolean"));
        assert!(translate("flag = 1 + 1", &s).is_err());
        assert!(translate("status GLOB 'a*'", &s).is_err());
        assert!(translate("typeof(status) = 'text'", &s).is_err());
        assert!(translate("nope > 1", &s).is_err());
        assert!(translate("", &s).is_err());
    }

    #[test]
    fn views_qualify_relations_and_keep_aliases() {
        let mut s = scope(&[
            ("Name", "name", PgType::Text, true),
            ("ArtistId", "artistid", PgType::BigInt, true),
        ]);
        s.relations = vec![ScopeRelation {
            source: "Artist".into(),
            target: "artist".into(),
        }];
        s.query = true;
        let sql = translate("SELECT a.Name AS ArtistName, count(*) FROM Artist a WHERE Artist.ArtistId > 1 GROUP BY a.Name", &s).unwrap();
        assert_eq!(
            sql,
            "SELECT \"a\".\"name\" AS \"artistname\", count(*) FROM \"public\".\"artist\" \"a\" WHERE \"artist\".\"artistid\" > 1 GROUP BY \"a\".\"name\""
        );
    }

    #[test]
    fn literals_follow_the_column_affinity_as_in_sqlite() {
        let s = scope(&[
            ("code", "code", PgType::Text, true),
            ("n", "n", PgType::BigInt, true),
            ("x", "x", PgType::Double, true),
        ]);
        assert_eq!(translate("code = 1", &s).unwrap(), "\"code\" = '1'");
        assert_eq!(translate("1 <> code", &s).unwrap(), "'1' <> \"code\"");
        let mut q = s.clone();
        q.query = true;
        q.relations = vec![ScopeRelation {
            source: "t".into(),
            target: "t".into(),
        }];
        assert_eq!(
            translate("SELECT n FROM t WHERE t.code = 2", &q).unwrap(),
            "SELECT \"n\" FROM \"public\".\"t\" WHERE \"t\".\"code\" = '2'"
        );
        assert_eq!(
            translate("code IN (1, 'a', 2)", &s).unwrap(),
            "\"code\" IN ('1', 'a', '2')"
        );
        assert_eq!(
            translate("code NOT IN (1)", &s).unwrap(),
            "\"code\" NOT IN ('1')"
        );
        assert_eq!(
            translate("n = '5' AND n > 0", &s).unwrap(),
            "\"n\" = '5' AND \"n\" > 0"
        );
        assert_eq!(
            translate("length(code) > 1", &s).unwrap(),
            "length(\"code\") > 1"
        );
        assert!(translate("n <> ''", &s).is_err());
        assert!(translate("n IN ('a')", &s).is_err());
        assert!(translate("code = 1.5", &s).is_err());
        assert!(translate("coalesce(n, '')", &s).is_err());
        assert!(translate("coalesce(code, '')", &s).is_ok());
        assert!(translate("x % 2 = 0", &s).is_err());
        assert!(translate("n % 2 = 0", &s).is_ok());
    }

    #[test]
    fn conditions_must_be_boolean_in_postgresql() {
        let s = scope(&[
            ("a", "a", PgType::BigInt, true),
            ("b", "b", PgType::Text, true),
        ]);
        assert_eq!(
            translate_condition("a > 1 AND b IS NOT NULL", &s).unwrap(),
            "\"a\" > 1 AND \"b\" IS NOT NULL"
        );
        assert!(translate_condition("((a > 1))", &s).is_ok());
        assert!(translate_condition("length(b)", &s).is_err());
        assert!(translate_condition("a", &s).is_err());
        assert!(translate_condition("(a + 1)", &s).is_err());
        assert!(translate_condition("a > 1 AND 1", &s).is_err());
        assert!(translate_condition("a BETWEEN 1 AND 10 AND b <> ''", &s).is_ok());
        assert!(translate_condition("a BETWEEN 1 AND 10 AND 1", &s).is_err());
        assert!(translate_condition("CASE WHEN a > 5 THEN b IS NOT NULL ELSE 1 END", &s).is_err());
    }

    #[test]
    fn typed_columns_pass_where_their_use_is_portable() {
        let mut s = scope(&[
            ("at", "at", PgType::Timestamptz, false),
            ("doc", "doc", PgType::Jsonb, false),
            ("n", "n", PgType::BigInt, true),
        ]);
        assert_eq!(
            translate("at > '2024-01-01'", &s).unwrap(),
            "\"at\" > '2024-01-01'"
        );
        assert!(translate("at > 'yesterday'", &s).is_err());
        assert!(translate("length(doc) > 2", &s).is_err());
        s.relations = vec![ScopeRelation {
            source: "t".into(),
            target: "t".into(),
        }];
        s.query = true;
        assert_eq!(
            translate("SELECT n, at AS when_, max(at), doc FROM t ORDER BY at DESC", &s).unwrap(),
            "SELECT \"n\", \"at\" AS \"when_\", max(\"at\"), \"doc\" FROM \"public\".\"t\" ORDER BY \"at\" DESC"
        );
        assert!(translate("SELECT coalesce(doc, '{}') FROM t", &s).is_err());
        assert!(translate("SELECT n FROM t WHERE doc = '{}'", &s).is_err());
    }

    #[test]
    fn implied_checks_are_recognised() {
        assert!(
            check_implied_by_type("is_archived IN (0, 1)", "is_archived", &PgType::Boolean)
                .is_some()
        );
        assert!(
            check_implied_by_type("\"flag\" = 0 OR flag = 1", "flag", &PgType::Boolean).is_some()
        );
        assert!(check_implied_by_type("json_valid(doc)", "doc", &PgType::Jsonb).is_some());
        assert!(
            check_implied_by_type("doc IS NULL OR json_valid(doc)", "doc", &PgType::Jsonb)
                .is_some()
        );
        assert!(check_implied_by_type("typeof(n) = 'integer'", "n", &PgType::BigInt).is_some());
        assert!(
            check_implied_by_type("datetime(at) IS NOT NULL", "at", &PgType::Timestamptz).is_some()
        );
        assert!(check_implied_by_type("flag IN (0, 1, 2)", "flag", &PgType::Boolean).is_none());
        assert!(check_implied_by_type("json_valid(doc)", "doc", &PgType::Text).is_none());
    }

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

    #[test]
    fn statements_render_quoted() {
        let columns = vec![
            ColumnDef {
                name: "id".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                default: None,
                identity: true,
                generated: None,
            },
            ColumnDef {
                name: "select".into(),
                pg_type: PgType::Text,
                not_null: true,
                default: Some("'x'".into()),
                identity: false,
                generated: None,
            },
            ColumnDef {
                name: "two".into(),
                pg_type: PgType::BigInt,
                not_null: false,
                default: None,
                identity: false,
                generated: Some("\"id\" * 2".into()),
            },
        ];
        let checks = vec![CheckDef {
            name: Some("ok".into()),
            sql: "\"id\" > 0".into(),
        }];
        assert_eq!(
            create_table("\"public\".\"t\"", &columns, &checks),
            "CREATE TABLE \"public\".\"t\" (\n    \"id\" bigint GENERATED BY DEFAULT AS IDENTITY,\n    \"select\" text NOT NULL DEFAULT 'x',\n    \"two\" bigint GENERATED ALWAYS AS (\"id\" * 2) STORED,\n    CONSTRAINT \"ok\" CHECK (\"id\" > 0)\n)"
        );
        let fk = ForeignKeyDef {
            name: "t_p_fkey".into(),
            columns: vec!["p".into()],
            parent: "\"public\".\"p\"".into(),
            parent_columns: vec!["id".into()],
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
            deferrable: Some("DEFERRABLE INITIALLY DEFERRED".into()),
            not_valid: true,
        };
        assert_eq!(
            add_foreign_key("\"public\".\"t\"", &fk),
            "ALTER TABLE \"public\".\"t\" ADD CONSTRAINT \"t_p_fkey\" FOREIGN KEY (\"p\") REFERENCES \"public\".\"p\" (\"id\") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID"
        );
        assert_eq!(
            create_index(
                "i",
                "\"public\".\"t\"",
                true,
                None,
                &["lower(\"a\")".into()],
                Some("\"a\" IS NOT NULL")
            ),
            "CREATE UNIQUE INDEX \"i\" ON \"public\".\"t\" (lower(\"a\")) WHERE \"a\" IS NOT NULL"
        );
    }

    /// Untrusted SQL text (CHECKs, defaults, index and view SQL, type names) must never make
    /// the planner panic: throw random fragments at every parser and translator.
    #[test]
    fn random_sql_never_panics() {
        const PIECES: &[&str] = &[
            "(",
            ")",
            "'",
            "\"",
            "[",
            "]",
            "`",
            "x'",
            "0x",
            "1e",
            "-",
            "+",
            ".",
            ",",
            "==",
            "||",
            "->>",
            "IS",
            "NOT",
            "NULL",
            "IN",
            "CAST",
            "AS",
            "INTEGER",
            "SELECT",
            "FROM",
            "WHERE",
            "LIMIT",
            "min",
            "max",
            "count",
            "json_valid",
            "datetime",
            "'now'",
            "CURRENT_TIMESTAMP",
            "strftime",
            "'%s'",
            "a",
            "b",
            "é",
            "\u{1F680}",
            "\0",
            "--",
            "/*",
            "*/",
            " ",
            "CHECK",
            "DEFAULT",
            "REFERENCES",
            "GENERATED",
            "COLLATE",
            "NOCASE",
            "ON",
            "DEFERRABLE",
            "CONSTRAINT",
            "PRIMARY",
            "KEY",
            "CREATE",
            "TABLE",
            "INDEX",
            "VIEW",
            "VIRTUAL",
            "USING",
            "fts5",
            "=",
            "1",
            "0",
            "2.5",
            "numeric(",
            "99999999999999999999",
            "TRUE",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let scope = scope(&[
            ("a", "a", PgType::Boolean, false),
            ("b", "b", PgType::Text, true),
        ]);
        let mut query = scope.clone();
        query.query = true;
        query.relations = vec![ScopeRelation {
            source: "a".into(),
            target: "a".into(),
        }];
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let sql: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(if next() % 2 == 0 { " " } else { "" });
            let _ = translate(&sql, &scope);
            let _ = translate(&sql, &query);
            let _ = check_implied_by_type(&sql, "a", &PgType::Boolean);
            let _ = columns_used(&sql, &scope);
            for ty in [
                PgType::Timestamptz,
                PgType::Text,
                PgType::Boolean,
                PgType::BigInt,
                PgType::Jsonb,
                PgType::Bytea,
                PgType::Date,
            ] {
                let _ = translate_default(&sql, &ty, Some(Conversion::UnixMilliseconds));
                let _ = translate_default(&sql, &ty, None);
            }
            let _ = crate::transfer::plan::catalog::parse_create_table(&sql);
            let _ = crate::transfer::plan::catalog::parse_create_index(&sql);
            let _ = crate::transfer::model::parse_pg_type(&sql);
            let _ = crate::transfer::plan::sqlite_types::declared_kind(&sql);
            let _ = crate::transfer::plan::sqlite_types::numeric_precision(&sql);
            let _ = crate::transfer::plan::profile::timestamp_shape(&sql);
            let _ = crate::transfer::plan::profile::json_shape(&sql);
            assert!(pg_name(&sql, false).len() <= MAX_IDENTIFIER_BYTES);
        }
    }
}
