//! What each column really stores ([`ColumnProfile`]): storage-class counts, integer and real
//! ranges, and whether every text parses as a boolean, a timestamp, JSON or a UUID, holds NUL
//! bytes or is not UTF-8; with a few examples of each kind for the report.
//!
//! One pass per table: every value is looked at once, in Rust, as SQLite hands it over (text
//! and blobs are borrowed, not copied). Rowid tables are cut into rowid ranges so two threads,
//! each with its own read-only connection, share big tables; the partial profiles are merged.
//! Blob values are never read (`typeof` alone tells their class), so large blobs cost nothing.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use diesel::deserialize::{self, QueryableByName};
use diesel::query_dsl::RunQueryDsl;
use diesel::row::{Field, NamedRow};
use diesel::sql_types::BigInt;
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};
use serde::{Deserialize, Serialize};

use crate::dialect::quote_ident;
use crate::transfer::error::Result;
use crate::transfer::plan::catalog::{source_error, Schema, Source, Table};

/// A kind of value an example stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An integer.
    Integer,
    /// An integer other than 0 and 1.
    IntegerNotBoolean,
    /// A real.
    Real,
    /// A text.
    Text,
    /// A text that is not an ISO-8601 date or timestamp.
    TextNotTimestamp,
    /// A text that is not a JSON object or array.
    TextNotJson,
    /// A text that is not a boolean word ([`BOOLEAN_WORDS`]).
    TextNotBoolean,
    /// A text holding a NUL byte.
    TextWithNul,
    /// A text that is not valid UTF-8.
    TextNotUtf8,
    /// A blob.
    Blob,
}

/// What one column holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// The column's name.
    pub column: String,
    /// `NULL`s.
    pub nulls: u64,
    /// Values of storage class INTEGER.
    pub integers: u64,
    /// Values of storage class REAL.
    pub reals: u64,
    /// Values of storage class TEXT.
    pub texts: u64,
    /// Values of storage class BLOB.
    pub blobs: u64,
    /// The smallest integer.
    pub int_min: Option<i64>,
    /// The largest integer.
    pub int_max: Option<i64>,
    /// The smallest real.
    pub real_min: Option<f64>,
    /// The largest real.
    pub real_max: Option<f64>,
    /// Integers that are 0 or 1.
    pub zero_one: u64,
    /// Texts that are boolean words ([`BOOLEAN_WORDS`]) in any case.
    pub text_booleans: u64,
    /// Texts that are ISO-8601 dates or timestamps PostgreSQL reads exactly (see
    /// [`timestamp_shape`]).
    pub text_timestamps: u64,
    /// Of those, the dates without a time.
    pub text_dates: u64,
    /// Of those, the timestamps with a `Z` or numeric UTC offset.
    pub text_with_offset: u64,
    /// Texts that are a time of day `HH:MM[:SS[.ffffff]]` (see [`time_shape`]).
    #[serde(default)]
    pub text_times: u64,
    /// Texts that are a JSON object or array `jsonb` accepts.
    pub json_documents: u64,
    /// Texts that are a bare JSON scalar (`1`, `"a"`, `true`, `null`).
    pub json_scalars: u64,
    /// Of the JSON texts, those with a lone UTF-16 surrogate escape (`"\ud800"`), which
    /// PostgreSQL's `json` keeps and `jsonb` refuses.
    #[serde(default)]
    pub json_lone_surrogates: u64,
    /// Of the JSON texts, those `jsonb` would keep with less than they say: a key written
    /// twice in one object, or a negative zero: such a column becomes `json`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub json_jsonb_altered: u64,
    /// Texts that are lowercase hyphenated UUIDs.
    pub uuids: u64,
    /// Texts of 32 lowercase hex digits: UUIDs as Django and SQLAlchemy store them on SQLite.
    #[serde(default)]
    pub hex_uuids: u64,
    /// Texts that are an IPv4 or IPv6 address (no prefix length), as Django stores them.
    #[serde(default)]
    pub ip_addresses: u64,
    /// Texts holding a NUL byte.
    pub texts_with_nul: u64,
    /// Texts that are not valid UTF-8.
    pub texts_not_utf8: u64,
    /// The longest text, in bytes.
    #[serde(default)]
    pub max_text_bytes: u64,
    /// For columns declared `NUMERIC(p, s)`: the most digits after the decimal point among the
    /// numbers, and the most digits before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_digits: Option<(u32, u32)>,
    /// A few values of each kind, as shown in reports.
    #[serde(default)]
    pub examples: BTreeMap<Kind, Vec<String>>,
    /// The kinds whose examples are complete (a bit per [`Kind`]).
    #[serde(skip)]
    pub(crate) full_kinds: u16,
    /// Distinct values held in more than one storage class that one type would make equal
    /// (`42`, `'42'` and `x'3432'` count once): counted by the probe, only for columns that mix
    /// numbers, text and blobs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub class_collisions: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ColumnProfile {
    /// Values that are not `NULL`.
    pub fn non_null(&self) -> u64 {
        self.integers + self.reals + self.texts + self.blobs
    }

    /// Whether the column holds more than one of numbers, text and blobs (INTEGER and REAL
    /// together are numbers: SQLite compares them as numbers).
    pub fn mixes_classes(&self) -> bool {
        [self.integers + self.reals, self.texts, self.blobs]
            .iter()
            .filter(|&&n| n > 0)
            .count()
            > 1
    }

    /// Up to `n` examples of `kind`.
    pub fn examples_of(&self, kind: Kind) -> &[String] {
        self.examples.get(&kind).map_or(&[], Vec::as_slice)
    }
}

