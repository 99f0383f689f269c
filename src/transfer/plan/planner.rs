//! The planner: a pure function from the probed [`Facts`] and the [`PlanOptions`] to the
//! [`Plan`], with no I/O, so every decision can be tested with facts built by hand.
//!
//! It plans the tables ([`crate::transfer::plan::table`]), marks unique keys that collide once
//! converted, then plans the foreign keys and the views, which need every table's names and
//! types. Findings are [`ReviewItem`]s; only an unusable option is an error.

use std::collections::HashMap;

use crate::transfer::error::Result;
use crate::transfer::model::PgType;
use crate::transfer::orm::{self, Orm};
use crate::transfer::plan::cast::Decision;
use crate::transfer::plan::ddl::{Namespace, ScopeColumn};
use crate::transfer::plan::document::{
    item, ObjectKind, ObjectPlan, Plan, ReviewItem, Severity, TablePlan,
};
use crate::transfer::plan::facts::{Facts, KeyProbe};
use crate::transfer::plan::options::PlanOptions;
use crate::transfer::plan::statement::Definition;

/// Plans the PostgreSQL schema of the source the `facts` describe.
pub(crate) fn plan(mut facts: Facts, options: &PlanOptions) -> Result<Plan> {
    let mut orphans = std::mem::take(&mut facts.orphans);
    let (options, detected) = options.with_orm(&facts);
    let options = &options;
    let mut planner = Planner::new(options, &facts, detected.orm);
    if detected.orm.is_some() || !options.orm.is_detect() {
        planner.note(orm::NOTE_OBJECT.into(), detected.note, None);
    }
    planner.note_selection();
    let mut views = unplannable_objects(&facts);
    views.retain(|v| {
        facts
            .unplannable
            .iter()
            .find(|t| t.name == v.source)
            .is_none_or(|t| !planner.is_content_indexed(t))
    });
    planner.plan_tables()?;
    planner.check_unique_collisions();
    planner.plan_foreign_keys(&mut orphans)?;
    views.extend(planner.plan_views());
    views.extend(planner.plan_content_views());
    let triggers = planner.plan_triggers(&views);
    views.extend(triggers);
    planner.note_lowercased();
    let tables: Vec<TablePlan> = std::mem::take(&mut planner.planned)
        .into_iter()
        .map(|p| p.plan)
        .collect();
    Ok(Plan {
        source: facts.source.clone(),
        options: options.clone(),
        before: before(&tables, options),
        tables,
        views,
        review: planner.review,
        decisions: planner.decisions,
        accept: Vec::new(),
    })
}

/// The unique keys whose collisions the plan of `facts` checks (see [`crate::transfer::plan::probe`]).
pub(crate) fn keys_to_probe(facts: &Facts, options: &PlanOptions) -> Result<Vec<KeyProbe>> {
    let (options, detected) = options.with_orm(facts);
    let mut planner = Planner::new(&options, facts, detected.orm);
    planner.plan_tables()?;
    Ok(planner.keys_to_probe())
}

/// One planned table, with what the foreign keys and views need to know about it.
pub(crate) struct Planned {
    pub plan: TablePlan,
    /// SQLite column name to PostgreSQL column, type and comparability.
    pub columns: Vec<ScopeColumn>,
    /// Column sets (PostgreSQL names) a foreign key may reference: the primary key and each
    /// plain unique constraint or index.
    pub unique_sets: Vec<Vec<String>>,
    /// `"schema"."table"`.
    pub qualified: String,
}

