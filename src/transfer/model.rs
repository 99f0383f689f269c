//! The plain data the transfer passes between its stages: PostgreSQL column types
//! ([`PgType`]) and the mapping of one SQLite table onto one PostgreSQL table ([`TableMap`]).
//!
//! The planner (`plan`) produces `TableMap`s from the SQLite schema and its data profile; for
//! `--data-only` they come from the existing PostgreSQL catalog instead. The row copier only
//! reads them. No I/O here.

use serde::{Deserialize, Serialize};

use crate::dialect::quote_ident;

/// A PostgreSQL column type, as far as the transfer converts and encodes values for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "arg")]
pub enum PgType {
    /// `boolean`
    Boolean,
    /// `smallint` (2 bytes)
    SmallInt,
    /// `integer` (4 bytes)
    Integer,
    /// `bigint` (8 bytes)
    BigInt,
    /// `real` (4-byte float)
    Real,
    /// `double precision`
    Double,
    /// `numeric` or `numeric(p, s)`
    Numeric(Option<(u32, u32)>),
    /// `text`
    Text,
    /// `varchar(n)` or `varchar`
    Varchar(Option<u32>),
    /// `char(n)` (blank-padded)
    Char(Option<u32>),
    /// `bytea`
    Bytea,
    /// `date`
    Date,
    /// `time` (without time zone)
    Time,
    /// `timestamp` (without time zone)
    Timestamp,
    /// `timestamptz`
    Timestamptz,
    /// `interval`
    Interval,
    /// `json`
    Json,
    /// `jsonb`
    Jsonb,
    /// `uuid`
    Uuid,
    /// `inet`
    Inet,
    /// `citext` (from the extension)
    Citext,
    /// A user-defined enum type, by (already quoted-safe) name and its labels.
    Enum {
        /// The type name as PostgreSQL shows it (`format_type`).
        name: String,
        /// The labels, in order.
        labels: Vec<String>,
    },
    /// Any other type, by its `format_type` text; values are sent in text form.
    Other(String),
}

impl PgType {
    /// The type as written in DDL.
    pub fn sql(&self) -> String {
        match self {
            PgType::Boolean => "boolean".into(),
            PgType::SmallInt => "smallint".into(),
            PgType::Integer => "integer".into(),
            PgType::BigInt => "bigint".into(),
            PgType::Real => "real".into(),
            PgType::Double => "double precision".into(),
            PgType::Numeric(None) => "numeric".into(),
            PgType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            PgType::Text => "text".into(),
            PgType::Varchar(None) => "varchar".into(),
            PgType::Varchar(Some(n)) => format!("varchar({n})"),
            PgType::Char(None) => "char".into(),
            PgType::Char(Some(n)) => format!("char({n})"),
            PgType::Bytea => "bytea".into(),
            PgType::Date => "date".into(),
            PgType::Time => "time".into(),
            PgType::Timestamp => "timestamp".into(),
            PgType::Timestamptz => "timestamptz".into(),
            PgType::Interval => "interval".into(),
            PgType::Json => "json".into(),
            PgType::Jsonb => "jsonb".into(),
            PgType::Uuid => "uuid".into(),
            PgType::Inet => "inet".into(),
            PgType::Citext => "citext".into(),
            PgType::Enum { name, .. } => name.clone(),
            PgType::Other(text) => text.clone(),
        }
    }

    /// Whether the copier has a binary COPY encoder for this type. A table with any other
    /// column is copied in COPY's text format instead.
    pub fn has_binary_encoding(&self) -> bool {
        !matches!(
            self,
            PgType::Numeric(_)
                | PgType::Interval
                | PgType::Inet
                | PgType::Other(_)
                | PgType::Citext
        )
    }
}

