//! What the loading side reads of the SQLite catalog to build its work: the tables, their
//! columns with primary-key positions, row counts, and how each table is keyed (`WITHOUT
//! ROWID`, a rowid alias). The planning side reads much more ([`crate::transfer::plan`]); these
//! few questions are all the work list asks.

use std::path::Path;

use diesel::sql_types::{BigInt, Integer, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

use crate::dialect::{quote_ident, quote_literal};
use crate::transfer::error::{Error, Result};
use crate::transfer::load::pages;

/// One column of a source table, as `pragma_table_info` gives it.
#[derive(QueryableByName)]
pub(crate) struct SourceColumn {
    /// Its name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Its position in the primary key, from 1; 0 when not in it.
    #[diesel(sql_type = Integer)]
    pub pk: i32,
    /// Its declared type, as written (empty when none was declared).
    #[diesel(sql_type = Text)]
    pub declared: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A read-only connection to the source with the questions the work list asks of it.
pub(crate) struct SourceCatalog<'p> {
    conn: SqliteConnection,
    path: &'p Path,
}

impl<'p> SourceCatalog<'p> {
    /// Opens the source read-only ([`pages::open`]).
    pub(crate) fn open(path: &'p Path) -> Result<Self> {
        Ok(SourceCatalog {
            conn: pages::open(path)?,
            path,
        })
    }

    fn error(&self, e: diesel::result::Error) -> Error {
        pages::source_error(self.path, None, e)
    }

    /// The user tables, by name.
    pub(crate) fn tables(&mut self) -> Result<Vec<String>> {
        let rows: Vec<Name> = diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .load(&mut self.conn)
        .map_err(|e| self.error(e))?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// The columns of `table` (`pragma_table_info`: hidden columns left out).
    pub(crate) fn columns(&mut self, table: &str) -> Result<Vec<SourceColumn>> {
        self.pragma_columns("pragma_table_info", table)
    }

    /// Every column name of `table`, hidden and generated ones included
    /// (`pragma_table_xinfo`).
    pub(crate) fn all_column_names(&mut self, table: &str) -> Result<Vec<String>> {
        let columns = self.pragma_columns("pragma_table_xinfo", table)?;
        Ok(columns.into_iter().map(|c| c.name).collect())
    }

    fn pragma_columns(&mut self, pragma: &str, table: &str) -> Result<Vec<SourceColumn>> {
        diesel::sql_query(format!(
            "SELECT name, pk, type AS declared FROM {pragma}({})",
            quote_literal(table)
        ))
        .load(&mut self.conn)
        .map_err(|e| self.error(e))
    }

    /// How many values of `table.column` are not NULL.
    pub(crate) fn non_null_values(&mut self, table: &str, column: &str) -> Result<i64> {
        self.count(&format!(
            "SELECT count({}) AS n FROM {}",
            quote_ident(column).map_err(Error::Invalid)?,
            quote_ident(table).map_err(Error::Invalid)?
        ))
    }

    /// Whether `table.column` holds a number (SQLite's `integer` or `real` storage class).
    pub(crate) fn holds_numbers(&mut self, table: &str, column: &str) -> Result<bool> {
        self.count(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE typeof({}) IN ('integer', 'real')) AS n",
            quote_ident(table).map_err(Error::Invalid)?,
            quote_ident(column).map_err(Error::Invalid)?
        ))
        .map(|n| n > 0)
    }

    /// Whether `column` of `table` holds date/time text without a UTC offset (`YYYY-MM-DD`,
    /// then no `Z`, ` UTC` or `+`/`-` after the date): a wall-clock time whose zone the file does
    /// not say.
    pub(crate) fn holds_naive_times(&mut self, table: &str, column: &str) -> Result<bool> {
        self.holds_date_text(table, column, |c| {
            format!("substr({c}, 11) NOT GLOB '*[+-]*' AND {c} NOT GLOB '*[Zz]' AND {c} NOT LIKE '% UTC'")
        })
    }

    /// Whether `column` of `table` holds date/time text with a UTC offset other than zero
    /// (`+` or `-` after the date, not `+00`, `+0000` or `+00:00` at the end): text whose
    /// wall-clock time changes when it is moved to UTC.
    pub(crate) fn holds_offset_times(&mut self, table: &str, column: &str) -> Result<bool> {
        self.holds_date_text(table, column, |c| {
            format!("substr({c}, 11) GLOB '*[+-]*' AND {c} NOT GLOB '*[+-]00' AND {c} NOT GLOB '*[+-]0000' AND {c} NOT GLOB '*[+-]00:00'")
        })
    }

    /// Whether a text of `column` starts with a `YYYY-MM-DD` date and meets `condition` (SQL
    /// over the quoted column name).
    fn holds_date_text(
        &mut self,
        table: &str,
        column: &str,
        condition: impl Fn(&str) -> String,
    ) -> Result<bool> {
        let c = quote_ident(column).map_err(Error::Invalid)?;
        self.count(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE typeof({c}) = 'text' AND {c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND {}) AS n",
            quote_ident(table).map_err(Error::Invalid)?,
            condition(&c),
        ))
        .map(|n| n > 0)
    }

    /// How many rows `table` holds.
    pub(crate) fn rows(&mut self, table: &str) -> Result<u64> {
        let n = self.count(&format!(
            "SELECT count(*) AS n FROM {}",
            quote_ident(table).map_err(Error::Invalid)?
        ))?;
        Ok(n as u64)
    }

    fn count(&mut self, sql: &str) -> Result<i64> {
        let rows: Vec<Count> = diesel::sql_query(sql)
            .load(&mut self.conn)
            .map_err(|e| self.error(e))?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// Whether `table` is a `WITHOUT ROWID` table ([`pages::without_rowid`]).
    pub(crate) fn without_rowid(&mut self, table: &str) -> Result<bool> {
        pages::without_rowid(&mut self.conn, table).map_err(|e| self.error(e))
    }

    /// The column aliasing the rowid of `table`, if any ([`pages::rowid_alias_column`]).
    pub(crate) fn rowid_alias(&mut self, table: &str) -> Result<Option<String>> {
        pages::rowid_alias_column(&mut self.conn, table).map_err(|e| self.error(e))
    }

    /// The `AUTOINCREMENT` counter of `table` in `sqlite_sequence` (ids SQLite will not hand
    /// out again, deleted rows' included), when the file has that table and a row for it.
    pub(crate) fn sequence(&mut self, table: &str) -> Result<Option<i64>> {
        let has_table = self.count(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
        )? > 0;
        if !has_table {
            return Ok(None);
        }
        let rows: Vec<Count> = diesel::sql_query(format!(
            "SELECT CAST(seq AS INTEGER) AS n FROM sqlite_sequence WHERE name = {}",
            quote_literal(table)
        ))
        .load(&mut self.conn)
        .map_err(|e| self.error(e))?;
        Ok(rows.first().map(|r| r.n))
    }
}
