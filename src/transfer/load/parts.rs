//! A large table copied in parallel streams: its integer key (the rowid or its alias) is cut
//! into `jobs` ranges of equal width, and each range is copied by its own COPY on its own
//! connection, in a transaction of its own recorded as done with it (`copy:<table>:part<N>`).
//! A transfer killed at any point resumes exactly: a part is either committed and recorded, or
//! absent and copied again. The table is created first in a transaction of its own
//! (`create:<table>`), whose record also keeps the ranges, so a resumed run cuts the same ones.
//!
//! What it costs: the parts cannot use `COPY FREEZE` (the table was not created in their
//! transaction). The largest table of a typical database is most of its rows, and copied as one
//! stream it leaves the other cores idle at the end of the run.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use diesel::pg::PgConnection;

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::copy::{copy_table, RowHash, TableJob, TableStats};
use crate::transfer::load::options::{Mode, Options};
use crate::transfer::load::pages::{self, KeyRange};
use crate::transfer::load::preflight::{connect, prepare_loading};
use crate::transfer::load::rejects::RejectSink;
use crate::transfer::load::state::{self, mark_sql, Done};
use crate::transfer::load::work::WorkTable;
use crate::transfer::model::SourceKey;
use crate::transfer::plan::Statement;

/// The key a table is cut by: its rowid (or the column aliasing it), when the table is large
/// enough to be copied in parts and the transfer creates it, or when an earlier attempt of this
/// transfer began copying it in parts (a resumed run goes on with those parts, whatever its
/// own `--jobs` and `--split-rows`).
pub(crate) fn split_key(options: &Options, table: &WorkTable, done: &Done) -> Option<String> {
    let begun = done.contains_key(&format!("create:{}", table.map.source));
    let wanted = options.mode == Mode::Full
        && options.jobs >= 2
        && options.split_rows > 0
        && table.source_rows >= options.split_rows;
    if !begun && !wanted {
        return None;
    }
    match &table.map.key {
        SourceKey::Rowid => pages::rowid_alias(&table.source_columns).map(str::to_string),
        SourceKey::PrimaryKey(columns) => match columns.as_slice() {
            [only] if table.rowid_column.as_deref() == Some(only.as_str()) => {
                quote_ident(only).ok()
            }
            _ => None,
        },
    }
}

/// What the table's creation step records: the ranges it cut, and the creation's own
/// statistics (a CHECK PostgreSQL refused is a warning there).
#[derive(serde::Serialize, serde::Deserialize)]
struct Created {
    ranges: Vec<KeyRange>,
    stats: TableStats,
}

/// One table's parts, and how to copy each.
pub(crate) struct InParts<'a> {
    pub options: &'a Options,
    pub table: &'a WorkTable,
    pub done: &'a Done,
    /// The key to cut by ([`split_key`]).
    pub key: String,
    /// Statements that create the table.
    pub before: Vec<Statement>,
    pub checksum: Option<RowHash>,
}

