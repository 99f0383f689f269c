//! The [`Plan`]: everything the transfer will do to PostgreSQL, decided before anything runs,
//! so it can be reviewed, saved as TOML, edited and given back.
//!
//! [`plan`] first probes the SQLite file read-only (`probe`): its catalog ([`catalog`]), what
//! every column holds ([`profile`]), orphan rows and unique keys that collide once converted.
//! The planner (`planner`) then decides, with no I/O: types ([`cast`]), names, the table DDL
//! (one file per decision), foreign keys and views, written as typed [`Statement`]s
//! (`statement`, SQL from [`ddl`]). Findings that need a human look (a widened column, a
//! CHECK that could not be translated, a trigger, orphan rows) are [`ReviewItem`]s and
//! [`Decision`](cast::Decision)s in the plan; they never stop it. Only an unusable source or
//! option is an error.
//!
//! Execution order ([`Plan::ddl`]): `before` (schema, extensions), every table's `create`, then
//! per table its rows and `after_load` (primary key, unique constraints, indexes) and
//! `identity`, then every table's `foreign_keys`, then `views`.

pub mod cast;
pub mod catalog;
mod checks;
mod collisions;
mod column_defs;
mod columns;
pub mod ddl;
mod document;
pub(crate) mod facts;
mod foreign_keys;
mod full_text;
mod indexes;
mod keys;
mod naming;
mod options;
pub(crate) mod planner;
pub(crate) mod probe;
pub mod profile;
pub mod render;
pub mod sqlite_types;
mod statement;
mod table;
#[cfg(test)]
mod tests;
mod triggers;
mod views;

use std::path::Path;

pub use document::{
    ForeignKeyPlan, IdentityPlan, ObjectKind, ObjectPlan, Plan, ReviewItem, Severity, TablePlan,
};
pub use naming::{Name, NameMap, TableNames};
pub use options::{selected, OrphanPolicy, PlanOptions};
pub use statement::{Place, Statement};

use crate::transfer::error::Result;

/// Reads `source` (read-only) and plans its PostgreSQL schema.
pub fn plan(source: &Path, options: &PlanOptions) -> Result<Plan> {
    options.validate()?;
    let facts = probe::probe(source, options)?;
    planner::plan(facts, options)
}

/// The SQLite tables a plan of `source` with `options` would hold, read from the catalog alone
/// (no data profile): what a saved plan is checked against before it runs.
pub fn planned_tables(source: &Path, options: &PlanOptions) -> Result<Vec<String>> {
    let mut db = catalog::Source::open(source)?;
    let schema = catalog::introspect(&mut db)?;
    Ok(schema
        .tables
        .iter()
        .filter(|t| selected(&t.name, &options.tables, &options.exclude) && options::plannable(t))
        .map(|t| t.name.clone())
        .collect())
}
