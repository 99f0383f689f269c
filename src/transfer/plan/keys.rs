//! The primary key: added after the rows, a unique index instead when SQLite let its columns
//! hold NULL, and an ASCII `lower()` unique index beside it when a key column is COLLATE NOCASE.

use crate::transfer::plan::ddl::q;
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::{Definition, Index};
use crate::transfer::plan::table::{Keys, TableContext};

impl Planner<'_> {
    /// Adds the primary key of an ordinary table to `keys`.
    pub(crate) fn plan_primary_key(&mut self, t: &TableContext<'_>, keys: &mut Keys) {
        let table = t.table;
        let object = format!("table `{}`", table.name);
        if table.primary_key.is_empty() {
            self.note(object, "has no primary key; SQLite's hidden rowid identified its rows and is not copied, so the PostgreSQL table has no key either".into(), None);
            return;
        }
        let pk: Vec<String> = table
            .primary_key
            .iter()
            .filter_map(|c| t.column(c).map(|c| c.target.clone()))
            .collect();
        let nullable = table.primary_key.iter().any(|c| {
            table.rowid_alias.as_deref() != Some(c.as_str())
                && t.profile.column(c).is_some_and(|p| p.nulls > 0)
        });
        if pk.len() != table.primary_key.len() {
            self.lose(
                object,
                "the primary key names a column that is not copied; no primary key created".into(),
                None,
            );
        } else if nullable {
            let name = self.derived_name(format!("{}_{}_key", t.target, pk.join("_")));
            let parts: Vec<String> = pk.iter().map(|c| q(c)).collect();
            keys.after_load
                .push(unique_index(&name, &t.qualified, &parts));
            keys.unique_sets.push(pk);
            self.warn(
                object,
                "primary key columns hold NULL (SQLite allows that in rowid tables); created a unique index instead of a primary key".into(),
                None,
            );
        } else {
            let name = self.derived_name(format!("{}_pkey", t.target));
            keys.after_load.push(
                Definition::AddPrimaryKey {
                    table: &t.qualified,
                    name: &name,
                    columns: &pk,
                }
                .render(),
            );
            keys.unique_sets.push(pk.clone());
            self.plan_nocase_key(t, &pk, keys);
        }
    }

    /// A primary key over NOCASE text holds in SQLite by case-insensitive comparison: the
    /// `lower()` unique index keeps it so in PostgreSQL.
    fn plan_nocase_key(&mut self, t: &TableContext<'_>, pk: &[String], keys: &mut Keys) {
        let nocase = |source: &str| t.column(source).is_some_and(|c| c.nocase());
        if !t.table.primary_key.iter().any(|c| nocase(c)) {
            return;
        }
        let name = self.derived_name(format!("{}_{}_nocase_key", t.target, pk.join("_")));
        let parts: Vec<String> = t
            .table
            .primary_key
            .iter()
            .zip(pk)
            .map(|(s, target)| {
                if nocase(s) {
                    ascii_lower(target)
                } else {
                    q(target)
                }
            })
            .collect();
        keys.after_load
            .push(unique_index(&name, &t.qualified, &parts));
    }
}

/// The key part that compares the column `target` as SQLite's NOCASE does: only ASCII letters
/// folded (`Ärger` and `ärger` stay two keys). PostgreSQL's `lower()` folds only ASCII under
/// the `C` collation, whatever the database's locale.
pub(crate) fn ascii_lower(target: &str) -> String {
    format!("lower({} COLLATE \"C\")", q(target))
}

fn unique_index(
    name: &str,
    table: &str,
    parts: &[String],
) -> crate::transfer::plan::statement::Statement {
    Definition::CreateIndex(Index {
        name,
        table,
        unique: true,
        method: None,
        parts,
        where_sql: None,
    })
    .render()
}
