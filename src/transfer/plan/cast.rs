//! Pure: chooses each column's PostgreSQL type from its declared SQLite type, its name and its
//! [`ColumnProfile`], so that the type holds every value the column holds today.
//!
//! Every rule is one row of [`CAST_RULES`]; `docs/postgres_migration.md` mirrors that table
//! (a test checks that each rule is documented). Rules are tried in the order of the table and
//! the first that holds every value wins; when the declared type cannot hold every value the
//! column keeps a type that can (usually `text`) and the decision says so, with counts and
//! examples. No I/O here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::transfer::model::{Conversion, PgType, ValuePolicy};
use crate::transfer::plan::profile::{ColumnProfile, Kind};

/// One row of the cast table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CastRule {
    /// The rule's id, as shown in decisions.
    pub id: &'static str,
    /// When it applies.
    pub when: &'static str,
    /// The PostgreSQL type it chooses.
    pub target: &'static str,
}

/// The cast table, in the order rules are tried.
pub const CAST_RULES: &[CastRule] = &[
    CastRule { id: "override.column", when: "the plan file sets the column's type (`[options.overrides.columns.\"table.column\"]`)", target: "the type given" },
    CastRule { id: "override.type", when: "the plan file maps the declared type (`[options.overrides.types]`)", target: "the type given" },
    CastRule { id: "text.invalid_bytes", when: "a text value holds a NUL byte or is not valid UTF-8, and no override sets a value policy", target: "bytea (flagged)" },
    CastRule { id: "empty.declared", when: "the column holds no value: the declared type alone decides (as in the rules below)", target: "from the declared type, else text" },
    CastRule { id: "boolean.declared", when: "declared BOOLEAN/BOOL/BIT/TINYINT(1); every value is 0/1 or a boolean word (t/f, true/false, y/n, yes/no, on/off)", target: "boolean" },
    CastRule { id: "boolean.flag_name", when: "named like a flag (is_*, has_*, *_flag, enabled, active, deleted, ...); every value is 0/1 (or a boolean word)", target: "boolean" },
    CastRule { id: "timestamp.epoch_seconds", when: "declared or named as a date/time; every value is an integer of Unix seconds between 1900 and 2100, the largest after 1973", target: "timestamptz, conversion unix_seconds" },
    CastRule { id: "timestamp.epoch_milliseconds", when: "declared or named as a date/time; every value is an integer of Unix milliseconds between 1900 and 2100, the largest after 1973", target: "timestamptz, conversion unix_milliseconds" },
    CastRule { id: "timestamp.julian_day", when: "declared or named as a date/time; every value is a real Julian day number between years 1 and 9999", target: "timestamptz, conversion julian_day" },
    CastRule { id: "date.text", when: "every value is a text date `YYYY-MM-DD`", target: "date" },
    CastRule { id: "timestamp.text", when: "every value is an ISO-8601 text timestamp (`T` or space, up to 6 fraction digits, optional `Z`/offset); text without an offset is UTC", target: "timestamptz" },
    CastRule { id: "time.text", when: "declared TIME; every value is a text time of day `HH:MM[:SS[.ffffff]]`", target: "time" },
    CastRule { id: "json.declared", when: "declared JSON/JSONB; every value is JSON (scalars too)", target: "jsonb" },
    CastRule { id: "json.checked", when: "a CHECK calls json_valid() on the column; every value is JSON (scalars too)", target: "jsonb" },
    CastRule { id: "json.name", when: "named like a document (json, data, metadata, payload, config, settings, ...); every value is a JSON object or array", target: "jsonb" },
    CastRule { id: "uuid.declared", when: "declared UUID/GUID; every value is a lowercase hyphenated UUID text", target: "uuid" },
    CastRule { id: "integer.smallint", when: "declared SMALLINT/INT2/TINYINT; every value is an integer that fits 2 bytes", target: "smallint" },
    CastRule { id: "integer.int4", when: "declared INT/INT4/MEDIUMINT; every value is an integer that fits 4 bytes", target: "integer" },
    CastRule { id: "integer.bigint", when: "integer affinity (declared type contains INT), or no declared type; every value is an integer", target: "bigint" },
    CastRule { id: "real.double", when: "declared REAL/FLOAT/DOUBLE; every value is a number (integers within 2^53)", target: "double precision" },
    CastRule { id: "numeric.precision", when: "declared DECIMAL(p,s)/NUMERIC(p,s); every value is a number that fits p digits with s after the point", target: "numeric(p,s)" },
    CastRule { id: "numeric.any", when: "NUMERIC affinity (DECIMAL, NUMERIC, MONEY, unknown names); every value is a number", target: "numeric" },
    CastRule { id: "numbers.mixed", when: "no declared type; integers and reals mixed", target: "double precision (numeric when an integer is beyond 2^53)" },
    CastRule { id: "text.declared", when: "text affinity (CHAR, CLOB, TEXT, VARCHAR(n): SQLite never enforced n) or no declared type; every value is text", target: "text" },
    CastRule { id: "blob.declared", when: "every value is a blob", target: "bytea" },
    CastRule { id: "widen.bigint", when: "values the declared type cannot hold (a 2 in a boolean, small integers in a date column), all integers", target: "bigint (flagged, with counts and examples)" },
    CastRule { id: "widen.numeric", when: "values the declared type cannot hold (reals in an integer column, integers beyond 2^53 in a real one), all numbers", target: "numeric (flagged, with counts and examples)" },
    CastRule { id: "widen.text", when: "values the declared type cannot hold, some of them text (text in a number column, a word in a date column), no blobs", target: "text (flagged, with counts and examples)" },
    CastRule { id: "widen.bytea", when: "blobs mixed with other storage classes", target: "bytea (flagged; numbers and text are stored as their UTF-8 bytes)" },
];

