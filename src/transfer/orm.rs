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
}

impl Orm {
    /// Every ORM, in the order detection tries them.
    pub const ALL: [Orm; 5] = [
        Orm::Django,
        Orm::Rails,
        Orm::Sqlalchemy,
        Orm::Diesel,
        Orm::Prisma,
    ];

    /// The name the caller gives and reports show.
    pub fn name(self) -> &'static str {
        match self {
            Orm::Django => "django",
            Orm::Rails => "rails",
            Orm::Sqlalchemy => "sqlalchemy",
            Orm::Diesel => "diesel",
            Orm::Prisma => "prisma",
        }
    }

    /// The tables that show this ORM made the database (all of them must be present).
    fn bookkeeping(self) -> &'static [&'static str] {
        match self {
            Orm::Django => &["django_migrations"],
            Orm::Rails => &["schema_migrations", "ar_internal_metadata"],
            Orm::Sqlalchemy => &["alembic_version"],
            Orm::Diesel => &["__diesel_schema_migrations"],
            Orm::Prisma => &["_prisma_migrations"],
        }
    }
}

impl fmt::Display for Orm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which ORM's conventions apply: found from the source, named, or none at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrmChoice {
    /// Found from the source's bookkeeping tables ([`detect`]).
    #[default]
    Detect,
    /// No ORM: no convention applies, and an ambiguous conversion must be set per column.
    None,
    /// This ORM, whatever the source's tables say.
    Named(Orm),
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
    Orm::ALL
        .into_iter()
        .find(|orm| orm.bookkeeping().iter().all(|t| has(t)))
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
        assert_eq!(convention(None, "time", &PgType::Time), None);
        assert!(ambiguous_choices(&PgType::Interval).is_some());
        assert!(ambiguous_choices(&PgType::Text).is_none());
    }
}
