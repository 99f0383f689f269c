//! The row copier: SQLite pages in, PostgreSQL `COPY` out, one transaction per table.
//!
//! A reader thread pages through the source ([`crate::transfer::load::pages::TableReader`]) while this thread
//! converts and encodes rows and streams them into `COPY ... FROM STDIN` through Diesel, binary
//! format where every column has a binary encoder, text format otherwise. A bounded channel
//! between the two keeps memory flat whatever the table's size.
//!
//! Values the converter refuses go to the reject file. A value that passes the converter but
//! that the server refuses (a CHECK, a foreign key or a type of a `--data-only` target) fails
//! the whole COPY; the table is then copied again in isolation mode: chunks of rows under
//! savepoints, halved on failure down to the single rows the server refuses, which are rejected
//! with the server's message. Nothing is skipped without a record.

use std::cell::{Cell as StdCell, RefCell};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::{CopyFormat, CopyTarget, Pg, PgConnection};
use diesel::query_builder::AstPass;
use diesel::result::Error as DieselError;
use diesel::{Connection, QueryResult};

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::encode::{
    binary_field, binary_row_start, text_field, BINARY_HEADER, BINARY_TRAILER,
};
use crate::transfer::load::orphans::Parents;
use crate::transfer::load::pages::{KeyRange, Page, RowRef, TableReader};
use crate::transfer::load::rejects::{object, value_json, Reject, RejectSink};
use crate::transfer::load::values::{convert, Cell, Outcome};
use crate::transfer::model::{PgType, TableMap};
use crate::transfer::pg::{answered, kept, refusal, server_error, under_savepoint, Refusal};
pub use crate::transfer::pg::{is_data_error, server_message};
use crate::transfer::plan::Statement;

/// Bytes buffered before one write to the server (one `PQputCopyData`).
const CHUNK_BYTES: usize = 1 << 20;
/// Rows per savepoint in isolation mode.
const ISOLATION_CHUNK_ROWS: usize = 1000;
/// Bytes of rows refused for a missing parent kept to be tried again at the table's end; past
/// this, the rows kept so far are tried again at once, so memory stays flat.
const ORPHAN_BYTES: usize = 16 << 20;

thread_local! {
    /// The target of the next COPY on this thread: Diesel's `CopyTarget` names its target by
    /// type, so a table known only at run time is passed beside it.
    static COPY_TARGET: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A `CopyTarget` whose SQL is whatever [`copy_in`] or [`copy_out`] last put in a thread-local
/// for this thread: a quoted table with its column list for `COPY ... FROM`, or a
/// parenthesised query for `COPY (...) TO`.
///
/// This implements `CopyTarget::walk_target`, a `#[doc(hidden)]` method; diesel is pinned to
/// 2.3.x for that reason, and the tests cover both directions.
pub struct DynCopyTarget;

impl CopyTarget for DynCopyTarget {
    type Table = diesel_dynamic_schema::Table<String>;
    type SqlType = diesel::sql_types::Integer;

    fn walk_target(mut pass: AstPass<'_, '_, Pg>) -> QueryResult<()> {
        COPY_TARGET.with(|target| pass.push_sql(&target.borrow()));
        Ok(())
    }
}

/// Why a COPY stream ended early.
#[derive(Debug)]
pub enum CopyError {
    /// The server refused the data or the statement.
    Server(DieselError),
    /// The producer stopped (its error is kept by the caller).
    Producer,
}

impl std::fmt::Display for CopyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CopyError::Server(e) => write!(f, "{e}"),
            CopyError::Producer => f.write_str("the row producer stopped"),
        }
    }
}

impl std::error::Error for CopyError {}

impl From<DieselError> for CopyError {
    fn from(e: DieselError) -> Self {
        CopyError::Server(e)
    }
}

/// Runs `COPY <target> FROM STDIN` with the data `produce` writes.
pub fn copy_in(
    conn: &mut PgConnection,
    target: &str,
    binary: bool,
    freeze: bool,
    produce: impl Fn(&mut dyn Write) -> std::result::Result<(), CopyError>,
) -> std::result::Result<usize, CopyError> {
    use diesel::prelude::ExecuteCopyFromDsl;
    COPY_TARGET.with(|t| *t.borrow_mut() = target.to_string());
    let query = diesel::copy_from(diesel_dynamic_schema::table(String::new()))
        .from_raw_data(DynCopyTarget, produce)
        .with_format(if binary {
            CopyFormat::Binary
        } else {
            CopyFormat::Text
        });
    let query = if freeze {
        query.with_freeze(true)
    } else {
        query
    };
    query.execute(conn)
}

