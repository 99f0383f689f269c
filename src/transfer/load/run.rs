//! The transfer itself: the steps of `dbshift migrate` in order (create tables, copy rows,
//! indexes, foreign keys, sequences, verify), parallel over tables, resumable. Each table is
//! analyzed as soon as its indexes are built, while other tables still load.
//!
//! Progress is recorded in the target, in a schema `_dbshift`: the work description (so a
//! resumed run executes exactly the same statements) and one row per finished step, inserted in
//! the same transaction as the step's own work. A step is therefore either done and recorded,
//! or not done at all; `--resume` skips recorded steps and redoes the rest. The schema is
//! dropped once the transfer (and its verification) has finished.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::backend::PostgresBackend;
use crate::config::DbConfig;
use crate::dialect::{quote_ident, quote_literal};
use crate::transfer::error::{Error, Result};
use crate::transfer::load::copy::{
    answered, copy_table, server_message, under_savepoint, TableJob, TableStats,
};
use crate::transfer::load::progress::Progress;
use crate::transfer::load::report::{Report, TableReport, Verification};
use crate::transfer::load::target_catalog::{read_schema, TargetTable};
use crate::transfer::load::verify::{rejected_keys, Side, TableToCheck};
use crate::transfer::model::{ColumnMap, Conversion, SourceKey, TableMap, ValuePolicy};

/// What to transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Schema and data.
    Full,
    /// Only the schema (tables, indexes, constraints, views): no rows.
    SchemaOnly,
    /// Only the rows, into tables that already exist in the target.
    DataOnly,
}

impl Mode {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::SchemaOnly => "schema-only",
            Mode::DataOnly => "data-only",
        }
    }
}

/// What to do when the target already holds the tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IfExists {
    /// Refuse, changing nothing (the default).
    #[default]
    Fail,
    /// Empty the existing tables first.
    Truncate,
    /// Drop and recreate the tables (full mode).
    Drop,
}

/// A per-column setting for `--data-only` (from the plan file's `[columns."table.column"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSetting {
    /// A conversion that cannot be guessed from the types.
    #[serde(default)]
    pub conversion: Option<Conversion>,
    /// What to do with values that do not fit.
    #[serde(default)]
    pub policy: Option<ValuePolicy>,
}

/// Everything a transfer needs besides the work itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// The SQLite file.
    pub source: PathBuf,
    /// The PostgreSQL target.
    pub target: DbConfig,
    /// What to transfer.
    pub mode: Mode,
    /// Tables copied at once.
    pub jobs: usize,
    /// What to do with existing tables.
    pub if_exists: IfExists,
    /// Finish a transfer that stopped.
    pub resume: bool,
    /// Verify after copying.
    pub verify: bool,
    /// Where reject files go.
    pub reject_dir: PathBuf,
    /// How progress is shown.
    pub progress: Progress,
}

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
    pub create: Vec<String>,
    /// Statements run right after the table is loaded (keys, indexes).
    pub after_load: Vec<String>,
    /// Target tables that must be loaded first (their foreign keys are checked during the load).
    pub parents: Vec<String>,
    /// Rows in the source (for progress).
    pub source_rows: u64,
}

/// A step after all tables are loaded (a foreign key, a sequence, a view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// A unique id, recorded when done.
    pub id: String,
    /// What it does, for logs.
    pub what: String,
    /// Its statements, run in one transaction.
    pub sql: Vec<String>,
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
}

