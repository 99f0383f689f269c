//! Decisions whose reasons `cargo mutants` found unchecked (see `docs/testing.md`): the plan's
//! sentence is what a reviewer reads, so its counts and ranges must be the column's own.

use super::*;

fn decide_for(column: &str, declared: &str, profile: &ColumnProfile) -> Choice {
    let facts = ColumnFacts {
        table: "t",
        column,
        declared,
        profile,
        json_check: false,
        key: false,
    };
    decide(&facts, &Overrides::default()).unwrap()
}

fn profile() -> ColumnProfile {
    ColumnProfile {
        column: "c".into(),
        ..Default::default()
    }
}

#[test]
fn timestamp_texts_say_how_many_carry_an_offset() {
    let mut p = profile();
    p.texts = 3;
    p.text_timestamps = 3;
    // Without any offset the texts are wall-clock times, kept as such (no zone guessed); with
    // offsets they are instants, and the naive ones among them are read as UTC, flagged.
    for (offsets, pg_type, says) in [
        (
            0,
            PgType::Timestamp,
            "without a UTC offset, kept as the same wall-clock time",
        ),
        (3, PgType::Timestamptz, "each has its UTC offset"),
        (
            2,
            PgType::Timestamptz,
            "2 have a UTC offset and 1 have none, read as UTC",
        ),
    ] {
        p.text_with_offset = offsets;
        let choice = decide_for("at", "DATETIME", &p);
        assert_eq!(choice.pg_type, pg_type);
        assert!(
            choice.decision.reason.contains(says),
            "{}",
            choice.decision.reason
        );
    }
}

#[test]
fn integer_reasons_give_the_columns_range() {
    let mut p = profile();
    p.integers = 2;
    p.int_min = Some(-5);
    p.int_max = Some(70_000);
    let choice = decide_for("n", "INTEGER", &p);
    assert!(
        choice.decision.reason.contains("-5 to 70000"),
        "{}",
        choice.decision.reason
    );
}

#[test]
fn a_widened_timestamp_counts_the_values_that_are_not_timestamps() {
    let mut p = profile();
    p.texts = 5;
    p.text_timestamps = 3;
    let choice = decide_for("at", "TIMESTAMP", &p);
    assert!(choice.decision.widened, "{:?}", choice.decision);
    assert_eq!(choice.decision.misfits, 2);
    assert!(
        choice.decision.reason.contains("2 value(s) do not fit"),
        "{}",
        choice.decision.reason
    );
}

#[test]
fn a_widened_json_column_counts_the_texts_that_are_not_json() {
    let mut p = profile();
    p.texts = 5;
    p.json_documents = 2;
    p.json_scalars = 1;
    let choice = decide_for("doc", "JSON", &p);
    assert!(choice.decision.widened, "{:?}", choice.decision);
    assert_eq!(choice.decision.misfits, 2, "{:?}", choice.decision);
}

#[test]
fn timestamp_texts_in_an_integer_column_keep_text() {
    let mut p = profile();
    p.texts = 2;
    p.text_timestamps = 2;
    let choice = decide_for("c", "INTEGER", &p);
    assert_eq!(choice.pg_type, PgType::Text, "{:?}", choice.decision);
}

#[test]
fn milliseconds_from_before_1970_are_still_milliseconds() {
    let mut p = profile();
    p.integers = 2;
    p.int_min = Some(-2_000_000_000_000); // 1906-08-16 in milliseconds
    p.int_max = Some(1_700_000_000_000);
    let choice = decide_for("created_at", "INTEGER", &p);
    assert_eq!(
        (choice.pg_type, choice.conversion),
        (PgType::Timestamptz, Some(Conversion::UnixMilliseconds)),
        "{:?}",
        choice.decision
    );
}
