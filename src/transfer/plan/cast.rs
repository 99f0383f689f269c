//! Pure: chooses each column's PostgreSQL type from its declared SQLite type, its name and its
//! [`ColumnProfile`], so that the type holds every value the column holds today.
//!
//! Every rule is one variant of [`CastRule`]; `docs/postgres_migration.md` prints that table
//! (a test checks that the two agree, row for row). Overrides from the plan file come first,
//! then text PostgreSQL cannot store, then the typed rules in the order of the table; the
//! first that holds every value wins. When the declared type cannot hold every value the
//! column keeps a type that can (usually `text`) and the decision says so, with counts and
//! examples. No I/O here.

mod column_names;
mod overrides;
mod rules;
mod typed;
mod widen;

use serde::{Deserialize, Serialize};

use crate::transfer::model::{parse_pg_type, Conversion, PgType, ValuePolicy};
use crate::transfer::plan::profile::{ColumnProfile, Kind};
use crate::transfer::plan::sqlite_types::declared_kind;

pub use column_names::{is_flag_name, is_json_name, is_time_name};
pub use overrides::{ColumnOverride, Overrides};
pub use rules::CastRule;

/// Everything [`decide`] looks at for one column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnFacts<'a> {
    /// The SQLite table name.
    pub table: &'a str,
    /// The SQLite column name.
    pub column: &'a str,
    /// The declared type as written.
    pub declared: &'a str,
    /// What the column holds.
    pub profile: &'a ColumnProfile,
    /// A CHECK calls `json_valid()` on this column.
    pub json_check: bool,
    /// Part of a key (primary, or either side of a foreign key): its type must stay comparable
    /// with the other side, so flags and timestamps are not guessed from the name.
    pub key: bool,
}

/// The type chosen for one column, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The SQLite table.
    pub table: String,
    /// The SQLite column.
    pub column: String,
    /// The declared type (may be empty).
    pub declared: String,
    /// The PostgreSQL type chosen, as written in DDL.
    pub chosen: String,
    /// The conversion the copier applies, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
    /// The rule that chose it (serialized as its id, e.g. `json.checked`).
    pub rule: CastRule,
    /// Why, in a sentence.
    pub reason: String,
    /// The type is wider than the declared one because some values do not fit it.
    #[serde(default)]
    pub widened: bool,
    /// The decision needs a human look (widened, bytes, overrides that may reject rows).
    #[serde(default)]
    pub flagged: bool,
    /// Values by storage class.
    pub counts: Counts,
    /// Values that did not fit the declared type (0 unless widened).
    #[serde(default)]
    pub misfits: u64,
    /// A few values: the misfits when widened, else typical ones.
    #[serde(default)]
    pub examples: Vec<String>,
}

/// A column's values by storage class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// `NULL`s.
    pub nulls: u64,
    /// Integers.
    pub integers: u64,
    /// Reals.
    pub reals: u64,
    /// Texts.
    pub texts: u64,
    /// Blobs.
    pub blobs: u64,
}

/// The typed outcome of [`decide`], for the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The PostgreSQL type.
    pub pg_type: PgType,
    /// The copier's conversion.
    pub conversion: Option<Conversion>,
    /// The copier's policy for values that do not fit.
    pub policy: ValuePolicy,
    /// The report entry.
    pub decision: Decision,
}

/// What one rule chose for a column: the type, the copier's conversion, the rule and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    pg_type: PgType,
    conversion: Option<Conversion>,
    rule: CastRule,
    reason: String,
}

impl Found {
    fn new(pg_type: PgType, rule: CastRule, reason: String) -> Found {
        Found {
            pg_type,
            conversion: None,
            rule,
            reason,
        }
    }

    fn converted(self, conversion: Conversion) -> Found {
        Found {
            conversion: Some(conversion),
            ..self
        }
    }
}