#[derive(QueryableByName)]
struct SourceTableRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SourceColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SourceCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Builds the work of a `--data-only` transfer: each selected SQLite table onto the existing
/// target table of the same name (exact, else case-insensitive), columns matched the same way,
/// values converted to the target's types. Foreign keys of the target are kept: a table is
/// loaded after the tables it references.
pub fn data_only_work(
    options: &Options,
    schema: &str,
    include: &[String],
    exclude: &[String],
    settings: &HashMap<String, ColumnSetting>,
) -> Result<Work> {
    let mut source = crate::transfer::load::pages::open(&options.source)?;
    let path = &options.source;
    let err = |e: diesel::result::Error| crate::transfer::load::pages::source_error(path, None, e);
    let tables: Vec<SourceTableRow> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .load(&mut source)
    .map_err(err)?;
    let mut target = connect(&options.target)?;
    let targets = read_schema(&mut target, schema)?;
    let mut work = Work::default();
    let mut used_settings = HashSet::new();
    for table in tables
        .into_iter()
        .map(|t| t.name)
        .filter(|t| crate::transfer::plan::selected(t, include, exclude))
    {
        let Some(target_table) = find_by_name(&targets, &table, |t| &t.name) else {
            work.warnings.push(format!(
                "source table `{table}` has no table in the target and is not copied"
            ));
            continue;
        };
        let columns: Vec<SourceColumnRow> = diesel::sql_query(format!(
            "SELECT name, pk FROM pragma_table_info({})",
            quote_literal(&table)
        ))
        .load(&mut source)
        .map_err(err)?;
        let source_columns: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut maps = Vec::new();
        for column in &columns {
            let Some(target_column) =
                find_by_name(&target_table.columns, &column.name, |c| &c.name)
            else {
                let values: Vec<SourceCount> = diesel::sql_query(format!(
                    "SELECT count({}) AS n FROM {}",
                    quote_ident(&column.name).map_err(Error::Invalid)?,
                    quote_ident(&table).map_err(Error::Invalid)?
                ))
                .load(&mut source)
                .map_err(err)?;
                let n = values.first().map_or(0, |v| v.n);
                if n > 0 {
                    work.warnings.push(format!(
                        "column `{table}.{}` has no column in target table `{}`: its {n} non-null values are not copied",
                        column.name, target_table.name
                    ));
                }
                continue;
            };
            if target_column.generated {
                work.warnings.push(format!(
                    "column `{table}.{}` maps to a generated column and is not copied",
                    column.name
                ));
                continue;
            }
            let key = format!("{table}.{}", column.name);
            let setting = settings.get(&key).cloned().unwrap_or_default();
            if settings.contains_key(&key) {
                used_settings.insert(key);
            }
            maps.push(ColumnMap {
                source: column.name.clone(),
                target: target_column.name.clone(),
                pg_type: target_column.pg_type.clone(),
                not_null: target_column.not_null,
                policy: setting.policy.unwrap_or_default(),
                conversion: setting.conversion,
                json_profiled: false,
            });
        }
        for target_column in &target_table.columns {
            let mapped = maps.iter().any(|m| m.target == target_column.name);
            if !mapped && target_column.not_null && !target_column.has_default {
                return Err(Error::Invalid(format!(
                    "target column `{}.{}` is NOT NULL without a default and no source column maps to it",
                    target_table.name, target_column.name
                )));
            }
        }
        let without_rowid =
            crate::transfer::load::pages::without_rowid(&mut source, &table).map_err(err)?;
        let mut pk: Vec<&SourceColumnRow> = columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        let key = if without_rowid {
            SourceKey::PrimaryKey(pk.iter().map(|c| c.name.clone()).collect())
        } else {
            SourceKey::Rowid
        };
        let rowid_column =
            crate::transfer::load::pages::rowid_alias_column(&mut source, &table).map_err(err)?;
        let count: Vec<SourceCount> = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM {}",
            quote_ident(&table).map_err(Error::Invalid)?
        ))
        .load(&mut source)
        .map_err(err)?;
        for column in target_table.columns.iter().filter(|c| c.sequence.is_some()) {
            if maps.iter().any(|m| m.target == column.name) {
                let qualified = format!(
                    "{}.{}",
                    quote_ident(schema).map_err(Error::Invalid)?,
                    quote_ident(&target_table.name).map_err(Error::Invalid)?
                );
                work.finish.push(Step {
                    id: format!("sequence:{}.{}", target_table.name, column.name),
                    what: format!(
                        "move the sequence of `{}.{}` past the copied ids",
                        target_table.name, column.name
                    ),
                    sql: vec![crate::transfer::plan::ddl::restart_identity(
                        &qualified,
                        &column.name,
                        1,
                    )],
                });
            }
        }
        work.tables.push(WorkTable {
            map: TableMap {
                source: table.clone(),
                target_schema: schema.to_string(),
                target: target_table.name.clone(),
                key,
                columns: maps,
            },
            source_columns,
            rowid_column,
            create: Vec::new(),
            after_load: Vec::new(),
            parents: target_table.references.clone(),
            source_rows: count.first().map_or(0, |c| c.n as u64),
        });
    }
    if let Some(key) = settings.keys().find(|k| !used_settings.contains(*k)) {
        return Err(Error::Invalid(format!(
            "the plan file sets column `{key}`, which is not a copied column"
        )));
    }
    Ok(work)
}

