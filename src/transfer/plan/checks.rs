//! CHECK constraints: translated to PostgreSQL, dropped when the column's type already
//! enforces them, or left for a human when they cannot be translated.

use crate::transfer::plan::ddl::{self, CheckDef};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::table::TableContext;

impl Planner<'_> {
    /// The CHECKs of the table that PostgreSQL gets.
    pub(crate) fn plan_checks(&mut self, t: &TableContext<'_>) -> Vec<CheckDef> {
        let mut checks = Vec::new();
        for check in &t.table.checks {
            let object = format!("table `{}`", t.table.name);
            if let Some(why) = self.implied_by_type(t, &check.sql) {
                self.note(
                    object,
                    format!("CHECK dropped: {why}"),
                    Some(check.sql.clone()),
                );
                continue;
            }
            match ddl::translate_condition(&check.sql, &t.scope) {
                Ok(sql) => {
                    let name = check.name.as_ref().map(|n| {
                        self.relations
                            .claim(&ddl::pg_name(n, self.options.keep_case))
                    });
                    checks.push(CheckDef { name, sql });
                }
                Err(why) => self.lose(
                    object,
                    format!(
                        "CHECK not translated ({why}); not enforced in PostgreSQL until rewritten"
                    ),
                    Some(check.sql.clone()),
                ),
            }
        }
        checks
    }

    /// Why a CHECK on one column says no more than the column's PostgreSQL type.
    fn implied_by_type(&self, t: &TableContext<'_>, sql: &str) -> Option<&'static str> {
        let used = ddl::columns_used(sql, &t.scope);
        let [only] = used.as_slice() else {
            return None;
        };
        let c = t.columns.iter().find(|c| &c.column.name == only)?;
        ddl::check_implied_by_type(sql, only, &c.choice.pg_type)
    }
}
