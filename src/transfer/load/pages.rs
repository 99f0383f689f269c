//! Reading the SQLite source: opened read-only, never modified; tables read in keyset pages
//! (`rowid`, or the primary key of `WITHOUT ROWID` tables), never with OFFSET. A page ends at
//! [`MAX_PAGE_ROWS`] rows or once it holds [`PAGE_BYTES`], whatever the rows hold.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, QueryableByName};
use diesel::row::{Field, NamedRow};
use diesel::sql_types::{BigInt, Binary, Double};
use diesel::sqlite::{Sqlite, SqliteConnection, SqliteType};
use diesel::RunQueryDsl;

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::values::{Src, SrcValue};
use crate::transfer::model::{SourceKey, TableMap};
pub(crate) use crate::transfer::text::maybe_repaired;

/// The bytes a page aims at; with the channel between reader and writer this bounds memory.
pub const PAGE_BYTES: usize = 2 << 20;
/// The most rows in one page.
pub const MAX_PAGE_ROWS: usize = 20_000;

/// Opens `path` read-only (see [`crate::transfer::plan::catalog::Source::open`]: the header is checked, a
/// `-wal` file is read, corruption is reported as [`Error::NotSqlite`], a writer holding a lock
/// delays the read instead of failing it).
pub fn open(path: &Path) -> Result<SqliteConnection> {
    let mut conn = crate::transfer::plan::catalog::Source::open(path)?.into_connection();
    conn.batch_execute("PRAGMA query_only = ON;")
        .map_err(|e| source_error(path, None, e))?;
    Ok(conn)
}

/// The transfer error for a failed read of the source, naming the table when there is one and
/// keeping the driver's error as its source.
pub(crate) fn source_error(
    path: &Path,
    table: Option<&str>,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    let message = match table {
        Some(t) => format!("table `{t}`: {e}"),
        None => e.to_string(),
    };
    crate::transfer::plan::catalog::caused_source_error(path, message, e)
}

/// The column of `table` that aliases its rowid (a single-column `INTEGER PRIMARY KEY` of a
/// rowid table, unless SQLite gave the key an index of its own, as it does for a column declared
/// `INTEGER PRIMARY KEY DESC`), if any.
pub fn rowid_alias_column(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Option<String>, diesel::result::Error> {
    #[derive(diesel::QueryableByName)]
    struct Info {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[diesel(column_name = type_)]
        declared: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pk: i32,
    }
    let quoted = crate::dialect::quote_literal(table);
    let columns: Vec<Info> = diesel::sql_query(format!(
        "SELECT name, type AS type_, pk FROM pragma_table_info({quoted})"
    ))
    .load(conn)?;
    let keys: Vec<&Info> = columns.iter().filter(|c| c.pk > 0).collect();
    let [key] = keys.as_slice() else {
        return Ok(None);
    };
    if !key.declared.eq_ignore_ascii_case("INTEGER") {
        return Ok(None);
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let key_indexes: Vec<Count> = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pragma_index_list({quoted}) WHERE origin = 'pk'"
    ))
    .load(conn)?;
    if key_indexes.first().is_some_and(|c| c.n > 0) {
        return Ok(None);
    }
    let without_rowid = without_rowid(conn, table)?;
    Ok((!without_rowid).then(|| key.name.clone()))
}