/// Per-type and per-column choices from the plan file, applied before any rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Declared SQLite type (as written, case-insensitive, e.g. `"DATETIME"`) to PostgreSQL type
    /// (e.g. `"timestamp"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, String>,
    /// `"table.column"` (SQLite names) to what to do with that column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnOverride>,
}

/// What the plan file says about one column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnOverride {
    /// The PostgreSQL type, e.g. `"text"`, `"numeric(12,2)"`, `"citext"`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub pg_type: Option<String>,
    /// What the copier does with a value the type cannot hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ValuePolicy>,
    /// A conversion the copier applies first (e.g. `unix_seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<Conversion>,
    /// The PostgreSQL column name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Overrides {
    /// The override of `table.column`, if any (names compared case-insensitively).
    pub fn column(&self, table: &str, column: &str) -> Option<&ColumnOverride> {
        let key = format!("{table}.{column}");
        self.columns.get(&key).or_else(|| {
            self.columns
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v)
        })
    }

    /// The PostgreSQL type the plan file maps `declared` to, if any.
    pub fn declared_type(&self, declared: &str) -> Option<&String> {
        let declared = normalize_declared(declared);
        self.types
            .iter()
            .find(|(k, _)| normalize_declared(k) == declared)
            .map(|(_, v)| v)
    }
}

/// SQLite's type affinity of a declared type (the rules of section 3.1 of SQLite's datatype
/// documentation, in their order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    /// Contains `INT`.
    Integer,
    /// Contains `CHAR`, `CLOB` or `TEXT`.
    Text,
    /// Contains `BLOB`, or no type at all.
    Blob,
    /// Contains `REAL`, `FLOA` or `DOUB`.
    Real,
    /// Anything else.
    Numeric,
}

/// The affinity SQLite gives a column declared `declared`.
pub fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// `(p, s)` of a declared `DECIMAL(p, s)` / `NUMERIC(p, s)` (`s` is 0 when left out), when
/// PostgreSQL accepts it (1 <= p <= 1000, s <= p).
pub fn numeric_precision(declared: &str) -> Option<(u32, u32)> {
    let upper = declared.to_ascii_uppercase();
    let base = upper.split('(').next()?.trim();
    if !matches!(base, "DECIMAL" | "NUMERIC" | "DEC") {
        return None;
    }
    let inside = upper.split_once('(')?.1.split_once(')')?.0;
    let mut numbers = inside.split(',').map(|n| n.trim().parse::<u32>());
    let p = numbers.next()?.ok()?;
    let s = match numbers.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    (numbers.next().is_none() && (1..=1000).contains(&p) && s <= p).then_some((p, s))
}

/// What the declared type names, beyond its affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// BOOLEAN, BOOL, BIT.
    Boolean,
    /// SMALLINT, INT2, TINYINT.
    SmallInt,
    /// INT, INT4, MEDIUMINT.
    Int4,
    /// Any other integer name (INTEGER, BIGINT, INT8, UNSIGNED BIG INT...).
    BigInt,
    /// REAL, FLOAT, DOUBLE (PRECISION).
    Double,
    /// DECIMAL/NUMERIC, with `(p, s)` when valid.
    Decimal(Option<(u32, u32)>),
    /// DATE.
    Date,
    /// DATETIME, TIMESTAMP (with or without time zone).
    Timestamp,
    /// TIME.
    Time,
    /// JSON, JSONB.
    Json,
    /// UUID, GUID.
    Uuid,
    /// Text affinity names (TEXT, VARCHAR(n), CHAR(n), CLOB, ...).
    Text,
    /// BLOB.
    Blob,
    /// No declared type.
    None,
    /// Any other name (numeric affinity by SQLite's rules).
    Unknown,
}