/// Builds the work of a full (or schema-only) transfer from a plan: its `before` statements,
/// each table's CREATE and post-load DDL, then identities, foreign keys and views. A plan with
/// blocking review items is refused with the items listed.
pub fn plan_work(plan: &crate::transfer::plan::Plan, source_path: &Path) -> Result<Work> {
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
    let mut source = crate::transfer::load::pages::open(source_path)?;
    let err =
        |e: diesel::result::Error| crate::transfer::load::pages::source_error(source_path, None, e);
    let mut work = Work {
        preamble: plan.before.iter().map(ToString::to_string).collect(),
        ..Work::default()
    };
    for table in &plan.tables {
        let columns: Vec<SourceColumnRow> = diesel::sql_query(format!(
            "SELECT name, pk FROM pragma_table_xinfo({})",
            quote_literal(&table.map.source)
        ))
        .load(&mut source)
        .map_err(err)?;
        work.tables.push(WorkTable {
            map: table.map.clone(),
            source_columns: columns.into_iter().map(|c| c.name).collect(),
            rowid_column: crate::transfer::load::pages::rowid_alias_column(
                &mut source,
                &table.map.source,
            )
            .map_err(err)?,
            create: table.create.iter().map(ToString::to_string).collect(),
            after_load: table.after_load.iter().map(ToString::to_string).collect(),
            parents: Vec::new(),
            source_rows: table.source_rows,
        });
        if let Some(identity) = &table.identity {
            work.finish.push(Step {
                id: format!("identity:{}", table.map.source),
                what: format!(
                    "restart the identity of `{}.{}` at {} (or past the largest id copied)",
                    table.map.target, identity.column, identity.restart_with
                ),
                sql: vec![identity.sql.to_string()],
            });
        }
    }
    for table in &plan.tables {
        for key in &table.foreign_keys {
            work.finish.push(Step {
                id: format!("fk:{}:{}", table.map.source, key.name),
                what: format!("foreign key `{}` of `{}`", key.name, table.map.target),
                sql: vec![key.sql.to_string()],
            });
        }
    }
    for view in &plan.views {
        if let Some(sql) = &view.sql {
            work.finish.push(Step {
                id: format!("view:{}", view.source),
                what: format!("view `{}`", view.target),
                sql: vec![sql.to_string()],
            });
        }
    }
    work.warnings = plan
        .review
        .iter()
        .filter(|item| item.severity >= crate::transfer::plan::Severity::Warning)
        .map(|item| format!("{}: {}", item.object, item.message))
        .collect();
    Ok(work)
}

fn find_by_name<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &String) -> Option<&'a T> {
    items.iter().find(|t| key(t) == name).or_else(|| {
        let mut matches = items.iter().filter(|t| key(t).eq_ignore_ascii_case(name));
        let first = matches.next();
        // Two targets that differ only in case: no guess.
        if matches.next().is_some() {
            None
        } else {
            first
        }
    })
}

/// Connects to the target once and lets go: a wrong password or an unreachable server is then
/// reported before the source is profiled, which can take minutes on a large file.
pub fn check_reachable(config: &DbConfig) -> Result<()> {
    connect(config).map(drop)
}

fn connect(config: &DbConfig) -> Result<PgConnection> {
    let url = crate::backend::postgres::with_connect_options(
        &config.connect_url()?,
        config.pool.connect_timeout_secs,
    );
    Ok(crate::backend::postgres::establish(
        &url,
        &config.url.redacted(),
    )?)
}

fn target_error(options: &Options, what: &str, e: diesel::result::Error) -> Error {
    Error::Target {
        url: options.target.url.redacted(),
        message: format!("{what}: {}", server_message(&e)),
    }
}

#[derive(QueryableByName)]
struct OptText {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

fn query_text(conn: &mut PgConnection, sql: &str) -> diesel::QueryResult<Option<String>> {
    let rows: Vec<OptText> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.value))
}

const STATE_SCHEMA: &str = "_dbshift";

fn mark_sql(id: &str, detail: Option<&str>) -> String {
    format!(
        "INSERT INTO {STATE_SCHEMA}.steps (id, detail) VALUES ({}, {})",
        quote_literal(id),
        detail.map_or("NULL".to_string(), |d| format!(
            "{}::jsonb",
            quote_literal(d)
        ))
    )
}

