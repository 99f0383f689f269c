//! Foreign keys: each SQLite foreign key whose both sides are planned, reference a key and
//! compare becomes an `ADD CONSTRAINT .. FOREIGN KEY`, added `NOT VALID` (or marked blocking)
//! when child rows reference missing parents.

use std::collections::BTreeSet;

use crate::transfer::error::Result;
use crate::transfer::model::PgType;
use crate::transfer::plan::catalog::ForeignKey;
use crate::transfer::plan::ddl::{self, ForeignKeyDef, ScopeColumn};
use crate::transfer::plan::document::{item, ForeignKeyPlan, Severity};
use crate::transfer::plan::options::OrphanPolicy;
use crate::transfer::plan::planner::{Orphans, Planned, Planner};
use crate::transfer::plan::statement::Definition;

/// Both sides of a foreign key, as planned.
struct Sides {
    parent: usize,
    child_columns: Vec<ScopeColumn>,
    parent_columns: Vec<ScopeColumn>,
}

impl Planner<'_> {
    /// Plans the foreign keys of every planned table, taking their orphan counts.
    pub(crate) fn plan_foreign_keys(&mut self, orphans: &mut Orphans) -> Result<()> {
        let facts = self.facts;
        for index in 0..self.planned.len() {
            let table = &facts.schema.tables[index];
            for (fk_index, fk) in table.foreign_keys.iter().enumerate() {
                let object = format!(
                    "foreign key `{}({})` -> `{}({})`",
                    table.name,
                    fk.columns.join(", "),
                    fk.parent,
                    fk.parent_columns.join(", ")
                );
                let sides = match self.sides(index, fk) {
                    Ok(sides) => sides,
                    Err(why) => {
                        self.lose(object, why, None);
                        continue;
                    }
                };
                // The probe counted every key whose parent is planned and whose sides are as
                // long; a failed count fails the plan, as the key cannot be judged.
                let orphan_rows = match orphans.remove(&(index, fk_index)) {
                    Some(count) => count?,
                    None => 0,
                };
                let plan = self.foreign_key(index, fk, &sides, orphan_rows, object);
                self.planned[index].plan.foreign_keys.push(plan);
            }
        }
        Ok(())
    }

    /// The planned columns on both sides of `fk` of table `index`, or why it is not created.
    fn sides(&self, index: usize, fk: &ForeignKey) -> std::result::Result<Sides, String> {
        let Some(parent_index) = self
            .planned
            .iter()
            .position(|p| p.plan.map.source.eq_ignore_ascii_case(&fk.parent))
        else {
            return Err(format!(
                "`{}` is not part of the plan (missing in SQLite, or left out); not created",
                fk.parent
            ));
        };
        let find = |planned: &Planned, source: &String| {
            planned
                .columns
                .iter()
                .find(|c| c.source.eq_ignore_ascii_case(source))
                .cloned()
        };
        let child = &self.planned[index];
        let parent = &self.planned[parent_index];
        let child_columns: Option<Vec<ScopeColumn>> =
            fk.columns.iter().map(|c| find(child, c)).collect();
        let parent_columns: Option<Vec<ScopeColumn>> =
            fk.parent_columns.iter().map(|c| find(parent, c)).collect();
        let (Some(child_columns), Some(parent_columns)) = (child_columns, parent_columns) else {
            return Err("a column it names does not exist or is not copied; not created".into());
        };
        if child_columns.len() != parent_columns.len() || child_columns.is_empty() {
            return Err("it names different numbers of columns on each side; not created".into());
        }
        let parent_set: BTreeSet<&String> = parent_columns.iter().map(|c| &c.target).collect();
        if !parent
            .unique_sets
            .iter()
            .any(|set| set.iter().collect::<BTreeSet<_>>() == parent_set)
        {
            return Err("the referenced columns have no primary key or unique constraint, which PostgreSQL requires (SQLite reports \"foreign key mismatch\" on writes); not created".into());
        }
        if let Some((c, p)) = child_columns
            .iter()
            .zip(&parent_columns)
            .find(|(c, p)| type_family(&c.pg_type) != type_family(&p.pg_type))
        {
            return Err(format!(
                "`{}` is {} but `{}` is {}; PostgreSQL cannot compare them; not created",
                c.source,
                c.pg_type.sql(),
                p.source,
                p.pg_type.sql()
            ));
        }
        Ok(Sides {
            parent: parent_index,
            child_columns,
            parent_columns,
        })
    }

    /// The planned key, with a review item when rows reference missing parents.
    fn foreign_key(
        &mut self,
        index: usize,
        fk: &ForeignKey,
        sides: &Sides,
        orphans: u64,
        object: String,
    ) -> ForeignKeyPlan {
        let child_target = self.planned[index].plan.map.target.clone();
        let wanted = match &fk.name {
            Some(name) => ddl::pg_name(name, self.options.keep_case),
            None => ddl::pg_name(
                &format!(
                    "{child_target}_{}_fkey",
                    sides
                        .child_columns
                        .iter()
                        .map(|c| c.target.as_str())
                        .collect::<Vec<_>>()
                        .join("_")
                ),
                true,
            ),
        };
        // One namespace for relations and constraints: stricter than PostgreSQL needs,
        // so a key can never take a name an index or CHECK of its table has.
        let name = self.relations.claim(&wanted);
        let not_valid = orphans > 0 && self.options.on_orphans == OrphanPolicy::NotValid;
        let parent = &self.planned[sides.parent];
        let def = ForeignKeyDef {
            name: name.clone(),
            columns: sides
                .child_columns
                .iter()
                .map(|c| c.target.clone())
                .collect(),
            parent: parent.qualified.clone(),
            parent_columns: sides
                .parent_columns
                .iter()
                .map(|c| c.target.clone())
                .collect(),
            on_delete: fk.on_delete.clone(),
            on_update: fk.on_update.clone(),
            deferrable: fk.deferrable.clone(),
            not_valid,
        };
        let parent_target = parent.plan.map.target.clone();
        let sql = Definition::AddForeignKey {
            table: &self.planned[index].qualified,
            key: &def,
        }
        .render();
        if orphans > 0 {
            self.note_orphans(object, orphans);
        }
        ForeignKeyPlan {
            name,
            sql,
            orphan_rows: orphans,
            not_valid,
            parent: parent_target,
        }
    }

    fn note_orphans(&mut self, object: String, orphans: u64) {
        let (severity, what) = match self.options.on_orphans {
            OrphanPolicy::NotValid => (Severity::Warning, "added NOT VALID: new rows are checked; fix the orphans, then run ALTER TABLE .. VALIDATE CONSTRAINT"),
            OrphanPolicy::Fail => (Severity::Blocking, "PostgreSQL will refuse this key and the transfer stops; fix the orphans or plan with on_orphans = \"not_valid\""),
        };
        self.review.push(item(
            severity,
            object,
            format!("{orphans} row(s) reference a missing parent row; {what}"),
            None,
        ));
    }
}

/// Columns of one family can be compared by a foreign key.
fn type_family(pg_type: &PgType) -> String {
    match pg_type {
        PgType::SmallInt | PgType::Integer | PgType::BigInt => "integer".into(),
        PgType::Real | PgType::Double => "float".into(),
        PgType::Numeric(_) => "numeric".into(),
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) => "text".into(),
        other => other.sql(),
    }
}
