//! Converting one SQLite value into what one PostgreSQL column can hold, exactly, or saying why
//! not. Pure: no I/O. The copier encodes the resulting [`Cell`]s; verification hashes them.
//!
//! SQLite's flexible typing is normal input here: any storage class can arrive in any column.
//! Each conversion either keeps the value equal (an integer stays the same integer, a timestamp
//! the same instant, text the same characters) or fails with a reason, and the column's
//! [`ValuePolicy`] decides what happens next.

use std::borrow::Cow;

use chrono::{NaiveTime, Timelike};

use crate::datetime::{parse_text, scan_iso, TextForms};
use crate::transfer::model::{ColumnMap, Conversion, PgType, ValuePolicy};
use crate::transfer::text::float_text;

mod conversions;
use conversions::{convert_with, kept_class, storage_class};

/// One value as SQLite stored it. Text is kept as raw bytes: SQLite does not enforce UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub enum SrcValue {
    /// `NULL`
    Null,
    /// `INTEGER` storage class.
    Int(i64),
    /// `REAL` storage class.
    Float(f64),
    /// `TEXT` storage class, as stored (possibly not UTF-8, possibly with NUL bytes).
    Text(Vec<u8>),
    /// `BLOB` storage class.
    Blob(Vec<u8>),
}

impl SrcValue {
    /// SQLite's name of the storage class, as `typeof()` gives it.
    pub fn storage_class(&self) -> &'static str {
        match self {
            SrcValue::Null => "null",
            SrcValue::Int(_) => "integer",
            SrcValue::Float(_) => "real",
            SrcValue::Text(_) => "text",
            SrcValue::Blob(_) => "blob",
        }
    }
}

/// One value as SQLite stored it, borrowed from where it was read (a page of the reader, or a
/// [`SrcValue`]). What the converter takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Src<'a> {
    /// `NULL`
    Null,
    /// `INTEGER` storage class.
    Int(i64),
    /// `REAL` storage class.
    Float(f64),
    /// `TEXT` storage class, as stored.
    Text(&'a [u8]),
    /// `BLOB` storage class.
    Blob(&'a [u8]),
}

impl Src<'_> {
    /// SQLite's name of the storage class, as `typeof()` gives it.
    pub fn storage_class(&self) -> &'static str {
        match self {
            Src::Null => "null",
            Src::Int(_) => "integer",
            Src::Float(_) => "real",
            Src::Text(_) => "text",
            Src::Blob(_) => "blob",
        }
    }

    /// The value, owned.
    pub fn to_owned_value(&self) -> SrcValue {
        match *self {
            Src::Null => SrcValue::Null,
            Src::Int(i) => SrcValue::Int(i),
            Src::Float(x) => SrcValue::Float(x),
            Src::Text(b) => SrcValue::Text(b.to_vec()),
            Src::Blob(b) => SrcValue::Blob(b.to_vec()),
        }
    }
}

impl<'a> From<&'a SrcValue> for Src<'a> {
    fn from(value: &'a SrcValue) -> Self {
        match value {
            SrcValue::Null => Src::Null,
            SrcValue::Int(i) => Src::Int(*i),
            SrcValue::Float(x) => Src::Float(*x),
            SrcValue::Text(b) => Src::Text(b),
            SrcValue::Blob(b) => Src::Blob(b),
        }
    }
}

/// A value ready for one PostgreSQL column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// `NULL`
    Null,
    /// `boolean`
    Bool(bool),
    /// `smallint`
    I16(i16),
    /// `integer`
    I32(i32),
    /// `bigint`
    I64(i64),
    /// `real`
    F32(f32),
    /// `double precision`
    F64(f64),
    /// `text`, `varchar`, `char`, `citext`, enum labels, `json`, and the text form of types
    /// without a binary encoder (`numeric`, `interval`, `inet`, others).
    Text(Cow<'a, str>),
    /// `jsonb` (the JSON text; binary COPY prefixes the version byte).
    Jsonb(Cow<'a, str>),
    /// `bytea`
    Bytes(Cow<'a, [u8]>),
    /// `timestamp`/`timestamptz`: microseconds since the Unix epoch, UTC.
    Micros(i64),
    /// `date`: days since the Unix epoch.
    Days(i32),
    /// `time`: microseconds since midnight.
    TimeOfDay(i64),
    /// `uuid`
    Uuid([u8; 16]),
    /// `interval` without months: whole days and the microseconds of the last day (`0 <=
    /// micros < 86_400_000_000`), as Python's `timedelta` and psycopg split a duration.
    Interval {
        /// Whole days, negative for a negative duration.
        days: i32,
        /// Microseconds past the days.
        micros: i64,
    },
}

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// A duration of `micros` microseconds as an interval of days and microseconds.
fn interval_cell<'a>(micros: i64) -> Result<Cell<'a>, Problem> {
    let days = i32::try_from(micros.div_euclid(DAY_MICROS))
        .map_err(|_| other("duration out of range for interval"))?;
    Ok(Cell::Interval {
        days,
        micros: micros.rem_euclid(DAY_MICROS),
    })
}

/// Why a value did not fit its column.
pub type Reason = String;

/// The outcome of converting one value under its column's policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<'a> {
    /// Converted exactly.
    Exact(Cell<'a>),
    /// Changed by the column's policy (`null`, `replace`, `escape`); counted and reported.
    Repaired(Cell<'a>, Reason),
    /// The row goes to the reject file.
    Reject(Reason),
}

/// Converts `value` for `column`, applying the column's [`ValuePolicy`] when it does not fit.
pub fn convert<'a>(value: impl Into<Src<'a>>, column: &ColumnMap) -> Outcome<'a> {
    let value = value.into();
    match to_cell(
        value,
        &column.pg_type,
        column.conversion,
        !column.json_profiled,
    ) {
        Ok(Cell::Null) if column.not_null => Outcome::Reject("NULL in a NOT NULL column".into()),
        Ok(cell) => Outcome::Exact(cell),
        Err(problem) => apply_policy(value, column, problem),
    }
}

fn apply_policy<'a>(value: Src<'a>, column: &ColumnMap, problem: Problem) -> Outcome<'a> {
    let reason = problem.to_string();
    let text_like = matches!(
        column.pg_type,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext
    );
    match column.policy {
        ValuePolicy::Reject => Outcome::Reject(reason),
        ValuePolicy::Null if !column.not_null => Outcome::Repaired(Cell::Null, reason),
        ValuePolicy::Null => Outcome::Reject(format!(
            "{reason} (policy `null` cannot apply to a NOT NULL column)"
        )),
        ValuePolicy::Replace | ValuePolicy::Escape if text_like && problem.is_encoding() => {
            let bytes = match value {
                Src::Text(b) | Src::Blob(b) => b,
                _ => return Outcome::Reject(reason),
            };
            let repaired = if column.policy == ValuePolicy::Replace {
                replace_invalid(bytes)
            } else {
                escape_invalid(bytes)
            };
            match to_cell(Src::Text(repaired.as_bytes()), &column.pg_type, None, true) {
                Ok(Cell::Text(text)) => {
                    Outcome::Repaired(Cell::Text(Cow::Owned(text.into_owned())), reason)
                }
                _ => Outcome::Reject(reason),
            }
        }
        ValuePolicy::Replace | ValuePolicy::Escape => Outcome::Reject(reason),
    }
}