/// Runs a transfer of `work` (ignored on `--resume`, where the recorded work is used).
pub fn run(options: &Options, work: Work) -> Result<Report> {
    let started = Instant::now();
    check_options(options)?;
    let mut conn = connect(&options.target)?;
    let state_exists = recorded_transfer(options, &mut conn)?;
    let work = if state_exists && options.resume {
        let text = query_text(
            &mut conn,
            &format!("SELECT work::text AS value FROM {STATE_SCHEMA}.run"),
        )
        .map_err(|e| target_error(options, "reading the recorded transfer", e))?
        .ok_or_else(|| {
            Error::Invalid(
                "the recorded transfer is empty; start over with --if-exists drop".into(),
            )
        })?;
        let recorded: Work = serde_json::from_str(&text).map_err(|e| {
            Error::Invalid(format!(
                "the recorded transfer is unreadable ({e}); start over with --if-exists drop"
            ))
        })?;
        tracing::info!("resuming the transfer recorded in the target");
        recorded
    } else {
        check_target(options, &mut conn, &work)?;
        start_state(options, &mut conn, &work)?;
        work
    };
    execute(options, &mut conn, &work, started).map_err(|e| match e {
        e @ Error::Stopped { .. } => e,
        e => Error::Stopped {
            source: Box::new(e),
        },
    })
}

fn execute(
    options: &Options,
    conn: &mut PgConnection,
    work: &Work,
    started: Instant,
) -> Result<Report> {
    let conn = &mut *conn;
    let done = done_steps(options, conn)?;
    let mut report = Report {
        source: options.source.display().to_string(),
        target: options.target.url.redacted(),
        mode: options.mode.as_str().to_string(),
        tables: Vec::new(),
        totals: Default::default(),
        phases: Vec::new(),
        warnings: work.warnings.clone(),
        verification: None,
        reject_dir: Some(options.reject_dir.display().to_string()),
        seconds: 0.0,
    };

    let phase = Instant::now();
    run_step(
        options,
        conn,
        &done,
        &Step {
            id: "preamble".into(),
            what: "types and extensions".into(),
            sql: work.preamble.clone(),
        },
    )?;
    // Existing tables are dropped or emptied in one statement before any copy: a
    // DROP ... CASCADE or TRUNCATE per worker would lock the tables that reference its table,
    // and two workers doing so deadlock.
    let names = work
        .tables
        .iter()
        .map(|t| t.map.qualified_target())
        .collect::<Vec<_>>()
        .join(", ");
    let clear = match (options.mode, options.if_exists) {
        (Mode::DataOnly, IfExists::Truncate) => Some((
            "truncate",
            "empty the target tables",
            format!("TRUNCATE {names}"),
        )),
        (Mode::Full | Mode::SchemaOnly, IfExists::Drop) => Some((
            "drop",
            "drop the existing tables",
            format!("DROP TABLE IF EXISTS {names} CASCADE"),
        )),
        _ => None,
    };
    if let Some((id, what, sql)) = clear.filter(|_| !work.tables.is_empty()) {
        run_step(
            options,
            conn,
            &done,
            &Step {
                id: id.into(),
                what: what.into(),
                sql: vec![sql],
            },
        )?;
    }
    report
        .phases
        .push(("prepare".into(), phase.elapsed().as_secs_f64()));

    let phase = Instant::now();
    report.tables = copy_tables(options, work, &done)?;
    for table in &report.tables {
        report.warnings.extend(table.warnings.iter().cloned());
    }
    report
        .phases
        .push(("data".into(), phase.elapsed().as_secs_f64()));

    let phase = Instant::now();
    crate::transfer::fault_point("finishing");
    for step in &work.finish {
        let message = match run_step(options, conn, &done, step) {
            Ok(()) => continue,
            Err(Error::Target { message, .. }) => message,
            Err(e) => return Err(e),
        };
        // A key whose parent lost its unique index (see `build_index`) cannot be added, and a
        // view is translated by rules that PostgreSQL may still refuse (a function over a type
        // it does not take). The rows are all in by then, and failing would leave `--resume`
        // nothing it could finish: such a step is recorded as done and reported with its SQL.
        // Only a statement error is taken so: the connection must still answer.
        let advice =
            if step.id.starts_with("fk:") && message.contains("no unique constraint matching") {
                "add it by hand once the parent has its unique index"
            } else if step.id.starts_with("view:") && conn.batch_execute("SELECT 1").is_ok() {
                "create it by hand"
            } else {
                return Err(Error::Target {
                    url: options.target.url.redacted(),
                    message,
                });
            };
        conn.batch_execute(&mark_sql(&step.id, None))
            .map_err(|e| target_error(options, "recording a step", e))?;
        report.warnings.push(format!(
            "{} not created ({message}); {advice}: {}",
            step.what,
            step.sql.join("; ")
        ));
    }
    report
        .phases
        .push(("constraints".into(), phase.elapsed().as_secs_f64()));

    report.sum();
    report.seconds = started.elapsed().as_secs_f64();
    if options.verify && options.mode != Mode::SchemaOnly {
        report.verification = Some(verify_work(options, work)?);
    }
    conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE"))
        .map_err(|e| target_error(options, "removing the transfer state", e))?;
    Ok(report)
}

