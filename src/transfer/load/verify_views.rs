//! Verifying views: each view the transfer created is read on both databases, SQLite running
//! its own query and PostgreSQL the translated one, and the two results are compared as row
//! multisets (views have no key), with the same canonical values as a table's check. A
//! translation that returns other rows fails the verdict, named by the view. Each trigger the
//! transfer created is looked for in the target: one missing (refused, or dropped since) is
//! listed as not carried.

use std::time::Instant;

use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use crate::transfer::error::Result;
use crate::transfer::load::options::Options;
use crate::transfer::load::preflight::connect;
use crate::transfer::load::report::NotCarried;
use crate::transfer::load::source_catalog::SourceCatalog;
use crate::transfer::load::verify::{verify_table, TableCheck};
use crate::transfer::load::work::{ViewToCheck, Work};
use crate::transfer::model::{parse_pg_type, ColumnMap, SourceKey, TableMap, ValuePolicy};

#[derive(QueryableByName)]
struct ViewColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    pg_type: String,
}

/// Compares every view of `work` that exists in the target. A view the server refused is not
/// here: the transfer lists it as not carried.
pub fn verify_views(options: &Options, work: &Work) -> Result<Vec<TableCheck>> {
    if work.views.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = connect(&options.target)?;
    let mut source = SourceCatalog::open(&options.source)?;
    let mut checks = Vec::new();
    for view in &work.views {
        let started = Instant::now();
        let Some(map) = view_map(&mut conn, &mut source, view, work)? else {
            continue;
        };
        let source_columns: Vec<String> = map.columns.iter().map(|c| c.source.clone()).collect();
        let mut check = verify_table(
            &mut conn,
            &options.source,
            &map,
            &source_columns,
            None,
            None,
        )?;
        check.table = format!("view {}", view.source);
        check.seconds = started.elapsed().as_secs_f64();
        checks.push(check);
    }
    Ok(checks)
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The triggers of `work` the target does not hold (by name, in their schema), each as not
/// carried.
pub fn missing_triggers(options: &Options, work: &Work) -> Result<Vec<NotCarried>> {
    if work.triggers.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = connect(&options.target)?;
    let mut missing = Vec::new();
    for trigger in &work.triggers {
        let found: Vec<Found> = diesel::sql_query(
            "SELECT t.tgname::text AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND t.tgname = $2 AND NOT t.tgisinternal AND t.tgenabled <> 'D'",
        )
        .bind::<Text, _>(&trigger.target_schema)
        .bind::<Text, _>(&trigger.target)
        .load(&mut conn)
        .map_err(|e| {
            crate::transfer::pg::server_error(
                format!("looking for trigger `{}`", trigger.target),
                e,
            )
        })?;
        if !found.iter().any(|f| f.name == trigger.target) {
            let object = format!("trigger `{}`", trigger.source);
            missing.push(NotCarried {
                accepted: work.accept.contains(&object),
                reason: format!(
                    "the target has no enabled trigger `{}` in schema `{}`",
                    trigger.target, trigger.target_schema
                ),
                object,
            });
        }
    }
    Ok(missing)
}

/// The view as a keyless table map: its SQLite columns by position against the PostgreSQL
/// view's columns and types. A column named like a copied column of the same type takes that
/// column's conversion (an epoch integer read as a timestamp), so both sides mean the same.
fn view_map(
    conn: &mut PgConnection,
    source: &mut SourceCatalog,
    view: &ViewToCheck,
    work: &Work,
) -> Result<Option<TableMap>> {
    let target_columns: Vec<ViewColumn> = diesel::sql_query(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS pg_type \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'v' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind::<Text, _>(&view.target_schema)
    .bind::<Text, _>(&view.target)
    .load(conn)
    .map_err(|e| crate::transfer::pg::server_error(format!("reading view `{}`", view.target), e))?;
    if target_columns.is_empty() {
        return Ok(None);
    }
    let source_columns = source.all_column_names(&view.source)?;
    if source_columns.len() != target_columns.len() {
        return Ok(None);
    }
    let copied = || work.tables.iter().flat_map(|t| &t.map.columns);
    let columns = source_columns
        .into_iter()
        .zip(&target_columns)
        .map(|(name, target)| {
            let pg_type = parse_pg_type(&target.pg_type).unwrap_or(
                crate::transfer::model::PgType::Other(target.pg_type.clone()),
            );
            let like = copied().find(|c| c.target == target.name && c.pg_type == pg_type);
            ColumnMap {
                source: name,
                target: target.name.clone(),
                pg_type: pg_type.clone(),
                not_null: false,
                policy: like.map_or(ValuePolicy::default(), |c| c.policy),
                conversion: like.and_then(|c| c.conversion),
                json_profiled: false,
            }
        })
        .collect();
    Ok(Some(TableMap {
        source: view.source.clone(),
        target_schema: view.target_schema.clone(),
        target: view.target.clone(),
        key: SourceKey::PrimaryKey(Vec::new()),
        columns,
        generated: Vec::new(),
    }))
}
