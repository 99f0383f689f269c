//! Column definitions: what each planned column becomes in `CREATE TABLE` (NOT NULL kept only
//! where the rows allow it, the identity and where its sequence restarts, the translated
//! DEFAULT, the generated expression) and the copier's column map.

use crate::transfer::model::{ColumnMap, PgType, ValuePolicy};
use crate::transfer::plan::catalog::{Column, Generated};
use crate::transfer::plan::columns::{is_textlike, ColumnPlan};
use crate::transfer::plan::ddl::{self, ColumnDef, DefaultSql, Scope, Wanted};
use crate::transfer::plan::document::IdentityPlan;
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::profile::ColumnProfile;
use crate::transfer::plan::statement::Definition;
use crate::transfer::plan::table::TableContext;

/// The copied columns' maps, then the generated columns' (computed by PostgreSQL).
pub(crate) type ColumnMaps = (Vec<ColumnMap>, Vec<ColumnMap>);

impl Planner<'_> {
    /// The `CREATE TABLE` columns, the copier's column map (with the generated columns
    /// PostgreSQL computes, which verification compares) and the identity of a table.
    pub(crate) fn define_columns(
        &mut self,
        t: &TableContext<'_>,
    ) -> (Vec<ColumnDef>, ColumnMaps, Option<IdentityPlan>) {
        let mut defs = Vec::new();
        let mut maps = Vec::new();
        let mut computed = Vec::new();
        if t.fts.is_some() {
            defs.push(ColumnDef {
                name: "rowid".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                default: None,
                identity: false,
                sequence: None,
                generated: None,
            });
            maps.push(ColumnMap {
                source: "rowid".into(),
                target: "rowid".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                policy: ValuePolicy::Reject,
                conversion: None,
                json_profiled: false,
            });
        }
        let mut identity = None;
        for c in &t.columns {
            let object = format!("column `{}.{}`", t.table.name, c.column.name);
            let empty = ColumnProfile::default();
            let profile = t.profile.column(&c.column.name).unwrap_or(&empty);
            let is_alias = t.table.rowid_alias.as_deref() == Some(c.column.name.as_str());
            let not_null = self.not_null(t, c.column, profile, is_alias, &object);
            let is_identity = is_alias
                && matches!(
                    c.choice.pg_type,
                    PgType::SmallInt | PgType::Integer | PgType::BigInt
                );
            let mut sequence = None;
            if is_identity {
                identity = Some(identity_plan(t, c, profile));
                sequence = self.identity_sequence(&t.target, &c.target);
            }
            let default = match is_identity {
                false => self.default(c, &object),
                true => None,
            };
            let generated = c
                .column
                .generated
                .as_ref()
                .and_then(|g| self.generated(g, &c.choice.pg_type, t, &object));
            let map = ColumnMap {
                source: c.column.name.clone(),
                target: c.target.clone(),
                pg_type: c.choice.pg_type.clone(),
                not_null,
                policy: c.choice.policy,
                conversion: c.choice.conversion,
                json_profiled: c.choice.decision.rule.is_json(),
            };
            if generated.is_none() {
                maps.push(map);
            } else {
                computed.push(map);
            }
            defs.push(ColumnDef {
                name: c.target.clone(),
                pg_type: c.choice.pg_type.clone(),
                not_null,
                default,
                identity: is_identity,
                sequence,
                generated,
            });
        }
        (defs, (maps, computed), identity)
    }

    /// Claims the name of an identity's sequence: PostgreSQL names it `<table>_<column>_seq`
    /// when the table is created, and a table of that name created after it (the source's own
    /// `t_id_seq`) would then fail. The name is given in the DDL only when it is not that one.
    fn identity_sequence(&mut self, table: &str, column: &str) -> Option<String> {
        let natural = format!("{table}_{column}_seq");
        let claimed = self.derived_name(natural.clone());
        (claimed != natural).then_some(claimed)
    }

    /// NOT NULL as declared (or implied by a key), dropped when rows hold NULL anyway.
    fn not_null(
        &mut self,
        t: &TableContext<'_>,
        column: &Column,
        profile: &ColumnProfile,
        is_alias: bool,
        object: &str,
    ) -> bool {
        let declared =
            column.not_null || is_alias || (t.table.without_rowid && column.pk_position > 0);
        if declared && !is_alias && profile.nulls > 0 {
            self.lose(
                object.to_string(),
                format!(
                    "declared NOT NULL but {} rows hold NULL; created without NOT NULL",
                    profile.nulls
                ),
                None,
            );
            return false;
        }
        declared
    }

    /// The translated DEFAULT of a column that is not generated.
    fn default(&mut self, c: &ColumnPlan<'_>, object: &str) -> Option<String> {
        let (Some(sql), None) = (&c.column.default, &c.column.generated) else {
            return None;
        };
        match ddl::translate_default(sql, &c.choice.pg_type, c.choice.conversion) {
            DefaultSql::Sql(expr) => Some(expr),
            DefaultSql::None => None,
            DefaultSql::Flagged(why) => {
                self.lose(object.to_string(), why, Some(format!("DEFAULT {sql}")));
                None
            }
        }
    }

    /// The translated expression of a generated column, or `None` (with a warning): the
    /// column is then created plain and holds the values SQLite computed.
    fn generated(
        &mut self,
        g: &Generated,
        pg_type: &PgType,
        t: &TableContext<'_>,
        object: &str,
    ) -> Option<String> {
        let scope = Scope {
            wanted: Wanted::column(pg_type),
            ..t.scope.clone()
        };
        match generated_expression(g, &scope, &t.columns) {
            Ok(expr) => {
                if !g.stored {
                    self.note(object.to_string(), "a VIRTUAL generated column becomes STORED (PostgreSQL 15 stores generated columns)".into(), None);
                }
                Some(expr)
            }
            Err(why) => {
                self.lose(
                    object.to_string(),
                    format!("generated column not translated ({why}); created as a plain column holding the values SQLite computed"),
                    Some(g.sql.clone()),
                );
                None
            }
        }
    }
}

