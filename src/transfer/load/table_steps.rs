//! One table's two steps, on the worker that took it: its rows (created first in full mode,
//! copied, recorded with their statistics), then its keys, indexes, identity restart and
//! statistics, so they overlap with other tables still loading; with verification on, its
//! target side is read back right after. A key or index PostgreSQL cannot build is left out
//! and reported; the data is whole without it.

use crate::transfer::plan::Statement;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use std::time::Instant;

use crate::dialect::{quote_ident, quote_literal};
use crate::transfer::error::{Error, Result};
use crate::transfer::load::copy::{copy_table, RowHash, TableJob, TableStats};
use crate::transfer::load::options::{Mode, Options};
use crate::transfer::load::parts;
use crate::transfer::load::preflight::connect;
use crate::transfer::load::report::TableReport;
use crate::transfer::load::state::{self, mark_sql, Done};
use crate::transfer::load::verify::{foldable, row_hash, Side, Sums, TableToCheck};
use crate::transfer::load::work::WorkTable;
use crate::transfer::model::{PgType, SourceKey};
use crate::transfer::pg::{query_text, refusal, server_message, under_savepoint, Refusal};

/// Loads one table (unless recorded as done), then builds its keys and indexes (unless
/// recorded as done).
pub(crate) fn load_table(
    options: &Options,
    conn: &mut PgConnection,
    table: &WorkTable,
    done: &Done,
) -> Result<TableReport> {
    let copy_id = format!("copy:{}", table.map.source);
    let stats = match done.get(&copy_id) {
        Some(detail) => (
            detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default(),
            false,
        ),
        None => (copy_rows(options, conn, table, &copy_id, done)?, true),
    };
    let mut report = table_report(table, stats);
    let index_id = format!("index:{}", table.map.source);
    if !done.contains_key(&index_id) {
        report
            .warnings
            .extend(build_indexes(options, conn, table, &index_id)?);
    }
    if let Some(source) = report.stats.source_sums {
        report.early_sums = Some(match report.stats.target_sums {
            // Read back part by part as the parts committed (`parts.rs`).
            Some(target) => (Some(source), Some(target), 0.0),
            None => read_back(options, conn, table, source)?,
        });
    }
    Ok(report)
}

/// The target side of a table's verification, read back from PostgreSQL right after its load
/// committed, while other tables may still be loading; `source` is what the copy summed.
fn read_back(
    options: &Options,
    conn: &mut PgConnection,
    table: &WorkTable,
    source: (u64, u128),
) -> Result<Sums> {
    options
        .progress
        .message(&format!("verifying {}", table.map.source));
    let started = Instant::now();
    let check = table.check(&options.source, None);
    let target = match split_key(options, table) {
        Some(key) => read_back_halves(options, conn, &check, &key)?,
        None => check.checksum(conn, Side::Target)?,
    };
    Ok((Some(source), Some(target), started.elapsed().as_secs_f64()))
}

/// The rows above which a table's read-back is split in two halves by its key, read on two
/// connections at once: the largest table's read-back is the end of the run, with the other
/// core idle.
const SPLIT_READ_BACK_ROWS: u64 = 100_000;

/// The target's integer key column of `table`, quoted, when its read-back is worth splitting.
fn split_key(options: &Options, table: &WorkTable) -> Option<String> {
    if options.jobs < 2 || table.source_rows < SPLIT_READ_BACK_ROWS {
        return None;
    }
    let source = match &table.map.key {
        SourceKey::Rowid => table.rowid_column.clone()?,
        SourceKey::PrimaryKey(columns) if columns.len() == 1 => columns[0].clone(),
        SourceKey::PrimaryKey(_) => return None,
    };
    let column = table.map.columns.iter().find(|c| c.source == source)?;
    let integer = matches!(
        column.pg_type,
        PgType::BigInt | PgType::Integer | PgType::SmallInt
    );
    integer.then(|| quote_ident(&column.target).ok()).flatten()
}

