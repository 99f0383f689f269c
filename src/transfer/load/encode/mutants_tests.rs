//! Every cell kind in both COPY formats, with the expected bytes worked out here from the
//! PostgreSQL wire format (epochs from chrono, not from the encoder's constants): these are the
//! tests that `cargo mutants` showed missing (see `docs/testing.md`).

use chrono::NaiveDate;

use super::*;

fn binary(cell: Cell<'_>) -> Vec<u8> {
    let mut buf = Vec::new();
    binary_field(&mut buf, &cell);
    buf
}

fn text(cell: Cell<'_>) -> String {
    let mut buf = Vec::new();
    text_field(&mut buf, &cell);
    String::from_utf8(buf).unwrap()
}

/// A field: its length as a big-endian i32, then the payload.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn days_since_unix_epoch(y: i32, m: u32, d: u32) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days() as i32
}

#[test]
fn the_epochs_are_postgresqls_2000_01_01() {
    let days = days_since_unix_epoch(2000, 1, 1);
    assert_eq!(PG_EPOCH_DAYS, days);
    assert_eq!(PG_EPOCH_MICROS, i64::from(days) * 86_400_000_000);
    // A date one day after PostgreSQL's epoch is day 1 on the wire; one before is -1.
    assert_eq!(binary(Cell::Days(days + 1)), framed(&1i32.to_be_bytes()));
    assert_eq!(binary(Cell::Days(days - 1)), framed(&(-1i32).to_be_bytes()));
    assert_eq!(binary(Cell::Days(0)), framed(&(-days).to_be_bytes()));
    // An instant one microsecond after 1970 is that far before PostgreSQL's epoch.
    let micros = i64::from(days) * 86_400_000_000;
    assert_eq!(binary(Cell::Micros(1)), framed(&(1 - micros).to_be_bytes()));
}

#[test]
fn binary_scalars_carry_their_width_and_bits() {
    assert_eq!(binary(Cell::Bool(true)), framed(&[1]));
    assert_eq!(binary(Cell::Bool(false)), framed(&[0]));
    assert_eq!(binary(Cell::I16(-2)), framed(&[0xff, 0xfe]));
    assert_eq!(binary(Cell::I32(258)), framed(&[0, 0, 1, 2]));
    assert_eq!(
        binary(Cell::I64(-1)),
        framed(&[0xff; 8]),
        "an i64 is eight bytes"
    );
    assert_eq!(
        binary(Cell::F32(1.5)),
        framed(&1.5f32.to_bits().to_be_bytes())
    );
    assert_eq!(
        binary(Cell::F64(-0.0)),
        framed(&(-0.0f64).to_bits().to_be_bytes())
    );
    assert_eq!(binary(Cell::Text("é".into())), framed("é".as_bytes()));
    assert_eq!(binary(Cell::Bytes(vec![0, 7].into())), framed(&[0, 7]));
    assert_eq!(binary(Cell::Bytes(Vec::new().into())), framed(&[]));
    assert_eq!(
        binary(Cell::TimeOfDay(3_600_000_001)),
        framed(&3_600_000_001i64.to_be_bytes())
    );
    let uuid = *uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8")
        .unwrap()
        .as_bytes();
    assert_eq!(binary(Cell::Uuid(uuid)), framed(&uuid));
    // jsonb: version 1, then the text; the length counts the version byte.
    assert_eq!(
        binary(Cell::Jsonb("[1]".into())),
        framed(&[1, b'[', b'1', b']'])
    );
    // interval_send: microseconds, days, then months (always 0 here).
    let mut interval = 16i32.to_be_bytes().to_vec();
    interval.extend_from_slice(&(-7i64).to_be_bytes());
    interval.extend_from_slice(&(-3i32).to_be_bytes());
    interval.extend_from_slice(&0i32.to_be_bytes());
    assert_eq!(
        binary(Cell::Interval {
            days: -3,
            micros: -7
        }),
        interval
    );
}