/// Parses a PostgreSQL type name from a plan file. Names outside the known set become
/// [`PgType::Other`] when they look like a type name (letters, digits, `_`, spaces, `(`, `)`,
/// `,`, `.`, `[]`), and are refused otherwise so a plan file cannot smuggle SQL into DDL.
pub fn parse_pg_type(text: &str) -> Result<PgType, String> {
    let t = without_time_precision(
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase(),
    );
    // An array of a type with arguments (`character varying(3)[]`, `numeric(5,2)[]`) is an
    // array, not its element type: only the name before `[]` starts like the element's.
    let base = match t.ends_with(']') {
        true => t.clone(),
        false => t.split('(').next().unwrap_or("").trim().to_string(),
    };
    Ok(match base.as_str() {
        "boolean" | "bool" => PgType::Boolean,
        "smallint" | "int2" => PgType::SmallInt,
        "integer" | "int" | "int4" => PgType::Integer,
        "bigint" | "int8" => PgType::BigInt,
        "real" | "float4" => PgType::Real,
        "double precision" | "float8" | "double" => PgType::Double,
        "numeric" | "decimal" => {
            PgType::Numeric(numeric_arguments(&t).ok_or_else(|| {
                format!("`{text}`: numeric(p, s) needs 1 <= p <= 1000 and s <= p")
            })?)
        }
        "text" => PgType::Text,
        "varchar" | "character varying" => {
            PgType::Varchar(args(&t).and_then(|a| a.first().copied()))
        }
        "char" | "character" => PgType::Char(args(&t).and_then(|a| a.first().copied())),
        "bytea" => PgType::Bytea,
        "date" => PgType::Date,
        "time" | "time without time zone" => PgType::Time,
        "timestamp" | "timestamp without time zone" => PgType::Timestamp,
        "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
        "interval" => PgType::Interval,
        "json" => PgType::Json,
        "jsonb" => PgType::Jsonb,
        "uuid" => PgType::Uuid,
        "inet" => PgType::Inet,
        "citext" => PgType::Citext,
        "" => return Err("an empty type name".into()),
        _ => {
            let allowed = |c: char| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '_' | ' ' | '(' | ')' | ',' | '.' | '[' | ']')
            };
            if !t.chars().all(allowed) {
                return Err(format!("`{text}` is not a type name"));
            }
            PgType::Other(t)
        }
    })
}

/// The type name without the precision `format_type` spells inside it: `timestamp(3) with
/// time zone` is `timestamp with time zone`.
fn without_time_precision(t: String) -> String {
    for base in ["timestamp", "time"] {
        if let Some(rest) = t.strip_prefix(base).and_then(|r| r.strip_prefix('(')) {
            if let Some(close) = rest.find(')') {
                if rest[..close].trim().parse::<u32>().is_ok() {
                    return format!("{base}{}", &rest[close + 1..]);
                }
            }
            break;
        }
    }
    t
}

/// The numbers between the parentheses of a type name (`varchar(20)`, `numeric(12,2)`).
fn args(t: &str) -> Option<Vec<u32>> {
    let inside = t.split_once('(')?.1.strip_suffix(')')?;
    inside.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// `numeric`'s `(p, s)`: `Some(None)` without arguments, `None` when PostgreSQL would refuse
/// them.
fn numeric_arguments(t: &str) -> Option<Option<(u32, u32)>> {
    match args(t) {
        None => Some(None),
        Some(a) if a.len() == 2 && (1..=1000).contains(&a[0]) && a[1] <= a[0] => {
            Some(Some((a[0], a[1])))
        }
        Some(a) if a.len() == 1 && (1..=1000).contains(&a[0]) => Some(Some((a[0], 0))),
        Some(_) => None,
    }
}

impl std::str::FromStr for PgType {
    type Err = String;

    /// The same as [`parse_pg_type`], for `text.parse::<PgType>()`.
    fn from_str(text: &str) -> Result<PgType, String> {
        parse_pg_type(text)
    }
}

/// What happens to a value that the target column cannot hold as planned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValuePolicy {
    /// The whole row goes to the reject file and is counted (the default).
    #[default]
    Reject,
    /// The value becomes `NULL` (only for nullable columns); each case is counted.
    Null,
    /// Text is repaired: invalid UTF-8 sequences become U+FFFD and NUL bytes are dropped;
    /// each case is counted.
    Replace,
    /// Text is escaped: NUL and bytes that are not UTF-8 become `\xNN` (and `\` becomes `\\`);
    /// each case is counted.
    Escape,
}

