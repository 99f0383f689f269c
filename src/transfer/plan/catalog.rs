//! Reads a SQLite file's catalog into a plain schema model ([`Schema`]), never changing the
//! file (the file is opened by [`Source::open`]).
//!
//! What the catalog pragmas give (columns, keys, indexes, foreign keys) comes from the pragmas;
//! what only the `CREATE` text holds (CHECK constraints, collations, generated expressions,
//! `AUTOINCREMENT`, deferrable foreign keys, index expressions and `WHERE` clauses) is parsed
//! from it (`create_sql`). SQLite's own tables (`sqlite_sequence`, `sqlite_stat*`) and the
//! shadow tables of virtual tables are listed as skipped.

mod create_sql;
mod schema;
mod source;

use crate::transfer::error::Result;
use crate::value::{Row, Value};

use create_sql::{is_virtual, parse_view, parse_virtual, ParsedTable};
pub(crate) use create_sql::{parse_create_index, parse_create_table};
pub use schema::{
    Check, Column, ForeignKey, Generated, Index, IndexOrigin, IndexPart, Schema, Skipped, Table,
    Trigger, View, VirtualTable,
};
pub(crate) use source::{caused_source_error, source_error};
pub use source::{check_header, Source, BUSY_TIMEOUT_MS, SQLITE_HEADER};

/// Reads the whole catalog of `source`.
pub fn introspect(source: &mut Source) -> Result<Schema> {
    let mut schema = Schema {
        sqlite_version: source.query("SELECT sqlite_version() AS v", &[])?[0]
            .get::<String, _>("v")
            .unwrap_or_default(),
        ..Schema::default()
    };
    let entries = master_entries(source)?;
    let shadows = Shadows::of(source, &entries);
    let sequences = sequences(source, &entries)?;
    for entry in &entries {
        match entry.kind.as_str() {
            "table" => {
                if let Some(reason) = shadows.skip_reason(&entry.name) {
                    schema.skipped.push(Skipped {
                        name: entry.name.clone(),
                        reason,
                    });
                    continue;
                }
                let mut table = read_table(source, &entry.name, &entry.sql)?;
                table.sequence = sequences
                    .iter()
                    .find(|(n, _)| *n == entry.name)
                    .map(|(_, s)| *s);
                schema.tables.push(table);
            }
            "view" => schema.views.push(parse_view(&entry.name, &entry.sql)),
            "trigger" => schema.triggers.push(Trigger {
                name: entry.name.clone(),
                table: entry.table_name.clone(),
                sql: entry.sql.clone(),
            }),
            _ => {}
        }
    }
    Ok(schema)
}

/// One row of `sqlite_master`.
struct MasterEntry {
    kind: String,
    name: String,
    table_name: String,
    sql: String,
}

