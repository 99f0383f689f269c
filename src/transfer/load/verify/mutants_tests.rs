//! Verification's canonical forms without a database: the binary COPY reader, the decoder that
//! turns the target's fields back into cells, the digests and the labels a difference is
//! reported with. Expected values are written here (the epoch from chrono, the stream by hand);
//! these are the cases `cargo mutants` found untested (see `docs/testing.md`).

use std::borrow::Cow;

use super::*;
use crate::transfer::load::encode::{
    binary_field, binary_row_start, BINARY_HEADER, BINARY_TRAILER,
};
use crate::transfer::model::{ColumnMap, SourceKey, TableMap, ValuePolicy};

/// The payload of a binary field as the encoder writes it (without the length).
fn payload(cell: &Cell<'_>) -> Vec<u8> {
    let mut buf = Vec::new();
    binary_field(&mut buf, cell);
    buf.split_off(4)
}

#[test]
fn every_binary_type_decodes_to_the_cell_the_copier_sent() {
    let uuid = *uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8")
        .unwrap()
        .as_bytes();
    let cases: Vec<(PgType, Cell<'static>)> = vec![
        (PgType::Boolean, Cell::Bool(true)),
        (PgType::Boolean, Cell::Bool(false)),
        (PgType::SmallInt, Cell::I16(-2)),
        (PgType::Integer, Cell::I32(-70_000)),
        (PgType::BigInt, Cell::I64(i64::MIN)),
        (PgType::Real, Cell::F32(0.1)),
        (PgType::Double, Cell::F64(-0.0)),
        (PgType::Bytea, Cell::Bytes(Cow::Owned(vec![0, 255]))),
        (PgType::Timestamptz, Cell::Micros(-1)),
        (PgType::Timestamp, Cell::Micros(1_700_000_000_123_456)),
        (PgType::Date, Cell::Days(-719_162)),
        (PgType::Time, Cell::TimeOfDay(86_399_999_999)),
        (PgType::Uuid, Cell::Uuid(uuid)),
        (PgType::Jsonb, Cell::Jsonb(Cow::Borrowed("{\"a\": 1}"))),
        (PgType::Text, Cell::Text(Cow::Borrowed("é\t"))),
    ];
    for (pg_type, cell) in cases {
        let bytes = payload(&cell);
        let decoded = decode(Some(&bytes), &pg_type).unwrap();
        match (&decoded, &cell) {
            (Cell::F64(a), Cell::F64(b)) => assert_eq!(a.to_bits(), b.to_bits()),
            _ => assert_eq!(decoded, cell, "{}", pg_type.sql()),
        }
    }
    assert_eq!(decode(None, &PgType::Integer).unwrap(), Cell::Null);
    // PostgreSQL's day 0 is 2000-01-01, day 10957 after 1970 by the calendar.
    let epoch_days = (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
        - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
    .num_days() as i32;
    assert_eq!(
        decode(Some(&0i32.to_be_bytes()), &PgType::Date).unwrap(),
        Cell::Days(epoch_days)
    );
    assert_eq!(
        decode(Some(&0i64.to_be_bytes()), &PgType::Timestamptz).unwrap(),
        Cell::Micros(i64::from(epoch_days) * 86_400_000_000)
    );
}

#[test]
fn fields_of_the_wrong_width_are_refused_by_type() {
    let err = decode(Some(&[0, 0, 1]), &PgType::Integer).unwrap_err();
    assert_eq!(
        err.to_string(),
        Error::Invalid("unexpected 3 bytes for integer".into()).to_string()
    );
    for (bytes, pg_type) in [
        (&[0u8; 2][..], PgType::Boolean),
        (&[0u8; 3][..], PgType::SmallInt),
        (&[0u8; 4][..], PgType::BigInt),
        (&[0u8; 8][..], PgType::Real),
        (&[0u8; 4][..], PgType::Double),
        (&[0u8; 4][..], PgType::Timestamp),
        (&[0u8; 8][..], PgType::Date),
        (&[0u8; 4][..], PgType::Time),
        (&[0u8; 15][..], PgType::Uuid),
        (&[][..], PgType::Jsonb),
        (&[0xff][..], PgType::Text),
    ] {
        assert!(decode(Some(bytes), &pg_type).is_err(), "{}", pg_type.sql());
    }
}

#[test]
fn digests_tell_rows_apart_and_keep_each_column() {
    let row = [Cell::I64(1), Cell::Text(Cow::Borrowed("a")), Cell::Null];
    let same = digest(&row, None, false);
    assert_eq!(same.hash, digest(&row, None, false).hash);
    assert!(same.columns.is_empty());
    let other = [Cell::I64(1), Cell::Text(Cow::Borrowed("b")), Cell::Null];
    assert_ne!(same.hash, digest(&other, None, false).hash);
    // Moving a value between columns is a different row.
    let shifted = [Cell::I64(1), Cell::Null, Cell::Text(Cow::Borrowed("a"))];
    assert_ne!(same.hash, digest(&shifted, None, false).hash);
    let kept = digest(&row, Some("k".into()), true);
    assert_eq!(kept.key.as_deref(), Some("k"));
    assert_eq!(kept.hash, same.hash);
    assert_eq!(kept.columns.len(), 3);
    assert_eq!(kept.columns[0], [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(kept.columns[2], [0xff; 4]);
    // jsonb hashes by meaning: key order and spacing do not count.
    let a = [Cell::Jsonb(Cow::Borrowed("{\"b\": 1, \"a\": 2}"))];
    let b = [Cell::Jsonb(Cow::Borrowed("{\"a\":2,\"b\":1.0}"))];
    assert_eq!(digest(&a, None, false).hash, digest(&b, None, false).hash);
    let c = [Cell::Jsonb(Cow::Borrowed("{\"a\":2,\"b\":1.5}"))];
    assert_ne!(digest(&a, None, false).hash, digest(&c, None, false).hash);
}

fn map(columns: &[(&str, PgType)]) -> TableMap {
    TableMap {
        source: "T".into(),
        target_schema: "public".into(),
        target: "t".into(),
        key: SourceKey::Rowid,
        generated: Vec::new(),
        columns: columns
            .iter()
            .map(|(name, pg_type)| ColumnMap {
                source: (*name).into(),
                target: name.to_lowercase(),
                pg_type: pg_type.clone(),
                not_null: false,
                policy: ValuePolicy::Reject,
                conversion: None,
                json_profiled: false,
            })
            .collect(),
    }
}

#[test]
fn keys_are_labelled_as_the_user_wrote_them() {
    let table = map(&[
        ("Id", PgType::BigInt),
        ("Code", PgType::Text),
        ("Day", PgType::Date),
        ("Amount", PgType::Numeric(None)),
        ("Doc", PgType::Jsonb),
        ("Gone", PgType::Integer),
    ]);
    let field = |cell: Cell<'_>| {
        let mut buf = Vec::new();
        canonical(&cell, &mut buf);
        buf
    };
    let day = (chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
    .num_days() as i32;
    let columns = vec![
        field(Cell::I64(1000)),
        field(Cell::Text(Cow::Borrowed("it's"))),
        field(Cell::Days(day)),
        field(Cell::Text(Cow::Borrowed("1.50"))),
        field(Cell::Jsonb(Cow::Borrowed("{\"b\":1,\"a\":2}"))),
        field(Cell::Null),
    ];
    let all = Some((0..6).collect::<Vec<_>>());
    assert_eq!(
        key_label(&table, &all, &columns).unwrap(),
        "Id=1000, Code='it''s', Day=2024-02-29, Amount='1.50', Doc='{\"a\":#2e0,\"b\":#1e0}', Gone=NULL"
    );
    assert_eq!(key_label(&table, &None, &columns), None);
    // A position past the row is shown as unknown, not as another column's value.
    assert_eq!(
        key_label(&table, &Some(vec![0, 5]), &columns[..1]).unwrap(),
        "Id=1000, Gone=?"
    );
    assert_eq!(canonical_text(&[1, 2], &PgType::Text), "0102");
    assert_eq!(
        key_of(&columns, &Some(vec![0, 1])).unwrap(),
        format!("{}/{}", hex(&columns[0]), hex(&columns[1]))
    );
    assert_eq!(key_of(&columns, &None), None);
    assert_eq!(hex(&[0, 0xab]), "00ab");
}

#[test]
fn differences_print_their_key_column_and_reason() {
    let difference = Difference {
        table: "T".into(),
        key: Some("Id=1".into()),
        column: Some("Name".into()),
        what: "differs".into(),
    };
    assert_eq!(difference.to_string(), "key Id=1 column Name: differs");
    let anonymous = Difference {
        key: None,
        column: None,
        ..difference
    };
    assert_eq!(anonymous.to_string(), "key - column -: differs");
}

#[test]
fn decimals_and_json_numbers_compare_by_value() {
    assert_eq!(canonical_decimal("0.001"), "1e-3");
    assert_eq!(canonical_decimal("-5"), "-5e0");
    assert_eq!(canonical_decimal("100"), "1e2");
    assert_eq!(canonical_decimal("000"), "0");
    for not_a_number in ["abc", "1e", "1.2.3", "1e5x", "--1"] {
        assert_eq!(canonical_decimal(not_a_number), not_a_number);
    }
    assert_eq!(
        canonical_jsonb("[1, \"a\\\"2\", -3.0]"),
        "[#1e0,\"a\\\"2\",#-3e0]"
    );
    assert_eq!(canonical_jsonb("not json"), "not json");
    assert!(server_normalised(&PgType::Numeric(None)));
    assert!(!server_normalised(&PgType::BigInt));
}

fn stream(rows: &[&[Option<&[u8]>]], extension: &[u8]) -> Vec<u8> {
    let mut out = BINARY_HEADER[..15].to_vec();
    out.extend_from_slice(&(extension.len() as u32).to_be_bytes());
    out.extend_from_slice(extension);
    for row in rows {
        binary_row_start(&mut out, row.len());
        for field in *row {
            match field {
                Some(bytes) => binary_field(&mut out, &Cell::Bytes(Cow::Borrowed(bytes))),
                None => binary_field(&mut out, &Cell::Null),
            }
        }
    }
    out.extend_from_slice(BINARY_TRAILER);
    out
}

#[test]
fn the_binary_stream_reader_reads_rows_nulls_and_the_trailer() {
    let bytes = stream(&[&[Some(b"ab"), None], &[Some(b"")]], b"ext");
    let mut reader: &[u8] = &bytes;
    let mut rows = BinaryRows::new(&mut reader).unwrap();
    let mut fields = Vec::new();
    assert!(rows.next_row(&mut fields).unwrap());
    assert_eq!(fields, vec![Some(b"ab".to_vec()), None]);
    assert!(rows.next_row(&mut fields).unwrap());
    assert_eq!(fields, vec![Some(Vec::new())]);
    assert!(!rows.next_row(&mut fields).unwrap());
    assert!(
        !rows.next_row(&mut fields).unwrap(),
        "nothing after the trailer"
    );
    assert!(reader.is_empty(), "the stream was read to its end");

    // A stream cut short is an error, not fewer rows.
    let cut = &bytes[..bytes.len() - 5];
    let mut reader: &[u8] = cut;
    let mut rows = BinaryRows::new(&mut reader).unwrap();
    assert!(rows.next_row(&mut fields).unwrap());
    assert!(rows.next_row(&mut fields).is_err());
    // A header cut short, or not a binary COPY header.
    let mut short: &[u8] = &bytes[..10];
    assert!(BinaryRows::new(&mut short).is_err());
    let mut text: &[u8] = b"1\tab\n\\.\nxxxxxxxxxxxxxxxxxxxx";
    assert!(BinaryRows::new(&mut text).is_err());
}

#[test]
fn a_table_is_ok_only_when_counts_checksums_and_differences_all_agree() {
    let check = TableCheck {
        table: "T".into(),
        source_rows: 2,
        target_rows: 2,
        source_checksum: "ab".into(),
        target_checksum: "ab".into(),
        differences: Vec::new(),
        seconds: 0.0,
        rejected_rows: 0,
    };
    assert!(check.ok());
    assert!(!TableCheck {
        target_rows: 3,
        ..check.clone()
    }
    .ok());
    assert!(!TableCheck {
        target_checksum: "ac".into(),
        ..check.clone()
    }
    .ok());
    let difference = Difference {
        table: "T".into(),
        key: None,
        column: None,
        what: "x".into(),
    };
    assert!(!TableCheck {
        differences: vec![difference],
        ..check
    }
    .ok());
}

#[test]
fn rows_are_keyed_by_the_copied_key_columns_or_compared_as_a_multiset() {
    let mut table = map(&[
        ("Id", PgType::BigInt),
        ("A", PgType::Text),
        ("B", PgType::Text),
    ]);
    assert_eq!(target_key_columns(&table, Some("Id")), Some(vec![0]));
    assert_eq!(target_key_columns(&table, None), None);
    table.key = SourceKey::PrimaryKey(vec!["B".into(), "A".into()]);
    assert_eq!(target_key_columns(&table, None), Some(vec![2, 1]));
    table.key = SourceKey::PrimaryKey(vec!["Gone".into()]);
    assert_eq!(target_key_columns(&table, None), None, "a key not copied");
    table.key = SourceKey::PrimaryKey(Vec::new());
    assert_eq!(target_key_columns(&table, None), None, "a view");
}

#[test]
fn only_rejected_rows_of_reject_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let line = |action: &str, id: i64| {
        format!(
            "{{\"table\":\"T\",\"action\":\"{action}\",\"key\":{{\"rowid\":{id}}},\"column\":\"c\",\"reason\":\"r\",\"value\":null,\"row\":{{}}}}\n"
        )
    };
    std::fs::write(
        dir.path().join("T.rejects.jsonl"),
        format!("{}{}\n", line("rejected", 1), line("repaired", 2)),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), line("rejected", 3)).unwrap();
    let keys = rejected_keys(dir.path()).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys["T"],
        std::collections::HashSet::from(["{\"rowid\":1}".to_string()])
    );
    assert!(rejected_keys(&dir.path().join("absent"))
        .unwrap()
        .is_empty());
    std::fs::write(dir.path().join("U.rejects.jsonl"), "not json\n").unwrap();
    assert!(rejected_keys(dir.path()).is_err());
}
