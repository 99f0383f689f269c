//! The work list of one transfer: the statements before any table, each table's share, and
//! the steps after all tables ([`Work`]), built here from a plan ([`plan_work`]) or, for a
//! data-only transfer, from the target's catalog ([`super::data_only`]). The work is recorded
//! in the target, so a resumed transfer runs exactly the same statements.

use crate::transfer::plan::Statement;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::transfer::error::{Error, Result};
use crate::transfer::load::report::NotCarried;
use crate::transfer::load::source_catalog::SourceCatalog;
use crate::transfer::load::verify::TableToCheck;
use crate::transfer::model::TableMap;
use crate::transfer::plan::{ObjectKind, Plan, Severity};

/// One table's share of the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkTable {
    /// How the table maps.
    pub map: TableMap,
    /// Every column of the source table.
    pub source_columns: Vec<String>,
    /// The source column aliasing the rowid, if any.
    pub rowid_column: Option<String>,
    /// Statements that create the table (full mode).
    pub create: Vec<Statement>,
    /// Statements run right after the table is loaded (keys, indexes).
    pub after_load: Vec<Statement>,
    /// Restarts the table's identity past the copied ids (full mode), in the same transaction
    /// as its keys: a transfer that stops later leaves every loaded table ready for inserts.
    #[serde(default)]
    pub identity: Option<Statement>,
    /// Target tables that must be loaded first (their foreign keys are checked during the load).
    pub parents: Vec<String>,
    /// The target table's own triggers (data-only mode), disabled by name while its rows are
    /// copied and enabled again in the same transaction: the source's rows already hold what
    /// the application's triggers did when they were written (an audit row, a counter), and
    /// firing them again would do it twice.
    #[serde(default)]
    pub quiet_triggers: Vec<String>,
    /// Rows in the source (for progress).
    pub source_rows: u64,
}

impl WorkTable {
    /// The table as verification checks it, with the keys of rows rejected on purpose.
    pub(crate) fn check<'a>(
        &'a self,
        source: &'a Path,
        skip: Option<&'a std::collections::HashSet<String>>,
    ) -> TableToCheck<'a> {
        TableToCheck {
            source_path: source,
            map: &self.map,
            source_columns: &self.source_columns,
            rowid_column: self.rowid_column.as_deref(),
            skip,
        }
    }
}

/// What a [`Step`] does, which decides how its failure is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Types and extensions, before any table.
    Preamble,
    /// Emptying or dropping the existing tables, before any copy.
    Clear,
    /// Restarting an identity past the copied ids (full mode).
    Identity,
    /// Moving a sequence past the copied ids (data-only mode).
    Sequence,
    /// Adding a foreign key.
    ForeignKey,
    /// Creating a view.
    View,
    /// Creating a trigger (its function and the trigger).
    Trigger,
}

/// A step before or after the tables (a foreign key, a sequence, a view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// A unique id, recorded when done.
    pub id: String,
    /// What kind of step it is.
    pub kind: StepKind,
    /// What it does, for logs.
    pub what: String,
    /// Its statements, run in one transaction.
    pub sql: Vec<String>,
}

/// A view the transfer creates, to compare on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewToCheck {
    /// The SQLite view.
    pub source: String,
    /// The PostgreSQL schema.
    pub target_schema: String,
    /// The PostgreSQL view.
    pub target: String,
}

/// The statements and tables of one transfer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// Statements before any table (types, extensions).
    pub preamble: Vec<String>,
    /// The tables.
    pub tables: Vec<WorkTable>,
    /// Steps after all tables, in order.
    pub finish: Vec<Step>,
    /// Findings to report.
    pub warnings: Vec<String>,
    /// What was decided without a finding to act on (which ORM's conventions apply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The views the transfer creates, compared after the tables.
    #[serde(default)]
    pub views: Vec<ViewToCheck>,
    /// The triggers the transfer creates (their PostgreSQL names on `target`), looked for in
    /// the target when verifying.
    #[serde(default)]
    pub triggers: Vec<ViewToCheck>,
    /// The objects the plan file accepts as not carried.
    #[serde(default)]
    pub accept: Vec<String>,
    /// What the plan does not carry over (its warnings), each accepted or not by the plan file.
    #[serde(default)]
    pub not_carried: Vec<NotCarried>,
}

