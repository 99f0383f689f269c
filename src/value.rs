//! The dynamic [`Value`] and [`Row`] types shared by every backend.
//!
//! SQL sent through [`crate::Backend`] is only known at run time, so parameters and results are
//! dynamic values. Each variant maps to one storage form per database:
//!
//! | `Value`        | SQLite storage                                  | PostgreSQL type (written)  | PostgreSQL types read into it |
//! |----------------|-------------------------------------------------|----------------------------|-------------------------------|
//! | `Null`         | `NULL`                                          | `NULL`                     | any `NULL`                    |
//! | `Bool`         | `INTEGER` 0 / 1                                 | `boolean`                  | `boolean`                     |
//! | `Int`          | `INTEGER`                                       | `bigint`                   | `smallint`, `integer`, `bigint`, `oid` |
//! | `Float`        | `REAL`                                          | `double precision`         | `real`, `double precision`    |
//! | `Text`         | `TEXT`                                          | `text`                     | `text`, `varchar`, `char`, `name`, `numeric` (exact decimal text), `date` (`YYYY-MM-DD`), `time`, `inet`/`cidr`, enums and other user types that are valid UTF-8 |
//! | `Bytes`        | `BLOB`                                          | `bytea`                    | `bytea`; SQLite text that is not valid UTF-8 |
//! | `Timestamp`    | `TEXT` `YYYY-MM-DD HH:MM:SS.ffffff`, UTC        | `timestamptz`              | `timestamptz`, `timestamp` (taken as UTC) |
//! | `Json`         | `TEXT` holding the JSON document                | `jsonb`                    | `json`, `jsonb`               |
//! | `Uuid`         | `TEXT`, lowercase hyphenated                    | `uuid`                     | `uuid`                        |
//!
//! SQLite gives back what it stored, so a `Timestamp` written to SQLite reads back as `Text`.
//! The typed accessors ([`Row::get`] with [`FromValue`]) bridge that: they read a timestamp from
//! text, a boolean from 0/1, a UUID from text, and JSON from text, so the same code reads both
//! databases.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// One dynamic SQL value. See the module docs for how each maps to SQLite and PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// UTF-8 text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An instant, in UTC, with microsecond precision on both databases.
    Timestamp(DateTime<Utc>),
    /// A JSON document.
    Json(serde_json::Value),
    /// A UUID.
    Uuid(uuid::Uuid),
}

impl Value {
    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Timestamp(_) => "timestamp",
            Value::Json(_) => "json",
            Value::Uuid(_) => "uuid",
        }
    }

    /// The current instant truncated to microseconds, the precision both databases keep.
    pub fn now() -> Value {
        Value::Timestamp(truncate_to_micros(Utc::now()))
    }
}

/// Drops sub-microsecond precision, which neither database stores.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The text form a timestamp takes in SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`, always six fraction
/// digits, as [`crate::Dialect::now`] and the SQLite migrations' column defaults also write it.
/// One fixed width means text order is time order and equal instants are equal text, so
/// `ORDER BY`, `=` and `>` on the column behave as they do on a PostgreSQL `timestamptz`.
pub fn format_sqlite_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Parses the timestamp texts both databases produce: `YYYY-MM-DD HH:MM:SS[.f]`, the same with
/// `T`, an optional `Z` or `+HH[:MM]` offset, and a bare date (midnight UTC). Text without an
/// offset is taken as UTC.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    crate::datetime::parse_text(text.trim(), crate::datetime::TextForms::Written)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Text(s) => f.write_str(s),
            Value::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            Value::Timestamp(t) => {
                f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            Value::Json(j) => write!(f, "{j}"),
            Value::Uuid(u) => write!(f, "{u}"),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident $(as $cast:ty)?),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(v $(as $cast)?) }
        }
    )*};
}
value_from!(bool => Bool, i64 => Int, i32 => Int as i64, i16 => Int as i64, u32 => Int as i64,
    f64 => Float, f32 => Float as f64, String => Text, Vec<u8> => Bytes,
    DateTime<Utc> => Timestamp, serde_json::Value => Json, uuid::Uuid => Uuid);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A Rust type that can be read from a [`Value`], bridging how each database stores it.