/// Chooses the type of one column. `Err` only for an unusable type in an override.
pub fn decide(facts: &ColumnFacts<'_>, overrides: &Overrides) -> Result<Choice, String> {
    let p = facts.profile;
    let bad_text = p.texts_with_nul + p.texts_not_utf8;
    let column_override = overrides.column(facts.table, facts.column);
    if let Some(o) = column_override {
        if let Some(found) = column_override_choice(facts, o)? {
            let mut choice = Choice::new(facts, found, column_override);
            if o.pg_type.is_some() {
                choice.decision.flagged = choice.policy != ValuePolicy::Reject || bad_text > 0;
            }
            return Ok(choice.finish(bad_text));
        }
    }
    if let Some(text) = overrides.declared_type(facts.declared) {
        let pg_type = parse_pg_type(text)
            .map_err(|e| format!("override of declared type `{}`: {e}", facts.declared))?;
        let reason = format!(
            "the plan file maps declared `{}` to `{text}`",
            facts.declared
        );
        let found = Found::new(pg_type, CastRule::OverrideType, reason);
        return Ok(Choice::new(facts, found, column_override).finish(bad_text));
    }
    if bad_text > 0 && column_override.and_then(|o| o.policy).is_none() {
        return Ok(invalid_bytes(facts, column_override).finish(0));
    }
    // A key column keeps its rows: its collision is found on the key and is blocking, so the
    // user decides rather than rows being rejected (other tables may reference them).
    if p.class_collisions > 0 && !facts.key {
        let kept = widen::dominant_class(facts);
        let mut choice = Choice::new(facts, kept.found, column_override);
        choice.decision.flagged = true;
        choice.decision.misfits = kept.misfits;
        return Ok(choice.finish(bad_text));
    }
    let kind = declared_kind(facts.declared);
    let choice = match typed::typed_choice(facts, kind) {
        Some(found) => Choice::new(facts, found, column_override),
        None => {
            // The declared type cannot hold every value: keep a type that can.
            let widened = widen::widen(facts, kind);
            let mut choice = Choice::new(facts, widened.found, column_override);
            choice.decision.widened = true;
            choice.decision.flagged = true;
            choice.decision.misfits = widened.misfits;
            choice.decision.examples = widened.examples;
            choice
        }
    };
    let mut choice = hold_infinities(choice, p);
    if choice.decision.rule == CastRule::TimestampText
        && p.text_with_offset > 0
        && p.text_with_offset < p.texts
    {
        // Some texts name their offset and some do not: those are read as UTC, a guess.
        choice.decision.flagged = true;
    }
    Ok(choice.finish(bad_text))
}

/// A numeric column holding ±Infinity (SQLite's `9e999`): `numeric(p,s)` refuses infinities,
/// and unconstrained `numeric` holds them only from PostgreSQL 14. `double precision` holds
/// them everywhere and keeps every value exactly when the integers fit 2^53; otherwise the
/// column stays unconstrained `numeric`, flagged.
fn hold_infinities(mut choice: Choice, p: &ColumnProfile) -> Choice {
    let infinite = p.real_max == Some(f64::INFINITY) || p.real_min == Some(f64::NEG_INFINITY);
    if !infinite || !matches!(choice.pg_type, PgType::Numeric(_)) {
        return choice;
    }
    let exact_as_double = p.integers == 0
        || (p.int_min.unwrap_or(0) >= -(1 << 53) && p.int_max.unwrap_or(0) <= 1 << 53);
    if exact_as_double {
        choice.pg_type = PgType::Double;
        choice.decision.reason.push_str(
            "; a value is ±Infinity, which numeric(p,s) refuses and numeric holds only from PostgreSQL 14: double precision holds it, and every value exactly",
        );
    } else {
        choice.pg_type = PgType::Numeric(None);
        choice.decision.flagged = true;
        choice.decision.reason.push_str(
            "; a value is ±Infinity and integers go beyond 2^53: unconstrained numeric holds both, from PostgreSQL 14 (an older server rejects those rows)",
        );
    }
    choice
}