#[test]
fn binary_rows_start_with_their_field_count_and_the_stream_is_framed() {
    let mut buf = Vec::new();
    binary_row_start(&mut buf, 3);
    assert_eq!(buf, [0, 3]);
    buf.clear();
    binary_row_start(&mut buf, 1600);
    assert_eq!(buf, 1600i16.to_be_bytes());
    assert_eq!(&BINARY_HEADER[..11], b"PGCOPY\n\xff\r\n\0");
    assert_eq!(&BINARY_HEADER[11..], &[0; 8], "no flags, no extension");
    assert_eq!(BINARY_TRAILER, (-1i16).to_be_bytes());
}

#[test]
fn text_scalars_are_postgresqls_input_forms() {
    assert_eq!(text(Cell::Null), "\\N");
    assert_eq!(text(Cell::Bool(true)), "t");
    assert_eq!(text(Cell::Bool(false)), "f");
    assert_eq!(text(Cell::I16(-32768)), "-32768");
    assert_eq!(text(Cell::I32(2_147_483_647)), "2147483647");
    assert_eq!(text(Cell::I64(i64::MIN)), "-9223372036854775808");
    assert_eq!(text(Cell::F32(0.1)), float_text(f64::from(0.1f32)));
    assert_eq!(text(Cell::F64(0.1)), "0.1");
    assert_eq!(text(Cell::F64(f64::NEG_INFINITY)), "-Infinity");
    assert_eq!(
        text(Cell::Jsonb("{\"a\":\"\\\\\"}".into())),
        "{\"a\":\"\\\\\\\\\"}"
    );
    assert_eq!(text(Cell::Text("a\rb".into())), "a\\rb");
    assert_eq!(text(Cell::Bytes(vec![0xab, 0x01].into())), "\\\\xab01");
    assert_eq!(
        text(Cell::Uuid(
            *uuid::Uuid::parse_str("67E55044-10B1-426F-9247-BB680E5FE0C8")
                .unwrap()
                .as_bytes()
        )),
        "67e55044-10b1-426f-9247-bb680e5fe0c8"
    );
}

#[test]
fn clocks_split_hours_minutes_seconds_and_microseconds() {
    let at = ((13 * 60 + 7) * 60 + 9) * 1_000_000 + 42;
    assert_eq!(text(Cell::TimeOfDay(at)), "13:07:09.000042");
    assert_eq!(text(Cell::TimeOfDay(86_399_999_999)), "23:59:59.999999");
    assert_eq!(text(Cell::TimeOfDay(0)), "00:00:00.000000");
    assert_eq!(
        text(Cell::Interval {
            days: 2,
            micros: 61_000_001
        }),
        "2 days +00:01:01.000001"
    );
}

#[test]
fn timestamps_and_dates_before_year_one_are_bc_and_beyond_chrono_are_infinity() {
    // 2024-02-29 12:34:56.789012 UTC, worked out from the calendar, not from chrono's parser.
    let day = i64::from(days_since_unix_epoch(2024, 2, 29));
    let micros = day * 86_400_000_000 + ((12 * 60 + 34) * 60 + 56) * 1_000_000 + 789_012;
    assert_eq!(format_micros(micros), "2024-02-29 12:34:56.789012+00");
    assert_eq!(text(Cell::Micros(micros)), "2024-02-29 12:34:56.789012+00");
    assert_eq!(format_micros(-1), "1969-12-31 23:59:59.999999+00");
    // Year 0 is 1 BC, year -1 is 2 BC; year 1 has no era.
    let year_zero = i64::from(days_since_unix_epoch(0, 3, 1)) * 86_400_000_000;
    assert_eq!(format_micros(year_zero), "0001-03-01 00:00:00.000000+00 BC");
    assert_eq!(
        format_days(days_since_unix_epoch(-1, 12, 31)),
        "0002-12-31 BC"
    );
    assert_eq!(format_days(days_since_unix_epoch(1, 1, 1)), "0001-01-01");
    assert_eq!(
        text(Cell::Days(days_since_unix_epoch(1999, 12, 31))),
        "1999-12-31"
    );
    assert_eq!(format_micros(i64::MAX), "infinity");
    assert_eq!(format_days(i32::MAX), "infinity");
}