pub trait FromValue: Sized {
    /// The name used in conversion errors.
    const EXPECTED: &'static str;
    /// Converts, or returns `None` if the value does not hold this type.
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "i64";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl FromValue for i32 {
    const EXPECTED: &'static str = "i32";
    fn from_value(value: &Value) -> Option<Self> {
        i64::from_value(value).and_then(|i| i32::try_from(i).ok())
    }
}

impl FromValue for f64 {
    const EXPECTED: &'static str = "f64";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Float(x) => Some(*x),
            // Integers are exact in f64 only up to 2^53; beyond that the read would change them.
            Value::Int(i) if i.unsigned_abs() <= 1 << 53 => Some(*i as f64),
            Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "bool";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            Value::Text(s) => match s.as_str() {
                "t" | "true" | "1" => Some(true),
                "f" | "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "string";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null | Value::Bytes(_) => None,
            Value::Text(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

impl FromValue for Vec<u8> {
    const EXPECTED: &'static str = "bytes";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bytes(b) => Some(b.clone()),
            Value::Text(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }
}

impl FromValue for DateTime<Utc> {
    const EXPECTED: &'static str = "timestamp";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Timestamp(t) => Some(*t),
            Value::Text(s) => parse_timestamp(s),
            _ => None,
        }
    }
}

impl FromValue for serde_json::Value {
    const EXPECTED: &'static str = "json";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Json(j) => Some(j.clone()),
            Value::Text(s) => serde_json::from_str(s).ok(),
            _ => None,
        }
    }
}

impl FromValue for uuid::Uuid {
    const EXPECTED: &'static str = "uuid";
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Uuid(u) => Some(*u),
            Value::Text(s) => uuid::Uuid::parse_str(s).ok(),
            Value::Bytes(b) => uuid::Uuid::from_slice(b).ok(),
            _ => None,
        }
    }
}

impl FromValue for Value {
    const EXPECTED: &'static str = "value";
    fn from_value(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
}

/// Reading `Option<T>` maps `NULL` to `None` and fails only when a non-null value does not fit.
impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row: column names (shared by all rows of a result) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// How a column of a [`Row`] is addressed: by position or by name.
pub trait ColumnIndex: fmt::Display {
    /// The position of the column in `row`, if it exists.
    fn position(&self, row: &Row) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, row: &Row) -> Option<usize> {
        (*self < row.values.len()).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, row: &Row) -> Option<usize> {
        row.columns.iter().position(|c| c == self)
    }
}

impl Row {
    /// Builds a row; `columns` and `values` have the same length.
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        debug_assert_eq!(columns.len(), values.len());
        Row { columns, values }
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Takes the values out of the row.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The raw value of a column.
    pub fn value<I: ColumnIndex>(&self, column: I) -> Result<&Value> {
        column
            .position(self)
            .map(|i| &self.values[i])
            .ok_or_else(|| Error::Conversion {
                column: column.to_string(),
                expected: "an existing column",
                found: format!("columns {:?}", self.columns),
            })
    }

    /// Reads a column as `T`, bridging storage differences (see [`FromValue`]).
    pub fn get<T: FromValue, I: ColumnIndex>(&self, column: I) -> Result<T> {
        let value = self.value(&column)?;
        T::from_value(value).ok_or_else(|| Error::Conversion {
            column: column.to_string(),
            expected: T::EXPECTED,
            found: describe(value),
        })
    }
}

impl<I: ColumnIndex> ColumnIndex for &I {
    fn position(&self, row: &Row) -> Option<usize> {
        (*self).position(row)
    }
}

