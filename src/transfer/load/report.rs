//! [`Report`]: what a transfer did, per table and in total, with the plan's warnings and the
//! verification result. Rendered two ways: a human table (`Display`) and JSON (`Serialize`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::RedactedUrl;
use crate::transfer::load::copy::TableStats;
use crate::transfer::load::verify::TableCheck;

/// One table's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableReport {
    /// The SQLite table.
    pub table: String,
    /// The PostgreSQL table (`schema.table`).
    pub target: String,
    /// Whether this run copied it (false: a resumed run found it done).
    pub copied_now: bool,
    /// What the copy did.
    #[serde(flatten)]
    pub stats: TableStats,
    /// Findings of this table's steps (an index PostgreSQL could not build); the report lists
    /// them with the plan's warnings.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Verification's two sums for this table, taken while it loaded: the source side from the
    /// rows as they were sent, the target side read back from PostgreSQL as soon as the table
    /// and its indexes were committed (the end of the run reads only the tables without them).
    #[serde(skip)]
    pub early_sums: Option<crate::transfer::load::verify::Sums>,
}

/// The verification part of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// The verdict: every table matched and every object not carried was accepted.
    pub ok: bool,
    /// Seconds spent verifying.
    pub seconds: f64,
    /// Per table.
    pub tables: Vec<TableCheck>,
    /// What the target does not hold as the source did.
    pub not_carried: Vec<NotCarried>,
}

impl Verification {
    /// Source rows left out of the comparison because the reject files list them: the verdict
    /// says "ok" only when there are none.
    pub fn rejected_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rejected_rows).sum()
    }

    /// Adds objects that were not carried to the verdict: it stays ok only when each was
    /// accepted, so "ok" never hides a skipped table or a dropped view, trigger or CHECK.
    pub fn account(&mut self, items: impl IntoIterator<Item = NotCarried>) {
        self.not_carried.extend(items);
        self.ok = self.tables.iter().all(TableCheck::ok)
            && self.not_carried.iter().all(|item| item.accepted);
    }
}

/// An object of the source the target does not hold as it was: a table skipped, a view,
/// trigger, CHECK, index or default dropped, a constraint loosened, from the plan's review or
/// refused by the server during the transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCarried {
    /// What it is: ``table `t` ``, ``view `v` ``, ``trigger `x` ``.
    pub object: String,
    /// What became of it.
    pub reason: String,
    /// Whether the plan file's `accept` list names it.
    pub accepted: bool,
}

impl NotCarried {
    /// An object the server refused to create during the transfer, from its warning
    /// (``view `v` not created (..)``, ``table `t`: CHECK not created (..)``); accepted when
    /// `accept` names the object.
    pub fn refused(warning: &str, accept: &[String]) -> Self {
        let object_end = [" not created", ": "]
            .iter()
            .filter_map(|cut| warning.find(cut))
            .min()
            .unwrap_or(warning.len());
        let object = warning[..object_end].to_string();
        NotCarried {
            accepted: accept.contains(&object),
            reason: warning[object_end..]
                .trim_start_matches(": ")
                .trim_start()
                .to_string(),
            object,
        }
    }
}

/// Totals over all tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Rows read from SQLite.
    pub rows_read: u64,
    /// Rows written to PostgreSQL.
    pub rows_written: u64,
    /// Rows in reject files.
    pub rows_rejected: u64,
    /// Values changed by column policies.
    pub values_repaired: u64,
    /// Bytes of COPY data.
    pub bytes: u64,
}

/// What a transfer did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The SQLite source.
    pub source: String,
    /// The PostgreSQL target, without its password.
    pub target: RedactedUrl,
    /// `full`, `schema-only` or `data-only`.
    pub mode: String,
    /// Per table, in the order they finished.
    pub tables: Vec<TableReport>,
    /// Totals.
    pub totals: Totals,
    /// Seconds per phase (`prepare`, `data` (with indexes and ANALYZE), `constraints`), in order.
    pub phases: Vec<(String, f64)>,
    /// Findings that did not stop the transfer (from the plan and the copy).
    pub warnings: Vec<String>,
    /// Decisions the reader should know of (which ORM's conventions applied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The verification, unless it was skipped.
    pub verification: Option<Verification>,
    /// Where reject files are, when there are any.
    pub reject_dir: Option<String>,
    /// Wall time of the whole transfer, verification excluded.
    pub seconds: f64,
    /// Settings of the target (from the server, database or role) that dbshift overrode on its
    /// own sessions, as `name: was -> now` (a statement timeout would cut a bulk load short).
    pub session: Vec<String>,
    /// Waits for locks other sessions held: which table, which session, since when, how long.
    pub lock_waits: Vec<String>,
}