/// Runs `COPY (<query>) TO STDOUT (FORMAT binary)` and hands the stream to `consume`.
pub fn copy_out<T>(
    conn: &mut PgConnection,
    query: &str,
    consume: impl FnOnce(&mut dyn std::io::BufRead) -> T,
) -> QueryResult<T> {
    COPY_TARGET.with(|t| *t.borrow_mut() = format!("({query})"));
    let output = {
        let mut stream = diesel::copy_to(DynCopyTarget)
            .with_format(CopyFormat::Binary)
            .load_raw(conn)?;
        consume(&mut stream)
    };
    // Diesel's raw COPY TO reader does not fetch the command's final result after the stream
    // ends, which leaves the connection busy for prepared statements ("another command is
    // already in progress"). `batch_execute` goes through PQexec, which discards it.
    conn.batch_execute("SELECT 1")?;
    Ok(output)
}

/// What one table's copy needs.
pub struct TableJob<'a> {
    /// The SQLite file.
    pub source_path: &'a Path,
    /// Which columns go where, and as what.
    pub map: &'a TableMap,
    /// Every column name of the source table (to find a usable rowid alias).
    pub source_columns: &'a [String],
    /// Statements run in the table's transaction before the COPY (CREATE TABLE and its CHECKs,
    /// TRUNCATE). A CHECK PostgreSQL refuses to create is left out and reported.
    pub before: &'a [Statement],
    /// Statements run in the table's transaction after the COPY (bookkeeping).
    pub after: &'a [String],
    /// Use `COPY ... (FREEZE)`: only when `before` creates or truncates the table.
    pub freeze: bool,
    /// Where reject files go (`None`: count only).
    pub reject_dir: Option<&'a Path>,
    /// Called after each page with the rows read so far.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Sum the rows sent with this hash (verification's, so that it need not read the source
    /// again; see [`TableStats::source_sums`]).
    pub checksum: Option<RowHash>,
    /// Copy only this part of the table's key (a table copied in parallel streams); its
    /// rejects go to a file of the part's own.
    pub range: Option<KeyRange>,
}

impl TableJob<'_> {
    /// A reader over the job's table, or its part.
    fn reader(&self) -> Result<TableReader> {
        let mut reader = TableReader::new(self.source_path, self.map, self.source_columns)?;
        if let Some(range) = self.range {
            reader.within(range)?;
        }
        Ok(reader)
    }
}