/// Whether `table` is a `WITHOUT ROWID` table, read from its `CREATE TABLE` text with the
/// introspector's parser (table options may come in any order: `WITHOUT ROWID, STRICT`).
pub fn without_rowid(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<bool, diesel::result::Error> {
    #[derive(diesel::QueryableByName)]
    struct Sql {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        sql: Option<String>,
    }
    let sql: Vec<Sql> = diesel::sql_query(format!(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = {}",
        crate::dialect::quote_literal(table)
    ))
    .load(conn)?;
    Ok(sql
        .first()
        .and_then(|s| s.sql.as_deref())
        .and_then(|sql| crate::transfer::plan::catalog::parse_create_table(sql).ok())
        .is_some_and(|parsed| parsed.without_rowid))
}

/// Where one value of a [`Page`] is: numbers in place, text and blobs as a range of the
/// page's bytes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    Int(i64),
    Float(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

/// Rows read from one table: every value of every row in one vector, and every text and blob
/// in one byte buffer, so reading a row allocates nothing and a page can be refilled in place.
/// Each row is its paging key (the rowid, the primary key, or its position) followed by its
/// values in [`TableMap::columns`] order.
#[derive(Debug, Default)]
pub struct Page {
    /// Slots per row (key and values); 0 until the first row.
    width: usize,
    /// Key slots at the start of each row.
    keys: usize,
    slots: Vec<Slot>,
    bytes: Vec<u8>,
}

impl Page {
    /// Rows in the page.
    pub fn len(&self) -> usize {
        self.slots.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether the page holds no row.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Row `index`.
    pub fn row(&self, index: usize) -> RowRef<'_> {
        RowRef {
            page: self,
            start: index * self.width,
        }
    }

    /// The rows, in key order.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'_>> {
        (0..self.len()).map(|i| self.row(i))
    }

    /// Roughly the memory the rows take, for page sizing.
    fn weight(&self) -> usize {
        self.bytes.len() + self.slots.len() * std::mem::size_of::<Slot>()
    }

    /// Empties the page, keeping its memory.
    fn clear(&mut self, keys: usize) {
        self.width = 0;
        self.keys = keys;
        self.slots.clear();
        self.bytes.clear();
    }

    /// Makes room for a full page up front: a page that grew by doubling would leave a trail
    /// of freed large blocks the allocator keeps committed.
    fn reserve_full(&mut self) {
        self.slots
            .reserve(PAGE_BYTES / std::mem::size_of::<Slot>() + 64);
        self.bytes.reserve(PAGE_BYTES);
    }

    /// Gives back the memory of a page that grew far past the page size for a few huge rows.
    pub fn shrink(&mut self) {
        if self.bytes.capacity() > 2 * PAGE_BYTES {
            self.bytes = Vec::new();
        }
        if self.slots.capacity() * std::mem::size_of::<Slot>() > 2 * PAGE_BYTES {
            self.slots = Vec::new();
        }
    }

    fn push_bytes(&mut self, bytes: &[u8], text: bool) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        let end = self.bytes.len();
        self.slots.push(if text {
            Slot::Text(start, end)
        } else {
            Slot::Blob(start, end)
        });
    }

    fn src(&self, slot: Slot) -> Src<'_> {
        match slot {
            Slot::Null => Src::Null,
            Slot::Int(i) => Src::Int(i),
            Slot::Float(x) => Src::Float(x),
            Slot::Text(a, b) => Src::Text(&self.bytes[a..b]),
            Slot::Blob(a, b) => Src::Blob(&self.bytes[a..b]),
        }
    }
}

/// One row of a [`Page`].
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'p> {
    page: &'p Page,
    start: usize,
}

impl<'p> RowRef<'p> {
    fn slots(&self) -> &'p [Slot] {
        &self.page.slots[self.start..self.start + self.page.width]
    }

    /// The paging key: the rowid, the primary key values, or the position.
    pub fn key(&self) -> impl ExactSizeIterator<Item = Src<'p>> + 'p {
        let page = self.page;
        self.slots()[..page.keys].iter().map(move |s| page.src(*s))
    }

    /// The column values, in [`TableMap::columns`] order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = Src<'p>> + 'p {
        let page = self.page;
        self.slots()[page.keys..].iter().map(move |s| page.src(*s))
    }

    /// Column value `index`.
    pub fn value(&self, index: usize) -> Src<'p> {
        self.page.src(self.slots()[self.page.keys + index])
    }

    /// The key, owned.
    pub fn key_owned(&self) -> Vec<SrcValue> {
        self.key().map(|v| v.to_owned_value()).collect()
    }

    /// The values, owned.
    pub fn values_owned(&self) -> Vec<SrcValue> {
        self.values().map(|v| v.to_owned_value()).collect()
    }
}

/// The page a query on this thread is filling. Diesel builds one row value at a time from
/// borrowed SQLite values; [`Appended`] copies each row in here instead of allocating it.
struct Filling {
    page: Page,
    /// The database stores text as UTF-8 (else UTF-16, converted by SQLite).
    utf8: bool,
    /// The position of the next row, for a table paged by position (its key).
    next_position: Option<i64>,
}

thread_local! {
    static FILLING: std::cell::RefCell<Option<Filling>> = const { std::cell::RefCell::new(None) };
}

/// A row that has been appended to [`FILLING`].
struct Appended;

