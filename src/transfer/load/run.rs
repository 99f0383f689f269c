//! The transfer itself: the steps of `dbshift migrate` in order (create tables, copy rows,
//! indexes, foreign keys, sequences, verify), parallel over tables, resumable. Each table is
//! analyzed as soon as its indexes are built, while other tables still load.
//!
//! The pieces live beside this file: the work list (`work`,
//! `data_only`), the bookkeeping in the target (`state`),
//! the checks before anything is written (`preflight`), the
//! `scheduler` and one table's steps (`table_steps`),
//! the steps after the tables (`finish`) and verification
//! (`verify_all`). They are re-exported here under their former paths.

use std::time::Instant;

use diesel::pg::PgConnection;

use crate::transfer::error::{Error, Result};
use crate::transfer::load::finish::run_finish;
use crate::transfer::load::lock_watch::{gave_up_waiting, LockWatch};
use crate::transfer::load::preflight::{check_options, check_target, connect, recorded_transfer};
use crate::transfer::load::rejects::RunTag;
use crate::transfer::load::report::{NotCarried, Report, TableReport, Verification};
use crate::transfer::load::scheduler::copy_tables;
use crate::transfer::load::state::{self, run_step, Done};

pub use crate::transfer::load::data_only::{
    data_only_work, data_only_work_with_orm, ColumnSetting,
};
pub use crate::transfer::load::options::{default_reject_dir, IfExists, Mode, Options, SPLIT_ROWS};
pub use crate::transfer::load::preflight::{check_reachable, preflight};

/// Verifies every table of `work` against the source, and puts what the plan did not carry
/// into the verdict (see [`Verification::account`]).
pub fn verify_work(options: &Options, work: &Work) -> Result<Verification> {
    verify_after_copy(options, work, &[])
}

/// [`verify_work`] after a copy: the tables whose sums `copied` took during their load are
/// not read again.
fn verify_after_copy(
    options: &Options,
    work: &Work,
    copied: &[TableReport],
) -> Result<Verification> {
    let early = copied
        .iter()
        .filter_map(|t| Some((t.table.clone(), t.early_sums?)))
        .collect();
    let mut verification = crate::transfer::load::verify_all::verify_work(options, work, &early)?;
    let started = Instant::now();
    verification
        .tables
        .extend(crate::transfer::load::verify_views::verify_views(
            options, work,
        )?);
    verification.seconds += started.elapsed().as_secs_f64();
    verification.account(work.not_carried.iter().cloned());
    verification.account(crate::transfer::load::verify_views::missing_triggers(
        options, work,
    )?);
    Ok(verification)
}
pub use crate::transfer::load::work::{plan_work, Step, StepKind, Work, WorkTable};

