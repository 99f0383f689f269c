//! Reading an existing PostgreSQL schema (for `--data-only`): tables, columns with their exact
//! types (enum labels included), NOT NULL and defaults, sequences, and foreign keys, so each
//! SQLite table can be mapped onto the table the application's own migrations made.

use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::transfer::error::{Error, Result};
use crate::transfer::model::PgType;
use crate::transfer::pg::server_error;

/// A column of an existing target table.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetColumn {
    /// The name, as the target has it.
    pub name: String,
    /// The type.
    pub pg_type: PgType,
    /// Whether it refuses NULL.
    pub not_null: bool,
    /// Whether it has a default (or is an identity or generated column).
    pub has_default: bool,
    /// Whether it is a generated column (never written).
    pub generated: bool,
    /// The sequence behind it (serial or identity), if any, as `schema.name` text.
    pub sequence: Option<String>,
}

/// An existing target table.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTable {
    /// The schema.
    pub schema: String,
    /// The name.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<TargetColumn>,
    /// Tables this one references through foreign keys (same schema), by name.
    pub references: Vec<String>,
    /// Whether it holds any row.
    pub has_rows: bool,
    /// Its own triggers that fire on an ordinary write (enabled, not `ENABLE ALWAYS`, not the
    /// internal ones behind foreign keys), by name.
    pub triggers: Vec<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    type_text: String,
    #[diesel(sql_type = Text)]
    type_kind: String,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    labels: Option<Vec<String>>,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Bool)]
    has_default: bool,
    #[diesel(sql_type = Bool)]
    generated: bool,
    #[diesel(sql_type = Nullable<Text>)]
    sequence: Option<String>,
}

#[derive(QueryableByName)]
struct ReferenceRow {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct TriggerRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    trigger: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Reads every table of `schema`.
pub fn read_schema(conn: &mut PgConnection, schema: &str) -> Result<Vec<TargetTable>> {
    let fail = |e: diesel::result::Error| server_error("reading the target's catalog", e);
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT c.relname AS table_name, a.attname AS column_name,
                format_type(a.atttypid, a.atttypmod) AS type_text,
                t.typtype::text AS type_kind,
                CASE WHEN t.typtype = 'e' THEN
                    (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
                END AS labels,
                a.attnotnull AS not_null,
                (a.atthasdef OR a.attidentity <> '') AS has_default,
                (a.attgenerated <> '') AS generated,
                pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS sequence
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
         ORDER BY c.relname, a.attnum",
    )
    .bind::<Text, _>(schema)
    .load(conn)
    .map_err(fail)?;
    let references: Vec<ReferenceRow> = diesel::sql_query(
        "SELECT c.relname AS child, p.relname AS parent
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_class p ON p.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE k.contype = 'f' AND n.nspname = $1",
    )
    .bind::<Text, _>(schema)
    .load(conn)
    .map_err(fail)?;
    let triggers: Vec<TriggerRow> = diesel::sql_query(
        "SELECT c.relname AS table_name, t.tgname AS trigger
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT t.tgisinternal AND t.tgenabled = 'O' AND n.nspname = $1
         ORDER BY c.relname, t.tgname",
    )
    .bind::<Text, _>(schema)
    .load(conn)
    .map_err(fail)?;
    let mut tables: Vec<TargetTable> = Vec::new();
    for row in columns {
        if tables.last().is_none_or(|t| t.name != row.table_name) {
            tables.push(TargetTable {
                schema: schema.to_string(),
                name: row.table_name.clone(),
                columns: Vec::new(),
                references: Vec::new(),
                has_rows: false,
                triggers: Vec::new(),
            });
        }
        let table = tables.last_mut().expect("pushed above");
        table.columns.push(TargetColumn {
            name: row.column_name,
            pg_type: pg_type_of(&row.type_text, &row.type_kind, row.labels),
            not_null: row.not_null,
            has_default: row.has_default,
            generated: row.generated,
            sequence: row.sequence,
        });
    }
    for reference in references {
        if let Some(table) = tables.iter_mut().find(|t| t.name == reference.child) {
            if reference.parent != reference.child && !table.references.contains(&reference.parent)
            {
                table.references.push(reference.parent);
            }
        }
    }
    for row in triggers {
        if let Some(table) = tables.iter_mut().find(|t| t.name == row.table_name) {
            table.triggers.push(row.trigger);
        }
    }
    for table in &mut tables {
        let sql = format!(
            "SELECT count(*) AS n FROM (SELECT 1 FROM {}.{} LIMIT 1) x",
            crate::dialect::quote_ident(&table.schema).map_err(Error::Invalid)?,
            crate::dialect::quote_ident(&table.name).map_err(Error::Invalid)?
        );
        let rows: Vec<Exists> = diesel::sql_query(sql).load(conn).map_err(fail)?;
        table.has_rows = rows.first().is_some_and(|r| r.n > 0);
    }
    Ok(tables)
}

/// Maps `format_type` text (and `pg_type.typtype`) to a [`PgType`], with the plan file's type
/// parser; a name it does not know (a domain, an array, a quoted type) stays as written.
pub fn pg_type_of(type_text: &str, type_kind: &str, labels: Option<Vec<String>>) -> PgType {
    if type_kind == "e" {
        return PgType::Enum {
            name: type_text.to_string(),
            labels: labels.unwrap_or_default(),
        };
    }
    match crate::transfer::model::parse_pg_type(type_text) {
        Ok(PgType::Other(_)) | Err(_) => PgType::Other(type_text.to_string()),
        Ok(known) => known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_types_map_to_pg_types() {
        assert_eq!(
            pg_type_of("numeric(10,2)", "b", None),
            PgType::Numeric(Some((10, 2)))
        );
        assert_eq!(
            pg_type_of("character varying(20)", "b", None),
            PgType::Varchar(Some(20))
        );
        assert_eq!(
            pg_type_of("timestamp with time zone", "b", None),
            PgType::Timestamptz
        );
        assert_eq!(
            pg_type_of("integer[]", "b", None),
            PgType::Other("integer[]".into())
        );
        for array in [
            "character varying(3)[]",
            "numeric(5,2)[]",
            "character(2)[]",
            "timestamp(0) without time zone[]",
        ] {
            assert_eq!(
                pg_type_of(array, "b", None),
                PgType::Other(array.into()),
                "{array}"
            );
        }
        assert!(
            matches!(pg_type_of("mission_status", "e", Some(vec!["draft".into()])), PgType::Enum { labels, .. } if labels == ["draft"])
        );
    }
}
