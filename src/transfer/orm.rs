//! Which ORM wrote the source, and how that ORM stores a field on SQLite that it stores
//! differently on PostgreSQL. An application that moves with `--data-only` has its PostgreSQL
//! schema made by its ORM, so each value must arrive as the ORM would have written it there:
//! a Django `DurationField` is an integer of microseconds on SQLite and an `interval` on
//! PostgreSQL, a SQLAlchemy `Interval` a DATETIME counted from 1970-01-01. The ORM is found by
//! its bookkeeping tables, or named by the caller. Pure: no I/O.
//!
//! Each rule cites the ORM source it comes from; `docs/postgres_migration.md` lists them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::transfer::model::{Conversion, PgType};

/// An ORM whose SQLite databases dbshift recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orm {
    /// Django (`django_migrations`).
    Django,
    /// Ruby on Rails' ActiveRecord (`schema_migrations` with `ar_internal_metadata`).
    Rails,
    /// SQLAlchemy, found by Alembic's `alembic_version` or named by the caller.
    Sqlalchemy,
    /// Diesel (`__diesel_schema_migrations`).
    Diesel,
    /// Prisma (`_prisma_migrations`).
    Prisma,
    /// Peewee: it keeps no bookkeeping table, so it is only ever named by the caller.
    Peewee,
}

impl Orm {
    /// Every ORM, in the order detection tries them.
    pub const ALL: [Orm; 6] = [
        Orm::Django,
        Orm::Rails,
        Orm::Sqlalchemy,
        Orm::Diesel,
        Orm::Prisma,
        Orm::Peewee,
    ];

    /// The name the caller gives and reports show.
    pub fn name(self) -> &'static str {
        match self {
            Orm::Django => "django",
            Orm::Rails => "rails",
            Orm::Sqlalchemy => "sqlalchemy",
            Orm::Diesel => "diesel",
            Orm::Prisma => "prisma",
            Orm::Peewee => "peewee",
        }
    }

    /// The tables that show this ORM made the database (all of them must be present); none
    /// for an ORM that keeps no such table, which detection then never finds.
    fn bookkeeping(self) -> &'static [&'static str] {
        match self {
            Orm::Django => &["django_migrations"],
            Orm::Rails => &["schema_migrations", "ar_internal_metadata"],
            Orm::Sqlalchemy => &["alembic_version"],
            Orm::Diesel => &["__diesel_schema_migrations"],
            Orm::Prisma => &["_prisma_migrations"],
            // peewee.py creates only the models' tables; playhouse/migrate.py records nothing.
            Orm::Peewee => &[],
        }
    }
}

impl fmt::Display for Orm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The object of the plan's review item that says which ORM applies (the report repeats it).
pub const NOTE_OBJECT: &str = "source ORM";

/// Which ORM's conventions apply: found from the source, named, or none at all. Plan files
/// spell it as the command line does (`auto`, `none`, `django`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum OrmChoice {
    /// Found from the source's bookkeeping tables ([`detect`]).
    #[default]
    Detect,
    /// No ORM: no convention applies, and an ambiguous conversion must be set per column.
    None,
    /// This ORM, whatever the source's tables say.
    Named(Orm),
}

impl OrmChoice {
    /// Whether the ORM is found from the source (the default, left out of plan files).
    pub fn is_detect(&self) -> bool {
        *self == OrmChoice::Detect
    }
}

impl fmt::Display for OrmChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrmChoice::Detect => f.write_str("auto"),
            OrmChoice::None => f.write_str("none"),
            OrmChoice::Named(orm) => f.write_str(orm.name()),
        }
    }
}

impl From<OrmChoice> for String {
    fn from(choice: OrmChoice) -> String {
        choice.to_string()
    }
}

impl TryFrom<String> for OrmChoice {
    type Error = String;

    fn try_from(text: String) -> Result<OrmChoice, String> {
        text.parse()
    }
}

impl FromStr for OrmChoice {
    type Err = String;