fn normalize_declared(declared: &str) -> String {
    declared
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

/// Reads a declared type.
pub fn declared_kind(declared: &str) -> Declared {
    let upper = normalize_declared(declared);
    let base = upper.split('(').next().unwrap_or("").trim();
    match base {
        "" => Declared::None,
        "BOOLEAN" | "BOOL" | "BIT" => Declared::Boolean,
        // MySQL's spelling of a boolean, common in exported schemas.
        "TINYINT" if upper.replace(' ', "").ends_with("(1)") => Declared::Boolean,
        "SMALLINT" | "INT2" | "TINYINT" => Declared::SmallInt,
        "INT" | "INT4" | "MEDIUMINT" => Declared::Int4,
        "DATE" => Declared::Date,
        "DATETIME"
        | "TIMESTAMP"
        | "TIMESTAMPTZ"
        | "TIMESTAMP WITH TIME ZONE"
        | "TIMESTAMP WITHOUT TIME ZONE" => Declared::Timestamp,
        "TIME" => Declared::Time,
        "JSON" | "JSONB" => Declared::Json,
        "UUID" | "GUID" | "UNIQUEIDENTIFIER" => Declared::Uuid,
        "DECIMAL" | "NUMERIC" | "DEC" => Declared::Decimal(numeric_precision(&upper)),
        _ => match affinity(&upper) {
            Affinity::Integer => Declared::BigInt,
            Affinity::Text => Declared::Text,
            Affinity::Blob => Declared::Blob,
            Affinity::Real => Declared::Double,
            Affinity::Numeric => Declared::Unknown,
        },
    }
}

/// `snake_case` of a name, lowercase: `createdAt` and `CreatedAt` become `created_at`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out.replace([' ', '-'], "_")
}

/// Whether a name reads like a boolean flag.
pub fn is_flag_name(name: &str) -> bool {
    let n = snake(name);
    const PREFIXES: &[&str] = &[
        "is_", "has_", "can_", "should_", "was_", "allow_", "allows_", "needs_", "show_", "use_",
        "enable_",
    ];
    const SUFFIXES: &[&str] = &[
        "_flag",
        "_enabled",
        "_disabled",
        "_active",
        "_deleted",
        "_visible",
        "_hidden",
        "_archived",
        "_verified",
        "_published",
        "_locked",
    ];
    const EXACT: &[&str] = &[
        "flag",
        "enabled",
        "disabled",
        "active",
        "deleted",
        "visible",
        "hidden",
        "archived",
        "published",
        "verified",
        "locked",
        "done",
        "admin",
    ];
    PREFIXES.iter().any(|p| n.starts_with(p))
        || SUFFIXES.iter().any(|s| n.ends_with(s))
        || EXACT.contains(&n.as_str())
}

/// Whether a name reads like a date or time (and not like a duration).
pub fn is_time_name(name: &str) -> bool {
    let n = snake(name);
    const SUFFIXES: &[&str] = &[
        "_at",
        "_on",
        "_date",
        "_time",
        "_ts",
        "_timestamp",
        "_datetime",
    ];
    const WORDS: &[&str] = &[
        "at",
        "date",
        "time",
        "ts",
        "timestamp",
        "datetime",
        "created",
        "updated",
        "modified",
        "deleted",
        "expires",
        "expiry",
    ];
    const DURATIONS: &[&str] = &[
        "duration", "elapsed", "latency", "interval", "timeout", "ttl", "age", "spent", "delay",
    ];
    let parts: Vec<&str> = n.split('_').collect();
    if parts.iter().any(|p| DURATIONS.contains(p)) {
        return false;
    }
    SUFFIXES.iter().any(|s| n.ends_with(s)) || parts.iter().any(|p| WORDS.contains(p))
}

/// Whether a name reads like a JSON document.
pub fn is_json_name(name: &str) -> bool {
    let n = snake(name);
    const WORDS: &[&str] = &[
        "json",
        "data",
        "meta",
        "metadata",
        "payload",
        "config",
        "configuration",
        "settings",
        "attrs",
        "attributes",
        "properties",
        "props",
        "extra",
        "extras",
        "options",
        "details",
        "document",
        "doc",
        "params",
        "parameters",
        "context",
        "body",
    ];
    n.ends_with("_json") || n.starts_with("json_") || n.split('_').any(|part| WORDS.contains(&part))
}

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
    /// The [`CAST_RULES`] id that chose it.
    pub rule: String,
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