/// What one table holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    /// The table's name.
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// The columns read, in table order (hidden columns of virtual tables are not read).
    pub columns: Vec<ColumnProfile>,
}

impl TableProfile {
    /// The profile of `column`.
    pub fn column(&self, column: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.column == column)
    }
}

/// Texts read as booleans (any case): what PostgreSQL's boolean input and the copier accept.
pub const BOOLEAN_WORDS: &[&str] = &[
    "t", "f", "true", "false", "y", "n", "yes", "no", "on", "off",
];

/// How many examples of each kind a profile keeps.
pub const EXAMPLES_PER_KIND: usize = 3;

/// How many rowids one unit of parallel work spans at most.
const ROWIDS_PER_UNIT: i64 = 100_000;

/// Profiles every table of `schema` (one pass each), on `threads` connections at once.
pub fn profile(source: &mut Source, schema: &Schema, threads: usize) -> Result<Vec<TableProfile>> {
    let utf8 = source
        .query("PRAGMA encoding", &[])?
        .first()
        .and_then(|r| r.get::<String, _>("encoding").ok())
        .is_none_or(|e| e.eq_ignore_ascii_case("UTF-8"));
    let mut units = Vec::new();
    for (index, table) in schema.tables.iter().enumerate() {
        units.extend(table_units(source, index, table)?);
    }
    // Biggest first, so the last unit to finish is small.
    units.sort_by_key(|u| std::cmp::Reverse(u.weight));
    let partials = run_units(source, schema, units, threads, utf8)?;
    Ok(merge_partials(schema, partials, utf8))
}

/// The units of work for one table: rowid ranges of at most [`ROWIDS_PER_UNIT`] (64 at
/// most), or the whole table when it has no rowid or no rows.
fn table_units(source: &mut Source, index: usize, table: &Table) -> Result<Vec<Unit>> {
    let whole = Unit {
        table: index,
        rowid: None,
        range: None,
        weight: u64::MAX,
    };
    let Some(rowid) = rowid_name(table) else {
        return Ok(vec![whole]);
    };
    let Some((lo, hi)) = rowid_range(source, table, &rowid)? else {
        return Ok(vec![whole]);
    };
    let span = hi as i128 - lo as i128 + 1;
    let pieces = ((span + ROWIDS_PER_UNIT as i128 - 1) / ROWIDS_PER_UNIT as i128).clamp(1, 64);
    let step = (span + pieces - 1) / pieces;
    let mut units = Vec::new();
    let mut start = lo as i128;
    while start <= hi as i128 {
        let end = (start + step - 1).min(hi as i128);
        units.push(Unit {
            table: index,
            rowid: Some(rowid.clone()),
            range: Some((start as i64, end as i64)),
            weight: (end - start + 1) as u64,
        });
        start = end + 1;
    }
    Ok(units)
}

