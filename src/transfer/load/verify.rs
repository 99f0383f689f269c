//! Verification: after a copy, every table is compared on both sides by row count and by a
//! content checksum over a canonical form of every value, so a changed value is found, not only
//! a missing row. When a table differs, a second pass names the rows (by key) and the columns.
//!
//! Canonical form: each value becomes the [`Cell`] the target column holds. The source side
//! runs the copier's own conversion (rows it rejected are skipped, as are rows the server
//! refused, named by the reject files); the target side decodes PostgreSQL's binary `COPY TO`
//! output. `jsonb` is compared as parsed JSON (PostgreSQL reorders keys), and types PostgreSQL
//! normalises as text (`numeric`, `interval`, `inet`, others) are normalised by the server on
//! both sides. Each row hashes to 128 bits (xxh3); a table's checksum is the wrapping sum of its
//! row hashes, so row order does not matter.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde::Serialize;

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::copy::copy_out;
use crate::transfer::load::encode::binary_field;
use crate::transfer::load::pages::{Page, TableReader};
use crate::transfer::load::rejects::{object, Reject};
use crate::transfer::load::values::{convert, Cell, Outcome};
use crate::transfer::model::{PgType, SourceKey, TableMap};
use crate::transfer::pg::server_error;

/// How many differences a table reports at most.
pub const MAX_DIFFERENCES: usize = 100;

/// One difference found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The source table.
    pub table: String,
    /// The row's key as `Column=value` pairs, when the table has one on both sides.
    pub key: Option<String>,
    /// The column that differs, when known.
    pub column: Option<String>,
    /// What differs.
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "key {} column {}: {}",
            self.key.as_deref().unwrap_or("-"),
            self.column.as_deref().unwrap_or("-"),
            self.what
        )
    }
}

/// The verification of one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableCheck {
    /// The source table.
    pub table: String,
    /// Source rows that should be in the target (read minus rejected).
    pub source_rows: u64,
    /// Rows in the target.
    pub target_rows: u64,
    /// The source checksum (hex).
    pub source_checksum: String,
    /// The target checksum (hex).
    pub target_checksum: String,
    /// Named differences (at most [`MAX_DIFFERENCES`]).
    pub differences: Vec<Difference>,
    /// Seconds spent.
    pub seconds: f64,
    /// Source rows left out of the comparison because the reject files list them as
    /// rejected: the target matching says nothing of them.
    #[serde(default)]
    pub rejected_rows: u64,
}

impl TableCheck {
    /// Whether the table matched.
    pub fn ok(&self) -> bool {
        self.source_rows == self.target_rows
            && self.source_checksum == self.target_checksum
            && self.differences.is_empty()
    }
}

/// Keys of rows that are known to be absent from the target (rejected), per source table, as
/// the JSON text of their reject records' `key`.
pub type SkipKeys = HashMap<String, HashSet<String>>;

/// Reads the reject files in `dir` into the keys verification must skip.
pub fn rejected_keys(dir: &Path) -> Result<SkipKeys> {
    let mut keys = SkipKeys::new();
    // Only the rejects of the run the directory's manifest names (all, in a directory of an
    // older version without one).
    let run = crate::transfer::load::rejects::RunTag::read(dir).map(|tag| tag.run);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(keys);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".rejects.jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            context: format!("cannot read `{}`", path.display()),
            source,
        })?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let reject: Reject = serde_json::from_str(line).map_err(|e| {
                Error::Invalid(format!("`{}` is not a reject file: {e}", path.display()))
            })?;
            if reject.action == "rejected" && reject.run == run {
                keys.entry(reject.table)
                    .or_default()
                    .insert(reject.key.to_string());
            }
        }
    }
    Ok(keys)
}