impl QueryableByName<Sqlite> for Appended {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        FILLING.with(|cell| {
            let mut guard = cell.borrow_mut();
            let filling = guard
                .as_mut()
                .ok_or("no page being filled on this thread")?;
            let before = filling.page.slots.len();
            if let Some(position) = filling.next_position.as_mut() {
                filling.page.slots.push(Slot::Int(*position));
                *position += 1;
            }
            let n = diesel::row::Row::field_count(row);
            for i in 0..n {
                let field = diesel::row::Row::get(row, i).ok_or("field index out of range")?;
                let Some(mut value) = field.value() else {
                    filling.page.slots.push(Slot::Null);
                    continue;
                };
                match value.value_type() {
                    Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                        filling.page.slots.push(Slot::Int(value.read_long()))
                    }
                    Some(SqliteType::Double | SqliteType::Float) => {
                        filling.page.slots.push(Slot::Float(value.read_double()))
                    }
                    // Text is kept as stored, even when it is not UTF-8. read_text borrows
                    // valid UTF-8 as it is (read_blob would copy every text value); only a
                    // text with U+FFFD, which read_text may have put there for invalid bytes,
                    // is read again as its stored bytes. A UTF-16 database stores UTF-16,
                    // which SQLite converts to UTF-8 for read_text.
                    Some(SqliteType::Text) if filling.utf8 => {
                        let text = value.read_text();
                        if maybe_repaired(text) {
                            filling.page.push_bytes(value.read_blob(), true)
                        } else {
                            filling.page.push_bytes(text.as_bytes(), true)
                        }
                    }
                    Some(SqliteType::Text) => {
                        filling.page.push_bytes(value.read_text().as_bytes(), true)
                    }
                    Some(SqliteType::Binary) => filling.page.push_bytes(value.read_blob(), false),
                    None => filling.page.slots.push(Slot::Null),
                }
            }
            let width = filling.page.slots.len() - before;
            if filling.page.width == 0 {
                filling.page.width = width;
            } else if filling.page.width != width {
                return Err("rows of one query differ in width".into());
            }
            Ok(Appended)
        })
    }
}

/// Reads one table page by page, in key order.
pub struct TableReader {
    conn: SqliteConnection,
    path: PathBuf,
    table: String,
    select: String,
    key_exprs: Vec<String>,
    last_key: Option<Vec<SrcValue>>,
    done: bool,
    utf8: bool,
    /// Rows read so far (the OFFSET of a table paged by position).
    position: i64,
    /// Read only keys in this range ([`TableReader::within`]).
    range: Option<KeyRange>,
}

/// A range of a table's integer key: the keys above `after` (all when `None`) up to and
/// including `through` (all when `None`). One part of a table copied in parallel streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRange {
    /// The part's number, from 1.
    pub part: usize,
    /// The largest key of the part before, if any.
    pub after: Option<i64>,
    /// The largest key of this part; `None` for the last part.
    pub through: Option<i64>,
}

impl KeyRange {
    /// The SQL conditions on `key` that keep the range's rows; `from_start` includes the lower
    /// bound (a reader past its first page has a tighter one of its own).
    pub fn bounds(&self, key: &str, from_start: bool) -> Vec<String> {
        let mut bounds = Vec::new();
        if let (Some(after), true) = (self.after, from_start) {
            bounds.push(format!("{key} > {after}"));
        }
        if let Some(through) = self.through {
            bounds.push(format!("{key} <= {through}"));
        }
        bounds
    }
}

/// The names of a row's key, as reject files and verification record it: the primary key
/// columns, `rowid`, or `position` (the row's 1-based place in a table whose real columns
/// shadow all of `rowid`, `_rowid_` and `oid`).
pub fn key_names(map: &TableMap, all_columns: &[String]) -> Vec<String> {
    match &map.key {
        SourceKey::PrimaryKey(columns) => columns.clone(),
        SourceKey::Rowid if rowid_alias(all_columns).is_some() => vec!["rowid".to_string()],
        SourceKey::Rowid => vec!["position".to_string()],
    }
}

/// The first of `rowid`, `_rowid_`, `oid` that is not shadowed by a real column.
pub fn rowid_alias(columns: &[String]) -> Option<&'static str> {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| !columns.iter().any(|c| c.eq_ignore_ascii_case(alias)))
}

impl TableReader {
    /// A reader over `map.source` on its own read-only connection. The whole table is read in
    /// one read transaction, so it is one consistent snapshot.
    pub fn new(path: &Path, map: &TableMap, all_columns: &[String]) -> Result<Self> {
        let mut conn = open(path)?;
        let quote = |name: &str| quote_ident(name).map_err(Error::Invalid);
        // A rowid table whose real columns shadow every rowid alias has no key to page by: it
        // is paged by position instead (no key expression), inside the same read transaction.
        let key_exprs: Vec<String> = match &map.key {
            SourceKey::Rowid => rowid_alias(all_columns)
                .map(str::to_string)
                .into_iter()
                .collect(),
            SourceKey::PrimaryKey(columns) => {
                columns.iter().map(|c| quote(c)).collect::<Result<_>>()?
            }
        };
        let mut select = String::from("SELECT ");
        for expr in &key_exprs {
            select.push_str(expr);
            select.push_str(", ");
        }
        let columns: Vec<String> = map
            .columns
            .iter()
            .map(|c| quote(&c.source))
            .collect::<Result<_>>()?;
        select.push_str(&if columns.is_empty() {
            "NULL".to_string()
        } else {
            columns.join(", ")
        });
        select.push_str(" FROM ");
        select.push_str(&quote(&map.source)?);
        #[derive(diesel::QueryableByName)]
        struct Encoding {
            #[diesel(sql_type = diesel::sql_types::Text)]
            encoding: String,
        }
        let encoding: Vec<Encoding> = diesel::sql_query("PRAGMA encoding")
            .load(&mut conn)
            .map_err(|e| source_error(path, Some(&map.source), e))?;
        let utf8 = encoding
            .first()
            .is_none_or(|e| e.encoding.eq_ignore_ascii_case("UTF-8"));
        conn.batch_execute("BEGIN")
            .map_err(|e| source_error(path, Some(&map.source), e))?;
        Ok(TableReader {
            conn,
            path: path.to_path_buf(),
            table: map.source.clone(),
            select,
            key_exprs,
            last_key: None,
            done: false,
            utf8,
            position: 0,
            range: None,
        })
    }