/// The hash of one converted row, given a scratch buffer to reuse.
pub type RowHash = fn(&[Cell<'_>], &mut Vec<u8>) -> u128;

/// What copying one table did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableStats {
    /// Rows read from SQLite.
    pub rows_read: u64,
    /// Rows written to PostgreSQL.
    pub rows_written: u64,
    /// Rows sent to the reject file instead.
    pub rows_rejected: u64,
    /// Values changed by a column policy (each also recorded in the reject file).
    pub values_repaired: u64,
    /// Bytes of COPY data sent.
    pub bytes: u64,
    /// Wall time of the table's copy.
    pub seconds: f64,
    /// The reject file, when there were rejects or repairs.
    pub reject_file: Option<PathBuf>,
    /// Whether the table had to be copied in isolation mode after the server refused data.
    pub isolated: bool,
    /// What could not be created with the table (a CHECK PostgreSQL refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Rows sent and the sum of their hashes as verification's source side computes them,
    /// when [`TableJob::checksum`] asked for it and every row went through the streaming
    /// COPY (not after the server refused some: those rows are absent from the target).
    #[serde(skip)]
    pub source_sums: Option<(u64, u128)>,
    /// The same sums read back from PostgreSQL when the copy already did (a table copied in
    /// parts reads each part back right after it commits).
    #[serde(skip)]
    pub target_sums: Option<(u64, u128)>,
}

/// Counters shared by the attempt's closures.
#[derive(Default)]
struct Counters {
    read: StdCell<u64>,
    written: StdCell<u64>,
    repaired: StdCell<u64>,
    bytes: StdCell<u64>,
    /// CHECKs PostgreSQL refused to create.
    warnings: RefCell<Vec<String>>,
    /// The wrapping sum of the hashes of the rows written ([`TableJob::checksum`]).
    sum: StdCell<u128>,
}

impl Counters {
    fn add(cell: &StdCell<u64>, n: u64) {
        cell.set(cell.get() + n);
    }
}

enum Attempt {
    Server(DieselError),
    Other(Error),
}

impl From<DieselError> for Attempt {
    fn from(e: DieselError) -> Self {
        Attempt::Server(e)
    }
}

/// Copies one table in one transaction. On a data error from the server the table is copied
/// again in isolation mode; any other failure rolls the table back and is returned.
pub fn copy_table(conn: &mut PgConnection, job: &TableJob<'_>) -> Result<TableStats> {
    let started = Instant::now();
    let mut sink = RejectSink::new(job.reject_dir, &job.map.source);
    if let Some(range) = job.range {
        sink = sink.part(range.part);
    }
    let target = copy_target(job.map)?;
    let fast = attempt(conn, job, &target, &mut sink, false);
    let (counters, isolated) = match fast {
        Ok(counters) => (counters, false),
        Err(Attempt::Server(e)) if is_data_error(&e) => {
            tracing::info!(table = %job.map.source, error = %server_message(&e), "the server refused some rows; copying again row by row where needed");
            sink.reset()?;
            match attempt(conn, job, &target, &mut sink, true) {
                Ok(counters) => (counters, true),
                Err(Attempt::Server(e)) => return Err(target_error(job, e)),
                Err(Attempt::Other(e)) => return Err(e),
            }
        }
        Err(Attempt::Server(e)) => {
            let _ = sink.reset();
            return Err(target_error(job, e));
        }
        Err(Attempt::Other(e)) => {
            let _ = sink.reset();
            return Err(e);
        }
    };
    let reject_file = sink.commit()?;
    Ok(TableStats {
        rows_read: counters.read.get(),
        rows_written: counters.written.get(),
        rows_rejected: sink.count() - counters.repaired.get(),
        values_repaired: counters.repaired.get(),
        bytes: counters.bytes.get(),
        seconds: started.elapsed().as_secs_f64(),
        reject_file,
        isolated,
        warnings: counters.warnings.take(),
        source_sums: (job.checksum.is_some() && !isolated)
            .then(|| (counters.written.get(), counters.sum.get())),
        target_sums: None,
    })
}

fn target_error(job: &TableJob<'_>, e: DieselError) -> Error {
    server_error(format!("copying table `{}`", job.map.source), e)
}

fn copy_target(map: &TableMap) -> Result<String> {
    let columns: Vec<String> = map
        .columns
        .iter()
        .map(|c| quote_ident(&c.target))
        .collect::<std::result::Result<_, _>>()
        .map_err(Error::Invalid)?;
    Ok(format!(
        "{} ({})",
        map.qualified_target(),
        columns.join(", ")
    ))
}

/// Converts one row; `Ok(None)` when it was rejected (and recorded).
fn convert_row<'r>(
    row: RowRef<'r>,
    job: &TableJob<'_>,
    sink: &mut RejectSink,
    counters: &Counters,
    cells: &mut Vec<Cell<'r>>,
) -> Result<bool> {
    cells.clear();
    let mut repairs = Vec::new();
    for (value, column) in row.values().zip(&job.map.columns) {
        match convert(value, column) {
            Outcome::Exact(cell) => cells.push(cell),
            Outcome::Repaired(cell, reason) => {
                cells.push(cell);
                repairs.push((column, value, reason));
            }
            Outcome::Reject(reason) => {
                sink.push(&record(
                    job,
                    row,
                    &column.source,
                    value_json(value),
                    reason,
                    "rejected",
                ))?;
                return Ok(false);
            }
        }
    }
    for (column, value, reason) in repairs {
        Counters::add(&counters.repaired, 1);
        sink.push(&record(
            job,
            row,
            &column.source,
            value_json(value),
            reason,
            "repaired",
        ))?;
    }
    Ok(true)
}

