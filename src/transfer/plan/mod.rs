//! The [`Plan`]: everything the transfer will do to PostgreSQL, decided before anything runs,
//! so it can be reviewed, saved as TOML, edited and given back.
//!
//! [`plan`] opens the SQLite file read-only, reads its catalog ([`crate::transfer::plan::catalog`]) and
//! what every column holds ([`crate::transfer::plan::profile`]), chooses types ([`crate::transfer::plan::cast`]) and writes
//! the DDL ([`crate::transfer::plan::ddl`]). Findings that need a human look (a widened column, a CHECK that
//! could not be translated, a trigger, orphan rows) are [`ReviewItem`]s and [`Decision`]s in
//! the plan; they never stop it. Only an unusable source or option is an error.
//!
//! Execution order ([`Plan::ddl`]): `before` (schema, extensions), every table's `create`, then
//! per table its rows and `after_load` (primary key, unique constraints, indexes) and
//! `identity`, then every table's `foreign_keys`, then `views`.

pub mod cast;
pub mod catalog;
pub mod ddl;
pub mod profile;
pub mod render;
pub mod sqlite_types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::model::{ColumnMap, PgType, SourceKey, TableMap, ValuePolicy};
use cast::{ColumnFacts, Decision, Overrides};
use catalog::{Schema, Source, Table};
use ddl::{
    q, qualified, CheckDef, ColumnDef, DefaultSql, ForeignKeyDef, Namespace, Scope, ScopeColumn,
    ScopeRelation,
};
use profile::{ColumnProfile, TableProfile};

/// What the plan is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanOptions {
    /// The PostgreSQL schema the tables go into (`public`).
    pub target_schema: String,
    /// Keep the case of SQLite names (default: lowercase them, so they need no quotes).
    pub keep_case: bool,
    /// What to do with a foreign key whose child rows reference missing parents.
    pub on_orphans: OrphanPolicy,
    /// Type, policy and name choices per declared type and per column.
    pub overrides: Overrides,
    /// Tables to include (globs with `*` and `?`, case-insensitive); empty means all.
    pub tables: Vec<String>,
    /// Tables to leave out (globs).
    pub exclude: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            target_schema: "public".into(),
            keep_case: false,
            on_orphans: OrphanPolicy::default(),
            overrides: Overrides::default(),
            tables: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// What to do with a foreign key that existing rows violate (SQLite does not enforce foreign
/// keys unless `PRAGMA foreign_keys = ON`, so orphans are common).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanPolicy {
    /// Add the key as planned; PostgreSQL refuses it and the transfer stops. The plan marks
    /// such keys [`Severity::Blocking`].
    Fail,
    /// Add the key `NOT VALID`: new writes are checked, the orphans stay and are reported for
    /// cleanup (then `ALTER TABLE .. VALIDATE CONSTRAINT`). The default: the data arrives as
    /// it is and the rule still holds from now on.
    #[default]
    NotValid,
}

/// Everything the transfer will do, in the order it does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The SQLite file.
    pub source: String,
    /// The options the plan was made with.
    pub options: PlanOptions,
    /// Statements before any table: `CREATE SCHEMA`, `CREATE EXTENSION`.
    #[serde(default)]
    pub before: Vec<String>,
    /// The tables, in source catalog order.
    pub tables: Vec<TablePlan>,
    /// Views (translated ones carry `sql`; flagged ones only their original text).
    #[serde(default)]
    pub views: Vec<ObjectPlan>,
    /// What needs a human look.
    #[serde(default)]
    pub review: Vec<ReviewItem>,
    /// The type decision of every column.
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

/// One table: how rows map, and the DDL around loading them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablePlan {
    /// Source and target names, paging key, and the copied columns.
    pub map: TableMap,
    /// `CREATE TABLE` (columns, NOT NULL, DEFAULT, CHECK, identity; no keys or indexes).
    pub create: Vec<String>,
    /// Primary key, unique constraints and indexes: run right after this table's rows are in.
    pub after_load: Vec<String>,
    /// Foreign keys: run after every table is loaded.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeyPlan>,
    /// The identity column and where its sequence restarts: run after the rows are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityPlan>,
    /// Rows in the source when planned.
    pub source_rows: u64,
}

/// A foreign key, with the orphan rows found in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyPlan {
    /// The constraint name.
    pub name: String,
    /// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY .. [NOT VALID]`.
    pub sql: String,
    /// Child rows whose key has no parent row (counted in SQLite while planning).
    pub orphan_rows: u64,
    /// Whether `sql` adds the key `NOT VALID`.
    #[serde(default)]
    pub not_valid: bool,
    /// The referenced PostgreSQL table.
    pub parent: String,
}

/// An identity column and the value its sequence restarts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPlan {
    /// The PostgreSQL column.
    pub column: String,
    /// Above both the largest id and SQLite's `sqlite_sequence` value.
    pub restart_with: i64,
    /// `SELECT setval(..)`: `restart_with`, or past the largest id copied if that is higher.
    pub sql: String,
}

/// What kind of object an [`ObjectPlan`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A view.
    View,
    /// A trigger.
    Trigger,
    /// A virtual table other than full-text search.
    VirtualTable,
}

/// A view (or other object) and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectPlan {
    /// What it is.
    pub kind: ObjectKind,
    /// The SQLite name.
    pub source: String,
    /// The PostgreSQL name.
    pub target: String,
    /// The PostgreSQL DDL, when translated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The SQLite SQL.
    pub original: String,
    /// Why it was not translated, or what to know about the translation.
    #[serde(default)]
    pub note: String,
}

/// How much a review item matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (a rename, a dropped redundant CHECK).
    Info,
    /// Something is not carried over as it was and needs a decision or manual work.
    Warning,
    /// Running the plan as it is will fail.
    Blocking,
}

/// One finding for a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewItem {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about: ``table `t` ``, ``column `t.c` ``, ``trigger `x` ``.
    pub object: String,
    /// What happened and what to do.
    pub message: String,
    /// The SQLite SQL involved, when there is some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

impl Plan {
    /// All DDL in execution order: `before`, every `create`, every `after_load` and identity
    /// restart, every foreign key, then the translated views.
    pub fn ddl(&self) -> Vec<String> {
        let mut out = self.before.clone();
        out.extend(self.tables.iter().flat_map(|t| t.create.iter().cloned()));
        for table in &self.tables {
            out.extend(table.after_load.iter().cloned());
            out.extend(table.identity.iter().map(|i| i.sql.clone()));
        }
        out.extend(
            self.tables
                .iter()
                .flat_map(|t| t.foreign_keys.iter().map(|f| f.sql.clone())),
        );
        out.extend(self.views.iter().filter_map(|v| v.sql.clone()));
        out
    }

    /// The plan as a TOML document (see `docs/postgres_migration.md` for the format).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# the plan could not be written as TOML: {e}\n"))
    }

    /// Reads a plan written by [`Plan::to_toml`] (and possibly edited). Errors name the line
    /// and column.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, Path::new("<plan>"))
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading plan file `{}`", path.display()),
            source,
        })?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let location = e.span().map(|span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
            Error::PlanFile {
                path: path.to_path_buf(),
                message: format!("{}{}", location.unwrap_or_default(), e.message().trim()),
            }
        })
    }

    /// Plans again from `source` with this plan's options (as edited in the plan file).
    pub fn replan(&self, source: &Path) -> Result<Plan> {
        plan(source, &self.options)
    }

    /// The review items that make the plan fail as it stands.
    pub fn blocking(&self) -> impl Iterator<Item = &ReviewItem> {
        self.review
            .iter()
            .filter(|r| r.severity == Severity::Blocking)
    }

    /// The plan of the SQLite table `source`.
    pub fn table(&self, source: &str) -> Option<&TablePlan> {
        self.tables.iter().find(|t| t.map.source == source)
    }
}