/// Drops NUL bytes and turns invalid UTF-8 into U+FFFD.
pub fn replace_invalid(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\0', "")
}

/// Escapes NUL, backslash and bytes that are not UTF-8 as `\xNN` / `\\`, keeping valid text.
pub fn escape_invalid(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\0' => out.push_str("\\x00"),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// What was wrong with a value, before the policy is applied.
#[derive(Debug, Clone, PartialEq)]
enum Problem {
    /// Text with a NUL byte (PostgreSQL text cannot hold one).
    Nul,
    /// Text that is not UTF-8.
    InvalidUtf8,
    /// Anything else, with its explanation.
    Other(String),
}

impl Problem {
    fn is_encoding(&self) -> bool {
        matches!(self, Problem::Nul | Problem::InvalidUtf8)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Nul => {
                f.write_str("text contains a NUL byte, which PostgreSQL text cannot hold")
            }
            Problem::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            Problem::Other(reason) => f.write_str(reason),
        }
    }
}

fn other(reason: impl Into<String>) -> Problem {
    Problem::Other(reason.into())
}

/// UTF-8 text without NUL bytes, as PostgreSQL text requires.
fn pg_text(bytes: &[u8]) -> Result<&str, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| Problem::InvalidUtf8)?;
    if memchr_nul(bytes) {
        return Err(Problem::Nul);
    }
    Ok(text)
}

/// `text` without the whitespace PostgreSQL's input functions skip around a number, boolean
/// or date (C `isspace`: space, tab, newline, vertical tab, form feed, carriage return). Other
/// Unicode spaces (U+00A0, U+3000, ...) stay: PostgreSQL would refuse them, and so does the
/// converter.
pub fn pg_trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
}

fn memchr_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

/// The text SQLite itself would show for a number, kept exact: integers in decimal, floats in
/// the shortest form that reads back to the same bits.
pub fn number_text(value: Src<'_>) -> Option<String> {
    match value {
        Src::Int(i) => Some(i.to_string()),
        Src::Float(x) => Some(float_text(x)),
        _ => None,
    }
}

fn to_cell<'a>(
    value: Src<'a>,
    pg_type: &PgType,
    conversion: Option<Conversion>,
    check_json_text: bool,
) -> Result<Cell<'a>, Problem> {
    if let Src::Null = value {
        return Ok(Cell::Null);
    }
    if let Some(conversion) = conversion {
        if let Some(kept) = kept_class(conversion) {
            let (class, a_value) = storage_class(&value);
            if class != kept {
                return Err(other(format!(
                    "{a_value} in a column kept for its {kept}: values of other storage classes would become equal to them once converted (`42`, `'42'` and `x'3432'`)"
                )));
            }
            return to_cell(value, pg_type, None, check_json_text);
        }
        return convert_with(value, pg_type, conversion);
    }
    match pg_type {
        PgType::Boolean => to_bool(value).map(Cell::Bool),
        PgType::SmallInt => to_int(value).and_then(|i| {
            i16::try_from(i)
                .map(Cell::I16)
                .map_err(|_| other(format!("{i} is out of range for smallint")))
        }),
        PgType::Integer => to_int(value).and_then(|i| {
            i32::try_from(i)
                .map(Cell::I32)
                .map_err(|_| other(format!("{i} is out of range for integer")))
        }),
        PgType::BigInt => to_int(value).map(Cell::I64),
        PgType::Double => to_f64(value).map(Cell::F64),
        PgType::Real => to_f64(value).and_then(to_real),
        PgType::Numeric(precision) => {
            to_numeric_text(value, *precision).map(|t| Cell::Text(Cow::Owned(t)))
        }
        PgType::Text | PgType::Citext => to_text(value).map(Cell::Text),
        PgType::Varchar(limit) | PgType::Char(limit) => to_limited_text(value, *limit, pg_type),
        PgType::Bytea => Ok(Cell::Bytes(match value {
            Src::Text(b) | Src::Blob(b) => Cow::Borrowed(b),
            number => Cow::Owned(number_text(number).unwrap_or_default().into_bytes()),
        })),
        PgType::Timestamptz | PgType::Timestamp => to_micros(value).map(Cell::Micros),
        PgType::Date => to_days(value).map(Cell::Days),
        PgType::Time => to_time_of_day(value),
        PgType::Json => to_json(value, check_json_text, false),
        PgType::Jsonb => to_json(value, check_json_text, true),
        PgType::Uuid => to_uuid(value),
        PgType::Enum { name, labels } => to_label(value, name, labels),
        PgType::Inet => {
            let text = to_text(value)?;
            if is_inet(&text) {
                Ok(Cell::Text(text))
            } else {
                Err(other(format!("`{text}` is not an IP address")))
            }
        }
        // Sent in text form; the server's input function has the last word, and a value it
        // refuses is isolated and rejected by the copier with the server's message.
        PgType::Interval | PgType::Other(_) => to_text(value).map(Cell::Text),
    }
}