/// A column's canonical bytes for hashing and diffing.
fn canonical(cell: &Cell<'_>, out: &mut Vec<u8>) {
    match cell {
        Cell::Jsonb(text) => {
            // A text field of the canonical form, written in place: its length goes first.
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            json::write_canonical_jsonb(text, out);
            let len = (out.len() - at - 4) as i32;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        other => binary_field(out, other),
    }
}

/// The canonical form of a JSON text, as a string (for tests).
#[cfg(test)]
fn canonical_jsonb(text: &str) -> String {
    let mut out = Vec::new();
    json::write_canonical_jsonb(text, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether values of this type are compared in the server's text form.
fn server_normalised(pg_type: &PgType) -> bool {
    !pg_type.has_binary_encoding()
}

struct RowDigest {
    key: Option<String>,
    hash: u128,
    columns: Vec<Vec<u8>>,
}

fn digest(cells: &[Cell<'_>], key: Option<String>, keep_columns: bool) -> RowDigest {
    let mut all = Vec::new();
    let mut columns = Vec::new();
    for cell in cells {
        let start = all.len();
        canonical(cell, &mut all);
        if keep_columns {
            columns.push(all[start..].to_vec());
        }
    }
    RowDigest {
        key,
        hash: xxhash_rust::xxh3::xxh3_128(&all),
        columns,
    }
}

/// The hash a converted row adds to its table's source checksum: the same as the source side
/// of [`verify_table`] computes for it. `scratch` is reused between rows.
pub(crate) fn row_hash(cells: &[Cell<'_>], scratch: &mut Vec<u8>) -> u128 {
    scratch.clear();
    for cell in cells {
        canonical(cell, scratch);
    }
    xxhash_rust::xxh3::xxh3_128(scratch)
}

/// Whether a table's source checksum can be taken from the rows as they are copied
/// ([`row_hash`] of each row sent), instead of by reading the source again. Not when the
/// compared values are not the sent ones: generated columns (SQLite computes them on read;
/// the copy never reads them) and types whose values the server normalises (that needs a
/// round trip per page on a connection the COPY holds).
pub(crate) fn foldable(map: &TableMap) -> bool {
    map.generated.is_empty() && map.columns.iter().all(|c| !server_normalised(&c.pg_type))
}

/// Verifies one table.
///
/// `rowid_column` names the source column that aliases the rowid (an `INTEGER PRIMARY KEY`),
/// which identifies rows on both sides when it is copied.
pub fn verify_table(
    conn: &mut PgConnection,
    source_path: &Path,
    map: &TableMap,
    source_columns: &[String],
    rowid_column: Option<&str>,
    skip: Option<&HashSet<String>>,
) -> Result<TableCheck> {
    let started = Instant::now();
    let table = TableToCheck {
        source_path,
        map,
        source_columns,
        rowid_column,
        skip,
    };
    let source = table.checksum(conn, Side::Source)?;
    let target = table.checksum(conn, Side::Target)?;
    table.finish(conn, source, target, started.elapsed().as_secs_f64())
}

/// A table's count and checksum on each side (when read), and the longer of the two reads in
/// seconds.
pub type Sums = (Option<(u64, u128)>, Option<(u64, u128)>, f64);

/// One side of a table's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The SQLite table, converted as the copy converts it.
    Source,
    /// The PostgreSQL table, read back with binary `COPY TO`.
    Target,
}

/// A table to compare, for callers that checksum its two sides on different connections at
/// the same time ([`TableToCheck::checksum`] per side, then [`TableToCheck::finish`]).
#[derive(Debug, Clone, Copy)]
pub struct TableToCheck<'a> {
    /// The SQLite file.
    pub source_path: &'a Path,
    /// How the table was copied.
    pub map: &'a TableMap,
    /// Every column name of the source table.
    pub source_columns: &'a [String],
    /// The column that aliases the rowid, if any.
    pub rowid_column: Option<&'a str>,
    /// Keys of rows rejected during the copy, expected to be absent.
    pub skip: Option<&'a HashSet<String>>,
}

impl TableToCheck<'_> {
    /// Rows and the sum of row hashes on one side. The source side also uses `conn`, for
    /// values the server normalises (`numeric`, `interval`, `inet`).
    pub fn checksum(&self, conn: &mut PgConnection, side: Side) -> Result<(u64, u128)> {
        let map = compared_columns(self.map);
        let this = TableToCheck { map: &map, ..*self };
        // Sums need no row keys (a row's hash does not depend on them): keys name differing
        // rows, which [`TableToCheck::finish`] does in a pass of its own.
        match side {
            Side::Source => scan_source(conn, &this, &None, &mut |_| {}),
            Side::Target => scan_target(conn, (&map, None), &None, &mut |_| {}),
        }
    }

    /// Rows and the sum of row hashes of the target rows `filter` (an SQL condition over the
    /// target's columns) selects: sums over disjoint filters add up to the whole table's.
    pub fn target_checksum_where(
        &self,
        conn: &mut PgConnection,
        filter: &str,
    ) -> Result<(u64, u128)> {
        let map = compared_columns(self.map);
        scan_target(conn, (&map, Some(filter)), &None, &mut |_| {})
    }

    /// The check from both sides' checksums; when they differ, a second, keyed pass names the
    /// rows and columns.
    pub fn finish(
        &self,
        conn: &mut PgConnection,
        (source_count, source_sum): (u64, u128),
        (target_count, target_sum): (u64, u128),
        seconds: f64,
    ) -> Result<TableCheck> {
        let started = Instant::now();
        let map = compared_columns(self.map);
        let this = TableToCheck { map: &map, ..*self };
        let key_columns = target_key_columns(&map, self.rowid_column);
        let mut check = TableCheck {
            table: self.map.source.clone(),
            source_rows: source_count,
            target_rows: target_count,
            source_checksum: format!("{source_sum:032x}"),
            target_checksum: format!("{target_sum:032x}"),
            differences: Vec::new(),
            seconds: 0.0,
            rejected_rows: self.skip.map_or(0, |keys| keys.len() as u64),
        };
        if source_count != target_count || source_sum != target_sum {
            check.differences = diff(conn, &this, &key_columns)?;
            if check.differences.is_empty() {
                check.differences.push(Difference {
                    table: self.map.source.clone(),
                    key: None,
                    column: None,
                    what: "checksums differ but no single row could be named".into(),
                });
            }
        }
        check.seconds = seconds + started.elapsed().as_secs_f64();
        Ok(check)
    }
}

/// The columns compared: the copied ones, then the generated ones, whose values PostgreSQL
/// computed and SQLite computed on its side (a translated expression that means something
/// else shows as a differing value).
fn compared_columns(map: &TableMap) -> Cow<'_, TableMap> {
    if map.generated.is_empty() {
        return Cow::Borrowed(map);
    }
    let mut all = map.clone();
    all.columns.extend(map.generated.iter().cloned());
    Cow::Owned(all)
}

/// Positions of the mapped columns that identify a row on both sides: the rowid's
/// `INTEGER PRIMARY KEY` column or the primary key columns, when they are copied.
fn target_key_columns(map: &TableMap, rowid_column: Option<&str>) -> Option<Vec<usize>> {
    let names: Vec<String> = match &map.key {
        SourceKey::PrimaryKey(columns) => columns.clone(),
        SourceKey::Rowid => vec![rowid_column?.to_string()],
    };
    // Without a key (a view), rows are compared as a multiset.
    if names.is_empty() {
        return None;
    }
    names
        .iter()
        .map(|n| map.columns.iter().position(|c| &c.source == n))
        .collect()
}

fn key_of(columns: &[Vec<u8>], key_columns: &Option<Vec<usize>>) -> Option<String> {
    key_columns.as_ref().map(|idx| {
        idx.iter()
            .map(|&i| columns.get(i).map(|c| hex(c)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("/")
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A row's key as the user wrote it (`GenreId=1000`, `Code='a', Year=2024`): the internal key
/// is canonical bytes, good for matching rows but meaningless to a reader.
fn key_label(
    map: &TableMap,
    key_columns: &Option<Vec<usize>>,
    columns: &[Vec<u8>],
) -> Option<String> {
    let positions = key_columns.as_ref()?;
    let parts: Vec<String> = positions
        .iter()
        .map(|&i| {
            let value = columns.get(i).map_or_else(
                || "?".to_string(),
                |c| canonical_text(c, &map.columns[i].pg_type),
            );
            format!("{}={value}", map.columns[i].source)
        })
        .collect();
    Some(parts.join(", "))
}

/// The text of one canonical field (a binary COPY field with its length prefix): numbers and
/// dates as PostgreSQL prints them, text in single quotes, `NULL`.
fn canonical_text(field: &[u8], pg_type: &PgType) -> String {
    let Some((length, payload)) = field.split_first_chunk::<4>() else {
        return hex(field);
    };
    if i32::from_be_bytes(*length) < 0 {
        return "NULL".into();
    }
    // `jsonb` and the server-normalised types are compared as text (see `canonical`).
    let as_text = matches!(pg_type, PgType::Jsonb) || server_normalised(pg_type);
    let cell = if as_text {
        std::str::from_utf8(payload)
            .ok()
            .map(|t| Cell::Text(Cow::Borrowed(t)))
    } else {
        decode(Some(payload), pg_type).ok()
    };
    match cell {
        Some(Cell::Text(t)) => crate::dialect::quote_literal(&t),
        Some(cell) => {
            let mut buf = Vec::new();
            crate::transfer::load::encode::text_field(&mut buf, &cell);
            String::from_utf8_lossy(&buf).into_owned()
        }
        None => hex(payload),
    }
}

type Sink<'a> = dyn FnMut(RowDigest) + 'a;

fn scan_source(
    conn: &mut PgConnection,
    table: &TableToCheck<'_>,
    key_columns: &Option<Vec<usize>>,
    sink: &mut Sink<'_>,
) -> Result<(u64, u128)> {
    let TableToCheck {
        source_path: path,
        map,
        source_columns,
        skip,
        ..
    } = *table;
    let mut reader = TableReader::new(path, map, source_columns)?;
    let key_names = crate::transfer::load::pages::key_names(map, source_columns);
    let normalised: Vec<usize> = (0..map.columns.len())
        .filter(|&i| server_normalised(&map.columns[i].pg_type))
        .collect();
    let (mut count, mut sum) = (0u64, 0u128);
    let mut page = Page::default();
    while reader.next_page(&mut page)? {
        let mut rows: Vec<Vec<Cell<'_>>> = Vec::with_capacity(page.len());
        'rows: for row in page.rows() {
            if let Some(skip) = skip {
                if skip.contains(&object(&key_names, row.key()).to_string()) {
                    continue;
                }
            }
            let mut cells = Vec::with_capacity(map.columns.len());
            for (value, column) in row.values().zip(&map.columns) {
                match convert(value, column) {
                    Outcome::Exact(cell) | Outcome::Repaired(cell, _) => cells.push(cell),
                    Outcome::Reject(_) => continue 'rows,
                }
            }
            rows.push(cells);
        }
        for &i in &normalised {
            let texts: Vec<Option<String>> = rows
                .iter()
                .map(|cells| match &cells[i] {
                    Cell::Null => None,
                    Cell::Text(t) => Some(t.to_string()),
                    other => {
                        let mut buf = Vec::new();
                        crate::transfer::load::encode::text_field(&mut buf, other);
                        Some(String::from_utf8_lossy(&buf).into_owned())
                    }
                })
                .collect();
            let normal = normalise(conn, &map.columns[i].pg_type, texts)?;
            for (cells, text) in rows.iter_mut().zip(normal) {
                cells[i] = text.map_or(Cell::Null, |t| Cell::Text(Cow::Owned(t)));
            }
        }
        for cells in &rows {
            let keep = key_columns.is_some();
            let mut row_digest = digest(cells, None, keep);
            row_digest.key = key_of(&row_digest.columns, key_columns);
            count += 1;
            sum = sum.wrapping_add(row_digest.hash);
            sink(row_digest);
        }
    }
    Ok((count, sum))
}

#[derive(QueryableByName)]
struct Normalised {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// Has the server parse and print values of a text-compared type.
fn normalise(
    conn: &mut PgConnection,
    pg_type: &PgType,
    texts: Vec<Option<String>>,
) -> Result<Vec<Option<String>>> {
    let sql = format!(
        "SELECT (u.t::{})::text AS value FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY u.n",
        pg_type.sql()
    );
    let rows: Vec<Normalised> = diesel::sql_query(sql)
        .bind::<Array<Nullable<Text>>, _>(texts)
        .load(conn)
        .map_err(|e| server_error(format!("normalising {} values", pg_type.sql()), e))?;
    Ok(rows.into_iter().map(|r| r.value).collect())
}

fn scan_target(
    conn: &mut PgConnection,
    (map, filter): (&TableMap, Option<&str>),
    key_columns: &Option<Vec<usize>>,
    sink: &mut Sink<'_>,
) -> Result<(u64, u128)> {
    let select: Vec<String> = map
        .columns
        .iter()
        .map(|c| {
            let name = quote_ident(&c.target).map_err(Error::Invalid)?;
            Ok(if server_normalised(&c.pg_type) {
                format!("{name}::text")
            } else {
                name
            })
        })
        .collect::<Result<_>>()?;
    let query = format!(
        "SELECT {} FROM {}{}",
        if select.is_empty() {
            "NULL".to_string()
        } else {
            select.join(", ")
        },
        map.qualified_target(),
        filter.map(|f| format!(" WHERE {f}")).unwrap_or_default()
    );
    let keep = key_columns.is_some();
    let result = copy_out(conn, &query, |stream| -> Result<(u64, u128)> {
        let (mut count, mut sum) = (0u64, 0u128);
        let mut reader = BinaryRows::new(stream)?;
        let mut fields: Vec<Option<Vec<u8>>> = Vec::new();
        while reader.next_row(&mut fields)? {
            let cells: Vec<Cell<'_>> = fields
                .iter()
                .zip(&map.columns)
                .map(|(field, column)| decode(field.as_deref(), &column.pg_type))
                .collect::<Result<_>>()?;
            let mut row_digest = digest(&cells, None, keep);
            row_digest.key = key_of(&row_digest.columns, key_columns);
            count += 1;
            sum = sum.wrapping_add(row_digest.hash);
            sink(row_digest);
        }
        Ok((count, sum))
    })
    .map_err(|e| server_error(format!("reading table `{}` back", map.target), e))?;
    result
}

/// Decodes one binary COPY field of a column into the cell the copier would have sent.
fn decode<'a>(field: Option<&'a [u8]>, pg_type: &PgType) -> Result<Cell<'a>> {
    let Some(bytes) = field else {
        return Ok(Cell::Null);
    };
    let bad = || {
        Error::Invalid(format!(
            "unexpected {} bytes for {}",
            bytes.len(),
            pg_type.sql()
        ))
    };
    let fixed = |n: usize| -> Result<&[u8]> { (bytes.len() == n).then_some(bytes).ok_or_else(bad) };
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
    Ok(match pg_type {
        PgType::Boolean => Cell::Bool(fixed(1)?[0] != 0),
        PgType::SmallInt => Cell::I16(i16::from_be_bytes(fixed(2)?.try_into().map_err(|_| bad())?)),
        PgType::Integer => Cell::I32(i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?)),
        PgType::BigInt => Cell::I64(i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?)),
        PgType::Real => Cell::F32(f32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?)),
        PgType::Double => Cell::F64(f64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?)),
        PgType::Bytea => Cell::Bytes(Cow::Borrowed(bytes)),
        PgType::Timestamp | PgType::Timestamptz => Cell::Micros(
            i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?)
                .saturating_add(PG_EPOCH_MICROS),
        ),
        PgType::Date => Cell::Days(
            i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| bad())?).saturating_add(10_957),
        ),
        PgType::Time => {
            Cell::TimeOfDay(i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| bad())?))
        }
        PgType::Uuid => Cell::Uuid(fixed(16)?.try_into().map_err(|_| bad())?),
        PgType::Jsonb => Cell::Jsonb(Cow::Borrowed(
            std::str::from_utf8(bytes.get(1..).ok_or_else(bad)?).map_err(|_| bad())?,
        )),
        _ => Cell::Text(Cow::Borrowed(
            std::str::from_utf8(bytes).map_err(|_| bad())?,
        )),
    })
}

