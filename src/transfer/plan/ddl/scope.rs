//! What names an expression may use: the columns (with their PostgreSQL names and types) and,
//! for a view, the tables and views it may read.

use crate::transfer::model::PgType;

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
    /// What the whole expression's value becomes, where its place decides it.
    pub wanted: Wanted,
}

/// What an expression's value becomes where its place decides it: the type of the generated
/// column it computes, or an index key. `json_extract`, whose SQLite value takes the type of
/// the JSON it finds, is translated for it; other expressions have one type anyway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wanted {
    /// Nothing decides.
    #[default]
    Any,
    /// Text, converted as SQLite converts a value to text (`CAST`, text functions, `||`).
    Text,
    /// Text to compare with text: SQLite holds a number apart from any text.
    TextCompared,
    /// A number to compare (`numeric`).
    Number,
    /// A 64-bit integer.
    Integer,
    /// A double.
    Real,
    /// The key of a plain index (or `IS NULL`): any value that sorts and finds rows.
    IndexKey,
    /// The key of a unique index: values SQLite holds apart stay apart.
    UniqueKey,
}

impl Wanted {
    /// What a generated column of `pg_type` stores.
    pub fn column(pg_type: &PgType) -> Wanted {
        match pg_type {
            PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext => Wanted::Text,
            PgType::SmallInt | PgType::Integer | PgType::BigInt => Wanted::Integer,
            PgType::Real | PgType::Double => Wanted::Real,
            _ => Wanted::Any,
        }
    }
}

impl Scope {
    pub(super) fn column(&self, name: &str) -> Option<&ScopeColumn> {
        self.columns
            .iter()
            .find(|c| c.source.eq_ignore_ascii_case(name))
    }

    pub(super) fn relation(&self, name: &str) -> Option<&ScopeRelation> {
        self.relations
            .iter()
            .find(|r| r.source.eq_ignore_ascii_case(name))
    }
}
