//! What is checked before anything is written: the target is reachable, no unfinished
//! transfer is recorded there (unless this run resumes it), the tables are absent or empty as
//! [`IfExists`] requires, and the user may create what the transfer creates.

use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::config::DbConfig;
use crate::dialect::{quote_ident, quote_literal};
use crate::transfer::error::{Error, Result};
use crate::transfer::load::options::{IfExists, Mode, Options};
use crate::transfer::load::state::{self, STATE_SCHEMA};
use crate::transfer::load::target_catalog::read_schema;
use crate::transfer::load::work::{StepKind, Work};

/// Connects to the target once and lets go: a wrong password or an unreachable server is then
/// reported before the source is profiled, which can take minutes on a large file.
pub fn check_reachable(config: &DbConfig) -> Result<()> {
    connect(config).map(drop)
}

/// One connection to the target, with the configured connect timeout.
pub(crate) fn connect(config: &DbConfig) -> Result<PgConnection> {
    let url = crate::backend::postgres::with_connect_options(
        &config.connect_url()?,
        config.pool.connect_timeout_secs,
    );
    Ok(crate::backend::postgres::establish(
        &url,
        &config.url.redacted(),
    )?)
}

/// Sets up a connection that loads rows: lz4 for TOASTed values (large text, JSON, blobs),
/// which compresses several times faster than the default pglz and is read back transparently
/// (servers built without it keep their default), and the transfer's session settings.
pub(crate) fn prepare_loading(options: &Options, conn: &mut PgConnection) -> Result<()> {
    use diesel::connection::SimpleConnection;
    let _ = conn.batch_execute("SET default_toast_compression = 'lz4'");
    options.prepare_session(conn).map(|_| ())
}

/// Checks, without changing anything, that `run` would accept this target: it is reachable,
/// no unfinished transfer is recorded there (unless resuming), and the tables are absent or
/// empty as [`Options::if_exists`] requires.
pub fn preflight(options: &Options, work: &Work) -> Result<()> {
    check_options(options)?;
    let mut conn = connect(&options.target)?;
    options.prepare_session(&mut conn)?;
    let state_exists = recorded_transfer(options, &mut conn)?;
    if !(state_exists && options.resume) {
        check_target(options, &mut conn, work)?;
    }
    Ok(())
}

/// [`IfExists::Truncate`] keeps the target's tables with their keys, indexes and constraints,
/// which only a data-only transfer can use; a full transfer replaces them with `Drop`.
pub(crate) fn check_options(options: &Options) -> Result<()> {
    if options.if_exists == IfExists::Truncate && options.mode != Mode::DataOnly {
        return Err(Error::TruncateNeedsDataOnly);
    }
    Ok(())
}

/// Whether the target records a transfer that did not finish; refused unless this run resumes
/// it or starts over ([`IfExists::Drop`]).
pub(crate) fn recorded_transfer(options: &Options, conn: &mut PgConnection) -> Result<bool> {
    let exists = state::is_recorded(options, conn)?;
    if exists && !options.resume && options.if_exists != IfExists::Drop {
        return Err(Error::Unfinished {
            url: options.target.url.redacted(),
        });
    }
    Ok(exists)
}

/// Refuses a target that holds the tables of `work` (with rows, for a data-only transfer)
/// unless [`Options::if_exists`] says what to do with them, and a user without the rights the
/// transfer needs.
pub(crate) fn check_target(options: &Options, conn: &mut PgConnection, work: &Work) -> Result<()> {
    let schema = work
        .tables
        .first()
        .map_or("public".to_string(), |t| t.map.target_schema.clone());
    check_rights(options, conn, &schema)?;
    if options.if_exists == IfExists::Drop && options.mode != Mode::DataOnly {
        check_dependents(options, conn, work)?;
    }
    let existing = read_schema(conn, &schema)?;
    let in_work = |name: &str| work.tables.iter().any(|w| w.map.target == name);
    let blocking: Vec<String> = existing
        .iter()
        .filter(|t| in_work(&t.name) && (options.mode != Mode::DataOnly || t.has_rows))
        .map(|t| t.name.clone())
        .collect();
    if blocking.is_empty() || options.if_exists != IfExists::Fail {
        return Ok(());
    }
    let mut tables = blocking
        .iter()
        .take(5)
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if blocking.len() > 5 {
        tables.push_str(&format!(" and {} more", blocking.len() - 5));
    }
    Err(Error::TargetNotEmpty {
        url: options.target.url.redacted(),
        tables,
    })
}