/// Checks, without changing anything, that `run` would accept this target: it is reachable,
/// no unfinished transfer is recorded there (unless resuming), and the tables are absent or
/// empty as `--if-exists` requires.
pub fn preflight(options: &Options, work: &Work) -> Result<()> {
    check_options(options)?;
    let mut conn = connect(&options.target)?;
    let state_exists = recorded_transfer(options, &mut conn)?;
    if !(state_exists && options.resume) {
        check_target(options, &mut conn, work)?;
    }
    Ok(())
}

/// Whether the target records a transfer that did not finish; refused unless this run resumes
/// it or starts over (`--if-exists drop`).
fn recorded_transfer(options: &Options, conn: &mut PgConnection) -> Result<bool> {
    let exists = query_text(
        conn,
        &format!("SELECT to_regclass('{STATE_SCHEMA}.run')::text AS value"),
    )
    .map_err(|e| target_error(options, "reading the transfer state", e))?
    .is_some();
    if exists && !options.resume && options.if_exists != IfExists::Drop {
        return Err(Error::Invalid(format!(
            "a previous transfer into {} did not finish; run again with --resume to finish it, or with --if-exists drop to start over",
            options.target.url.redacted()
        )));
    }
    Ok(exists)
}

/// `--if-exists truncate` keeps the target's tables with their keys, indexes and constraints,
/// which only a data-only transfer can use; a full transfer replaces them with `drop`.
fn check_options(options: &Options) -> Result<()> {
    if options.if_exists == IfExists::Truncate && options.mode != Mode::DataOnly {
        return Err(Error::Invalid(
            "--if-exists truncate keeps the existing tables and needs --data-only; to replace them in a full migration use --if-exists drop".into(),
        ));
    }
    Ok(())
}

