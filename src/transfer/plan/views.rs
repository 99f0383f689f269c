//! Views: each SQLite view's query translated against every planned table's names and types,
//! or left for a human (with every view that uses it) when it cannot be.

use std::collections::{BTreeMap, BTreeSet};

use crate::transfer::model::PgType;
use crate::transfer::plan::catalog::View;
use crate::transfer::plan::ddl::{self, qualified, Scope, ScopeColumn, ScopeRelation, Wanted};
use crate::transfer::plan::document::{ObjectKind, ObjectPlan};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::Definition;

impl Planner<'_> {
    /// Plans every view, each after the views it reads (PostgreSQL refuses a view over one
    /// not yet created), otherwise in catalog order.
    pub(crate) fn plan_views(&mut self) -> Vec<ObjectPlan> {
        let facts = self.facts;
        let scope = self.view_scope();
        let mut failed: Vec<String> = Vec::new();
        let mut out = Vec::new();
        let view_targets = self.view_targets.clone();
        for index in dependency_order(&facts.schema.views) {
            let (view, target) = (&facts.schema.views[index], view_targets[index].clone());
            let depends_on_failed = crate::sql::tokenize(&view.select_sql).iter().find_map(|t| {
                let name = t.name()?;
                failed
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(&name))
                    .cloned()
            });
            let translated = match depends_on_failed {
                Some(name) => Err(format!("it uses view `{name}`, which is not translated")),
                None => ddl::translate(&view.select_sql, &scope),
            };
            match translated {
                Ok(query) => out.push(self.translated_view(view, target, &query)),
                Err(why) => {
                    failed.push(view.name.clone());
                    let note = format!("not translated ({why}); create it by hand");
                    let object = format!("view `{}`", view.name);
                    self.lose(object, note.clone(), Some(view.sql.clone()));
                    out.push(ObjectPlan {
                        kind: ObjectKind::View,
                        source: view.name.clone(),
                        target,
                        sql: None,
                        original: view.sql.clone(),
                        note,
                    });
                }
            }
        }
        out
    }

    /// What a view's query may name: every table and view, and every column name any table
    /// has (a name renamed differently in two tables is ambiguous for a view).
    pub(crate) fn view_scope(&self) -> Scope {
        let mut columns: BTreeMap<String, ScopeColumn> = BTreeMap::new();
        for column in self.planned.iter().flat_map(|p| &p.columns) {
            let key = column.source.to_lowercase();
            match columns.get_mut(&key) {
                None => {
                    columns.insert(key, column.clone());
                }
                Some(existing) => {
                    if existing.target != column.target {
                        existing.pg_type =
                            PgType::Other("a column renamed differently in another table".into());
                        existing.comparable = false;
                    } else if !column.comparable {
                        existing.comparable = false;
                        existing.pg_type = column.pg_type.clone();
                    }
                }
            }
        }
        let tables = self.planned.iter().map(|p| ScopeRelation {
            source: p.plan.map.source.clone(),
            target: p.plan.map.target.clone(),
        });
        let views = self
            .facts
            .schema
            .views
            .iter()
            .zip(&self.view_targets)
            .map(|(view, target)| ScopeRelation {
                source: view.name.clone(),
                target: target.clone(),
            });
        Scope {
            columns: columns.into_values().collect(),
            relations: tables.chain(views).collect(),
            schema: self.options.target_schema.clone(),
            keep_case: self.options.keep_case,
            query: true,
            wanted: Wanted::Any,
        }
    }

    fn translated_view(&self, view: &View, target: String, query: &str) -> ObjectPlan {
        let names: Vec<String> = view
            .columns
            .iter()
            .map(|c| ddl::pg_name(c, self.options.keep_case))
            .collect();
        let sql = Definition::CreateView {
            view: &qualified(&self.options.target_schema, &target),
            columns: &names,
            query,
        }
        .render();
        let note = if query.contains("ILIKE") {
            "LIKE became ILIKE: SQLite's LIKE ignores ASCII case".to_string()
        } else {
            String::new()
        };
        ObjectPlan {
            kind: ObjectKind::View,
            source: view.name.clone(),
            target,
            sql: Some(sql),
            original: view.sql.clone(),
            note,
        }
    }
}

/// The positions of `views` in an order where each comes after every view it names. A view
/// names another when one of its query's words is that view's name (ASCII case-insensitive,
/// as SQLite resolves names); a cycle, which SQLite refuses to use anyway, keeps catalog order.
pub(crate) fn dependency_order(views: &[View]) -> Vec<usize> {
    let index: BTreeMap<String, usize> = views
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.to_ascii_lowercase(), i))
        .collect();
    let uses: Vec<BTreeSet<usize>> = views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            crate::sql::tokenize(&v.select_sql)
                .iter()
                .filter_map(|t| t.name())
                .filter_map(|n| index.get(&n.to_ascii_lowercase()).copied())
                .filter(|&used| used != i)
                .collect()
        })
        .collect();
    let mut order = Vec::with_capacity(views.len());
    let mut state = vec![Visit::New; views.len()];
    for start in 0..views.len() {
        visit(start, &uses, &mut state, &mut order);
    }
    order
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    Open,
    Done,
}

/// Depth-first: the views `at` uses, then `at`. A view met again while open (a cycle) is
/// skipped here and placed when its own visit ends.
fn visit(at: usize, uses: &[BTreeSet<usize>], state: &mut [Visit], order: &mut Vec<usize>) {
    if state[at] != Visit::New {
        return;
    }
    state[at] = Visit::Open;
    for &used in &uses[at] {
        visit(used, uses, state, order);
    }
    state[at] = Visit::Done;
    order.push(at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, select: &str) -> View {
        View {
            name: name.into(),
            columns: Vec::new(),
            select_sql: select.into(),
            sql: format!("CREATE VIEW {name} AS {select}"),
        }
    }

    #[test]
    fn a_view_comes_after_the_views_it_reads() {
        let views = [
            view("top", "SELECT * FROM \"Middle\" JOIN base USING (id)"),
            view("middle", "SELECT id FROM Base WHERE id > 1"),
            view("base", "SELECT id FROM t"),
            view("alone", "SELECT 1 AS one"),
        ];
        assert_eq!(dependency_order(&views), [2, 1, 0, 3]);
        let cycle = [view("a", "SELECT * FROM b"), view("b", "SELECT * FROM a")];
        assert_eq!(dependency_order(&cycle), [1, 0]);
    }
}
