//! Column types and names: the cast decision of each column (full-text columns stay text), its
//! PostgreSQL name (override, case, collisions), and the notes a human needs about both.

use std::collections::BTreeSet;

use crate::transfer::error::{Error, Result};
use crate::transfer::model::PgType;
use crate::transfer::orm;
use crate::transfer::plan::cast::{self, ColumnFacts};
use crate::transfer::plan::catalog::{Column, Table};
use crate::transfer::plan::ddl::{self, Namespace};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::profile::{self, ColumnProfile, TableProfile};

/// One column with its PostgreSQL name and type.
pub(crate) struct ColumnPlan<'c> {
    pub column: &'c Column,
    pub target: String,
    pub choice: cast::Choice,
}

impl Planner<'_> {
    /// Decides the type and name of every copied column of `table`, in order.
    pub(crate) fn choose_columns<'t>(
        &mut self,
        table: &'t Table,
        profile: &TableProfile,
        full_text: bool,
        keys: &BTreeSet<(String, String)>,
        names: &mut Namespace,
    ) -> Result<Vec<ColumnPlan<'t>>> {
        let empty = ColumnProfile::default();
        let mut columns = Vec::new();
        for column in profile::profiled_columns(table) {
            let facts = ColumnFacts {
                table: &table.name,
                column: &column.name,
                declared: &column.declared,
                profile: profile.column(&column.name).unwrap_or(&empty),
                json_check: table
                    .checks
                    .iter()
                    .any(|c| calls_json_valid_on(&c.sql, &column.name)),
                key: keys.contains(&(table.name.to_lowercase(), column.name.to_lowercase())),
            };
            let mut choice =
                cast::decide(&facts, &self.options.overrides).map_err(Error::Invalid)?;
            self.orm_type(&facts, &mut choice);
            if full_text {
                keep_full_text_as_text(&mut choice);
            }
            let target = self.column_name(table, column, names);
            self.note_choice(table, column, &choice);
            self.decisions.push(choice.decision.clone());
            columns.push(ColumnPlan {
                column,
                target,
                choice,
            });
        }
        Ok(columns)
    }

    /// Gives the column the type the source's ORM creates on PostgreSQL, where its SQLite
    /// declaration is that ORM's for one field only and every value fits; warns about a
    /// declaration the ORM uses for two fields, whose type the data cannot tell.
    fn orm_type(&mut self, facts: &ColumnFacts<'_>, choice: &mut cast::Choice) {
        let Some(orm) = self.orm else { return };
        let p = facts.profile;
        let stored = orm::Stored {
            non_null: p.non_null(),
            integers: p.integers,
            zero_one: p.zero_one,
            int_range: p.int_min.zip(p.int_max),
            texts: p.texts,
            hex_uuids: p.hex_uuids,
            ip_addresses: p.ip_addresses,
            text_timestamps: p.text_timestamps,
            text_dates: p.text_dates,
            text_with_offset: p.text_with_offset,
            json_texts: p.json_documents + p.json_scalars,
        };
        let convention = orm::full_mode_type(orm, facts.declared, &stored).and_then(|t| {
            cast::orm_convention(facts, &self.options.overrides, choice, t.pg_type, t.reason)
        });
        if let Some(orm_choice) = convention {
            *choice = orm_choice;
        }
        // A plan-file conversion (microseconds to interval, ...) has already decided.
        if choice.conversion.is_none() {
            if let Some(why) = orm::ambiguous_declaration(orm, facts.declared) {
                let object = format!("column `{}.{}`", facts.table, facts.column);
                self.warn(object, why.to_string(), None);
            }
        }
    }

    /// Claims the column's PostgreSQL name: its override as given, else the source name.
    fn column_name(&mut self, table: &Table, column: &Column, names: &mut Namespace) -> String {
        let override_name = self
            .options
            .overrides
            .column(&table.name, &column.name)
            .and_then(|o| o.name.clone());
        let wanted = match &override_name {
            Some(name) => ddl::pg_name(name, true),
            None => ddl::pg_name(&column.name, self.options.keep_case),
        };
        let claimed = names.claim(&wanted);
        if override_name.is_none() {
            self.note_rename(
                &format!("column `{}.{}`", table.name, column.name),
                &column.name,
                &wanted,
                &claimed,
            );
        }
        claimed
    }

    /// Notes a flagged type decision, and a NOCASE column that PostgreSQL compares by case.
    fn note_choice(&mut self, table: &Table, column: &Column, choice: &cast::Choice) {
        let object = format!("column `{}.{}`", table.name, column.name);
        if choice.decision.flagged {
            let d = &choice.decision;
            let examples = if d.examples.is_empty() {
                String::new()
            } else {
                format!("; examples: {}", d.examples.join(", "))
            };
            self.warn(
                object.clone(),
                format!(
                    "{} -> {}: {}{examples}",
                    display_declared(&d.declared),
                    d.chosen,
                    d.reason
                ),
                None,
            );
        }
        if is_nocase(column) && is_textlike(&choice.pg_type) {
            self.note(
                object,
                "declared COLLATE NOCASE: its unique keys and indexes use lower(); plain comparisons are case-sensitive in PostgreSQL (override the type to citext to keep them case-insensitive)".into(),
                None,
            );
        }
    }
}

/// A full-text column holds text, whatever its values look like, unless the column's type is
/// overridden.
fn keep_full_text_as_text(choice: &mut cast::Choice) {
    if choice.decision.rule != "override.column" && choice.pg_type != PgType::Text {
        choice.pg_type = PgType::Text;
        choice.decision.chosen = "text".into();
        choice.decision.reason =
            format!("a full-text column holds text ({})", choice.decision.reason);
    }
}

impl ColumnPlan<'_> {
    /// Whether SQLite compares this column ignoring case and PostgreSQL will not.
    pub(crate) fn nocase(&self) -> bool {
        is_nocase(self.column) && is_textlike(&self.choice.pg_type)
    }
}

fn is_nocase(column: &Column) -> bool {
    column
        .collation
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("NOCASE"))
}

fn display_declared(declared: &str) -> String {
    if declared.is_empty() {
        "(no declared type)".into()
    } else {
        declared.to_string()
    }
}

pub(crate) fn is_textlike(pg_type: &PgType) -> bool {
    matches!(
        pg_type,
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) | PgType::Citext
    )
}

/// Whether expressions may use a column as SQLite did: its PostgreSQL type compares and
/// calculates like the SQLite values (numbers as numbers, text as text).
pub(crate) fn comparable(c: &ColumnPlan<'_>) -> bool {
    !c.choice.decision.widened
        && matches!(
            c.choice.pg_type,
            PgType::SmallInt
                | PgType::Integer
                | PgType::BigInt
                | PgType::Double
                | PgType::Real
                | PgType::Numeric(_)
                | PgType::Text
                | PgType::Varchar(_)
                | PgType::Citext
        )
}

fn calls_json_valid_on(sql: &str, column: &str) -> bool {
    let tokens = crate::sql::tokenize(sql);
    tokens.windows(3).any(|w| {
        w[0].is_word("json_valid")
            && w[1].is_punct("(")
            && w[2].name().is_some_and(|n| n.eq_ignore_ascii_case(column))
    })
}
