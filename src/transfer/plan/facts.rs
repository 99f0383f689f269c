//! The [`Facts`] about the SQLite source that planning needs, gathered by the probe
//! ([`crate::transfer::plan::probe`]) and read by the planner, which does no I/O: a test builds
//! them by hand.

use std::collections::HashMap;

use crate::transfer::error::Result;
use crate::transfer::model::{Conversion, PgType};
use crate::transfer::plan::catalog::{Schema, Table};
use crate::transfer::plan::profile::TableProfile;

/// What the planner knows about the source.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// The source file, as the plan names it.
    pub source: String,
    /// The catalog; `tables` holds the tables the plan recreates, in catalog order.
    pub schema: Schema,
    /// Tables the table options leave out.
    pub left_out: Vec<Table>,
    /// Virtual tables PostgreSQL cannot recreate.
    pub unplannable: Vec<Table>,
    /// What each table of `schema.tables` holds, in the same order.
    pub profiles: Vec<TableProfile>,
    /// Orphan rows per (table, foreign key) index of `schema`, or why they could not be counted
    /// (the plan fails with that error if it keeps the key). Keys whose parent is not planned or
    /// whose sides differ in length are not counted: the planner leaves them out.
    pub orphans: HashMap<(usize, usize), Result<u64>>,
    /// Rows that repeat another row's unique key once converted, per key the plan creates over
    /// converted values; a key not listed has none.
    pub collisions: Vec<(KeyProbe, u64)>,
    /// Rows that fail a CHECK, evaluated by SQLite on the source, per (table, CHECK) index of
    /// `schema`; a CHECK not listed holds on every row (or SQLite could not evaluate it).
    pub check_violations: HashMap<(usize, usize), u64>,
}

impl Facts {
    /// The rows repeating another row's key `key` once converted.
    pub(crate) fn collisions(&self, key: &KeyProbe) -> u64 {
        self.collisions
            .iter()
            .find(|(probed, _)| probed == key)
            .map_or(0, |(_, n)| *n)
    }
}

/// A unique key the plan creates over values that may compare differently once converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyProbe {
    /// The SQLite table.
    pub table: String,
    /// The key's columns, in key order.
    pub columns: Vec<KeyColumn>,
}

/// One column of a [`KeyProbe`]: how its values are converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyColumn {
    /// The SQLite column.
    pub source: String,
    /// Its PostgreSQL type.
    pub pg_type: PgType,
    /// The conversion the copier applies, if any.
    pub conversion: Option<Conversion>,
}