/// Reads rows of a binary COPY stream.
struct BinaryRows<'a> {
    stream: &'a mut dyn BufRead,
}

impl<'a> BinaryRows<'a> {
    fn new(stream: &'a mut dyn BufRead) -> Result<Self> {
        let mut header = [0u8; 19];
        read_exact(stream, &mut header)?;
        if &header[..11] != b"PGCOPY\n\xff\r\n\0" {
            return Err(Error::Invalid(
                "the server's COPY stream has no binary header".into(),
            ));
        }
        let extension = u32::from_be_bytes(header[15..19].try_into().expect("4 bytes")) as usize;
        let mut skip = vec![0u8; extension];
        read_exact(stream, &mut skip)?;
        Ok(BinaryRows { stream })
    }

    fn next_row(&mut self, fields: &mut Vec<Option<Vec<u8>>>) -> Result<bool> {
        let mut count = [0u8; 2];
        if !read_exact_or_eof(self.stream, &mut count)? {
            return Ok(false);
        }
        let count = i16::from_be_bytes(count);
        if count < 0 {
            // Read past the trailer: the connection is busy until the stream has ended.
            let mut rest = Vec::new();
            self.stream
                .read_to_end(&mut rest)
                .map_err(|source| Error::Io {
                    context: "reading the server's COPY stream".into(),
                    source,
                })?;
            return Ok(false);
        }
        fields.clear();
        for _ in 0..count {
            let mut len = [0u8; 4];
            read_exact(self.stream, &mut len)?;
            let len = i32::from_be_bytes(len);
            if len < 0 {
                fields.push(None);
            } else {
                let mut bytes = vec![0u8; len as usize];
                read_exact(self.stream, &mut bytes)?;
                fields.push(Some(bytes));
            }
        }
        Ok(true)
    }
}