    /// `none`, `auto`, or an ORM's name (`alembic` is SQLAlchemy's).
    fn from_str(text: &str) -> Result<OrmChoice, String> {
        let name = text.trim().to_ascii_lowercase();
        match name.as_str() {
            "none" => return Ok(OrmChoice::None),
            "auto" | "detect" => return Ok(OrmChoice::Detect),
            "alembic" => return Ok(OrmChoice::Named(Orm::Sqlalchemy)),
            "activerecord" => return Ok(OrmChoice::Named(Orm::Rails)),
            _ => {}
        }
        Orm::ALL
            .into_iter()
            .find(|orm| orm.name() == name)
            .map(OrmChoice::Named)
            .ok_or_else(|| {
                let names: Vec<&str> = Orm::ALL.iter().map(|o| o.name()).collect();
                format!("unknown ORM `{text}`; known: {}, none", names.join(", "))
            })
    }
}

/// The ORM in effect for a source with these tables, and how it was decided (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The ORM whose conventions apply, if any.
    pub orm: Option<Orm>,
    /// One line for the report: which ORM and why.
    pub note: String,
}

/// The ORM for a source whose tables are `tables`, under the caller's `choice`.
pub fn resolve(choice: OrmChoice, tables: &[String]) -> Detected {
    match choice {
        OrmChoice::None => Detected {
            orm: None,
            note: "ORM: none (as asked); no ORM conventions apply".into(),
        },
        OrmChoice::Named(orm) => Detected {
            orm: Some(orm),
            note: format!("ORM: {orm} (as asked); its SQLite storage conventions apply"),
        },
        OrmChoice::Detect => match detect(tables) {
            Some(orm) => Detected {
                orm: Some(orm),
                note: format!(
                    "ORM: {orm} (found {}); its SQLite storage conventions apply",
                    orm.bookkeeping()
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            },
            None => Detected {
                orm: None,
                note: "ORM: none found (no bookkeeping table of a known ORM); no ORM conventions apply"
                    .into(),
            },
        },
    }
}

/// The ORM whose bookkeeping tables the source holds. Names are compared as SQLite does,
/// ignoring ASCII case.
pub fn detect(tables: &[String]) -> Option<Orm> {
    let has = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name));
    Orm::ALL.into_iter().find(|orm| {
        let tables = orm.bookkeeping();
        !tables.is_empty() && tables.iter().all(|t| has(t))
    })
}

/// The conversion `orm` implies for a column it declared as `declared` on SQLite and created
/// as `target` on PostgreSQL; `None` when the type's own conversion already keeps the meaning.
pub fn convention(orm: Option<Orm>, declared: &str, target: &PgType) -> Option<Conversion> {
    let declared = declared.trim().to_ascii_lowercase();
    match (orm?, target) {
        // django/db/backends/sqlite3/base.py: `"DurationField": "bigint"`;
        // django/db/models/fields/__init__.py `DurationField.get_db_prep_value` stores
        // `duration_microseconds(value)` where the backend has no native duration, and
        // django/db/backends/base/operations.py `convert_durationfield_value` reads it back
        // as `timedelta(0, 0, value)`. On PostgreSQL the field is `interval`
        // (django/db/backends/postgresql/base.py).
        (Orm::Django, PgType::Interval) if declared == "bigint" => {
            Some(Conversion::MicrosecondsToInterval)
        }
        // sqlalchemy/sql/sqltypes.py `Interval`: without a native interval type it is a
        // `DateTime` holding `epoch + value`, with `epoch` 1970-01-01 00:00 (naive);
        // SQLite's `DATETIME` (sqlalchemy/dialects/sqlite/base.py) writes it as text.
        (Orm::Sqlalchemy, PgType::Interval) if declared == "datetime" => {
            Some(Conversion::DatetimeSinceEpochToInterval)
        }
        (Orm::Rails, _) => rails_convention(&declared, target),
        (Orm::Peewee, _) => peewee_convention(&declared, target),
        // Diesel needs none: it writes each SQLite value in its type's own encoding (Bool as
        // 1/0, Timestamp, Date and Time as ISO text, `diesel/src/sqlite/types/`), which the
        // general conversions read; tests/orm_diesel.rs keeps it so.
        _ => None,
    }
}

