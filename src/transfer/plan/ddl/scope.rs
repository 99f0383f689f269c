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
