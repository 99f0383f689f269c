//! Virtual tables PostgreSQL holds as tables. Full-text tables (FTS3/4/5): the table keeps
//! its text columns and gains a generated tsvector column with a GIN index, keyed by SQLite's
//! rowid. R*Tree tables: a plain table of the id and the min/max coordinates (double precision,
//! or bigint for `rtree_i32`, as the catalog declares them), keyed by the id, with a btree
//! index on each dimension's (min, max) that serves range queries.

use crate::transfer::model::PgType;
use crate::transfer::plan::catalog::VirtualTable;
use crate::transfer::plan::ddl::{q, ColumnDef, Namespace};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::{Definition, Index};
use crate::transfer::plan::table::{Keys, TableContext};

impl Planner<'_> {
    /// Adds the tsvector column to `defs`, and the rowid primary key and the GIN index to
    /// `keys`.
    pub(crate) fn plan_full_text(
        &mut self,
        t: &TableContext<'_>,
        vt: &VirtualTable,
        column_names: &mut Namespace,
        defs: &mut Vec<ColumnDef>,
        keys: &mut Keys,
    ) {
        let indexed: Vec<String> = t
            .columns
            .iter()
            .filter(|c| !fts_unindexed(vt, &c.column.name))
            .map(|c| c.target.clone())
            .collect();
        let config = if vt
            .option("tokenize")
            .is_some_and(|t| t.to_ascii_lowercase().contains("porter"))
        {
            "english"
        } else {
            "simple"
        };
        let tsv = column_names.claim("tsv");
        let document = if indexed.is_empty() {
            "''".to_string()
        } else {
            indexed
                .iter()
                .map(|c| format!("coalesce({}, '')", q(c)))
                .collect::<Vec<_>>()
                .join(" || ' ' || ")
        };
        defs.push(ColumnDef {
            name: tsv.clone(),
            pg_type: PgType::Other("tsvector".into()),
            not_null: false,
            default: None,
            identity: false,
            generated: Some(format!("to_tsvector('{config}'::regconfig, {document})")),
        });
        let pkey = self.derived_name(format!("{}_pkey", t.target));
        let rowid = ["rowid".to_string()];
        keys.after_load.push(
            Definition::AddPrimaryKey {
                table: &t.qualified,
                name: &pkey,
                columns: &rowid,
            }
            .render(),
        );
        keys.unique_sets.push(rowid.to_vec());
        let gin = self.derived_name(format!("{}_{tsv}_idx", t.target));
        keys.after_load.push(
            Definition::CreateIndex(Index {
                name: &gin,
                table: &t.qualified,
                unique: false,
                method: Some("gin"),
                parts: &[q(&tsv)],
                where_sql: None,
            })
            .render(),
        );
        self.note(
            format!("table `{}`", t.table.name),
            format!(
                "{} full-text table becomes a table with a generated tsvector column `{tsv}` ('{config}' configuration) and a GIN index; rewrite MATCH queries as `{tsv} @@ websearch_to_tsquery('{config}', ...)` (ranking differs from bm25)",
                vt.module
            ),
            Some(t.table.sql.clone()),
        );
    }
}

/// Whether `vt` is an R*Tree table (`rtree`, `rtree_i32`).
pub(crate) fn is_rtree(vt: &VirtualTable) -> bool {
    matches!(vt.module.as_str(), "rtree" | "rtree_i32")
}

impl Planner<'_> {
    /// The id primary key and a (min, max) index per dimension of an R*Tree table. Auxiliary
    /// columns (`+name`) are copied as they are and not indexed.
    pub(crate) fn plan_rtree(&mut self, t: &TableContext<'_>, vt: &VirtualTable, keys: &mut Keys) {
        let coordinates: Vec<String> = vt
            .arguments
            .iter()
            .skip(1)
            .map(|a| a.trim())
            .filter(|a| !a.starts_with('+'))
            .filter_map(|a| t.column(&crate::sql::unquote(a)).map(|c| c.target.clone()))
            .collect();
        let Some(id) = t.columns.first().map(|c| c.target.clone()) else {
            return;
        };
        let pkey = self.derived_name(format!("{}_pkey", t.target));
        let id = [id];
        keys.after_load.push(
            Definition::AddPrimaryKey {
                table: &t.qualified,
                name: &pkey,
                columns: &id,
            }
            .render(),
        );
        keys.unique_sets.push(id.to_vec());
        for pair in coordinates.chunks(2).filter(|p| p.len() == 2) {
            let name = self.derived_name(format!("{}_{}_{}_idx", t.target, pair[0], pair[1]));
            let parts = [q(&pair[0]), q(&pair[1])];
            keys.after_load.push(
                Definition::CreateIndex(Index {
                    name: &name,
                    table: &t.qualified,
                    unique: false,
                    method: None,
                    parts: &parts,
                    where_sql: None,
                })
                .render(),
            );
        }
        self.note(
            format!("table `{}`", t.table.name),
            format!("{} table becomes a plain table keyed by its id, with a btree index on each dimension's (min, max); rewrite spatial queries as range conditions on those columns", vt.module),
            Some(t.table.sql.clone()),
        );
    }
}

/// Whether the full-text table leaves `column` out of its index (FTS5 `UNINDEXED`, FTS4
/// `notindexed=`).
fn fts_unindexed(vt: &VirtualTable, column: &str) -> bool {
    let fts5 = vt.arguments.iter().any(|arg| {
        let words: Vec<String> = crate::sql::tokenize(arg)
            .iter()
            .filter_map(|t| t.name())
            .collect();
        words.len() == 2
            && words[0].eq_ignore_ascii_case(column)
            && words[1].eq_ignore_ascii_case("UNINDEXED")
    });
    fts5 || vt
        .option("notindexed")
        .is_some_and(|c| c.eq_ignore_ascii_case(column))
}