/// The smallest and largest rowid of `table`, `None` when it is empty.
fn rowid_range(source: &mut Source, table: &Table, rowid: &str) -> Result<Option<(i64, i64)>> {
    if table.without_rowid {
        return Ok(None);
    }
    // Two subqueries: SQLite answers a lone min() or max() of the rowid from the ends of the
    // b-tree, but scans the whole table for both in one SELECT.
    let sql = format!(
        "SELECT (SELECT min({rowid}) FROM {t}) AS lo, (SELECT max({rowid}) FROM {t}) AS hi",
        t = quote(&table.name)
    );
    let rows = source.query(&sql, &[])?;
    let row = rows.first();
    let lo = row.and_then(|r| r.get::<Option<i64>, _>("lo").ok().flatten());
    let hi = row.and_then(|r| r.get::<Option<i64>, _>("hi").ok().flatten());
    Ok(lo.zip(hi))
}

/// Where a unit stands in its table: the table's index, then the first rowid of its range.
type UnitKey = (usize, i64);

/// Runs the units on `threads` connections, each taking the next unit from a shared queue;
/// returns each unit's profile by [`UnitKey`]. Units are profiled apart, so which thread took
/// which unit never shows in the result.
fn run_units(
    source: &Source,
    schema: &Schema,
    units: Vec<Unit>,
    threads: usize,
    utf8: bool,
) -> Result<Vec<BTreeMap<UnitKey, Accumulator>>> {
    let queue = Mutex::new(units.into_iter());
    let mut partials = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..threads.max(1) {
            let mut conn = source.connect_again()?;
            // A memory map saves copying pages out of the page cache, but mapped pages count
            // as the process's resident memory: a window of 32 MiB keeps most of the gain while
            // peak memory stays flat whatever the file's size.
            let _ = diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                "PRAGMA mmap_size = 33554432",
            );
            let queue = &queue;
            let path = source.path.clone();
            handles.push(
                scope.spawn(move || -> Result<BTreeMap<UnitKey, Accumulator>> {
                    let mut done: BTreeMap<UnitKey, Accumulator> = BTreeMap::new();
                    loop {
                        let unit = queue
                            .lock()
                            .map_err(|_| source_error(&path, "a profiling thread panicked"))?
                            .next();
                        let Some(unit) = unit else { break };
                        let table = &schema.tables[unit.table];
                        let start = unit.range.map_or(i64::MIN, |(start, _)| start);
                        let acc = done
                            .entry((unit.table, start))
                            .or_insert_with(|| Accumulator::new(table, utf8));
                        run_unit(&mut conn, table, &unit, acc)
                            .map_err(|message| source_error(&path, message))?;
                    }
                    Ok(done)
                }),
            );
        }
        for handle in handles {
            match handle.join() {
                Ok(result) => partials.push(result?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(())
    })?;
    Ok(partials)
}

/// One profile per table of `schema`, in order, from the threads' partial profiles.
fn merge_partials(
    schema: &Schema,
    partials: Vec<BTreeMap<UnitKey, Accumulator>>,
    utf8: bool,
) -> Vec<TableProfile> {
    // Every unit's profile, merged in rowid order within each table: the same result (and the
    // same examples) however the units were spread over the threads.
    let by_unit: BTreeMap<UnitKey, Accumulator> = partials.into_iter().flatten().collect();
    let mut merged: BTreeMap<usize, Accumulator> = BTreeMap::new();
    for ((index, _), acc) in by_unit {
        match merged.get_mut(&index) {
            Some(existing) => existing.merge(acc),
            None => {
                merged.insert(index, acc);
            }
        }
    }
    schema
        .tables
        .iter()
        .enumerate()
        .map(|(index, table)| {
            let acc = merged
                .remove(&index)
                .unwrap_or_else(|| Accumulator::new(table, utf8));
            TableProfile {
                table: table.name.clone(),
                rows: acc.rows,
                columns: acc.columns,
            }
        })
        .collect()
}

/// The columns the profile reads: all but the hidden columns of virtual tables.
pub fn profiled_columns(
    table: &Table,
) -> impl Iterator<Item = &crate::transfer::plan::catalog::Column> {
    table.columns.iter().filter(|c| !c.hidden)
}

