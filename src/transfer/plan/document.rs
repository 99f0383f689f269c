//! The [`Plan`] document: the types a plan is made of, how they serialize (the plan file's
//! TOML and the JSON of `dbshift plan`) and how a plan file is read back.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::transfer::error::{Error, Result};
use crate::transfer::model::TableMap;
use crate::transfer::plan::cast::Decision;
use crate::transfer::plan::options::PlanOptions;
use crate::transfer::plan::statement::{self, Statement};

/// Everything the transfer will do, in the order it does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The SQLite file.
    pub source: String,
    /// The options the plan was made with.
    pub options: PlanOptions,
    /// Statements before any table: `CREATE SCHEMA`, `CREATE EXTENSION`.
    #[serde(default, deserialize_with = "statement::read_before")]
    pub before: Vec<Statement>,
    /// The tables, in source catalog order.
    pub tables: Vec<TablePlan>,
    /// Views (translated ones carry `sql`; flagged ones only their original text).
    #[serde(default)]
    pub views: Vec<ObjectPlan>,
    /// What needs a human look.
    #[serde(default)]
    pub review: Vec<ReviewItem>,
    /// The type decision of every column.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Review items (by their `object`, as in ``trigger `audit` ``) the user accepts as not
    /// carried: verification is ok without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
}

/// One table: how rows map, and the DDL around loading them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablePlan {
    /// Source and target names, paging key, and the copied columns.
    pub map: TableMap,
    /// `CREATE TABLE` (columns, NOT NULL, DEFAULT, CHECK, identity; no keys or indexes).
    #[serde(deserialize_with = "statement::read_create")]
    pub create: Vec<Statement>,
    /// Primary key, unique constraints and indexes: run right after this table's rows are in.
    #[serde(deserialize_with = "statement::read_after_load")]
    pub after_load: Vec<Statement>,
    /// Foreign keys: run after every table is loaded.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeyPlan>,
    /// The identity column and where its sequence restarts: run after the rows are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityPlan>,
    /// Rows in the source when planned.
    pub source_rows: u64,
}

/// A foreign key, with the orphan rows found in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyPlan {
    /// The constraint name.
    pub name: String,
    /// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY .. [NOT VALID]`.
    #[serde(deserialize_with = "statement::read_foreign_key")]
    pub sql: Statement,
    /// Child rows whose key has no parent row (counted in SQLite while planning).
    pub orphan_rows: u64,
    /// Whether `sql` adds the key `NOT VALID`.
    #[serde(default)]
    pub not_valid: bool,
    /// The referenced PostgreSQL table.
    pub parent: String,
}

/// An identity column and the value its sequence restarts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPlan {
    /// The PostgreSQL column.
    pub column: String,
    /// Above both the largest id and SQLite's `sqlite_sequence` value.
    pub restart_with: i64,
    /// `SELECT setval(..)`: `restart_with`, or past the largest id copied if that is higher.
    #[serde(deserialize_with = "statement::read_identity")]
    pub sql: Statement,
}

/// What kind of object an [`ObjectPlan`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A view.
    View,
    /// A trigger.
    Trigger,
    /// A virtual table: not carried, or an external-content full-text table carried as a
    /// view over its content table.
    VirtualTable,
}

/// A view (or other object) and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectPlan {
    /// What it is.
    pub kind: ObjectKind,
    /// The SQLite name.
    pub source: String,
    /// The PostgreSQL name.
    pub target: String,
    /// The PostgreSQL DDL, when translated.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "statement::read_view"
    )]
    pub sql: Option<Statement>,
    /// The SQLite SQL.
    pub original: String,
    /// Why it was not translated, or what to know about the translation.
    #[serde(default)]
    pub note: String,
}

/// How much a review item matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (a rename, a dropped redundant CHECK).
    Info,
    /// Something is not carried over as it was and needs a decision or manual work.
    Warning,
    /// Running the plan as it is will fail.
    Blocking,
}

/// One finding for a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewItem {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about: ``table `t` ``, ``column `t.c` ``, ``trigger `x` ``.
    pub object: String,
    /// What happened and what to do.
    pub message: String,
    /// The SQLite SQL involved, when there is some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The object is not carried over (a table skipped; a view, trigger, CHECK, index, key,
    /// default, NOT NULL or generated expression dropped): verification fails unless the plan
    /// file's `accept` list names it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_carried: bool,
}