/// The choice of an ORM's own type ([`crate::transfer::orm::full_mode_type`]) for a column
/// that `decided` chose by the data (even when the data chose the same type: the ORM is the
/// stronger reason, and stays so when the general rules change), or `None` when the plan file
/// set the type or the column holds text PostgreSQL cannot store.
pub(crate) fn orm_convention(
    facts: &ColumnFacts<'_>,
    overrides: &Overrides,
    decided: &Choice,
    pg_type: PgType,
    reason: String,
) -> Option<Choice> {
    let set_by_hand = matches!(
        decided.decision.rule,
        CastRule::OverrideColumn | CastRule::OverrideType | CastRule::TextInvalidBytes
    );
    let bad_text = facts.profile.texts_with_nul + facts.profile.texts_not_utf8;
    if set_by_hand || bad_text > 0 {
        return None;
    }
    let found = Found::new(pg_type, CastRule::OrmConvention, reason);
    let column_override = overrides.column(facts.table, facts.column);
    Some(Choice::new(facts, found, column_override).finish(0))
}

/// The type a column override sets, either by name or through the type its conversion makes;
/// `None` when the override sets neither.
fn column_override_choice(
    facts: &ColumnFacts<'_>,
    o: &ColumnOverride,
) -> Result<Option<Found>, String> {
    if let Some(text) = &o.pg_type {
        let pg_type = parse_pg_type(text)
            .map_err(|e| format!("override of `{}.{}`: {e}", facts.table, facts.column))?;
        let reason = format!("the plan file sets `{text}`");
        return Ok(Some(Found::new(pg_type, CastRule::OverrideColumn, reason)));
    }
    // A conversion alone says what type it makes.
    let implied = match o.conversion {
        Some(
            Conversion::UnixSeconds
            | Conversion::UnixMilliseconds
            | Conversion::JulianDay
            | Conversion::NaiveInZone(_),
        ) => Some(PgType::Timestamptz),
        Some(
            Conversion::SecondsToInterval
            | Conversion::MicrosecondsToInterval
            | Conversion::DatetimeSinceEpochToInterval,
        ) => Some(PgType::Interval),
        Some(Conversion::TimeOn2000) => Some(PgType::Time),
        Some(Conversion::Float4Text) => Some(PgType::Real),
        Some(Conversion::NaiveOnly | Conversion::OffsetsToUtc) => Some(PgType::Timestamp),
        // Rounds to the column's own precision and scale: it implies no type.
        Some(Conversion::ActiveModelDecimal) => None,
        // Keeps one storage class; the type stays the one chosen for it.
        Some(Conversion::NumbersOnly | Conversion::TextOnly | Conversion::BlobsOnly) => None,
        None => None,
    };
    Ok(implied.map(|pg_type| {
        let reason = format!(
            "the plan file sets the conversion, which makes {}",
            pg_type.sql()
        );
        Found::new(pg_type, CastRule::OverrideColumn, reason)
    }))
}

/// Keeps as text a column whose typed values would break a unique key that holds in SQLite:
/// `collisions` rows repeat another row's key once typed. Text keeps the values apart as
/// SQLite did, and the plan runs. An override from the plan file wins.
pub fn keep_key_as_text(choice: &mut Choice, key: &str, collisions: u64) {
    if matches!(
        choice.decision.rule,
        CastRule::OverrideColumn | CastRule::OverrideType
    ) {
        return;
    }
    choice.decision.reason = format!(
        "{collisions} row(s) repeat another row's value of the unique key ({key}) once read as {} ({}), while SQLite keeps them apart as texts; kept as text so the key holds",
        choice.decision.chosen, choice.decision.reason
    );
    choice.pg_type = PgType::Text;
    choice.conversion = None;
    choice.decision.rule = CastRule::KeyTypedCollision;
    choice.decision.chosen = PgType::Text.sql();
    choice.decision.conversion = None;
    choice.decision.flagged = true;
}

