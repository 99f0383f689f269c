//! Recognising dates and timestamps written as text, for the data layer and the transfer
//! alike: [`scan_iso`] reads the common ISO-8601 forms byte by byte into their parts (fast and
//! exact, for profiling and converting millions of values), and [`parse_text`] reads the wider
//! set of forms through chrono. Each caller decides which of the recognised texts it takes:
//! the profile only those PostgreSQL reads exactly, the converter every instant it can place.
// Without the transfer (a build without `postgres`), only the data layer's forms are used.
#![cfg_attr(not(transfer), allow(dead_code))]

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// An ISO-8601 date or timestamp as written: `YYYY-MM-DD`, then optionally `T` or a space and
/// `HH:MM[:SS[.f…]]`, then optionally `Z` or `±HH[[:]MM]`. The date exists (month 1 to 12, day
/// within its month) and the time is in range (hour 0 to 23, no leap second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsoParts {
    /// The year, 0 to 9999 (year 0 is 1 BC, as in the proleptic Gregorian calendar).
    pub year: i64,
    /// The month, 1 to 12.
    pub month: i64,
    /// The day of the month, from 1.
    pub day: i64,
    /// The time of day, absent for a bare date.
    pub time: Option<IsoTime>,
    /// The zone written after the time.
    pub zone: IsoZone,
}

/// The time of an [`IsoParts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsoTime {
    /// 0 to 23.
    pub hour: i64,
    /// 0 to 59.
    pub minute: i64,
    /// 0 to 59, when written.
    pub second: Option<i64>,
    /// How many fraction digits were written (at least one when there is a `.`).
    pub fraction_digits: usize,
    /// The fraction in microseconds, rounded at the seventh digit as PostgreSQL rounds
    /// (1_000_000 when `.9999995` rounds up to the next second).
    pub micros: i64,
}

/// The zone of an [`IsoParts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IsoZone {
    /// None written: the caller decides (UTC, by SQLite's convention).
    Unwritten,
    /// `Z`.
    Utc,
    /// `±HH`, `±HHMM` or `±HH:MM`, hours 0 to 15, minutes 0 to 59; east of UTC positive.
    Offset {
        /// The offset in seconds.
        seconds: i64,
    },
}

impl IsoParts {
    /// The instant in microseconds since the Unix epoch, a text without a zone taken as UTC.
    #[inline]
    pub(crate) fn unix_micros(&self) -> i64 {
        let mut micros = days_from_civil(self.year, self.month, self.day) * 86_400_000_000;
        if let Some(time) = self.time {
            micros += time.micros
                + (time.hour * 3600 + time.minute * 60 + time.second.unwrap_or(0)) * 1_000_000;
        }
        match self.zone {
            IsoZone::Offset { seconds } => micros - seconds * 1_000_000,
            IsoZone::Unwritten | IsoZone::Utc => micros,
        }
    }
}

/// The zone texts without an offset were written in, when the user knows it
/// (`--source-timezone`): a fixed offset from UTC, or a zone of the IANA database, whose offset
/// changes with daylight saving. Written and read as text: `UTC`, `+02:00`, `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceZone {
    /// A fixed offset, in seconds east of UTC.
    Fixed(i32),
    /// An IANA zone.
    Named(chrono_tz::Tz),
}

impl SourceZone {
    /// The instant, in microseconds since the Unix epoch, of the wall-clock time `naive` (in
    /// microseconds as if it were UTC) in this zone. Read as PostgreSQL reads such a text in
    /// that zone: a time the fall-back hour repeats is the later (standard-time) instant, and a
    /// time the spring-forward gap skips takes the offset in force before the gap.
    pub fn utc_micros(self, naive: i64) -> Option<i64> {
        use chrono::{Offset, TimeZone};
        let tz = match self {
            SourceZone::Fixed(seconds) => return naive.checked_sub(i64::from(seconds) * 1_000_000),
            SourceZone::Named(tz) => tz,
        };
        let local = DateTime::from_timestamp_micros(naive)?.naive_utc();
        let offset = match tz.offset_from_local_datetime(&local) {
            chrono::LocalResult::Single(offset) => offset.fix(),
            chrono::LocalResult::Ambiguous(a, b) => {
                // The later instant has the smaller offset east of UTC.
                std::cmp::min_by_key(a.fix(), b.fix(), |o| o.local_minus_utc())
            }
            chrono::LocalResult::None => tz
                .offset_from_utc_datetime(&(local - chrono::Duration::hours(3)))
                .fix(),
        };
        naive.checked_sub(i64::from(offset.local_minus_utc()) * 1_000_000)
    }
}

