//! The work of a data-only transfer: each selected SQLite table onto the table of the same name
//! the application's own migrations made in the target, columns matched by name, values
//! converted to the target's types. The target's side comes from
//! [`target_catalog`](super::target_catalog), the source's from
//! `source_catalog`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::lock_watch::{gave_up_waiting, LockWatch};
use crate::transfer::load::options::Options;
use crate::transfer::load::preflight::connect;
use crate::transfer::load::source_catalog::{SourceCatalog, SourceColumn};
use crate::transfer::load::target_catalog::{read_schema, TargetTable};
use crate::transfer::load::work::{Step, StepKind, Work, WorkTable};
use crate::transfer::model::{
    ColumnMap, Conversion, PgType, SourceKey, SourceZone, TableMap, ValuePolicy,
};
use crate::transfer::orm::{self, Orm, OrmChoice};

/// A per-column setting for `--data-only` (from the plan file's `[columns."table.column"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSetting {
    /// A conversion that cannot be guessed from the types.
    #[serde(default)]
    pub conversion: Option<Conversion>,
    /// What to do with values that do not fit.
    #[serde(default)]
    pub policy: Option<ValuePolicy>,
}

/// What decides each column's conversion: the column settings a caller gave (and which of
/// them a copied column used: a setting no column used names no copied column, which is
/// refused), then the conventions of the ORM that wrote the source.
struct Settings<'s> {
    given: &'s HashMap<String, ColumnSetting>,
    used: HashSet<String>,
    orm: Option<Orm>,
    /// The zone the source's texts without an offset were written in, when given.
    zone: Option<SourceZone>,
    /// The first column whose conversion nothing decides: refused once every setting has been
    /// matched, so that a misspelt setting is named rather than the column it missed.
    undecided: Option<Error>,
}

impl Settings<'_> {
    fn take(&mut self, key: String) -> ColumnSetting {
        let setting = self.given.get(&key).cloned().unwrap_or_default();
        if self.given.contains_key(&key) {
            self.used.insert(key);
        }
        setting
    }

    fn check_all_used(&self) -> Result<()> {
        match self.given.keys().find(|k| !self.used.contains(*k)) {
            Some(key) => Err(Error::Invalid(format!(
                "the plan file sets column `{key}`, which is not a copied column"
            ))),
            None => Ok(()),
        }
    }
}

/// Builds the work of a `--data-only` transfer: each selected SQLite table onto the existing
/// target table of the same name (exact, else case-insensitive), columns matched the same way,
/// values converted to the target's types. Foreign keys of the target are kept: a table is
/// loaded after the tables it references. The ORM that wrote the source is found from its
/// bookkeeping tables ([`data_only_work_with_orm`] lets the caller name it).
pub fn data_only_work(
    options: &Options,
    schema: &str,
    include: &[String],
    exclude: &[String],
    settings: &HashMap<String, ColumnSetting>,
) -> Result<Work> {
    data_only_work_with_orm(
        options,
        (schema, None),
        include,
        exclude,
        settings,
        OrmChoice::Detect,
    )
}

/// [`data_only_work`] under the caller's choice of ORM: its conventions decide how values it
/// stored on SQLite become the types it created on PostgreSQL ([`orm::convention`]). A number
/// going into a type whose unit nothing decides (an `interval`) is refused unless `settings`
/// gives the column a conversion, and so is date/time text without an offset going into a
/// `timestamptz` unless the source's zone (`zone`, beside the target `schema`) or a conversion
/// says where it was written.
pub fn data_only_work_with_orm(
    options: &Options,
    (schema, zone): (&str, Option<SourceZone>),
    include: &[String],
    exclude: &[String],
    settings: &HashMap<String, ColumnSetting>,
    orm: OrmChoice,
) -> Result<Work> {
    let mut source = SourceCatalog::open(&options.source)?;
    let tables = source.tables()?;
    let mut target = connect(&options.target)?;
    options.prepare_session(&mut target)?;
    // Reading whether a table holds rows waits for a lock an `ALTER TABLE` of another session
    // holds: shown, and given up after `lock_wait`, as during the copy.
    let watch = LockWatch::start(options);
    let targets = read_schema(&mut target, schema);
    let waits = watch.finish();
    let targets = targets.map_err(|e| gave_up_waiting(options, e, waits.last()))?;
    let detected = orm::resolve(orm, &tables);
    let mut work = Work {
        notes: vec![detected.note],
        ..Work::default()
    };
    let mut settings = Settings {
        given: settings,
        used: HashSet::new(),
        orm: detected.orm,
        zone,
        undecided: None,
    };
    for table in tables
        .into_iter()
        .filter(|t| crate::transfer::plan::selected(t, include, exclude))
    {
        let Some(target_table) = find_by_name(&targets, &table, |t| &t.name) else {
            work.warnings.push(format!(
                "source table `{table}` has no table in the target and is not copied"
            ));
            continue;
        };
        let work_table = table_work(
            &mut source,
            (&table, schema),
            target_table,
            &mut settings,
            &mut work,
        )?;
        let counter = match &work_table.rowid_column {
            Some(alias) => source.sequence(&table)?.map(|seq| (alias.clone(), seq)),
            None => None,
        };
        work.finish.extend(sequence_steps(
            schema,
            target_table,
            &work_table.map.columns,
            counter.as_ref(),
        )?);
        work.tables.push(work_table);
    }
    settings.check_all_used()?;
    match settings.undecided {
        Some(error) => Err(error),
        None => Ok(work),
    }
}