/// A name that reaches the rowid of `table` (`rowid`, `_rowid_` or `oid`, whichever no column
/// shadows); `None` for `WITHOUT ROWID` tables or when all three are column names.
pub fn rowid_name(table: &Table) -> Option<String> {
    if table.without_rowid {
        return None;
    }
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|name| {
            !table.columns.iter().any(|c| {
                c.name.eq_ignore_ascii_case(name) && table.rowid_alias.as_deref() != Some(&c.name)
            })
        })
        .map(str::to_string)
}

struct Unit {
    table: usize,
    rowid: Option<String>,
    range: Option<(i64, i64)>,
    weight: u64,
}

fn quote(name: &str) -> String {
    // Names from SQLite's own catalog cannot hold NUL; fall back to a name that fails cleanly.
    quote_ident(name).unwrap_or_else(|_| "\"\"".into())
}

fn run_unit(
    conn: &mut diesel::SqliteConnection,
    table: &Table,
    unit: &Unit,
    acc: &mut Accumulator,
) -> std::result::Result<(), String> {
    let columns: Vec<String> = profiled_columns(table)
        .map(|c| {
            let q = quote(&c.name);
            // Only `typeof` touches a blob, so its pages are never read.
            if crate::transfer::plan::sqlite_types::affinity(&c.declared)
                == crate::transfer::plan::sqlite_types::Affinity::Blob
            {
                format!("CASE WHEN typeof({q}) = 'blob' THEN x'' ELSE {q} END")
            } else {
                q
            }
        })
        .collect();
    if columns.is_empty() {
        return Ok(());
    }
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), quote(&table.name));
    if let (Some(rowid), Some(_)) = (&unit.rowid, unit.range) {
        sql.push_str(&format!(" WHERE {rowid} BETWEEN ? AND ?"));
    }
    ACCUMULATOR
        .with(|cell| *cell.borrow_mut() = Some(std::mem::replace(acc, Accumulator::empty())));
    let result = (|| -> diesel::QueryResult<()> {
        let query = diesel::sql_query(sql);
        let rows = match unit.range {
            Some((lo, hi)) => query
                .bind::<BigInt, _>(lo)
                .bind::<BigInt, _>(hi)
                .load_iter::<Seen, diesel::connection::DefaultLoadingMode>(conn)?
                .try_for_each(|r| r.map(drop)),
            None => query
                .load_iter::<Seen, diesel::connection::DefaultLoadingMode>(conn)?
                .try_for_each(|r| r.map(drop)),
        };
        rows
    })();
    ACCUMULATOR.with(|cell| {
        if let Some(taken) = cell.borrow_mut().take() {
            *acc = taken;
        }
    });
    result.map_err(|e| match e {
        diesel::result::Error::DatabaseError(_, info) => {
            format!("profiling `{}`: {}", table.name, info.message())
        }
        other => format!("profiling `{}`: {other}", table.name),
    })
}

thread_local! {
    /// The profile being built by this thread's current query. Diesel builds one row value at
    /// a time from borrowed SQLite values; [`Seen`] folds each row in here instead of
    /// allocating it.
    static ACCUMULATOR: RefCell<Option<Accumulator>> = const { RefCell::new(None) };
}

/// A row that has been folded into [`ACCUMULATOR`].
struct Seen;

impl QueryableByName<Sqlite> for Seen {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        ACCUMULATOR.with(|cell| {
            let mut guard = cell.borrow_mut();
            let acc = guard
                .as_mut()
                .ok_or("no profile accumulator on this thread")?;
            acc.rows += 1;
            let count = diesel::row::Row::field_count(row).min(acc.columns.len());
            for i in 0..count {
                let field = diesel::row::Row::get(row, i).ok_or("field index out of range")?;
                let decimal = acc.decimal[i];
                observe(&mut acc.columns[i], field.value(), decimal, acc.utf8);
            }
            Ok(Seen)
        })
    }
}

struct Accumulator {
    /// Whether the database stores text as UTF-8 (else UTF-16).
    utf8: bool,
    rows: u64,
    columns: Vec<ColumnProfile>,
    decimal: Vec<bool>,
}

impl Accumulator {
    fn empty() -> Self {
        Accumulator {
            utf8: true,
            rows: 0,
            columns: Vec::new(),
            decimal: Vec::new(),
        }
    }

