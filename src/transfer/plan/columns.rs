//! Column types and names: the cast decision of each column (full-text columns stay text), its
//! PostgreSQL name (override, case, collisions), and the notes a human needs about both.

use std::collections::BTreeSet;

use crate::transfer::error::{Error, Result};
use crate::transfer::model::PgType;
use crate::transfer::orm;
use crate::transfer::plan::cast::{self, ColumnFacts};
use crate::transfer::plan::catalog::{Column, Table};
use crate::transfer::plan::ddl::Namespace;
use crate::transfer::plan::naming::NameRequest;
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
        let copied: Vec<&Column> = profile::profiled_columns(table).collect();
        let mut targets = self.column_names(table, &copied, names).into_iter();
        for column in copied {
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
            if let Some(zone) = self.options.source_timezone {
                cast::read_in_zone(&mut choice, zone);
            }
            if let Some((key, collisions)) = self.typed_key_collisions(table, column) {
                cast::keep_key_as_text(&mut choice, &key, collisions);
            }
            let target = targets.next().unwrap_or_default();
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

    /// Claims the PostgreSQL names of `columns`: an override as given, else the source name
    /// (see [`crate::transfer::plan::naming`] for the order that keeps names).
    fn column_names(
        &mut self,
        table: &Table,
        columns: &[&Column],
        names: &mut Namespace,
    ) -> Vec<String> {
        let options = self.options;
        let overrides = &options.overrides;
        let requests: Vec<NameRequest<'_>> = columns
            .iter()
            .map(|column| NameRequest {
                object: format!("column `{}.{}`", table.name, column.name),
                source: &column.name,
                given: overrides
                    .column(&table.name, &column.name)
                    .and_then(|o| o.name.as_deref()),
            })
            .collect();
        self.claim_names(&requests, names)
    }

    /// The unique key over `column`, and its rows that repeat another row's key, when the
    /// key holds in SQLite but not once the column's text is typed (a timestamp or boolean).
    fn typed_key_collisions(&self, table: &Table, column: &Column) -> Option<(String, u64)> {
        self.facts.collisions.iter().find_map(|(key, collisions)| {
            let typed = key.columns.iter().any(|c| {
                c.source == column.name
                    && c.conversion.is_none()
                    && matches!(
                        c.pg_type,
                        PgType::Timestamptz | PgType::Timestamp | PgType::Boolean
                    )
            });
            (key.table == table.name && typed).then(|| {
                let names: Vec<&str> = key.columns.iter().map(|c| c.source.as_str()).collect();
                (names.join(", "), *collisions)
            })
        })
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