/// ActiveRecord's storage on SQLite that its PostgreSQL schema does not share. What ActiveRecord
/// writes on SQLite otherwise already reads back as the type it creates on PostgreSQL:
/// booleans as 1/0 (`active_record/connection_adapters/sqlite3/quoting.rb` `quoted_true`),
/// datetimes as UTC text without a zone (`abstract/quoting.rb` `quoted_date`, with
/// `default_timezone = :utc`).
fn rails_convention(declared: &str, target: &PgType) -> Option<Conversion> {
    match target {
        // `active_record/connection_adapters/sqlite3/quoting.rb` `quoted_time`: a `time`
        // column holds `2000-01-01 HH:MM:SS.ffffff`; on PostgreSQL it is a `time`
        // (`postgresql_adapter.rb` NATIVE_DATABASE_TYPES).
        PgType::Time if declared == "time" || declared.starts_with("time(") => {
            Some(Conversion::TimeOn2000)
        }
        // `sqlite3/quoting.rb` `_type_cast`: a `BigDecimal` is written as `to_f`, and
        // `activemodel/lib/active_model/type/decimal.rb` `convert_float_to_big_decimal` reads
        // the double back rounded to the scale through at most 16 significant digits (cut to
        // 16 digits without a precision).
        PgType::Numeric(_) if declared.starts_with("decimal") => {
            Some(Conversion::ActiveModelDecimal)
        }
        _ => None,
    }
}

/// Peewee's storage on SQLite that its PostgreSQL schema does not share (peewee.py, Peewee 4).
/// The rest of what Peewee writes on SQLite already reads back as the type it creates on
/// PostgreSQL: `BooleanField` 0/1, `UUIDField` 32 hex digits (`db_value` is `value.hex`),
/// `DateField` and `TimeField` as `str()` of the value (the `sqlite3.register_adapter` calls at
/// the top of peewee.py), `DecimalField` as REAL or INTEGER under NUMERIC affinity, read back by
/// `python_value` as `Decimal(str(value))`, the shortest decimal of the double, which is what
/// the general conversion sends (and a value with more places than the scale is rejected).
fn peewee_convention(declared: &str, target: &PgType) -> Option<Conversion> {
    match target {
        // `FIELD.FLOAT` is 'REAL' and `PostgresqlDatabase.field_types` does not change it, so a
        // `FloatField` is a double on SQLite and a 4-byte `real` on PostgreSQL (`DoubleField`
        // is 'DOUBLE PRECISION' there). `FloatField.adapt` is `float(value)` of what psycopg2
        // gives, which parses PostgreSQL's shortest text of the float4.
        PgType::Real if declared == "real" => Some(Conversion::Float4Text),
        // `DateTimeField` is 'DATETIME' on SQLite and 'TIMESTAMP' (without time zone) on
        // PostgreSQL; an aware datetime goes to SQLite as `isoformat(' ')`, with its offset,
        // and `DateTimeField.adapt` (`format_date_time`, `datetime.fromisoformat`) reads it
        // back aware, which no `timestamp` can give back.
        PgType::Timestamp if declared == "datetime" => Some(Conversion::NaiveOnly),
        _ => None,
    }
}

/// What a column holds, as far as the full-mode conventions ([`full_mode_type`]) need to know:
/// counts from the plan's profile of the column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Values that are not NULL.
    pub non_null: u64,
    /// Integers.
    pub integers: u64,
    /// Integers that are 0 or 1.
    pub zero_one: u64,
    /// The smallest and largest integer.
    pub int_range: Option<(i64, i64)>,
    /// Texts.
    pub texts: u64,
    /// Texts of 32 lowercase hex digits (a UUID without dashes).
    pub hex_uuids: u64,
    /// Texts that are an IPv4 or IPv6 address without a prefix length.
    pub ip_addresses: u64,
    /// Texts that are ISO dates or timestamps PostgreSQL reads exactly.
    pub text_timestamps: u64,
    /// Of those, the dates without a time.
    pub text_dates: u64,
    /// Of those, the timestamps with a `Z` or an offset.
    pub text_with_offset: u64,
    /// Texts that are JSON (documents and scalars).
    pub json_texts: u64,
}

/// The PostgreSQL type an ORM creates for a field, chosen by [`full_mode_type`], and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrmType {
    /// The type.
    pub pg_type: PgType,
    /// Why, naming the ORM's field and where its source says so.
    pub reason: String,
}