    fn new(table: &Table, utf8: bool) -> Self {
        let columns = profiled_columns(table)
            .map(|c| ColumnProfile {
                column: c.name.clone(),
                ..ColumnProfile::default()
            })
            .collect();
        let decimal = profiled_columns(table)
            .map(|c| crate::transfer::plan::sqlite_types::numeric_precision(&c.declared).is_some())
            .collect();
        Accumulator {
            utf8,
            rows: 0,
            columns,
            decimal,
        }
    }

    fn merge(&mut self, other: Accumulator) {
        self.rows += other.rows;
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            merge_column(mine, theirs);
        }
    }
}

fn merge_column(a: &mut ColumnProfile, b: ColumnProfile) {
    a.nulls += b.nulls;
    a.integers += b.integers;
    a.reals += b.reals;
    a.texts += b.texts;
    a.blobs += b.blobs;
    a.int_min = min_opt(a.int_min, b.int_min, |x, y| x.min(y));
    a.int_max = min_opt(a.int_max, b.int_max, |x, y| x.max(y));
    a.real_min = min_opt(a.real_min, b.real_min, f64::min);
    a.real_max = min_opt(a.real_max, b.real_max, f64::max);
    a.zero_one += b.zero_one;
    a.text_booleans += b.text_booleans;
    a.text_timestamps += b.text_timestamps;
    a.text_dates += b.text_dates;
    a.text_with_offset += b.text_with_offset;
    a.text_times += b.text_times;
    a.json_documents += b.json_documents;
    a.json_scalars += b.json_scalars;
    a.json_lone_surrogates += b.json_lone_surrogates;
    a.json_jsonb_altered += b.json_jsonb_altered;
    a.uuids += b.uuids;
    a.hex_uuids += b.hex_uuids;
    a.ip_addresses += b.ip_addresses;
    a.texts_with_nul += b.texts_with_nul;
    a.texts_not_utf8 += b.texts_not_utf8;
    a.max_text_bytes = a.max_text_bytes.max(b.max_text_bytes);
    a.decimal_digits = min_opt(a.decimal_digits, b.decimal_digits, |x, y| {
        (x.0.max(y.0), x.1.max(y.1))
    });
    for (kind, values) in b.examples {
        let mine = a.examples.entry(kind).or_default();
        for value in values {
            if mine.len() < EXAMPLES_PER_KIND && !mine.contains(&value) {
                mine.push(value);
            }
        }
        if mine.len() >= EXAMPLES_PER_KIND {
            a.full_kinds |= 1 << (kind as u16);
        }
    }
}

