//! Encoding [`Cell`]s as PostgreSQL `COPY` data: the binary format (the fast path: the server
//! parses nothing) and the text format (for tables with a column type that has no binary
//! encoder here, such as `numeric` or `interval`). Pure: writes into a byte buffer.

use chrono::{Datelike, NaiveDate, Timelike};

use crate::transfer::load::values::Cell;
use crate::transfer::text::float_text;

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between the Unix epoch and PostgreSQL's epoch.
const PG_EPOCH_DAYS: i32 = 10_957;

/// The 19-byte header of a binary COPY stream.
pub const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer of a binary COPY stream.
pub const BINARY_TRAILER: &[u8] = &[0xff, 0xff];

/// Starts a binary row of `fields` fields.
pub fn binary_row_start(buf: &mut Vec<u8>, fields: usize) {
    buf.extend_from_slice(&(fields as i16).to_be_bytes());
}

fn field(buf: &mut Vec<u8>, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as i32).to_be_bytes());
    buf.extend_from_slice(payload);
}

/// Appends one field in binary format.
pub fn binary_field(buf: &mut Vec<u8>, cell: &Cell<'_>) {
    match cell {
        Cell::Null => buf.extend_from_slice(&(-1i32).to_be_bytes()),
        Cell::Bool(b) => field(buf, &[u8::from(*b)]),
        Cell::I16(i) => field(buf, &i.to_be_bytes()),
        Cell::I32(i) => field(buf, &i.to_be_bytes()),
        Cell::I64(i) => field(buf, &i.to_be_bytes()),
        Cell::F32(x) => field(buf, &x.to_bits().to_be_bytes()),
        Cell::F64(x) => field(buf, &x.to_bits().to_be_bytes()),
        Cell::Text(t) => field(buf, t.as_bytes()),
        Cell::Jsonb(t) => {
            buf.extend_from_slice(&(t.len() as i32 + 1).to_be_bytes());
            buf.push(1);
            buf.extend_from_slice(t.as_bytes());
        }
        Cell::Bytes(b) => field(buf, b),
        Cell::Micros(m) => field(buf, &(m - PG_EPOCH_MICROS).to_be_bytes()),
        Cell::Days(d) => field(buf, &(d - PG_EPOCH_DAYS).to_be_bytes()),
        Cell::TimeOfDay(t) => field(buf, &t.to_be_bytes()),
        Cell::Uuid(u) => field(buf, u),
        Cell::Interval { days, micros } => {
            // PostgreSQL's `interval_send`: microseconds, days, months.
            buf.extend_from_slice(&16i32.to_be_bytes());
            buf.extend_from_slice(&micros.to_be_bytes());
            buf.extend_from_slice(&days.to_be_bytes());
            buf.extend_from_slice(&0i32.to_be_bytes());
        }
    }
}

/// Appends one field in text format (without the separator).
pub fn text_field(buf: &mut Vec<u8>, cell: &Cell<'_>) {
    match cell {
        Cell::Null => buf.extend_from_slice(b"\\N"),
        Cell::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
        Cell::I16(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        Cell::I32(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        Cell::I64(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        Cell::F32(x) => buf.extend_from_slice(float_text(f64::from(*x)).as_bytes()),
        Cell::F64(x) => buf.extend_from_slice(float_text(*x).as_bytes()),
        Cell::Text(t) | Cell::Jsonb(t) => escape_text(buf, t.as_bytes()),
        Cell::Bytes(b) => {
            buf.extend_from_slice(b"\\\\x");
            for byte in b.iter() {
                buf.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
        Cell::Micros(m) => buf.extend_from_slice(format_micros(*m).as_bytes()),
        Cell::Days(d) => buf.extend_from_slice(format_days(*d).as_bytes()),
        Cell::TimeOfDay(t) => buf.extend_from_slice(clock(*t).as_bytes()),
        // Every number stays small (the clock is under 24 hours), so PostgreSQL 13 and 14,
        // which read each number of interval text as a 32-bit integer, accept it too. The
        // explicit `+` keeps the clock positive after negative days.
        Cell::Interval { days, micros } => {
            buf.extend_from_slice(format!("{days} days +{}", clock(*micros)).as_bytes())
        }
        Cell::Uuid(u) => buf.extend_from_slice(
            uuid::Uuid::from_bytes(*u)
                .hyphenated()
                .to_string()
                .as_bytes(),
        ),
    }
}

/// `HH:MM:SS.ffffff` for microseconds since midnight.
fn clock(t: i64) -> String {
    let (secs, frac) = (t / 1_000_000, t % 1_000_000);
    format!(
        "{:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn escape_text(buf: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b => buf.push(b),
        }
    }
}

/// PostgreSQL's year text: years before 1 AD are written `YYYY ... BC`.
fn year_parts(year: i32) -> (i32, &'static str) {
    if year <= 0 {
        (1 - year, " BC")
    } else {
        (year, "")
    }
}

/// A timestamp as PostgreSQL reads it in text COPY: `YYYY-MM-DD HH:MM:SS.ffffff+00[ BC]`.
pub fn format_micros(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => {
            let (year, era) = year_parts(t.year());
            format!(
                "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00{era}",
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.timestamp_subsec_micros()
            )
        }
        None => "infinity".into(),
    }
}

/// A date as PostgreSQL reads it: `YYYY-MM-DD[ BC]`.
pub fn format_days(days: i32) -> String {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    match epoch.checked_add_signed(chrono::Duration::days(days.into())) {
        Some(d) => {
            let (year, era) = year_parts(d.year());
            format!("{year:04}-{:02}-{:02}{era}", d.month(), d.day())
        }
        None => "infinity".into(),
    }
}

#[cfg(test)]
mod mutants_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_fields_match_the_wire_format() {
        let mut buf = Vec::new();
        binary_field(&mut buf, &Cell::I64(1));
        assert_eq!(buf, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        buf.clear();
        binary_field(&mut buf, &Cell::Micros(PG_EPOCH_MICROS));
        assert_eq!(buf, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
        buf.clear();
        binary_field(&mut buf, &Cell::Jsonb("{}".into()));
        assert_eq!(buf, [0, 0, 0, 3, 1, b'{', b'}']);
        buf.clear();
        binary_field(&mut buf, &Cell::Null);
        assert_eq!(buf, [0xff, 0xff, 0xff, 0xff]);
        assert_eq!(BINARY_HEADER.len(), 19);
    }

    #[test]
    fn text_fields_escape_and_format() {
        let mut buf = Vec::new();
        text_field(&mut buf, &Cell::Text("a\tb\\c\nd".into()));
        assert_eq!(buf, b"a\\tb\\\\c\\nd");
        buf.clear();
        text_field(&mut buf, &Cell::Bytes(vec![0, 255].into()));
        assert_eq!(buf, b"\\\\x00ff");
        buf.clear();
        text_field(
            &mut buf,
            &Cell::Interval {
                days: -1,
                micros: 86_399_999_999,
            },
        );
        assert_eq!(buf, b"-1 days +23:59:59.999999");
        buf.clear();
        binary_field(&mut buf, &Cell::Interval { days: 2, micros: 5 });
        assert_eq!(
            buf,
            [0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 0]
        );
        assert_eq!(format_micros(0), "1970-01-01 00:00:00.000000+00");
        assert_eq!(format_days(-719_528), "0001-01-01 BC");
        assert_eq!(format_days(-719_162), "0001-01-01");
    }
}