/// The type `orm` would create on PostgreSQL for a column it declared `declared` on SQLite, for
/// a full-mode plan; `None` when the declaration is ambiguous for that ORM (Django's `bigint`
/// is a `BigIntegerField` or a `DurationField`), when the type's own rule already makes the
/// ORM's type, or when some value does not fit (then the plan's own rules keep every value).
pub fn full_mode_type(orm: Orm, declared: &str, stored: &Stored) -> Option<OrmType> {
    let declared: String = declared
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let only_texts = stored.texts == stored.non_null;
    let hex_uuids = only_texts && stored.hex_uuids == stored.non_null;
    let naive_timestamps = only_texts
        && stored.text_timestamps == stored.non_null
        && stored.text_dates == 0
        && stored.text_with_offset == 0;
    let json = only_texts && stored.json_texts == stored.non_null;
    let fits = |low: i64, high: i64| {
        stored.integers == stored.non_null
            && stored
                .int_range
                .is_none_or(|(min, max)| min >= low && max <= high)
    };
    let found = |pg_type: PgType, why: &str| {
        Some(OrmType {
            pg_type,
            reason: format!("{orm} convention: {why}"),
        })
    };
    match (orm, declared.as_str()) {
        // django/db/backends/sqlite3/base.py `data_types`: "UUIDField": "char(32)" (no other
        // field is `char(32)`; a CharField is `varchar`), stored by `UUIDField.get_db_prep_value`
        // as `value.hex`; django/db/backends/postgresql/base.py: "UUIDField": "uuid".
        (Orm::Django, "char(32)") if hex_uuids => found(
            PgType::Uuid,
            "a UUIDField (`char(32)` of 32 hex digits on SQLite, `uuid` on PostgreSQL)",
        ),
        // sqlite3/base.py: "GenericIPAddressField": "char(39)", "IPAddressField": "char(15)";
        // postgresql/base.py: both "inet".
        (Orm::Django, "char(39)" | "char(15)")
            if only_texts && stored.ip_addresses == stored.non_null =>
        {
            found(
                PgType::Inet,
                "a GenericIPAddressField (`char(39)` or `char(15)` of IP addresses on SQLite, `inet` on PostgreSQL)",
            )
        }
        // sqlite3/base.py: "BooleanField": "bool" (0/1); postgresql/base.py: "boolean".
        (Orm::Django, "bool") if fits(0, 1) && stored.zero_one == stored.non_null => found(
            PgType::Boolean,
            "a BooleanField (`bool` of 0/1 on SQLite, `boolean` on PostgreSQL)",
        ),
        // sqlite3/base.py: "DateTimeField": "datetime"; with USE_TZ,
        // sqlite3/operations.py `adapt_datetimefield_value` writes
        // `timezone.make_naive(value, self.connection.timezone)`, and the connection's zone is
        // UTC (base/base.py `timezone`); postgresql/base.py: "timestamp with time zone".
        (Orm::Django, "datetime") if naive_timestamps => found(
            PgType::Timestamptz,
            "a DateTimeField (`datetime` text in UTC on SQLite, `timestamp with time zone` on PostgreSQL)",
        ),
        // sqlite3/base.py: "PositiveIntegerField": "integer unsigned" and its siblings;
        // postgresql/base.py: "integer", "smallint", "bigint".
        (Orm::Django, "smallintunsigned") if fits(0, i16::MAX.into()) => found(
            PgType::SmallInt,
            "a PositiveSmallIntegerField (`smallint unsigned` on SQLite, `smallint` on PostgreSQL)",
        ),
        (Orm::Django, "integerunsigned") if fits(0, i32::MAX.into()) => found(
            PgType::Integer,
            "a PositiveIntegerField (`integer unsigned` on SQLite, `integer` on PostgreSQL)",
        ),
        // sqlalchemy/sql/compiler.py `visit_uuid`: a `Uuid` is `CHAR(32)` where the database
        // has no UUID type, bound as `value.hex` (sqlalchemy/sql/sqltypes.py `Uuid`);
        // PostgreSQL's is `UUID`.
        (Orm::Sqlalchemy, "char(32)") if hex_uuids => found(
            PgType::Uuid,
            "a Uuid (`CHAR(32)` of 32 hex digits on SQLite, `UUID` on PostgreSQL)",
        ),
        // sqlalchemy/dialects/sqlite/base.py `DATETIME` writes the wall-clock fields without a
        // zone; sqlalchemy/dialects/postgresql/base.py `visit_datetime` is `TIMESTAMP WITHOUT
        // TIME ZONE` (a naive DateTime means no zone at all). An `Interval` is `DATETIME` on
        // SQLite too and stays a timestamp from 1970-01-01: no value changes.
        (Orm::Sqlalchemy, "datetime") if naive_timestamps => found(
            PgType::Timestamp,
            "a DateTime (`DATETIME` text without a zone on SQLite, `TIMESTAMP WITHOUT TIME ZONE` on PostgreSQL)",
        ),
        // postgresql/base.py `visit_JSON`: "JSON" (not JSONB), which keeps the text as written.
        (Orm::Sqlalchemy, "json") if json => found(
            PgType::Json,
            "a JSON (`JSON` text on SQLite, `JSON` on PostgreSQL)",
        ),
        // activerecord/lib/active_record/connection_adapters/sqlite3_adapter.rb
        // `NATIVE_DATABASE_TYPES`: datetime is "datetime", json is "json";
        // postgresql_adapter.rb: datetime is "timestamp" (without time zone), json is "json".
        (Orm::Rails, "datetime" | "datetime(6)") if naive_timestamps => found(
            PgType::Timestamp,
            "a datetime (`datetime` text on SQLite, `timestamp` on PostgreSQL)",
        ),
        (Orm::Rails, "json") if json => {
            found(PgType::Json, "a json (`json` text on SQLite, `json` on PostgreSQL)")
        }
        _ => None,
    }
}

