//! Virtual tables PostgreSQL holds as tables. Full-text tables (FTS3/4/5): the table keeps
//! its text columns and gains a generated tsvector column with a GIN index, keyed by SQLite's
//! rowid. R*Tree tables: a plain table of the id and the min/max coordinates (double precision,
//! or bigint for `rtree_i32`, as the catalog declares them), keyed by the id, with a btree
//! index on each dimension's (min, max) that serves range queries. External-content
//! full-text tables: their content table gains the tsvector column and GIN index, and a view
//! named like the full-text table reads it; contentless ones stay flagged.

use crate::transfer::model::PgType;
use crate::transfer::plan::catalog::{Table, VirtualTable};
use crate::transfer::plan::ddl::{self, q, ColumnDef, Namespace};
use crate::transfer::plan::document::{ObjectKind, ObjectPlan};
use crate::transfer::plan::facts::Facts;
use crate::transfer::plan::naming::NameRequest;
use crate::transfer::plan::planner::{CarriedContent, Planner};
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
        let config = text_search_config(vt);
        let tsv = column_names.claim("tsv");
        let document = document(&indexed);
        defs.push(ColumnDef {
            name: tsv.clone(),
            pg_type: PgType::Other("tsvector".into()),
            not_null: false,
            default: None,
            identity: false,
            sequence: None,
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

/// An external-content full-text table (`content='table'`) whose text lives in a copied table:
/// PostgreSQL indexes that table itself (a generated tsvector column and a GIN index), and a
/// view named like the full-text table reads it.
pub(crate) struct ContentIndex<'f> {
    /// The content table.
    pub content: &'f Table,
    /// The full-text columns (each a column of the content table).
    pub columns: Vec<String>,
    /// The content table's column that is the full-text rowid, when it has one.
    pub rowid: Option<String>,
    /// The text search configuration (`english` for the porter tokenizer, else `simple`).
    pub config: &'static str,
}

/// The [`ContentIndex`] of `fts` when its content table is copied and holds every column.
pub(crate) fn content_index<'f>(facts: &'f Facts, fts: &'f Table) -> Option<ContentIndex<'f>> {
    let vt = fts.virtual_table.as_ref().filter(|v| v.is_fts())?;
    let content = vt.option("content").filter(|c| !c.is_empty())?;
    let table = facts
        .schema
        .tables
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(&content) && t.virtual_table.is_none())?;
    let has = |name: &str| {
        table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.name.clone())
    };
    let columns = fts
        .columns
        .iter()
        .filter(|c| !c.hidden)
        .map(|c| has(&c.name))
        .collect::<Option<Vec<String>>>()?;
    let rowid = match vt.option("content_rowid") {
        Some(column) => Some(has(&column)?),
        None => table.rowid_alias.clone(),
    };
    (!columns.is_empty()).then_some(ContentIndex {
        content: table,
        columns,
        rowid,
        config: text_search_config(vt),
    })
}

/// `english` for the porter tokenizer, else `simple`.
fn text_search_config(vt: &VirtualTable) -> &'static str {
    if vt
        .option("tokenize")
        .is_some_and(|t| t.to_ascii_lowercase().contains("porter"))
    {
        "english"
    } else {
        "simple"
    }
}

/// The text a tsvector indexes: the columns, NULL as empty, separated by spaces.
fn document(columns: &[String]) -> String {
    if columns.is_empty() {
        return "''".to_string();
    }
    columns
        .iter()
        .map(|c| format!("coalesce({}, '')", q(c)))
        .collect::<Vec<_>>()
        .join(" || ' ' || ")
}