impl Report {
    /// Recomputes the totals from the tables.
    pub fn sum(&mut self) {
        let mut totals = Totals::default();
        for t in &self.tables {
            totals.rows_read += t.stats.rows_read;
            totals.rows_written += t.stats.rows_written;
            totals.rows_rejected += t.stats.rows_rejected;
            totals.values_repaired += t.stats.values_repaired;
            totals.bytes += t.stats.bytes;
        }
        self.totals = totals;
    }

    /// Whether any row was rejected or any value repaired.
    pub fn has_rejects(&self) -> bool {
        self.totals.rows_rejected > 0 || self.totals.values_repaired > 0
    }

    /// Whether verification ran and found differences.
    pub fn verification_failed(&self) -> bool {
        self.verification.as_ref().is_some_and(|v| !v.ok)
    }
}

/// The objects not carried, the accepted ones marked so.
pub fn write_not_carried(f: &mut fmt::Formatter<'_>, v: &Verification) -> fmt::Result {
    for item in &v.not_carried {
        let accepted = if item.accepted { " (accepted)" } else { "" };
        writeln!(
            f,
            "  not carried{accepted}: {}: {}",
            item.object, item.reason
        )?;
    }
    if v.not_carried.iter().any(|item| !item.accepted) {
        writeln!(
            f,
            "  an object not carried fails the verification unless the plan file's `accept` list names it"
        )?;
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "dbshift {}: {} -> {}",
            self.mode, self.source, self.target
        )?;
        let width = self
            .tables
            .iter()
            .map(|t| t.table.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, 40);
        writeln!(
            f,
            "{:<width$}  {:>10}  {:>10}  {:>8}  {:>8}  {:>10}  {:>7}",
            "table", "read", "written", "rejected", "repaired", "bytes", "seconds"
        )?;
        for t in &self.tables {
            let s = &t.stats;
            let note = if !t.copied_now {
                "  (done before resume)"
            } else if s.isolated {
                "  (rows refused by the server were isolated)"
            } else {
                ""
            };
            writeln!(
                f,
                "{:<width$}  {:>10}  {:>10}  {:>8}  {:>8}  {:>10}  {:>7.2}{note}",
                t.table,
                s.rows_read,
                s.rows_written,
                s.rows_rejected,
                s.values_repaired,
                mib(s.bytes),
                s.seconds
            )?;
        }
        let tot = &self.totals;
        writeln!(
            f,
            "{:<width$}  {:>10}  {:>10}  {:>8}  {:>8}  {:>10}  {:>7.2}",
            "total",
            tot.rows_read,
            tot.rows_written,
            tot.rows_rejected,
            tot.values_repaired,
            mib(tot.bytes),
            self.seconds
        )?;
        if !self.phases.is_empty() {
            let phases: Vec<String> = self
                .phases
                .iter()
                .map(|(name, s)| format!("{name} {s:.2}s"))
                .collect();
            writeln!(f, "phases: {}", phases.join(", "))?;
        }
        if self.seconds > 0.0 && tot.rows_written > 0 {
            writeln!(
                f,
                "throughput: {:.0} rows/s",
                tot.rows_written as f64 / self.seconds
            )?;
        }
        if let Some(dir) = &self.reject_dir {
            if self.has_rejects() {
                writeln!(f, "rejected rows and repaired values are listed in {dir}")?;
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        for setting in &self.session {
            writeln!(f, "session: overrode {setting} on dbshift's own sessions")?;
        }
        for wait in &self.lock_waits {
            writeln!(f, "lock: {wait}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        self.write_verification(f)
    }
}

impl Report {
    /// The verification lines of the text report: "ok" only when every row arrived.
    fn write_verification(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tot = &self.totals;
        match &self.verification {
            None => writeln!(f, "verification: skipped")?,
            // "ok" only when nothing was left behind: with rows rejected or values repaired,
            // the copy matches what was sent, which is not all the source held.
            Some(v) if v.ok && self.has_rejects() => {
                writeln!(
                    f,
                    "verification: the target matches what was copied, but not all the source: {} row(s) rejected, {} value(s) repaired, listed in {} ({} tables, {:.2}s)",
                    tot.rows_rejected,
                    tot.values_repaired,
                    self.reject_dir.as_deref().unwrap_or("the reject files"),
                    v.tables.len(),
                    v.seconds
                )?;
                write_not_carried(f, v)?;
            }
            Some(v) if v.ok => {
                writeln!(
                    f,
                    "verification: ok ({} tables, counts and checksums match, {:.2}s)",
                    v.tables.len(),
                    v.seconds
                )?;
                write_not_carried(f, v)?;
            }
            Some(v) => {
                writeln!(f, "verification: FAILED ({:.2}s)", v.seconds)?;
                write_not_carried(f, v)?;
                for check in v.tables.iter().filter(|c| !c.ok()) {
                    writeln!(
                        f,
                        "  {}: source {} rows, target {} rows",
                        check.table, check.source_rows, check.target_rows
                    )?;
                    for d in &check.differences {
                        writeln!(f, "    {d}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