/// How the copier pages through a source table (keyset pagination, never OFFSET).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "columns")]
pub enum SourceKey {
    /// The table's `rowid` (rowid tables, including those with an `INTEGER PRIMARY KEY`).
    Rowid,
    /// The primary key columns, for `WITHOUT ROWID` tables.
    PrimaryKey(Vec<String>),
}

/// One column of a [`TableMap`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap {
    /// The SQLite column name.
    pub source: String,
    /// The PostgreSQL column name.
    pub target: String,
    /// The PostgreSQL type values are converted to.
    pub pg_type: PgType,
    /// Whether the target column refuses `NULL`.
    pub not_null: bool,
    /// What to do with a value the type cannot hold.
    #[serde(default)]
    pub policy: ValuePolicy,
    /// A user-given conversion from the plan file, applied before the type's own conversion
    /// (for what cannot be guessed, such as an integer of microseconds into an `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
    /// The plan chose `json`/`jsonb` because the profile found every value to be JSON that
    /// PostgreSQL accepts. The copier then leaves the JSON check to the server's own parser
    /// (a value written since the plan that it refuses is isolated and rejected with the
    /// server's message) instead of parsing every document twice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub json_profiled: bool,
}

pub use crate::datetime::SourceZone;

/// A conversion for values that cannot be guessed from the type alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    /// An integer count of microseconds, into an `interval`.
    MicrosecondsToInterval,
    /// An integer count of seconds, into an `interval`.
    SecondsToInterval,
    /// A date/time counted from 1970-01-01 00:00 (SQLAlchemy's `Interval` on a database
    /// without an interval type), into an `interval`.
    DatetimeSinceEpochToInterval,
    /// Integer Unix seconds, into a timestamp.
    UnixSeconds,
    /// Integer Unix milliseconds, into a timestamp.
    UnixMilliseconds,
    /// A Julian day number (SQLite `julianday()`), into a timestamp.
    JulianDay,
    /// A time of day written as a date/time on 2000-01-01 (ActiveRecord's `time` on SQLite),
    /// or bare, into a `time`; any other date is refused, not dropped.
    #[serde(rename = "time_on_2000_01_01")]
    TimeOn2000,
    /// A REAL into `numeric(p, s)` as ActiveRecord reads it on SQLite: rounded to the scale
    /// through at most 16 significant digits.
    ActiveModelDecimal,
    /// A REAL into `real` as a client that reads a `real` as text gets it back (psycopg, so
    /// Peewee's FloatField): kept when the 4-byte float's shortest text reads as the same
    /// double, refused otherwise.
    #[serde(rename = "float4_text")]
    Float4Text,
    /// Date/time text without an offset into a `timestamp`, its wall-clock time unchanged;
    /// text with `Z` or an offset is refused, not moved to UTC: the column keeps no offset, and
    /// an ORM that reads the text as written (Peewee) read it back with its offset.
    NaiveOnly,
    /// Date/time text into a `timestamp`, text with `Z` or an offset moved to UTC (its
    /// wall-clock time in UTC, the offset dropped): for a column whose application reads its
    /// naive times as UTC. Named by the caller; without it such text is refused before anything
    /// is written ([`crate::transfer::Error::OffsetTimes`]).
    OffsetsToUtc,
    /// Text without an offset, read as a wall-clock time in this zone, into a `timestamptz`
    /// (text with `Z` or an offset keeps its own).
    NaiveInZone(SourceZone),
    /// Only numbers (INTEGER or REAL storage) are kept; a text or blob value is rejected. For
    /// a column whose values of different storage classes would become equal once converted
    /// to one type (`42`, `'42'` and `x'3432'`).
    NumbersOnly,
    /// Only TEXT values are kept (see [`Conversion::NumbersOnly`]).
    TextOnly,
    /// Only BLOB values are kept (see [`Conversion::NumbersOnly`]).
    BlobsOnly,
}