/// One source table onto its target table in `schema`; findings go to `work.warnings`.
fn table_work(
    source: &mut SourceCatalog<'_>,
    (table, schema): (&str, &str),
    target_table: &TargetTable,
    settings: &mut Settings<'_>,
    work: &mut Work,
) -> Result<WorkTable> {
    let columns = source.columns(table)?;
    let source_columns: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let maps = map_columns(source, table, &columns, target_table, settings, work)?;
    check_required_columns(target_table, &maps)?;
    let key = source_key(source, table, &columns)?;
    let rowid_column = source.rowid_alias(table)?;
    let source_rows = source.rows(table)?;
    if !target_table.triggers.is_empty() {
        work.notes.push(format!(
            "`{}`: its triggers {} do not fire while its rows are copied (the source's rows already hold what they did); they are enabled again with the rows. A trigger marked ENABLE ALWAYS fires",
            target_table.name,
            target_table
                .triggers
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(WorkTable {
        map: TableMap {
            source: table.to_string(),
            target_schema: schema.to_string(),
            target: target_table.name.clone(),
            key,
            columns: maps,
            generated: Vec::new(),
        },
        source_columns,
        rowid_column,
        create: Vec::new(),
        after_load: Vec::new(),
        identity: None,
        parents: target_table.references.clone(),
        quiet_triggers: target_table.triggers.clone(),
        source_rows,
    })
}

/// Each source column onto the target column of its name. A column with no target column is
/// left out (with a warning when it holds values), and so is one that maps to a generated
/// column.
fn map_columns(
    source: &mut SourceCatalog<'_>,
    table: &str,
    columns: &[SourceColumn],
    target_table: &TargetTable,
    settings: &mut Settings<'_>,
    work: &mut Work,
) -> Result<Vec<ColumnMap>> {
    let mut maps = Vec::new();
    for column in columns {
        let Some(target_column) = find_by_name(&target_table.columns, &column.name, |c| &c.name)
        else {
            let n = source.non_null_values(table, &column.name)?;
            if n > 0 {
                work.warnings.push(format!(
                    "column `{table}.{}` has no column in target table `{}`: its {n} non-null values are not copied",
                    column.name, target_table.name
                ));
            }
            continue;
        };
        if target_column.generated {
            work.warnings.push(format!(
                "column `{table}.{}` maps to a generated column and is not copied",
                column.name
            ));
            continue;
        }
        let setting = settings.take(format!("{table}.{}", column.name));
        let conversion = match setting.conversion {
            Some(given) => Some(given),
            None => match orm_conversion(
                source,
                (table, column),
                &target_column.pg_type,
                (settings.orm, settings.zone),
                work,
            ) {
                Ok(conversion) => conversion,
                Err(error @ (Error::AmbiguousConversion { .. } | Error::NaiveTimes { .. })) => {
                    settings.undecided.get_or_insert(error);
                    None
                }
                Err(error) => return Err(error),
            },
        };
        maps.push(ColumnMap {
            source: column.name.clone(),
            target: target_column.name.clone(),
            pg_type: target_column.pg_type.clone(),
            not_null: target_column.not_null,
            policy: setting.policy.unwrap_or_default(),
            conversion,
            json_profiled: false,
        });
    }
    Ok(maps)
}

/// The conversion the ORM's convention gives a column the caller set none for (noted in the
/// work). Numbers or date/times going into a type whose unit no convention decides are
/// refused, naming the column and the choices: guessing seconds for Django's microseconds made
/// every duration a million times too long.
fn orm_conversion(
    source: &mut SourceCatalog<'_>,
    (table, column): (&str, &SourceColumn),
    pg_type: &PgType,
    (orm, zone): (Option<Orm>, Option<SourceZone>),
    work: &mut Work,
) -> Result<Option<Conversion>> {
    if let Some(conversion) = orm::convention(orm, &column.declared, pg_type) {
        work.notes.push(format!(
            "`{table}.{}` ({} on SQLite) into {}: {} convention `{}`",
            column.name,
            column.declared,
            pg_type.sql(),
            orm.map_or("", Orm::name),
            conversion.name()
        ));
        return Ok(Some(conversion));
    }
    if matches!(
        pg_type,
        PgType::Timestamptz | PgType::Timestamp | PgType::Date
    ) && source.holds_numbers(table, &column.name)?
    {
        // A number is a date only by a unit and an epoch nothing here says: seconds or
        // milliseconds since 1970, or a Julian day. Guessing per value by magnitude would read
        // a column of small second counts as Julian days.
        return Err(Error::AmbiguousConversion {
            column: format!("{table}.{}", column.name),
            holds: "numbers".into(),
            pg_type: pg_type.sql(),
            choices: [
                Conversion::UnixSeconds,
                Conversion::UnixMilliseconds,
                Conversion::JulianDay,
            ]
            .iter()
            .map(|c| format!("`{}`", c.name()))
            .collect(),
        });
    }
    if orm.is_none() && *pg_type == PgType::Timestamptz {
        // Text without an offset is a wall-clock time: reading it as UTC would guess a zone.
        if !source.holds_naive_times(table, &column.name)? {
            return Ok(None);
        }
        return match zone {
            Some(zone) => Ok(Some(Conversion::NaiveInZone(zone))),
            None => Err(Error::NaiveTimes {
                column: format!("{table}.{}", column.name),
                pg_type: pg_type.sql(),
            }),
        };
    }
    if orm.is_none()
        && *pg_type == PgType::Timestamp
        && source.holds_offset_times(table, &column.name)?
    {
        // The mirror of the above: moving `12:00+02:00` to a naive `10:00` assumes the
        // application reads the column as UTC, which only its ORM or the caller can say.
        return Err(Error::OffsetTimes {
            column: format!("{table}.{}", column.name),
            pg_type: pg_type.sql(),
        });
    }
    let Some(choices) = orm::ambiguous_choices(pg_type) else {
        return Ok(None);
    };
    // SQLite calls a declared type with `DATE` or `TIME` in it NUMERIC: its values may be text.
    let declared = column.declared.to_ascii_uppercase();
    let holds = if declared.contains("DATE") || declared.contains("TIME") {
        "date/times"
    } else if source.holds_numbers(table, &column.name)? {
        "numbers"
    } else {
        return Ok(None);
    };
    Err(Error::AmbiguousConversion {
        column: format!("{table}.{}", column.name),
        holds: holds.into(),
        pg_type: pg_type.sql(),
        choices: choices.iter().map(|c| format!("`{}`", c.name())).collect(),
    })
}

/// Refuses a target column that must be given a value and that no source column feeds.
fn check_required_columns(target_table: &TargetTable, maps: &[ColumnMap]) -> Result<()> {
    for target_column in &target_table.columns {
        let mapped = maps.iter().any(|m| m.target == target_column.name);
        if !mapped && target_column.not_null && !target_column.has_default {
            return Err(Error::Invalid(format!(
                "target column `{}.{}` is NOT NULL without a default and no source column maps to it",
                target_table.name, target_column.name
            )));
        }
    }
    Ok(())
}

/// How the source table is paged: its primary key for a `WITHOUT ROWID` table, else its rowid.
fn source_key(
    source: &mut SourceCatalog<'_>,
    table: &str,
    columns: &[SourceColumn],
) -> Result<SourceKey> {
    if !source.without_rowid(table)? {
        return Ok(SourceKey::Rowid);
    }
    let mut pk: Vec<&SourceColumn> = columns.iter().filter(|c| c.pk > 0).collect();
    pk.sort_by_key(|c| c.pk);
    Ok(SourceKey::PrimaryKey(
        pk.iter().map(|c| c.name.clone()).collect(),
    ))
}

/// A step per copied column backed by a sequence, moving it past the copied ids and, for the
/// column fed by the source's rowid alias, past its `sqlite_sequence` counter (`counter`: the
/// alias and its value), as full mode does: ids of deleted rows are not handed out again.
fn sequence_steps(
    schema: &str,
    target_table: &TargetTable,
    maps: &[ColumnMap],
    counter: Option<&(String, i64)>,
) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for column in target_table.columns.iter().filter(|c| c.sequence.is_some()) {
        if let Some(map) = maps.iter().find(|m| m.target == column.name) {
            let restart_with = match counter {
                Some((alias, seq)) if *alias == map.source => seq.saturating_add(1).max(1),
                _ => 1,
            };
            let qualified = format!(
                "{}.{}",
                quote_ident(schema).map_err(Error::Invalid)?,
                quote_ident(&target_table.name).map_err(Error::Invalid)?
            );
            steps.push(Step {
                id: format!("sequence:{}.{}", target_table.name, column.name),
                kind: StepKind::Sequence,
                what: format!(
                    "move the sequence of `{}.{}` past the copied ids",
                    target_table.name, column.name
                ),
                sql: vec![crate::transfer::plan::ddl::restart_identity(
                    &qualified,
                    &column.name,
                    restart_with,
                )],
            });
        }
    }
    Ok(steps)
}

/// The item named `name`: exactly, else the only one equal but for ASCII case.
fn find_by_name<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &String) -> Option<&'a T> {
    items.iter().find(|t| key(t) == name).or_else(|| {
        let mut matches = items.iter().filter(|t| key(t).eq_ignore_ascii_case(name));
        let first = matches.next();
        // Two targets that differ only in case: no guess.
        if matches.next().is_some() {
            None
        } else {
            first
        }
    })
}