impl Plan {
    /// All DDL in execution order: `before`, every `create`, every `after_load` and identity
    /// restart, every foreign key, then the translated views.
    pub fn ddl(&self) -> Vec<Statement> {
        let mut out = self.before.clone();
        out.extend(self.tables.iter().flat_map(|t| t.create.iter().cloned()));
        for table in &self.tables {
            out.extend(table.after_load.iter().cloned());
            out.extend(table.identity.iter().map(|i| i.sql.clone()));
        }
        out.extend(
            self.tables
                .iter()
                .flat_map(|t| t.foreign_keys.iter().map(|f| f.sql.clone())),
        );
        out.extend(self.views.iter().filter_map(|v| v.sql.clone()));
        out
    }

    /// The plan as a TOML document (see `docs/postgres_migration.md` for the format).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# the plan could not be written as TOML: {e}\n"))
    }

    /// Reads a plan written by [`Plan::to_toml`] (and possibly edited). Errors name the line
    /// and column.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, Path::new("<plan>"))
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading plan file `{}`", path.display()),
            source,
        })?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let location = e.span().map(|span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
            Error::PlanFile {
                path: path.to_path_buf(),
                message: format!("{}{}", location.unwrap_or_default(), e.message().trim()),
            }
        })
    }

    /// Plans again from `source` with this plan's options (as edited in the plan file).
    pub fn replan(&self, source: &Path) -> Result<Plan> {
        crate::transfer::plan::plan(source, &self.options)
    }

    /// The review items that make the plan fail as it stands.
    pub fn blocking(&self) -> impl Iterator<Item = &ReviewItem> {
        self.review
            .iter()
            .filter(|r| r.severity == Severity::Blocking)
    }

    /// The plan of the SQLite table `source`.
    pub fn table(&self, source: &str) -> Option<&TablePlan> {
        self.tables.iter().find(|t| t.map.source == source)
    }
}

/// A review item.
pub(crate) fn item(
    severity: Severity,
    object: String,
    message: String,
    sql: Option<String>,
) -> ReviewItem {
    ReviewItem {
        severity,
        object,
        message,
        sql,
        not_carried: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::model::{ColumnMap, PgType, SourceKey, ValuePolicy};

    #[test]
    fn plan_files_round_trip_and_report_lines() {
        let plan = Plan {
            source: "x.db".into(),
            options: PlanOptions::default(),
            before: vec![],
            tables: vec![TablePlan {
                map: TableMap {
                    source: "T".into(),
                    target_schema: "public".into(),
                    target: "t".into(),
                    key: SourceKey::PrimaryKey(vec!["a".into()]),
                    generated: Vec::new(),
                    columns: vec![
                        ColumnMap {
                            source: "a".into(),
                            target: "a".into(),
                            pg_type: PgType::Numeric(None),
                            not_null: true,
                            policy: ValuePolicy::Reject,
                            conversion: None,
                            json_profiled: false,
                        },
                        ColumnMap {
                            source: "b".into(),
                            target: "b".into(),
                            pg_type: PgType::Numeric(Some((10, 2))),
                            not_null: false,
                            policy: ValuePolicy::Escape,
                            conversion: Some(crate::transfer::model::Conversion::UnixSeconds),
                            json_profiled: false,
                        },
                    ],
                },
                create: vec!["CREATE TABLE \"public\".\"t\" (\n    \"a\" numeric\n)".into()],
                after_load: vec![],
                foreign_keys: vec![ForeignKeyPlan {
                    name: "f".into(),
                    sql: "ALTER ...".into(),
                    orphan_rows: 2,
                    not_valid: true,
                    parent: "p".into(),
                }],
                identity: Some(IdentityPlan {
                    column: "a".into(),
                    restart_with: 5,
                    sql: "ALTER ...".into(),
                }),
                source_rows: 3,
            }],
            views: vec![],
            review: vec![item(
                Severity::Warning,
                "x".into(),
                "y".into(),
                Some("z".into()),
            )],
            decisions: vec![],
            accept: vec!["trigger `x`".into()],
        };
        let text = plan.to_toml();
        assert_eq!(Plan::from_toml(&text).unwrap(), plan);
        let broken = text.replacen("source_rows = 3", "source_rows = \"three\"", 1);
        let line = broken
            .lines()
            .position(|l| l.contains("\"three\""))
            .unwrap()
            + 1;
        let err = Plan::from_toml(&broken).unwrap_err().to_string();
        assert!(err.contains(&format!("line {line},")), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let typo = text.replacen("keep_case", "keep_kase", 1);
        assert!(Plan::from_toml(&typo)
            .unwrap_err()
            .to_string()
            .contains("keep_kase"));
    }
}
