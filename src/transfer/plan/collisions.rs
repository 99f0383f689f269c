//! Unique keys that hold in SQLite but not once converted: text timestamps written two ways
//! (`2024-01-01T00:00:00Z` and `2024-01-01 00:00:00`), boolean words, and `1`, `'1'` and
//! `x'31'`, which SQLite keeps apart by storage class but text or bytes make one value.
//! PostgreSQL compares the converted values and refuses such a key.
//!
//! The planner names the keys worth counting ([`KeyProbe`]), the probe counts their repeats in
//! SQLite with [`normalize_for_key`], and the planner turns a count into a blocking finding.

use crate::transfer::model::PgType;
use crate::transfer::plan::document::{item, Severity};
use crate::transfer::plan::facts::{KeyColumn, KeyProbe};
use crate::transfer::plan::planner::{Planned, Planner};
use crate::transfer::plan::profile::ColumnProfile;

impl Planner<'_> {
    /// The unique keys of the planned tables whose values may collide once converted.
    pub(crate) fn keys_to_probe(&self) -> Vec<KeyProbe> {
        self.planned
            .iter()
            .enumerate()
            .flat_map(|(index, planned)| self.table_keys_to_probe(index, planned))
            .collect()
    }

    fn table_keys_to_probe(&self, index: usize, planned: &Planned) -> Vec<KeyProbe> {
        let empty = Default::default();
        let profile = self.facts.profiles.get(index).unwrap_or(&empty);
        let mut keys = Vec::new();
        for set in &planned.unique_sets {
            let columns: Vec<KeyColumn> = set
                .iter()
                .filter_map(|target| {
                    let column = planned.columns.iter().find(|c| &c.target == target)?;
                    let map = planned
                        .plan
                        .map
                        .columns
                        .iter()
                        .find(|m| &m.target == target)?;
                    Some(KeyColumn {
                        source: column.source.clone(),
                        pg_type: column.pg_type.clone(),
                        conversion: map.conversion,
                    })
                })
                .collect();
            let converted = |c: &KeyColumn| {
                c.conversion.is_none()
                    && (matches!(
                        c.pg_type,
                        PgType::Timestamptz | PgType::Timestamp | PgType::Boolean
                    ) || spelled_alike(&c.pg_type)
                        && profile.column(&c.source).is_some_and(mixed_classes))
            };
            if columns.len() == set.len() && columns.iter().any(converted) {
                keys.push(KeyProbe {
                    table: planned.plan.map.source.clone(),
                    columns,
                });
            }
        }
        keys
    }

    /// Marks blocking each unique key whose rows collide once converted.
    pub(crate) fn check_unique_collisions(&mut self) {
        for key in self.keys_to_probe() {
            let collisions = self.facts.collisions(&key);
            if collisions == 0 {
                continue;
            }
            let names: Vec<&str> = key.columns.iter().map(|c| c.source.as_str()).collect();
            let alike = |c: &KeyColumn| spelled_alike(&c.pg_type);
            self.review.push(item(
                Severity::Blocking,
                format!("table `{}`", key.table),
                format!(
                    "the unique key ({}) holds in SQLite but {collisions} row(s) repeat another row's key once converted ({}); PostgreSQL will refuse the key: fix those rows{}",
                    names.join(", "),
                    if key.columns.iter().any(alike) {
                        "SQLite keeps 1, '1' and x'31' apart by storage class; as text or bytes they are one value"
                    } else {
                        "the same instant or boolean written differently"
                    },
                    if key.columns.iter().all(alike) {
                        ""
                    } else {
                        ", or override the column's type to text"
                    }
                ),
                None,
            ));
        }
    }
}

/// Whether a column of this type holds numbers as their text, so `1` and `'1'` become one value.
pub(crate) fn spelled_alike(pg_type: &PgType) -> bool {
    matches!(
        pg_type,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext | PgType::Bytea
    )
}

/// Whether a column holds more than one kind of value among numbers, texts and blobs: only then
/// can two values SQLite keeps apart be spelled alike.
fn mixed_classes(profile: &ColumnProfile) -> bool {
    [
        profile.integers + profile.reals,
        profile.texts,
        profile.blobs,
    ]
    .iter()
    .filter(|&&n| n > 0)
    .count()
        > 1
}

/// A key value as PostgreSQL will compare it.
pub(crate) fn normalize_for_key(pg_type: &PgType, value: &crate::value::Value) -> String {
    use crate::value::Value;
    if spelled_alike(pg_type) {
        // The bytes the copier writes: numbers as their text, text and blobs as stored.
        let bytes = match value {
            Value::Int(i) => i.to_string().into_bytes(),
            Value::Float(x) => crate::transfer::text::float_text(*x).into_bytes(),
            Value::Text(text) => text.clone().into_bytes(),
            Value::Bytes(bytes) => bytes.clone(),
            other => format!("{other:?}").into_bytes(),
        };
        return if matches!(pg_type, PgType::Citext) {
            String::from_utf8_lossy(&bytes).to_lowercase()
        } else {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
    }
    match (pg_type, value) {
        (PgType::Timestamptz | PgType::Timestamp, Value::Text(text)) => {
            crate::value::parse_timestamp(text)
                .map_or_else(|| text.clone(), |t| t.timestamp_micros().to_string())
        }
        (PgType::Boolean, Value::Int(n)) => (*n != 0).to_string(),
        (PgType::Boolean, Value::Text(text)) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "1" | "t" | "true" | "y" | "yes" | "on"
        )
        .to_string(),
        (_, other) => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spelled_alike_in_text_or_bytes_collide() {
        use crate::value::Value;
        for pg_type in [PgType::Text, PgType::Bytea, PgType::Varchar(Some(9))] {
            let key = |v: Value| normalize_for_key(&pg_type, &v);
            assert_eq!(key(Value::Int(1)), key(Value::Bytes(b"1".to_vec())));
            assert_eq!(key(Value::Float(2.5)), key(Value::Bytes(b"2.5".to_vec())));
            assert_eq!(
                key(Value::Float(0.30000000000000004)),
                key(Value::Bytes(b"0.30000000000000004".to_vec()))
            );
            assert_ne!(
                key(Value::Float(0.30000000000000004)),
                key(Value::Float(0.3))
            );
            assert_ne!(
                key(Value::Bytes(b"a".to_vec())),
                key(Value::Bytes(b"A".to_vec()))
            );
        }
        let citext = |v: Value| normalize_for_key(&PgType::Citext, &v);
        assert_eq!(
            citext(Value::Bytes(b"a".to_vec())),
            citext(Value::Bytes(b"A".to_vec()))
        );
        let profile = |integers, texts, blobs| ColumnProfile {
            integers,
            texts,
            blobs,
            ..ColumnProfile::default()
        };
        assert!(!mixed_classes(&profile(5, 0, 0)));
        assert!(!mixed_classes(&profile(0, 5, 0)));
        assert!(mixed_classes(&profile(1, 5, 0)));
        assert!(mixed_classes(&profile(0, 5, 1)));
    }
}