/// A `real` (4-byte float) only when it holds the value exactly.
fn to_real<'a>(x: f64) -> Result<Cell<'a>, Problem> {
    let narrow = x as f32;
    if f64::from(narrow) == x || x.is_nan() {
        Ok(Cell::F32(narrow))
    } else {
        Err(other(format!(
            "{} does not fit real (4-byte float) exactly",
            float_text(x)
        )))
    }
}

/// Text for a `varchar(n)` or `char(n)`, refused when longer than `n` characters.
fn to_limited_text<'a>(
    value: Src<'a>,
    limit: Option<u32>,
    pg_type: &PgType,
) -> Result<Cell<'a>, Problem> {
    let text = to_text(value)?;
    match limit {
        Some(n) if text.chars().count() > n as usize => Err(other(format!(
            "{} characters do not fit {}",
            text.chars().count(),
            pg_type.sql()
        ))),
        _ => Ok(Cell::Text(text)),
    }
}

fn to_time_of_day(value: Src<'_>) -> Result<Cell<'_>, Problem> {
    match value {
        Src::Text(b) => {
            let text = pg_text(b)?;
            check_micro_precision(text)?;
            parse_time_of_day(text)
                .map(Cell::TimeOfDay)
                .ok_or_else(|| other("not a time of day"))
        }
        _ => Err(other(format!(
            "a {} is not a time of day",
            value.storage_class()
        ))),
    }
}

/// JSON text for a `json` or (`jsonb`) column: text as it is, numbers in their exact form.
fn to_json(value: Src<'_>, check_json_text: bool, jsonb: bool) -> Result<Cell<'_>, Problem> {
    let text: Cow<'_, str> = match value {
        Src::Text(b) => Cow::Borrowed(pg_text(b)?),
        Src::Float(x) if !x.is_finite() => return Err(other("NaN and infinities are not JSON")),
        Src::Int(_) | Src::Float(_) => Cow::Owned(number_text(value).unwrap_or_default()),
        _ => return Err(other("a blob is not JSON")),
    };
    // Numbers are always valid JSON; text is checked unless the profile has already found
    // every value to be JSON (then the server's parser has the last word).
    if check_json_text || !matches!(value, Src::Text(_)) {
        check_json(&text, jsonb)?;
    }
    Ok(if jsonb {
        Cell::Jsonb(text)
    } else {
        Cell::Text(text)
    })
}

fn to_uuid(value: Src<'_>) -> Result<Cell<'_>, Problem> {
    match value {
        Src::Text(b) => uuid::Uuid::try_parse_ascii(b.trim_ascii())
            .map(|u| Cell::Uuid(*u.as_bytes()))
            .map_err(|_| other("not a UUID")),
        Src::Blob(b) if b.len() == 16 => Ok(Cell::Uuid(b.try_into().expect("16 bytes"))),
        _ => Err(other(format!("a {} is not a UUID", value.storage_class()))),
    }
}

/// Text for an enum column, refused unless it is one of the enum's labels.
fn to_label<'a>(value: Src<'a>, name: &str, labels: &[String]) -> Result<Cell<'a>, Problem> {
    let text = to_text(value)?;
    if labels.iter().any(|l| l == text.as_ref()) {
        Ok(Cell::Text(text))
    } else {
        Err(other(format!(
            "`{text}` is not a label of enum {name} ({})",
            labels.join(", ")
        )))
    }
}

fn to_bool(value: Src<'_>) -> Result<bool, Problem> {
    match value {
        Src::Int(0) => Ok(false),
        Src::Int(1) => Ok(true),
        Src::Float(0.0) => Ok(false),
        Src::Float(1.0) => Ok(true),
        Src::Text(b) => match pg_trim(pg_text(b)?).to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "y" | "yes" | "on" => Ok(true),
            "0" | "f" | "false" | "n" | "no" | "off" => Ok(false),
            _ => Err(other(
                "not a boolean (0/1, true/false, t/f, yes/no, on/off)",
            )),
        },
        other_value => Err(other(format!("{} is not a boolean", describe(other_value)))),
    }
}

fn to_int(value: Src<'_>) -> Result<i64, Problem> {
    match value {
        Src::Int(i) => Ok(i),
        Src::Float(x)
            if x.fract() == 0.0
                && (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&x) =>
        {
            Ok(x as i64)
        }
        Src::Text(b) => {
            let text = pg_trim(pg_text(b)?);
            text.parse::<i64>()
                .map_err(|_| other(format!("`{}` is not an integer", shorten(text))))
        }
        other_value => Err(other(format!(
            "{} is not an integer",
            describe(other_value)
        ))),
    }
}

fn to_f64(value: Src<'_>) -> Result<f64, Problem> {
    match value {
        Src::Float(x) => Ok(x),
        Src::Int(i) if i.unsigned_abs() <= 1 << 53 => Ok(i as f64),
        Src::Int(i) => Err(other(format!(
            "{i} is not exactly representable as double precision"
        ))),
        Src::Text(b) => {
            let text = pg_trim(pg_text(b)?);
            let x: f64 = text
                .parse()
                .map_err(|_| other(format!("`{}` is not a number", shorten(text))))?;
            Ok(x)
        }
        Src::Blob(_) | Src::Null => Err(other("a blob is not a number")),
    }
}

