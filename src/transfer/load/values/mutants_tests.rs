//! The converter at its boundaries: each range, window, policy and reason checked on both sides
//! of its edge, with the expected values written here (calendar arithmetic, not the converter's
//! own constants). These are the cases `cargo mutants` found untested (see `docs/testing.md`).

use super::*;
use crate::transfer::model::Conversion;

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

fn cell(value: Src<'_>, pg_type: PgType) -> Result<Cell<'_>, String> {
    match convert(value, &col(pg_type)) {
        Outcome::Exact(cell) => Ok(cell),
        Outcome::Reject(reason) => Err(reason),
        other => panic!("{value:?}: {other:?}"),
    }
}

fn with<'a>(value: Src<'a>, pg_type: PgType, conversion: Conversion) -> Result<Cell<'a>, String> {
    let column = ColumnMap {
        conversion: Some(conversion),
        ..col(pg_type)
    };
    match convert(value, &column) {
        Outcome::Exact(cell) => Ok(cell),
        Outcome::Reject(reason) => Err(reason),
        other => panic!("{value:?}: {other:?}"),
    }
}

fn t(text: &str) -> Src<'_> {
    Src::Text(text.as_bytes())
}

const DAY: i64 = 86_400_000_000;

/// Microseconds since 1970 of a UTC date and time, by the calendar.
fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, s)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

#[test]
fn storage_classes_are_sqlites_typeof_names_and_values_round_trip() {
    let owned = [
        SrcValue::Null,
        SrcValue::Int(-3),
        SrcValue::Float(2.5),
        SrcValue::Text(b"x\0".to_vec()),
        SrcValue::Blob(vec![1, 2]),
    ];
    let names = ["null", "integer", "real", "text", "blob"];
    for (value, name) in owned.iter().zip(names) {
        assert_eq!(value.storage_class(), name);
        let borrowed = Src::from(value);
        assert_eq!(borrowed.storage_class(), name);
        assert_eq!(&borrowed.to_owned_value(), value);
    }
}

#[test]
fn intervals_split_into_whole_days_and_a_positive_rest() {
    assert_eq!(
        interval_cell(-1),
        Ok(Cell::Interval {
            days: -1,
            micros: DAY - 1
        })
    );
    assert_eq!(
        interval_cell(DAY + 5),
        Ok(Cell::Interval { days: 1, micros: 5 })
    );
}

