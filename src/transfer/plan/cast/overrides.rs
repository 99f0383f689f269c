//! The plan file's overrides: a PostgreSQL type per declared SQLite type, and a type, value
//! policy, conversion or name per column. They are applied before any cast rule.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::transfer::model::{Conversion, ValuePolicy};
use crate::transfer::plan::sqlite_types::normalize_declared;

/// Per-type and per-column choices from the plan file, applied before any rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Declared SQLite type (as written, case-insensitive, e.g. `"DATETIME"`) to PostgreSQL type
    /// (e.g. `"timestamp"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, String>,
    /// `"table.column"` (SQLite names) to what to do with that column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnOverride>,
}

/// What the plan file says about one column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOverride {
    /// The PostgreSQL type, e.g. `"text"`, `"numeric(12,2)"`, `"citext"`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub pg_type: Option<String>,
    /// What the copier does with a value the type cannot hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ValuePolicy>,
    /// A conversion the copier applies first (e.g. `unix_seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
    /// The PostgreSQL column name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Overrides {
    /// The override of `table.column`, if any (names compared case-insensitively).
    pub fn column(&self, table: &str, column: &str) -> Option<&ColumnOverride> {
        let key = format!("{table}.{column}");
        self.columns.get(&key).or_else(|| {
            self.columns
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v)
        })
    }

    /// The PostgreSQL type the plan file maps `declared` to, if any.
    pub fn declared_type(&self, declared: &str) -> Option<&String> {
        let declared = normalize_declared(declared);
        self.types
            .iter()
            .find(|(k, _)| normalize_declared(k) == declared)
            .map(|(_, v)| v)
    }
}
