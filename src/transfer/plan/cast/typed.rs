//! The typed rules: the type a column keeps when every value it holds fits the declared type
//! (or, with no telling declared type, what the values and the column's name say). Each family
//! of rules (booleans, dates and times, JSON, UUID, numbers and text) is one step, tried in the
//! order of [`CastRule`].

use super::column_names::{is_flag_name, is_json_name, is_time_name};
use super::{CastRule, ColumnFacts, Found};
use crate::transfer::model::{Conversion, PgType};
use crate::transfer::plan::profile::ColumnProfile;
use crate::transfer::plan::sqlite_types::Declared;

const TWO_POW_53: i64 = 1 << 53;
const EPOCH_1900: i64 = -2_208_988_800;
const EPOCH_1973: i64 = 100_000_000;
const EPOCH_2100: i64 = 4_102_444_800;
/// Julian days of 0001-01-01 and 9999-12-31.
const JULIAN_YEAR_1: f64 = 1_721_425.5;
const JULIAN_YEAR_9999: f64 = 5_373_484.5;

/// The typed choice when every value fits, `None` when the column must be widened.
pub(super) fn typed_choice(facts: &ColumnFacts<'_>, kind: Declared) -> Option<Found> {
    let column = Column {
        facts,
        kind,
        p: facts.profile,
        non_null: facts.profile.non_null(),
    };
    if column.non_null == 0 {
        return Some(column.empty());
    }
    let steps: [&dyn Fn() -> Step; 4] = [
        &|| column.booleans(),
        &|| column.dates_and_times(),
        &|| column.json(),
        &|| column.uuid(),
    ];
    for step in steps {
        if let Step::Decided(found) = step() {
            return found;
        }
    }
    column.numbers_and_text()
}

/// The outcome of one family of rules.
enum Step {
    /// The family decides: this type, or `None` when the column must be widened.
    Decided(Option<Found>),
    /// Not this family; the next one is tried.
    Next,
}

/// One column as the typed rules see it.
struct Column<'f> {
    facts: &'f ColumnFacts<'f>,
    kind: Declared,
    p: &'f ColumnProfile,
    non_null: u64,
}