fn record(
    job: &TableJob<'_>,
    row: RowRef<'_>,
    column: &str,
    value: serde_json::Value,
    reason: String,
    action: &str,
) -> Reject {
    let map = job.map;
    let key_names = crate::transfer::load::pages::key_names(map, job.source_columns);
    let names: Vec<String> = map.columns.iter().map(|c| c.source.clone()).collect();
    Reject {
        table: map.source.clone(),
        action: action.to_string(),
        key: object(&key_names, row.key()),
        column: column.to_string(),
        reason,
        value,
        row: object(&names, row.values()),
        run: None,
    }
}

/// Writes `buf` to the COPY stream in pieces of at most [`CHUNK_BYTES`] and empties it. COPY
/// data need not follow row boundaries, and libpq copies each piece into an output buffer it
/// keeps for the connection's life: one 50 MB write would leave a 64 MB buffer there. A buffer
/// that grew past a few chunks for a huge row is given back too.
fn send(out: &mut dyn Write, buf: &mut Vec<u8>) -> std::result::Result<(), CopyError> {
    for piece in buf.chunks(CHUNK_BYTES) {
        out.write_all(piece)
            .map_err(|e| CopyError::Server(DieselError::SerializationError(Box::new(e))))?;
    }
    buf.clear();
    if buf.capacity() > 4 * CHUNK_BYTES {
        *buf = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
    }
    Ok(())
}

fn encode_row(buf: &mut Vec<u8>, cells: &[Cell<'_>], binary: bool) {
    if binary {
        binary_row_start(buf, cells.len());
        for cell in cells {
            binary_field(buf, cell);
        }
    } else {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            text_field(buf, cell);
        }
        buf.push(b'\n');
    }
}

fn attempt(
    conn: &mut PgConnection,
    job: &TableJob<'_>,
    target: &str,
    sink: &mut RejectSink,
    isolate: bool,
) -> std::result::Result<Counters, Attempt> {
    conn.transaction::<Counters, Attempt, _>(|conn| {
        // A deferrable key (Django makes every foreign key `DEFERRABLE INITIALLY DEFERRED`)
        // would be checked at COMMIT, where a refused row fails the whole table with no row to
        // isolate. Checked at the end of each statement, it takes the reject path instead.
        conn.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")?;
        let mut refused = Vec::new();
        for statement in job.before {
            match statement {
                Statement::AddCheck(sql) => add_check(conn, sql, &mut refused)?,
                other => conn.batch_execute(other.sql())?,
            }
        }
        crate::transfer::fault_point(&format!("created:{}", job.map.source));
        let counters = if isolate {
            copy_isolating(conn, job, target, sink)?
        } else {
            copy_streaming(conn, job, target, sink)?
        };
        sink.flush().map_err(Attempt::Other)?;
        for sql in job.after {
            conn.batch_execute(sql)?;
        }
        *counters.warnings.borrow_mut() = refused;
        Ok(counters)
    })
}

/// Adds one translated CHECK under a savepoint. PostgreSQL may refuse a CHECK the translator
/// let through (a function over a type it does not take, such as `length` of an integer); that
/// CHECK alone is left out and named in the report, instead of failing the table for good. The
/// table is still empty then: whatever the server says is about the CHECK itself, unless the
/// connection is gone.
fn add_check(
    conn: &mut PgConnection,
    sql: &str,
    refused: &mut Vec<String>,
) -> std::result::Result<(), Attempt> {
    if let Some(e) = under_savepoint(conn, sql, answered)? {
        refused.push(format!(
            "CHECK not created ({}); not enforced in PostgreSQL until written by hand: {sql}",
            server_message(&e)
        ));
    }
    Ok(())
}