fn min_opt<T: Copy>(a: Option<T>, b: Option<T>, pick: impl Fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(pick(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn example(profile: &mut ColumnProfile, kind: Kind, render: impl FnOnce() -> String) {
    // Most values come after the examples are complete: skip the map lookup for them.
    let bit = 1u16 << (kind as u16);
    if profile.full_kinds & bit != 0 {
        return;
    }
    let list = profile.examples.entry(kind).or_default();
    let value = render();
    if !list.contains(&value) {
        list.push(value);
    }
    if list.len() >= EXAMPLES_PER_KIND {
        profile.full_kinds |= bit;
    }
}

/// Shows a text value in a report: at most 60 characters, bytes that are not UTF-8 as `\xNN`,
/// NUL as `\0`.
pub fn show_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\0' => out.push_str("\\0"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if out.chars().count() > 60 {
        let cut: String = out.chars().take(57).collect();
        format!("{cut}...")
    } else {
        out
    }
}

fn observe(
    p: &mut ColumnProfile,
    value: Option<SqliteValue<'_, '_, '_>>,
    decimal: bool,
    utf8: bool,
) {
    let Some(mut value) = value else {
        p.nulls += 1;
        return;
    };
    match value.value_type() {
        None => p.nulls += 1,
        Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
            let n = value.read_long();
            p.integers += 1;
            p.int_min = Some(p.int_min.map_or(n, |m| m.min(n)));
            p.int_max = Some(p.int_max.map_or(n, |m| m.max(n)));
            if n == 0 || n == 1 {
                p.zero_one += 1;
            } else {
                example(p, Kind::IntegerNotBoolean, || n.to_string());
            }
            example(p, Kind::Integer, || n.to_string());
            if decimal {
                let digits = n.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
                p.decimal_digits = Some(
                    p.decimal_digits
                        .map_or((0, digits), |(s, i)| (s, i.max(digits))),
                );
            }
        }
        Some(SqliteType::Double | SqliteType::Float) => {
            let x = value.read_double();
            p.reals += 1;
            p.real_min = Some(p.real_min.map_or(x, |m| m.min(x)));
            p.real_max = Some(p.real_max.map_or(x, |m| m.max(x)));
            example(p, Kind::Real, || format!("{x:?}"));
            if decimal {
                let (scale, int_digits) = decimal_shape(x);
                p.decimal_digits = Some(p.decimal_digits.map_or((scale, int_digits), |(s, i)| {
                    (s.max(scale), i.max(int_digits))
                }));
            }
        }
        Some(SqliteType::Binary) => {
            p.blobs += 1;
            example(p, Kind::Blob, || "(blob)".to_string());
        }
        // read_text borrows valid UTF-8 as it is and repairs the rest with U+FFFD; only a text
        // holding U+FFFD is read again as its stored bytes (read_blob copies the value) to
        // tell a real U+FFFD from a repaired byte. A UTF-16 database stores UTF-16, which
        // SQLite converts for read_text (replacing what does not convert, as the copier's
        // reader does).
        Some(SqliteType::Text) if utf8 => {
            p.texts += 1;
            let text = value.read_text();
            if !crate::transfer::text::maybe_repaired(text) {
                observe_text(p, text);
                return;
            }
            let raw = value.read_blob();
            match std::str::from_utf8(raw) {
                Ok(text) => observe_text(p, text),
                Err(_) => {
                    p.texts_not_utf8 += 1;
                    p.max_text_bytes = p.max_text_bytes.max(raw.len() as u64);
                    example(p, Kind::Text, || show_text(raw));
                    example(p, Kind::TextNotUtf8, || show_text(raw));
                }
            }
        }
        Some(SqliteType::Text) => {
            p.texts += 1;
            observe_text(p, value.read_text());
        }
    }
}

fn observe_text(p: &mut ColumnProfile, text: &str) {
    let bytes = text.as_bytes();
    p.max_text_bytes = p.max_text_bytes.max(bytes.len() as u64);
    example(p, Kind::Text, || show_text(bytes));
    if bytes.contains(&0) {
        p.texts_with_nul += 1;
        example(p, Kind::TextWithNul, || show_text(bytes));
    }
    if bytes.len() <= 5 && BOOLEAN_WORDS.iter().any(|b| text.eq_ignore_ascii_case(b)) {
        p.text_booleans += 1;
    } else {
        example(p, Kind::TextNotBoolean, || show_text(bytes));
    }
    match timestamp_shape(text) {
        Some(shape) => {
            p.text_timestamps += 1;
            p.text_dates += u64::from(shape.date_only);
            p.text_with_offset += u64::from(shape.offset);
        }
        None => example(p, Kind::TextNotTimestamp, || show_text(bytes)),
    }
    if time_shape(text) {
        p.text_times += 1;
    }
    let shape = json_shape(text);
    if shape.is_some() && has_lone_surrogate(text) {
        p.json_lone_surrogates += 1;
    }
    if shape.is_some() && crate::transfer::jsonb::jsonb_alters_valid(text) {
        p.json_jsonb_altered += 1;
    }
    match shape {
        Some(JsonShape::Document) => p.json_documents += 1,
        Some(JsonShape::Scalar) => {
            p.json_scalars += 1;
            example(p, Kind::TextNotJson, || show_text(bytes));
        }
        None => example(p, Kind::TextNotJson, || show_text(bytes)),
    }
    if is_uuid(bytes) {
        p.uuids += 1;
    }
    if bytes.len() == 32 && bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        p.hex_uuids += 1;
    }
    // The longest IPv6 text (`ffff:...:255.255.255.255`) is 45 bytes. The parser takes only
    // hex digits, `:` and `.`: any other byte settles it without running the parser, which
    // was a twentieth of the profile's time on texts that are plainly not addresses.
    if bytes.len() <= 45
        && bytes
            .iter()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        && text.parse::<std::net::IpAddr>().is_ok()
    {
        p.ip_addresses += 1;
    }
}