/// Parses a PostgreSQL type name from a plan file. Names outside the known set become
/// [`PgType::Other`] when they look like a type name (letters, digits, `_`, spaces, `(`, `)`,
/// `,`, `.`, `[]`), and are refused otherwise so a plan file cannot smuggle SQL into DDL.
pub fn parse_pg_type(text: &str) -> Result<PgType, String> {
    let mut t = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    // `format_type` spells a precision inside the name: `timestamp(3) with time zone`.
    for base in ["timestamp", "time"] {
        if let Some(rest) = t.strip_prefix(base).and_then(|r| r.strip_prefix('(')) {
            if let Some(close) = rest.find(')') {
                if rest[..close].trim().parse::<u32>().is_ok() {
                    t = format!("{base}{}", &rest[close + 1..]);
                }
            }
            break;
        }
    }
    let args = |t: &str| -> Option<Vec<u32>> {
        let inside = t.split_once('(')?.1.strip_suffix(')')?;
        inside.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    let base = t.split('(').next().unwrap_or("").trim().to_string();
    Ok(match base.as_str() {
        "boolean" | "bool" => PgType::Boolean,
        "smallint" | "int2" => PgType::SmallInt,
        "integer" | "int" | "int4" => PgType::Integer,
        "bigint" | "int8" => PgType::BigInt,
        "real" | "float4" => PgType::Real,
        "double precision" | "float8" | "double" => PgType::Double,
        "numeric" | "decimal" => match args(&t) {
            None => PgType::Numeric(None),
            Some(a) if a.len() == 2 && (1..=1000).contains(&a[0]) && a[1] <= a[0] => {
                PgType::Numeric(Some((a[0], a[1])))
            }
            Some(a) if a.len() == 1 && (1..=1000).contains(&a[0]) => {
                PgType::Numeric(Some((a[0], 0)))
            }
            Some(_) => {
                return Err(format!(
                    "`{text}`: numeric(p, s) needs 1 <= p <= 1000 and s <= p"
                ))
            }
        },
        "text" => PgType::Text,
        "varchar" | "character varying" => {
            PgType::Varchar(args(&t).and_then(|a| a.first().copied()))
        }
        "char" | "character" => PgType::Char(args(&t).and_then(|a| a.first().copied())),
        "bytea" => PgType::Bytea,
        "date" => PgType::Date,
        "time" | "time without time zone" => PgType::Time,
        "timestamp" | "timestamp without time zone" => PgType::Timestamp,
        "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
        "interval" => PgType::Interval,
        "json" => PgType::Json,
        "jsonb" => PgType::Jsonb,
        "uuid" => PgType::Uuid,
        "inet" => PgType::Inet,
        "citext" => PgType::Citext,
        "" => return Err("an empty type name".into()),
        _ => {
            let allowed = |c: char| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '_' | ' ' | '(' | ')' | ',' | '.' | '[' | ']')
            };
            if !t.chars().all(allowed) {
                return Err(format!("`{text}` is not a type name"));
            }
            PgType::Other(t)
        }
    })
}

const TWO_POW_53: i64 = 1 << 53;
const EPOCH_1900: i64 = -2_208_988_800;
const EPOCH_1973: i64 = 100_000_000;
const EPOCH_2100: i64 = 4_102_444_800;