/// Verifies every table of `work` against the source.
pub fn verify_work(options: &Options, work: &Work) -> Result<Verification> {
    let started = Instant::now();
    let skip = rejected_keys(&options.reject_dir)?;
    let checks: Vec<TableToCheck<'_>> = work
        .tables
        .iter()
        .map(|t| TableToCheck {
            source_path: &options.source,
            map: &t.map,
            source_columns: &t.source_columns,
            rowid_column: t.rowid_column.as_deref(),
            skip: skip.get(&t.map.source),
        })
        .collect();
    // Each table's two sides are separate tasks, largest tables first, so the largest table's
    // source and target are read at the same time on two connections.
    let mut tasks: Vec<(usize, Side)> = (0..checks.len())
        .flat_map(|i| [(i, Side::Target), (i, Side::Source)])
        .collect();
    tasks.sort_by_key(|&(i, _)| work.tables[i].source_rows);
    let queue = Mutex::new(tasks);
    type Sums = (Option<(u64, u128)>, Option<(u64, u128)>, f64);
    let sums: Mutex<Vec<Sums>> = Mutex::new(vec![(None, None, 0.0); checks.len()]);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                let mut conn = match connect(&options.target) {
                    Ok(conn) => conn,
                    Err(e) => {
                        failure.lock().expect("lock").get_or_insert(e);
                        return;
                    }
                };
                loop {
                    let Some((index, side)) = queue.lock().expect("lock").pop() else {
                        return;
                    };
                    if failure.lock().expect("lock").is_some() {
                        return;
                    }
                    if side == Side::Source {
                        options
                            .progress
                            .message(&format!("verifying {}", checks[index].map.source));
                    }
                    crate::transfer::fault_point("verifying");
                    let side_started = Instant::now();
                    match checks[index].checksum(&mut conn, side) {
                        Ok(sum) => {
                            let mut sums = sums.lock().expect("lock");
                            let entry = &mut sums[index];
                            match side {
                                Side::Source => entry.0 = Some(sum),
                                Side::Target => entry.1 = Some(sum),
                            }
                            entry.2 = entry.2.max(side_started.elapsed().as_secs_f64());
                        }
                        Err(e) => {
                            failure.lock().expect("lock").get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("lock") {
        return Err(e);
    }
    let mut conn = connect(&options.target)?;
    let mut tables = Vec::with_capacity(checks.len());
    for (check, (source, target, seconds)) in checks.iter().zip(sums.into_inner().expect("lock")) {
        let (Some(source), Some(target)) = (source, target) else {
            return Err(Error::Invalid(format!(
                "verifying `{}` stopped before both sides were read",
                check.map.source
            )));
        };
        tables.push(check.finish(&mut conn, source, target, seconds)?);
    }
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(Verification {
        ok: tables.iter().all(|t| t.ok()),
        seconds: started.elapsed().as_secs_f64(),
        tables,
    })
}

fn check_target(options: &Options, conn: &mut PgConnection, work: &Work) -> Result<()> {
    let schema = work
        .tables
        .first()
        .map_or("public".to_string(), |t| t.map.target_schema.clone());
    check_rights(options, conn, &schema)?;
    let existing = read_schema(conn, &schema)?;
    let blocking: Vec<String> = match options.mode {
        Mode::DataOnly => existing
            .iter()
            .filter(|t| t.has_rows && work.tables.iter().any(|w| w.map.target == t.name))
            .map(|t| t.name.clone())
            .collect(),
        Mode::Full | Mode::SchemaOnly => existing
            .iter()
            .filter(|t| work.tables.iter().any(|w| w.map.target == t.name))
            .map(|t: &TargetTable| t.name.clone())
            .collect(),
    };
    if blocking.is_empty() || options.if_exists != IfExists::Fail {
        return Ok(());
    }
    let mut tables = blocking
        .iter()
        .take(5)
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if blocking.len() > 5 {
        tables.push_str(&format!(" and {} more", blocking.len() - 5));
    }
    Err(Error::TargetNotEmpty {
        url: options.target.url.redacted(),
        tables,
    })
}

#[derive(QueryableByName)]
struct Rights {
    #[diesel(sql_type = Text)]
    user: String,
    #[diesel(sql_type = Text)]
    database: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    on_database: bool,
    #[diesel(sql_type = Nullable<diesel::sql_types::Bool>)]
    on_schema: Option<bool>,
}

/// Refuses, before anything is written, a user who may not create what the transfer creates:
/// the `_dbshift` schema (always) and, unless the tables exist already (`--data-only`), tables
/// in the target schema. The server's own "permission denied" would come midway and not say
/// which grant is missing.
fn check_rights(options: &Options, conn: &mut PgConnection, schema: &str) -> Result<()> {
    let rights: Vec<Rights> = diesel::sql_query(format!(
        "SELECT current_user::text AS user, current_database()::text AS database,
                has_database_privilege(current_database(), 'CREATE') AS on_database,
                (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = {})
                  AS on_schema",
        quote_literal(schema)
    ))
    .load(conn)
    .map_err(|e| target_error(options, "reading the user's rights", e))?;
    let Some(rights) = rights.into_iter().next() else {
        return Ok(());
    };
    let refuse = |missing: String, grant: String| {
        Err(Error::Target {
            url: options.target.url.redacted(),
            message: format!(
                "user `{}` {missing}; {grant} (as its owner or a superuser), or connect as a user who may",
                rights.user
            ),
        })
    };
    let user = quote_ident(&rights.user).map_err(Error::Invalid)?;
    if !rights.on_database {
        return refuse(
            format!(
                "may not create schemas in database `{}` (the transfer keeps its progress in schema `{STATE_SCHEMA}`)",
                rights.database
            ),
            format!(
                "GRANT CREATE ON DATABASE {} TO {user}",
                quote_ident(&rights.database).map_err(Error::Invalid)?
            ),
        );
    }
    if options.mode != Mode::DataOnly && rights.on_schema == Some(false) {
        return refuse(
            format!("may not create tables in schema `{schema}`"),
            format!(
                "GRANT CREATE ON SCHEMA {} TO {user}",
                quote_ident(schema).map_err(Error::Invalid)?
            ),
        );
    }
    Ok(())
}

fn start_state(options: &Options, conn: &mut PgConnection, work: &Work) -> Result<()> {
    let json = serde_json::to_string(work).expect("work serializes");
    let sql = format!(
        "DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE;
         CREATE SCHEMA {STATE_SCHEMA};
         CREATE TABLE {STATE_SCHEMA}.run (source text NOT NULL, mode text NOT NULL, work jsonb NOT NULL, started_at timestamptz NOT NULL DEFAULT now());
         CREATE TABLE {STATE_SCHEMA}.steps (id text PRIMARY KEY, detail jsonb, done_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO {STATE_SCHEMA}.run (source, mode, work) VALUES ({}, {}, {}::jsonb);",
        quote_literal(&options.source.display().to_string()),
        quote_literal(options.mode.as_str()),
        quote_literal(&json)
    );
    conn.transaction(|conn| conn.batch_execute(&sql))
        .map_err(|e| target_error(options, "recording the transfer", e))
}

#[derive(QueryableByName)]
struct StepRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
}

fn done_steps(
    options: &Options,
    conn: &mut PgConnection,
) -> Result<HashMap<String, Option<String>>> {
    let rows: Vec<StepRow> = diesel::sql_query(format!(
        "SELECT id, detail::text AS detail FROM {STATE_SCHEMA}.steps"
    ))
    .load(conn)
    .map_err(|e| target_error(options, "reading the transfer state", e))?;
    Ok(rows.into_iter().map(|r| (r.id, r.detail)).collect())
}

fn run_step(
    options: &Options,
    conn: &mut PgConnection,
    done: &HashMap<String, Option<String>>,
    step: &Step,
) -> Result<()> {
    if done.contains_key(&step.id) || step.sql.is_empty() {
        return Ok(());
    }
    tracing::debug!(step = %step.id, "{}", step.what);
    conn.transaction(|conn| {
        for sql in &step.sql {
            conn.batch_execute(sql)?;
        }
        if let Some(table) = step.id.strip_prefix("index:") {
            crate::transfer::fault_point(&format!("indexing:{table}"));
        }
        conn.batch_execute(&mark_sql(&step.id, None))
    })
    .map_err(|e| target_error(options, &step.what, e))
}

struct Scheduler {
    pending: Vec<usize>,
    loaded: HashSet<String>,
    running: usize,
    failure: Option<Error>,
}

fn copy_tables(
    options: &Options,
    work: &Work,
    done: &HashMap<String, Option<String>>,
) -> Result<Vec<TableReport>> {
    let in_transfer: HashSet<&str> = work.tables.iter().map(|t| t.map.target.as_str()).collect();
    let mut order: Vec<usize> = (0..work.tables.len()).collect();
    // Largest first, so the last table to finish is a small one.
    order.sort_by_key(|&i| std::cmp::Reverse(work.tables[i].source_rows));
    let scheduler = Mutex::new(Scheduler {
        pending: order,
        loaded: HashSet::new(),
        running: 0,
        failure: None,
    });
    let wake = Condvar::new();
    let reports = Mutex::new(Vec::new());
    let pool = PostgresBackend::connect(&{
        let mut config = options.target.clone();
        config.pool.max_size = options.jobs.max(1) as u32;
        config.pool.min_idle = 0;
        config
    })?;
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| loop {
                let index = {
                    let mut s = scheduler.lock().expect("lock");
                    loop {
                        if s.failure.is_some() || s.pending.is_empty() {
                            return;
                        }
                        let ready = s.pending.iter().position(|&i| {
                            work.tables[i].parents.iter().all(|p| {
                                !in_transfer.contains(p.as_str())
                                    || s.loaded.contains(p)
                                    || *p == work.tables[i].map.target
                            })
                        });
                        match ready {
                            Some(position) => {
                                s.running += 1;
                                break s.pending.remove(position);
                            }
                            // Parents in a cycle of foreign keys: load anyway; rows the server
                            // refuses are isolated and rejected, never silently dropped.
                            None if s.running == 0 => {
                                s.running += 1;
                                break s.pending.remove(0);
                            }
                            None => s = wake.wait(s).expect("lock"),
                        }
                    }
                };
                let table = &work.tables[index];
                let result = pool.conn().map_err(Error::from).and_then(|mut conn| {
                    // lz4 compresses TOASTed values (large text, JSON, blobs) several times faster
                    // than the default pglz and is read back transparently; servers built
                    // without it keep their default.
                    let _ = conn.batch_execute("SET default_toast_compression = 'lz4'");
                    copy_one(options, &mut conn, table, done)
                });
                let mut s = scheduler.lock().expect("lock");
                s.running -= 1;
                match result {
                    Ok(report) => {
                        s.loaded.insert(table.map.target.clone());
                        reports.lock().expect("lock").push(report);
                    }
                    Err(e) => {
                        s.failure.get_or_insert(e);
                    }
                }
                wake.notify_all();
            });
        }
    });
    let scheduler = scheduler.into_inner().expect("lock");
    if let Some(e) = scheduler.failure {
        return Err(e);
    }
    Ok(reports.into_inner().expect("lock"))
}

