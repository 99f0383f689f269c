//! The table planner: one SQLite table becomes its `CREATE TABLE`, CHECKs, keys and indexes,
//! and the copier's column map. Each decision has its own file: column types and names
//! ([`crate::transfer::plan::columns`]), column definitions ([`crate::transfer::plan::column_defs`]),
//! CHECKs, full-text, the primary key and the indexes.

use std::collections::BTreeSet;

use crate::transfer::error::Result;
use crate::transfer::model::{ColumnMap, SourceKey, TableMap};
use crate::transfer::plan::catalog::{Table, VirtualTable};
use crate::transfer::plan::columns::ColumnPlan;
use crate::transfer::plan::ddl::{qualified, Scope, ScopeColumn};
use crate::transfer::plan::document::{item, Severity, TablePlan};
use crate::transfer::plan::naming::NameRequest;
use crate::transfer::plan::planner::{Planned, Planner};
use crate::transfer::plan::profile::{self, TableProfile};
use crate::transfer::plan::statement::{Definition, Statement};

/// The most columns a PostgreSQL table can have.
const MAX_PG_COLUMNS: usize = 1600;

/// One table while it is planned: the source, its target name and its chosen columns.
pub(crate) struct TableContext<'t> {
    pub table: &'t Table,
    pub profile: &'t TableProfile,
    /// The PostgreSQL table name.
    pub target: String,
    /// `"schema"."table"`.
    pub qualified: String,
    /// The full-text module, when the table is a full-text table.
    pub fts: Option<&'t VirtualTable>,
    pub columns: Vec<ColumnPlan<'t>>,
    /// The table's columns as its expressions see them.
    pub scope: Scope,
}

/// The keys and indexes of a table: statements run after its rows, and the column sets a
/// foreign key may reference.
#[derive(Default)]
pub(crate) struct Keys {
    pub after_load: Vec<Statement>,
    pub unique_sets: Vec<Vec<String>>,
}

