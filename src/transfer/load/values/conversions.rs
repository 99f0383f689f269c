//! The conversions a plan file (or an ORM's convention) names for a column, for what the
//! column's type alone cannot decide: units of durations and instants, ActiveRecord's times
//! and decimals, naive texts read in a zone, and the `*_only` conversions that keep one
//! storage class of a column whose classes would collide.

use std::borrow::Cow;

use super::*;

/// The storage class a `*_only` conversion keeps, in the words of its reject reason.
pub(super) fn kept_class(conversion: Conversion) -> Option<&'static str> {
    match conversion {
        Conversion::NumbersOnly => Some("numbers"),
        Conversion::TextOnly => Some("text"),
        Conversion::BlobsOnly => Some("blobs"),
        _ => None,
    }
}

/// A value's storage class as [`kept_class`] names it, and one value of it in words (INTEGER
/// and REAL are both numbers: SQLite compares them as numbers too).
pub(super) fn storage_class(value: &Src<'_>) -> (&'static str, &'static str) {
    match value {
        Src::Int(_) | Src::Float(_) => ("numbers", "a number"),
        Src::Text(_) => ("text", "a text"),
        Src::Blob(_) => ("blobs", "a blob"),
        Src::Null => ("NULL", "NULL"),
    }
}

pub(super) fn convert_with<'a>(
    value: Src<'a>,
    pg_type: &PgType,
    conversion: Conversion,
) -> Result<Cell<'a>, Problem> {
    match conversion {
        Conversion::DatetimeSinceEpochToInterval => since_epoch_interval(value, pg_type),
        Conversion::TimeOn2000 => time_on_2000(value, pg_type),
        Conversion::ActiveModelDecimal => active_model_decimal(value, pg_type),
        Conversion::Float4Text => float4_text(value, pg_type),
        Conversion::NaiveOnly => naive_only(value, pg_type),
        Conversion::NaiveInZone(zone) => in_zone(value, zone),
        // Applied by `to_cell` before it gets here; the kept values convert as the type says.
        // Moving an offset to UTC is what the type's own conversion does.
        Conversion::NumbersOnly
        | Conversion::TextOnly
        | Conversion::BlobsOnly
        | Conversion::OffsetsToUtc => to_cell(value, pg_type, None, true),
        // Sent as days and microseconds, never as one number of microseconds or seconds in
        // interval text: before PostgreSQL 15 each number there is a 32-bit integer.
        Conversion::MicrosecondsToInterval => {
            let number = number_of(value)?;
            match value {
                Src::Int(i) => interval_cell(i),
                _ if number.fract() == 0.0 && number.abs() < 9.0e15 => interval_cell(number as i64),
                _ => Err(other("microseconds must be a whole number")),
            }
        }
        Conversion::SecondsToInterval => {
            let micros = (number_of(value)? * 1e6).round();
            if !micros.is_finite() || micros.abs() > 9.0e18 {
                return Err(other("duration out of range for interval"));
            }
            interval_cell(micros as i64)
        }
        Conversion::UnixSeconds | Conversion::UnixMilliseconds | Conversion::JulianDay => {
            instant(number_of(value)?, pg_type, conversion)
        }
    }
}

/// The number a unit conversion counts: an integer, a real, or text that reads as one.
fn number_of(value: Src<'_>) -> Result<f64, Problem> {
    Ok(match value {
        Src::Int(i) => i as f64,
        Src::Float(x) => x,
        Src::Text(b) => pg_trim(pg_text(b)?)
            .parse::<f64>()
            .map_err(|_| other("not a number"))?,
        Src::Blob(_) | Src::Null => return Err(other("a blob is not a number")),
    })
}

/// The instant `number` stands for in the unit of `conversion` (Unix seconds or milliseconds,
/// or a Julian day), as a `date`, `timestamp` or `timestamptz`.
fn instant<'a>(number: f64, pg_type: &PgType, conversion: Conversion) -> Result<Cell<'a>, Problem> {
    let micros = match conversion {
        Conversion::UnixSeconds => number * 1e6,
        Conversion::UnixMilliseconds => number * 1e3,
        // As SQLite reads a Julian day: to the nearest millisecond (an f64 near 2.46e6
        // holds only about 50 microseconds, so finer digits are rounding noise), then
        // from the Julian epoch.
        _ => ((number * 86_400_000.0 + 0.5).floor() - 210_866_760_000_000.0) * 1e3,
    };
    if !micros.is_finite() || micros.abs() > 9.0e18 {
        return Err(other("instant out of range"));
    }
    let micros = micros.round() as i64;
    check_pg_range(micros)?;
    match pg_type {
        PgType::Date => {
            if micros.rem_euclid(86_400_000_000) != 0 {
                return Err(other(
                    "instant is not at midnight, a date would drop the time",
                ));
            }
            Ok(Cell::Days(micros.div_euclid(86_400_000_000) as i32))
        }
        PgType::Timestamp | PgType::Timestamptz => Ok(Cell::Micros(micros)),
        other_type => Err(other(format!(
            "an instant cannot go into {}",
            other_type.sql()
        ))),
    }
}