/// Chooses the type of one column. `Err` only for an unusable type in an override.
pub fn decide(facts: &ColumnFacts<'_>, overrides: &Overrides) -> Result<Choice, String> {
    let p = facts.profile;
    let counts = Counts {
        nulls: p.nulls,
        integers: p.integers,
        reals: p.reals,
        texts: p.texts,
        blobs: p.blobs,
    };
    let mut choice = Choice {
        pg_type: PgType::Text,
        conversion: None,
        policy: ValuePolicy::Reject,
        decision: Decision {
            table: facts.table.to_string(),
            column: facts.column.to_string(),
            declared: facts.declared.to_string(),
            chosen: String::new(),
            conversion: None,
            rule: String::new(),
            reason: String::new(),
            widened: false,
            flagged: false,
            counts,
            misfits: 0,
            examples: typical_examples(p),
        },
    };
    let column_override = overrides.column(facts.table, facts.column);
    let set = |choice: &mut Choice, pg_type: PgType, rule: &str, reason: String| {
        choice.pg_type = pg_type;
        choice.decision.rule = rule.to_string();
        choice.decision.reason = reason;
    };
    let bad_text = p.texts_with_nul + p.texts_not_utf8;

    if let Some(o) = column_override {
        choice.policy = o.policy.unwrap_or_default();
        choice.conversion = o.conversion;
        if let Some(text) = &o.pg_type {
            let pg_type = parse_pg_type(text)
                .map_err(|e| format!("override of `{}.{}`: {e}", facts.table, facts.column))?;
            set(
                &mut choice,
                pg_type,
                "override.column",
                format!("the plan file sets `{text}`"),
            );
            choice.decision.flagged = choice.policy != ValuePolicy::Reject || bad_text > 0;
            return Ok(finish(choice, bad_text));
        }
        // A conversion alone says what type it makes.
        let implied = match o.conversion {
            Some(
                Conversion::UnixSeconds | Conversion::UnixMilliseconds | Conversion::JulianDay,
            ) => Some(PgType::Timestamptz),
            Some(Conversion::SecondsToInterval | Conversion::MicrosecondsToInterval) => {
                Some(PgType::Interval)
            }
            None => None,
        };
        if let Some(pg_type) = implied {
            let reason = format!(
                "the plan file sets the conversion, which makes {}",
                pg_type.sql()
            );
            set(&mut choice, pg_type, "override.column", reason);
            return Ok(finish(choice, bad_text));
        }
    }
    if let Some(text) = overrides.declared_type(facts.declared) {
        let pg_type = parse_pg_type(text)
            .map_err(|e| format!("override of declared type `{}`: {e}", facts.declared))?;
        set(
            &mut choice,
            pg_type,
            "override.type",
            format!(
                "the plan file maps declared `{}` to `{text}`",
                facts.declared
            ),
        );
        return Ok(finish(choice, bad_text));
    }
    if bad_text > 0 && column_override.and_then(|o| o.policy).is_none() {
        set(
            &mut choice,
            PgType::Bytea,
            "text.invalid_bytes",
            format!(
                "{} text value(s) hold a NUL byte and {} are not valid UTF-8, which PostgreSQL text cannot store; kept as bytes (override the type to text with a policy of replace, escape or null to repair them instead)",
                p.texts_with_nul, p.texts_not_utf8
            ),
        );
        choice.decision.flagged = true;
        choice.decision.misfits = bad_text;
        choice.decision.examples = [
            p.examples_of(Kind::TextWithNul),
            p.examples_of(Kind::TextNotUtf8),
        ]
        .concat();
        return Ok(finish(choice, 0));
    }
    let kind = declared_kind(facts.declared);
    let (pg_type, conversion, rule, reason) = match typed_choice(facts, kind) {
        Some(found) => found,
        None => {
            // The declared type cannot hold every value: keep a type that can.
            let (pg_type, rule, reason, misfits, examples) = widen(facts, kind);
            choice.decision.widened = true;
            choice.decision.flagged = true;
            choice.decision.misfits = misfits;
            choice.decision.examples = examples;
            (pg_type, None, rule, reason)
        }
    };
    set(&mut choice, pg_type, rule, reason);
    if choice.conversion.is_none() {
        choice.conversion = conversion;
    }
    Ok(finish(choice, bad_text))
}

fn finish(mut choice: Choice, bad_text: u64) -> Choice {
    if bad_text > 0 && choice.pg_type != PgType::Bytea {
        let fate = match choice.policy {
            ValuePolicy::Reject => "rejected with their rows".to_string(),
            policy => format!(
                "repaired by the `{}` policy",
                serde_json::to_string(&policy)
                    .unwrap_or_default()
                    .trim_matches('"')
            ),
        };
        choice.decision.flagged = true;
        choice.decision.reason.push_str(&format!(
            "; {bad_text} text value(s) with NUL or invalid UTF-8 will be {fate}"
        ));
    }
    choice.decision.chosen = choice.pg_type.sql();
    choice.decision.conversion = choice.conversion;
    choice
}

fn typical_examples(p: &ColumnProfile) -> Vec<String> {
    [Kind::Text, Kind::Integer, Kind::Real, Kind::Blob]
        .iter()
        .flat_map(|k| p.examples_of(*k).iter().take(2).cloned())
        .take(3)
        .collect()
}