impl Conversion {
    /// The name the plan file uses.
    pub fn name(self) -> &'static str {
        match self {
            Conversion::MicrosecondsToInterval => "microseconds_to_interval",
            Conversion::SecondsToInterval => "seconds_to_interval",
            Conversion::DatetimeSinceEpochToInterval => "datetime_since_epoch_to_interval",
            Conversion::UnixSeconds => "unix_seconds",
            Conversion::UnixMilliseconds => "unix_milliseconds",
            Conversion::JulianDay => "julian_day",
            Conversion::TimeOn2000 => "time_on_2000_01_01",
            Conversion::ActiveModelDecimal => "active_model_decimal",
            Conversion::Float4Text => "float4_text",
            Conversion::NaiveOnly => "naive_only",
            Conversion::OffsetsToUtc => "offsets_to_utc",
            Conversion::NaiveInZone(_) => "naive_in_zone",
            Conversion::NumbersOnly => "numbers_only",
            Conversion::TextOnly => "text_only",
            Conversion::BlobsOnly => "blobs_only",
        }
    }
}

/// How one SQLite table lands in one PostgreSQL table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMap {
    /// The SQLite table name.
    pub source: String,
    /// The PostgreSQL schema (`public` unless chosen otherwise).
    pub target_schema: String,
    /// The PostgreSQL table name.
    pub target: String,
    /// How to page through the source.
    pub key: SourceKey,
    /// The columns copied, in order.
    pub columns: Vec<ColumnMap>,
    /// The generated columns PostgreSQL computes from the copied ones: not copied, but
    /// compared by value with what SQLite computed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<ColumnMap>,
}

impl TableMap {
    /// `"schema"."table"`, quoted.
    pub fn qualified_target(&self) -> String {
        format!(
            "{}.{}",
            quote_ident(&self.target_schema).expect("planned names hold no NUL"),
            quote_ident(&self.target).expect("planned names hold no NUL")
        )
    }

    /// Whether every column has a binary COPY encoder.
    pub fn binary_copy(&self) -> bool {
        self.columns.iter().all(|c| c.pg_type.has_binary_encoding())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_the_ddl_spelling_gives_the_type_back() {
        let types = [
            PgType::Boolean,
            PgType::SmallInt,
            PgType::Integer,
            PgType::BigInt,
            PgType::Real,
            PgType::Double,
            PgType::Numeric(None),
            PgType::Numeric(Some((12, 2))),
            PgType::Text,
            PgType::Varchar(None),
            PgType::Varchar(Some(40)),
            PgType::Char(None),
            PgType::Char(Some(3)),
            PgType::Bytea,
            PgType::Date,
            PgType::Time,
            PgType::Timestamp,
            PgType::Timestamptz,
            PgType::Interval,
            PgType::Json,
            PgType::Jsonb,
            PgType::Uuid,
            PgType::Inet,
            PgType::Citext,
            PgType::Other("geometry".into()),
        ];
        for pg_type in types {
            assert_eq!(parse_pg_type(&pg_type.sql()), Ok(pg_type.clone()));
            assert_eq!(pg_type.sql().parse::<PgType>(), Ok(pg_type));
        }
        assert_eq!(
            parse_pg_type("timestamp(3) with time zone"),
            Ok(PgType::Timestamptz)
        );
        assert!(parse_pg_type("text; DROP TABLE x").is_err());
        assert!(parse_pg_type("").is_err());
    }
}