/// What a full-mode plan should say about a column whose SQLite declaration does not tell
/// the type `orm` creates on PostgreSQL: one declaration for two fields, or one without the
/// field's digits.
pub fn ambiguous_declaration(orm: Orm, declared: &str) -> Option<&'static str> {
    match (orm, declared.trim().to_ascii_lowercase().as_str()) {
        // django/db/backends/sqlite3/base.py: "BigIntegerField": "bigint" and
        // "DurationField": "bigint" (microseconds); PostgreSQL's are `bigint` and `interval`.
        (Orm::Django, "bigint") => Some(
            "Django declares both BigIntegerField and DurationField `bigint` on SQLite; kept as numbers. If it is a DurationField (microseconds), set `conversion = \"microseconds_to_interval\"` in its `[options.overrides.columns.\"TABLE.COLUMN\"]` of the plan file to make it `interval`, as Django creates it",
        ),
        // sqlite3/base.py: "DecimalField": "decimal", without max_digits and decimal_places;
        // postgresql/base.py: "numeric(%(max_digits)s, %(decimal_places)s)".
        (Orm::Django, "decimal") => Some(
            "Django declares every DecimalField `decimal` on SQLite, without its digits; made `numeric`, so each value keeps its meaning but Django reads it without the trailing zeros its `numeric(p, s)` would pad (0.50 reads as 0.5). Set `type = \"numeric(P, S)\"` in its `[options.overrides.columns.\"TABLE.COLUMN\"]` of the plan file to match the model",
        ),
        // sqlalchemy/sql/sqltypes.py `Interval`: a `DateTime` counted from 1970-01-01 where the
        // database has no interval type.
        (Orm::Sqlalchemy, "datetime") => Some(
            "SQLAlchemy declares both DateTime and Interval `DATETIME` on SQLite; kept as date/times. If it is an Interval (counted from 1970-01-01), set `conversion = \"datetime_since_epoch_to_interval\"` in its `[options.overrides.columns.\"TABLE.COLUMN\"]` of the plan file to make it `interval`, as SQLAlchemy creates it",
        ),
        _ => None,
    }
}