type Found = (PgType, Option<Conversion>, &'static str, String);

/// The typed choice when every value fits, `None` when the column must be widened.
fn typed_choice(facts: &ColumnFacts<'_>, kind: Declared) -> Option<Found> {
    let p = facts.profile;
    let declared = facts.declared;
    let non_null = p.non_null();
    let only_integers = p.integers == non_null;
    let only_numbers = p.integers + p.reals == non_null && ints_fit_double(p);
    let only_texts = p.texts == non_null;
    let time_hint = !facts.key
        && (matches!(kind, Declared::Date | Declared::Timestamp | Declared::Time)
            || is_time_name(facts.column));
    let flag_hint = !facts.key && is_flag_name(facts.column);

    if non_null == 0 {
        let (pg_type, what) = match kind {
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
        return Some((
            pg_type,
            None,
            "empty.declared",
            format!("no values; declared `{declared}` reads as {what}"),
        ));
    }

    // Booleans.
    let boolean_values = p.zero_one + p.text_booleans == non_null
        && p.integers == p.zero_one
        && p.reals == 0
        && p.blobs == 0;
    if kind == Declared::Boolean {
        return boolean_values.then(|| {
            (
                PgType::Boolean,
                None,
                "boolean.declared",
                format!("declared `{declared}`; every value is {}", bool_values(p)),
            )
        });
    }
    if flag_hint
        && boolean_values
        && matches!(
            kind,
            Declared::BigInt
                | Declared::SmallInt
                | Declared::Int4
                | Declared::None
                | Declared::Unknown
                | Declared::Text
        )
    {
        return Some((
            PgType::Boolean,
            None,
            "boolean.flag_name",
            format!("named like a flag and every value is {}", bool_values(p)),
        ));
    }

    // Date and time.
    if time_hint && only_integers {
        let (lo, hi) = (p.int_min.unwrap_or(0), p.int_max.unwrap_or(0));
        if lo >= EPOCH_1900 && (EPOCH_1973..=EPOCH_2100).contains(&hi) {
            return Some((
                PgType::Timestamptz,
                Some(Conversion::UnixSeconds),
                "timestamp.epoch_seconds",
                format!(
                    "{} and every value is an integer of Unix seconds ({lo} to {hi})",
                    time_words(facts, kind)
                ),
            ));
        }
        if lo >= EPOCH_1900 * 1000 && (EPOCH_1973 * 1000..=EPOCH_2100 * 1000).contains(&hi) {
            return Some((
                PgType::Timestamptz,
                Some(Conversion::UnixMilliseconds),
                "timestamp.epoch_milliseconds",
                format!(
                    "{} and every value is an integer of Unix milliseconds ({lo} to {hi})",
                    time_words(facts, kind)
                ),
            ));
        }
    }
    if time_hint && p.reals == non_null {
        let (lo, hi) = (p.real_min.unwrap_or(0.0), p.real_max.unwrap_or(0.0));
        if lo >= 1_721_425.5 && hi <= 5_373_484.5 {
            return Some((
                PgType::Timestamptz,
                Some(Conversion::JulianDay),
                "timestamp.julian_day",
                format!(
                    "{} and every value is a Julian day number ({lo} to {hi})",
                    time_words(facts, kind)
                ),
            ));
        }
    }
    let text_kinds = matches!(
        kind,
        Declared::Text
            | Declared::None
            | Declared::Unknown
            | Declared::Date
            | Declared::Timestamp
            | Declared::Blob
    );
    if only_texts && p.text_timestamps == non_null && text_kinds {
        if p.text_dates == non_null && kind != Declared::Timestamp {
            return Some((
                PgType::Date,
                None,
                "date.text",
                format!("every value is a text date YYYY-MM-DD (declared `{declared}`)"),
            ));
        }
        let offsets = match p.text_with_offset {
            0 => "none has a UTC offset, so each is read as UTC".to_string(),
            n if n == non_null => "each has its UTC offset".to_string(),
            n => format!("{n} have a UTC offset, the others are read as UTC"),
        };
        return Some((
            PgType::Timestamptz,
            None,
            "timestamp.text",
            format!("every value is an ISO-8601 timestamp text; {offsets} (declared `{declared}`)"),
        ));
    }
    if kind == Declared::Time && only_texts && p.text_times == non_null {
        return Some((
            PgType::Time,
            None,
            "time.text",
            format!("declared `{declared}`; every value is a time of day text HH:MM[:SS[.ffffff]]"),
        ));
    }
    if matches!(kind, Declared::Date | Declared::Timestamp) {
        return None;
    }

    // JSON.
    let json_values = p.texts == p.json_documents + p.json_scalars && p.blobs == 0;
    if kind == Declared::Json {
        return json_values.then(|| {
            (
                PgType::Jsonb,
                None,
                "json.declared",
                format!("declared `{declared}`; every value is JSON"),
            )
        });
    }
    if facts.json_check
        && json_values
        && (only_texts || p.integers + p.reals + p.texts == non_null)
        && text_kinds
    {
        return Some((
            PgType::Jsonb,
            None,
            "json.checked",
            "a CHECK requires json_valid() and every value is JSON".to_string(),
        ));
    }
    if !facts.key
        && is_json_name(facts.column)
        && only_texts
        && p.json_documents == non_null
        && text_kinds
    {
        return Some((
            PgType::Jsonb,
            None,
            "json.name",
            format!("named like a document and all {non_null} values are JSON objects or arrays"),
        ));
    }

    // UUID.
    if kind == Declared::Uuid {
        return (only_texts && p.uuids == non_null).then(|| {
            (
                PgType::Uuid,
                None,
                "uuid.declared",
                format!("declared `{declared}`; every value is a lowercase UUID text"),
            )
        });
    }

    // Numbers.
    let range = || format!("{} to {}", p.int_min.unwrap_or(0), p.int_max.unwrap_or(0));
    match kind {
        Declared::SmallInt | Declared::Int4 | Declared::BigInt => {
            if !only_integers {
                return None;
            }
            let (lo, hi) = (p.int_min.unwrap_or(0), p.int_max.unwrap_or(0));
            if kind == Declared::SmallInt && lo >= i64::from(i16::MIN) && hi <= i64::from(i16::MAX) {
                return Some((PgType::SmallInt, None, "integer.smallint", format!("declared `{declared}`; every value fits 2 bytes ({})", range())));
            }
            if kind == Declared::Int4 && lo >= i64::from(i32::MIN) && hi <= i64::from(i32::MAX) {
                return Some((PgType::Integer, None, "integer.int4", format!("declared `{declared}`; every value fits 4 bytes ({})", range())));
            }
            Some((PgType::BigInt, None, "integer.bigint", format!("declared `{declared}`; every value is an integer ({})", range())))
        }
        Declared::Double => only_numbers.then(|| {
            (PgType::Double, None, "real.double", format!("declared `{declared}`; every value is a number (8-byte float, never 4-byte `real`)"))
        }),
        Declared::Decimal(ps) => {
            if p.integers + p.reals != non_null {
                return None;
            }
            if let (Some((precision, scale)), Some((value_scale, value_digits))) = (ps, p.decimal_digits) {
                if value_scale <= scale && value_digits + scale <= precision {
                    return Some((
                        PgType::Numeric(Some((precision, scale))),
                        None,
                        "numeric.precision",
                        format!("declared `{declared}`; every value fits {precision} digits with {scale} after the point"),
                    ));
                }
            }
            Some((PgType::Numeric(None), None, "numeric.any", format!("declared `{declared}`; every value is a number (unconstrained numeric keeps each exactly)")))
        }
        Declared::Unknown | Declared::None | Declared::Blob | Declared::Text | Declared::Time => {
            let unknown = match kind {
                Declared::Unknown => format!("unknown declared type `{declared}`: "),
                Declared::None => "no declared type: ".to_string(),
                _ => format!("declared `{declared}`: "),
            };
            if only_integers && kind != Declared::Text {
                return Some((PgType::BigInt, None, "integer.bigint", format!("{unknown}every value is an integer ({})", range())));
            }
            if p.integers + p.reals == non_null && kind != Declared::Text {
                if kind == Declared::Unknown {
                    return Some((PgType::Numeric(None), None, "numeric.any", format!("{unknown}every value is a number")));
                }
                return Some(if ints_fit_double(p) {
                    (PgType::Double, None, "numbers.mixed", format!("{unknown}integers and reals, all exact as 8-byte floats"))
                } else {
                    (PgType::Numeric(None), None, "numbers.mixed", format!("{unknown}integers beyond 2^53 and reals, kept exactly as numeric"))
                });
            }
            if only_texts {
                return Some((PgType::Text, None, "text.declared", format!("{unknown}every value is text")));
            }
            if p.blobs == non_null {
                return Some((PgType::Bytea, None, "blob.declared", format!("{unknown}every value is a blob")));
            }
            None
        }
        Declared::Boolean | Declared::Date | Declared::Timestamp | Declared::Json | Declared::Uuid => None,
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

fn time_words(facts: &ColumnFacts<'_>, kind: Declared) -> String {
    if matches!(kind, Declared::Date | Declared::Timestamp | Declared::Time) {
        format!("declared `{}`", facts.declared)
    } else {
        "named like a date/time".to_string()
    }
}

/// The type that holds every value when the declared one cannot, with the count and examples
/// of the values that did not fit.
fn widen(
    facts: &ColumnFacts<'_>,
    kind: Declared,
) -> (PgType, &'static str, String, u64, Vec<String>) {
    let p = facts.profile;
    let declared = if facts.declared.is_empty() {
        "(no declared type)"
    } else {
        facts.declared
    };
    let (misfits, examples): (u64, Vec<String>) = match kind {
        Declared::Boolean => (
            p.non_null() - p.zero_one - p.text_booleans,
            [
                p.examples_of(Kind::IntegerNotBoolean),
                p.examples_of(Kind::TextNotBoolean),
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Date | Declared::Timestamp => (
            p.non_null() - p.text_timestamps,
            [
                p.examples_of(Kind::TextNotTimestamp),
                p.examples_of(Kind::Integer),
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Json => (
            p.texts - p.json_documents - p.json_scalars + p.blobs,
            [p.examples_of(Kind::TextNotJson), p.examples_of(Kind::Blob)].concat(),
        ),
        Declared::Uuid => (
            p.non_null() - p.uuids,
            [
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Integer),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::SmallInt | Declared::Int4 | Declared::BigInt => (
            p.reals + p.texts + p.blobs,
            [
                p.examples_of(Kind::Real),
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Blob),
            ]
            .concat(),
        ),
        Declared::Double | Declared::Decimal(_) => (
            p.texts + p.blobs,
            [p.examples_of(Kind::Text), p.examples_of(Kind::Blob)].concat(),
        ),
        _ => (
            p.blobs.min(p.non_null() - p.blobs),
            [
                p.examples_of(Kind::Blob),
                p.examples_of(Kind::Text),
                p.examples_of(Kind::Integer),
            ]
            .concat(),
        ),
    };
    let examples: Vec<String> = examples.into_iter().take(3).collect();
    let classes = class_list(p);
    if p.blobs > 0 && p.blobs < p.non_null() {
        return (
            PgType::Bytea,
            "widen.bytea",
            format!("declared `{declared}` but holds {classes}; blobs and other values only fit together as bytes ({misfits} value(s) do not fit the declared type)"),
            misfits,
            examples,
        );
    }
    if p.blobs == p.non_null() {
        return (
            PgType::Bytea,
            "blob.declared",
            format!("declared `{declared}` but every value is a blob"),
            misfits,
            examples,
        );
    }
    if p.integers == p.non_null() {
        return (
            PgType::BigInt,
            "widen.bigint",
            format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); every value is an integer, kept as bigint"),
            misfits,
            examples,
        );
    }
    if p.integers + p.reals == p.non_null() {
        return (
            PgType::Numeric(None),
            "widen.numeric",
            format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); every value is a number, kept exactly as numeric"),
            misfits,
            examples,
        );
    }
    (
        PgType::Text,
        "widen.text",
        format!("declared `{declared}` but {misfits} value(s) do not fit it ({classes}); kept as text so every value survives"),
        misfits,
        examples,
    )
}

fn class_list(p: &ColumnProfile) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (p.integers, "integers"),
        (p.reals, "reals"),
        (p.texts, "texts"),
        (p.blobs, "blobs"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

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
    fn affinity_follows_sqlite_rules() {
        assert_eq!(affinity("INTEGER"), Affinity::Integer);
        assert_eq!(affinity("POINT"), Affinity::Integer); // contains INT, as SQLite says
        assert_eq!(affinity("VARCHAR(10)"), Affinity::Text);
        assert_eq!(affinity(""), Affinity::Blob);
        assert_eq!(affinity("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(affinity("DATETIME"), Affinity::Numeric);
        assert_eq!(numeric_precision("DECIMAL(10, 2)"), Some((10, 2)));
        assert_eq!(numeric_precision("numeric(5)"), Some((5, 0)));
        assert_eq!(numeric_precision("DECIMAL(2,5)"), None);
        assert_eq!(declared_kind("unsigned big int"), Declared::BigInt);
        assert_eq!(
            declared_kind("TIMESTAMP WITH TIME ZONE"),
            Declared::Timestamp
        );
        assert_eq!(declared_kind("STRING"), Declared::Unknown);
        assert_eq!(declared_kind("tinyint(1)"), Declared::Boolean);
        assert_eq!(declared_kind("TINYINT"), Declared::SmallInt);
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
        let mut stamps = texts(3);
        stamps.text_timestamps = 3;
        assert_eq!(
            decide_for("at", "TEXT", &stamps).pg_type,
            PgType::Timestamptz
        );
        stamps.text_dates = 3;
        assert_eq!(decide_for("day", "TEXT", &stamps).pg_type, PgType::Date);
        assert_eq!(
            decide_for("day", "DATETIME", &stamps).pg_type,
            PgType::Timestamptz
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

    #[test]
    fn every_rule_is_unique_and_documented() {
        let doc = include_str!("../../../docs/postgres_migration.md");
        for (i, rule) in CAST_RULES.iter().enumerate() {
            assert!(
                !CAST_RULES[..i].iter().any(|r| r.id == rule.id),
                "duplicate rule {}",
                rule.id
            );
            assert!(
                doc.contains(&format!("`{}`", rule.id)),
                "rule `{}` is missing from docs/postgres_migration.md",
                rule.id
            );
        }
    }
}
