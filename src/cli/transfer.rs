//! What `plan`, `migrate`, `verify` and `demo` share: reading the source argument, planning,
//! building the transfer's work, and the throwaway server of `--rehearse`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use dbshift::transfer::load::run::{data_only_work_with_orm, plan_work, ColumnSetting, Work};
use dbshift::transfer::orm::OrmChoice;
use dbshift::transfer::{Mode, OrphanPolicy, Plan, PlanOptions};

use dbshift::DbConfig;

use super::args::{GlobalArgs, OrphanArg, SelectArgs};

/// The SQLite path of a SOURCE argument (a path, or a `sqlite:` / `sqlite://` URL).
pub fn source_path(source: &str) -> PathBuf {
    let path = source
        .strip_prefix("sqlite://")
        .or_else(|| source.strip_prefix("sqlite:"))
        .unwrap_or(source);
    PathBuf::from(path)
}

/// The config of a TARGET URL given on the command line. When the URL carries no password and
/// the config file (`--config`, `DBSHIFT_CONFIG`, `./dbshift.toml`) names a `password_file`,
/// the password comes from that file, as the command's help promises.
pub fn target_config(global: &GlobalArgs, url: String) -> anyhow::Result<DbConfig> {
    let has_password = url::Url::parse(&url).is_ok_and(|u| u.password().is_some());
    let mut config = DbConfig::from_url(url);
    config.pool.min_idle = 0;
    if !has_password {
        config.password_file = DbConfig::load(global.config.as_deref())?.password_file;
    }
    Ok(config)
}

/// Plan options from the command line, starting from a plan file's when one is given.
pub fn plan_options(
    plan_file: Option<&Path>,
    select: &SelectArgs,
    keep_case: bool,
    orm: Option<OrmChoice>,
    on_orphans: Option<OrphanArg>,
) -> anyhow::Result<PlanOptions> {
    let mut options = match plan_file {
        Some(path) => Plan::read(path)?.options,
        None => PlanOptions::default(),
    };
    if !select.tables.is_empty() {
        options.tables = select.tables.clone();
    }
    if !select.exclude.is_empty() {
        options.exclude = select.exclude.clone();
    }
    if plan_file.is_none() || select.schema != "public" {
        options.target_schema = select.schema.clone();
    }
    options.keep_case |= keep_case;
    if select.source_timezone.is_some() {
        options.source_timezone = select.source_timezone;
    }
    if let Some(orm) = orm {
        options.orm = orm;
    }
    match on_orphans {
        Some(OrphanArg::Fail) => options.on_orphans = OrphanPolicy::Fail,
        Some(OrphanArg::NotValid) if plan_file.is_none() => {
            options.on_orphans = OrphanPolicy::NotValid
        }
        _ => {}
    }
    Ok(options)
}

/// Per-column settings for `--data-only`: a file of `[columns."table.column"]` tables, or a
/// plan file, whose columns' non-default policies and conversions are taken.
pub fn column_settings(path: &Path) -> anyhow::Result<HashMap<String, ColumnSetting>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        columns: HashMap<String, ColumnSetting>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read plan file `{}`", path.display()))?;
    if let Ok(settings) = toml::from_str::<Settings>(&text) {
        return Ok(settings.columns);
    }
    let plan = Plan::read(path).map_err(|e| {
        anyhow::anyhow!(
            "{e} (with --data-only, a plan file is either a saved plan or `[columns.\"table.column\"]` tables with `conversion` and `policy`)"
        )
    })?;
    let mut settings = HashMap::new();
    for table in &plan.tables {
        for column in &table.map.columns {
            if column.conversion.is_some() || column.policy != Default::default() {
                settings.insert(
                    format!("{}.{}", table.map.source, column.source),
                    ColumnSetting {
                        conversion: column.conversion,
                        policy: Some(column.policy),
                    },
                );
            }
        }
    }
    Ok(settings)
}

/// The work of a transfer: from the plan (full, schema-only) or the target's schema (data-only).
pub fn build_work(
    mode: Mode,
    options: &dbshift::transfer::Options,
    plan_file: Option<&Path>,
    select: &SelectArgs,
    keep_case: bool,
    orm: Option<OrmChoice>,
) -> anyhow::Result<(Work, Option<Plan>)> {
    if mode == Mode::DataOnly {
        let settings = match plan_file {
            Some(path) => column_settings(path)?,
            None => HashMap::new(),
        };
        // The data layer's own bookkeeping of schema migrations is never copied.
        let mut exclude = select.exclude.clone();
        exclude.push("__diesel_schema_migrations".into());
        let work = data_only_work_with_orm(
            options,
            (&select.schema, select.source_timezone),
            &select.tables,
            &exclude,
            &settings,
            orm.unwrap_or_default(),
        )?;
        return Ok((work, None));
    }
    let plan = match plan_file {
        // A saved plan is used as written (its DDL may have been edited), after checking it
        // still describes this source.
        Some(path) => {
            let plan = Plan::read(path)?;
            check_plan_fits(&plan, &options.source)?;
            plan
        }
        None => dbshift::transfer::plan(
            &options.source,
            &plan_options(None, select, keep_case, orm, None)?,
        )?,
    };
    let work = plan_work(&plan, &options.source)?;
    Ok((work, Some(plan)))
}

/// A saved plan must name the tables the source has now (read from the catalog: the rows are
/// checked value by value as they are copied).
fn check_plan_fits(plan: &Plan, source: &Path) -> anyhow::Result<()> {
    let current = dbshift::transfer::plan::planned_tables(source, &plan.options)?;
    let planned: Vec<&str> = plan.tables.iter().map(|t| t.map.source.as_str()).collect();
    let now: Vec<&str> = current.iter().map(String::as_str).collect();
    for table in &now {
        if !planned.contains(table) {
            anyhow::bail!("the plan file has no table `{table}`, which the source has; plan again with `dbshift plan`");
        }
    }
    for table in &planned {
        if !now.contains(table) {
            anyhow::bail!("the plan file names table `{table}`, which the source does not have");
        }
    }
    Ok(())
}

/// A throwaway local PostgreSQL for `--rehearse`, with one database for the transfer.
pub struct Rehearsal {
    /// Held only to be dropped: that stops the server and deletes its files.
    _server: dbshift::pg_server::TempServer,
    /// The URL of the rehearsal database (with the throwaway server's password).
    pub url: String,
}

impl Rehearsal {
    /// Starts the server.
    pub fn start() -> anyhow::Result<Self> {
        eprintln!(
            "rehearsal: starting a throwaway PostgreSQL from the installed server binaries ..."
        );
        let server = dbshift::pg_server::TempServer::start()?;
        let url = server.create_database("rehearsal")?;
        Ok(Rehearsal {
            _server: server,
            url,
        })
    }
}