/// The conversions a person may choose for numbers or date/times going into `target` when no
/// ORM decides, or `None` when the type's own conversion is not a guess.
pub fn ambiguous_choices(target: &PgType) -> Option<&'static [Conversion]> {
    match target {
        PgType::Interval => Some(&[
            Conversion::MicrosecondsToInterval,
            Conversion::SecondsToInterval,
            Conversion::DatetimeSinceEpochToInterval,
        ]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bookkeeping_tables_name_the_orm() {
        assert_eq!(
            detect(&names(&["app_order", "django_migrations"])),
            Some(Orm::Django)
        );
        assert_eq!(
            detect(&names(&["schema_migrations", "ar_internal_metadata"])),
            Some(Orm::Rails)
        );
        // `schema_migrations` alone is too common a name to mean Rails.
        assert_eq!(detect(&names(&["schema_migrations"])), None);
        assert_eq!(detect(&names(&["ALEMBIC_VERSION"])), Some(Orm::Sqlalchemy));
        assert_eq!(
            detect(&names(&["__diesel_schema_migrations"])),
            Some(Orm::Diesel)
        );
        assert_eq!(detect(&names(&["_prisma_migrations"])), Some(Orm::Prisma));
        assert_eq!(detect(&names(&["users"])), None);
        // Peewee keeps no bookkeeping table: it is never found, only named.
        assert_eq!(detect(&[]), None);
        assert_eq!("peewee".parse(), Ok(OrmChoice::Named(Orm::Peewee)));
    }

    #[test]
    fn the_caller_overrides_detection() {
        let tables = names(&["django_migrations"]);
        assert_eq!(resolve(OrmChoice::None, &tables).orm, None);
        assert_eq!(
            resolve("sqlalchemy".parse().unwrap(), &tables).orm,
            Some(Orm::Sqlalchemy)
        );
        let found = resolve(OrmChoice::Detect, &tables);
        assert_eq!(found.orm, Some(Orm::Django));
        assert!(found.note.contains("`django_migrations`"), "{}", found.note);
        assert_eq!("alembic".parse(), Ok(OrmChoice::Named(Orm::Sqlalchemy)));
        let unknown = "hibernate".parse::<OrmChoice>().unwrap_err();
        assert!(unknown.contains("`hibernate`") && unknown.contains("django"));
    }

    #[test]
    fn conventions_follow_the_orm_and_the_declared_type() {
        assert_eq!(
            convention(Some(Orm::Django), "bigint", &PgType::Interval),
            Some(Conversion::MicrosecondsToInterval)
        );
        assert_eq!(
            convention(Some(Orm::Sqlalchemy), "DATETIME", &PgType::Interval),
            Some(Conversion::DatetimeSinceEpochToInterval)
        );
        assert_eq!(convention(None, "bigint", &PgType::Interval), None);
        assert_eq!(
            convention(Some(Orm::Django), "bigint", &PgType::BigInt),
            None
        );
        assert_eq!(
            convention(Some(Orm::Sqlalchemy), "bigint", &PgType::Interval),
            None
        );
        // ActiveRecord's `time` (and `time(6)`) is a date/time on 2000-01-01 on SQLite.
        assert_eq!(
            convention(Some(Orm::Rails), "time", &PgType::Time),
            Some(Conversion::TimeOn2000)
        );
        assert_eq!(
            convention(Some(Orm::Rails), "TIME(6)", &PgType::Time),
            Some(Conversion::TimeOn2000)
        );
        assert_eq!(
            convention(Some(Orm::Rails), "datetime", &PgType::Time),
            None
        );
        assert_eq!(
            convention(
                Some(Orm::Rails),
                "decimal(20,6)",
                &PgType::Numeric(Some((20, 6)))
            ),
            Some(Conversion::ActiveModelDecimal)
        );
        assert_eq!(
            convention(Some(Orm::Rails), "decimal", &PgType::Numeric(None)),
            Some(Conversion::ActiveModelDecimal)
        );
        assert_eq!(
            convention(Some(Orm::Rails), "float", &PgType::Numeric(None)),
            None
        );
        assert_eq!(convention(Some(Orm::Diesel), "time", &PgType::Time), None);
        // Peewee's FloatField (REAL, `real` on PostgreSQL) and DateTimeField (DATETIME,
        // `timestamp`); its DoubleField is `double precision` and needs nothing.
        assert_eq!(
            convention(Some(Orm::Peewee), "REAL", &PgType::Real),
            Some(Conversion::Float4Text)
        );
        assert_eq!(convention(Some(Orm::Peewee), "REAL", &PgType::Double), None);
        assert_eq!(
            convention(Some(Orm::Peewee), "DATETIME", &PgType::Timestamp),
            Some(Conversion::NaiveOnly)
        );
        assert_eq!(
            convention(Some(Orm::Peewee), "DATETIME", &PgType::Timestamptz),
            None
        );
        assert_eq!(convention(None, "REAL", &PgType::Real), None);
        assert_eq!(convention(None, "time", &PgType::Time), None);
        assert!(ambiguous_choices(&PgType::Interval).is_some());
        assert!(ambiguous_choices(&PgType::Text).is_none());
    }

    fn texts(n: u64) -> Stored {
        Stored {
            non_null: n,
            texts: n,
            ..Stored::default()
        }
    }

    #[test]
    fn full_mode_types_are_the_orms_own_when_every_value_fits() {
        let hex = Stored {
            hex_uuids: 3,
            ..texts(3)
        };
        let uuid = |orm, declared: &str, stored: &Stored| {
            full_mode_type(orm, declared, stored).map(|t| t.pg_type)
        };
        assert_eq!(uuid(Orm::Django, "char(32)", &hex), Some(PgType::Uuid));
        assert_eq!(uuid(Orm::Sqlalchemy, "CHAR (32)", &hex), Some(PgType::Uuid));
        // One value that is not a UUID: the plan's own rules keep it.
        let mixed = Stored {
            hex_uuids: 2,
            ..texts(3)
        };
        assert_eq!(uuid(Orm::Django, "char(32)", &mixed), None);
        // Rails has no such convention; Django's `varchar(32)` is a CharField.
        assert_eq!(uuid(Orm::Rails, "char(32)", &hex), None);
        assert_eq!(uuid(Orm::Django, "varchar(32)", &hex), None);
        let ips = Stored {
            ip_addresses: 2,
            ..texts(2)
        };
        assert_eq!(uuid(Orm::Django, "char(39)", &ips), Some(PgType::Inet));
        assert_eq!(uuid(Orm::Django, "char(39)", &texts(2)), None);
        // Naive text timestamps: UTC for Django, no zone at all for SQLAlchemy and Rails.
        let naive = Stored {
            text_timestamps: 2,
            ..texts(2)
        };
        assert_eq!(
            uuid(Orm::Django, "datetime", &naive),
            Some(PgType::Timestamptz)
        );
        assert_eq!(
            uuid(Orm::Sqlalchemy, "DATETIME", &naive),
            Some(PgType::Timestamp)
        );
        assert_eq!(
            uuid(Orm::Rails, "datetime(6)", &naive),
            Some(PgType::Timestamp)
        );
        let offsets = Stored {
            text_with_offset: 1,
            ..naive
        };
        assert_eq!(uuid(Orm::Sqlalchemy, "DATETIME", &offsets), None);
        let flags = Stored {
            non_null: 3,
            integers: 3,
            zero_one: 3,
            int_range: Some((0, 1)),
            ..Stored::default()
        };
        assert_eq!(uuid(Orm::Django, "bool", &flags), Some(PgType::Boolean));
        let counts = Stored {
            int_range: Some((0, 70_000)),
            zero_one: 0,
            ..flags
        };
        assert_eq!(
            uuid(Orm::Django, "integer unsigned", &counts),
            Some(PgType::Integer)
        );
        assert_eq!(uuid(Orm::Django, "smallint unsigned", &counts), None);
        let json = Stored {
            json_texts: 2,
            ..texts(2)
        };
        assert_eq!(uuid(Orm::Sqlalchemy, "JSON", &json), Some(PgType::Json));
        assert_eq!(uuid(Orm::Diesel, "JSON", &json), None);
        // Ambiguous declarations are named, never guessed.
        assert!(ambiguous_declaration(Orm::Django, "bigint").is_some());
        assert!(ambiguous_declaration(Orm::Django, "integer").is_none());
        let reason = full_mode_type(Orm::Django, "char(32)", &hex)
            .unwrap()
            .reason;
        assert!(
            reason.starts_with("django convention: a UUIDField"),
            "{reason}"
        );
    }
}