#[derive(QueryableByName)]
struct Dependent {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// What `DROP TABLE .. CASCADE` of the work's tables would take with it that the transfer does
/// not make again: views (and views on those views) and functions over the tables, and foreign
/// keys of other tables. The user's own objects would otherwise vanish without a word, so the
/// transfer refuses before writing anything. Views the plan creates again (a re-run) are
/// dropped and recreated as before; a user's view on one of those is still named.
const DEPENDENTS_SQL: &str = "
WITH RECURSIVE tables AS (
    SELECT t.oid FROM unnest($TABLES::text[]) AS n(name), LATERAL (SELECT to_regclass(n.name) AS oid) t
    WHERE t.oid IS NOT NULL
), dropped(oid) AS (
    SELECT oid FROM tables
    UNION
    SELECT r.ev_class FROM dropped d
    JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = d.oid
         AND dep.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = dep.objid
    WHERE r.ev_class <> d.oid
)
SELECT kind, name FROM (
    SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END AS kind,
           d.oid::regclass::text AS name, c.relname::text AS relname
    FROM dropped d JOIN pg_class c ON c.oid = d.oid
    WHERE d.oid NOT IN (SELECT oid FROM tables)
    UNION ALL
    SELECT 'foreign key', format('%I of %s', k.conname, k.conrelid::regclass), ''
    FROM pg_constraint k
    WHERE k.contype = 'f' AND k.confrelid IN (SELECT oid FROM dropped)
      AND k.conrelid NOT IN (SELECT oid FROM dropped)
    UNION ALL
    SELECT DISTINCT 'function', dep.objid::regprocedure::text, ''
    FROM pg_depend dep
    WHERE dep.classid = 'pg_proc'::regclass AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjid IN (SELECT oid FROM dropped) AND dep.deptype = 'n'
) found
WHERE NOT (relname = ANY($RECREATED::text[]))
ORDER BY kind, name";

/// Refuses to drop the work's tables when other objects depend on them (see
/// [`DEPENDENTS_SQL`]), naming those objects.
fn check_dependents(options: &Options, conn: &mut PgConnection, work: &Work) -> Result<()> {
    let array = |items: Vec<String>| {
        format!(
            "ARRAY[{}]::text[]",
            items
                .iter()
                .map(|i| quote_literal(i))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let tables = array(
        work.tables
            .iter()
            .map(|t| t.map.qualified_target())
            .collect(),
    );
    // The views the transfer creates again, by the source name their step carries.
    let recreated = array(
        work.finish
            .iter()
            .filter(|s| s.kind == StepKind::View)
            .filter_map(|s| s.id.strip_prefix("view:"))
            .flat_map(|name| [name.to_string(), name.to_lowercase()])
            .collect(),
    );
    let sql = DEPENDENTS_SQL
        .replace("$TABLES", &tables)
        .replace("$RECREATED", &recreated);
    let found: Vec<Dependent> = diesel::sql_query(sql)
        .load(conn)
        .map_err(|e| options.target_error("reading what depends on the existing tables", e))?;
    if found.is_empty() {
        return Ok(());
    }
    let mut objects = found
        .iter()
        .take(8)
        .map(|d| format!("{} `{}`", d.kind, d.name))
        .collect::<Vec<_>>()
        .join(", ");
    if found.len() > 8 {
        objects.push_str(&format!(" and {} more", found.len() - 8));
    }
    Err(Error::DropWouldRemove {
        url: options.target.url.redacted(),
        objects,
    })
}

#[derive(QueryableByName)]
struct Rights {
    #[diesel(sql_type = Text)]
    user: String,
    #[diesel(sql_type = Text)]
    database: String,
    #[diesel(sql_type = Bool)]
    on_database: bool,
    #[diesel(sql_type = Nullable<Bool>)]
    on_schema: Option<bool>,
}

/// Refuses, before anything is written, a user who may not create what the transfer creates:
/// the `_dbshift` schema (always) and, unless the tables exist already (data-only), tables in
/// the target schema. The server's own "permission denied" would come midway and not say which
/// grant is missing.
fn check_rights(options: &Options, conn: &mut PgConnection, schema: &str) -> Result<()> {
    let rights: Vec<Rights> = diesel::sql_query(format!(
        "SELECT current_user::text AS user, current_database()::text AS database,
                has_database_privilege(current_database(), 'CREATE') AS on_database,
                (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = {})
                  AS on_schema",
        quote_literal(schema)
    ))
    .load(conn)
    .map_err(|e| options.target_error("reading the user's rights", e))?;
    let Some(rights) = rights.into_iter().next() else {
        return Ok(());
    };
    let refuse = |missing: String, grant: String| {
        Err(Error::Target {
            url: options.target.url.redacted(),
            message: format!(
                "user `{}` {missing}; {grant} (as its owner or a superuser), or connect as a user who may",
                rights.user
            ),
            source: None,
        })
    };
    let user = quote_ident(&rights.user).map_err(Error::Invalid)?;
    if !rights.on_database {
        return refuse(
            format!(
                "may not create schemas in database `{}` (the transfer keeps its progress in schema `{STATE_SCHEMA}`)",
                rights.database
            ),
            format!(
                "GRANT CREATE ON DATABASE {} TO {user}",
                quote_ident(&rights.database).map_err(Error::Invalid)?
            ),
        );
    }
    if options.mode != Mode::DataOnly && rights.on_schema == Some(false) {
        return refuse(
            format!("may not create tables in schema `{schema}`"),
            format!(
                "GRANT CREATE ON SCHEMA {} TO {user}",
                quote_ident(schema).map_err(Error::Invalid)?
            ),
        );
    }
    Ok(())
}
