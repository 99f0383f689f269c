//! The plan's DDL as typed [`Statement`]s: what each statement does, and its SQL.
//!
//! The planner describes a statement as a `Definition` (the names, columns and expressions it
//! needs) and `Definition::render` writes its SQL, the one place plan DDL is written. A plan
//! file holds only the SQL, which users may edit; when it is read back, each statement is
//! classified once, from where it stands in the plan ([`Place`]) and its leading keywords, so
//! the runner decides by variant and never looks at SQL text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::sql::{tokenize, Token};
use crate::transfer::plan::ddl::{self, q, CheckDef, ColumnDef, ForeignKeyDef};

/// One DDL statement of a plan, with its SQL. It dereferences to the SQL and serializes as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `CREATE SCHEMA IF NOT EXISTS ..`.
    CreateSchema(String),
    /// `CREATE EXTENSION IF NOT EXISTS ..`.
    CreateExtension(String),
    /// `CREATE TABLE ..` with columns, NOT NULL, DEFAULT, identity and generated columns.
    CreateTable(String),
    /// `ALTER TABLE .. ADD [CONSTRAINT ..] CHECK (..)`: PostgreSQL may refuse it, and the table
    /// is still loaded without it.
    AddCheck(String),
    /// `ALTER TABLE .. ADD CONSTRAINT .. PRIMARY KEY (..)`.
    AddPrimaryKey(String),
    /// `ALTER TABLE .. ADD CONSTRAINT .. UNIQUE (..)`.
    AddUnique(String),
    /// `CREATE [UNIQUE] INDEX ..`.
    CreateIndex(String),
    /// `ALTER TABLE .. ADD CONSTRAINT .. FOREIGN KEY ..`.
    AddForeignKey(String),
    /// `SELECT .. setval(..)`: moves an identity's sequence past the copied ids.
    RestartIdentity(String),
    /// `CREATE VIEW ..`.
    CreateView(String),
    /// `CREATE FUNCTION .. RETURNS trigger ..; CREATE TRIGGER ..`: a SQLite trigger as a
    /// PL/pgSQL function and the row-level trigger that runs it, created after the data.
    CreateTrigger(String),
    /// A statement of a plan file that is none of the above where it stands (edited by hand).
    Other(String),
}

/// Where a statement stands in a plan, which decides the kinds it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `Plan::before`: schema and extensions.
    Before,
    /// `TablePlan::create`: the table and its CHECKs.
    Create,
    /// `TablePlan::after_load`: keys and indexes.
    AfterLoad,
    /// `ForeignKeyPlan::sql`.
    ForeignKey,
    /// `IdentityPlan::sql`.
    Identity,
    /// `ObjectPlan::sql` of a view or trigger.
    View,
}

/// What a statement does, with what its SQL needs: the planner's side of a [`Statement`].
#[derive(Debug, Clone)]
pub(crate) enum Definition<'a> {
    CreateSchema {
        schema: &'a str,
    },
    CreateExtension {
        extension: &'a str,
    },
    CreateTable {
        table: &'a str,
        columns: &'a [ColumnDef],
    },
    AddCheck {
        table: &'a str,
        check: &'a CheckDef,
    },
    AddPrimaryKey {
        table: &'a str,
        name: &'a str,
        columns: &'a [String],
    },
    AddUnique {
        table: &'a str,
        name: &'a str,
        columns: &'a [String],
    },
    CreateIndex(Index<'a>),
    AddForeignKey {
        table: &'a str,
        key: &'a ForeignKeyDef,
    },
    RestartIdentity {
        table: &'a str,
        column: &'a str,
        restart_with: i64,
    },
    CreateView {
        view: &'a str,
        columns: &'a [String],
        query: &'a str,
    },
    CreateTrigger(ddl::TriggerDef),
}