/// Runs a transfer of `work` (ignored when resuming, where the recorded work is used).
pub fn run(options: &Options, work: Work) -> Result<Report> {
    let started = Instant::now();
    check_options(options)?;
    let mut conn = connect(&options.target)?;
    let overridden = options.prepare_session(&mut conn)?;
    let watch = LockWatch::start(options);
    let result = start_and_execute(options, &mut conn, work, started);
    let waits = watch.finish();
    match result.map_err(|e| gave_up_waiting(options, e, waits.last())) {
        Ok(mut report) => {
            report.session = overridden;
            report.lock_waits = waits
                .iter()
                .map(|w| format!("waited {:.1} s for {}", w.waited, w.describe()))
                .collect();
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

fn start_and_execute(
    options: &Options,
    conn: &mut PgConnection,
    work: Work,
    started: Instant,
) -> Result<Report> {
    let state_exists = recorded_transfer(options, conn)?;
    let (work, moved) = if state_exists && options.resume {
        let recorded = state::recorded_work(options, conn)?;
        let run = state::recorded_run(options, conn)?.unwrap_or_else(RunTag::new_id);
        tracing::info!("resuming the transfer recorded in the target");
        (recorded, claim_reject_dir(options, run)?)
    } else {
        check_target(options, conn, &work)?;
        let run = RunTag::new_id();
        let moved = claim_reject_dir(options, run.clone())?;
        state::start(options, conn, &work, &run)?;
        (work, moved)
    };
    // Only a failure that passes (a lost connection, a full disk, a lock released) is one that
    // resuming cures; any other would stop a resumed run the same way, so it is returned as
    // it is.
    let mut report = execute(options, conn, &work, started).map_err(|e| match e {
        e @ Error::Stopped { .. } => e,
        e if e.passes() => Error::Stopped {
            source: Box::new(e),
        },
        e => e,
    })?;
    if let Some(moved) = moved {
        report.warnings.push(format!(
            "the reject directory held the files of another run; they were moved to `{}`",
            moved.display()
        ));
    }
    if options.mode != Mode::SchemaOnly {
        RunTag::release_if_unused(&options.reject_dir);
    }
    Ok(report)
}

/// Makes the reject directory this run's ([`RunTag::claim`]); a schema-only transfer writes
/// no rejects and leaves it alone.
fn claim_reject_dir(options: &Options, run: String) -> Result<Option<std::path::PathBuf>> {
    if options.mode == Mode::SchemaOnly {
        return Ok(None);
    }
    RunTag {
        run,
        target: options.target.url.redacted().to_string(),
        source: options.source.display().to_string(),
    }
    .claim(&options.reject_dir)
}

/// The phases of a recorded transfer, each timed in the report: prepare, data, constraints,
/// then verification.
fn execute(
    options: &Options,
    conn: &mut PgConnection,
    work: &Work,
    started: Instant,
) -> Result<Report> {
    let done = state::done_steps(options, conn)?;
    let mut report = Report {
        source: options.source.display().to_string(),
        target: options.target.url.redacted(),
        mode: options.mode.as_str().to_string(),
        tables: Vec::new(),
        totals: Default::default(),
        phases: Vec::new(),
        warnings: work.warnings.clone(),
        notes: work.notes.clone(),
        verification: None,
        reject_dir: Some(options.reject_dir.display().to_string()),
        seconds: 0.0,
        session: Vec::new(),
        lock_waits: Vec::new(),
    };

    let phase = Instant::now();
    prepare(options, conn, work, &done)?;
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
    let left = run_finish(options, conn, &done, &work.finish)?;
    let refused: Vec<NotCarried> = report
        .tables
        .iter()
        .flat_map(|t| &t.warnings)
        .chain(&left)
        .map(|w| NotCarried::refused(w, &work.accept))
        .collect();
    report.warnings.extend(left);
    report
        .phases
        .push(("constraints".into(), phase.elapsed().as_secs_f64()));

    report.sum();
    report.seconds = started.elapsed().as_secs_f64();
    if options.verify && options.mode != Mode::SchemaOnly {
        let mut verification = verify_after_copy(options, work, &report.tables)?;
        // A trigger the server refused is also missing from the target: name it once.
        let listed: Vec<String> = verification
            .not_carried
            .iter()
            .map(|item| item.object.clone())
            .collect();
        verification.account(
            refused
                .into_iter()
                .filter(|r| !(r.object.starts_with("trigger ") && listed.contains(&r.object))),
        );
        report.verification = Some(verification);
    }
    state::remove(options, conn)?;
    Ok(report)
}

/// The steps before any table: types and extensions, then the existing tables dropped or
/// emptied as [`Options::if_exists`] says.
fn prepare(options: &Options, conn: &mut PgConnection, work: &Work, done: &Done) -> Result<()> {
    run_step(
        options,
        conn,
        done,
        &Step {
            id: "preamble".into(),
            kind: StepKind::Preamble,
            what: "types and extensions".into(),
            sql: work.preamble.clone(),
        },
    )?;
    match clear_step(options, work) {
        Some(step) => run_step(options, conn, done, &step),
        None => Ok(()),
    }
}

/// Existing tables are dropped or emptied in one statement before any copy: a
/// `DROP ... CASCADE` or `TRUNCATE` per worker would lock the tables that reference its table,
/// and two workers doing so deadlock.
fn clear_step(options: &Options, work: &Work) -> Option<Step> {
    if work.tables.is_empty() {
        return None;
    }
    let names = work
        .tables
        .iter()
        .map(|t| t.map.qualified_target())
        .collect::<Vec<_>>()
        .join(", ");
    let (id, what, sql) = match (options.mode, options.if_exists) {
        (Mode::DataOnly, IfExists::Truncate) => (
            "truncate",
            "empty the target tables",
            format!("TRUNCATE {names}"),
        ),
        (Mode::Full | Mode::SchemaOnly, IfExists::Drop) => (
            "drop",
            "drop the existing tables",
            format!("DROP TABLE IF EXISTS {names} CASCADE"),
        ),
        _ => return None,
    };
    Some(Step {
        id: id.into(),
        kind: StepKind::Clear,
        what: what.into(),
        sql: vec![sql],
    })
}