fn read_exact(stream: &mut dyn BufRead, buf: &mut [u8]) -> Result<()> {
    stream.read_exact(buf).map_err(|source| Error::Io {
        context: "reading the server's COPY stream".into(),
        source,
    })
}

fn read_exact_or_eof(stream: &mut dyn BufRead, buf: &mut [u8]) -> Result<bool> {
    if stream
        .fill_buf()
        .map_err(|source| Error::Io {
            context: "reading the server's COPY stream".into(),
            source,
        })?
        .is_empty()
    {
        return Ok(false);
    }
    read_exact(stream, buf)?;
    Ok(true)
}

/// The second pass on a table that differs: names rows and columns.
fn diff(
    conn: &mut PgConnection,
    check: &TableToCheck<'_>,
    key_columns: &Option<Vec<usize>>,
) -> Result<Vec<Difference>> {
    let map = check.map;
    let mut differences = Vec::new();
    let table = map.source.clone();
    let push = |differences: &mut Vec<Difference>,
                key: Option<String>,
                column: Option<String>,
                what: String| {
        if differences.len() < MAX_DIFFERENCES {
            differences.push(Difference {
                table: table.clone(),
                key,
                column,
                what,
            });
        }
    };
    if key_columns.is_some() {
        let mut source: HashMap<String, RowDigest> = HashMap::new();
        scan_source(conn, check, key_columns, &mut |row| {
            source.insert(row.key.clone().unwrap_or_default(), row);
        })?;
        let mut found: Vec<(Option<String>, Option<String>, String)> = Vec::new();
        let label = |row: &RowDigest| key_label(map, key_columns, &row.columns);
        scan_target(conn, (map, None), key_columns, &mut |row| {
            let key = row.key.clone().unwrap_or_default();
            match source.remove(&key) {
                None => found.push((
                    label(&row),
                    None,
                    "row is in the target but not in the source".into(),
                )),
                Some(expected) if expected.hash != row.hash => {
                    for (i, (a, b)) in expected.columns.iter().zip(&row.columns).enumerate() {
                        if a != b {
                            found.push((
                                label(&row),
                                Some(map.columns[i].source.clone()),
                                "value differs".into(),
                            ));
                        }
                    }
                }
                Some(_) => {}
            }
        })?;
        let mut missing: Vec<RowDigest> = source.into_values().collect();
        missing.sort_by(|a, b| a.key.cmp(&b.key));
        for row in missing {
            found.push((label(&row), None, "row is missing from the target".into()));
        }
        for (key, column, what) in found {
            push(&mut differences, key, column, what);
        }
    } else {
        let mut source: HashMap<u128, u64> = HashMap::new();
        scan_source(conn, check, key_columns, &mut |row| {
            *source.entry(row.hash).or_default() += 1;
        })?;
        let mut extra = 0u64;
        scan_target(
            conn,
            (map, None),
            key_columns,
            &mut |row| match source.get_mut(&row.hash) {
                Some(n) if *n > 0 => *n -= 1,
                _ => extra += 1,
            },
        )?;
        let missing: u64 = source.values().sum();
        if missing > 0 {
            push(
                &mut differences,
                None,
                None,
                format!("{missing} source row(s) have no identical row in the target"),
            );
        }
        if extra > 0 {
            push(
                &mut differences,
                None,
                None,
                format!("{extra} target row(s) have no identical row in the source"),
            );
        }
    }
    Ok(differences)
}