/// The largest btree index entry PostgreSQL accepts with 8 kB pages, in bytes.
const BTREE_ENTRY_BYTES: u64 = 2704;

/// The most columns a PostgreSQL table can have.
const MAX_PG_COLUMNS: usize = 1600;

/// How many threads profile the source.
const PROFILE_THREADS: usize = 2;

/// Reads `source` (read-only) and plans its PostgreSQL schema.
pub fn plan(source: &Path, options: &PlanOptions) -> Result<Plan> {
    if options.target_schema.is_empty() || options.target_schema.contains('\0') {
        return Err(Error::Invalid(
            "the target schema must be a non-empty name without NUL".into(),
        ));
    }
    let mut db = Source::open(source)?;
    let mut schema = catalog::introspect(&mut db)?;
    let mut review = Vec::new();

    // Include/exclude, by SQLite table name.
    let (kept, left_out): (Vec<Table>, Vec<Table>) = std::mem::take(&mut schema.tables)
        .into_iter()
        .partition(|t| selected(&t.name, &options.tables, &options.exclude));
    schema.tables = kept;
    for table in &left_out {
        review.push(item(
            Severity::Info,
            format!("table `{}`", table.name),
            "left out by the table options".into(),
            None,
        ));
    }
    for skipped in &schema.skipped {
        review.push(item(
            Severity::Info,
            format!("table `{}`", skipped.name),
            format!("not copied: {}", skipped.reason),
            None,
        ));
    }

    // Virtual tables other than full-text search cannot be recreated.
    let mut views = Vec::new();
    let (plannable, unplannable): (Vec<Table>, Vec<Table>) = std::mem::take(&mut schema.tables)
        .into_iter()
        .partition(plannable);
    schema.tables = plannable;
    for table in &unplannable {
        let module = table
            .virtual_table
            .as_ref()
            .map(|v| v.module.clone())
            .unwrap_or_default();
        let why = if table.virtual_table.as_ref().is_some_and(|v| v.is_fts()) {
            "a contentless or external-content full-text table: its text lives elsewhere; add a tsvector column to the content table instead".to_string()
        } else {
            format!("virtual table module `{module}` has no PostgreSQL equivalent; not copied")
        };
        review.push(item(
            Severity::Warning,
            format!("virtual table `{}`", table.name),
            why.clone(),
            Some(table.sql.clone()),
        ));
        views.push(ObjectPlan {
            kind: ObjectKind::VirtualTable,
            source: table.name.clone(),
            target: String::new(),
            sql: None,
            original: table.sql.clone(),
            note: why,
        });
    }

    // Orphans are counted on a connection of their own while the profile reads: the counts
    // need only the catalog, and on a large child table the count is a long serial query.
    let mut counter = db.reopen()?;
    let (profiles, orphans) = std::thread::scope(|scope| {
        let orphans = scope.spawn(|| count_all_orphans(&mut counter, &schema));
        let profiles = profile::profile(&mut db, &schema, PROFILE_THREADS);
        let orphans = match orphans.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (profiles, orphans)
    });
    let profiles = profiles?;
    let mut planner = Planner {
        options,
        schema: &schema,
        profiles: &profiles,
        orphans: &orphans,
        review,
        relations: Namespace::default(),
        planned: Vec::new(),
        view_targets: Vec::new(),
        decisions: Vec::new(),
    };
    planner.plan_tables()?;
    planner.check_unique_collisions(&mut db)?;
    planner.plan_foreign_keys(&mut db)?;
    views.extend(planner.plan_views());
    for trigger in &schema.triggers {
        planner.review.push(item(
            Severity::Warning,
            format!("trigger `{}`", trigger.name),
            format!("triggers are not translated (PostgreSQL needs a trigger function in PL/pgSQL); rewrite it for table `{}` by hand", trigger.table),
            Some(trigger.sql.clone()),
        ));
    }
    let tables: Vec<TablePlan> = std::mem::take(&mut planner.planned)
        .into_iter()
        .map(|p| p.plan)
        .collect();
    let mut before = Vec::new();
    if options.target_schema != "public" {
        before.push(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            q(&options.target_schema)
        ));
    }
    if tables
        .iter()
        .any(|t| t.map.columns.iter().any(|c| c.pg_type == PgType::Citext))
    {
        before.push("CREATE EXTENSION IF NOT EXISTS citext".into());
    }
    Ok(Plan {
        source: source.display().to_string(),
        options: options.clone(),
        before,
        tables,
        views,
        review: planner.review,
        decisions: planner.decisions,
    })
}

fn item(severity: Severity, object: String, message: String, sql: Option<String>) -> ReviewItem {
    ReviewItem {
        severity,
        object,
        message,
        sql,
    }
}

/// `*` and `?` globs, ASCII case-insensitive.
/// Whether `table` passes the table options: `include` globs (empty: all) and `exclude` globs,
/// with `*` and `?`, case-insensitively.
pub fn selected(table: &str, include: &[String], exclude: &[String]) -> bool {
    (include.is_empty() || include.iter().any(|g| glob(g, table)))
        && !exclude.iter().any(|g| glob(g, table))
}

/// Whether a table can be recreated: ordinary tables and full-text tables that hold their text.
fn plannable(table: &Table) -> bool {
    match &table.virtual_table {
        None => true,
        Some(vt) => vt.is_fts() && vt.option("content").is_none(),
    }
}

/// The SQLite tables a plan of `source` with `options` would hold, read from the catalog alone
/// (no data profile): what a saved plan is checked against before it runs.
pub fn planned_tables(source: &Path, options: &PlanOptions) -> Result<Vec<String>> {
    let mut db = Source::open(source)?;
    let schema = catalog::introspect(&mut db)?;
    Ok(schema
        .tables
        .iter()
        .filter(|t| selected(&t.name, &options.tables, &options.exclude) && plannable(t))
        .map(|t| t.name.clone())
        .collect())
}

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

/// One planned table, with what the foreign keys and views need to know about it.
struct Planned {
    plan: TablePlan,
    /// SQLite column name to PostgreSQL column, type and comparability.
    columns: Vec<ScopeColumn>,
    /// Column sets (PostgreSQL names) a foreign key may reference: the primary key and each
    /// plain unique constraint or index.
    unique_sets: Vec<Vec<String>>,
    qualified: String,
}

struct Planner<'a> {
    options: &'a PlanOptions,
    schema: &'a Schema,
    profiles: &'a [TableProfile],
    /// Orphan rows per (table, foreign key) index of the schema.
    orphans: &'a HashMap<(usize, usize), u64>,
    review: Vec<ReviewItem>,
    relations: Namespace,
    planned: Vec<Planned>,
    /// The PostgreSQL names of the views, claimed right after the tables'.
    view_targets: Vec<String>,
    decisions: Vec<Decision>,
}