fn to_text(value: Src<'_>) -> Result<Cow<'_, str>, Problem> {
    match value {
        Src::Text(b) => pg_text(b).map(Cow::Borrowed),
        Src::Blob(b) => pg_text(b).map(Cow::Borrowed).map_err(|p| match p {
            Problem::InvalidUtf8 => {
                other("a blob that is not UTF-8 text cannot go into a text column")
            }
            p => p,
        }),
        number => Ok(Cow::Owned(number_text(number).unwrap_or_default())),
    }
}

/// Checks a decimal against `numeric(p, s)` and returns its text: PostgreSQL would round extra
/// fractional digits silently and fail the whole COPY on overflow, so both are refused here.
fn to_numeric_text(value: Src<'_>, precision: Option<(u32, u32)>) -> Result<String, Problem> {
    let text = match value {
        Src::Float(x) if x.is_nan() => return Ok("NaN".into()),
        // Unconstrained numeric holds infinities from PostgreSQL 14; numeric(p,s) never.
        Src::Float(x) if x.is_infinite() && precision.is_none() => {
            return Ok(if x > 0.0 { "Infinity" } else { "-Infinity" }.into())
        }
        Src::Float(x) if x.is_infinite() => {
            return Err(other(
                "an infinite value does not fit numeric with a precision",
            ))
        }
        Src::Text(b) => pg_trim(pg_text(b)?).to_string(),
        Src::Blob(_) => return Err(other("a blob is not a number")),
        number => number_text(number).unwrap_or_default(),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (
            &text[..i],
            text[i + 1..]
                .parse::<i32>()
                .map_err(|_| other(format!("`{}` is not a number", shorten(&text))))?,
        ),
        None => (text.as_str(), 0),
    };
    let unsigned = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_ok = !(int_part.is_empty() && frac_part.is_empty())
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok {
        return Err(other(format!("`{}` is not a number", shorten(&text))));
    }
    if let Some((p, s)) = precision {
        let int_digits = int_part.trim_start_matches('0').len() as i64 + i64::from(exponent);
        let frac_digits = frac_part.trim_end_matches('0').len() as i64 - i64::from(exponent);
        if frac_digits > i64::from(s) {
            return Err(other(format!(
                "`{}` has more than {s} decimal places",
                shorten(&text)
            )));
        }
        if int_digits > i64::from(p) - i64::from(s) {
            return Err(other(format!(
                "`{}` does not fit numeric({p},{s})",
                shorten(&text)
            )));
        }
    }
    Ok(text)
}

/// PostgreSQL's timestamp range starts at 4714-11-24 BC; its end (294276 AD) lies beyond any
/// `i64` of microseconds since 1970 that this code can produce.
fn check_pg_range(micros: i64) -> Result<(), Problem> {
    const MIN: i64 = -210_866_803_200_000_000;
    if micros >= MIN {
        Ok(())
    } else {
        Err(other("instant out of PostgreSQL's range"))
    }
}

/// Refuses a date/time text whose fraction of a second goes beyond microseconds (a digit
/// other than 0 after the sixth): PostgreSQL keeps microseconds, so the value would arrive
/// rounded and read back as another time.
fn check_micro_precision(text: &str) -> Result<(), Problem> {
    let b = text.as_bytes();
    let finer = b.windows(4).enumerate().any(|(i, w)| {
        w[0] == b':'
            && w[1].is_ascii_digit()
            && w[2].is_ascii_digit()
            && w[3] == b'.'
            && b[i + 4..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .skip(6)
                .any(|&c| c != b'0')
    });
    if finer {
        Err(other(format!(
            "`{}` has a fraction of a second finer than PostgreSQL's microseconds",
            shorten(text)
        )))
    } else {
        Ok(())
    }
}

fn to_micros(value: Src<'_>) -> Result<i64, Problem> {
    match value {
        Src::Text(b) => {
            let text = pg_text(b)?;
            check_micro_precision(text)?;
            let micros = parse_datetime(text)
                .ok_or_else(|| other(format!("`{}` is not a date/time", shorten(text))))?;
            check_pg_range(micros)?;
            Ok(micros)
        }
        // A bare number in a timestamp column: Unix seconds or milliseconds when plausible.
        Src::Int(_) | Src::Float(_) => {
            let conversion = guess_epoch(value).ok_or_else(|| {
                other(format!(
                    "{} is not a plausible Unix time; set a conversion for this column in the plan",
                    describe(value)
                ))
            })?;
            match convert_with(value, &PgType::Timestamptz, conversion)? {
                Cell::Micros(m) => Ok(m),
                _ => Err(other("not an instant")),
            }
        }
        Src::Blob(_) | Src::Null => Err(other("a blob is not a date/time")),
    }
}

/// A date/time text read in `zone` when it has no offset of its own (a text with `Z` or an
/// offset, and a number, are read as without a zone).
fn in_zone(value: Src<'_>, zone: crate::transfer::model::SourceZone) -> Result<Cell<'_>, Problem> {
    let naive = match value {
        Src::Text(b) => {
            let text = pg_text(b)?;
            check_micro_precision(text)?;
            crate::datetime::naive_micros(text)
        }
        _ => None,
    };
    let micros = match naive {
        Some(naive) => zone
            .utc_micros(naive)
            .ok_or_else(|| other(format!("instant out of range in zone {zone}")))?,
        None => to_micros(value)?,
    };
    check_pg_range(micros)?;
    Ok(Cell::Micros(micros))
}

/// Which epoch a bare number most plausibly counts from: Julian days (SQLite `julianday()`),
/// Unix seconds or Unix milliseconds, judged by magnitude (1900-2200 for times).
pub fn guess_epoch(value: Src<'_>) -> Option<Conversion> {
    let x = match value {
        Src::Int(i) => i as f64,
        Src::Float(x) => x,
        _ => return None,
    };
    const SECONDS_1900: f64 = -2_208_988_800.0;
    const SECONDS_2200: f64 = 7_258_118_400.0;
    if (2_415_020.5..2_524_593.5).contains(&x) && matches!(value, Src::Float(_)) {
        Some(Conversion::JulianDay)
    } else if (SECONDS_1900..SECONDS_2200).contains(&x) {
        Some(Conversion::UnixSeconds)
    } else if (SECONDS_1900 * 1e3..SECONDS_2200 * 1e3).contains(&x) {
        Some(Conversion::UnixMilliseconds)
    } else {
        None
    }
}

fn to_days(value: Src<'_>) -> Result<i32, Problem> {
    let micros = to_micros(value)?;
    if micros.rem_euclid(86_400_000_000) != 0 {
        return Err(other(format!(
            "{} has a time of day, a date would drop it",
            describe(value)
        )));
    }
    i32::try_from(micros.div_euclid(86_400_000_000)).map_err(|_| other("date out of range"))
}

/// Parses the date/time texts found in SQLite databases into microseconds since the Unix epoch
/// (UTC): ISO-8601 with a space or `T`, optional seconds and fraction, optional `Z` or offset
/// (`+02`, `+0200`, `+02:00`); a bare date (midnight); `YYYY/MM/DD`; RFC 2822. Text without an
/// offset is taken as UTC, the convention of SQLite's own date functions.
pub fn parse_datetime(text: &str) -> Option<i64> {
    if let Some(micros) = parse_iso_fast(text.as_bytes()) {
        return Some(micros);
    }
    let s = pg_trim(text);
    if s.len() < 8
        || s.len() > 64
        || !s.as_bytes()[0].is_ascii_digit() && !s.starts_with(['M', 'T', 'W', 'F', 'S'])
    {
        return None;
    }
    parse_text(s, TextForms::Found).map(|t| t.timestamp_micros())
}

/// The common ISO-8601 forms ([`scan_iso`]), read byte by byte: the general parser tries
/// several formats and costs microseconds per value, and timestamp columns hold millions of
/// values. Anything else returns `None` and goes to the general parser.
fn parse_iso_fast(b: &[u8]) -> Option<i64> {
    scan_iso(b).map(|parts| parts.unix_micros())
}

/// Parses `HH:MM[:SS[.ffffff]]` into microseconds since midnight.
pub fn parse_time_of_day(text: &str) -> Option<i64> {
    let s = pg_trim(text);
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|fmt| NaiveTime::parse_from_str(s, fmt).ok())
        .map(|t| {
            i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(t.nanosecond() / 1000)
        })
}

/// Checks JSON text the way PostgreSQL's `json`/`jsonb` input does; `jsonb` also refuses
/// `\u0000`, which it cannot store.
fn check_json(text: &str, jsonb: bool) -> Result<(), Problem> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| other(format!("not valid JSON: {e}")))?;
    if jsonb && text.as_bytes().contains(&b'\\') && text.contains("\\u0000") {
        return Err(other(
            "JSON text contains \\u0000, which jsonb cannot store",
        ));
    }
    if jsonb && crate::transfer::plan::profile::has_lone_surrogate(text) {
        return Err(other(
            "JSON text holds a lone UTF-16 surrogate escape, which jsonb cannot store (json can)",
        ));
    }
    // What a full transfer's plan avoids by choosing json; into an existing jsonb column the
    // value would lose the first of the keys or the sign, so it is refused and listed.
    if jsonb && crate::transfer::jsonb::jsonb_alters_valid(text) {
        return Err(other(
            "JSON text holds a key written twice in one object or a negative zero, which jsonb would not keep as written (json can)",
        ));
    }
    Ok(())
}