fn decimal_shape(x: f64) -> (u32, u32) {
    if !x.is_finite() {
        return (u32::MAX, u32::MAX);
    }
    // Display prints the shortest text that reads back as the same double.
    let text = format!("{}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int_digits = int.trim_start_matches('0').len() as u32;
    (frac.len() as u32, int_digits.max(1))
}

/// The shape of an ISO-8601 text [`timestamp_shape`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampShape {
    /// `YYYY-MM-DD` alone.
    pub date_only: bool,
    /// Ends in `Z` or a numeric offset.
    pub offset: bool,
}

/// Whether `text` is a date or timestamp that both [`crate::value::parse_timestamp`] and
/// PostgreSQL read as exactly the instant written: `YYYY-MM-DD`, or that followed by `T` or a
/// space and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (1 to 6 digits: more would be rounded), then
/// optionally `Z`, or (after seconds) `+HH`, `+HHMM` or `+HH:MM`. The date must exist (no
/// February 30th, no year 0) and the time must be in range (no hour 24, no leap second).
pub fn timestamp_shape(text: &str) -> Option<TimestampShape> {
    use crate::datetime::{scan_iso, IsoZone};
    let parts = scan_iso(text.as_bytes())?;
    if parts.year == 0 {
        return None;
    }
    let Some(time) = parts.time else {
        return Some(TimestampShape {
            date_only: true,
            offset: false,
        });
    };
    if time.fraction_digits > 6 {
        return None;
    }
    let offset = match parts.zone {
        IsoZone::Unwritten => false,
        IsoZone::Utc => true,
        IsoZone::Offset { .. } if time.second.is_some() => true,
        IsoZone::Offset { .. } => return None,
    };
    Some(TimestampShape {
        date_only: false,
        offset,
    })
}

/// Whether `text` is a time of day PostgreSQL's `time` reads exactly: `HH:MM`, `HH:MM:SS` or
/// `HH:MM:SS.f` with 1 to 6 digits, hour 00-23.
pub fn time_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let two = |at: usize, max: u8| {
        b.get(at..at + 2).is_some_and(|d| {
            d.iter().all(u8::is_ascii_digit) && (d[0] - b'0') * 10 + (d[1] - b'0') <= max
        })
    };
    if !(two(0, 23) && b.get(2) == Some(&b':') && two(3, 59)) {
        return false;
    }
    match b.len() {
        5 => true,
        8 => b[5] == b':' && two(6, 59),
        n => {
            n > 9
                && n <= 15
                && b[5] == b':'
                && two(6, 59)
                && b[8] == b'.'
                && b[9..].iter().all(u8::is_ascii_digit)
        }
    }
}

/// What a JSON text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonShape {
    /// An object or an array (that `jsonb` accepts: no `\u0000` escape).
    Document,
    /// A bare string, number, `true`, `false` or `null`.
    Scalar,
}

/// Whether `text` is JSON, and which kind. Texts with a `\u0000` escape count as not JSON:
/// PostgreSQL's `jsonb` refuses them.
pub fn json_shape(text: &str) -> Option<JsonShape> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace())?;
    let document = matches!(first, b'{' | b'[');
    if !document && !matches!(first, b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    // Most documents hold no escape at all: one memchr instead of a substring search.
    if text.as_bytes().contains(&b'\\') && text.contains("\\u0000") {
        return None;
    }
    Some(if document {
        JsonShape::Document
    } else {
        JsonShape::Scalar
    })
}