/// A `CREATE [UNIQUE] INDEX`: `parts` are already rendered (quoted columns, `lower("c")`,
/// `DESC`).
#[derive(Debug, Clone)]
pub(crate) struct Index<'a> {
    pub name: &'a str,
    pub table: &'a str,
    pub unique: bool,
    /// `USING ..`, when not btree.
    pub method: Option<&'a str>,
    pub parts: &'a [String],
    pub where_sql: Option<&'a str>,
}

impl Definition<'_> {
    /// Writes the statement's SQL.
    pub(crate) fn render(&self) -> Statement {
        match self {
            Definition::CreateSchema { schema } => {
                Statement::CreateSchema(format!("CREATE SCHEMA IF NOT EXISTS {}", q(schema)))
            }
            Definition::CreateExtension { extension } => {
                Statement::CreateExtension(format!("CREATE EXTENSION IF NOT EXISTS {extension}"))
            }
            Definition::CreateTable { table, columns } => {
                Statement::CreateTable(ddl::create_table(table, columns, &[]))
            }
            Definition::AddCheck { table, check } => {
                Statement::AddCheck(ddl::add_check(table, check))
            }
            Definition::AddPrimaryKey {
                table,
                name,
                columns,
            } => Statement::AddPrimaryKey(ddl::add_primary_key(table, name, columns)),
            Definition::AddUnique {
                table,
                name,
                columns,
            } => Statement::AddUnique(ddl::add_unique(table, name, columns)),
            Definition::CreateIndex(index) => Statement::CreateIndex(ddl::create_index(
                index.name,
                index.table,
                index.unique,
                index.method,
                index.parts,
                index.where_sql,
            )),
            Definition::AddForeignKey { table, key } => {
                Statement::AddForeignKey(ddl::add_foreign_key(table, key))
            }
            Definition::RestartIdentity {
                table,
                column,
                restart_with,
            } => Statement::RestartIdentity(ddl::restart_identity(table, column, *restart_with)),
            Definition::CreateView {
                view,
                columns,
                query,
            } => Statement::CreateView(ddl::create_view(view, columns, query)),
            Definition::CreateTrigger(trigger) => {
                Statement::CreateTrigger(ddl::create_trigger(trigger))
            }
        }
    }
}

impl Statement {
    /// The SQL.
    pub fn sql(&self) -> &str {
        match self {
            Statement::CreateSchema(sql)
            | Statement::CreateExtension(sql)
            | Statement::CreateTable(sql)
            | Statement::AddCheck(sql)
            | Statement::AddPrimaryKey(sql)
            | Statement::AddUnique(sql)
            | Statement::CreateIndex(sql)
            | Statement::AddForeignKey(sql)
            | Statement::RestartIdentity(sql)
            | Statement::CreateView(sql)
            | Statement::CreateTrigger(sql)
            | Statement::Other(sql) => sql,
        }
    }

    /// Classifies `sql` read from the plan file at `place`: by its leading keywords, kept only
    /// when that kind of statement belongs there, [`Statement::Other`] otherwise.
    pub fn read(place: Place, sql: String) -> Statement {
        let statement = Statement::from(sql);
        let belongs = matches!(
            (&statement, place),
            (
                Statement::CreateSchema(_) | Statement::CreateExtension(_),
                Place::Before
            ) | (
                Statement::CreateTable(_) | Statement::AddCheck(_),
                Place::Create
            ) | (
                Statement::AddPrimaryKey(_)
                    | Statement::AddUnique(_)
                    | Statement::CreateIndex(_)
                    | Statement::AddCheck(_),
                Place::AfterLoad,
            ) | (Statement::AddForeignKey(_), Place::ForeignKey)
                | (Statement::RestartIdentity(_), Place::Identity)
                | (
                    Statement::CreateView(_) | Statement::CreateTrigger(_),
                    Place::View
                )
        );
        if belongs {
            statement
        } else {
            Statement::Other(statement.into_sql())
        }
    }