/// Reads a column of ISO texts in the source's zone (`--source-timezone`): the texts without
/// an offset become instants in `zone`, so the column is `timestamptz`. An override wins.
pub fn read_in_zone(choice: &mut Choice, zone: crate::transfer::model::SourceZone) {
    if choice.decision.rule != CastRule::TimestampText || choice.conversion.is_some() {
        return;
    }
    choice.pg_type = PgType::Timestamptz;
    choice.conversion = Some(Conversion::NaiveInZone(zone));
    choice.decision.chosen = PgType::Timestamptz.sql();
    choice.decision.conversion = choice.conversion;
    choice.decision.flagged = false;
    choice.decision.reason = format!(
        "{}; texts without an offset are read in {zone} (--source-timezone)",
        choice.decision.reason.replace(", read as UTC", "")
    );
}

/// Text values PostgreSQL's `text` cannot store (a NUL byte, invalid UTF-8), with no policy
/// from the plan file to repair them: the column keeps the bytes.
fn invalid_bytes(facts: &ColumnFacts<'_>, column_override: Option<&ColumnOverride>) -> Choice {
    let p = facts.profile;
    let reason = format!(
        "{} text value(s) hold a NUL byte and {} are not valid UTF-8, which PostgreSQL text cannot store; kept as bytes (override the type to text with a policy of replace, escape or null to repair them instead)",
        p.texts_with_nul, p.texts_not_utf8
    );
    let found = Found::new(PgType::Bytea, CastRule::TextInvalidBytes, reason);
    let mut choice = Choice::new(facts, found, column_override);
    choice.decision.flagged = true;
    choice.decision.misfits = p.texts_with_nul + p.texts_not_utf8;
    choice.decision.examples = [
        p.examples_of(Kind::TextWithNul),
        p.examples_of(Kind::TextNotUtf8),
    ]
    .concat();
    choice
}

impl Choice {
    /// The choice of `found`, with the column override's policy and conversion (the override's
    /// conversion wins over the rule's).
    fn new(
        facts: &ColumnFacts<'_>,
        found: Found,
        column_override: Option<&ColumnOverride>,
    ) -> Choice {
        let p = facts.profile;
        let policy = column_override
            .map(|o| o.policy.unwrap_or_default())
            .unwrap_or(ValuePolicy::Reject);
        let conversion = column_override
            .and_then(|o| o.conversion)
            .or(found.conversion);
        Choice {
            pg_type: found.pg_type,
            conversion,
            policy,
            decision: Decision {
                table: facts.table.to_string(),
                column: facts.column.to_string(),
                declared: facts.declared.to_string(),
                chosen: String::new(),
                conversion: None,
                rule: found.rule,
                reason: found.reason,
                widened: false,
                flagged: false,
                counts: Counts {
                    nulls: p.nulls,
                    integers: p.integers,
                    reals: p.reals,
                    texts: p.texts,
                    blobs: p.blobs,
                },
                misfits: 0,
                examples: typical_examples(p),
            },
        }
    }

    /// Completes the decision: says what happens to the `bad_text` values the type cannot
    /// store, and records the chosen type and conversion as written in the plan.
    fn finish(mut self, bad_text: u64) -> Choice {
        if bad_text > 0 && self.pg_type != PgType::Bytea {
            let fate = match self.policy {
                ValuePolicy::Reject => "rejected with their rows".to_string(),
                policy => format!(
                    "repaired by the `{}` policy",
                    serde_json::to_string(&policy)
                        .unwrap_or_default()
                        .trim_matches('"')
                ),
            };
            self.decision.flagged = true;
            self.decision.reason.push_str(&format!(
                "; {bad_text} text value(s) with NUL or invalid UTF-8 will be {fate}"
            ));
        }
        self.decision.chosen = self.pg_type.sql();
        self.decision.conversion = self.conversion;
        self
    }
}

fn typical_examples(p: &ColumnProfile) -> Vec<String> {
    [Kind::Text, Kind::Integer, Kind::Real, Kind::Blob]
        .iter()
        .flat_map(|k| p.examples_of(*k).iter().take(2).cloned())
        .take(3)
        .collect()
}

