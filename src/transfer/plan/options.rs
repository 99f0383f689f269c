//! What a plan is asked to do ([`PlanOptions`]) and which source tables it takes: the table
//! globs and the rule that only tables PostgreSQL can recreate are planned.

use serde::{Deserialize, Serialize};

use crate::transfer::error::{Error, Result};
use crate::transfer::orm::{self, Detected, OrmChoice};
use crate::transfer::plan::cast::Overrides;
use crate::transfer::plan::catalog::{Schema, Table};
use crate::transfer::plan::facts::Facts;

/// What the plan is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanOptions {
    /// The PostgreSQL schema the tables go into (`public`).
    pub target_schema: String,
    /// Keep the case of SQLite names (default: lowercase them, so they need no quotes, unless
    /// an ORM wrote the source: ORMs quote every name, so its names keep their case).
    pub keep_case: bool,
    /// Which ORM wrote the source (`auto`: found from its bookkeeping tables). Its names keep
    /// their case and its fields get the types it creates on PostgreSQL
    /// ([`crate::transfer::orm::full_mode_type`]).
    #[serde(skip_serializing_if = "OrmChoice::is_detect")]
    pub orm: OrmChoice,
    /// What to do with a foreign key whose child rows reference missing parents.
    pub on_orphans: OrphanPolicy,
    /// Type, policy and name choices per declared type and per column.
    pub overrides: Overrides,
    /// Tables to include (globs with `*` and `?`, case-insensitive); empty means all.
    pub tables: Vec<String>,
    /// Tables to leave out (globs).
    pub exclude: Vec<String>,
    /// The zone the source's date/time texts without an offset were written in: such columns
    /// become `timestamptz`, each text read in this zone. Without it they stay wall-clock
    /// `timestamp` (a column mixing them with offset texts reads them as UTC, flagged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_timezone: Option<crate::transfer::model::SourceZone>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            target_schema: "public".into(),
            keep_case: false,
            orm: OrmChoice::Detect,
            on_orphans: OrphanPolicy::default(),
            overrides: Overrides::default(),
            tables: Vec::new(),
            exclude: Vec::new(),
            source_timezone: None,
        }
    }
}

impl PlanOptions {
    /// The ORM in effect for the source `facts` describe (every table counts, left out or
    /// not), and the options it implies: ORMs quote every name, so with one the names keep
    /// their case.
    pub(crate) fn with_orm(&self, facts: &Facts) -> (PlanOptions, Detected) {
        let tables: Vec<String> = (facts.schema.tables.iter())
            .chain(&facts.left_out)
            .chain(&facts.unplannable)
            .map(|t| t.name.clone())
            .collect();
        let detected = orm::resolve(self.orm, &tables);
        let mut options = self.clone();
        options.keep_case |= detected.orm.is_some();
        (options, detected)
    }

    /// Refuses options no plan can be made with, before the source is opened.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.target_schema.is_empty() || self.target_schema.contains('\0') {
            return Err(Error::Invalid(
                "the target schema must be a non-empty name without NUL".into(),
            ));
        }
        Ok(())
    }
}

/// What to do with a foreign key that existing rows violate (SQLite does not enforce foreign
/// keys unless `PRAGMA foreign_keys = ON`, so orphans are common).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanPolicy {
    /// Add the key as planned; PostgreSQL refuses it and the transfer stops. The plan marks
    /// such keys [`Severity::Blocking`](crate::transfer::plan::Severity::Blocking).
    Fail,
    /// Add the key `NOT VALID`: new writes are checked, the orphans stay and are reported for
    /// cleanup (then `ALTER TABLE .. VALIDATE CONSTRAINT`). The default: the data arrives as
    /// it is and the rule still holds from now on.
    #[default]
    NotValid,
}

/// The source tables sorted by what the plan does with them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// Tables the plan recreates, in catalog order.
    pub kept: Vec<Table>,
    /// Tables the table options leave out.
    pub left_out: Vec<Table>,
    /// Virtual tables PostgreSQL cannot recreate (other modules, full-text tables whose text
    /// lives elsewhere).
    pub unplannable: Vec<Table>,
}

/// Sorts the tables of `schema` (which keeps none of them) by the table options.
pub(crate) fn select(schema: &mut Schema, options: &PlanOptions) -> Selection {
    let (kept, left_out): (Vec<Table>, Vec<Table>) = std::mem::take(&mut schema.tables)
        .into_iter()
        .partition(|t| selected(&t.name, &options.tables, &options.exclude));
    let (kept, unplannable) = kept.into_iter().partition(plannable);
    Selection {
        kept,
        left_out,
        unplannable,
    }
}

/// Whether `table` passes the table options: `include` globs (empty: all) and `exclude` globs,
/// with `*` and `?`, case-insensitively.
pub fn selected(table: &str, include: &[String], exclude: &[String]) -> bool {
    (include.is_empty() || include.iter().any(|g| glob(g, table)))
        && !exclude.iter().any(|g| glob(g, table))
}

/// Whether a table can be recreated: ordinary tables, full-text tables that hold their text
/// and R*Tree tables.
pub(crate) fn plannable(table: &Table) -> bool {
    match &table.virtual_table {
        None => true,
        Some(vt) => (vt.is_fts() && vt.option("content").is_none()) || vt.is_rtree(),
    }
}

/// `*` and `?` globs, ASCII case-insensitive.
fn glob(pattern: &str, name: &str) -> bool {
    fn matches(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&p[1..], n) || (!n.is_empty() && matches(p, &n[1..])),
            (Some('?'), Some(_)) => matches(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => matches(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_case_insensitively() {
        assert!(glob("mission*", "Mission_Events"));
        assert!(glob("t?", "t1"));
        assert!(!glob("t?", "t12"));
        assert!(glob("*", ""));
        assert!(selected("TAGS", &["t?gs".into()], &[]));
        assert!(!selected("missions", &["mission".into()], &[]));
        assert!(selected("missions", &[], &["*_tags".into()]));
        assert!(!selected("mission_tags", &[], &["*_tags".into()]));
        assert!(!selected("tags", &["mission*".into()], &[]));
    }
}