/// The fast path: a reader thread feeds one COPY statement through a bounded channel.
fn copy_streaming(
    conn: &mut PgConnection,
    job: &TableJob<'_>,
    target: &str,
    sink: &mut RejectSink,
) -> std::result::Result<Counters, Attempt> {
    let binary = job.map.binary_copy();
    let counters = Counters::default();
    let failure: RefCell<Option<Error>> = RefCell::new(None);
    let sink = RefCell::new(sink);
    let result = std::thread::scope(|scope| {
        // A rendezvous: the reader reads one page ahead and hands it over when this thread is
        // ready, so at most two pages hold rows (and a third, done with, waits in the recycle
        // slot to be refilled). A page is cut at 2 MiB, but a single huge
        // row makes a page of its own; a queue slot would hold a third one (measured: eight
        // 50 MB blobs peaked at 281 MiB with one slot, 231 MiB without; same speed on the
        // benchmark).
        let (sender, receiver) = sync_channel::<Result<Page>>(0);
        // Pages come back to the reader to be filled again, keeping their memory.
        let (recycle, recycled) = sync_channel::<Page>(1);
        scope.spawn(move || read_pages(job, &sender, &recycled));
        let produce = |out: &mut dyn Write| -> std::result::Result<(), CopyError> {
            let fail = |e: Error| {
                *failure.borrow_mut() = Some(e);
                CopyError::Producer
            };
            let mut buf = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
            if binary {
                buf.extend_from_slice(BINARY_HEADER);
            }
            let mut sink = sink.borrow_mut();
            let mut scratch = Vec::new();
            for page in receiver.iter() {
                let page = page.map_err(fail)?;
                let mut cells = Vec::with_capacity(job.map.columns.len());
                for row in page.rows() {
                    Counters::add(&counters.read, 1);
                    if convert_row(row, job, &mut sink, &counters, &mut cells).map_err(fail)? {
                        encode_row(&mut buf, &cells, binary);
                        Counters::add(&counters.written, 1);
                        if let Some(row_hash) = job.checksum {
                            let hash = row_hash(&cells, &mut scratch);
                            counters.sum.set(counters.sum.get().wrapping_add(hash));
                        }
                    }
                    if buf.len() >= CHUNK_BYTES {
                        Counters::add(&counters.bytes, buf.len() as u64);
                        send(out, &mut buf)?;
                    }
                }
                drop(cells);
                let mut page = page;
                page.shrink();
                let _ = recycle.try_send(page);
                (job.progress)(counters.read.get());
                crate::transfer::fault_point(&format!("copying:{}", job.map.source));
            }
            if binary {
                buf.extend_from_slice(BINARY_TRAILER);
            }
            Counters::add(&counters.bytes, buf.len() as u64);
            send(out, &mut buf)
        };
        let result = copy_in(conn, target, binary, job.freeze, produce);
        // Dropping the receiver (with the closure) stops the reader if the COPY ended early.
        result
    });
    // When the producer fails, Diesel ends the COPY with its message and the server answers
    // "COPY from stdin failed: the row producer stopped": the producer's own error is the reason.
    if let (Err(_), Some(e)) = (&result, failure.borrow_mut().take()) {
        return Err(Attempt::Other(e));
    }
    match result {
        Ok(_) => Ok(counters),
        Err(CopyError::Producer) => {
            Err(Attempt::Other(failure.into_inner().unwrap_or_else(|| {
                Error::Invalid(format!(
                    "copying table `{}` stopped without a reason",
                    job.map.source
                ))
            })))
        }
        Err(CopyError::Server(e)) => Err(Attempt::Server(e)),
    }
}

/// The reader thread of [`copy_streaming`]: sends the table's pages in key order, each filled
/// in a page handed back through `recycled` when there is one, until the table ends, a read
/// fails, or the receiver is gone (the COPY ended early).
fn read_pages(job: &TableJob<'_>, sender: &SyncSender<Result<Page>>, recycled: &Receiver<Page>) {
    let mut reader = match job.reader() {
        Ok(reader) => reader,
        Err(e) => {
            let _ = sender.send(Err(e));
            return;
        }
    };
    loop {
        let mut page = recycled.try_recv().unwrap_or_default();
        let sent = match reader.next_page(&mut page) {
            Ok(true) => sender.send(Ok(page)),
            Ok(false) => break,
            Err(e) => sender.send(Err(e)),
        };
        if sent.is_err() {
            break;
        }
    }
}