/// A text column of a catalog row, empty when `NULL`.
fn text(row: &Row, column: &str) -> String {
    row.get::<Option<String>, _>(column)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn master_entries(source: &mut Source) -> Result<Vec<MasterEntry>> {
    let master = source.query(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid",
        &[],
    )?;
    Ok(master
        .iter()
        .map(|r| MasterEntry {
            kind: text(r, "type"),
            name: text(r, "name"),
            table_name: text(r, "tbl_name"),
            sql: text(r, "sql"),
        })
        .collect())
}

/// The tables that are left out: SQLite's own, and the shadow tables virtual tables keep
/// their data in.
struct Shadows {
    /// Lowercase shadow table name, and the virtual table that owns it.
    owners: Vec<(String, String)>,
    /// `PRAGMA table_list` (SQLite 3.37+), which knows shadow tables; older libraries fall
    /// back to the names in `owners`.
    table_list: Option<Vec<Row>>,
}

impl Shadows {
    fn of(source: &mut Source, entries: &[MasterEntry]) -> Shadows {
        let mut owners = Vec::new();
        let virtual_tables = entries
            .iter()
            .filter(|e| e.kind == "table" && is_virtual(&e.sql))
            .filter_map(|e| Some((e.name.clone(), parse_virtual(&e.sql)?)));
        for (name, vt) in virtual_tables {
            let suffixes: &[&str] = match vt.module.as_str() {
                "fts5" => &["_data", "_idx", "_content", "_docsize", "_config"],
                "fts3" | "fts4" => &["_content", "_segments", "_segdir", "_docsize", "_stat"],
                "rtree" | "rtree_i32" | "geopoly" => &["_node", "_rowid", "_parent"],
                _ => &[],
            };
            for suffix in suffixes {
                owners.push((format!("{name}{suffix}").to_lowercase(), name.clone()));
            }
        }
        let table_list = source
            .query(
                "SELECT name, type FROM pragma_table_list WHERE schema = 'main'",
                &[],
            )
            .ok();
        Shadows { owners, table_list }
    }

    /// Why the table `name` is left out, or `None` when it is migrated.
    fn skip_reason(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        if lower.starts_with("sqlite_") {
            let reason = if lower == "sqlite_sequence" {
                "SQLite's AUTOINCREMENT counters; each becomes its identity column's restart value"
            } else if lower.starts_with("sqlite_stat") {
                "SQLite's planner statistics (ANALYZE); PostgreSQL keeps its own"
            } else {
                "an internal SQLite table"
            };
            return Some(reason.into());
        }
        if let Some((_, owner)) = self.owners.iter().find(|(shadow, _)| *shadow == lower) {
            return Some(format!(
                "shadow table of virtual table `{owner}`; its data moves with `{owner}`"
            ));
        }
        let listed_shadow = self.table_list.as_ref().is_some_and(|rows| {
            rows.iter()
                .any(|r| text(r, "name") == name && text(r, "type") == "shadow")
        });
        listed_shadow.then(|| "shadow table of a virtual table".into())
    }
}

/// The `AUTOINCREMENT` counters of `sqlite_sequence`, by table name.
fn sequences(source: &mut Source, entries: &[MasterEntry]) -> Result<Vec<(String, i64)>> {
    if !entries
        .iter()
        .any(|e| e.kind == "table" && e.name == "sqlite_sequence")
    {
        return Ok(Vec::new());
    }
    Ok(source
        // SQLite reads the counter as an integer whatever it holds (a REAL 100.0 written by
        // hand counts as 100), and so do we.
        .query(
            "SELECT name, CAST(seq AS INTEGER) AS seq FROM sqlite_sequence",
            &[],
        )?
        .iter()
        .filter_map(|r| {
            Some((
                r.get::<Option<String>, _>("name").ok()??,
                r.get::<Option<i64>, _>("seq").ok()??,
            ))
        })
        .collect())
}

fn read_table(source: &mut Source, name: &str, sql: &str) -> Result<Table> {
    let mut table = Table {
        name: name.to_string(),
        sql: sql.to_string(),
        ..Table::default()
    };
    let xinfo = source.query(
        "SELECT cid, name, type, \"notnull\" AS nn, dflt_value, pk, hidden FROM pragma_table_xinfo($1) ORDER BY cid",
        &[Value::from(name)],
    )?;
    if is_virtual(sql) {
        table.virtual_table = parse_virtual(sql);
    }
    let parsed = if table.virtual_table.is_none() {
        parse_create_table(sql)
    } else {
        Ok(ParsedTable::default())
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(problem) => {
            table.parse_problem = Some(problem);
            ParsedTable::default()
        }
    };
    table.without_rowid = parsed.without_rowid;
    table.strict = parsed.strict;
    table.autoincrement = parsed.autoincrement;
    table.checks = parsed.checks.clone();
    read_columns(&mut table, &xinfo, &parsed);
    if table.virtual_table.is_some() {
        return Ok(table);
    }
    table.indexes = read_indexes(source, name)?;
    // SQLite indexes a rowid table's primary key only when the key is not the rowid: a column
    // declared `INTEGER PRIMARY KEY DESC` (a quirk SQLite keeps for compatibility) is an
    // ordinary column, which may hold NULL, text, or values other than the rowid.
    if table
        .indexes
        .iter()
        .any(|i| i.origin == IndexOrigin::PrimaryKey)
    {
        table.rowid_alias = None;
    }
    table.foreign_keys = read_foreign_keys(source, name, &parsed)?;
    Ok(table)
}

/// The columns from `pragma_table_xinfo` rows, with what the CREATE text adds (collation,
/// generated expression), then the primary key and the rowid alias.
fn read_columns(table: &mut Table, xinfo: &[Row], parsed: &ParsedTable) {
    let mut pk: Vec<(u32, String)> = Vec::new();
    for row in xinfo {
        let column_name = text(row, "name");
        let hidden = row.get::<i64, _>("hidden").unwrap_or(0);
        let parsed_column = parsed
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&column_name));
        let pk_position = u32::try_from(row.get::<i64, _>("pk").unwrap_or(0)).unwrap_or(0);
        if pk_position > 0 {
            pk.push((pk_position, column_name.clone()));
        }
        // Hidden 2 and 3 are virtual and stored generated columns.
        let generated = matches!(hidden, 2 | 3).then(|| Generated {
            sql: parsed_column
                .and_then(|c| c.generated.clone())
                .unwrap_or_default(),
            stored: hidden == 3,
        });
        table.columns.push(Column {
            name: column_name,
            declared: text(row, "type"),
            not_null: row.get::<i64, _>("nn").unwrap_or(0) != 0,
            default: row.get::<Option<String>, _>("dflt_value").ok().flatten(),
            collation: parsed_column
                .and_then(|c| c.collation.clone())
                .filter(|c| !c.eq_ignore_ascii_case("BINARY")),
            generated,
            hidden: hidden == 1,
            pk_position,
        });
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
    if !table.without_rowid && table.virtual_table.is_none() && table.primary_key.len() == 1 {
        let column = table
            .columns
            .iter()
            .find(|c| c.name == table.primary_key[0]);
        if column.is_some_and(|c| c.declared.eq_ignore_ascii_case("INTEGER")) {
            table.rowid_alias = Some(table.primary_key[0].clone());
        }
    }
}

