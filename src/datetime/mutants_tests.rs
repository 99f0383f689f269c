//! The fast ISO-8601 scanner at the edges `cargo mutants` found unchecked (see
//! `docs/testing.md`): century leap years and the largest UTC offset. Expected instants come
//! from chrono's calendar, not from the scanner's own arithmetic.

use super::*;

fn micros(text: &str) -> Option<i64> {
    scan_iso(text.as_bytes()).map(|p| p.unix_micros())
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

#[test]
fn century_years_are_leap_years_only_every_400_years() {
    for (year, days) in [
        (1900, 28),
        (2000, 29),
        (2023, 28),
        (2024, 29),
        (2100, 28),
        (2400, 29),
    ] {
        assert_eq!(days_in_month(year, 2), days, "{year}");
    }
    assert_eq!(days_in_month(2023, 4), 30);
    assert_eq!(days_in_month(2023, 12), 31);
    assert_eq!(micros("1900-02-29"), None);
    assert_eq!(micros("2100-02-29 00:00:00"), None);
    assert_eq!(micros("2000-02-29"), Some(utc(2000, 2, 29, 0)));
}

#[test]
fn offsets_up_to_fifteen_hours_are_read_and_larger_ones_are_not() {
    assert_eq!(
        micros("2024-01-01T15:00:00+15:00"),
        Some(utc(2024, 1, 1, 0))
    );
    assert_eq!(
        micros("2024-01-01T00:00:00-1500"),
        Some(utc(2024, 1, 1, 15))
    );
    assert_eq!(micros("2024-01-01T00:00:00+16:00"), None);
    assert_eq!(micros("2024-01-01T00:00:00+01:60"), None);
}

#[test]
fn both_date_separators_must_be_hyphens_and_short_input_is_no_date() {
    assert_eq!(micros("2024/01-01"), None);
    assert_eq!(micros("2024-01/01"), None);
    assert_eq!(micros("2024"), None);
    assert_eq!(micros(""), None);
}