fn copy_one(
    options: &Options,
    conn: &mut PgConnection,
    table: &WorkTable,
    done: &HashMap<String, Option<String>>,
) -> Result<TableReport> {
    let copy_id = format!("copy:{}", table.map.source);
    let index_id = format!("index:{}", table.map.source);
    let qualified = table.map.qualified_target();
    let report = |stats: TableStats, copied_now: bool| TableReport {
        table: table.map.source.clone(),
        target: format!("{}.{}", table.map.target_schema, table.map.target),
        copied_now,
        warnings: stats
            .warnings
            .iter()
            .map(|w| format!("table `{}`: {w}", table.map.target))
            .collect(),
        stats,
    };
    let result = if let Some(detail) = done.get(&copy_id) {
        let stats = detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        report(stats, false)
    } else {
        let exists = query_text(
            conn,
            &format!(
                "SELECT to_regclass({})::text AS value",
                quote_literal(&qualified)
            ),
        )
        .map_err(|e| target_error(options, "looking up a table", e))?
        .is_some();
        let mut before = Vec::new();
        let freeze = match options.mode {
            Mode::DataOnly => false,
            _ => {
                // Only a table left by an earlier, unrecorded attempt can be here.
                if exists {
                    before.push(format!("DROP TABLE {qualified} CASCADE"));
                }
                before.extend(table.create.iter().cloned());
                true
            }
        };
        let after = vec![mark_sql(&copy_id, None)];
        let label = table.map.source.clone();
        options.progress.start(&label, table.source_rows);
        let progress = |rows: u64| options.progress.rows(&label, rows);
        let stats = if options.mode == Mode::SchemaOnly {
            conn.transaction(|conn| {
                for sql in before.iter().chain(&after) {
                    conn.batch_execute(sql)?;
                }
                Ok(TableStats::default())
            })
            .map_err(|e| {
                target_error(
                    options,
                    &format!("creating table `{}`", table.map.target),
                    e,
                )
            })?
        } else {
            let job = TableJob {
                source_path: &options.source,
                map: &table.map,
                source_columns: &table.source_columns,
                before: &before,
                after: &after,
                freeze,
                reject_dir: Some(&options.reject_dir),
                progress: &progress,
            };
            copy_table(conn, &job)?
        };
        options.progress.finish(&label, &stats);
        crate::transfer::fault_point(&format!("copied:{}", table.map.source));
        let detail = serde_json::to_string(&stats).expect("stats serialize");
        conn.batch_execute(&format!(
            "UPDATE {STATE_SCHEMA}.steps SET detail = {}::jsonb WHERE id = {}",
            quote_literal(&detail),
            quote_literal(&copy_id)
        ))
        .map_err(|e| target_error(options, "recording a table", e))?;
        report(stats, true)
    };
    // Keys, indexes and statistics right after the table's rows, on this worker, so they
    // overlap with other tables still loading.
    let mut result = result;
    if !done.contains_key(&index_id) {
        let what = format!("keys, indexes and statistics of `{}`", table.map.target);
        tracing::debug!(step = %index_id, "{what}");
        let mut skipped = Vec::new();
        conn.transaction(|conn| {
            for sql in &table.after_load {
                build_index(conn, sql, &mut skipped)?;
            }
            if options.mode != Mode::SchemaOnly {
                conn.batch_execute(&format!("ANALYZE {qualified}"))?;
            }
            crate::transfer::fault_point(&format!("indexing:{}", table.map.source));
            conn.batch_execute(&mark_sql(&index_id, None))
        })
        .map_err(|e| target_error(options, &what, e))?;
        result.warnings.extend(skipped
            .into_iter()
            .map(|(sql, why)| {
                format!(
                    "table `{}`: a key or index was not created ({why}); every row is there; create it by hand (for text too long to index, on md5() or a prefix of the column): {sql}",
                    table.map.target
                )
            }));
    }
    Ok(result)
}

