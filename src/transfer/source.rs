//! Reading the SQLite source: opened read-only, never modified; tables read in keyset pages
//! (`rowid`, or the primary key of `WITHOUT ROWID` tables), never with OFFSET. A page ends at
//! [`MAX_PAGE_ROWS`] rows or once it holds [`PAGE_BYTES`], whatever the rows hold.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::{Field, NamedRow};
use diesel::sql_types::{BigInt, Binary, Double};
use diesel::sqlite::{Sqlite, SqliteConnection, SqliteType, SqliteValue};
use diesel::RunQueryDsl;
use diesel_dynamic_schema::dynamic_value::Any as AnySql;

use super::error::{Error, Result};
use super::model::{SourceKey, TableMap};
use super::values::SrcValue;
use crate::dialect::quote_ident;

/// The bytes a page aims at; with the channel between reader and writer this bounds memory.
pub const PAGE_BYTES: usize = 2 << 20;
/// The most rows in one page.
pub const MAX_PAGE_ROWS: usize = 20_000;

/// Opens `path` read-only (see [`super::introspect::Source::open`]: the header is checked, a
/// `-wal` file is read, corruption is reported as [`Error::NotSqlite`], a writer holding a lock
/// delays the read instead of failing it).
pub fn open(path: &Path) -> Result<SqliteConnection> {
    let mut conn = super::introspect::Source::open(path)?.into_connection();
    conn.batch_execute("PRAGMA query_only = ON;")
        .map_err(|e| source_error(path, None, e))?;
    Ok(conn)
}

pub(crate) fn source_error(path: &Path, table: Option<&str>, e: impl std::fmt::Display) -> Error {
    let message = match table {
        Some(t) => format!("table `{t}`: {e}"),
        None => e.to_string(),
    };
    super::introspect::source_error(path, message)
}

/// The column of `table` that aliases its rowid (a single-column `INTEGER PRIMARY KEY` of a
/// rowid table), if any.
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
        .and_then(|sql| super::introspect::parse_create_table(sql).ok())
        .is_some_and(|parsed| parsed.without_rowid))
}

/// One source row: its paging key and its values in [`TableMap::columns`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct SrcRow {
    /// The rowid, or the primary key values.
    pub key: Vec<SrcValue>,
    /// The column values.
    pub values: Vec<SrcValue>,
}

impl SrcRow {
    /// Roughly the bytes this row occupies, for page sizing.
    pub fn weight(&self) -> usize {
        self.values
            .iter()
            .map(|v| match v {
                SrcValue::Text(b) | SrcValue::Blob(b) => b.len() + 24,
                _ => 24,
            })
            .sum()
    }
}

struct RawRow(Vec<SrcValue>);

impl QueryableByName<Sqlite> for RawRow {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        let n = diesel::row::Row::field_count(row);
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            let field = diesel::row::Row::get(row, i).ok_or("field index out of range")?;
            values.push(<SrcValue as FromSql<AnySql, Sqlite>>::from_nullable_sql(
                field.value(),
            )?);
        }
        Ok(RawRow(values))
    }
}

thread_local! {
    /// Whether the database being read on this thread stores text as UTF-8. Set by
    /// [`TableReader`] before each page; Diesel builds rows with no other way in.
    static TEXT_IS_UTF8: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

impl FromSql<AnySql, Sqlite> for SrcValue {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(match value.value_type() {
            Some(SqliteType::Long | SqliteType::Integer | SqliteType::SmallInt) => {
                SrcValue::Int(value.read_long())
            }
            Some(SqliteType::Double | SqliteType::Float) => SrcValue::Float(value.read_double()),
            // In a UTF-8 database, read_blob returns the stored bytes of a TEXT value unchanged
            // (read_text would replace invalid UTF-8). A UTF-16 database stores UTF-16, which
            // SQLite converts to UTF-8 for read_text.
            Some(SqliteType::Text) if TEXT_IS_UTF8.get() => {
                SrcValue::Text(value.read_blob().to_vec())
            }
            Some(SqliteType::Text) => SrcValue::Text(value.read_text().as_bytes().to_vec()),
            Some(SqliteType::Binary) => SrcValue::Blob(value.read_blob().to_vec()),
            None => SrcValue::Null,
        })
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => <Self as FromSql<AnySql, Sqlite>>::from_sql(value),
            None => Ok(SrcValue::Null),
        }
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
        })
    }

    /// The next page of rows, or `None` at the end of the table.
    pub fn next_page(&mut self) -> Result<Option<Vec<SrcRow>>> {
        if self.done {
            return Ok(None);
        }
        TEXT_IS_UTF8.set(self.utf8);
        let order = self.key_exprs.join(", ");
        let mut sql = self.select.clone();
        let mut query_binds: Vec<&SrcValue> = Vec::new();
        let positional = self.key_exprs.is_empty();
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
                sql.push_str(&format!(
                    " WHERE {} > {}",
                    self.key_exprs[0], placeholders[0]
                ));
            } else {
                sql.push_str(&format!(" WHERE ({order}) > ({})", placeholders.join(", ")));
            }
            query_binds.extend(last.iter());
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
        let n_keys = self.key_exprs.len();
        let mut rows: Vec<SrcRow> = Vec::new();
        let mut bytes = 0;
        let mut cut_short = false;
        {
            let iter = query
                .load_iter::<RawRow, diesel::connection::DefaultLoadingMode>(&mut self.conn)
                .map_err(|e| source_error(&self.path, Some(&self.table), e))?;
            for raw in iter {
                let RawRow(mut values) =
                    raw.map_err(|e| source_error(&self.path, Some(&self.table), e))?;
                let rest = values.split_off(n_keys);
                let key = if positional {
                    vec![SrcValue::Int(self.position + rows.len() as i64 + 1)]
                } else {
                    values
                };
                let row = SrcRow { key, values: rest };
                bytes += row.weight();
                rows.push(row);
                if bytes >= PAGE_BYTES {
                    cut_short = true;
                    break;
                }
            }
        }
        if !cut_short && rows.len() < MAX_PAGE_ROWS {
            self.done = true;
            let _ = self.conn.batch_execute("COMMIT");
        }
        if let Some(last) = rows.last() {
            self.last_key = Some(last.key.clone());
        }
        self.position += rows.len() as i64;
        Ok(if rows.is_empty() { None } else { Some(rows) })
    }
}

impl Iterator for TableReader {
    type Item = Result<Vec<SrcRow>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_page().transpose()
    }
}