impl InParts<'_> {
    /// Creates the table (unless recorded), copies every part not yet recorded on `jobs`
    /// connections, and returns the whole table's statistics.
    pub(crate) fn copy(&self, conn: &mut PgConnection) -> Result<TableStats> {
        let started = Instant::now();
        let created = self.create(conn)?;
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let read: Vec<AtomicU64> = created.ranges.iter().map(|_| AtomicU64::new(0)).collect();
        let results: Mutex<Vec<(usize, Result<TableStats>)>> = Mutex::new(Vec::new());
        let streams = self.options.jobs.clamp(1, created.ranges.len());
        let work = |conn: &mut PgConnection| loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= created.ranges.len() || stop.load(Ordering::SeqCst) {
                return;
            }
            let result = self.copy_part(conn, created.ranges[i], &read, i);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            results.lock().expect("lock").push((i, result));
        };
        std::thread::scope(|scope| {
            for _ in 1..streams {
                scope.spawn(|| match self.connection() {
                    Ok(mut other) => work(&mut other),
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        results.lock().expect("lock").push((usize::MAX, Err(e)));
                    }
                });
            }
            work(conn);
        });
        let mut results = results.into_inner().expect("lock");
        results.sort_by_key(|(i, _)| *i);
        let mut parts = Vec::with_capacity(results.len());
        for (_, result) in results {
            parts.push(result?);
        }
        let sink = RejectSink::new(Some(&self.options.reject_dir), &self.table.map.source);
        let reject_file = sink.merge_parts(created.ranges.len())?;
        let mut stats = whole(created.stats, parts, reject_file, started);
        if let Some((rows, _)) = stats.target_sums {
            // A row that arrived in a part already read back (written by something else than
            // the copy) would escape the parts' sums: the whole table's count must agree, or
            // the table is read back whole.
            if self.target_rows(conn)? != rows {
                stats.target_sums = None;
            }
        }
        Ok(stats)
    }

    fn target_rows(&self, conn: &mut PgConnection) -> Result<u64> {
        let qualified = self.table.map.qualified_target();
        let count = crate::transfer::pg::query_text(
            conn,
            &format!("SELECT count(*)::text AS value FROM {qualified}"),
        )
        .map_err(|e| self.options.target_error("counting a table's rows", e))?;
        Ok(count.and_then(|c| c.parse().ok()).unwrap_or(u64::MAX))
    }

    fn connection(&self) -> Result<PgConnection> {
        let mut conn = connect(&self.options.target)?;
        // Set up as the scheduler's connections are: the parts load rows too.
        prepare_loading(self.options, &mut conn)?;
        Ok(conn)
    }

    /// The table created in a transaction of its own, with the ranges recorded; or the
    /// record of an earlier attempt.
    fn create(&self, conn: &mut PgConnection) -> Result<Created> {
        let id = format!("create:{}", self.table.map.source);
        if let Some(recorded) = self.done.get(&id) {
            return recorded
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "the recorded parts of table `{}` cannot be read; start the transfer again without --resume",
                        self.table.map.source
                    ))
                });
        }
        let ranges = self.cut()?;
        // No row is above the largest key: the COPY creates the table (and its CHECKs, one
        // PostgreSQL refuses becoming a warning) and copies nothing.
        let after = [mark_sql(&id)];
        let job = self.job(
            &self.before,
            &after,
            KeyRange {
                part: 0,
                after: Some(i64::MAX),
                through: None,
            },
            &|_| {},
        );
        let stats = copy_table(conn, &job)?;
        let created = Created { ranges, stats };
        let detail = serde_json::to_string(&created).expect("parts serialize");
        state::record_detail(self.options, conn, &id, &detail)?;
        crate::transfer::fault_point(&format!("parts-created:{}", self.table.map.source));
        Ok(created)
    }

    /// `jobs` ranges of equal width over the source's smallest to largest key.
    fn cut(&self) -> Result<Vec<KeyRange>> {
        use diesel::{QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Bounds {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
            low: Option<i64>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
            high: Option<i64>,
        }
        let source = &self.options.source;
        let mut db = pages::open(source)?;
        let table = quote_ident(&self.table.map.source).map_err(Error::Invalid)?;
        let bounds: Vec<Bounds> = diesel::sql_query(format!(
            "SELECT min({key}) AS low, max({key}) AS high FROM {table}",
            key = self.key
        ))
        .load(&mut db)
        .map_err(|e| pages::source_error(source, Some(&self.table.map.source), e))?;
        let (low, high) = match bounds.first() {
            Some(Bounds {
                low: Some(low),
                high: Some(high),
            }) => (*low, *high),
            _ => (0, 0),
        };
        Ok(ranges(low, high, self.options.jobs))
    }

    /// Copies one part not yet recorded, in a transaction of its own recorded with it.
    fn copy_part(
        &self,
        conn: &mut PgConnection,
        range: KeyRange,
        read: &[AtomicU64],
        i: usize,
    ) -> Result<TableStats> {
        let id = format!("copy:{}:part{}", self.table.map.source, range.part);
        if let Some(recorded) = self.done.get(&id) {
            return Ok(recorded
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default());
        }
        let label = &self.table.map.source;
        let progress = |rows: u64| {
            read[i].store(rows, Ordering::Relaxed);
            let total = read.iter().map(|r| r.load(Ordering::Relaxed)).sum();
            self.options.progress.rows(label, total);
        };
        let after = [mark_sql(&id)];
        let mut stats = copy_table(conn, &self.job(&[], &after, range, &progress))?;
        crate::transfer::fault_point(&format!("copied:{}:part{}", label, range.part));
        let detail = serde_json::to_string(&stats).expect("stats serialize");
        state::record_detail(self.options, conn, &id, &detail)?;
        if stats.source_sums.is_some() {
            stats.target_sums = self.read_back(conn, range)?;
        }
        Ok(stats)
    }

    /// Verification's target side of one committed part, read back on its own connection while
    /// other parts still load; `None` when the target has no column holding the key.
    fn read_back(&self, conn: &mut PgConnection, range: KeyRange) -> Result<Option<(u64, u128)>> {
        let rowid = self.table.rowid_column.as_deref();
        let Some(column) = self
            .table
            .map
            .columns
            .iter()
            .find(|c| Some(c.source.as_str()) == rowid)
        else {
            return Ok(None);
        };
        let key = quote_ident(&column.target).map_err(Error::Invalid)?;
        let mut filter = range.bounds(&key, true);
        if filter.is_empty() {
            filter.push("true".into());
        }
        self.table
            .check(&self.options.source, None)
            .target_checksum_where(conn, &filter.join(" AND "))
            .map(Some)
    }

    fn job<'j>(
        &'j self,
        before: &'j [Statement],
        after: &'j [String],
        range: KeyRange,
        progress: &'j (dyn Fn(u64) + Sync),
    ) -> TableJob<'j> {
        TableJob {
            source_path: &self.options.source,
            map: &self.table.map,
            source_columns: &self.table.source_columns,
            before,
            after,
            freeze: false,
            reject_dir: Some(&self.options.reject_dir),
            progress,
            checksum: self.checksum,
            range: Some(range),
        }
    }
}