/// The target side of `check` read as two halves of `key`'s range, the upper half on a
/// connection of its own; the two sums add up to the whole table's.
fn read_back_halves(
    options: &Options,
    conn: &mut PgConnection,
    check: &TableToCheck<'_>,
    key: &str,
) -> Result<(u64, u128)> {
    let qualified = check.map.qualified_target();
    let middle = query_text(
        conn,
        &format!("SELECT ((min({key}) + max({key})) / 2)::text AS value FROM {qualified}"),
    )
    .map_err(|e| options.target_error("reading a table's key range", e))?;
    let Some(middle) = middle else {
        return check.checksum(conn, Side::Target);
    };
    let (lower, upper) = std::thread::scope(|scope| {
        let upper = scope.spawn(|| -> Result<(u64, u128)> {
            let mut other = connect(&options.target)?;
            options.prepare_session(&mut other)?;
            check.target_checksum_where(&mut other, &format!("{key} > {middle}"))
        });
        let lower = check.target_checksum_where(conn, &format!("{key} <= {middle}"));
        (lower, upper.join())
    });
    let upper = match upper {
        Ok(result) => result?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let lower = lower?;
    Ok((lower.0 + upper.0, lower.1.wrapping_add(upper.1)))
}

fn table_report(table: &WorkTable, (stats, copied_now): (TableStats, bool)) -> TableReport {
    TableReport {
        table: table.map.source.clone(),
        target: format!("{}.{}", table.map.target_schema, table.map.target),
        copied_now,
        warnings: stats
            .warnings
            .iter()
            .map(|w| format!("table `{}`: {w}", table.map.target))
            .collect(),
        stats,
        early_sums: None,
    }
}

/// The table's rows in one transaction with its creation (full mode) and its record as done
/// (`copy_id`); then its statistics are recorded beside that.
fn copy_rows(
    options: &Options,
    conn: &mut PgConnection,
    table: &WorkTable,
    copy_id: &str,
    done: &Done,
) -> Result<TableStats> {
    let qualified = table.map.qualified_target();
    let exists = query_text(
        conn,
        &format!(
            "SELECT to_regclass({})::text AS value",
            quote_literal(&qualified)
        ),
    )
    .map_err(|e| options.target_error("looking up a table", e))?
    .is_some();
    let mut before = Vec::new();
    let mut after = Vec::new();
    let freeze = match options.mode {
        Mode::DataOnly => {
            for trigger in &table.quiet_triggers {
                let trigger = quote_ident(trigger).map_err(Error::Invalid)?;
                before.push(Statement::Other(format!(
                    "ALTER TABLE {qualified} DISABLE TRIGGER {trigger}"
                )));
                after.push(format!("ALTER TABLE {qualified} ENABLE TRIGGER {trigger}"));
            }
            false
        }
        _ => {
            // Only a table left by an earlier, unrecorded attempt can be here.
            if exists {
                before.push(Statement::Other(format!("DROP TABLE {qualified} CASCADE")));
            }
            before.extend(table.create.iter().cloned());
            true
        }
    };
    after.push(mark_sql(copy_id));
    let label = table.map.source.clone();
    options.progress.start(&label, table.source_rows);
    let progress = |rows: u64| options.progress.rows(&label, rows);
    let stats = if options.mode == Mode::SchemaOnly {
        conn.transaction(|conn| {
            for sql in before
                .iter()
                .map(Statement::sql)
                .chain(after.iter().map(String::as_str))
            {
                conn.batch_execute(sql)?;
            }
            Ok(TableStats::default())
        })
        .map_err(|e| options.target_error(&format!("creating table `{}`", table.map.target), e))?
    } else if let Some(key) = parts::split_key(options, table, done) {
        let stats = parts::InParts {
            options,
            table,
            done,
            key,
            before,
            checksum: (options.verify && foldable(&table.map)).then_some(row_hash as RowHash),
        }
        .copy(conn)?;
        state::mark_done(options, conn, copy_id)?;
        stats
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
            // Verification's source side summed as the rows stream, so it needs no second
            // read of the source.
            checksum: (options.verify && foldable(&table.map)).then_some(row_hash as RowHash),
            range: None,
        };
        copy_table(conn, &job)?
    };
    options.progress.finish(&label, &stats);
    crate::transfer::fault_point(&format!("copied:{}", table.map.source));
    let detail = serde_json::to_string(&stats).expect("stats serialize");
    state::record_detail(options, conn, copy_id, &detail)?;
    Ok(stats)
}

/// Keys, indexes and statistics of a loaded table, in one transaction with its record as done
/// (`index_id`). Returns a warning for each key or index left out.
fn build_indexes(
    options: &Options,
    conn: &mut PgConnection,
    table: &WorkTable,
    index_id: &str,
) -> Result<Vec<String>> {
    let what = format!("keys, indexes and statistics of `{}`", table.map.target);
    tracing::debug!(step = %index_id, "{what}");
    let mut skipped = Vec::new();
    conn.transaction(|conn| {
        for sql in &table.after_load {
            build_index(conn, sql, &mut skipped)?;
        }
        // Right after the table's own load, not after every table: a transfer that stops
        // later still leaves this table handing out ids past the copied ones.
        if let Some(identity) = &table.identity {
            conn.batch_execute(identity.sql())?;
        }
        if options.mode != Mode::SchemaOnly {
            conn.batch_execute(&format!("ANALYZE {}", table.map.qualified_target()))?;
        }
        crate::transfer::fault_point(&format!("indexing:{}", table.map.source));
        conn.batch_execute(&mark_sql(index_id))
    })
    .map_err(|e| options.target_error(&what, e))?;
    Ok(skipped
        .into_iter()
        .map(|(sql, why)| {
            format!(
                "table `{}`: a key or index was not created ({why}); every row is there; create it by hand (for text too long to index, on md5() or a prefix of the column): {sql}",
                table.map.target
            )
        })
        .collect())
}

/// Whether PostgreSQL refused to build an index for a reason that leaves the data whole: an
/// entry too long for a btree, or an expression it cannot evaluate (a function over a type it
/// does not take). Duplicate keys and a lost connection stay errors.
fn index_not_buildable(e: &diesel::result::Error) -> bool {
    !matches!(refusal(e), Refusal::NoAnswer | Refusal::Duplicate)
}

/// Runs one statement of a table's index step under a savepoint. A key or index PostgreSQL
/// cannot build ([`index_not_buildable`]) is left out and listed in `skipped`: the data is
/// unaffected, and failing the whole transfer for an index would leave a resumed transfer
/// nothing it could finish.
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