fn describe(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > 40 {
        let mut cut = 40;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    format!("{} `{text}`", value.kind())
}

/// Reads rows of any shape through Diesel (`QueryableByName` over the `Any` SQL type).
pub(crate) mod diesel_rows {
    use super::{Row, Value};
    use diesel::backend::Backend as DieselBackend;
    use diesel::deserialize::{self, FromSql, QueryableByName};
    use diesel::row::{Field, NamedRow};
    use diesel_dynamic_schema::dynamic_value::Any;
    use std::cell::RefCell;
    use std::sync::Arc;

    thread_local! {
        /// The column names of the last row read on this thread. Diesel builds each row on its
        /// own, with no state shared by the rows of a result, so this is how those rows (and the
        /// next run of the same statement) share one name list instead of allocating every name
        /// for every row, which cost a point read a fifth of its time over typed Diesel.
        static LAST_NAMES: RefCell<Option<Arc<[String]>>> = const { RefCell::new(None) };
    }

    impl<DB: DieselBackend> QueryableByName<DB> for Row
    where
        Value: FromSql<Any, DB>,
    {
        fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
            let n = diesel::row::Row::field_count(row);
            let mut values = Vec::with_capacity(n);
            LAST_NAMES.with(|cell| {
                let mut last = cell.borrow_mut();
                // One pass reads the values and checks the names against the last row's.
                let mut same_names = last.as_ref().is_some_and(|names| names.len() == n);
                for i in 0..n {
                    let field = diesel::row::Row::get(row, i).ok_or("field index out of range")?;
                    if same_names {
                        same_names =
                            field.field_name() == last.as_ref().map(|names| names[i].as_str());
                    }
                    let value = <Value as FromSql<Any, DB>>::from_nullable_sql(field.value())
                        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> {
                            format!("column `{}`: {e}", field.field_name().unwrap_or("?")).into()
                        })?;
                    values.push(value);
                }
                if !same_names {
                    let name = |i| {
                        diesel::row::Row::get(row, i)
                            .and_then(|f| f.field_name().map(str::to_owned))
                    };
                    *last = Some(
                        (0..n)
                            .map(|i| name(i).unwrap_or_else(|| "?".into()))
                            .collect(),
                    );
                }
                let columns = last.clone().expect("set above when missing");
                Ok(Row::new(columns, values))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_in_both_databases_text_forms() {
        let t = parse_timestamp("2024-03-01 12:30:45.123456").unwrap();
        assert_eq!(t.timestamp_micros(), 1_709_296_245_123_456);
        assert_eq!(
            parse_timestamp("2024-03-01T12:30:45Z"),
            parse_timestamp("2024-03-01 12:30:45")
        );
        assert_eq!(
            parse_timestamp("2024-03-01 14:30:45+02").unwrap(),
            parse_timestamp("2024-03-01 12:30:45").unwrap()
        );
        assert_eq!(
            parse_timestamp("2024-03-01").unwrap().timestamp(),
            1_709_251_200
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn sqlite_timestamp_text_round_trips() {
        let t = parse_timestamp("2024-03-01 12:30:45.000001").unwrap();
        assert_eq!(format_sqlite_timestamp(&t), "2024-03-01 12:30:45.000001");
        assert_eq!(parse_timestamp(&format_sqlite_timestamp(&t)), Some(t));
        let whole = parse_timestamp("2024-03-01 12:30:45").unwrap();
        assert_eq!(
            format_sqlite_timestamp(&whole),
            "2024-03-01 12:30:45.000000"
        );
    }

    #[test]
    fn typed_reads_bridge_storage_differences() {
        let row = Row::new(
            vec!["flag".to_string(), "at".into(), "doc".into(), "n".into()].into(),
            vec![
                Value::Int(1),
                Value::Text("2024-01-02 03:04:05".into()),
                Value::Text("{\"a\":1}".into()),
                Value::Null,
            ],
        );
        assert!(row.get::<bool, _>("flag").unwrap());
        assert_eq!(
            row.get::<DateTime<Utc>, _>("at").unwrap().timestamp(),
            1_704_164_645
        );
        assert_eq!(row.get::<serde_json::Value, _>("doc").unwrap()["a"], 1);
        assert_eq!(row.get::<Option<i64>, _>("n").unwrap(), None);
        let err = row.get::<i64, _>("at").unwrap_err().to_string();
        assert!(err.contains("`at`") && err.contains("i64"), "{err}");
        assert!(row.get::<i64, _>("missing").is_err());
    }

    #[test]
    fn large_integers_are_not_read_as_inexact_floats() {
        assert_eq!(
            f64::from_value(&Value::Int(1 << 53)),
            Some(9007199254740992.0)
        );
        assert_eq!(f64::from_value(&Value::Int((1 << 53) + 1)), None);
    }
}
