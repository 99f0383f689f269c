//! The cast table: every rule that can choose a column's PostgreSQL type, as an enum whose
//! order is the order the rules are tried. `docs/postgres_migration.md` prints the same table,
//! row for row (a test below compares them), and a [`Decision`](super::Decision) names the rule
//! that chose its type by the rule's id (`json.checked`, [`CastRule::as_str`]), which is how plans spell it.

use serde::{Deserialize, Serialize};

/// Declares [`CastRule`] from one list, so the variant, its id in plans, and its row in the
/// guide cannot drift apart.
macro_rules! cast_rules {
    ($($variant:ident = $id:literal, when: $when:literal, target: $target:literal;)*) => {
        /// One row of the cast table; variants are in the order the rules are tried.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum CastRule {
            $(
                #[doc = $when]
                #[serde(rename = $id)]
                $variant,
            )*
        }

        impl CastRule {
            /// Every rule, in the order they are tried (the order of the guide's table).
            pub const ALL: &'static [CastRule] = &[$(CastRule::$variant),*];

            /// The rule's id, as plans and reports show it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(CastRule::$variant => $id,)*
                }
            }

            /// When the rule applies.
            pub fn when(self) -> &'static str {
                match self {
                    $(CastRule::$variant => $when,)*
                }
            }

            /// The PostgreSQL type it chooses.
            pub fn target(self) -> &'static str {
                match self {
                    $(CastRule::$variant => $target,)*
                }
            }
        }
    };
}

cast_rules! {
    OverrideColumn = "override.column",
        when: "the plan file sets the column's type (`[options.overrides.columns.\"table.column\"]`)",
        target: "the type given";
    OverrideType = "override.type",
        when: "the plan file maps the declared type (`[options.overrides.types]`)",
        target: "the type given";
    KeyTypedCollision = "key.typed_collision",
        when: "a unique key over the column holds in SQLite, but rows repeat another row's key once typed (one instant in two spellings, `1` and `'true'`)",
        target: "text (flagged, with the count of rows)";
    TextInvalidBytes = "text.invalid_bytes",
        when: "a text value holds a NUL byte or is not valid UTF-8, and no override sets a value policy",
        target: "bytea (flagged)";
    OrmConvention = "orm.convention",
        when: "full mode with an ORM found or named (`--orm`): the declared type is one that ORM gives a single field, and every value fits the type it creates on PostgreSQL (Django `char(32)` UUIDs, `char(39)` IP addresses, `datetime`; SQLAlchemy `CHAR(32)`, `DATETIME`, `JSON`; Rails `datetime`, `json`)",
        target: "the ORM's type (uuid, inet, boolean, timestamptz for Django, timestamp for SQLAlchemy and Rails, json, ...)";
    MixedDominant = "mixed.dominant",
        when: "values of different storage classes would become equal once converted to one type (`42`, `'42'` and `x'3432'`)",
        target: "the type of the class most values are in (numbers: bigint or numeric; text; bytea); values of the other classes are rejected (flagged, with the count)";
    EmptyDeclared = "empty.declared",
        when: "the column holds no value: the declared type alone decides (as in the rules below)",
        target: "from the declared type, else text";
    BooleanDeclared = "boolean.declared",
        when: "declared BOOLEAN/BOOL/BIT/TINYINT(1); every value is 0/1 or a boolean word (t/f, true/false, y/n, yes/no, on/off)",
        target: "boolean";
    BooleanFlagName = "boolean.flag_name",
        when: "named like a flag (is_*, has_*, *_flag, enabled, active, deleted, ...); every value is 0/1 (or a boolean word)",
        target: "boolean";
    TimestampEpochSeconds = "timestamp.epoch_seconds",
        when: "declared or named as a date/time; every value is an integer of Unix seconds between 1900 and 2100, the largest after 1973",
        target: "timestamptz, conversion unix_seconds";
    TimestampEpochMilliseconds = "timestamp.epoch_milliseconds",
        when: "declared or named as a date/time; every value is an integer of Unix milliseconds between 1900 and 2100, the largest after 1973",
        target: "timestamptz, conversion unix_milliseconds";
    TimestampJulianDay = "timestamp.julian_day",
        when: "declared or named as a date/time; every value is a real Julian day number between years 1 and 9999",
        target: "timestamptz, conversion julian_day";
    DateText = "date.text",
        when: "every value is a text date `YYYY-MM-DD`",
        target: "date";
    TimestampText = "timestamp.text",
        when: "every value is an ISO-8601 text timestamp (`T` or space, up to 6 fraction digits, optional `Z`/offset)",
        target: "timestamp when no value has an offset (the same wall-clock times, no zone guessed); timestamptz when any has one (texts without one read as UTC, flagged); timestamptz with `--source-timezone ZONE` (texts without an offset read in ZONE)";
    TimeText = "time.text",
        when: "declared TIME; every value is a text time of day `HH:MM[:SS[.ffffff]]`",
        target: "time";
    JsonDeclared = "json.declared",
        when: "declared JSON/JSONB; every value is JSON (scalars too)",
        target: "jsonb (json when a value holds a lone surrogate escape `\\ud800`, which jsonb refuses, or a key written twice in one object or a negative zero, which jsonb would fold away)";
    JsonChecked = "json.checked",
        when: "a CHECK calls json_valid() on the column; every value is JSON (scalars too)",
        target: "jsonb (json when a value holds a lone surrogate escape `\\ud800`, which jsonb refuses, or a key written twice in one object or a negative zero, which jsonb would fold away)";
    JsonName = "json.name",
        when: "named like a document (json, data, metadata, payload, config, settings, ...); every value is a JSON object or array",
        target: "jsonb (json when a value holds a lone surrogate escape `\\ud800`, which jsonb refuses, or a key written twice in one object or a negative zero, which jsonb would fold away)";
    UuidDeclared = "uuid.declared",
        when: "declared UUID/GUID; every value is a lowercase hyphenated UUID text",
        target: "uuid";
    IntegerSmallint = "integer.smallint",
        when: "declared SMALLINT/INT2/TINYINT; every value is an integer that fits 2 bytes",
        target: "smallint";
    IntegerInt4 = "integer.int4",
        when: "declared INT/INT4/MEDIUMINT; every value is an integer that fits 4 bytes",
        target: "integer";
    IntegerBigint = "integer.bigint",
        when: "integer affinity (declared type contains INT), or no declared type; every value is an integer",
        target: "bigint";
    RealDouble = "real.double",
        when: "declared REAL/FLOAT/DOUBLE; every value is a number (integers within 2^53)",
        target: "double precision";
    NumericPrecision = "numeric.precision",
        when: "declared DECIMAL(p,s)/NUMERIC(p,s); every value is a number that fits p digits with s after the point",
        target: "numeric(p,s)";
    NumericAny = "numeric.any",
        when: "NUMERIC affinity (DECIMAL, NUMERIC, MONEY, unknown names); every value is a number",
        target: "numeric";
    NumbersMixed = "numbers.mixed",
        when: "no declared type; integers and reals mixed",
        target: "double precision (numeric when an integer is beyond 2^53)";
    TextDeclared = "text.declared",
        when: "text affinity (CHAR, CLOB, TEXT, VARCHAR(n): SQLite never enforced n) or no declared type; every value is text",
        target: "text";
    BlobDeclared = "blob.declared",
        when: "every value is a blob",
        target: "bytea";
    WidenBigint = "widen.bigint",
        when: "values the declared type cannot hold (a 2 in a boolean, small integers in a date column), all integers",
        target: "bigint (flagged, with counts and examples)";
    WidenNumeric = "widen.numeric",
        when: "values the declared type cannot hold (reals in an integer column, integers beyond 2^53 in a real one), all numbers",
        target: "numeric (flagged, with counts and examples)";
    WidenText = "widen.text",
        when: "values the declared type cannot hold, some of them text (text in a number column, a word in a date column), no blobs",
        target: "text (flagged, with counts and examples)";
    WidenBytea = "widen.bytea",
        when: "blobs mixed with other storage classes",
        target: "bytea (flagged; numbers and text are stored as their UTF-8 bytes)";
}