/// A date/time text counted from 1970-01-01 00:00, as the interval it stands for. The text
/// has no zone (SQLAlchemy writes `epoch + value` naive), and [`parse_datetime`] reads such
/// text as UTC, so its microseconds since the Unix epoch are the duration.
fn since_epoch_interval<'a>(value: Src<'a>, pg_type: &PgType) -> Result<Cell<'a>, Problem> {
    if *pg_type != PgType::Interval {
        return Err(other(format!(
            "a duration cannot go into {}",
            pg_type.sql()
        )));
    }
    match value {
        Src::Text(b) => {
            let text = pg_text(b)?;
            let micros = parse_datetime(text).ok_or_else(|| {
                other(format!(
                    "`{}` is not a date/time counted from 1970-01-01",
                    shorten(text)
                ))
            })?;
            interval_cell(micros)
        }
        other_value => Err(other(format!(
            "{} is not a date/time counted from 1970-01-01",
            describe(other_value)
        ))),
    }
}

/// A time of day that ActiveRecord wrote on SQLite as a date/time on 2000-01-01
/// (`active_record/connection_adapters/sqlite3/quoting.rb` `quoted_time`), or a bare time of
/// day. Any other date is refused: dropping it would lose a value.
fn time_on_2000<'a>(value: Src<'a>, pg_type: &PgType) -> Result<Cell<'a>, Problem> {
    if *pg_type != PgType::Time {
        return Err(other(format!(
            "a time of day cannot go into {}",
            pg_type.sql()
        )));
    }
    let Src::Text(b) = value else {
        return Err(other(format!(
            "{} is not a time on 2000-01-01",
            describe(value)
        )));
    };
    let text = pg_trim(pg_text(b)?);
    let clock = match text.strip_prefix("2000-01-01") {
        Some(rest) => rest.strip_prefix([' ', 'T']),
        // A bare time of day (written by another program) means the same.
        None => Some(text),
    };
    clock
        .and_then(parse_time_of_day)
        .map(Cell::TimeOfDay)
        .ok_or_else(|| other(format!("`{}` is not a time on 2000-01-01", shorten(text))))
}

/// A REAL in an ActiveRecord `decimal(p, s)` column as ActiveRecord reads it
/// ([`super::active_model`]); integers and text, which it reads exactly, as any numeric.
fn active_model_decimal<'a>(value: Src<'a>, pg_type: &PgType) -> Result<Cell<'a>, Problem> {
    let PgType::Numeric(precision) = pg_type else {
        return Err(other(format!("a decimal cannot go into {}", pg_type.sql())));
    };
    let text = match (value, precision) {
        (Src::Float(x), Some((p, s))) if x.is_finite() => {
            let read = crate::transfer::load::active_model::read_as_active_model(x, *p, *s);
            to_numeric_text(Src::Text(read.as_bytes()), *precision)?
        }
        (Src::Float(x), None) if x.is_finite() => {
            crate::transfer::load::active_model::read_unconstrained(x)
        }
        _ => to_numeric_text(value, *precision)?,
    };
    Ok(Cell::Text(Cow::Owned(text)))
}

/// A number into `real` when a client reading the `real` as text gets the same double back:
/// PostgreSQL (12 and later, `extra_float_digits` 1) prints a `real` as the shortest text that
/// reads back as the same 4-byte float, and psycopg reads that text with Python's `float()`.
/// 0.1 survives (its float prints `0.1`); 1/3 does not (`0.33333334`), nor does the largest
/// float, exact as it is (`3.4028235e+38`).
fn float4_text<'a>(value: Src<'a>, pg_type: &PgType) -> Result<Cell<'a>, Problem> {
    if *pg_type != PgType::Real {
        return Err(other(format!(
            "`float4_text` makes a real, not {}",
            pg_type.sql()
        )));
    }
    let x = to_f64(value)?;
    let narrow = x as f32;
    if x.is_finite() && !narrow.is_finite() {
        return Err(other(format!(
            "{} is out of range for real (4-byte float)",
            float_text(x)
        )));
    }
    // Rust prints an f32 as the shortest text that reads back as it, as PostgreSQL does.
    let printed = narrow.to_string();
    let same = x.is_nan()
        || !x.is_finite()
        || printed
            .parse::<f64>()
            .is_ok_and(|y| y.to_bits() == x.to_bits());
    if same {
        Ok(Cell::F32(narrow))
    } else {
        Err(other(format!(
            "{} reads back from real (4-byte float) as {narrow:e}",
            float_text(x)
        )))
    }
}

/// Date/time text without an offset into `timestamp`, as the general conversion reads it;
/// text with `Z` or an offset is refused rather than moved to UTC, and so is a number (no
/// date/time an ORM wrote as text).
fn naive_only<'a>(value: Src<'a>, pg_type: &PgType) -> Result<Cell<'a>, Problem> {
    match value {
        Src::Text(b) => {
            let text = pg_text(b)?;
            if crate::datetime::naive_micros(text).is_none() && to_micros(value).is_ok() {
                return Err(other(format!(
                    "`{}` has an offset, which {} does not keep",
                    shorten(text),
                    pg_type.sql()
                )));
            }
            to_cell(value, pg_type, None, true)
        }
        _ => Err(other(format!(
            "a {} is not date/time text",
            value.storage_class()
        ))),
    }
}