    fn into_sql(self) -> String {
        match self {
            Statement::CreateSchema(sql)
            | Statement::CreateExtension(sql)
            | Statement::CreateTable(sql)
            | Statement::AddCheck(sql)
            | Statement::AddPrimaryKey(sql)
            | Statement::AddUnique(sql)
            | Statement::CreateIndex(sql)
            | Statement::AddForeignKey(sql)
            | Statement::RestartIdentity(sql)
            | Statement::CreateView(sql)
            | Statement::CreateTrigger(sql)
            | Statement::Other(sql) => sql,
        }
    }
}

/// The kind of statement `sql` is by its leading keywords alone, wherever it stands.
fn kind_of(tokens: &[Token<'_>]) -> fn(String) -> Statement {
    let word = |i: usize, keyword: &str| tokens.get(i).is_some_and(|t| t.is_word(keyword));
    if word(0, "CREATE") {
        let unique = usize::from(word(1, "UNIQUE"));
        let replace = if word(1, "OR") && word(2, "REPLACE") {
            2
        } else {
            0
        };
        return if word(1, "SCHEMA") {
            Statement::CreateSchema
        } else if word(1, "EXTENSION") {
            Statement::CreateExtension
        } else if word(1, "TABLE") {
            Statement::CreateTable
        } else if word(1 + unique, "INDEX") {
            Statement::CreateIndex
        } else if word(1 + replace, "VIEW") {
            Statement::CreateView
        } else if word(1 + replace, "FUNCTION") {
            Statement::CreateTrigger
        } else {
            Statement::Other
        };
    }
    if word(0, "SELECT") && tokens.iter().any(|t| t.is_word("setval")) {
        return Statement::RestartIdentity;
    }
    if !(word(0, "ALTER") && word(1, "TABLE")) {
        return Statement::Other;
    }
    // ALTER TABLE name ADD [CONSTRAINT name] <what>: the table name may be qualified, so the
    // first ADD decides where the constraint starts.
    let Some(add) = tokens.iter().position(|t| t.is_word("ADD")) else {
        return Statement::Other;
    };
    let what = if word(add + 1, "CONSTRAINT") {
        add + 3
    } else {
        add + 1
    };
    if word(what, "CHECK") {
        Statement::AddCheck
    } else if word(what, "PRIMARY") {
        Statement::AddPrimaryKey
    } else if word(what, "UNIQUE") {
        Statement::AddUnique
    } else if word(what, "FOREIGN") {
        Statement::AddForeignKey
    } else {
        Statement::Other
    }
}

/// Classifies `sql` by its leading keywords alone (see [`Statement::read`] for a plan file).
impl From<String> for Statement {
    fn from(sql: String) -> Statement {
        let kind = kind_of(&tokenize(&sql));
        kind(sql)
    }
}

impl From<&str> for Statement {
    fn from(sql: &str) -> Statement {
        Statement::from(sql.to_string())
    }
}

impl std::ops::Deref for Statement {
    type Target = str;

    fn deref(&self) -> &str {
        self.sql()
    }
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sql())
    }
}

impl PartialEq<String> for Statement {
    fn eq(&self, other: &String) -> bool {
        self.sql() == other
    }
}

impl PartialEq<&str> for Statement {
    fn eq(&self, other: &&str) -> bool {
        self.sql() == *other
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.sql())
    }
}

impl<'de> Deserialize<'de> for Statement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Statement::from)
    }
}

/// Reads the statements of one place of a plan file (`#[serde(deserialize_with)]`).
fn read_all<'de, D: Deserializer<'de>>(
    place: Place,
    deserializer: D,
) -> Result<Vec<Statement>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    Ok(texts
        .into_iter()
        .map(|sql| Statement::read(place, sql))
        .collect())
}

pub(crate) fn read_before<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    read_all(Place::Before, d)
}

pub(crate) fn read_create<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    read_all(Place::Create, d)
}

pub(crate) fn read_after_load<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Statement>, D::Error> {
    read_all(Place::AfterLoad, d)
}

pub(crate) fn read_foreign_key<'de, D: Deserializer<'de>>(d: D) -> Result<Statement, D::Error> {
    String::deserialize(d).map(|sql| Statement::read(Place::ForeignKey, sql))
}