use crate::transfer::jsonb as json;
#[cfg(test)]
use json::canonical_decimal;

#[cfg(test)]
mod mutants_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_compares_as_postgres_stores_it() {
        let same = [
            // Key order, whitespace and duplicate keys (the last wins).
            (
                r#"{"b": 1, "a": [true, null]}"#,
                r#"{"a":[true,null],"b":1}"#,
            ),
            (r#"{"k": 1, "k": 2}"#, r#"{"k":2}"#),
            // Numbers by decimal value, beyond f64's range and precision.
            (
                r#"{"n": 1.0e400}"#,
                &format!(r#"{{"n": 1{}}}"#, "0".repeat(400)),
            ),
            ("[2.50, -0, 1E2, 0.001]", "[2.5, 0, 100, 1e-3]"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890.0",
            ),
            // Numbers inside strings are text.
            (r#"{"s": "1.0 \" 2"}"#, r#"{"s":"1.0 \" 2"}"#),
        ];
        for (source, target) in same {
            assert_eq!(canonical_jsonb(source), canonical_jsonb(target), "{source}");
        }
        let different = [
            (
                "123456789012345678901234567890",
                "123456789012345678901234567891",
            ),
            (r#"{"s": "1"}"#, r#"{"s": 1}"#),
            ("[1, 2]", "[2, 1]"),
            ("1e400", "1e401"),
        ];
        for (a, b) in different {
            assert_ne!(canonical_jsonb(a), canonical_jsonb(b), "{a} vs {b}");
        }
    }

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(
            canonical_decimal("0.30000000000000004"),
            "30000000000000004e-17"
        );
        assert_eq!(canonical_decimal("-1200"), "-12e2");
        assert_eq!(canonical_decimal("-0.0e5"), "0");
        assert_eq!(canonical_decimal("1.5E+3"), "15e2");
    }
}