#[test]
fn policies_repair_only_nullable_or_text_like_columns_and_say_why() {
    let nul = b"a\0b".as_slice();
    let mut column = col(PgType::Text);
    column.not_null = true;
    assert_eq!(
        convert(Src::Null, &column),
        Outcome::Reject("NULL in a NOT NULL column".into())
    );
    column.policy = ValuePolicy::Null;
    match convert(Src::Text(nul), &column) {
        Outcome::Reject(reason) => {
            assert!(reason.contains("policy `null` cannot apply"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    column.not_null = false;
    assert_eq!(
        convert(Src::Text(nul), &column),
        Outcome::Repaired(Cell::Null, Problem::Nul.to_string())
    );
    column.policy = ValuePolicy::Replace;
    assert_eq!(
        convert(Src::Text(nul), &column),
        Outcome::Repaired(Cell::Text("ab".into()), Problem::Nul.to_string())
    );
    column.policy = ValuePolicy::Escape;
    assert_eq!(
        convert(Src::Text(b"\xff\\"), &column),
        Outcome::Repaired(
            Cell::Text("\\xff\\\\".into()),
            Problem::InvalidUtf8.to_string()
        )
    );
    // A blob that is not UTF-8 is not text with bad bytes: it is refused, not escaped.
    assert_eq!(
        convert(Src::Blob(b"\xff"), &column),
        Outcome::Reject("a blob that is not UTF-8 text cannot go into a text column".into())
    );
    // A repair that would not fit the column still rejects the row.
    column.pg_type = PgType::Varchar(Some(2));
    assert!(matches!(
        convert(Src::Text(b"ab\0c"), &column),
        Outcome::Reject(_)
    ));
    // Not text-like, or not an encoding problem: nothing to repair.
    column.pg_type = PgType::BigInt;
    assert!(matches!(
        convert(Src::Text(nul), &column),
        Outcome::Reject(_)
    ));
    column.pg_type = PgType::Text;
    column.policy = ValuePolicy::Replace;
    column.conversion = Some(Conversion::UnixSeconds);
    assert!(matches!(convert(t("soon"), &column), Outcome::Reject(_)));
    // Replace repairs text columns only: a numeric column keeps the row out, although the
    // repaired text would read as a number.
    column.conversion = None;
    column.pg_type = PgType::Numeric(None);
    assert!(matches!(convert(t("1\0"), &column), Outcome::Reject(_)));
    assert!(Problem::Nul.is_encoding() && Problem::InvalidUtf8.is_encoding());
    assert!(!other("x").is_encoding());
    assert_eq!(Problem::InvalidUtf8.to_string(), "text is not valid UTF-8");
}

#[test]
fn repairs_replace_or_escape_exactly_the_bad_bytes() {
    assert_eq!(replace_invalid(b"a\0\xffb"), "a\u{fffd}b");
    assert_eq!(escape_invalid(b"\0a\\\xfe\xffz"), "\\x00a\\\\\\xfe\\xffz");
    assert_eq!(pg_trim("\u{a0}1 \r\n"), "\u{a0}1");
}

#[test]
fn integers_fit_their_width_or_are_refused_by_name() {
    assert_eq!(
        cell(Src::Int(32767), PgType::SmallInt),
        Ok(Cell::I16(32767))
    );
    let reason = cell(Src::Int(32768), PgType::SmallInt).unwrap_err();
    assert_eq!(reason, "32768 is out of range for smallint");
    assert_eq!(
        cell(Src::Int(-2_147_483_648), PgType::Integer),
        Ok(Cell::I32(i32::MIN))
    );
    assert_eq!(
        cell(Src::Int(2_147_483_648), PgType::Integer).unwrap_err(),
        "2147483648 is out of range for integer"
    );
    assert_eq!(cell(Src::Float(3.0), PgType::BigInt), Ok(Cell::I64(3)));
    assert_eq!(
        cell(Src::Float(-9.223_372_036_854_775e18), PgType::BigInt),
        Ok(Cell::I64(-9_223_372_036_854_774_784))
    );
    // 2^63 and the range's own upper end are beyond bigint's last exact float.
    assert!(cell(Src::Float(2f64.powi(63)), PgType::BigInt).is_err());
    assert!(cell(Src::Float(9.223_372_036_854_775e18), PgType::BigInt).is_err());
    assert!(cell(Src::Float(3.5), PgType::BigInt).is_err());
    assert_eq!(
        cell(t("x1"), PgType::BigInt).unwrap_err(),
        "`x1` is not an integer"
    );
    assert_eq!(
        cell(Src::Blob(b"1"), PgType::BigInt).unwrap_err(),
        "blob of 1 bytes is not an integer"
    );
}

#[test]
fn doubles_and_reals_keep_their_bits_or_are_refused() {
    let limit = 1i64 << 53;
    assert_eq!(
        cell(Src::Int(limit), PgType::Double),
        Ok(Cell::F64(limit as f64))
    );
    assert_eq!(
        cell(Src::Int(-limit), PgType::Double),
        Ok(Cell::F64(-limit as f64))
    );
    assert_eq!(
        cell(Src::Int(limit + 1), PgType::Double).unwrap_err(),
        "9007199254740993 is not exactly representable as double precision"
    );
    assert_eq!(cell(t(" 2.5 "), PgType::Double), Ok(Cell::F64(2.5)));
    assert_eq!(cell(Src::Float(0.5), PgType::Real), Ok(Cell::F32(0.5)));
    assert!(matches!(
        cell(Src::Float(f64::NAN), PgType::Real),
        Ok(Cell::F32(x)) if x.is_nan()
    ));
    assert_eq!(
        cell(Src::Float(0.1), PgType::Real).unwrap_err(),
        "0.1 does not fit real (4-byte float) exactly"
    );
    assert_eq!(
        cell(Src::Blob(b""), PgType::Double).unwrap_err(),
        "a blob is not a number"
    );
}

#[test]
fn booleans_take_postgresqls_words_and_nothing_else() {
    for yes in ["1", "t", "TRUE", " y ", "Yes", "on"] {
        assert_eq!(cell(t(yes), PgType::Boolean), Ok(Cell::Bool(true)), "{yes}");
    }
    for no in ["0", "f", "False", "n", "NO", "off"] {
        assert_eq!(cell(t(no), PgType::Boolean), Ok(Cell::Bool(false)), "{no}");
    }
    assert_eq!(cell(Src::Float(1.0), PgType::Boolean), Ok(Cell::Bool(true)));
    assert_eq!(
        cell(Src::Float(0.0), PgType::Boolean),
        Ok(Cell::Bool(false))
    );
    assert_eq!(
        cell(Src::Int(2), PgType::Boolean).unwrap_err(),
        "integer 2 is not a boolean"
    );
    assert!(cell(t("maybe"), PgType::Boolean).is_err());
}

#[test]
fn limited_text_counts_characters_not_bytes() {
    assert_eq!(
        cell(t("ééé"), PgType::Varchar(Some(3))),
        Ok(Cell::Text("ééé".into()))
    );
    assert_eq!(
        cell(t("éééé"), PgType::Char(Some(3))).unwrap_err(),
        format!("4 characters do not fit {}", PgType::Char(Some(3)).sql())
    );
    assert_eq!(
        cell(Src::Int(12345), PgType::Varchar(None)),
        Ok(Cell::Text("12345".into()))
    );
    assert_eq!(
        cell(Src::Blob(b"\xff"), PgType::Text).unwrap_err(),
        "a blob that is not UTF-8 text cannot go into a text column"
    );
    assert_eq!(
        cell(Src::Blob(b"ok"), PgType::Text),
        Ok(Cell::Text("ok".into()))
    );
    assert_eq!(
        cell(Src::Float(0.5), PgType::Text),
        Ok(Cell::Text("0.5".into()))
    );
}

#[test]
fn bytea_takes_numbers_as_their_text() {
    assert_eq!(
        cell(Src::Int(-7), PgType::Bytea),
        Ok(Cell::Bytes(b"-7".as_slice().into()))
    );
    assert_eq!(
        cell(Src::Float(1.5), PgType::Bytea),
        Ok(Cell::Bytes(b"1.5".as_slice().into()))
    );
}

#[test]
fn times_of_day_json_uuid_enum_and_inet() {
    assert_eq!(
        cell(t("13:07"), PgType::Time),
        Ok(Cell::TimeOfDay((13 * 60 + 7) * 60_000_000))
    );
    assert_eq!(
        cell(t(" 01:02:03.25 "), PgType::Time),
        Ok(Cell::TimeOfDay(3_723_250_000))
    );
    assert_eq!(
        cell(Src::Int(5), PgType::Time).unwrap_err(),
        "a integer is not a time of day"
    );
    assert_eq!(
        cell(t("25:00"), PgType::Time).unwrap_err(),
        "not a time of day"
    );

    assert_eq!(cell(Src::Int(7), PgType::Json), Ok(Cell::Text("7".into())));
    assert_eq!(
        cell(Src::Float(0.5), PgType::Jsonb),
        Ok(Cell::Jsonb("0.5".into()))
    );
    assert_eq!(
        cell(Src::Float(f64::INFINITY), PgType::Json).unwrap_err(),
        "NaN and infinities are not JSON"
    );
    assert_eq!(
        cell(Src::Blob(b"{}"), PgType::Json).unwrap_err(),
        "a blob is not JSON"
    );
    // Only jsonb refuses \u0000; json keeps the text.
    assert_eq!(
        cell(t("\"\\u0000\""), PgType::Json),
        Ok(Cell::Text("\"\\u0000\"".into()))
    );
    assert!(cell(t("\"\\u0000\""), PgType::Jsonb).is_err());
    assert!(cell(t("{"), PgType::Json)
        .unwrap_err()
        .starts_with("not valid JSON"));
    // A column the profile found all-JSON leaves text to the server's parser.
    let profiled = ColumnMap {
        json_profiled: true,
        ..col(PgType::Jsonb)
    };
    assert_eq!(
        convert(t("{"), &profiled),
        Outcome::Exact(Cell::Jsonb("{".into()))
    );

    let id = uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    assert_eq!(
        cell(t(" 67E55044-10B1-426F-9247-BB680E5FE0C8 "), PgType::Uuid),
        Ok(Cell::Uuid(*id.as_bytes()))
    );
    assert_eq!(
        cell(Src::Blob(id.as_bytes()), PgType::Uuid),
        Ok(Cell::Uuid(*id.as_bytes()))
    );
    assert_eq!(
        cell(Src::Blob(&id.as_bytes()[..15]), PgType::Uuid).unwrap_err(),
        "a blob is not a UUID"
    );

    let mood = PgType::Enum {
        name: "mood".into(),
        labels: vec!["sad".into(), "ok".into()],
    };
    assert_eq!(cell(t("ok"), mood.clone()), Ok(Cell::Text("ok".into())));
    assert_eq!(
        cell(t("OK"), mood).unwrap_err(),
        "`OK` is not a label of enum mood (sad, ok)"
    );

    for good in ["10.0.0.1", "10.0.0.0/32", "::1/128", "fe80::1"] {
        assert_eq!(
            cell(t(good), PgType::Inet),
            Ok(Cell::Text(good.into())),
            "{good}"
        );
    }
    for bad in ["10.0.0.0/33", "::1/129", "10.0.0.0/x", "host"] {
        assert_eq!(
            cell(t(bad), PgType::Inet).unwrap_err(),
            format!("`{bad}` is not an IP address")
        );
    }
    assert_eq!(
        cell(t("1 day"), PgType::Interval),
        Ok(Cell::Text("1 day".into()))
    );
}

#[test]
fn numeric_text_is_refused_where_postgresql_would_round_or_overflow() {
    let n52 = PgType::Numeric(Some((5, 2)));
    for good in ["123.45", "-999.99", "0012.50", "1.2e2", ".5", "5.", "+1"] {
        assert_eq!(
            cell(t(good), n52.clone()),
            Ok(Cell::Text(good.into())),
            "{good}"
        );
    }
    assert_eq!(
        cell(t("123.456"), n52.clone()).unwrap_err(),
        "`123.456` has more than 2 decimal places"
    );
    assert_eq!(
        cell(t("1.25e-1"), n52.clone()).unwrap_err(),
        "`1.25e-1` has more than 2 decimal places"
    );
    assert_eq!(
        cell(t("1234.5"), n52.clone()).unwrap_err(),
        "`1234.5` does not fit numeric(5,2)"
    );
    assert_eq!(
        cell(t("1e3"), n52.clone()).unwrap_err(),
        "`1e3` does not fit numeric(5,2)"
    );
    for bad in ["-", ".", "e5", "1.2.3", "1e", "0x10"] {
        assert!(cell(t(bad), n52.clone()).is_err(), "{bad}");
    }
    assert_eq!(
        cell(Src::Float(f64::NAN), PgType::Numeric(None)),
        Ok(Cell::Text("NaN".into()))
    );
    // Unconstrained numeric holds ±Infinity (PostgreSQL 14 and later); numeric(p,s) does not.
    assert_eq!(
        cell(Src::Float(f64::INFINITY), PgType::Numeric(None)),
        Ok(Cell::Text("Infinity".into()))
    );
    assert!(cell(Src::Float(f64::NEG_INFINITY), n52.clone()).is_err());
    assert!(cell(Src::Blob(b"1"), PgType::Numeric(None)).is_err());
    assert_eq!(
        cell(Src::Int(-12), PgType::Numeric(None)),
        Ok(Cell::Text("-12".into()))
    );
}

#[test]
fn bare_numbers_in_timestamps_are_read_by_their_magnitude() {
    // The windows: Julian days (reals only), then Unix seconds, then milliseconds, 1900-2200.
    assert_eq!(
        guess_epoch(Src::Float(2_415_020.5)),
        Some(Conversion::JulianDay)
    );
    assert_eq!(
        guess_epoch(Src::Int(2_415_021)),
        Some(Conversion::UnixSeconds)
    );
    assert_eq!(
        guess_epoch(Src::Float(2_524_593.5)),
        Some(Conversion::UnixSeconds)
    );
    let s1900 = utc(1900, 1, 1, 0, 0, 0) / 1_000_000;
    let s2200 = utc(2200, 1, 1, 0, 0, 0) / 1_000_000;
    assert_eq!(guess_epoch(Src::Int(s1900)), Some(Conversion::UnixSeconds));
    assert_eq!(
        guess_epoch(Src::Int(s2200)),
        Some(Conversion::UnixMilliseconds),
        "2200 in seconds is early 1970 in milliseconds"
    );
    assert_eq!(
        guess_epoch(Src::Int(s1900 * 1000)),
        Some(Conversion::UnixMilliseconds)
    );
    assert_eq!(guess_epoch(Src::Int(s2200 * 1000)), None);
    assert_eq!(guess_epoch(Src::Int(s1900 * 1000 - 1)), None);
    assert_eq!(guess_epoch(t("1")), None);

    let at = utc(2023, 11, 14, 22, 13, 20);
    assert_eq!(
        cell(Src::Int(at / 1_000_000), PgType::Timestamptz),
        Ok(Cell::Micros(at))
    );
    assert_eq!(
        cell(Src::Int(at / 1_000 + 123), PgType::Timestamp),
        Ok(Cell::Micros(at + 123_000))
    );
    // Julian day 2440587.5 is the Unix epoch.
    assert_eq!(
        cell(Src::Float(2_440_588.0), PgType::Timestamptz),
        Ok(Cell::Micros(DAY / 2))
    );
    assert!(cell(Src::Int(8_000_000_000_000_000), PgType::Timestamptz)
        .unwrap_err()
        .contains("not a plausible Unix time"));
    assert_eq!(
        cell(Src::Blob(b""), PgType::Timestamptz).unwrap_err(),
        "a blob is not a date/time"
    );
    // Dates: midnight only.
    let midnight = utc(2024, 2, 29, 0, 0, 0);
    assert_eq!(
        cell(Src::Int(midnight / 1_000_000), PgType::Date),
        Ok(Cell::Days((midnight / DAY) as i32))
    );
    assert!(cell(Src::Int(midnight / 1_000_000 + 1), PgType::Date)
        .unwrap_err()
        .contains("a date would drop it"));
    assert_eq!(cell(t("1969-12-31"), PgType::Date), Ok(Cell::Days(-1)));
}

#[test]
fn explicit_conversions_scale_and_check_their_range() {
    use Conversion::*;
    assert_eq!(
        with(Src::Int(-1), PgType::Interval, MicrosecondsToInterval),
        Ok(Cell::Interval {
            days: -1,
            micros: DAY - 1
        })
    );
    assert_eq!(
        with(Src::Float(4.0), PgType::Interval, MicrosecondsToInterval),
        Ok(Cell::Interval { days: 0, micros: 4 })
    );
    assert_eq!(
        with(t("4.5"), PgType::Interval, MicrosecondsToInterval).unwrap_err(),
        "microseconds must be a whole number"
    );
    assert!(with(Src::Float(9.5e15), PgType::Interval, MicrosecondsToInterval).is_err());
    assert_eq!(
        with(t(" 1.5 "), PgType::Interval, SecondsToInterval),
        Ok(Cell::Interval {
            days: 0,
            micros: 1_500_000
        })
    );
    assert_eq!(
        with(Src::Int(86_401), PgType::Interval, SecondsToInterval),
        Ok(Cell::Interval {
            days: 1,
            micros: 1_000_000
        })
    );
    // 9e18 microseconds is the longest duration taken.
    assert_eq!(
        with(
            Src::Int(9_000_000_000_000),
            PgType::Interval,
            SecondsToInterval
        ),
        Ok(Cell::Interval {
            days: 104_166_666,
            micros: 57_600_000_000
        })
    );
    assert_eq!(
        with(Src::Float(1e13), PgType::Interval, SecondsToInterval).unwrap_err(),
        "duration out of range for interval"
    );
    assert_eq!(
        with(t("soon"), PgType::Interval, SecondsToInterval).unwrap_err(),
        "not a number"
    );
    assert_eq!(
        with(Src::Blob(b"1"), PgType::Interval, SecondsToInterval).unwrap_err(),
        "a blob is not a number"
    );
    // Instants: seconds, milliseconds and Julian days into timestamps and dates.
    let at = utc(2001, 9, 9, 1, 46, 40);
    assert_eq!(
        with(Src::Int(1_000_000_000), PgType::Timestamptz, UnixSeconds),
        Ok(Cell::Micros(at))
    );
    assert_eq!(
        with(
            Src::Int(1_000_000_000_001),
            PgType::Timestamp,
            UnixMilliseconds
        ),
        Ok(Cell::Micros(at + 1_000))
    );
    assert_eq!(
        with(Src::Float(2_440_587.5), PgType::Timestamptz, JulianDay),
        Ok(Cell::Micros(0))
    );
    assert_eq!(
        with(Src::Float(2_440_588.5), PgType::Date, JulianDay),
        Ok(Cell::Days(1))
    );
    assert_eq!(
        with(Src::Int(86_401), PgType::Date, UnixSeconds).unwrap_err(),
        "instant is not at midnight, a date would drop the time"
    );
    assert_eq!(
        with(Src::Int(-86_400), PgType::Date, UnixSeconds),
        Ok(Cell::Days(-1))
    );
    assert_eq!(
        with(Src::Int(1), PgType::BigInt, UnixSeconds).unwrap_err(),
        "an instant cannot go into bigint"
    );
    assert_eq!(
        with(Src::Float(1e300), PgType::Timestamptz, UnixSeconds).unwrap_err(),
        "instant out of range"
    );
    // 9e18 microseconds (year 287,000, inside PostgreSQL's range) is the last that converts.
    assert_eq!(
        with(
            Src::Int(9_000_000_000_000),
            PgType::Timestamptz,
            UnixSeconds
        ),
        Ok(Cell::Micros(9_000_000_000_000_000_000))
    );
    assert!(with(
        Src::Int(9_000_000_000_001),
        PgType::Timestamptz,
        UnixSeconds
    )
    .is_err());
    // The first instant PostgreSQL holds (4714-11-24 BC) and the one before it.
    let first = -210_866_803_200_000_000i64;
    assert_eq!(check_pg_range(first), Ok(()));
    assert!(check_pg_range(first - 1).is_err());
    assert!(with(
        Src::Int(first / 1_000_000 - 1),
        PgType::Timestamptz,
        UnixSeconds
    )
    .is_err());
}

#[test]
fn datetimes_since_1970_become_the_interval_they_count() {
    use Conversion::DatetimeSinceEpochToInterval as Since;
    assert_eq!(
        with(t("1970-01-02 00:00:01.5"), PgType::Interval, Since),
        Ok(Cell::Interval {
            days: 1,
            micros: 1_500_000
        })
    );
    assert_eq!(
        with(t("1969-12-31 23:59:59"), PgType::Interval, Since),
        Ok(Cell::Interval {
            days: -1,
            micros: DAY - 1_000_000
        })
    );
    assert_eq!(
        with(t("1970-01-02"), PgType::Text, Since).unwrap_err(),
        "a duration cannot go into text"
    );
    assert_eq!(
        with(t("later"), PgType::Interval, Since).unwrap_err(),
        "`later` is not a date/time counted from 1970-01-01"
    );
    assert_eq!(
        with(Src::Int(3), PgType::Interval, Since).unwrap_err(),
        "integer 3 is not a date/time counted from 1970-01-01"
    );
}

#[test]
fn texts_too_short_or_too_long_are_no_date_and_reasons_are_shortened() {
    assert_eq!(parse_datetime("2024"), None);
    // Eight characters is long enough.
    assert_eq!(parse_datetime("2024-1-1"), Some(utc(2024, 1, 1, 0, 0, 0)));
    // Under eight characters is never a date, even where chrono would read one.
    for short in ["1-1-1", "99-1-1", "24-1-1"] {
        assert_eq!(parse_datetime(short), None, "{short}");
    }
    // Over 64 characters neither, even an RFC 2822 date with a comment after it.
    let long = format!("Mon, 1 Jan 2024 00:00:00 +0000 ({})", "x".repeat(40));
    assert_eq!(parse_datetime(&long), None);
    assert_eq!(
        parse_datetime(&format!("2024-01-01 {}", " ".repeat(60))),
        Some(utc(2024, 1, 1, 0, 0, 0))
    );
    assert_eq!(
        parse_datetime(&format!("x{}", "2024-01-01T00:00:00Z".repeat(4))),
        None
    );
    let long = "é".repeat(41);
    assert_eq!(shorten(&long), format!("{}…", "é".repeat(40)));
    assert_eq!(shorten(&long[..80]), "é".repeat(40));
    assert_eq!(describe(Src::Null), "NULL");
    assert_eq!(describe(Src::Float(0.5)), "real 0.5");
    assert_eq!(describe(t("a")), "text `a`");
    assert_eq!(number_text(Src::Int(-1)), Some("-1".into()));
    assert_eq!(number_text(t("1")), None);
}