/// The slow path after the server refused data: chunks under savepoints, halved on failure.
/// A row refused for a missing parent waits until the table's other rows are in (its parent
/// may come later in the same table), then is tried again; see [`retry_orphans`].
fn copy_isolating(
    conn: &mut PgConnection,
    job: &TableJob<'_>,
    target: &str,
    sink: &mut RejectSink,
) -> std::result::Result<Counters, Attempt> {
    let binary = job.map.binary_copy();
    let counters = Counters::default();
    let mut reader = job.reader().map_err(Attempt::Other)?;
    let mut page = Page::default();
    let mut orphans: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut orphan_rejects: Vec<Reject> = Vec::new();
    while reader.next_page(&mut page).map_err(Attempt::Other)? {
        let mut encoded: Vec<(usize, Vec<u8>)> = Vec::with_capacity(page.len());
        let mut cells = Vec::with_capacity(job.map.columns.len());
        for (index, row) in page.rows().enumerate() {
            Counters::add(&counters.read, 1);
            if convert_row(row, job, sink, &counters, &mut cells).map_err(Attempt::Other)? {
                let mut buf = Vec::new();
                encode_row(&mut buf, &cells, binary);
                encoded.push((index, buf));
            }
        }
        for chunk in encoded.chunks(ISOLATION_CHUNK_ROWS) {
            let mut on_refused = |index: usize, e: &DieselError| -> Result<()> {
                let row = page.row(index);
                let (column, value) = match refused_column(job.map, e) {
                    Some(i) => (job.map.columns[i].source.as_str(), value_json(row.value(i))),
                    None => ("?", serde_json::Value::Null),
                };
                let reject = record(
                    job,
                    row,
                    column,
                    value,
                    format!("refused by PostgreSQL: {}", server_message(e)),
                    "rejected",
                );
                if refusal(e) != Refusal::MissingParent {
                    return sink.push(&reject);
                }
                let bytes = encoded
                    .binary_search_by_key(&index, |(i, _)| *i)
                    .map(|at| encoded[at].1.clone())
                    .unwrap_or_default();
                orphans.push((orphan_rejects.len(), bytes));
                orphan_rejects.push(reject);
                Ok(())
            };
            let written = insert_chunk(conn, target, binary, chunk, &mut on_refused, &counters)?;
            Counters::add(&counters.written, written);
        }
        (job.progress)(counters.read.get());
        if orphans.iter().map(|(_, b)| b.len()).sum::<usize>() > ORPHAN_BYTES {
            let kept = (
                std::mem::take(&mut orphans),
                std::mem::take(&mut orphan_rejects),
            );
            retry_orphans(conn, job, (target, binary), kept, sink, &counters)?;
        }
    }
    retry_orphans(
        conn,
        job,
        (target, binary),
        (orphans, orphan_rejects),
        sink,
        &counters,
    )?;
    Ok(counters)
}

/// Rows refused for a missing parent, tried again once every other row of the table is in,
/// as long as a pass lets some in (a row's parent may be a row refused for the same reason
/// further on). The rest are rejected; when the parent itself was rejected, the reason names
/// that reject.
fn retry_orphans(
    conn: &mut PgConnection,
    job: &TableJob<'_>,
    (target, binary): (&str, bool),
    (mut orphans, mut rejects): (Vec<(usize, Vec<u8>)>, Vec<Reject>),
    sink: &mut RejectSink,
    counters: &Counters,
) -> std::result::Result<(), Attempt> {
    let mut last_error: Vec<Option<DieselError>> = Vec::new();
    last_error.resize_with(rejects.len(), || None);
    while !orphans.is_empty() {
        let mut refused = std::collections::HashSet::new();
        let mut on_refused = |index: usize, e: &DieselError| -> Result<()> {
            refused.insert(index);
            rejects[index].reason = format!("refused by PostgreSQL: {}", server_message(e));
            last_error[index] = Some(kept(e));
            Ok(())
        };
        let written = insert_chunk(conn, target, binary, &orphans, &mut on_refused, counters)?;
        Counters::add(&counters.written, written);
        if written == 0 {
            break;
        }
        orphans.retain(|(index, _)| refused.contains(index));
    }
    sink.flush().map_err(Attempt::Other)?;
    let mut parents = Parents::default();
    let table = job.map.qualified_target();
    for (index, _) in orphans {
        let mut reject = rejects[index].clone();
        if let Some(Some(e)) = last_error.get(index) {
            if let Some(parent) = parents
                .rejected(conn, (job.map, &table), sink, &reject, e)
                .map_err(Attempt::Other)?
            {
                reject.reason.push_str(&parent);
            }
        }
        sink.push(&reject).map_err(Attempt::Other)?;
    }
    Ok(())
}