/// Builds the work of a full (or schema-only) transfer from a plan: its `before` statements,
/// each table's CREATE and post-load DDL (its identity restart included), then foreign keys
/// and views. A plan with
/// blocking review items is refused with the items listed.
pub fn plan_work(plan: &Plan, source_path: &Path) -> Result<Work> {
    let blocking: Vec<String> = plan
        .blocking()
        .map(|item| format!("{}: {}", item.object, item.message))
        .collect();
    if !blocking.is_empty() {
        return Err(Error::Invalid(format!(
            "the plan cannot run as it stands: {}; change the plan file (or the source) and try again",
            blocking.join("; ")
        )));
    }
    let mut source = SourceCatalog::open(source_path)?;
    let mut work = Work {
        preamble: plan.before.iter().map(ToString::to_string).collect(),
        ..Work::default()
    };
    for table in &plan.tables {
        work.tables.push(WorkTable {
            map: table.map.clone(),
            source_columns: source.all_column_names(&table.map.source)?,
            rowid_column: source.rowid_alias(&table.map.source)?,
            create: table.create.clone(),
            after_load: table.after_load.clone(),
            identity: table.identity.as_ref().map(|i| i.sql.clone()),
            parents: Vec::new(),
            quiet_triggers: Vec::new(),
            source_rows: table.source_rows,
        });
    }
    work.finish.extend(foreign_key_steps(plan));
    work.finish.extend(view_steps(plan));
    work.warnings = plan
        .review
        .iter()
        .filter(|item| item.severity >= Severity::Warning)
        .map(|item| format!("{}: {}", item.object, item.message))
        .collect();
    // Which ORM's conventions the plan applied, as the data-only report says it.
    work.notes = (plan.review.iter())
        .filter(|item| item.object == crate::transfer::orm::NOTE_OBJECT)
        .map(|item| item.message.clone())
        .collect();
    work.views = plan
        .views
        .iter()
        .filter(|view| view.sql.is_some() && view.kind == ObjectKind::View)
        .map(|view| ViewToCheck {
            source: view.source.clone(),
            target_schema: plan.options.target_schema.clone(),
            target: view.target.clone(),
        })
        .collect();
    work.triggers = plan
        .views
        .iter()
        .filter(|object| object.sql.is_some() && object.kind == ObjectKind::Trigger)
        .map(|trigger| ViewToCheck {
            source: trigger.source.clone(),
            target_schema: plan.options.target_schema.clone(),
            target: trigger.target.clone(),
        })
        .collect();
    work.accept = plan.accept.clone();
    work.not_carried = plan
        .review
        .iter()
        .filter(|item| item.not_carried)
        .map(|item| NotCarried {
            object: item.object.clone(),
            reason: item.message.clone(),
            accepted: plan.accept.contains(&item.object),
        })
        .collect();
    Ok(work)
}

/// One step per foreign key of the plan, after every table is loaded.
fn foreign_key_steps(plan: &Plan) -> impl Iterator<Item = Step> + '_ {
    plan.tables.iter().flat_map(|table| {
        table.foreign_keys.iter().map(move |key| Step {
            id: format!("fk:{}:{}", table.map.source, key.name),
            kind: StepKind::ForeignKey,
            what: format!("foreign key `{}` of `{}`", key.name, table.map.target),
            sql: vec![key.sql.to_string()],
        })
    })
}

/// One step per view and trigger the plan could translate, triggers last (after the views
/// an `INSTEAD OF` trigger is on).
fn view_steps(plan: &Plan) -> impl Iterator<Item = Step> + '_ {
    plan.views.iter().filter_map(|view| {
        let trigger = view.kind == ObjectKind::Trigger;
        view.sql.as_ref().map(|sql| Step {
            id: format!(
                "{}:{}",
                if trigger { "trigger" } else { "view" },
                view.source
            ),
            kind: if trigger {
                StepKind::Trigger
            } else {
                StepKind::View
            },
            what: if trigger {
                format!("trigger `{}`", view.source)
            } else {
                format!("view `{}`", view.target)
            },
            sql: vec![sql.to_string()],
        })
    })
}