impl CastRule {
    /// Whether the rule read the values as JSON documents (the column becomes `jsonb`).
    pub fn is_json(self) -> bool {
        matches!(
            self,
            CastRule::JsonDeclared | CastRule::JsonChecked | CastRule::JsonName
        )
    }
}

impl std::fmt::Display for CastRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for CastRule {
    fn eq(&self, id: &str) -> bool {
        self.as_str() == id
    }
}

impl PartialEq<&str> for CastRule {
    fn eq(&self, id: &&str) -> bool {
        self.as_str() == *id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_prints_the_rules_in_the_order_they_are_tried() {
        let doc = include_str!("../../../../docs/postgres_migration.md");
        let header = "| rule | when | PostgreSQL type |\n|---|---|---|\n";
        let start = doc.find(header).expect("the guide has the cast table") + header.len();
        let printed: Vec<&str> = doc[start..]
            .lines()
            .take_while(|line| line.starts_with('|'))
            .collect();
        let expected: Vec<String> = CastRule::ALL
            .iter()
            .map(|rule| {
                format!(
                    "| `{}` | {} | {} |",
                    rule.as_str(),
                    rule.when(),
                    rule.target()
                )
            })
            .collect();
        assert_eq!(printed, expected);
    }

    #[test]
    fn ids_are_unique_and_serialize_as_plans_spell_them() {
        for (i, rule) in CastRule::ALL.iter().enumerate() {
            assert!(
                !CastRule::ALL[..i]
                    .iter()
                    .any(|r| r.as_str() == rule.as_str()),
                "duplicate rule {rule}"
            );
            let json = serde_json::to_string(rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.as_str()));
            assert_eq!(serde_json::from_str::<CastRule>(&json).unwrap(), *rule);
        }
    }
}