fn is_inet(text: &str) -> bool {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 40 {
        return text.to_string();
    }
    let mut out: String = text.chars().take(40).collect();
    out.push('…');
    out
}

fn describe(value: Src<'_>) -> String {
    match value {
        Src::Null => "NULL".into(),
        Src::Int(i) => format!("integer {i}"),
        Src::Float(x) => format!("real {}", float_text(x)),
        Src::Text(b) => format!("text `{}`", shorten(&String::from_utf8_lossy(b))),
        Src::Blob(b) => format!("blob of {} bytes", b.len()),
    }
}

#[cfg(test)]
mod mutants_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime};

    fn col(pg_type: PgType) -> ColumnMap {
        ColumnMap {
            source: "c".into(),
            target: "c".into(),
            pg_type,
            not_null: false,
            policy: ValuePolicy::Reject,
            conversion: None,
            json_profiled: false,
        }
    }

    fn text(s: &str) -> SrcValue {
        SrcValue::Text(s.as_bytes().to_vec())
    }

    fn exact(value: &SrcValue, pg_type: PgType) -> Cell<'_> {
        match convert(value, &col(pg_type)) {
            Outcome::Exact(cell) => cell,
            other => panic!("{value:?}: {other:?}"),
        }
    }

    fn rejected(value: &SrcValue, pg_type: PgType) -> String {
        match convert(value, &col(pg_type)) {
            Outcome::Reject(reason) => reason,
            other => panic!("{value:?} should be rejected: {other:?}"),
        }
    }

    #[test]
    fn numbers_in_text_skip_the_spaces_postgresql_skips_and_no_others() {
        assert_eq!(exact(&text("\x0b 42\t"), PgType::BigInt), Cell::I64(42));
        assert_eq!(exact(&text(" 2.5\n"), PgType::Double), Cell::F64(2.5));
        assert_eq!(
            exact(&text("\x0c1.50 "), PgType::Numeric(None)),
            Cell::Text("1.50".into())
        );
        assert_eq!(exact(&text(" true "), PgType::Boolean), Cell::Bool(true));
        // U+00A0 and U+3000 are not spaces to PostgreSQL's input functions.
        assert!(rejected(&text("\u{a0}42"), PgType::BigInt).contains("not an integer"));
        assert!(rejected(&text("42\u{3000}"), PgType::Double).contains("not a number"));
    }

    #[test]
    fn integers_keep_their_value_or_are_refused() {
        assert_eq!(
            exact(&SrcValue::Int(i64::MIN), PgType::BigInt),
            Cell::I64(i64::MIN)
        );
        assert_eq!(exact(&text(" 42 "), PgType::BigInt), Cell::I64(42));
        assert_eq!(exact(&SrcValue::Float(3.0), PgType::Integer), Cell::I32(3));
        assert!(rejected(&SrcValue::Int(1 << 40), PgType::Integer).contains("out of range"));
        assert!(rejected(&SrcValue::Float(3.5), PgType::BigInt).contains("not an integer"));
        assert!(rejected(&text("abc"), PgType::BigInt).contains("`abc`"));
    }

    #[test]
    fn floats_are_bit_exact() {
        for x in [-0.0, 1e308, 5e-324, 0.1, 0.30000000000000004, f64::INFINITY] {
            assert_eq!(exact(&SrcValue::Float(x), PgType::Double), Cell::F64(x));
        }
        assert!(rejected(&SrcValue::Int(i64::MAX), PgType::Double).contains("not exactly"));
        assert!(rejected(&SrcValue::Float(0.1), PgType::Real).contains("real"));
        assert_eq!(exact(&SrcValue::Float(0.5), PgType::Real), Cell::F32(0.5));
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(1e308), "1e308");
    }

    #[test]
    fn booleans_from_numbers_and_words() {
        assert_eq!(exact(&SrcValue::Int(1), PgType::Boolean), Cell::Bool(true));
        assert_eq!(exact(&text("FALSE"), PgType::Boolean), Cell::Bool(false));
        assert!(rejected(&SrcValue::Int(2), PgType::Boolean).contains("not a boolean"));
    }

    #[test]
    fn text_with_nul_or_bad_utf8_follows_the_policy() {
        let nul = SrcValue::Text(b"a\0b".to_vec());
        let bad = SrcValue::Text(vec![b'a', 0xff, b'b']);
        assert!(rejected(&nul, PgType::Text).contains("NUL"));
        assert!(rejected(&bad, PgType::Text).contains("UTF-8"));
        let mut column = col(PgType::Text);
        column.policy = ValuePolicy::Escape;
        assert!(
            matches!(convert(&bad, &column), Outcome::Repaired(Cell::Text(t), _) if t == "a\\xffb")
        );
        column.policy = ValuePolicy::Replace;
        assert!(matches!(convert(&nul, &column), Outcome::Repaired(Cell::Text(t), _) if t == "ab"));
        column.policy = ValuePolicy::Null;
        assert!(matches!(
            convert(&nul, &column),
            Outcome::Repaired(Cell::Null, _)
        ));
        column.not_null = true;
        assert!(matches!(convert(&nul, &column), Outcome::Reject(_)));
        assert_eq!(
            exact(&bad, PgType::Bytea),
            Cell::Bytes(Cow::Owned(vec![b'a', 0xff, b'b']))
        );
        assert_eq!(
            exact(&SrcValue::Int(7), PgType::Text),
            Cell::Text("7".into())
        );
    }

    #[test]
    fn julian_days_are_the_instant_sqlite_reads() {
        let mut column = col(PgType::Timestamptz);
        column.conversion = Some(Conversion::JulianDay);
        // julianday('2024-01-02 03:04:05'): SQLite divides its milliseconds by 86400000.
        let day = SrcValue::Float(212_570_924_645_000.0 / 86_400_000.0);
        assert_eq!(
            convert(&day, &column),
            Outcome::Exact(Cell::Micros(1_704_164_645_000_000))
        );
        assert_eq!(
            convert(&SrcValue::Float(2_440_587.5), &column),
            Outcome::Exact(Cell::Micros(0))
        );
    }

    #[test]
    fn fractions_finer_than_microseconds_are_refused_not_rounded() {
        for (text, pg_type) in [
            ("2024-01-01 10:00:00.1234567", PgType::Timestamp),
            ("2024-01-01T10:00:00.9999996Z", PgType::Timestamptz),
            ("10:00:00.1234567", PgType::Time),
        ] {
            assert!(
                rejected(&self::text(text), pg_type.clone()).contains("finer than"),
                "{text}"
            );
        }
        assert_eq!(
            exact(&text("10:00:00.1234560"), PgType::Time),
            Cell::TimeOfDay(36_000_123_456)
        );
        assert_eq!(
            exact(&text("1970-01-01 00:00:01.5000000"), PgType::Timestamp),
            Cell::Micros(1_500_000)
        );
    }

    #[test]
    fn timestamps_in_many_forms_are_the_same_instant() {
        let expected = 1_709_296_245_123_456;
        for form in [
            "2024-03-01 12:30:45.123456",
            "2024-03-01T12:30:45.123456Z",
            "2024-03-01 14:30:45.123456+02:00",
            "2024-03-01T14:30:45.123456+0200",
            "2024/03/01 12:30:45.123456",
        ] {
            assert_eq!(
                exact(&text(form), PgType::Timestamptz),
                Cell::Micros(expected),
                "{form}"
            );
        }
        assert_eq!(
            exact(&SrcValue::Int(1_709_296_245), PgType::Timestamptz),
            Cell::Micros(1_709_296_245_000_000)
        );
        assert_eq!(
            exact(&SrcValue::Int(1_709_296_245_123), PgType::Timestamptz),
            Cell::Micros(1_709_296_245_123_000)
        );
        assert_eq!(
            exact(&SrcValue::Float(2_440_588.0), PgType::Timestamptz),
            Cell::Micros(43_200_000_000)
        );
        assert!(rejected(&text("yesterday"), PgType::Timestamptz).contains("date/time"));
        assert!(rejected(&text("2024-02-30"), PgType::Date).contains("date/time"));
        assert_eq!(exact(&text("1970-01-02"), PgType::Date), Cell::Days(1));
        assert!(rejected(&text("1970-01-02 10:00"), PgType::Date).contains("time of day"));
        assert_eq!(
            exact(&text("01:02:03.5"), PgType::Time),
            Cell::TimeOfDay(3_723_500_000)
        );
    }

    #[test]
    fn the_fast_iso_parser_agrees_with_the_general_one() {
        for form in [
            "2024-03-01",
            "2024-02-29 23:59:59",
            "2024-03-01T12:30:45.1Z",
            "2024-03-01 12:30:45.123456789",
            "1969-12-31 23:59:59.999999",
            "2024-03-01T14:30:45+02",
            "2024-03-01T14:30:45-0230",
            "2024-03-01 14:30:45+02:30",
            "0001-01-01 00:00:00",
            "2024-03-01 12:30",
        ] {
            let general = {
                let s = form;
                let fast = parse_iso_fast(s.as_bytes());
                let slow = DateTime::parse_from_rfc3339(s)
                    .map(|t| t.timestamp_micros())
                    .ok()
                    .or_else(|| {
                        [
                            "%Y-%m-%d %H:%M:%S%.f%#z",
                            "%Y-%m-%dT%H:%M:%S%#z",
                            "%Y-%m-%d %H:%M:%S%#z",
                        ]
                        .iter()
                        .find_map(|f| DateTime::parse_from_str(s, f).ok())
                        .map(|t| t.timestamp_micros())
                        .or_else(|| {
                            ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
                                .iter()
                                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                                .map(|t| t.and_utc().timestamp_micros())
                        })
                        .or_else(|| {
                            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| {
                                d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros()
                            })
                        })
                    });
                (fast, slow)
            };
            assert!(general.0.is_some(), "{form} not parsed by the fast path");
            if form.len() <= 26 || !form.contains('.') {
                assert_eq!(general.0, general.1, "{form}");
            }
        }
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "2024-03-01 24:00:00",
            "2024-03-01X",
            "2024-03-01 12:30:45.",
            "20240301",
        ] {
            assert_eq!(parse_iso_fast(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn json_uuid_enum_inet_numeric() {
        assert_eq!(
            exact(&text("{\"a\": [1, 2]}"), PgType::Jsonb),
            Cell::Jsonb("{\"a\": [1, 2]}".into())
        );
        assert!(rejected(&text("{a:1}"), PgType::Jsonb).contains("JSON"));
        assert!(rejected(&text("\"\\u0000\""), PgType::Jsonb).contains("u0000"));
        assert!(rejected(&text(r#"{"a": 1, "a": 2}"#), PgType::Jsonb).contains("twice"));
        assert!(rejected(&text("[-0.0]"), PgType::Jsonb).contains("negative zero"));
        // json keeps the text as written.
        exact(&text(r#"{"a": 1, "a": 2}"#), PgType::Json);
        assert_eq!(
            exact(&SrcValue::Int(5), PgType::Jsonb),
            Cell::Jsonb("5".into())
        );
        let u = uuid::Uuid::new_v4();
        assert_eq!(
            exact(&text(&u.to_string()), PgType::Uuid),
            Cell::Uuid(*u.as_bytes())
        );
        let status = PgType::Enum {
            name: "mission_status".into(),
            labels: vec!["draft".into(), "active".into()],
        };
        assert_eq!(
            exact(&text("active"), status.clone()),
            Cell::Text("active".into())
        );
        assert!(rejected(&text("ACTIVE"), status).contains("not a label"));
        assert_eq!(
            exact(&text("10.0.0.1/8"), PgType::Inet),
            Cell::Text("10.0.0.1/8".into())
        );
        assert!(rejected(&text("10.0.0.300"), PgType::Inet).contains("IP"));
        assert_eq!(
            exact(&text("12.50"), PgType::Numeric(Some((5, 2)))),
            Cell::Text("12.50".into())
        );
        assert!(rejected(&text("1.234"), PgType::Numeric(Some((5, 2)))).contains("decimal places"));
        assert!(rejected(&text("12345"), PgType::Numeric(Some((5, 2)))).contains("does not fit"));
        assert!(rejected(&text("1,5"), PgType::Numeric(None)).contains("not a number"));
        assert_eq!(
            exact(&SrcValue::Float(1e20), PgType::Numeric(None)),
            Cell::Text("1e20".into())
        );
    }

    #[test]
    fn conversions_from_the_plan_apply_first() {
        let mut column = col(PgType::Interval);
        column.conversion = Some(Conversion::MicrosecondsToInterval);
        assert_eq!(
            exact_with(&SrcValue::Int(1_500_000), &column),
            Cell::Interval {
                days: 0,
                micros: 1_500_000
            }
        );
        assert!(matches!(
            convert(&SrcValue::Null, &column),
            Outcome::Exact(Cell::Null)
        ));
        column.not_null = true;
        assert!(matches!(
            convert(&SrcValue::Null, &column),
            Outcome::Reject(_)
        ));
    }

    fn exact_with<'a>(value: &'a SrcValue, column: &ColumnMap) -> Cell<'a> {
        match convert(value, column) {
            Outcome::Exact(cell) => cell,
            other => panic!("{value:?} into {column:?}: {other:?}"),
        }
    }

    /// Durations split as `timedelta` does: whole days (negative for a negative duration) and
    /// the microseconds past them, so no number is ever over 2^31 in interval text.
    #[test]
    fn durations_become_days_and_microseconds() {
        let mut column = col(PgType::Interval);
        column.conversion = Some(Conversion::MicrosecondsToInterval);
        let interval = |days, micros| Cell::Interval { days, micros };
        // 25.46 s: the issue's value, read as seconds before.
        assert_eq!(
            exact_with(&SrcValue::Int(25_460_000), &column),
            interval(0, 25_460_000)
        );
        // Over 2^31 microseconds (36 minutes), and over a day.
        assert_eq!(
            exact_with(&SrcValue::Int(3_000_000_000), &column),
            interval(0, 3_000_000_000)
        );
        assert_eq!(
            exact_with(&SrcValue::Int(2 * DAY_MICROS + 7), &column),
            interval(2, 7)
        );
        assert_eq!(
            exact_with(&SrcValue::Int(-1), &column),
            interval(-1, DAY_MICROS - 1)
        );
        assert!(matches!(
            convert(&SrcValue::Float(1.5), &column),
            Outcome::Reject(r) if r.contains("whole number")
        ));
        column.conversion = Some(Conversion::SecondsToInterval);
        assert_eq!(
            exact_with(&SrcValue::Float(1.5), &column),
            interval(0, 1_500_000)
        );
        assert_eq!(
            exact_with(&SrcValue::Int(-86_401), &column),
            interval(-2, DAY_MICROS - 1_000_000)
        );
        column.conversion = Some(Conversion::DatetimeSinceEpochToInterval);
        assert_eq!(
            exact_with(&text("1970-01-02 00:00:25.460000"), &column),
            interval(1, 25_460_000)
        );
        assert_eq!(
            exact_with(&text("1969-12-31 23:59:59.999999"), &column),
            interval(-1, DAY_MICROS - 1)
        );
        assert!(matches!(
            convert(&SrcValue::Int(5), &column),
            Outcome::Reject(r) if r.contains("1970-01-01")
        ));
    }

    /// ActiveRecord's `time` on SQLite: the time of day on 2000-01-01 (or bare). Another date
    /// is a value the convention does not know, refused rather than dropped.
    #[test]
    fn times_on_2000_01_01_keep_the_time_of_day() {
        let mut column = col(PgType::Time);
        column.conversion = Some(Conversion::TimeOn2000);
        assert_eq!(
            exact_with(&text("2000-01-01 23:59:59.999999"), &column),
            Cell::TimeOfDay(DAY_MICROS - 1)
        );
        assert_eq!(
            exact_with(&text("2000-01-01 00:00:00"), &column),
            Cell::TimeOfDay(0)
        );
        assert_eq!(
            exact_with(&text("12:00:00"), &column),
            Cell::TimeOfDay(DAY_MICROS / 2)
        );
        for refused in [
            "2000-01-02 12:00:00",
            "1999-12-31 12:00:00",
            "2000-01-01",
            "noon",
        ] {
            assert!(
                matches!(convert(&text(refused), &column), Outcome::Reject(r) if r.contains("2000-01-01")),
                "{refused}"
            );
        }
        assert!(matches!(
            convert(&SrcValue::Int(5), &column),
            Outcome::Reject(r) if r.contains("2000-01-01")
        ));
    }

    /// Peewee's FloatField: a double into `real` is kept when psycopg, reading the float4's
    /// shortest text, gets the same double back; not merely when the float4 is exact.
    #[test]
    fn float4_text_keeps_what_a_text_reader_gets_back() {
        let mut column = col(PgType::Real);
        column.conversion = Some(Conversion::Float4Text);
        for kept in [0.1, -2.5, 2.5e38, 1e-45, 16_777_216.0, 0.0, f64::INFINITY] {
            assert_eq!(
                exact_with(&SrcValue::Float(kept), &column),
                Cell::F32(kept as f32),
                "{kept}"
            );
        }
        assert_eq!(exact_with(&SrcValue::Float(-0.0), &column), Cell::F32(-0.0));
        assert_eq!(exact_with(&SrcValue::Int(3), &column), Cell::F32(3.0));
        for (refused, why) in [
            (1.0 / 3.0, "as 3.3333334e-1"),
            (16_777_217.0, "as 1.6777216e7"),
            (3.4028234663852886e38, "as 3.4028235e38"),
            (1e300, "out of range"),
        ] {
            assert!(
                matches!(convert(&SrcValue::Float(refused), &column), Outcome::Reject(r) if r.contains(why)),
                "{refused}"
            );
        }
    }

    /// Peewee's DateTimeField: naive text keeps its wall-clock time in `timestamp`; text with
    /// an offset is refused rather than moved to UTC.
    #[test]
    fn naive_only_refuses_offsets() {
        let mut column = col(PgType::Timestamp);
        column.conversion = Some(Conversion::NaiveOnly);
        assert_eq!(
            exact_with(&text("1970-01-01 00:00:01.5"), &column),
            Cell::Micros(1_500_000)
        );
        assert_eq!(
            exact_with(&text("1970-01-02"), &column),
            Cell::Micros(DAY_MICROS)
        );
        for refused in ["2024-07-01 12:00:00+02:00", "2024-07-01T12:00:00Z"] {
            assert!(
                matches!(convert(&text(refused), &column), Outcome::Reject(r) if r.contains("offset")),
                "{refused}"
            );
        }
        assert!(matches!(
            convert(&text("not a date"), &column),
            Outcome::Reject(r) if r.contains("date/time")
        ));
        assert!(matches!(
            convert(&SrcValue::Int(5), &column),
            Outcome::Reject(r) if r.contains("not date/time text")
        ));
    }
}