/// Whether PostgreSQL refused to build an index for a reason that leaves the data whole: an
/// entry too long for a btree, or an expression it cannot evaluate (a function over a type it
/// does not take). Duplicate keys and a lost connection stay errors.
fn index_not_buildable(e: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind as Kind;
    answered(e)
        && !matches!(
            e,
            diesel::result::Error::DatabaseError(
                Kind::UniqueViolation | Kind::ExclusionViolation,
                _
            )
        )
}

/// Runs one statement of a table's index step under a savepoint. A key or index PostgreSQL
/// cannot build ([`index_not_buildable`]) is left out and listed in `skipped`: the data is
/// unaffected, and failing the whole transfer for an index would leave `--resume` nothing it
/// could finish.
fn build_index(
    conn: &mut PgConnection,
    sql: &str,
    skipped: &mut Vec<(String, String)>,
) -> diesel::QueryResult<()> {
    if let Some(e) = under_savepoint(conn, sql, index_not_buildable)? {
        tracing::debug!(%sql, error = %server_message(&e), "index not created");
        skipped.push((sql.to_string(), server_message(&e)));
    }
    Ok(())
}

/// Where reject files go by default: `./dbshift-rejects`.
pub fn default_reject_dir() -> PathBuf {
    Path::new("dbshift-rejects").to_path_buf()
}