/// One column between the two passes of [`Planner::plan_table`].
struct ColumnPlan<'c> {
    column: &'c catalog::Column,
    target: String,
    choice: cast::Choice,
}

impl Planner<'_> {
    fn name(&mut self, source: &str, what: &str) -> String {
        let wanted = ddl::pg_name(source, self.options.keep_case);
        let claimed = self.relations.claim(&wanted);
        self.note_rename(&format!("{what} `{source}`"), source, &wanted, &claimed);
        claimed
    }

    /// Claims a name dbshift makes up (`t_pkey`, `t_a_b_key`, `t_a_fkey`), cut to 63 bytes.
    fn derived_name(&mut self, name: String) -> String {
        self.relations.claim(&ddl::pg_name(&name, true))
    }

    /// Notes a name that is not simply the source name (lowercased unless keeping case).
    fn note_rename(&mut self, object: &str, source: &str, wanted: &str, claimed: &str) {
        let plain = if self.options.keep_case {
            source.to_string()
        } else {
            source.to_lowercase()
        };
        if claimed != plain {
            let why = if claimed != wanted {
                "its PostgreSQL name collides with another one"
            } else if plain.len() > ddl::MAX_IDENTIFIER_BYTES {
                "it is longer than PostgreSQL's 63-byte limit"
            } else {
                "PostgreSQL cannot use the name as it is"
            };
            self.review.push(item(
                Severity::Info,
                object.to_string(),
                format!("renamed to `{claimed}` because {why}"),
                None,
            ));
        }
    }

    fn warn(&mut self, object: String, message: String, sql: Option<String>) {
        self.review
            .push(item(Severity::Warning, object, message, sql));
    }

    fn plan_tables(&mut self) -> Result<()> {
        // Table names first, so index and constraint names never take a table's name.
        let names: Vec<String> = self.schema.tables.iter().map(|t| t.name.clone()).collect();
        let targets: Vec<String> = names.iter().map(|n| self.name(n, "table")).collect();
        // Views next: names people use come before the names dbshift makes up for indexes.
        let views: Vec<String> = self.schema.views.iter().map(|v| v.name.clone()).collect();
        self.view_targets = views.iter().map(|n| self.name(n, "view")).collect();
        let keys = self.key_columns();
        let empty = TableProfile::default();
        for (index, target) in targets.into_iter().enumerate() {
            let table = &self.schema.tables[index];
            let profile = self.profiles.get(index).unwrap_or(&empty);
            let planned = self.plan_table(table, profile, target, &keys)?;
            self.planned.push(planned);
        }
        Ok(())
    }

    /// `(table, column)` pairs, lowercase, that are part of a key on either side.
    fn key_columns(&self) -> BTreeSet<(String, String)> {
        let mut keys = BTreeSet::new();
        for table in &self.schema.tables {
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

    fn plan_table(
        &mut self,
        table: &Table,
        profile: &TableProfile,
        target: String,
        keys: &BTreeSet<(String, String)>,
    ) -> Result<Planned> {
        let schema_name = self.options.target_schema.clone();
        let qualified_name = qualified(&schema_name, &target);
        let fts = table.virtual_table.clone().filter(|v| v.is_fts());
        let mut column_names = Namespace::default();
        if fts.is_some() {
            column_names.claim("rowid");
        }
        if let Some(problem) = &table.parse_problem {
            self.warn(format!("table `{}`", table.name), format!("its CREATE TABLE text could not be read ({problem}); CHECKs, collations and generated columns are not carried over"), Some(table.sql.clone()));
        }

        // Pass 1: types and names.
        let empty = ColumnProfile::default();
        let mut columns: Vec<ColumnPlan<'_>> = Vec::new();
        for column in profile::profiled_columns(table) {
            let column_profile = profile.column(&column.name).unwrap_or(&empty);
            let facts = ColumnFacts {
                table: &table.name,
                column: &column.name,
                declared: &column.declared,
                profile: column_profile,
                json_check: table
                    .checks
                    .iter()
                    .any(|c| calls_json_valid_on(&c.sql, &column.name)),
                key: keys.contains(&(table.name.to_lowercase(), column.name.to_lowercase())),
            };
            let mut choice =
                cast::decide(&facts, &self.options.overrides).map_err(Error::Invalid)?;
            if fts.is_some()
                && choice.decision.rule != "override.column"
                && choice.pg_type != PgType::Text
            {
                choice.pg_type = PgType::Text;
                choice.decision.chosen = "text".into();
                choice.decision.reason =
                    format!("a full-text column holds text ({})", choice.decision.reason);
            }
            let override_name = self
                .options
                .overrides
                .column(&table.name, &column.name)
                .and_then(|o| o.name.clone());
            let wanted = match &override_name {
                Some(name) => ddl::pg_name(name, true),
                None => ddl::pg_name(&column.name, self.options.keep_case),
            };
            let claimed = column_names.claim(&wanted);
            if override_name.is_none() {
                self.note_rename(
                    &format!("column `{}.{}`", table.name, column.name),
                    &column.name,
                    &wanted,
                    &claimed,
                );
            }
            if choice.decision.flagged {
                let d = &choice.decision;
                let examples = if d.examples.is_empty() {
                    String::new()
                } else {
                    format!("; examples: {}", d.examples.join(", "))
                };
                self.warn(
                    format!("column `{}.{}`", table.name, column.name),
                    format!(
                        "{} -> {}: {}{examples}",
                        display_declared(&d.declared),
                        d.chosen,
                        d.reason
                    ),
                    None,
                );
            }
            if column
                .collation
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("NOCASE"))
                && is_textlike(&choice.pg_type)
            {
                self.review.push(item(
                    Severity::Info,
                    format!("column `{}.{}`", table.name, column.name),
                    "declared COLLATE NOCASE: its unique keys and indexes use lower(); plain comparisons are case-sensitive in PostgreSQL (override the type to citext to keep them case-insensitive)".into(),
                    None,
                ));
            }
            self.decisions.push(choice.decision.clone());
            columns.push(ColumnPlan {
                column,
                target: claimed,
                choice,
            });
        }
        let scope = Scope {
            columns: columns
                .iter()
                .map(|c| ScopeColumn {
                    source: c.column.name.clone(),
                    target: c.target.clone(),
                    pg_type: c.choice.pg_type.clone(),
                    comparable: comparable(c),
                })
                .collect(),
            schema: schema_name.clone(),
            keep_case: self.options.keep_case,
            ..Scope::default()
        };

        // PostgreSQL refuses a table of more than 1600 columns; say so before anything runs.
        if columns.len() > MAX_PG_COLUMNS {
            self.review.push(item(
                Severity::Blocking,
                format!("table `{}`", table.name),
                format!(
                    "it has {} columns and PostgreSQL allows at most {MAX_PG_COLUMNS} per table; split it in SQLite, or leave it out with --exclude",
                    columns.len()
                ),
                None,
            ));
        }

        // Pass 2: column definitions, the copier's column map, CHECKs.
        let mut defs = Vec::new();
        let mut maps = Vec::new();
        if fts.is_some() {
            defs.push(ColumnDef {
                name: "rowid".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                default: None,
                identity: false,
                generated: None,
            });
            maps.push(ColumnMap {
                source: "rowid".into(),
                target: "rowid".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                policy: ValuePolicy::Reject,
                conversion: None,
                json_profiled: false,
            });
        }
        let mut identity = None;
        for c in &columns {
            let column = c.column;
            let object = format!("column `{}.{}`", table.name, column.name);
            let column_profile = profile.column(&column.name).unwrap_or(&empty);
            let is_alias = table.rowid_alias.as_deref() == Some(column.name.as_str());
            let mut not_null =
                column.not_null || is_alias || (table.without_rowid && column.pk_position > 0);
            if not_null && !is_alias && column_profile.nulls > 0 {
                not_null = false;
                self.warn(
                    object.clone(),
                    format!(
                        "declared NOT NULL but {} rows hold NULL; created without NOT NULL",
                        column_profile.nulls
                    ),
                    None,
                );
            }
            let is_identity = is_alias
                && matches!(
                    c.choice.pg_type,
                    PgType::SmallInt | PgType::Integer | PgType::BigInt
                );
            if is_identity {
                let largest = column_profile
                    .int_max
                    .unwrap_or(0)
                    .max(table.sequence.unwrap_or(0));
                let restart_with = largest.saturating_add(1).max(1);
                identity = Some(IdentityPlan {
                    column: c.target.clone(),
                    restart_with,
                    sql: ddl::restart_identity(&qualified_name, &c.target, restart_with),
                });
            }
            let mut default = None;
            if let (Some(sql), false, None) = (&column.default, is_identity, &column.generated) {
                match ddl::translate_default(sql, &c.choice.pg_type, c.choice.conversion) {
                    DefaultSql::Sql(expr) => default = Some(expr),
                    DefaultSql::None => {}
                    DefaultSql::Flagged(why) => {
                        self.warn(object.clone(), why, Some(format!("DEFAULT {sql}")))
                    }
                }
            }
            let mut generated = None;
            if let Some(g) = &column.generated {
                match generated_expression(g, &scope, &columns) {
                    Ok(expr) => {
                        if !g.stored {
                            self.review.push(item(Severity::Info, object.clone(), "a VIRTUAL generated column becomes STORED (PostgreSQL 15 stores generated columns)".into(), None));
                        }
                        generated = Some(expr);
                    }
                    Err(why) => self.warn(
                        object.clone(),
                        format!("generated column not translated ({why}); created as a plain column holding the values SQLite computed"),
                        Some(g.sql.clone()),
                    ),
                }
            }
            if generated.is_none() {
                maps.push(ColumnMap {
                    source: column.name.clone(),
                    target: c.target.clone(),
                    pg_type: c.choice.pg_type.clone(),
                    not_null,
                    policy: c.choice.policy,
                    conversion: c.choice.conversion,
                    json_profiled: c.choice.decision.rule.is_json(),
                });
            }
            defs.push(ColumnDef {
                name: c.target.clone(),
                pg_type: c.choice.pg_type.clone(),
                not_null,
                default,
                identity: is_identity,
                generated,
            });
        }

        let mut checks = Vec::new();
        for check in &table.checks {
            let used = ddl::columns_used(&check.sql, &scope);
            let object = format!("table `{}`", table.name);
            if let [only] = used.as_slice() {
                if let Some(c) = columns.iter().find(|c| &c.column.name == only) {
                    if let Some(why) =
                        ddl::check_implied_by_type(&check.sql, only, &c.choice.pg_type)
                    {
                        self.review.push(item(
                            Severity::Info,
                            object,
                            format!("CHECK dropped: {why}"),
                            Some(check.sql.clone()),
                        ));
                        continue;
                    }
                }
            }
            match ddl::translate_condition(&check.sql, &scope) {
                Ok(sql) => {
                    let name = check.name.as_ref().map(|n| {
                        self.relations
                            .claim(&ddl::pg_name(n, self.options.keep_case))
                    });
                    checks.push(CheckDef { name, sql });
                }
                Err(why) => self.warn(
                    object,
                    format!(
                        "CHECK not translated ({why}); not enforced in PostgreSQL until rewritten"
                    ),
                    Some(check.sql.clone()),
                ),
            }
        }

        // The tsvector of a full-text table.
        let mut after_load = Vec::new();
        let mut unique_sets = Vec::new();
        if let Some(vt) = &fts {
            let indexed: Vec<String> = columns
                .iter()
                .filter(|c| !fts_unindexed(vt, &c.column.name))
                .map(|c| c.target.clone())
                .collect();
            let config = if vt
                .option("tokenize")
                .is_some_and(|t| t.to_ascii_lowercase().contains("porter"))
            {
                "english"
            } else {
                "simple"
            };
            let tsv = column_names.claim("tsv");
            let document = if indexed.is_empty() {
                "''".to_string()
            } else {
                indexed
                    .iter()
                    .map(|c| format!("coalesce({}, '')", q(c)))
                    .collect::<Vec<_>>()
                    .join(" || ' ' || ")
            };
            defs.push(ColumnDef {
                name: tsv.clone(),
                pg_type: PgType::Other("tsvector".into()),
                not_null: false,
                default: None,
                identity: false,
                generated: Some(format!("to_tsvector('{config}'::regconfig, {document})")),
            });
            let pkey = self.derived_name(format!("{target}_pkey"));
            after_load.push(ddl::add_primary_key(
                &qualified_name,
                &pkey,
                &["rowid".to_string()],
            ));
            unique_sets.push(vec!["rowid".to_string()]);
            let gin = self.derived_name(format!("{target}_{tsv}_idx"));
            after_load.push(ddl::create_index(
                &gin,
                &qualified_name,
                false,
                Some("gin"),
                &[q(&tsv)],
                None,
            ));
            self.review.push(item(
                Severity::Info,
                format!("table `{}`", table.name),
                format!(
                    "{} full-text table becomes a table with a generated tsvector column `{tsv}` ('{config}' configuration) and a GIN index; rewrite MATCH queries as `{tsv} @@ websearch_to_tsquery('{config}', ...)` (ranking differs from bm25)",
                    vt.module
                ),
                Some(table.sql.clone()),
            ));
        }
        let mut create = vec![ddl::create_table(&qualified_name, &defs, &[])];
        create.extend(checks.iter().map(|c| ddl::add_check(&qualified_name, c)));

        // Keys and indexes, after the data.
        let target_of = |source: &str| {
            columns
                .iter()
                .find(|c| c.column.name.eq_ignore_ascii_case(source))
                .map(|c| c.target.clone())
        };
        let nocase_of = |source: &str| {
            columns
                .iter()
                .find(|c| c.column.name.eq_ignore_ascii_case(source))
                .is_some_and(|c| {
                    c.column
                        .collation
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case("NOCASE"))
                        && is_textlike(&c.choice.pg_type)
                })
        };
        if fts.is_none() && table.primary_key.is_empty() {
            self.review.push(item(
                Severity::Info,
                format!("table `{}`", table.name),
                "has no primary key; SQLite's hidden rowid identified its rows and is not copied, so the PostgreSQL table has no key either".into(),
                None,
            ));
        }
        if fts.is_none() && !table.primary_key.is_empty() {
            let pk: Vec<String> = table
                .primary_key
                .iter()
                .filter_map(|c| target_of(c))
                .collect();
            let nullable = table.primary_key.iter().any(|c| {
                table.rowid_alias.as_deref() != Some(c.as_str())
                    && profile.column(c).is_some_and(|p| p.nulls > 0)
            });
            if pk.len() != table.primary_key.len() {
                self.warn(
                    format!("table `{}`", table.name),
                    "the primary key names a column that is not copied; no primary key created"
                        .into(),
                    None,
                );
            } else if nullable {
                let name = self.derived_name(format!("{target}_{}_key", pk.join("_")));
                after_load.push(ddl::create_index(
                    &name,
                    &qualified_name,
                    true,
                    None,
                    &pk.iter().map(|c| q(c)).collect::<Vec<_>>(),
                    None,
                ));
                unique_sets.push(pk.clone());
                self.warn(
                    format!("table `{}`", table.name),
                    "primary key columns hold NULL (SQLite allows that in rowid tables); created a unique index instead of a primary key".into(),
                    None,
                );
            } else {
                let name = self.derived_name(format!("{target}_pkey"));
                after_load.push(ddl::add_primary_key(&qualified_name, &name, &pk));
                unique_sets.push(pk.clone());
                if table.primary_key.iter().any(|c| nocase_of(c)) {
                    let name = self.derived_name(format!("{target}_{}_nocase_key", pk.join("_")));
                    let parts: Vec<String> = table
                        .primary_key
                        .iter()
                        .zip(&pk)
                        .map(|(s, t)| {
                            if nocase_of(s) {
                                format!("lower({})", q(t))
                            } else {
                                q(t)
                            }
                        })
                        .collect();
                    after_load.push(ddl::create_index(
                        &name,
                        &qualified_name,
                        true,
                        None,
                        &parts,
                        None,
                    ));
                }
            }
        }
        for index in &table.indexes {
            if index.origin == catalog::IndexOrigin::PrimaryKey {
                continue;
            }
            let object = format!("index `{}`", index.name);
            let mut parts = Vec::new();
            let mut plain_columns = Vec::new();
            let mut problem = None;
            for part in &index.parts {
                let rendered = match (&part.column, &part.expression) {
                    (Some(column), _) => match columns
                        .iter()
                        .find(|c| c.column.name.eq_ignore_ascii_case(column))
                    {
                        None => Err(format!("column `{column}` is not copied")),
                        Some(c) => {
                            let collation = part.collation.as_deref().map(str::to_ascii_uppercase);
                            match collation.as_deref() {
                                Some("NOCASE") if is_textlike(&c.choice.pg_type) => {
                                    Ok(format!("lower({})", q(&c.target)))
                                }
                                Some("RTRIM") if is_textlike(&c.choice.pg_type) => {
                                    Ok(format!("rtrim({})", q(&c.target)))
                                }
                                None | Some("BINARY" | "NOCASE" | "RTRIM") => {
                                    plain_columns.push(c.target.clone());
                                    Ok(q(&c.target))
                                }
                                Some(other) => {
                                    Err(format!("collation `{other}` has no PostgreSQL equivalent"))
                                }
                            }
                        }
                    },
                    (None, Some(expression)) => {
                        immutable_expression(expression, &scope, &columns).map(|e| format!("({e})"))
                    }
                    (None, None) => Err("a key part SQLite does not describe (the rowid?)".into()),
                };
                match rendered {
                    Ok(text) => parts.push(if part.descending {
                        format!("{text} DESC")
                    } else {
                        text
                    }),
                    Err(why) => {
                        problem = Some(why);
                        break;
                    }
                }
            }
            let where_sql = match index
                .where_sql
                .as_deref()
                .map(|w| ddl::translate_condition(w, &scope))
            {
                Some(Ok(w)) => Some(w),
                Some(Err(why)) => {
                    problem.get_or_insert(format!("its WHERE clause: {why}"));
                    None
                }
                None => None,
            };
            if let Some(why) = problem {
                self.warn(object, format!("not created ({why})"), index.sql.clone());
                continue;
            }
            let long: Vec<String> = index
                .parts
                .iter()
                .filter_map(|p| p.column.as_ref())
                .filter_map(|c| {
                    profile
                        .column(c)
                        .filter(|p| p.max_text_bytes > BTREE_ENTRY_BYTES)
                        .map(|p| format!("`{c}` ({} bytes)", p.max_text_bytes))
                })
                .collect();
            if !long.is_empty() {
                self.warn(
                    object.clone(),
                    format!(
                        "indexes text as long as {}; PostgreSQL refuses btree entries over {BTREE_ENTRY_BYTES} bytes (after compression), so building it may fail: index md5() or a prefix of the column instead",
                        long.join(", ")
                    ),
                    index.sql.clone(),
                );
            }
            let all_plain = plain_columns.len() == index.parts.len();
            if index.origin == catalog::IndexOrigin::Unique && all_plain {
                let name = self.derived_name(format!("{target}_{}_key", plain_columns.join("_")));
                after_load.push(ddl::add_unique(&qualified_name, &name, &plain_columns));
            } else {
                let wanted = if index.origin == catalog::IndexOrigin::Unique {
                    ddl::pg_name(
                        &format!(
                            "{target}_{}_key",
                            index
                                .parts
                                .iter()
                                .filter_map(|p| p.column.clone())
                                .collect::<Vec<_>>()
                                .join("_")
                        ),
                        true,
                    )
                } else {
                    ddl::pg_name(&index.name, self.options.keep_case)
                };
                let name = self.relations.claim(&wanted);
                if index.origin == catalog::IndexOrigin::Created {
                    self.note_rename(
                        &format!("index `{}`", index.name),
                        &index.name,
                        &wanted,
                        &name,
                    );
                }
                after_load.push(ddl::create_index(
                    &name,
                    &qualified_name,
                    index.unique,
                    None,
                    &parts,
                    where_sql.as_deref(),
                ));
            }
            if index.unique && index.where_sql.is_none() && all_plain {
                unique_sets.push(plain_columns);
            }
        }

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
            target_schema: schema_name,
            target,
            key,
            columns: maps,
        };
        Ok(Planned {
            plan: TablePlan {
                map,
                create,
                after_load,
                foreign_keys: Vec::new(),
                identity,
                source_rows: profile.rows,
            },
            columns: scope.columns,
            unique_sets,
            qualified: qualified_name,
        })
    }

    /// Unique keys over converted values (text timestamps, boolean words) hold in SQLite, where
    /// `2024-01-01T00:00:00Z` and `2024-01-01 00:00:00` differ, but PostgreSQL compares the
    /// converted values and refuses the key. Finds such rows in SQLite: candidates by an SQL
    /// approximation, then exactly, the way the values will be converted.
    fn check_unique_collisions(&mut self, db: &mut Source) -> Result<()> {
        let mut findings = Vec::new();
        let empty = TableProfile::default();
        for (index, planned) in self.planned.iter().enumerate() {
            let profile = self.profiles.get(index).unwrap_or(&empty);
            for set in &planned.unique_sets {
                let key: Vec<(&ScopeColumn, Option<crate::transfer::model::Conversion>)> = set
                    .iter()
                    .filter_map(|target| {
                        let column = planned.columns.iter().find(|c| &c.target == target)?;
                        let map = planned
                            .plan
                            .map
                            .columns
                            .iter()
                            .find(|m| &m.target == target)?;
                        Some((column, map.conversion))
                    })
                    .collect();
                let converted = |(c, conversion): &(
                    &ScopeColumn,
                    Option<crate::transfer::model::Conversion>,
                )| {
                    conversion.is_none()
                        && (matches!(
                            c.pg_type,
                            PgType::Timestamptz | PgType::Timestamp | PgType::Boolean
                        ) || spelled_alike(&c.pg_type)
                            && profile.column(&c.source).is_some_and(mixed_classes))
                };
                if key.len() != set.len() || !key.iter().any(converted) {
                    continue;
                }
                let rows = unique_candidates(db, &planned.plan.map.source, &key)?;
                let mut seen = BTreeSet::new();
                let mut collisions = 0u64;
                for row in &rows {
                    let normalized: Vec<String> = key
                        .iter()
                        .zip(row.values())
                        .map(|((c, _), v)| normalize_for_key(&c.pg_type, v))
                        .collect();
                    if !seen.insert(normalized) {
                        collisions += 1;
                    }
                }
                if collisions > 0 {
                    let names: Vec<&str> = key.iter().map(|(c, _)| c.source.as_str()).collect();
                    findings.push(item(
                        Severity::Blocking,
                        format!("table `{}`", planned.plan.map.source),
                        format!(
                            "the unique key ({}) holds in SQLite but {collisions} row(s) repeat another row's key once converted ({}); PostgreSQL will refuse the key: fix those rows{}",
                            names.join(", "),
                            if key.iter().any(|(c, _)| spelled_alike(&c.pg_type)) {
                                "SQLite keeps 1, '1' and x'31' apart by storage class; as text or bytes they are one value"
                            } else {
                                "the same instant or boolean written differently"
                            },
                            if key.iter().all(|(c, _)| spelled_alike(&c.pg_type)) {
                                ""
                            } else {
                                ", or override the column's type to text"
                            }
                        ),
                        None,
                    ));
                }
            }
        }
        self.review.extend(findings);
        Ok(())
    }

    fn plan_foreign_keys(&mut self, db: &mut Source) -> Result<()> {
        for index in 0..self.planned.len() {
            let table = &self.schema.tables[index];
            for (fk_index, fk) in table.foreign_keys.iter().enumerate() {
                let object = format!(
                    "foreign key `{}({})` -> `{}({})`",
                    table.name,
                    fk.columns.join(", "),
                    fk.parent,
                    fk.parent_columns.join(", ")
                );
                let Some(parent_index) = self
                    .planned
                    .iter()
                    .position(|p| p.plan.map.source.eq_ignore_ascii_case(&fk.parent))
                else {
                    self.warn(object, format!("`{}` is not part of the plan (missing in SQLite, or left out); not created", fk.parent), None);
                    continue;
                };
                let child = &self.planned[index];
                let parent = &self.planned[parent_index];
                let find = |planned: &Planned, source: &str| {
                    planned
                        .columns
                        .iter()
                        .find(|c| c.source.eq_ignore_ascii_case(source))
                        .cloned()
                };
                let child_columns: Option<Vec<ScopeColumn>> =
                    fk.columns.iter().map(|c| find(child, c)).collect();
                let parent_columns: Option<Vec<ScopeColumn>> =
                    fk.parent_columns.iter().map(|c| find(parent, c)).collect();
                let (Some(child_columns), Some(parent_columns)) = (child_columns, parent_columns)
                else {
                    self.warn(
                        object,
                        "a column it names does not exist or is not copied; not created".into(),
                        None,
                    );
                    continue;
                };
                if child_columns.len() != parent_columns.len() || child_columns.is_empty() {
                    self.warn(
                        object,
                        "it names different numbers of columns on each side; not created".into(),
                        None,
                    );
                    continue;
                }
                let parent_set: BTreeSet<&String> =
                    parent_columns.iter().map(|c| &c.target).collect();
                if !parent
                    .unique_sets
                    .iter()
                    .any(|set| set.iter().collect::<BTreeSet<_>>() == parent_set)
                {
                    self.warn(
                        object,
                        "the referenced columns have no primary key or unique constraint, which PostgreSQL requires (SQLite reports \"foreign key mismatch\" on writes); not created".into(),
                        None,
                    );
                    continue;
                }
                if let Some((c, p)) = child_columns
                    .iter()
                    .zip(&parent_columns)
                    .find(|(c, p)| type_family(&c.pg_type) != type_family(&p.pg_type))
                {
                    self.warn(object, format!("`{}` is {} but `{}` is {}; PostgreSQL cannot compare them; not created", c.source, c.pg_type.sql(), p.source, p.pg_type.sql()), None);
                    continue;
                }
                let orphans = match self.orphans.get(&(index, fk_index)) {
                    Some(&n) => n,
                    None => count_orphans(db, table, fk)?,
                };
                let child_target = child.plan.map.target.clone();
                let wanted = match &fk.name {
                    Some(name) => ddl::pg_name(name, self.options.keep_case),
                    None => ddl::pg_name(
                        &format!(
                            "{child_target}_{}_fkey",
                            child_columns
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
                let def = ForeignKeyDef {
                    name: name.clone(),
                    columns: child_columns.iter().map(|c| c.target.clone()).collect(),
                    parent: parent.qualified.clone(),
                    parent_columns: parent_columns.iter().map(|c| c.target.clone()).collect(),
                    on_delete: fk.on_delete.clone(),
                    on_update: fk.on_update.clone(),
                    deferrable: fk.deferrable.clone(),
                    not_valid,
                };
                let sql = ddl::add_foreign_key(&child.qualified, &def);
                let parent_target = parent.plan.map.target.clone();
                if orphans > 0 {
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
                self.planned[index].plan.foreign_keys.push(ForeignKeyPlan {
                    name,
                    sql,
                    orphan_rows: orphans,
                    not_valid,
                    parent: parent_target,
                });
            }
        }
        Ok(())
    }

    fn plan_views(&mut self) -> Vec<ObjectPlan> {
        // Every column name any table has; a name renamed differently in two tables is
        // ambiguous for a view.
        let mut columns: BTreeMap<String, ScopeColumn> = BTreeMap::new();
        for planned in &self.planned {
            for column in &planned.columns {
                let key = column.source.to_lowercase();
                match columns.get_mut(&key) {
                    None => {
                        columns.insert(key, column.clone());
                    }
                    Some(existing) => {
                        if existing.target != column.target {
                            existing.pg_type = PgType::Other(
                                "a column renamed differently in another table".into(),
                            );
                            existing.comparable = false;
                        } else if !column.comparable {
                            existing.comparable = false;
                            existing.pg_type = column.pg_type.clone();
                        }
                    }
                }
            }
        }
        let mut relations: Vec<ScopeRelation> = self
            .planned
            .iter()
            .map(|p| ScopeRelation {
                source: p.plan.map.source.clone(),
                target: p.plan.map.target.clone(),
            })
            .collect();
        let view_targets = self.view_targets.clone();
        for (view, target) in self.schema.views.iter().zip(&view_targets) {
            relations.push(ScopeRelation {
                source: view.name.clone(),
                target: target.clone(),
            });
        }
        let scope = Scope {
            columns: columns.into_values().collect(),
            relations,
            schema: self.options.target_schema.clone(),
            keep_case: self.options.keep_case,
            query: true,
        };
        let mut failed: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (view, target) in self.schema.views.iter().zip(view_targets) {
            let depends_on_failed = crate::sql::tokenize(&view.select_sql).iter().find_map(|t| {
                let name = t.name()?;
                failed
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(&name))
                    .cloned()
            });
            let translated = match depends_on_failed {
                Some(name) => Err(format!("it uses view `{name}`, which is not translated")),
                None => ddl::translate(&view.select_sql, &scope),
            };
            let object = format!("view `{}`", view.name);
            match translated {
                Ok(query) => {
                    let names: Vec<String> = view
                        .columns
                        .iter()
                        .map(|c| ddl::pg_name(c, self.options.keep_case))
                        .collect();
                    let sql = ddl::create_view(
                        &qualified(&self.options.target_schema, &target),
                        &names,
                        &query,
                    );
                    let note = if query.contains("ILIKE") {
                        "LIKE became ILIKE: SQLite's LIKE ignores ASCII case".to_string()
                    } else {
                        String::new()
                    };
                    out.push(ObjectPlan {
                        kind: ObjectKind::View,
                        source: view.name.clone(),
                        target,
                        sql: Some(sql),
                        original: view.sql.clone(),
                        note,
                    });
                }
                Err(why) => {
                    failed.push(view.name.clone());
                    let note = format!("not translated ({why}); create it by hand");
                    self.warn(object, note.clone(), Some(view.sql.clone()));
                    out.push(ObjectPlan {
                        kind: ObjectKind::View,
                        source: view.name.clone(),
                        target,
                        sql: None,
                        original: view.sql.clone(),
                        note,
                    });
                }
            }
        }
        out
    }
}

fn display_declared(declared: &str) -> String {
    if declared.is_empty() {
        "(no declared type)".into()
    } else {
        declared.to_string()
    }
}

fn is_textlike(pg_type: &PgType) -> bool {
    matches!(
        pg_type,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext
    )
}

/// Whether expressions may use a column as SQLite did: its PostgreSQL type compares and
/// calculates like the SQLite values (numbers as numbers, text as text).
fn comparable(c: &ColumnPlan<'_>) -> bool {
    !c.choice.decision.widened
        && matches!(
            c.choice.pg_type,
            PgType::SmallInt
                | PgType::Integer
                | PgType::BigInt
                | PgType::Double
                | PgType::Real
                | PgType::Numeric(_)
                | PgType::Text
                | PgType::Varchar(_)
                | PgType::Citext
        )
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

fn calls_json_valid_on(sql: &str, column: &str) -> bool {
    let tokens = crate::sql::tokenize(sql);
    tokens.windows(3).any(|w| {
        w[0].is_word("json_valid")
            && w[1].is_punct("(")
            && w[2].name().is_some_and(|n| n.eq_ignore_ascii_case(column))
    })
}

fn fts_unindexed(vt: &catalog::VirtualTable, column: &str) -> bool {
    let fts5 = vt.arguments.iter().any(|arg| {
        let words: Vec<String> = crate::sql::tokenize(arg)
            .iter()
            .filter_map(|t| t.name())
            .collect();
        words.len() == 2
            && words[0].eq_ignore_ascii_case(column)
            && words[1].eq_ignore_ascii_case("UNINDEXED")
    });
    fts5 || vt
        .option("notindexed")
        .is_some_and(|c| c.eq_ignore_ascii_case(column))
}

fn generated_expression(
    g: &catalog::Generated,
    scope: &Scope,
    columns: &[ColumnPlan<'_>],
) -> std::result::Result<String, String> {
    if g.sql.is_empty() {
        return Err("its expression could not be read".into());
    }
    let used = ddl::columns_used(&g.sql, scope);
    let plans: Vec<&ColumnPlan<'_>> = used
        .iter()
        .filter_map(|u| columns.iter().find(|c| &c.column.name == u))
        .collect();
    if plans.iter().any(|c| c.column.generated.is_some()) {
        return Err("it uses another generated column, which PostgreSQL does not allow".into());
    }
    immutable_expression(&g.sql, scope, columns)
}

/// Translates an expression PostgreSQL requires to be immutable (generated columns, index
/// expressions): `||` over a non-text value goes through a stable output function.
fn immutable_expression(
    sql: &str,
    scope: &Scope,
    columns: &[ColumnPlan<'_>],
) -> std::result::Result<String, String> {
    let expr = ddl::translate(sql, scope)?;
    let used = ddl::columns_used(sql, scope);
    let non_text = used
        .iter()
        .filter_map(|u| columns.iter().find(|c| &c.column.name == u))
        .any(|c| !is_textlike(&c.choice.pg_type));
    if expr.contains("||") && non_text {
        return Err("`||` on a non-text column is not immutable in PostgreSQL".into());
    }
    Ok(expr)
}

/// Rows whose key may repeat once converted: grouped in SQLite by the instant to the second
/// and by truth value, at most 100,000 rows.
fn unique_candidates(
    db: &mut Source,
    table: &str,
    key: &[(&ScopeColumn, Option<crate::transfer::model::Conversion>)],
) -> Result<Vec<crate::value::Row>> {
    let quote = |name: &str| quote_ident(name).map_err(Error::Invalid);
    let mut columns = Vec::new();
    let mut groups = Vec::new();
    let mut present = Vec::new();
    for (column, conversion) in key {
        let q = quote(&column.source)?;
        present.push(format!("{q} IS NOT NULL"));
        groups.push(match (&column.pg_type, conversion) {
            (PgType::Timestamptz | PgType::Timestamp, None) => format!("strftime('%Y-%m-%d %H:%M:%S', {q})"),
            (PgType::Boolean, None) => format!(
                "CASE WHEN typeof({q}) = 'text' THEN lower(trim({q})) IN ('1', 't', 'true', 'y', 'yes', 'on') ELSE {q} <> 0 END"
            ),
            // Candidates only: SQLite spells some reals differently from the copier, and
            // `normalize_for_key` decides.
            (pg_type, None) if spelled_alike(pg_type) => format!("CAST({q} AS BLOB)"),
            _ => q.clone(),
        });
        // Text is read as bytes: it need not be UTF-8 in a column headed for bytea.
        columns.push(if spelled_alike(&column.pg_type) {
            format!("CASE WHEN typeof({q}) = 'text' THEN CAST({q} AS BLOB) ELSE {q} END")
        } else {
            q
        });
    }
    let (columns, groups, present) = (columns.join(", "), groups.join(", "), present.join(" AND "));
    let table = quote(table)?;
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE {present} AND ({groups}) IN (SELECT {groups} FROM {table} WHERE {present} GROUP BY {groups} HAVING count(*) > 1) LIMIT 100000"
    );
    db.query(&sql, &[])
}

/// Whether a column of this type holds numbers as their text, so `1` and `'1'` become one value.
fn spelled_alike(pg_type: &PgType) -> bool {
    matches!(
        pg_type,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext | PgType::Bytea
    )
}

/// Whether a column holds more than one kind of value among numbers, texts and blobs: only then
/// can two values SQLite keeps apart be spelled alike.
fn mixed_classes(profile: &crate::transfer::plan::profile::ColumnProfile) -> bool {
    [
        profile.integers + profile.reals,
        profile.texts,
        profile.blobs,
    ]
    .iter()
    .filter(|&&n| n > 0)
    .count()
        > 1
}

/// A key value as PostgreSQL will compare it.
fn normalize_for_key(pg_type: &PgType, value: &crate::value::Value) -> String {
    use crate::value::Value;
    if spelled_alike(pg_type) {
        // The bytes the copier writes: numbers as their text, text and blobs as stored.
        let bytes = match value {
            Value::Int(i) => i.to_string().into_bytes(),
            Value::Float(x) => crate::transfer::load::values::float_text(*x).into_bytes(),
            Value::Text(text) => text.clone().into_bytes(),
            Value::Bytes(bytes) => bytes.clone(),
            other => format!("{other:?}").into_bytes(),
        };
        return if matches!(pg_type, PgType::Citext) {
            String::from_utf8_lossy(&bytes).to_lowercase()
        } else {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
    }
    match (pg_type, value) {
        (PgType::Timestamptz | PgType::Timestamp, Value::Text(text)) => {
            crate::value::parse_timestamp(text)
                .map_or_else(|| text.clone(), |t| t.timestamp_micros().to_string())
        }
        (PgType::Boolean, Value::Int(n)) => (*n != 0).to_string(),
        (PgType::Boolean, Value::Text(text)) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "y" | "yes" | "on"
        )
        .to_string(),
        (_, other) => format!("{other:?}"),
    }
}

/// Child rows of `fk` whose key is complete (no NULL part) but has no parent row.
/// Orphan rows of the foreign keys of `schema`, keyed by (table, foreign key) index. A key
/// whose count fails here (a column it names is missing) is left out; the planner decides what
/// to do with it and counts again only if it keeps it.
fn count_all_orphans(db: &mut Source, schema: &Schema) -> HashMap<(usize, usize), u64> {
    let mut counts = HashMap::new();
    for (t, table) in schema.tables.iter().enumerate() {
        for (f, fk) in table.foreign_keys.iter().enumerate() {
            let parent_known = schema
                .tables
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&fk.parent));
            if parent_known && fk.columns.len() == fk.parent_columns.len() {
                if let Ok(n) = count_orphans(db, table, fk) {
                    counts.insert((t, f), n);
                }
            }
        }
    }
    counts
}

/// Child rows whose key has no parent row. Distinct child keys are checked, each once, with
/// the rows counted per key: an indexed key column is read in order without sorting, and a key
/// repeated on many rows costs one lookup. Keys are grouped byte for byte (`COLLATE BINARY`),
/// the finest grouping, so each group's rows all find a parent or all do not.
fn count_orphans(db: &mut Source, table: &Table, fk: &catalog::ForeignKey) -> Result<u64> {
    let quote = |name: &str| quote_ident(name).map_err(Error::Invalid);
    let child = quote(&table.name)?;
    let parent = quote(&fk.parent)?;
    let mut keys = Vec::new();
    let mut present = Vec::new();
    let mut groups = Vec::new();
    let mut matched = Vec::new();
    for (i, (c, p)) in fk.columns.iter().zip(&fk.parent_columns).enumerate() {
        let c = quote(c)?;
        keys.push(format!("{c} AS k{i}"));
        present.push(format!("{c} IS NOT NULL"));
        groups.push(format!("{c} COLLATE BINARY"));
        matched.push(format!("p.{} = c.k{i}", quote(p)?));
    }
    let sql = format!(
        "SELECT coalesce(sum(n), 0) AS n FROM (SELECT {}, count(*) AS n FROM {child} WHERE {} GROUP BY {}) AS c WHERE NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {})",
        keys.join(", "),
        present.join(" AND "),
        groups.join(", "),
        matched.join(" AND ")
    );
    let rows = db.query(&sql, &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.get::<i64, _>("n").ok())
        .map_or(0, |n| n.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spelled_alike_in_text_or_bytes_collide() {
        use crate::value::Value;
        for pg_type in [PgType::Text, PgType::Bytea, PgType::Varchar(Some(9))] {
            let key = |v: Value| normalize_for_key(&pg_type, &v);
            assert_eq!(key(Value::Int(1)), key(Value::Bytes(b"1".to_vec())));
            assert_eq!(key(Value::Float(2.5)), key(Value::Bytes(b"2.5".to_vec())));
            assert_eq!(
                key(Value::Float(0.30000000000000004)),
                key(Value::Bytes(b"0.30000000000000004".to_vec()))
            );
            assert_ne!(
                key(Value::Float(0.30000000000000004)),
                key(Value::Float(0.3))
            );
            assert_ne!(
                key(Value::Bytes(b"a".to_vec())),
                key(Value::Bytes(b"A".to_vec()))
            );
        }
        let citext = |v: Value| normalize_for_key(&PgType::Citext, &v);
        assert_eq!(
            citext(Value::Bytes(b"a".to_vec())),
            citext(Value::Bytes(b"A".to_vec()))
        );
        let profile = |integers, texts, blobs| ColumnProfile {
            integers,
            texts,
            blobs,
            ..ColumnProfile::default()
        };
        assert!(!mixed_classes(&profile(5, 0, 0)));
        assert!(!mixed_classes(&profile(0, 5, 0)));
        assert!(mixed_classes(&profile(1, 5, 0)));
        assert!(mixed_classes(&profile(0, 5, 1)));
    }

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

    #[test]
    fn plan_files_round_trip_and_report_lines() {
        let plan = Plan {
            source: "x.db".into(),
            options: PlanOptions::default(),
            before: vec![],
            tables: vec![TablePlan {
                map: TableMap {
                    source: "T".into(),
                    target_schema: "public".into(),
                    target: "t".into(),
                    key: SourceKey::PrimaryKey(vec!["a".into()]),
                    columns: vec![
                        ColumnMap {
                            source: "a".into(),
                            target: "a".into(),
                            pg_type: PgType::Numeric(None),
                            not_null: true,
                            policy: ValuePolicy::Reject,
                            conversion: None,
                            json_profiled: false,
                        },
                        ColumnMap {
                            source: "b".into(),
                            target: "b".into(),
                            pg_type: PgType::Numeric(Some((10, 2))),
                            not_null: false,
                            policy: ValuePolicy::Escape,
                            conversion: Some(crate::transfer::model::Conversion::UnixSeconds),
                            json_profiled: false,
                        },
                    ],
                },
                create: vec!["CREATE TABLE \"public\".\"t\" (\n    \"a\" numeric\n)".into()],
                after_load: vec![],
                foreign_keys: vec![ForeignKeyPlan {
                    name: "f".into(),
                    sql: "ALTER ...".into(),
                    orphan_rows: 2,
                    not_valid: true,
                    parent: "p".into(),
                }],
                identity: Some(IdentityPlan {
                    column: "a".into(),
                    restart_with: 5,
                    sql: "ALTER ...".into(),
                }),
                source_rows: 3,
            }],
            views: vec![],
            review: vec![item(
                Severity::Warning,
                "x".into(),
                "y".into(),
                Some("z".into()),
            )],
            decisions: vec![],
        };
        let text = plan.to_toml();
        assert_eq!(Plan::from_toml(&text).unwrap(), plan);
        let broken = text.replacen("source_rows = 3", "source_rows = \"three\"", 1);
        let line = broken
            .lines()
            .position(|l| l.contains("\"three\""))
            .unwrap()
            + 1;
        let err = Plan::from_toml(&broken).unwrap_err().to_string();
        assert!(err.contains(&format!("line {line},")), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let typo = text.replacen("keep_case", "keep_kase", 1);
        assert!(Plan::from_toml(&typo)
            .unwrap_err()
            .to_string()
            .contains("keep_kase"));
    }
}