impl Planner<'_> {
    /// Whether `table` is an external-content full-text table whose content table is copied
    /// (decided with that table, not skipped).
    pub(crate) fn is_content_indexed(&self, table: &Table) -> bool {
        content_index(self.facts, table).is_some()
    }

    /// Adds to the content table `t` a generated tsvector column and a GIN index for each
    /// external-content full-text table over it whose columns are all text in PostgreSQL,
    /// and records them for [`Planner::plan_content_views`].
    pub(crate) fn plan_content_indexes(
        &mut self,
        t: &TableContext<'_>,
        column_names: &mut Namespace,
        defs: &mut Vec<ColumnDef>,
        keys: &mut Keys,
    ) {
        let facts = self.facts;
        for fts in &facts.unplannable {
            let Some(index) = content_index(facts, fts) else {
                continue;
            };
            if !std::ptr::eq(index.content, t.table) {
                continue;
            }
            let targets: Option<Vec<String>> = index
                .columns
                .iter()
                .map(|c| t.column(c))
                .map(|c| {
                    c.filter(|c| {
                        matches!(
                            c.choice.pg_type,
                            PgType::Text | PgType::Varchar(_) | PgType::Citext
                        )
                    })
                    .map(|c| c.target.clone())
                })
                .collect();
            let Some(targets) = targets else {
                continue;
            };
            let tsv = column_names.claim(&ddl::pg_name(&format!("{}_tsv", fts.name), false));
            defs.push(ColumnDef {
                name: tsv.clone(),
                pg_type: PgType::Other("tsvector".into()),
                not_null: false,
                default: None,
                identity: false,
                sequence: None,
                generated: Some(format!(
                    "to_tsvector('{}'::regconfig, {})",
                    index.config,
                    document(&targets)
                )),
            });
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
            let rowid = index
                .rowid
                .as_deref()
                .and_then(|r| t.column(r))
                .map(|c| c.target.clone());
            self.content_indexes.push(CarriedContent {
                fts: fts.name.clone(),
                table: t.qualified.clone(),
                columns: targets,
                rowid,
                tsv,
                config: index.config,
            });
        }
    }

    /// A view named like each full-text table carried on its content table: the rowid, the
    /// columns and the tsvector. Those whose content was not carried are flagged.
    pub(crate) fn plan_content_views(&mut self) -> Vec<ObjectPlan> {
        let facts = self.facts;
        let mut out = Vec::new();
        for fts in &facts.unplannable {
            if content_index(facts, fts).is_none() {
                continue;
            }
            let carried = self.content_indexes.iter().position(|c| c.fts == fts.name);
            let Some(carried) = carried.map(|i| self.content_indexes[i].clone()) else {
                self.lose(
                    format!("virtual table `{}`", fts.name),
                    "an external-content full-text table whose content columns are not all text in PostgreSQL; add a tsvector column to the content table by hand".into(),
                    Some(fts.sql.clone()),
                );
                continue;
            };
            let target = self
                .claim_relation_names(&[NameRequest {
                    object: format!("view `{}`", fts.name),
                    source: &fts.name,
                    given: None,
                }])
                .remove(0);
            let mut names = vec!["rowid".to_string()];
            let mut selected = vec![carried
                .rowid
                .as_deref()
                .map_or("NULL::bigint".to_string(), q)];
            for (source, target) in fts
                .columns
                .iter()
                .filter(|c| !c.hidden)
                .zip(&carried.columns)
            {
                names.push(ddl::pg_name(&source.name, self.options.keep_case));
                selected.push(q(target));
            }
            names.push(carried.tsv.clone());
            selected.push(q(&carried.tsv));
            let query = format!("SELECT {} FROM {}", selected.join(", "), carried.table);
            let sql = Definition::CreateView {
                view: &ddl::qualified(&self.options.target_schema, &target),
                columns: &names,
                query: &query,
            }
            .render();
            let note = format!(
                "full-text table over `{}`: its text is indexed by the generated column `{}` ('{}' configuration, GIN index) and read through this view; rewrite MATCH queries as `{} @@ websearch_to_tsquery('{}', ...)` (ranking differs from bm25)",
                carried.table, carried.tsv, carried.config, carried.tsv, carried.config
            );
            self.note(
                format!("virtual table `{}`", fts.name),
                note.clone(),
                Some(fts.sql.clone()),
            );
            // A virtual table carried as a view: its rows are the content table's, which is
            // verified as a table.
            out.push(ObjectPlan {
                kind: ObjectKind::VirtualTable,
                source: fts.name.clone(),
                target,
                sql: Some(sql),
                original: fts.sql.clone(),
                note,
            });
        }
        out
    }
}