/// The table's indexes, in creation order: constraint indexes from the pragmas, created ones
/// from their SQL as well.
fn read_indexes(source: &mut Source, table: &str) -> Result<Vec<Index>> {
    let index_list = source.query(
        "SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list($1)",
        &[Value::from(table)],
    )?;
    let mut indexes = Vec::new();
    for row in &index_list {
        let origin = match row
            .get::<Option<String>, _>("origin")
            .ok()
            .flatten()
            .as_deref()
        {
            Some("u") => IndexOrigin::Unique,
            Some("pk") => IndexOrigin::PrimaryKey,
            _ => IndexOrigin::Created,
        };
        let unique = row.get::<i64, _>("u").unwrap_or(0) != 0;
        indexes.push(read_index(source, text(row, "name"), unique, origin)?);
    }
    // pragma index_list lists the newest index first; keep creation order.
    indexes.reverse();
    Ok(indexes)
}

fn read_index(
    source: &mut Source,
    name: String,
    unique: bool,
    origin: IndexOrigin,
) -> Result<Index> {
    let index_sql = source
        .query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
            &[Value::from(name.as_str())],
        )?
        .first()
        .and_then(|r| r.get::<Option<String>, _>("sql").ok().flatten());
    let xinfo = source.query(
        "SELECT seqno, cid, name, \"desc\" AS d, coll, \"key\" AS k FROM pragma_index_xinfo($1) ORDER BY seqno",
        &[Value::from(name.as_str())],
    )?;
    let mut parts: Vec<IndexPart> = xinfo
        .iter()
        .filter(|r| r.get::<i64, _>("k").unwrap_or(0) == 1)
        .map(|r| IndexPart {
            column: r.get::<Option<String>, _>("name").ok().flatten(),
            expression: None,
            descending: r.get::<i64, _>("d").unwrap_or(0) != 0,
            collation: r
                .get::<Option<String>, _>("coll")
                .ok()
                .flatten()
                .filter(|c| !c.eq_ignore_ascii_case("BINARY")),
        })
        .collect();
    let mut where_sql = None;
    if let Some(parsed_index) = index_sql.as_deref().and_then(parse_create_index) {
        // The pragma knows collations inherited from columns; the SQL knows expressions.
        if parsed_index.parts.len() == parts.len() {
            for (part, parsed_part) in parts.iter_mut().zip(parsed_index.parts) {
                if part.column.is_none() {
                    part.expression = parsed_part.expression;
                }
            }
        }
        where_sql = parsed_index.where_sql;
    }
    Ok(Index {
        name,
        unique,
        origin,
        parts,
        where_sql,
        sql: index_sql,
    })
}

/// The table's foreign keys in declaration order, with the names and `DEFERRABLE` clauses only
/// the CREATE text holds.
fn read_foreign_keys(
    source: &mut Source,
    table: &str,
    parsed: &ParsedTable,
) -> Result<Vec<ForeignKey>> {
    // One pragma row per column, grouped by id.
    let fk_rows = source.query(
        "SELECT id, seq, \"table\" AS parent, \"from\" AS child, \"to\" AS target, on_update, on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        &[Value::from(table)],
    )?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    let mut missing_targets = Vec::new();
    for row in &fk_rows {
        let id = row.get::<i64, _>("id").unwrap_or(0);
        let get = |c: &str| row.get::<Option<String>, _>(c).ok().flatten();
        let child = get("child").unwrap_or_default();
        let target = get("target");
        if target.is_none() {
            missing_targets.push(id);
        }
        match foreign_keys.iter_mut().find(|(i, _)| *i == id) {
            Some((_, fk)) => {
                fk.columns.push(child);
                fk.parent_columns.extend(target);
            }
            None => foreign_keys.push((
                id,
                ForeignKey {
                    name: None,
                    columns: vec![child],
                    parent: get("parent").unwrap_or_default(),
                    parent_columns: target.into_iter().collect(),
                    on_update: get("on_update").unwrap_or_else(|| "NO ACTION".into()),
                    on_delete: get("on_delete").unwrap_or_else(|| "NO ACTION".into()),
                    deferrable: None,
                },
            )),
        }
    }
    // pragma foreign_key_list numbers the last declared key 0; keep declaration order.
    foreign_keys.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    for (id, fk) in &mut foreign_keys {
        if missing_targets.contains(id) {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.parent_columns = primary_key_of(source, &fk.parent)?;
        }
        if let Some(parsed_fk) = parsed.foreign_keys.iter().find(|p| {
            p.parent.eq_ignore_ascii_case(&fk.parent)
                && p.columns.len() == fk.columns.len()
                && p.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        }) {
            fk.name = parsed_fk.name.clone();
            fk.deferrable = parsed_fk.deferrable.clone();
        }
    }
    Ok(foreign_keys.into_iter().map(|(_, fk)| fk).collect())
}

fn primary_key_of(source: &mut Source, table: &str) -> Result<Vec<String>> {
    let rows = source.query(
        "SELECT name, pk FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        &[Value::from(table)],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get::<Option<String>, _>("name").ok().flatten())
        .collect())
}
