//! CHECK constraints: translated to PostgreSQL, dropped when the column's type already
//! enforces them, or left for a human when they cannot be translated. A CHECK that rows of the
//! source fail (the probe evaluates each one on the data) is added after the rows, `NOT
//! VALID`, with the count in the review, as a foreign key with orphans is: added before the
//! rows, it would reject them.

use crate::transfer::plan::ddl::{self, CheckDef};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::Statement;
use crate::transfer::plan::table::TableContext;

/// The CHECKs of a table: added before its rows, and `NOT VALID` after them.
#[derive(Default)]
pub(crate) struct Checks {
    pub before_load: Vec<CheckDef>,
    pub after_load: Vec<Statement>,
}

impl Planner<'_> {
    /// The CHECKs of the table that PostgreSQL gets.
    pub(crate) fn plan_checks(&mut self, t: &TableContext<'_>) -> Checks {
        let mut checks = Checks::default();
        let table_index = self
            .facts
            .schema
            .tables
            .iter()
            .position(|table| std::ptr::eq(table, t.table));
        for (index, check) in t.table.checks.iter().enumerate() {
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
                    let def = CheckDef { name, sql };
                    let failing = table_index
                        .and_then(|i| self.facts.check_violations.get(&(i, index)))
                        .copied()
                        .unwrap_or(0);
                    if failing == 0 {
                        checks.before_load.push(def);
                        continue;
                    }
                    self.warn(
                        object,
                        format!("{failing} row(s) of the source fail this CHECK (SQLite did not enforce it on them); added NOT VALID after the rows, so they arrive and new rows are checked: fix them, then run ALTER TABLE .. VALIDATE CONSTRAINT"),
                        Some(check.sql.clone()),
                    );
                    checks.after_load.push(Statement::AddCheck(format!(
                        "{} NOT VALID",
                        ddl::add_check(&t.qualified, &def)
                    )));
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