/// The identity of the rowid alias `c`: its sequence restarts above both the largest id and
/// SQLite's `sqlite_sequence` value.
fn identity_plan(
    t: &TableContext<'_>,
    c: &ColumnPlan<'_>,
    profile: &ColumnProfile,
) -> IdentityPlan {
    let largest = profile
        .int_max
        .unwrap_or(0)
        .max(t.table.sequence.unwrap_or(0));
    let restart_with = largest.saturating_add(1).max(1);
    IdentityPlan {
        column: c.target.clone(),
        restart_with,
        sql: Definition::RestartIdentity {
            table: &t.qualified,
            column: &c.target,
            restart_with,
        }
        .render(),
    }
}

fn generated_expression(
    g: &Generated,
    scope: &Scope,
    columns: &[ColumnPlan<'_>],
) -> std::result::Result<String, String> {
    if g.sql.is_empty() {
        return Err("its expression could not be read".into());
    }
    // PostgreSQL does not let a generated column read another: read its expression instead.
    let sql = inline_generated(&g.sql, columns, 0)?;
    immutable_expression(&sql, scope, columns)
}

/// `sql` with each generated column it names replaced by that column's own expression, in
/// parentheses, to a depth of 8 (SQLite refuses cycles).
fn inline_generated(
    sql: &str,
    columns: &[ColumnPlan<'_>],
    depth: usize,
) -> std::result::Result<String, String> {
    if depth > 8 {
        return Err("generated columns that read each other more than 8 deep".into());
    }
    let tokens = crate::sql::tokenize(sql);
    let mut out = String::new();
    let mut last = 0;
    for (i, t) in tokens.iter().enumerate() {
        let named = matches!(
            t.kind,
            crate::sql::TokenKind::Word | crate::sql::TokenKind::QuotedIdent
        ) && !tokens.get(i + 1).is_some_and(|n| n.is_punct("("))
            && !(i > 0 && tokens[i - 1].is_punct("."));
        let generated = t.name().filter(|_| named).and_then(|name| {
            columns
                .iter()
                .find(|c| c.column.name.eq_ignore_ascii_case(&name))
                .and_then(|c| c.column.generated.as_ref())
        });
        if let Some(g) = generated {
            let inner = inline_generated(&g.sql, columns, depth + 1)?;
            out.push_str(&sql[last..t.start]);
            out.push_str(&format!("({inner})"));
            last = t.end();
        }
    }
    out.push_str(&sql[last..]);
    Ok(out)
}

/// Translates an expression PostgreSQL requires to be immutable (generated columns, index
/// expressions): `||` over a non-text value goes through a stable output function.
pub(crate) fn immutable_expression(
    sql: &str,
    scope: &Scope,
    columns: &[ColumnPlan<'_>],
) -> std::result::Result<String, String> {
    let expr = ddl::translate(sql, scope)?;
    let used = ddl::columns_used(sql, scope);
    let non_text = used
        .iter()
        .filter_map(|u| columns.iter().find(|c| &c.column.name == u))
        .any(|c| !is_textlike(&c.choice.pg_type));
    if expr.contains("||") && non_text {
        return Err("`||` on a non-text column is not immutable in PostgreSQL".into());
    }
    Ok(expr)
}