    /// Reads only the keys of `range`. The table must be read by one integer key (the rowid
    /// or its alias).
    pub fn within(&mut self, range: KeyRange) -> Result<()> {
        if self.key_exprs.len() != 1 {
            return Err(Error::Invalid(format!(
                "table `{}` has no single integer key to read in parts",
                self.table
            )));
        }
        self.range = Some(range);
        Ok(())
    }

    /// Fills `page` (emptied first) with the next rows; `false` at the end of the table.
    pub fn next_page(&mut self, page: &mut Page) -> Result<bool> {
        let positional = self.key_exprs.is_empty();
        page.clear(if positional { 1 } else { self.key_exprs.len() });
        if self.done {
            return Ok(false);
        }
        page.reserve_full();
        let order = self.key_exprs.join(", ");
        let mut sql = self.select.clone();
        let mut query_binds: Vec<&SrcValue> = Vec::new();
        let mut conditions = self
            .range
            .map(|range| range.bounds(&self.key_exprs[0], self.last_key.is_none()))
            .unwrap_or_default();
        if let (false, Some(last)) = (positional, &self.last_key) {
            let placeholders: Vec<String> = last
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    SrcValue::Text(_) => format!("CAST(?{} AS TEXT)", i + 1),
                    _ => format!("?{}", i + 1),
                })
                .collect();
            if self.key_exprs.len() == 1 {
                conditions.push(format!("{} > {}", self.key_exprs[0], placeholders[0]));
            } else {
                conditions.push(format!("({order}) > ({})", placeholders.join(", ")));
            }
            query_binds.extend(last.iter());
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        if positional {
            // A table scan returns rows in rowid order, and the read transaction keeps the
            // snapshot, so OFFSET continues exactly where the last page ended.
            sql.push_str(&format!(" LIMIT {MAX_PAGE_ROWS} OFFSET {}", self.position));
        } else {
            sql.push_str(&format!(" ORDER BY {order} LIMIT {MAX_PAGE_ROWS}"));
        }
        let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
        for value in query_binds {
            query = match value {
                SrcValue::Int(i) => query.bind::<BigInt, _>(*i),
                SrcValue::Float(x) => query.bind::<Double, _>(*x),
                SrcValue::Text(b) | SrcValue::Blob(b) => query.bind::<Binary, _>(b.clone()),
                SrcValue::Null => query.bind::<diesel::sql_types::Nullable<BigInt>, _>(None::<i64>),
            };
        }
        // Stream the page and stop at the byte budget, so memory stays bounded even when a few
        // rows are huge.
        FILLING.with(|cell| {
            *cell.borrow_mut() = Some(Filling {
                page: std::mem::take(page),
                utf8: self.utf8,
                next_position: positional.then_some(self.position + 1),
            })
        });
        let mut cut_short = false;
        let result = (|| -> diesel::QueryResult<()> {
            let rows = query
                .load_iter::<Appended, diesel::connection::DefaultLoadingMode>(&mut self.conn)?;
            for row in rows {
                row?;
                let full = FILLING.with(|cell| {
                    cell.borrow()
                        .as_ref()
                        .is_some_and(|f| f.page.weight() >= PAGE_BYTES)
                });
                if full {
                    cut_short = true;
                    break;
                }
            }
            Ok(())
        })();
        if let Some(filling) = FILLING.with(|cell| cell.borrow_mut().take()) {
            *page = filling.page;
        }
        result.map_err(|e| source_error(&self.path, Some(&self.table), e))?;
        let rows = page.len();
        if !cut_short && rows < MAX_PAGE_ROWS {
            self.done = true;
            let _ = self.conn.batch_execute("COMMIT");
        }
        if rows > 0 {
            self.last_key = Some(page.row(rows - 1).key_owned());
        }
        self.position += rows as i64;
        Ok(rows > 0)
    }
}