/// `parts` ranges of equal width covering `low..=high`, the last open above.
fn ranges(low: i64, high: i64, parts: usize) -> Vec<KeyRange> {
    let parts = parts.max(1);
    let width = (i128::from(high) - i128::from(low) + 1).max(1) / parts as i128;
    let mut out = Vec::with_capacity(parts);
    let mut after: Option<i64> = None;
    for part in 1..=parts {
        let through = (part < parts && width > 0)
            .then(|| i64::try_from(i128::from(low) - 1 + width * part as i128).unwrap_or(i64::MAX));
        out.push(KeyRange {
            part,
            after,
            through,
        });
        match through {
            Some(t) => after = Some(t),
            None => break,
        }
    }
    out
}

/// The whole table's statistics from its creation's and its parts'.
fn whole(
    created: TableStats,
    parts: Vec<TableStats>,
    reject_file: Option<std::path::PathBuf>,
    started: Instant,
) -> TableStats {
    let add = |side: fn(&TableStats) -> Option<(u64, u128)>| {
        parts
            .iter()
            .map(side)
            .try_fold((0u64, 0u128), |(n, sum), part| {
                part.map(|(pn, psum)| (n + pn, sum.wrapping_add(psum)))
            })
    };
    let (source_sums, target_sums) = (add(|p| p.source_sums), add(|p| p.target_sums));
    TableStats {
        rows_read: parts.iter().map(|p| p.rows_read).sum(),
        rows_written: parts.iter().map(|p| p.rows_written).sum(),
        rows_rejected: parts.iter().map(|p| p.rows_rejected).sum(),
        values_repaired: parts.iter().map(|p| p.values_repaired).sum(),
        bytes: parts.iter().map(|p| p.bytes).sum(),
        seconds: started.elapsed().as_secs_f64(),
        reject_file,
        isolated: parts.iter().any(|p| p.isolated),
        warnings: created
            .warnings
            .into_iter()
            .chain(parts.into_iter().flat_map(|p| p.warnings))
            .collect(),
        source_sums,
        target_sums: source_sums.and(target_sums),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_key_once() {
        for (low, high, parts) in [(1, 800, 2), (1, 10, 3), (5, 5, 2), (-10, 10, 4), (1, 2, 4)] {
            let ranges = ranges(low, high, parts);
            assert_eq!(ranges[0].after, None);
            assert_eq!(ranges.last().unwrap().through, None);
            for key in low - 2..=high + 2 {
                let holding = ranges
                    .iter()
                    .filter(|r| {
                        r.after.is_none_or(|a| key > a) && r.through.is_none_or(|t| key <= t)
                    })
                    .count();
                assert_eq!(holding, 1, "{key} in {ranges:?}");
            }
        }
        assert_eq!(ranges(1, 800, 2)[0].through, Some(400));
        let extreme = ranges(i64::MIN, i64::MAX, 2);
        assert_eq!(extreme.len(), 2);
    }
}