impl Column<'_> {
    fn declared(&self) -> &str {
        self.facts.declared
    }

    fn only_integers(&self) -> bool {
        self.p.integers == self.non_null
    }

    fn only_texts(&self) -> bool {
        self.p.texts == self.non_null
    }

    /// Declared types under which text values may be read as dates, times or JSON.
    fn text_kinds(&self) -> bool {
        matches!(
            self.kind,
            Declared::Text
                | Declared::None
                | Declared::Unknown
                | Declared::Date
                | Declared::Timestamp
                | Declared::Blob
        )
    }

    /// A column without values: the declared type alone decides.
    fn empty(&self) -> Found {
        let (pg_type, what) = match self.kind {
            Declared::Boolean => (PgType::Boolean, "boolean"),
            Declared::SmallInt => (PgType::SmallInt, "smallint"),
            Declared::Int4 => (PgType::Integer, "integer"),
            Declared::BigInt => (PgType::BigInt, "bigint"),
            Declared::Double => (PgType::Double, "double precision"),
            Declared::Decimal(ps) => (PgType::Numeric(ps), "numeric"),
            Declared::Date => (PgType::Date, "date"),
            Declared::Timestamp => (PgType::Timestamptz, "timestamptz"),
            Declared::Json => (PgType::Jsonb, "jsonb"),
            Declared::Uuid => (PgType::Uuid, "uuid"),
            Declared::Blob => (PgType::Bytea, "bytea"),
            Declared::Time => (PgType::Time, "time"),
            Declared::Text | Declared::None | Declared::Unknown => (PgType::Text, "text"),
        };
        let reason = format!("no values; declared `{}` reads as {what}", self.declared());
        Found::new(pg_type, CastRule::EmptyDeclared, reason)
    }

    fn booleans(&self) -> Step {
        let p = self.p;
        let boolean_values = p.zero_one + p.text_booleans == self.non_null
            && p.integers == p.zero_one
            && p.reals == 0
            && p.blobs == 0;
        if self.kind == Declared::Boolean {
            return Step::Decided(boolean_values.then(|| {
                let reason = format!(
                    "declared `{}`; every value is {}",
                    self.declared(),
                    bool_values(p)
                );
                Found::new(PgType::Boolean, CastRule::BooleanDeclared, reason)
            }));
        }
        let flag_hint = !self.facts.key && is_flag_name(self.facts.column);
        let integer_or_text = matches!(
            self.kind,
            Declared::BigInt
                | Declared::SmallInt
                | Declared::Int4
                | Declared::None
                | Declared::Unknown
                | Declared::Text
        );
        if flag_hint && boolean_values && integer_or_text {
            let reason = format!("named like a flag and every value is {}", bool_values(p));
            return Step::Decided(Some(Found::new(
                PgType::Boolean,
                CastRule::BooleanFlagName,
                reason,
            )));
        }
        Step::Next
    }

    fn dates_and_times(&self) -> Step {
        let time_hint = !self.facts.key
            && (matches!(
                self.kind,
                Declared::Date | Declared::Timestamp | Declared::Time
            ) || is_time_name(self.facts.column));
        let found = time_hint
            .then(|| self.epoch_numbers())
            .flatten()
            .or_else(|| self.time_texts());
        match found {
            Some(found) => Step::Decided(Some(found)),
            None if matches!(self.kind, Declared::Date | Declared::Timestamp) => {
                Step::Decided(None)
            }
            None => Step::Next,
        }
    }

    /// Unix seconds or milliseconds, or Julian days, in a column declared or named as a time.
    fn epoch_numbers(&self) -> Option<Found> {
        let p = self.p;
        if self.only_integers() {
            let (lo, hi) = (p.int_min.unwrap_or(0), p.int_max.unwrap_or(0));
            if lo >= EPOCH_1900 && (EPOCH_1973..=EPOCH_2100).contains(&hi) {
                let reason = format!(
                    "{} and every value is an integer of Unix seconds ({lo} to {hi})",
                    self.time_words()
                );
                let found =
                    Found::new(PgType::Timestamptz, CastRule::TimestampEpochSeconds, reason);
                return Some(found.converted(Conversion::UnixSeconds));
            }
            if lo >= EPOCH_1900 * 1000 && (EPOCH_1973 * 1000..=EPOCH_2100 * 1000).contains(&hi) {
                let reason = format!(
                    "{} and every value is an integer of Unix milliseconds ({lo} to {hi})",
                    self.time_words()
                );
                let found = Found::new(
                    PgType::Timestamptz,
                    CastRule::TimestampEpochMilliseconds,
                    reason,
                );
                return Some(found.converted(Conversion::UnixMilliseconds));
            }
        }
        if p.reals == self.non_null {
            let (lo, hi) = (p.real_min.unwrap_or(0.0), p.real_max.unwrap_or(0.0));
            if lo >= JULIAN_YEAR_1 && hi <= JULIAN_YEAR_9999 {
                let reason = format!(
                    "{} and every value is a Julian day number ({lo} to {hi})",
                    self.time_words()
                );
                let found = Found::new(PgType::Timestamptz, CastRule::TimestampJulianDay, reason);
                return Some(found.converted(Conversion::JulianDay));
            }
        }
        None
    }

    /// ISO-8601 dates, timestamps and times of day written as text.
    fn time_texts(&self) -> Option<Found> {
        let (p, non_null, declared) = (self.p, self.non_null, self.declared());
        if self.only_texts() && p.text_timestamps == non_null && self.text_kinds() {
            if p.text_dates == non_null && self.kind != Declared::Timestamp {
                let reason =
                    format!("every value is a text date YYYY-MM-DD (declared `{declared}`)");
                return Some(Found::new(PgType::Date, CastRule::DateText, reason));
            }
            // Text without an offset is a wall-clock time in a zone SQLite never recorded: it
            // stays that wall-clock time, and no zone is guessed. Only text that says its
            // offset is an instant.
            if p.text_with_offset == 0 {
                let reason = format!(
                    "every value is an ISO-8601 timestamp text without a UTC offset, kept as the same wall-clock time (declared `{declared}`)"
                );
                return Some(Found::new(
                    PgType::Timestamp,
                    CastRule::TimestampText,
                    reason,
                ));
            }
            let offsets = if p.text_with_offset == non_null {
                "each has its UTC offset".to_string()
            } else {
                format!(
                    "{} have a UTC offset and {} have none, read as UTC",
                    p.text_with_offset,
                    non_null - p.text_with_offset
                )
            };
            let reason = format!(
                "every value is an ISO-8601 timestamp text; {offsets} (declared `{declared}`)"
            );
            return Some(Found::new(
                PgType::Timestamptz,
                CastRule::TimestampText,
                reason,
            ));
        }
        if self.kind == Declared::Time && self.only_texts() && p.text_times == non_null {
            let reason = format!(
                "declared `{declared}`; every value is a time of day text HH:MM[:SS[.ffffff]]"
            );
            return Some(Found::new(PgType::Time, CastRule::TimeText, reason));
        }
        None
    }

    fn time_words(&self) -> String {
        if matches!(
            self.kind,
            Declared::Date | Declared::Timestamp | Declared::Time
        ) {
            format!("declared `{}`", self.declared())
        } else {
            "named like a date/time".to_string()
        }
    }

    fn json(&self) -> Step {
        let (p, non_null) = (self.p, self.non_null);
        // Numbers are JSON scalars, but for ±Infinity, which JSON cannot write.
        let infinite = p.real_max == Some(f64::INFINITY) || p.real_min == Some(f64::NEG_INFINITY);
        let json_values = p.texts == p.json_documents + p.json_scalars && p.blobs == 0 && !infinite;
        if self.kind == Declared::Json {
            return Step::Decided(json_values.then(|| {
                let reason = format!("declared `{}`; every value is JSON", self.declared());
                self.json_found(CastRule::JsonDeclared, reason)
            }));
        }
        if self.facts.json_check
            && json_values
            && (self.only_texts() || p.integers + p.reals + p.texts == non_null)
            && self.text_kinds()
        {
            let reason = "a CHECK requires json_valid() and every value is JSON".to_string();
            return Step::Decided(Some(self.json_found(CastRule::JsonChecked, reason)));
        }
        if !self.facts.key
            && is_json_name(self.facts.column)
            && self.only_texts()
            && p.json_documents == non_null
            && self.text_kinds()
        {
            let reason = format!(
                "named like a document and all {non_null} values are JSON objects or arrays"
            );
            return Step::Decided(Some(self.json_found(CastRule::JsonName, reason)));
        }
        Step::Next
    }

    /// `jsonb`, or `json` when a document holds a lone surrogate escape (`jsonb` refuses it)
    /// or something `jsonb` would fold away (a key written twice, a negative zero): `json`
    /// keeps the text as it is.
    fn json_found(&self, rule: CastRule, reason: String) -> Found {
        let lone = self.p.json_lone_surrogates;
        let altered = self.p.json_jsonb_altered;
        if lone == 0 && altered == 0 {
            return Found::new(PgType::Jsonb, rule, reason);
        }
        let why = if lone > 0 {
            format!("{lone} value(s) hold a lone UTF-16 surrogate escape (`\\ud800`) that jsonb refuses")
        } else {
            format!("{altered} value(s) hold a key written twice in one object or a negative zero, which jsonb would not keep (it keeps the last of the keys, where SQLite's json_extract reads the first, and 0 for -0)")
        };
        Found::new(
            PgType::Json,
            rule,
            format!("{reason}; json, not jsonb, since {why}"),
        )
    }

    fn uuid(&self) -> Step {
        if self.kind != Declared::Uuid {
            return Step::Next;
        }
        Step::Decided(
            (self.only_texts() && self.p.uuids == self.non_null).then(|| {
                let reason = format!(
                    "declared `{}`; every value is a lowercase UUID text",
                    self.declared()
                );
                Found::new(PgType::Uuid, CastRule::UuidDeclared, reason)
            }),
        )
    }

    /// The last family: integers, reals and decimals by their declared type, then what
    /// columns without a telling type hold (numbers, text or blobs).
    fn numbers_and_text(&self) -> Option<Found> {
        match self.kind {
            Declared::SmallInt | Declared::Int4 | Declared::BigInt => self.integers(),
            Declared::Double => (self.p.integers + self.p.reals == self.non_null
                && ints_fit_double(self.p))
            .then(|| {
                let reason = format!(
                    "declared `{}`; every value is a number (8-byte float, never 4-byte `real`)",
                    self.declared()
                );
                Found::new(PgType::Double, CastRule::RealDouble, reason)
            }),
            Declared::Decimal(ps) => self.decimals(ps),
            Declared::Unknown
            | Declared::None
            | Declared::Blob
            | Declared::Text
            | Declared::Time => self.by_values(),
            Declared::Boolean
            | Declared::Date
            | Declared::Timestamp
            | Declared::Json
            | Declared::Uuid => None,
        }
    }

    fn range(&self) -> String {
        format!(
            "{} to {}",
            self.p.int_min.unwrap_or(0),
            self.p.int_max.unwrap_or(0)
        )
    }

    fn integers(&self) -> Option<Found> {
        if !self.only_integers() {
            return None;
        }
        let declared = self.declared();
        let (lo, hi) = (self.p.int_min.unwrap_or(0), self.p.int_max.unwrap_or(0));
        let fits = |min: i64, max: i64| lo >= min && hi <= max;
        if self.kind == Declared::SmallInt && fits(i16::MIN.into(), i16::MAX.into()) {
            let reason = format!(
                "declared `{declared}`; every value fits 2 bytes ({})",
                self.range()
            );
            return Some(Found::new(
                PgType::SmallInt,
                CastRule::IntegerSmallint,
                reason,
            ));
        }
        if self.kind == Declared::Int4 && fits(i32::MIN.into(), i32::MAX.into()) {
            let reason = format!(
                "declared `{declared}`; every value fits 4 bytes ({})",
                self.range()
            );
            return Some(Found::new(PgType::Integer, CastRule::IntegerInt4, reason));
        }
        let reason = format!(
            "declared `{declared}`; every value is an integer ({})",
            self.range()
        );
        Some(Found::new(PgType::BigInt, CastRule::IntegerBigint, reason))
    }

    fn decimals(&self, ps: Option<(u32, u32)>) -> Option<Found> {
        if self.p.integers + self.p.reals != self.non_null {
            return None;
        }
        let declared = self.declared();
        if let (Some((precision, scale)), Some((value_scale, value_digits))) =
            (ps, self.p.decimal_digits)
        {
            if value_scale <= scale && value_digits + scale <= precision {
                let reason = format!(
                    "declared `{declared}`; every value fits {precision} digits with {scale} after the point"
                );
                return Some(Found::new(
                    PgType::Numeric(Some((precision, scale))),
                    CastRule::NumericPrecision,
                    reason,
                ));
            }
        }
        let reason = format!(
            "declared `{declared}`; every value is a number (unconstrained numeric keeps each exactly)"
        );
        Some(Found::new(
            PgType::Numeric(None),
            CastRule::NumericAny,
            reason,
        ))
    }

    /// A column whose declared type says little (none, unknown, text, blob, time): the values
    /// decide.
    fn by_values(&self) -> Option<Found> {
        let (p, kind, non_null) = (self.p, self.kind, self.non_null);
        let unknown = match kind {
            Declared::Unknown => format!("unknown declared type `{}`: ", self.declared()),
            Declared::None => "no declared type: ".to_string(),
            _ => format!("declared `{}`: ", self.declared()),
        };
        if self.only_integers() && kind != Declared::Text {
            let reason = format!("{unknown}every value is an integer ({})", self.range());
            return Some(Found::new(PgType::BigInt, CastRule::IntegerBigint, reason));
        }
        if p.integers + p.reals == non_null && kind != Declared::Text {
            if kind == Declared::Unknown {
                let reason = format!("{unknown}every value is a number");
                return Some(Found::new(
                    PgType::Numeric(None),
                    CastRule::NumericAny,
                    reason,
                ));
            }
            return Some(if ints_fit_double(p) {
                let reason = format!("{unknown}integers and reals, all exact as 8-byte floats");
                Found::new(PgType::Double, CastRule::NumbersMixed, reason)
            } else {
                let reason =
                    format!("{unknown}integers beyond 2^53 and reals, kept exactly as numeric");
                Found::new(PgType::Numeric(None), CastRule::NumbersMixed, reason)
            });
        }
        if self.only_texts() {
            let reason = format!("{unknown}every value is text");
            return Some(Found::new(PgType::Text, CastRule::TextDeclared, reason));
        }
        if p.blobs == non_null {
            let reason = format!("{unknown}every value is a blob");
            return Some(Found::new(PgType::Bytea, CastRule::BlobDeclared, reason));
        }
        None
    }
}

fn ints_fit_double(p: &ColumnProfile) -> bool {
    p.integers == 0
        || (p.int_min.unwrap_or(0) >= -TWO_POW_53 && p.int_max.unwrap_or(0) <= TWO_POW_53)
}

fn bool_values(p: &ColumnProfile) -> &'static str {
    if p.text_booleans == 0 {
        "0 or 1"
    } else if p.zero_one == 0 {
        "boolean words (t/f, yes/no...)"
    } else {
        "0/1 or a boolean word"
    }
}