/// Whether the JSON text `text` has a `\uD800`-`\uDFFF` escape that is not half of a pair:
/// serde_json's full parse refuses exactly those once the text is known to be JSON.
pub fn has_lone_surrogate(text: &str) -> bool {
    text.as_bytes().contains(&b'\\')
        && text.contains("\\u")
        && serde_json::from_str::<serde_json::Value>(text).is_err()
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_timestamp;

    #[test]
    fn accepted_timestamps_are_read_the_same_by_parse_timestamp() {
        let accepted = [
            ("2024-02-29", true, false),
            ("2024-01-02 03:04", false, false),
            ("2024-01-02T03:04:05", false, false),
            ("2024-01-02 03:04:05.123456", false, false),
            ("2024-01-02T03:04:05.5Z", false, true),
            ("2024-01-02T03:04Z", false, true),
            ("2024-01-02 03:04:05+05:30", false, true),
            ("2024-01-02 03:04:05-0800", false, true),
            ("2024-01-02T03:04:05.123+01", false, true),
        ];
        for (text, date_only, offset) in accepted {
            assert_eq!(
                timestamp_shape(text),
                Some(TimestampShape { date_only, offset }),
                "{text}"
            );
            assert!(
                parse_timestamp(text).is_some(),
                "parse_timestamp refuses {text}"
            );
        }
        for text in [
            "2023-02-29",
            "0000-01-01",
            "2024-13-01",
            "2024-01-02 24:00:00",
            "2024-01-02 03:04:60",
            "2024-01-02 03:04:05.1234567",
            "2024-01-02 03:04:05 +05:00",
            "2024-01-02t03:04:05",
            "2024-01-02T03:04:05z",
            "2024-01-02 03:04+05:00",
            "2024-1-2",
            " 2024-01-02",
            "now",
            "12:30",
            "2024-01-02 03:04:05+5",
        ] {
            assert_eq!(timestamp_shape(text), None, "{text}");
        }
    }

    #[test]
    fn times_of_day() {
        for ok in [
            "00:00",
            "23:59",
            "12:30:45",
            "12:30:45.5",
            "12:30:45.123456",
        ] {
            assert!(time_shape(ok), "{ok}");
        }
        for bad in [
            "24:00",
            "12:60",
            "1:30",
            "12:30:45.",
            "12:30:45.1234567",
            "12:30:4",
            "noon",
            "12:30 ",
            "2024-01-01",
        ] {
            assert!(!time_shape(bad), "{bad}");
        }
    }

    #[test]
    fn units_merge_in_rowid_order_whichever_thread_profiled_them() {
        let schema = Schema {
            tables: vec![Table {
                name: "t".into(),
                ..Table::default()
            }],
            ..Schema::default()
        };
        let unit = |rows: u64, example: &str| {
            let mut acc = Accumulator::empty();
            acc.rows = rows;
            let mut column = ColumnProfile {
                column: "v".into(),
                texts: rows,
                ..ColumnProfile::default()
            };
            column
                .examples
                .insert(Kind::Text, vec![example.to_string()]);
            acc.columns.push(column);
            acc
        };
        // Thread one took the later unit, thread two the earlier one, and the other way round.
        let late_first = vec![
            BTreeMap::from([((0, 500), unit(1, "late"))]),
            BTreeMap::from([((0, 1), unit(2, "early"))]),
        ];
        let early_first = vec![
            BTreeMap::from([((0, 1), unit(2, "early"))]),
            BTreeMap::from([((0, 500), unit(1, "late"))]),
        ];
        let a = merge_partials(&schema, late_first, true);
        let b = merge_partials(&schema, early_first, true);
        assert_eq!(a, b);
        assert_eq!(a[0].rows, 3);
        assert_eq!(a[0].columns[0].examples_of(Kind::Text), ["early", "late"]);
    }

    #[test]
    fn json_and_text_helpers() {
        assert_eq!(json_shape("{\"a\": [1, 2]}"), Some(JsonShape::Document));
        assert_eq!(json_shape(" [1]"), Some(JsonShape::Document));
        assert_eq!(json_shape("42"), Some(JsonShape::Scalar));
        assert_eq!(json_shape("null"), Some(JsonShape::Scalar));
        assert_eq!(json_shape("{\"a\": \"\\u0000\"}"), None);
        assert!(has_lone_surrogate("{\"a\": \"\\ud800\"}"));
        assert!(has_lone_surrogate("[\"\\uDC00x\"]"));
        assert!(!has_lone_surrogate("[\"\\ud83d\\ude00\", \"\\u00e9\"]"));
        assert!(!has_lone_surrogate("[\"\\\\ud800\"]"));
        assert_eq!(json_shape("{a: 1}"), None);
        assert_eq!(json_shape("hello"), None);
        assert!(is_uuid(b"123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid(b"123E4567-E89B-12D3-A456-426614174000"));
        assert_eq!(show_text(b"a\0b\xffc"), "a\\0b\\xffc");
        assert_eq!(decimal_shape(12.5), (1, 2));
        assert_eq!(decimal_shape(0.25), (2, 1));
    }
}
