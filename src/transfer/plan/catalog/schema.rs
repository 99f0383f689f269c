//! The plain model of a SQLite schema, as read from its catalog: tables with their columns,
//! keys, CHECKs, indexes and foreign keys, views, triggers, and what was left out. No I/O.

/// Everything read from a SQLite file's catalog.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Ordinary tables and the virtual tables the plan may recreate (FTS), in catalog order.
    pub tables: Vec<Table>,
    /// Views, in catalog order (which is creation order, so dependencies come first).
    pub views: Vec<View>,
    /// Triggers, in catalog order.
    pub triggers: Vec<Trigger>,
    /// Objects left out on purpose, with why.
    pub skipped: Vec<Skipped>,
    /// The SQLite library version that read the file.
    pub sqlite_version: String,
}

/// One table of the source.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// `STRICT`.
    pub strict: bool,
    /// When this is a virtual table: its module and arguments.
    pub virtual_table: Option<VirtualTable>,
    /// The columns, hidden ones included, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns in key order (empty when there is none).
    pub primary_key: Vec<String>,
    /// The `INTEGER PRIMARY KEY` column, which is the rowid itself.
    pub rowid_alias: Option<String>,
    /// `AUTOINCREMENT` on the primary key.
    pub autoincrement: bool,
    /// The table's row in `sqlite_sequence`.
    pub sequence: Option<i64>,
    /// CHECK constraints, column and table level.
    pub checks: Vec<Check>,
    /// Indexes, including those behind UNIQUE constraints (not the primary key's).
    pub indexes: Vec<Index>,
    /// Foreign keys, in declaration order.
    pub foreign_keys: Vec<ForeignKey>,
    /// The `CREATE TABLE` statement.
    pub sql: String,
    /// Why parts of the `CREATE TABLE` text could not be read, if they could not.
    pub parse_problem: Option<String>,
}

/// A virtual table's module and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualTable {
    /// The module, lowercase (`fts5`, `fts4`, `rtree`, ...).
    pub module: String,
    /// The arguments, as written.
    pub arguments: Vec<String>,
}

impl VirtualTable {
    /// Whether this is a full-text table (FTS3, FTS4 or FTS5).
    pub fn is_fts(&self) -> bool {
        matches!(self.module.as_str(), "fts3" | "fts4" | "fts5")
    }

    /// Whether this is an R*Tree table (`rtree`, `rtree_i32`).
    pub fn is_rtree(&self) -> bool {
        matches!(self.module.as_str(), "rtree" | "rtree_i32")
    }

    /// The value of a `key=value` argument (FTS options such as `content` or `tokenize`).
    pub fn option(&self, key: &str) -> Option<String> {
        self.arguments.iter().find_map(|arg| {
            let (k, v) = arg.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| crate::sql::unquote(v.trim()))
        })
    }
}

/// One column of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The declared type as written (may be empty).
    pub declared: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The `DEFAULT` expression's SQL text, as SQLite keeps it.
    pub default: Option<String>,
    /// `COLLATE` name, when not the default `BINARY`.
    pub collation: Option<String>,
    /// A generated column's expression and kind.
    pub generated: Option<Generated>,
    /// Hidden (a virtual table's hidden column).
    pub hidden: bool,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk_position: u32,
}

/// A generated column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The expression's SQL text.
    pub sql: String,
    /// `STORED` (else `VIRTUAL`).
    pub stored: bool,
}

/// A CHECK constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `CONSTRAINT name`, when given.
    pub name: Option<String>,
    /// The expression's SQL text (inside the parentheses).
    pub sql: String,
    /// The column it was declared on, for column constraints.
    pub column: Option<String>,
}

/// Where an index comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOrigin {
    /// `CREATE INDEX`.
    Created,
    /// A `UNIQUE` constraint.
    Unique,
    /// The primary key.
    PrimaryKey,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index's name (`sqlite_autoindex_...` for constraint indexes).
    pub name: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// Where it comes from.
    pub origin: IndexOrigin,
    /// The key parts, in order.
    pub parts: Vec<IndexPart>,
    /// A partial index's `WHERE` expression.
    pub where_sql: Option<String>,
    /// The `CREATE INDEX` statement (none for constraint indexes).
    pub sql: Option<String>,
}

/// One key part of an index: a column or an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPart {
    /// The column, when the part is a plain column.
    pub column: Option<String>,
    /// The expression's SQL text, when the part is an expression.
    pub expression: Option<String>,
    /// `DESC`.
    pub descending: bool,
    /// `COLLATE` name, when given or inherited and not `BINARY`.
    pub collation: Option<String>,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// `CONSTRAINT name`, when given.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub parent: String,
    /// The referenced columns (the parent's primary key when the SQL names none).
    pub parent_columns: Vec<String>,
    /// `ON UPDATE` action (`NO ACTION`, `CASCADE`, ...).
    pub on_update: String,
    /// `ON DELETE` action.
    pub on_delete: String,
    /// `DEFERRABLE INITIALLY DEFERRED` and its kin, as written, when given.
    pub deferrable: Option<String>,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The view's name.
    pub name: String,
    /// Column names given in `CREATE VIEW v(a, b)`.
    pub columns: Vec<String>,
    /// The `SELECT` after `AS`.
    pub select_sql: String,
    /// The `CREATE VIEW` statement.
    pub sql: String,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger's name.
    pub name: String,
    /// The table or view it fires on.
    pub table: String,
    /// The `CREATE TRIGGER` statement.
    pub sql: String,
}

/// An object the transfer leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The object's name.
    pub name: String,
    /// Why it is left out.
    pub reason: String,
}