impl Planner<'_> {
    pub(crate) fn plan_tables(&mut self) -> Result<()> {
        let facts = self.facts;
        // Table and view names first, so index and constraint names never take them, and in
        // one claim, so a name lowercasing keeps is kept whether a table or a view holds it.
        let requests: Vec<NameRequest<'_>> = facts
            .schema
            .tables
            .iter()
            .map(|t| (&t.name, "table"))
            .chain(facts.schema.views.iter().map(|v| (&v.name, "view")))
            .map(|(name, what)| NameRequest {
                object: format!("{what} `{name}`"),
                source: name,
                given: None,
            })
            .collect();
        let mut targets = self.claim_relation_names(&requests);
        self.view_targets = targets.split_off(facts.schema.tables.len());
        let keys = self.key_columns();
        let empty = TableProfile::default();
        for (index, target) in targets.into_iter().enumerate() {
            let table = &facts.schema.tables[index];
            let profile = facts.profiles.get(index).unwrap_or(&empty);
            let planned = self.plan_table(table, profile, target, &keys)?;
            self.planned.push(planned);
        }
        Ok(())
    }

    /// `(table, column)` pairs, lowercase, that are part of a key on either side.
    fn key_columns(&self) -> BTreeSet<(String, String)> {
        let mut keys = BTreeSet::new();
        for table in &self.facts.schema.tables {
            let t = table.name.to_lowercase();
            keys.extend(
                table
                    .primary_key
                    .iter()
                    .map(|c| (t.clone(), c.to_lowercase())),
            );
            for fk in &table.foreign_keys {
                keys.extend(fk.columns.iter().map(|c| (t.clone(), c.to_lowercase())));
                keys.extend(
                    fk.parent_columns
                        .iter()
                        .map(|c| (fk.parent.to_lowercase(), c.to_lowercase())),
                );
            }
        }
        keys
    }

    fn plan_table<'t>(
        &mut self,
        table: &'t Table,
        profile: &'t TableProfile,
        target: String,
        keys: &BTreeSet<(String, String)>,
    ) -> Result<Planned> {
        let fts = table.virtual_table.as_ref().filter(|v| v.is_fts());
        let mut column_names = crate::transfer::plan::naming::column_namespace();
        if fts.is_some() {
            column_names.claim("rowid");
        }
        if let Some(problem) = &table.parse_problem {
            self.lose(format!("table `{}`", table.name), format!("its CREATE TABLE text could not be read ({problem}); CHECKs, collations and generated columns are not carried over"), Some(table.sql.clone()));
        }
        let columns =
            self.choose_columns(table, profile, fts.is_some(), keys, &mut column_names)?;
        let scope = Scope {
            columns: columns.iter().map(ColumnPlan::scope_column).collect(),
            schema: self.options.target_schema.clone(),
            keep_case: self.options.keep_case,
            ..Scope::default()
        };
        self.check_column_count(table, columns.len());
        let context = TableContext {
            table,
            profile,
            qualified: qualified(&self.options.target_schema, &target),
            target,
            fts,
            columns,
            scope,
        };
        let (mut defs, maps, identity) = self.define_columns(&context);
        let checks = self.plan_checks(&context);
        let mut keys = Keys::default();
        if let Some(vt) = fts {
            self.plan_full_text(&context, vt, &mut column_names, &mut defs, &mut keys);
        } else if table.virtual_table.is_none() {
            self.plan_content_indexes(&context, &mut column_names, &mut defs, &mut keys);
        }
        let mut create = vec![Definition::CreateTable {
            table: &context.qualified,
            columns: &defs,
        }
        .render()];
        create.extend(checks.before_load.iter().map(|check| {
            Definition::AddCheck {
                table: &context.qualified,
                check,
            }
            .render()
        }));
        match table.virtual_table.as_ref() {
            Some(vt) if vt.is_rtree() => {
                self.plan_rtree(&context, vt, &mut keys);
            }
            _ if fts.is_none() => self.plan_primary_key(&context, &mut keys),
            _ => {}
        }
        self.plan_indexes(&context, &mut keys);
        keys.after_load.extend(checks.after_load);
        Ok(self.planned_table(context, maps, create, keys, identity))
    }

    /// PostgreSQL refuses a table of more than 1600 columns; say so before anything runs.
    fn check_column_count(&mut self, table: &Table, columns: usize) {
        if columns > MAX_PG_COLUMNS {
            self.review.push(item(
                Severity::Blocking,
                format!("table `{}`", table.name),
                format!(
                    "it has {columns} columns and PostgreSQL allows at most {MAX_PG_COLUMNS} per table; split it in SQLite, or leave it out with --exclude",
                ),
                None,
            ));
        }
    }

    fn planned_table(
        &mut self,
        context: TableContext<'_>,
        (maps, generated): (Vec<ColumnMap>, Vec<ColumnMap>),
        create: Vec<Statement>,
        keys: Keys,
        identity: Option<crate::transfer::plan::document::IdentityPlan>,
    ) -> Planned {
        let table = context.table;
        let key = if table.without_rowid {
            SourceKey::PrimaryKey(table.primary_key.clone())
        } else {
            if profile::rowid_name(table).is_none() {
                self.warn(format!("table `{}`", table.name), "columns named rowid, _rowid_ and oid hide the rowid; the copier cannot page through this table by rowid".into(), None);
            }
            SourceKey::Rowid
        };
        let map = TableMap {
            source: table.name.clone(),
            target_schema: self.options.target_schema.clone(),
            target: context.target,
            key,
            columns: maps,
            generated,
        };
        Planned {
            plan: TablePlan {
                map,
                create,
                after_load: keys.after_load,
                foreign_keys: Vec::new(),
                identity,
                source_rows: context.profile.rows,
            },
            columns: context.scope.columns,
            unique_sets: keys.unique_sets,
            qualified: context.qualified,
        }
    }
}

impl TableContext<'_> {
    /// The planned column of the SQLite column `source` (ASCII case-insensitive).
    pub(crate) fn column(&self, source: &str) -> Option<&ColumnPlan<'_>> {
        self.columns
            .iter()
            .find(|c| c.column.name.eq_ignore_ascii_case(source))
    }
}

/// The scope column of a planned column.
impl ColumnPlan<'_> {
    pub(crate) fn scope_column(&self) -> ScopeColumn {
        ScopeColumn {
            source: self.column.name.clone(),
            target: self.target.clone(),
            pg_type: self.choice.pg_type.clone(),
            comparable: crate::transfer::plan::columns::comparable(self),
        }
    }
}