/// The planner's state while it goes through the tables, keys and views.
pub(crate) struct Planner<'a> {
    pub options: &'a PlanOptions,
    pub facts: &'a Facts,
    pub review: Vec<ReviewItem>,
    /// Relation and constraint names claimed so far.
    pub relations: Namespace,
    pub planned: Vec<Planned>,
    /// The PostgreSQL names of the views, claimed right after the tables'.
    pub view_targets: Vec<String>,
    pub decisions: Vec<Decision>,
    /// External-content full-text tables carried on their content tables.
    pub content_indexes: Vec<CarriedContent>,
    /// The ORM that wrote the source, whose field types the columns take where unambiguous.
    pub orm: Option<Orm>,
    /// Mixed-case names lowercased (no ORM, no `keep_case`), listed in one review item.
    pub lowercased: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(options: &'a PlanOptions, facts: &'a Facts, orm: Option<Orm>) -> Self {
        Planner {
            options,
            facts,
            orm,
            lowercased: Vec::new(),
            review: Vec::new(),
            relations: Namespace::default(),
            planned: Vec::new(),
            view_targets: Vec::new(),
            decisions: Vec::new(),
            content_indexes: Vec::new(),
        }
    }

    pub(crate) fn warn(&mut self, object: String, message: String, sql: Option<String>) {
        self.review
            .push(item(Severity::Warning, object, message, sql));
    }

    /// A warning about an object the target will not hold (see [`ReviewItem::not_carried`]).
    pub(crate) fn lose(&mut self, object: String, message: String, sql: Option<String>) {
        let mut lost = item(Severity::Warning, object, message, sql);
        lost.not_carried = true;
        self.review.push(lost);
    }

    pub(crate) fn note(&mut self, object: String, message: String, sql: Option<String>) {
        self.review.push(item(Severity::Info, object, message, sql));
    }

    /// Notes the tables left out by the options, skipped by the catalog, or not recreatable.
    fn note_selection(&mut self) {
        let facts = self.facts;
        for table in &facts.left_out {
            let object = format!("table `{}`", table.name);
            self.note(object, "left out by the table options".into(), None);
        }
        for skipped in &facts.schema.skipped {
            let object = format!("table `{}`", skipped.name);
            self.note(object, format!("not copied: {}", skipped.reason), None);
        }
        // External-content full-text tables are decided with their content tables.
        let skipped: Vec<_> = facts
            .unplannable
            .iter()
            .filter(|t| !self.is_content_indexed(t))
            .collect();
        for table in skipped {
            let why = unplannable_reason(table);
            let object = format!("virtual table `{}`", table.name);
            self.lose(object, why, Some(table.sql.clone()));
        }
    }
}

/// Why a virtual table cannot be recreated.
fn unplannable_reason(table: &crate::transfer::plan::catalog::Table) -> String {
    let module = table
        .virtual_table
        .as_ref()
        .map(|v| v.module.clone())
        .unwrap_or_default();
    if table.virtual_table.as_ref().is_some_and(|v| v.is_fts()) {
        "a contentless or external-content full-text table: its text lives elsewhere; add a tsvector column to the content table instead".to_string()
    } else {
        format!("virtual table module `{module}` has no PostgreSQL equivalent; not copied")
    }
}

/// The virtual tables that are not recreated, listed with the views for a human.
fn unplannable_objects(facts: &Facts) -> Vec<ObjectPlan> {
    facts
        .unplannable
        .iter()
        .map(|table| ObjectPlan {
            kind: ObjectKind::VirtualTable,
            source: table.name.clone(),
            target: String::new(),
            sql: None,
            original: table.sql.clone(),
            note: unplannable_reason(table),
        })
        .collect()
}

/// The statements before any table: the target schema and the extensions the types need.
fn before(
    tables: &[TablePlan],
    options: &PlanOptions,
) -> Vec<crate::transfer::plan::statement::Statement> {
    let mut before = Vec::new();
    if options.target_schema != "public" {
        before.push(
            Definition::CreateSchema {
                schema: &options.target_schema,
            }
            .render(),
        );
    }
    if tables
        .iter()
        .any(|t| t.map.columns.iter().any(|c| c.pg_type == PgType::Citext))
    {
        before.push(
            Definition::CreateExtension {
                extension: "citext",
            }
            .render(),
        );
    }
    before
}

/// An external-content full-text table carried on its content table: a generated tsvector
/// column there, and a view named like the full-text table.
#[derive(Debug, Clone)]
pub(crate) struct CarriedContent {
    /// The SQLite full-text table.
    pub fts: String,
    /// The content table, `"schema"."table"`.
    pub table: String,
    /// The indexed columns (PostgreSQL names).
    pub columns: Vec<String>,
    /// The column that is the full-text rowid.
    pub rowid: Option<String>,
    /// The generated tsvector column.
    pub tsv: String,
    /// The text search configuration.
    pub config: &'static str,
}

/// Orphan counts the planner takes as it keeps foreign keys.
pub(crate) type Orphans = HashMap<(usize, usize), Result<u64>>;