impl std::str::FromStr for SourceZone {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("utc") || text == "Z" {
            return Ok(SourceZone::Fixed(0));
        }
        if text.starts_with(['+', '-']) {
            if let Some(IsoZone::Offset { seconds }) = scan_zone(text.as_bytes()) {
                return Ok(SourceZone::Fixed(seconds as i32));
            }
        }
        text.parse::<chrono_tz::Tz>().map(SourceZone::Named).map_err(|_| {
            format!("unknown time zone `{text}`: give an IANA name such as `Europe/Paris`, `UTC`, or an offset such as `+02:00`")
        })
    }
}

impl std::fmt::Display for SourceZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceZone::Fixed(0) => f.write_str("UTC"),
            SourceZone::Fixed(seconds) => {
                let sign = if *seconds < 0 { '-' } else { '+' };
                let abs = seconds.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
            }
            SourceZone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl serde::Serialize for SourceZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SourceZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The wall-clock time of a text without an offset, in microseconds as if it were UTC: the
/// ISO forms of [`scan_iso`] and the forms without an offset [`parse_text`] takes. `None` for
/// text with `Z` or an offset, and for anything that is not a date/time.
pub(crate) fn naive_micros(text: &str) -> Option<i64> {
    if let Some(parts) = scan_iso(text.as_bytes()) {
        return (parts.zone == IsoZone::Unwritten).then(|| parts.unix_micros());
    }
    let s = text.trim();
    let s: Cow<'_, str> = if s.as_bytes().get(4) == Some(&b'/') {
        Cow::Owned(s.replacen('/', "-", 2))
    } else {
        Cow::Borrowed(s)
    };
    for fmt in NAIVE {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// Reads `b` as an [`IsoParts`]; `None` for anything else (other separators, a missing digit,
/// a date that does not exist, a time out of range, trailing text).
#[inline]
pub(crate) fn scan_iso(b: &[u8]) -> Option<IsoParts> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (number(b, 0, 4)?, number(b, 5, 2)?, number(b, 8, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date = IsoParts {
        year,
        month,
        day,
        time: None,
        zone: IsoZone::Unwritten,
    };
    if b.len() == 10 {
        return Some(date);
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    let (time, end) = scan_time(b, 11)?;
    Some(IsoParts {
        time: Some(time),
        zone: scan_zone(&b[end..])?,
        ..date
    })
}

/// `HH:MM[:SS[.f…]]` from `at`; the time and where it ends.
#[inline(always)]
fn scan_time(b: &[u8], at: usize) -> Option<(IsoTime, usize)> {
    let (hour, minute) = (number(b, at, 2)?, number(b, at + 3, 2)?);
    if *b.get(at + 2)? != b':' || hour > 23 || minute > 59 {
        return None;
    }
    let mut time = IsoTime {
        hour,
        minute,
        second: None,
        fraction_digits: 0,
        micros: 0,
    };
    let mut i = at + 5;
    if b.get(i) != Some(&b':') {
        return Some((time, i));
    }
    let second = number(b, i + 1, 2)?;
    if second > 59 {
        return None;
    }
    time.second = Some(second);
    i += 3;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                time.micros = time.micros * 10 + i64::from(b[i] - b'0');
            } else if i - start == 6 && b[i] >= b'5' {
                // More than microsecond precision: round as PostgreSQL does.
                time.micros += 1;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        time.fraction_digits = i - start;
        let kept = time.fraction_digits.min(6);
        if kept < 6 {
            time.micros *= 10i64.pow(6 - kept as u32);
        }
    }
    Some((time, i))
}

/// The zone: nothing, `Z`, or `±HH`, `±HHMM`, `±HH:MM`, and nothing after it.
#[inline(always)]
fn scan_zone(rest: &[u8]) -> Option<IsoZone> {
    let (sign, digits) = match rest {
        [] => return Some(IsoZone::Unwritten),
        [b'Z'] => return Some(IsoZone::Utc),
        [sign @ (b'+' | b'-'), digits @ ..] => (*sign, digits),
        _ => return None,
    };
    let hours = number(digits, 0, 2)?;
    let minutes = match digits.len() {
        2 => 0,
        4 => number(digits, 2, 2)?,
        5 if digits[2] == b':' => number(digits, 3, 2)?,
        _ => return None,
    };
    if hours > 15 || minutes > 59 {
        return None;
    }
    let seconds = (hours * 3600 + minutes * 60) * if sign == b'+' { 1 } else { -1 };
    Some(IsoZone::Offset { seconds })
}

/// The `len` digits of `b` at `at` as a number; `None` when one is missing or not a digit.
#[inline(always)]
fn number(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let digits = b.get(at..at + len)?;
    digits.iter().try_fold(0i64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

/// The days of `month` in `year` of the proleptic Gregorian calendar.
#[inline]
pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[inline]
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Which texts [`parse_text`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextForms {
    /// What both databases write: RFC 3339; `YYYY-MM-DD HH:MM:SS[.f]` or with `T`, with or
    /// without `Z` or an offset; `YYYY-MM-DD HH:MM` or with `T`, with or without `Z`; a bare
    /// date.
    Written,
    /// Those, and what else is found in SQLite databases: `YYYY/MM/DD` dates, an offset after
    /// a space or after minutes, a ` UTC` suffix, RFC 2822.
    Found,
}

/// Offsets every form takes, as chrono formats, tried in order.
const ZONED: &[&str] = &["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"];
/// The offsets [`TextForms::Found`] takes besides.
const ZONED_FOUND: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f %#z",
    "%Y-%m-%d %H:%M%#z",
    "%Y-%m-%dT%H:%M%#z",
];
/// The forms without an offset, taken as UTC.
const NAIVE: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Reads `s` (already trimmed) as an instant in one of `forms`; text without an offset is
/// taken as UTC, the convention of SQLite's own date functions.
pub(crate) fn parse_text(s: &str, forms: TextForms) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    let found = forms == TextForms::Found;
    let s: Cow<'_, str> = if found && s.contains('/') && s.as_bytes().get(4) == Some(&b'/') {
        Cow::Owned(s.replacen('/', "-", 2))
    } else {
        Cow::Borrowed(s)
    };
    let s = s.as_ref();
    let extra = if found { ZONED_FOUND } else { &[] };
    for fmt in ZONED.iter().chain(extra) {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.to_utc());
        }
    }
    let naive = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix(" UTC").filter(|_| found))
        .unwrap_or(s);
    for fmt in NAIVE {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if found {
        return DateTime::parse_from_rfc2822(s).ok().map(|t| t.to_utc());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_texts_are_read_in_the_source_zone_as_postgresql_reads_them() {
        let zone = |z: &str| z.parse::<SourceZone>().unwrap();
        let at = |z: &str, text: &str| {
            zone(z)
                .utc_micros(naive_micros(text).unwrap())
                .map(|m| DateTime::from_timestamp_micros(m).unwrap().to_rfc3339())
        };
        assert_eq!(
            at("UTC", "2024-01-15 12:00:00").unwrap(),
            "2024-01-15T12:00:00+00:00"
        );
        assert_eq!(
            at("+02:00", "2024-01-15 12:00").unwrap(),
            "2024-01-15T10:00:00+00:00"
        );
        assert_eq!(
            at("-03:30", "2024-01-15").unwrap(),
            "2024-01-15T03:30:00+00:00"
        );
        // Winter and summer in Paris.
        assert_eq!(
            at("Europe/Paris", "2024-01-15 12:00:00").unwrap(),
            "2024-01-15T11:00:00+00:00"
        );
        assert_eq!(
            at("Europe/Paris", "2024-07-15T12:00:00").unwrap(),
            "2024-07-15T10:00:00+00:00"
        );
        // The repeated hour is the later instant; the skipped hour keeps the winter offset.
        assert_eq!(
            at("Europe/Paris", "2024-10-27 02:30:00").unwrap(),
            "2024-10-27T01:30:00+00:00"
        );
        assert_eq!(
            at("Europe/Paris", "2024-03-31 02:30:00").unwrap(),
            "2024-03-31T01:30:00+00:00"
        );
        assert_eq!(naive_micros("2024-01-15 12:00:00Z"), None);
        assert_eq!(naive_micros("2024-01-15 12:00:00+02:00"), None);
        assert_eq!(naive_micros("soon"), None);
        assert!("Mars/Olympus"
            .parse::<SourceZone>()
            .unwrap_err()
            .contains("`Mars/Olympus`"));
        for text in ["UTC", "+02:00", "-03:30", "Europe/Paris"] {
            assert_eq!(zone(text).to_string(), text);
        }
    }

    fn micros(text: &str) -> Option<i64> {
        scan_iso(text.as_bytes()).map(|p| p.unix_micros())
    }

    #[test]
    fn iso_shapes_accepted_and_refused() {
        for (text, expected) in [
            ("1970-01-01", Some(0)),
            ("1970-01-02", Some(86_400_000_000)),
            ("1970-01-01 00:00:01", Some(1_000_000)),
            ("1970-01-01T00:01", Some(60_000_000)),
            ("1970-01-01 00:00:00.5", Some(500_000)),
            ("1970-01-01 00:00:00.0000015", Some(2)),
            ("1970-01-01 00:00:00.9999995", Some(1_000_000)),
            ("1970-01-01 00:00:00Z", Some(0)),
            ("1970-01-01 01:00:00+01", Some(0)),
            ("1970-01-01 01:30:00+0130", Some(0)),
            ("1970-01-01 00:00:00-01:30", Some(5_400_000_000)),
            ("1970-01-01 01:00+01:00", Some(0)),
            ("0000-01-01", Some(-62_167_219_200_000_000)),
            ("2024-02-29", Some(1_709_164_800_000_000)),
        ] {
            assert_eq!(micros(text), expected, "{text}");
        }
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-01",
            "2024-04-31",
            "2024-1-2",
            "2024/01/02",
            " 2024-01-02",
            "2024-01-02 ",
            "2024-01-02t03:04",
            "2024-01-02 24:00",
            "2024-01-02 03:60",
            "2024-01-02 03:04:60",
            "2024-01-02 3:04",
            "2024-01-02 03:04:05.",
            "2024-01-02 03:04:05z",
            "2024-01-02 03:04:05 +05:00",
            "2024-01-02 03:04:05+5",
            "2024-01-02 03:04:05+16",
            "2024-01-02 03:04:05+05:60",
            "2024-01-02 03:04:05+05:30:00",
            "2024-01-02 03:04:05Z ",
            "now",
        ] {
            assert_eq!(scan_iso(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn parts_say_what_was_written() {
        let parts = scan_iso(b"2024-01-02T03:04:05.123+01").unwrap();
        assert_eq!((parts.year, parts.month, parts.day), (2024, 1, 2));
        let time = parts.time.unwrap();
        assert_eq!((time.second, time.fraction_digits), (Some(5), 3));
        assert_eq!(parts.zone, IsoZone::Offset { seconds: 3600 });
        assert_eq!(scan_iso(b"2024-01-02").unwrap().time, None);
    }

    #[test]
    fn found_forms_are_a_superset_of_written_ones() {
        for text in [
            "2024-01-02T03:04:05.123456789+02:00",
            "2024-01-02 03:04:05.5",
            "2024-01-02 03:04Z",
            "2024-01-02",
            "2024-01-02 14:30:45+02",
        ] {
            assert!(parse_text(text, TextForms::Written).is_some(), "{text}");
            assert_eq!(
                parse_text(text, TextForms::Written),
                parse_text(text, TextForms::Found),
                "{text}"
            );
        }
        for text in [
            "2024/01/02 03:04",
            "2024-01-02 03:04+05:00",
            "2024-01-02 03:04:05 UTC",
            "Tue, 1 Jul 2003 10:52:37 +0200",
        ] {
            assert_eq!(parse_text(text, TextForms::Written), None, "{text}");
            assert!(parse_text(text, TextForms::Found).is_some(), "{text}");
        }
        assert_eq!(parse_text("yesterday", TextForms::Found), None);
    }
}

#[cfg(test)]
mod mutants_tests;
