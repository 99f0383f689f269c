//! The bookkeeping of a transfer in the target, in a schema `_dbshift`: the work description
//! (so a resumed run executes exactly the same statements) and one row per finished step,
//! inserted in the same transaction as the step's own work. A step is therefore either done and
//! recorded, or not done at all; a resumed transfer skips recorded steps and redoes the rest.
//! The schema is dropped once the transfer (and its verification) has finished.

use std::collections::HashMap;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::dialect::quote_literal;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::options::Options;
use crate::transfer::load::work::{Step, Work};
use crate::transfer::pg::query_text;

/// The schema that holds the bookkeeping.
pub(crate) const STATE_SCHEMA: &str = "_dbshift";

/// The steps recorded as done, by id, with their detail (a table's statistics) as JSON text.
pub(crate) type Done = HashMap<String, Option<String>>;

/// Records the start of run `run` of `work`, replacing whatever was recorded before.
pub(crate) fn start(
    options: &Options,
    conn: &mut PgConnection,
    work: &Work,
    run: &str,
) -> Result<()> {
    let json = serde_json::to_string(work).expect("work serializes");
    let sql = format!(
        "DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE;
         CREATE SCHEMA {STATE_SCHEMA};
         CREATE TABLE {STATE_SCHEMA}.run (source text NOT NULL, mode text NOT NULL, work jsonb NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), run_id text);
         CREATE TABLE {STATE_SCHEMA}.steps (id text PRIMARY KEY, detail jsonb, done_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO {STATE_SCHEMA}.run (source, mode, work, run_id) VALUES ({}, {}, {}::jsonb, {});",
        quote_literal(&options.source.display().to_string()),
        quote_literal(options.mode.as_str()),
        quote_literal(&json),
        quote_literal(run)
    );
    conn.transaction(|conn| conn.batch_execute(&sql))
        .map_err(|e| options.target_error("recording the transfer", e))
}

/// Whether the target records a transfer (finished or not: a finished one drops its record).
pub(crate) fn is_recorded(options: &Options, conn: &mut PgConnection) -> Result<bool> {
    let exists = query_text(
        conn,
        &format!("SELECT to_regclass('{STATE_SCHEMA}.run')::text AS value"),
    )
    .map_err(|e| options.target_error("reading the transfer state", e))?;
    Ok(exists.is_some())
}

/// The work of the recorded transfer, which a resumed run executes instead of its own.
pub(crate) fn recorded_work(options: &Options, conn: &mut PgConnection) -> Result<Work> {
    let text = query_text(
        conn,
        &format!("SELECT work::text AS value FROM {STATE_SCHEMA}.run"),
    )
    .map_err(|e| options.target_error("reading the recorded transfer", e))?
    .ok_or_else(|| Error::RecordedWork {
        reason: "empty".into(),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::RecordedWork {
        reason: format!("unreadable ({e})"),
    })
}

/// The id of the recorded run (its reject files carry it); `None` for a transfer recorded by an
/// older version, whose table has no such column.
pub(crate) fn recorded_run(options: &Options, conn: &mut PgConnection) -> Result<Option<String>> {
    query_text(
        conn,
        &format!("SELECT to_jsonb(r) ->> 'run_id' AS value FROM {STATE_SCHEMA}.run r"),
    )
    .map_err(|e| options.target_error("reading the recorded transfer", e))
}

#[derive(QueryableByName)]
struct StepRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
}

/// The steps recorded as done.
pub(crate) fn done_steps(options: &Options, conn: &mut PgConnection) -> Result<Done> {
    let rows: Vec<StepRow> = diesel::sql_query(format!(
        "SELECT id, detail::text AS detail FROM {STATE_SCHEMA}.steps"
    ))
    .load(conn)
    .map_err(|e| options.target_error("reading the transfer state", e))?;
    Ok(rows.into_iter().map(|r| (r.id, r.detail)).collect())
}

/// The statement that records step `id` as done, run in the step's own transaction.
pub(crate) fn mark_sql(id: &str) -> String {
    format!(
        "INSERT INTO {STATE_SCHEMA}.steps (id, detail) VALUES ({}, NULL)",
        quote_literal(id)
    )
}

/// Records `detail` (a table's statistics, as JSON) on the done step `id`.
pub(crate) fn record_detail(
    options: &Options,
    conn: &mut PgConnection,
    id: &str,
    detail: &str,
) -> Result<()> {
    conn.batch_execute(&format!(
        "UPDATE {STATE_SCHEMA}.steps SET detail = {}::jsonb WHERE id = {}",
        quote_literal(detail),
        quote_literal(id)
    ))
    .map_err(|e| options.target_error("recording a table", e))
}

/// Records a step as done without running it (a step whose failure was reported instead).
pub(crate) fn mark_done(options: &Options, conn: &mut PgConnection, id: &str) -> Result<()> {
    conn.batch_execute(&mark_sql(id))
        .map_err(|e| options.target_error("recording a step", e))
}

/// Runs a step not yet done, and records it, in one transaction.
pub(crate) fn run_step(
    options: &Options,
    conn: &mut PgConnection,
    done: &Done,
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
        conn.batch_execute(&mark_sql(&step.id))
    })
    .map_err(|e| options.target_error(&step.what, e))
}

/// Drops the bookkeeping once the transfer has finished.
pub(crate) fn remove(options: &Options, conn: &mut PgConnection) -> Result<()> {
    conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE"))
        .map_err(|e| options.target_error("removing the transfer state", e))
}