/// The column a refused row was refused for, when the server's error says: the column it
/// names (NOT NULL and some CHECK errors), or the only column of the type whose input failed
/// ("invalid input syntax for type json"). `None` when it cannot be told (a CHECK over several
/// columns, or two columns of that type); the reject then carries the whole row.
fn refused_column(map: &TableMap, e: &DieselError) -> Option<usize> {
    let DieselError::DatabaseError(_, info) = e else {
        return None;
    };
    if let Some(name) = info.column_name() {
        return map.columns.iter().position(|c| c.target == name);
    }
    // "invalid input syntax for type timestamp with time zone: ...", "value ... is out of
    // range for type integer", "invalid input value for enum mood: ...".
    let message = info.message();
    let named = [" for type ", " for enum "]
        .iter()
        .find_map(|marker| message.split_once(marker))?
        .1;
    let named = named.split(':').next()?.trim().trim_matches('"');
    let mut of_type = map.columns.iter().enumerate().filter(|(_, c)| {
        input_type_names(&c.pg_type)
            .iter()
            .any(|n| n.eq_ignore_ascii_case(named))
    });
    match (of_type.next(), of_type.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The names PostgreSQL's input errors give a type by (`format_type`, and `json` for `jsonb`,
/// whose input is the JSON parser's).
fn input_type_names(pg_type: &PgType) -> Vec<String> {
    let long = match pg_type {
        PgType::Timestamptz => "timestamp with time zone",
        PgType::Timestamp => "timestamp without time zone",
        PgType::Time => "time without time zone",
        PgType::Jsonb => "json",
        PgType::Varchar(_) => "character varying",
        PgType::Char(_) => "character",
        PgType::Numeric(_) => "numeric",
        _ => "",
    };
    let mut names = vec![pg_type.sql()];
    if !long.is_empty() {
        names.push(long.to_string());
    }
    if let PgType::Enum { name, .. } = pg_type {
        // format_type quotes and qualifies as needed; the error shows the bare name.
        names.push(
            name.rsplit('.')
                .next()
                .unwrap_or(name)
                .trim_matches('"')
                .to_string(),
        );
    }
    names
}

fn insert_chunk(
    conn: &mut PgConnection,
    target: &str,
    binary: bool,
    rows: &[(usize, Vec<u8>)],
    on_refused: &mut dyn FnMut(usize, &DieselError) -> Result<()>,
    counters: &Counters,
) -> std::result::Result<u64, Attempt> {
    if rows.is_empty() {
        return Ok(0);
    }
    conn.batch_execute("SAVEPOINT dbshift_chunk")?;
    let produce = |out: &mut dyn Write| -> std::result::Result<(), CopyError> {
        let io =
            |e: std::io::Error| CopyError::Server(DieselError::SerializationError(Box::new(e)));
        if binary {
            out.write_all(BINARY_HEADER).map_err(io)?;
        }
        // In pieces, as in `send`: libpq keeps a buffer as large as its largest write.
        for piece in rows.iter().flat_map(|(_, bytes)| bytes.chunks(CHUNK_BYTES)) {
            out.write_all(piece).map_err(io)?;
        }
        if binary {
            out.write_all(BINARY_TRAILER).map_err(io)?;
        }
        Ok(())
    };
    match copy_in(conn, target, binary, false, produce) {
        Ok(_) => {
            conn.batch_execute("RELEASE SAVEPOINT dbshift_chunk")?;
            Counters::add(
                &counters.bytes,
                rows.iter().map(|(_, b)| b.len() as u64).sum(),
            );
            Ok(rows.len() as u64)
        }
        Err(CopyError::Server(e)) if is_data_error(&e) => {
            conn.batch_execute(
                "ROLLBACK TO SAVEPOINT dbshift_chunk; RELEASE SAVEPOINT dbshift_chunk",
            )?;
            if rows.len() == 1 {
                on_refused(rows[0].0, &e).map_err(Attempt::Other)?;
                return Ok(0);
            }
            let (left, right) = rows.split_at(rows.len() / 2);
            Ok(
                insert_chunk(conn, target, binary, left, on_refused, counters)?
                    + insert_chunk(conn, target, binary, right, on_refused, counters)?,
            )
        }
        Err(CopyError::Server(e)) => Err(Attempt::Server(e)),
        Err(CopyError::Producer) => Err(Attempt::Other(Error::Invalid(
            "writing a chunk failed".into(),
        ))),
    }
}