#[cfg(test)]
mod mutants_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(values: &[i64]) -> ColumnProfile {
        let mut p = ColumnProfile {
            column: "c".into(),
            ..Default::default()
        };
        for &v in values {
            p.integers += 1;
            p.int_min = Some(p.int_min.map_or(v, |m| m.min(v)));
            p.int_max = Some(p.int_max.map_or(v, |m| m.max(v)));
            if v == 0 || v == 1 {
                p.zero_one += 1;
            }
        }
        p
    }

    fn texts(n: u64) -> ColumnProfile {
        ColumnProfile {
            column: "c".into(),
            texts: n,
            ..Default::default()
        }
    }

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

    #[test]
    fn integers_are_bigint_unless_declared_smaller_and_fitting() {
        assert_eq!(
            decide_for("n", "INTEGER", &ints(&[1, 2, 40_000])).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("n", "SMALLINT", &ints(&[1, 2])).pg_type,
            PgType::SmallInt
        );
        assert_eq!(
            decide_for("n", "SMALLINT", &ints(&[1, 40_000])).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("n", "INT", &ints(&[1, 3_000_000_000])).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("n", "INT", &ints(&[-5, 7])).pg_type,
            PgType::Integer
        );
    }

    #[test]
    fn flags_and_declared_booleans_become_boolean() {
        assert_eq!(
            decide_for("is_archived", "INTEGER", &ints(&[0, 1, 0])).pg_type,
            PgType::Boolean
        );
        assert_eq!(
            decide_for("count", "INTEGER", &ints(&[0, 1, 0])).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("flag", "BOOLEAN", &ints(&[1])).decision.rule,
            "boolean.declared"
        );
        let widened = decide_for("flag", "BOOLEAN", &ints(&[0, 1, 2]));
        assert_eq!(widened.pg_type, PgType::BigInt);
        assert_eq!(widened.decision.rule, "widen.bigint");
        assert!(widened.decision.widened && widened.decision.flagged);
        assert_eq!(widened.decision.misfits, 1);
        let mut mixed = ints(&[0, 1]);
        mixed.texts = 2;
        mixed.text_booleans = 2;
        assert_eq!(decide_for("ok", "BOOL", &mixed).pg_type, PgType::Boolean);
    }

    #[test]
    fn epoch_integers_become_timestamps_only_when_named_or_declared() {
        let seconds = ints(&[1_600_000_000, 1_700_000_000]);
        let c = decide_for("created_at", "INTEGER", &seconds);
        assert_eq!(
            (c.pg_type.clone(), c.conversion),
            (PgType::Timestamptz, Some(Conversion::UnixSeconds))
        );
        let millis = ints(&[1_600_000_000_000, 1_700_000_000_000]);
        assert_eq!(
            decide_for("updatedAt", "INTEGER", &millis).conversion,
            Some(Conversion::UnixMilliseconds)
        );
        assert_eq!(
            decide_for("amount", "INTEGER", &seconds).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("ts", "INTEGER", &ints(&[5, 10])).pg_type,
            PgType::BigInt
        );
        assert_eq!(
            decide_for("updated_ms", "INTEGER", &millis).conversion,
            Some(Conversion::UnixMilliseconds)
        );
        assert_eq!(
            decide_for("timeout_ms", "INTEGER", &millis).pg_type,
            PgType::BigInt
        );
        let julian = ColumnProfile {
            reals: 2,
            real_min: Some(2_459_000.5),
            real_max: Some(2_460_000.25),
            ..Default::default()
        };
        assert_eq!(
            decide_for("seen", "DATETIME", &julian).conversion,
            Some(Conversion::JulianDay)
        );
    }

    #[test]
    fn text_timestamps_dates_and_json() {
        // Without offsets: wall-clock times, no zone guessed.
        let mut stamps = texts(3);
        stamps.text_timestamps = 3;
        assert_eq!(decide_for("at", "TEXT", &stamps).pg_type, PgType::Timestamp);
        // With an offset each: instants. Some with and some without: instants, flagged.
        stamps.text_with_offset = 3;
        let instants = decide_for("at", "TEXT", &stamps);
        assert_eq!(instants.pg_type, PgType::Timestamptz);
        assert!(!instants.decision.flagged);
        stamps.text_with_offset = 1;
        let mixed = decide_for("at", "TEXT", &stamps);
        assert_eq!(mixed.pg_type, PgType::Timestamptz);
        assert!(mixed.decision.flagged, "{mixed:?}");
        stamps.text_with_offset = 0;
        stamps.text_dates = 3;
        assert_eq!(decide_for("day", "TEXT", &stamps).pg_type, PgType::Date);
        assert_eq!(
            decide_for("day", "DATETIME", &stamps).pg_type,
            PgType::Timestamp
        );
        let mut partly = texts(3);
        partly.text_timestamps = 2;
        partly
            .examples
            .insert(Kind::TextNotTimestamp, vec!["soon".into()]);
        let widened = decide_for("at", "DATETIME", &partly);
        assert_eq!(widened.pg_type, PgType::Text);
        assert_eq!(widened.decision.examples, vec!["soon".to_string()]);
        assert_eq!(widened.decision.misfits, 1);

        let mut docs = texts(2);
        docs.json_documents = 2;
        assert_eq!(decide_for("metadata", "TEXT", &docs).pg_type, PgType::Jsonb);
        assert_eq!(decide_for("title", "TEXT", &docs).pg_type, PgType::Text);
        let mut scalars = texts(2);
        scalars.json_scalars = 2;
        assert_eq!(decide_for("doc", "JSON", &scalars).pg_type, PgType::Jsonb);
        assert_eq!(
            decide_for("metadata", "TEXT", &scalars).pg_type,
            PgType::Text
        );
        let facts = ColumnFacts {
            table: "t",
            column: "x",
            declared: "TEXT",
            profile: &scalars,
            json_check: true,
            key: false,
        };
        assert_eq!(
            decide(&facts, &Overrides::default()).unwrap().decision.rule,
            "json.checked"
        );
    }

    #[test]
    fn reals_are_double_and_decimals_numeric() {
        let reals = ColumnProfile {
            reals: 2,
            integers: 1,
            int_min: Some(1),
            int_max: Some(1),
            ..Default::default()
        };
        assert_eq!(decide_for("x", "REAL", &reals).pg_type, PgType::Double);
        assert_eq!(decide_for("x", "FLOAT", &reals).pg_type, PgType::Double);
        let mut money = reals.clone();
        money.decimal_digits = Some((2, 5));
        assert_eq!(
            decide_for("x", "DECIMAL(10,2)", &money).pg_type,
            PgType::Numeric(Some((10, 2)))
        );
        money.decimal_digits = Some((17, 1));
        assert_eq!(
            decide_for("x", "DECIMAL(10,2)", &money).pg_type,
            PgType::Numeric(None)
        );
        assert_eq!(decide_for("x", "", &reals).decision.rule, "numbers.mixed");
        let big = ColumnProfile {
            reals: 1,
            integers: 1,
            int_min: Some(i64::MAX),
            int_max: Some(i64::MAX),
            ..Default::default()
        };
        assert_eq!(decide_for("x", "", &big).pg_type, PgType::Numeric(None));
    }

    #[test]
    fn mixed_values_widen_and_bad_text_becomes_bytes() {
        let mut mixed = ints(&[1, 2]);
        mixed.texts = 1;
        mixed.examples.insert(Kind::Text, vec!["n/a".into()]);
        let c = decide_for("qty", "INTEGER", &mixed);
        assert_eq!(
            (
                c.pg_type.clone(),
                c.decision.rule.as_str(),
                c.decision.misfits
            ),
            (PgType::Text, "widen.text", 1)
        );
        assert_eq!(c.decision.examples, vec!["n/a".to_string()]);
        let mut fractions = ints(&[1, 2]);
        fractions.reals = 1;
        let c = decide_for("qty", "INTEGER", &fractions);
        assert_eq!(
            (c.pg_type.clone(), c.decision.rule.as_str()),
            (PgType::Numeric(None), "widen.numeric")
        );
        let mut blobs = mixed.clone();
        blobs.blobs = 1;
        assert_eq!(decide_for("qty", "INTEGER", &blobs).pg_type, PgType::Bytea);
        let mut bad = texts(3);
        bad.texts_not_utf8 = 1;
        let c = decide_for("name", "TEXT", &bad);
        assert_eq!(
            (c.pg_type.clone(), c.decision.rule.as_str()),
            (PgType::Bytea, "text.invalid_bytes")
        );
        let mut overrides = Overrides::default();
        overrides.columns.insert(
            "t.name".into(),
            ColumnOverride {
                policy: Some(ValuePolicy::Replace),
                ..Default::default()
            },
        );
        let facts = ColumnFacts {
            table: "t",
            column: "name",
            declared: "TEXT",
            profile: &bad,
            json_check: false,
            key: false,
        };
        let c = decide(&facts, &overrides).unwrap();
        assert!(
            c.decision.flagged
                && c.decision
                    .reason
                    .contains("repaired by the `replace` policy"),
            "{:?}",
            c.decision
        );
        assert_eq!((c.pg_type, c.policy), (PgType::Text, ValuePolicy::Replace));
        overrides.columns.insert(
            "t.stamp".into(),
            ColumnOverride {
                conversion: Some(Conversion::UnixMilliseconds),
                ..Default::default()
            },
        );
        let millis = ints(&[5, 6]);
        let facts = ColumnFacts {
            table: "t",
            column: "stamp",
            declared: "INTEGER",
            profile: &millis,
            json_check: false,
            key: false,
        };
        let c = decide(&facts, &overrides).unwrap();
        assert_eq!(
            (c.pg_type, c.conversion),
            (PgType::Timestamptz, Some(Conversion::UnixMilliseconds))
        );
    }

    #[test]
    fn overrides_win_and_unknown_types_follow_the_data() {
        let mut overrides = Overrides::default();
        overrides
            .types
            .insert("datetime".into(), "timestamp".into());
        overrides.columns.insert(
            "T.Price".into(),
            ColumnOverride {
                pg_type: Some("numeric(12, 2)".into()),
                ..Default::default()
            },
        );
        let mut stamps = texts(1);
        stamps.text_timestamps = 1;
        let facts = ColumnFacts {
            table: "t",
            column: "at",
            declared: "DATETIME",
            profile: &stamps,
            json_check: false,
            key: false,
        };
        assert_eq!(
            decide(&facts, &overrides).unwrap().pg_type,
            PgType::Timestamp
        );
        let facts = ColumnFacts {
            table: "t",
            column: "price",
            declared: "REAL",
            profile: &stamps,
            json_check: false,
            key: false,
        };
        assert_eq!(
            decide(&facts, &overrides).unwrap().pg_type,
            PgType::Numeric(Some((12, 2)))
        );
        overrides.columns.insert(
            "t.x".into(),
            ColumnOverride {
                pg_type: Some("text; DROP TABLE t".into()),
                ..Default::default()
            },
        );
        let facts = ColumnFacts {
            table: "t",
            column: "x",
            declared: "",
            profile: &stamps,
            json_check: false,
            key: false,
        };
        assert!(decide(&facts, &overrides).is_err());
        assert_eq!(
            decide_for("x", "STRING", &ints(&[1])).pg_type,
            PgType::BigInt
        );
        assert_eq!(decide_for("x", "MONEY", &texts(2)).pg_type, PgType::Text);
        assert_eq!(
            decide_for("x", "", &ColumnProfile::default()).pg_type,
            PgType::Text
        );
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn a_settings_file_can_give_a_column_its_source_zone() {
        #[derive(Deserialize)]
        struct Setting {
            conversion: Conversion,
        }
        let setting: Setting =
            toml::from_str(r#"conversion = { naive_in_zone = "Europe/Paris" }"#).unwrap();
        assert_eq!(
            setting.conversion,
            Conversion::NaiveInZone("Europe/Paris".parse().unwrap())
        );
        let setting: Setting = toml::from_str(r#"conversion = "unix_seconds""#).unwrap();
        assert_eq!(setting.conversion, Conversion::UnixSeconds);
    }
}
