//! [`Dialect`]: the SQL that differs between SQLite and PostgreSQL, as small functions that
//! return SQL text. Pure: no I/O, tested here for the strings and in `tests/` for what each
//! string does on both real databases.
//!
//! Identifiers are quoted through [`quote_ident`] and nowhere else, so a name can never become
//! SQL.

use crate::error::{Error, Result};

/// A SQL dialect. Closed on purpose: a third-party backend speaks one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// SQLite 3.35 or newer (`RETURNING`, `ON CONFLICT ... DO UPDATE`, `->>`).
    Sqlite,
    /// PostgreSQL 13 or newer (`gen_random_uuid()` in core).
    Postgres,
}

/// Quotes an identifier for either dialect: `"name"`, with `"` doubled. Fails on NUL, which no
/// database accepts in a name. The transfer's form, whose callers wrap the text in errors of
/// their own; a service calls [`Dialect::quote_ident`], which returns the data layer's error.
#[doc(hidden)]
pub fn quote_ident(name: &str) -> std::result::Result<String, String> {
    if name.contains('\0') {
        return Err(format!("identifier {name:?} contains a NUL byte"));
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// [`quote_ident`] with the data layer's error, for the helpers of [`Dialect`].
fn quote(name: &str) -> Result<String> {
    quote_ident(name).map_err(Error::Statement)
}

/// Quotes a string literal for either dialect: `'text'`, with `'` doubled. PostgreSQL runs with
/// `standard_conforming_strings = on` (the default since 9.1), so backslashes stay literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Dialect {
    /// Quotes an identifier: `"name"`, with `"` doubled, which both dialects read. Fails with
    /// [`Error::Statement`] on NUL, which no database accepts in a name.
    pub fn quote_ident(self, name: &str) -> Result<String> {
        quote(name)
    }

    /// The dialect's name as written in configs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The `n`-th parameter placeholder (1-based). `$n` on both; SQLite's text is rewritten
    /// to `?n` by the backend (see [`crate::sql`]).
    pub fn placeholder(self, n: usize) -> String {
        format!("${n}")
    }

    /// The current instant. SQLite: UTC text `YYYY-MM-DD HH:MM:SS.fff000` (SQLite's clock has
    /// milliseconds; the zeros give the six-digit form of
    /// [`format_sqlite_timestamp`](crate::value::format_sqlite_timestamp), so values written by
    /// SQL and by parameters compare and sort together). PostgreSQL: `timestamptz` at the start
    /// of the transaction.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
            Dialect::Postgres => "CURRENT_TIMESTAMP",
        }
    }

    /// An expression that makes a random (version 4) UUID. SQLite: lowercase hyphenated text.
    /// (Its variant digit uses `random() & 3`: `abs(random())` fails on the one value whose
    /// absolute value does not fit in 64 bits.)
    pub fn uuid_generate(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) \
                 || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) \
                 || '-' || hex(randomblob(6)))"
            }
            Dialect::Postgres => "gen_random_uuid()",
        }
    }

    /// A boolean literal: `1`/`0` in SQLite (which has no boolean type), `TRUE`/`FALSE` in
    /// PostgreSQL.
    pub fn bool_literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
        }
    }

    /// Concatenates text expressions. Both use `||`, which yields `NULL` if any part is `NULL`;
    /// PostgreSQL's operands are cast to text so numbers concatenate as they do in SQLite.
    pub fn concat(self, parts: &[&str]) -> String {
        let parts: Vec<String> = match self {
            Dialect::Sqlite => parts.iter().map(|p| format!("({p})")).collect(),
            Dialect::Postgres => parts.iter().map(|p| format!("({p})::text")).collect(),
        };
        format!("({})", parts.join(" || "))
    }

    /// A case-insensitive `LIKE` of `expr` against `pattern`, with `\` as the escape character
    /// (see [`like_escape`]). SQLite folds ASCII letters only; PostgreSQL's `ILIKE` folds all
    /// letters of the database's locale.
    pub fn ilike(self, expr: &str, pattern: &str) -> String {
        match self {
            Dialect::Sqlite => format!("({expr} LIKE {pattern} ESCAPE '\\')"),
            Dialect::Postgres => format!("({expr} ILIKE {pattern} ESCAPE '\\')"),
        }
    }

    /// A column definition for an auto-incrementing 64-bit primary key. SQLite:
    /// `INTEGER PRIMARY KEY AUTOINCREMENT` (ids never reused); PostgreSQL: an identity column.
    pub fn auto_increment_primary_key(self, column: &str) -> Result<String> {
        let column = quote(column)?;
        Ok(match self {
            Dialect::Sqlite => format!("{column} INTEGER PRIMARY KEY AUTOINCREMENT"),
            Dialect::Postgres => {
                format!("{column} BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
            }
        })
    }

    /// The suffix that locks the rows a `SELECT` reads until the transaction ends: `FOR UPDATE`
    /// in PostgreSQL; empty in SQLite, where a transaction started with `BEGIN IMMEDIATE` (as
    /// [`crate::Backend::transaction_dyn`] does) already holds the database's write lock.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The column type for text.
    pub fn text_type(self) -> &'static str {
        "TEXT"
    }

    /// The column type for JSON documents: `TEXT` (checked with `json_valid` if wanted) or `JSONB`.
    pub fn json_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            Dialect::Postgres => "JSONB",
        }
    }

    /// The column type for instants: `TEXT` in UTC (see [`crate::value`]) or `TIMESTAMPTZ`.
    pub fn timestamp_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            Dialect::Postgres => "TIMESTAMPTZ",
        }
    }

    /// The column type for booleans: `INTEGER` holding 0/1, or `BOOLEAN`.
    pub fn bool_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => "BOOLEAN",
        }
    }

    /// The column type for UUIDs: lowercase hyphenated `TEXT`, or `UUID`.
    pub fn uuid_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            Dialect::Postgres => "UUID",
        }
    }

    /// The column type for raw bytes.
    pub fn bytes_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        }
    }

    /// A parameter cast to a named type where the dialect has one (PostgreSQL enums, `uuid`,
    /// `jsonb`); SQLite stores the value as given.
    pub fn cast_param(self, n: usize, pg_type: &str) -> String {
        match self {
            Dialect::Sqlite => format!("${n}"),
            Dialect::Postgres => format!("CAST(${n} AS {pg_type})"),
        }
    }

    /// A top-level JSON field of `expr` as text, the way PostgreSQL's `->>` gives it: strings
    /// unquoted, numbers as written, `true`/`false` for booleans, and `NULL` for a JSON `null`
    /// or a missing key. SQLite's `json_extract` reads booleans as 1/0, so its SQL spells them
    /// out. Nested objects and arrays come back as JSON text, minified in SQLite and in
    /// PostgreSQL's `jsonb` layout, so compare those as JSON, not as text.
    pub fn json_field_text(self, expr: &str, key: &str) -> String {
        match self {
            // SQLite's JSON paths have no escape for `"` inside a quoted key, so such a key is
            // looked up through json_each, which compares the key as plain text.
            Dialect::Sqlite if key.contains('"') => format!(
                "(SELECT CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(value AS TEXT) END \
                 FROM json_each({expr}) WHERE key = {})",
                quote_literal(key)
            ),
            Dialect::Sqlite => {
                let path = quote_literal(&format!("$.\"{key}\""));
                format!(
                    "(CASE json_type({expr}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
                     ELSE CAST(json_extract({expr}, {path}) AS TEXT) END)"
                )
            }
            Dialect::Postgres => format!("({expr} ->> {})", quote_literal(key)),
        }
    }

    /// An upsert: insert a row of `columns` (as `$1..$n`), and on a conflict on
    /// `conflict_columns` update `update_columns` from the new row (`DO NOTHING` when empty).
    /// Both dialects spell it `INSERT ... ON CONFLICT (...) DO UPDATE SET c = excluded.c`.
    pub fn upsert(
        self,
        table: &str,
        columns: &[&str],
        conflict_columns: &[&str],
        update_columns: &[&str],
    ) -> Result<String> {
        let quote_all =
            |names: &[&str]| -> Result<Vec<String>> { names.iter().map(|n| quote(n)).collect() };
        let cols = quote_all(columns)?;
        let placeholders: Vec<String> = (1..=columns.len()).map(|n| self.placeholder(n)).collect();
        let action = if update_columns.is_empty() {
            "DO NOTHING".to_string()
        } else {
            let sets: Vec<String> = quote_all(update_columns)?
                .into_iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            format!("DO UPDATE SET {}", sets.join(", "))
        };
        Ok(format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {action}",
            quote(table)?,
            cols.join(", "),
            placeholders.join(", "),
            quote_all(conflict_columns)?.join(", "),
        ))
    }
}