pub(crate) fn read_identity<'de, D: Deserializer<'de>>(d: D) -> Result<Statement, D::Error> {
    String::deserialize(d).map(|sql| Statement::read(Place::Identity, sql))
}

pub(crate) fn read_view<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Statement>, D::Error> {
    Option::<String>::deserialize(d).map(|sql| sql.map(|sql| Statement::read(Place::View, sql)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_statements_read_back_as_the_same_variant() {
        let columns = vec!["a".to_string()];
        let check = CheckDef {
            name: Some("positive".into()),
            sql: "a > 0".into(),
        };
        let key = ForeignKeyDef {
            name: "t_a_fkey".into(),
            columns: columns.clone(),
            parent: "\"public\".\"p\"".into(),
            parent_columns: columns.clone(),
            on_delete: String::new(),
            on_update: String::new(),
            deferrable: None,
            not_valid: true,
        };
        let table = "\"s\".\"t\"";
        let cases = [
            (Place::Before, Definition::CreateSchema { schema: "s" }),
            (
                Place::Before,
                Definition::CreateExtension {
                    extension: "citext",
                },
            ),
            (
                Place::Create,
                Definition::CreateTable {
                    table,
                    columns: &[],
                },
            ),
            (
                Place::Create,
                Definition::AddCheck {
                    table,
                    check: &check,
                },
            ),
            (
                Place::Create,
                Definition::AddCheck {
                    table,
                    check: &CheckDef {
                        name: None,
                        sql: "a > 0".into(),
                    },
                },
            ),
            (
                Place::AfterLoad,
                Definition::AddPrimaryKey {
                    table,
                    name: "t_pkey",
                    columns: &columns,
                },
            ),
            (
                Place::AfterLoad,
                Definition::AddUnique {
                    table,
                    name: "t_a_key",
                    columns: &columns,
                },
            ),
            (
                Place::AfterLoad,
                Definition::CreateIndex(Index {
                    name: "t_a_idx",
                    table,
                    unique: true,
                    method: None,
                    parts: &columns,
                    where_sql: Some("a > 0"),
                }),
            ),
            (
                Place::ForeignKey,
                Definition::AddForeignKey { table, key: &key },
            ),
            (
                Place::Identity,
                Definition::RestartIdentity {
                    table,
                    column: "a",
                    restart_with: 5,
                },
            ),
            (
                Place::View,
                Definition::CreateView {
                    view: "\"s\".\"v\"",
                    columns: &columns,
                    query: "SELECT 1",
                },
            ),
        ];
        for (place, definition) in cases {
            let statement = definition.render();
            assert_ne!(statement, Statement::Other(statement.to_string()));
            assert_eq!(Statement::read(place, statement.to_string()), statement);
        }
    }

    #[test]
    fn edited_statements_are_classified_where_they_stand() {
        let check = "alter table \"t\" add constraint \"c\" check (a > 0)";
        assert!(matches!(
            Statement::read(Place::Create, check.into()),
            Statement::AddCheck(_)
        ));
        // Among the keys, a CHECK is one the rows fail, added NOT VALID after them.
        assert!(matches!(
            Statement::read(Place::AfterLoad, format!("{check} NOT VALID")),
            Statement::AddCheck(_)
        ));
        assert!(matches!(
            Statement::read(Place::ForeignKey, check.into()),
            Statement::Other(_)
        ));
        assert!(matches!(
            Statement::read(
                Place::Create,
                "CREATE TABLE t (a int); COMMENT ON TABLE t IS 'x'".into()
            ),
            Statement::CreateTable(_)
        ));
        assert!(matches!(
            Statement::read(Place::View, "CREATE OR REPLACE VIEW v AS SELECT 1".into()),
            Statement::CreateView(_)
        ));
        assert!(matches!(
            Statement::read(Place::Create, "ALTER TABLE t ADD COLUMN b int".into()),
            Statement::Other(_)
        ));
    }
}
