//! SQLite indexes: each becomes a unique constraint (plain unique columns) or an index, with
//! NOCASE and RTRIM collations as `lower()`/`rtrim()` expressions and expressions and partial
//! WHERE clauses translated; one that cannot be translated is left for a human.

use crate::transfer::plan::catalog::{Index as SqliteIndex, IndexOrigin, IndexPart};
use crate::transfer::plan::column_defs::immutable_expression;
use crate::transfer::plan::columns::is_textlike;
use crate::transfer::plan::ddl::{self, q};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::{Definition, Index};
use crate::transfer::plan::table::{Keys, TableContext};

/// The largest btree index entry PostgreSQL accepts with 8 kB pages, in bytes.
const BTREE_ENTRY_BYTES: u64 = 2704;

/// An index's key parts as PostgreSQL gets them.
struct Parts {
    /// Rendered parts (`"c"`, `lower("c")`, `(expr)`, with `DESC`).
    rendered: Vec<String>,
    /// The PostgreSQL columns of the parts that are plain columns.
    plain_columns: Vec<String>,
    /// The translated WHERE clause.
    where_sql: Option<String>,
}

impl Planner<'_> {
    /// Adds every index of the table but the primary key's to `keys`.
    pub(crate) fn plan_indexes(&mut self, t: &TableContext<'_>, keys: &mut Keys) {
        for index in &t.table.indexes {
            if index.origin == IndexOrigin::PrimaryKey {
                continue;
            }
            let object = format!("index `{}`", index.name);
            let parts = match index_parts(t, index) {
                Ok(parts) => parts,
                Err(why) => {
                    self.lose(object, format!("not created ({why})"), index.sql.clone());
                    continue;
                }
            };
            self.warn_long_text(t, index, &object);
            let all_plain = parts.plain_columns.len() == index.parts.len();
            if index.origin == IndexOrigin::Unique && all_plain {
                let name = self.derived_name(format!(
                    "{}_{}_key",
                    t.target,
                    parts.plain_columns.join("_")
                ));
                keys.after_load.push(
                    Definition::AddUnique {
                        table: &t.qualified,
                        name: &name,
                        columns: &parts.plain_columns,
                    }
                    .render(),
                );
            } else {
                let name = self.index_name(t, index);
                keys.after_load.push(
                    Definition::CreateIndex(Index {
                        name: &name,
                        table: &t.qualified,
                        unique: index.unique,
                        method: None,
                        parts: &parts.rendered,
                        where_sql: parts.where_sql.as_deref(),
                    })
                    .render(),
                );
            }
            if index.unique && index.where_sql.is_none() && all_plain {
                keys.unique_sets.push(parts.plain_columns);
            }
        }
    }

    /// Claims the name of an index: a unique one is named like a unique constraint, a created
    /// one keeps its SQLite name (noted when it changes).
    fn index_name(&mut self, t: &TableContext<'_>, index: &SqliteIndex) -> String {
        let wanted = if index.origin == IndexOrigin::Unique {
            let columns: Vec<String> = index
                .parts
                .iter()
                .filter_map(|p| p.column.clone())
                .collect();
            ddl::pg_name(&format!("{}_{}_key", t.target, columns.join("_")), true)
        } else {
            ddl::pg_name(&index.name, self.options.keep_case)
        };
        let name = self.relations.claim(&wanted);
        if index.origin == IndexOrigin::Created {
            self.note_rename(
                &format!("index `{}`", index.name),
                &index.name,
                &wanted,
                &name,
            );
        }
        name
    }

    /// Warns of text too long for a btree entry in an indexed column.
    fn warn_long_text(&mut self, t: &TableContext<'_>, index: &SqliteIndex, object: &str) {
        let long: Vec<String> = index
            .parts
            .iter()
            .filter_map(|p| p.column.as_ref())
            .filter_map(|c| {
                t.profile
                    .column(c)
                    .filter(|p| p.max_text_bytes > BTREE_ENTRY_BYTES)
                    .map(|p| format!("`{c}` ({} bytes)", p.max_text_bytes))
            })
            .collect();
        if !long.is_empty() {
            self.warn(
                object.to_string(),
                format!(
                    "indexes text as long as {}; PostgreSQL refuses btree entries over {BTREE_ENTRY_BYTES} bytes (after compression), so building it may fail: index md5() or a prefix of the column instead",
                    long.join(", ")
                ),
                index.sql.clone(),
            );
        }
    }
}

/// The parts and WHERE clause of `index` in PostgreSQL, or why it cannot be created. A part's
/// problem is reported before the WHERE clause's.
fn index_parts(t: &TableContext<'_>, index: &SqliteIndex) -> Result<Parts, String> {
    let mut parts = Parts {
        rendered: Vec::new(),
        plain_columns: Vec::new(),
        where_sql: None,
    };
    let mut problem = None;
    for part in &index.parts {
        match render_part(t, part, index.unique, &mut parts.plain_columns) {
            Ok(text) => parts.rendered.push(if part.descending {
                format!("{text} DESC")
            } else {
                text
            }),
            Err(why) => {
                problem = Some(why);
                break;
            }
        }
    }
    if let Some(w) = index.where_sql.as_deref() {
        match ddl::translate_condition(w, &t.scope) {
            Ok(w) => parts.where_sql = Some(w),
            Err(why) => {
                problem.get_or_insert(format!("its WHERE clause: {why}"));
            }
        }
    }
    match problem {
        Some(why) => Err(why),
        None => Ok(parts),
    }
}

/// One key part: a column (with its collation) or an expression. Plain columns are also added
/// to `plain_columns`.
fn render_part(
    t: &TableContext<'_>,
    part: &IndexPart,
    unique: bool,
    plain_columns: &mut Vec<String>,
) -> Result<String, String> {
    match (&part.column, &part.expression) {
        (Some(column), _) => {
            let Some(c) = t.column(column) else {
                return Err(format!("column `{column}` is not copied"));
            };
            let collation = part.collation.as_deref().map(str::to_ascii_uppercase);
            match collation.as_deref() {
                Some("NOCASE") if is_textlike(&c.choice.pg_type) => {
                    Ok(crate::transfer::plan::keys::ascii_lower(&c.target))
                }
                Some("RTRIM") if is_textlike(&c.choice.pg_type) => {
                    Ok(format!("rtrim({})", q(&c.target)))
                }
                None | Some("BINARY" | "NOCASE" | "RTRIM") => {
                    plain_columns.push(c.target.clone());
                    Ok(q(&c.target))
                }
                Some(other) => Err(format!("collation `{other}` has no PostgreSQL equivalent")),
            }
        }
        (None, Some(expression)) => {
            let scope = ddl::Scope {
                wanted: if unique {
                    ddl::Wanted::UniqueKey
                } else {
                    ddl::Wanted::IndexKey
                },
                ..t.scope.clone()
            };
            immutable_expression(expression, &scope, &t.columns).map(|e| format!("({e})"))
        }
        (None, None) => Err("a key part SQLite does not describe (the rowid?)".into()),
    }
}