/// Escapes `%`, `_` and `\` in user text so it matches literally inside a `LIKE` pattern
/// that uses `ESCAPE '\'` (as [`Dialect::ilike`] does).
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_cannot_escape_their_quotes() {
        assert_eq!(quote_ident("a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP TABLE t; --").unwrap(),
            "\"x\"\"; DROP TABLE t; --\""
        );
        assert!(quote_ident("a\0b").is_err());
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn upsert_spells_the_same_on_both() {
        let sql = Dialect::Postgres
            .upsert("tags", &["name", "color"], &["name"], &["color"])
            .unwrap();
        assert_eq!(
            sql,
            "INSERT INTO \"tags\" (\"name\", \"color\") VALUES ($1, $2) ON CONFLICT (\"name\") DO UPDATE SET \"color\" = excluded.\"color\""
        );
        assert!(Dialect::Sqlite
            .upsert("t", &["a"], &["a"], &[])
            .unwrap()
            .ends_with("DO NOTHING"));
    }

    #[test]
    fn like_escape_escapes_wildcards() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn types_differ_where_the_databases_do() {
        assert_eq!(Dialect::Sqlite.json_type(), "TEXT");
        assert_eq!(Dialect::Postgres.json_type(), "JSONB");
        assert_eq!(Dialect::Postgres.bool_literal(true), "TRUE");
        assert_eq!(Dialect::Sqlite.bool_literal(false), "0");
        assert_eq!(
            Dialect::Postgres.cast_param(2, "mission_status"),
            "CAST($2 AS mission_status)"
        );
    }
}
