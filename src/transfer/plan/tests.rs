//! Planner decisions checked on facts built by hand, without a database.

use crate::transfer::error::Error;
use crate::transfer::plan::catalog::{Column, ForeignKey, Index, IndexOrigin, IndexPart, Table};
use crate::transfer::plan::facts::Facts;
use crate::transfer::plan::options::{OrphanPolicy, PlanOptions};
use crate::transfer::plan::planner;
use crate::transfer::plan::profile::{ColumnProfile, TableProfile};
use crate::transfer::plan::{Plan, Severity, Statement};

fn column(name: &str, declared: &str) -> Column {
    Column {
        name: name.into(),
        declared: declared.into(),
        ..Column::default()
    }
}

/// A rowid table whose first column is its `INTEGER PRIMARY KEY`.
fn table(name: &str, columns: &[(&str, &str)]) -> Table {
    let mut columns: Vec<Column> = columns.iter().map(|(n, d)| column(n, d)).collect();
    columns[0].pk_position = 1;
    Table {
        name: name.into(),
        primary_key: vec![columns[0].name.clone()],
        rowid_alias: Some(columns[0].name.clone()),
        columns,
        sql: format!("CREATE TABLE {name} (..)"),
        ..Table::default()
    }
}

/// `rows` rows: integers from 1 to `max` in the INTEGER columns, short words in the others.
fn profile(table: &Table, rows: u64, max: i64) -> TableProfile {
    let column = |c: &Column| match c.declared.as_str() {
        "INTEGER" => ColumnProfile {
            column: c.name.clone(),
            integers: rows,
            int_min: Some(1),
            int_max: Some(max),
            ..ColumnProfile::default()
        },
        _ => ColumnProfile {
            column: c.name.clone(),
            texts: rows,
            max_text_bytes: 8,
            ..ColumnProfile::default()
        },
    };
    TableProfile {
        table: table.name.clone(),
        rows,
        columns: table.columns.iter().map(column).collect(),
    }
}

fn facts(tables: Vec<Table>) -> Facts {
    let mut facts = Facts {
        source: "hand.db".into(),
        ..Facts::default()
    };
    facts.profiles = tables.iter().map(|t| profile(t, 10, 10)).collect();
    facts.schema.tables = tables;
    facts
}

/// Parent `p` and child `c`, whose `p_id` references `p(id)`.
fn parent_and_child() -> Facts {
    let mut child = table("c", &[("id", "INTEGER"), ("p_id", "INTEGER")]);
    child.foreign_keys.push(ForeignKey {
        name: None,
        columns: vec!["p_id".into()],
        parent: "p".into(),
        parent_columns: vec!["id".into()],
        on_update: "NO ACTION".into(),
        on_delete: "CASCADE".into(),
        deferrable: None,
    });
    facts(vec![table("p", &[("id", "INTEGER")]), child])
}

fn review_of<'p>(plan: &'p Plan, object: &str) -> Vec<&'p crate::transfer::plan::ReviewItem> {
    plan.review.iter().filter(|r| r.object == object).collect()
}

#[test]
fn a_foreign_key_with_orphans_is_added_not_valid() {
    let mut facts = parent_and_child();
    facts.orphans.insert((1, 0), Ok(3));
    let plan = planner::plan(facts, &PlanOptions::default()).unwrap();
    let key = &plan.table("c").unwrap().foreign_keys[0];
    assert_eq!((key.orphan_rows, key.not_valid), (3, true));
    assert_eq!(key.name, "c_p_id_fkey");
    assert!(matches!(key.sql, Statement::AddForeignKey(_)));
    assert!(
        key.sql.ends_with("ON DELETE CASCADE NOT VALID"),
        "{}",
        key.sql
    );
    let items = review_of(&plan, "foreign key `c(p_id)` -> `p(id)`");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].severity, Severity::Warning);
    assert_eq!(plan.blocking().count(), 0);
}

#[test]
fn a_foreign_key_with_orphans_blocks_when_asked_to_fail() {
    let mut facts = parent_and_child();
    facts.orphans.insert((1, 0), Ok(2));
    let options = PlanOptions {
        on_orphans: OrphanPolicy::Fail,
        ..PlanOptions::default()
    };
    let plan = planner::plan(facts, &options).unwrap();
    let key = &plan.table("c").unwrap().foreign_keys[0];
    assert!(!key.not_valid && !key.sql.contains("NOT VALID"));
    assert_eq!(plan.blocking().count(), 1);
}

#[test]
fn a_foreign_key_without_orphans_is_valid_and_a_failed_count_fails_the_plan() {
    let plan = planner::plan(parent_and_child(), &PlanOptions::default()).unwrap();
    let key = &plan.table("c").unwrap().foreign_keys[0];
    assert_eq!((key.orphan_rows, key.not_valid), (0, false));
    assert!(plan
        .review
        .iter()
        .all(|r| !r.object.starts_with("foreign key")));

    let mut facts = parent_and_child();
    facts
        .orphans
        .insert((1, 0), Err(Error::Invalid("the count failed".into())));
    let err = planner::plan(facts, &PlanOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "the count failed");
}

#[test]
fn a_foreign_key_to_a_table_left_out_is_not_created() {
    let mut facts = parent_and_child();
    let parent = facts.schema.tables.remove(0);
    facts.profiles.remove(0);
    facts.left_out.push(parent);
    let plan = planner::plan(facts, &PlanOptions::default()).unwrap();
    assert!(plan.table("c").unwrap().foreign_keys.is_empty());
    let items = review_of(&plan, "foreign key `c(p_id)` -> `p(id)`");
    assert!(
        items[0].message.contains("not part of the plan"),
        "{items:?}"
    );
    assert_eq!(review_of(&plan, "table `p`")[0].severity, Severity::Info);
}

#[test]
fn colliding_names_are_renamed_and_noted() {
    let users = table(
        "Users",
        &[("id", "INTEGER"), ("Name", "TEXT"), ("name", "TEXT")],
    );
    let lower = table("users", &[("id", "INTEGER")]);
    let plan = planner::plan(facts(vec![users, lower]), &PlanOptions::default()).unwrap();
    let targets: Vec<&str> = plan.tables.iter().map(|t| t.map.target.as_str()).collect();
    assert_eq!(targets, ["users", "users_2"]);
    let note = review_of(&plan, "table `users`");
    assert!(
        note[0].message
            == "renamed to `users_2` because its PostgreSQL name collides with another one",
        "{note:?}"
    );
    let columns: Vec<&str> = plan.tables[0]
        .map
        .columns
        .iter()
        .map(|c| c.target.as_str())
        .collect();
    assert_eq!(columns, ["id", "name", "name_2"]);
    let note = review_of(&plan, "column `Users.name`");
    assert!(
        note[0].message.starts_with("renamed to `name_2`"),
        "{note:?}"
    );
    assert!(review_of(&plan, "table `Users`").is_empty());
}

#[test]
fn the_identity_restarts_past_both_the_largest_id_and_the_sqlite_sequence() {
    let restart_with = |sequence| {
        let mut t = table("t", &[("id", "INTEGER"), ("n", "INTEGER")]);
        t.sequence = sequence;
        let mut facts = facts(vec![t]);
        facts.profiles[0] = profile(&facts.schema.tables[0], 5, 41);
        let plan = planner::plan(facts, &PlanOptions::default()).unwrap();
        let identity = plan.tables[0].identity.clone().unwrap();
        assert_eq!(identity.column, "id");
        assert!(matches!(identity.sql, Statement::RestartIdentity(_)));
        identity.restart_with
    };
    assert_eq!(restart_with(Some(99)), 100);
    assert_eq!(restart_with(None), 42);
}

#[test]
fn statements_are_typed_where_they_stand() {
    let mut t = table("t", &[("id", "INTEGER"), ("code", "TEXT")]);
    t.indexes.push(Index {
        name: "t_code".into(),
        unique: true,
        origin: IndexOrigin::Unique,
        parts: vec![IndexPart {
            column: Some("code".into()),
            expression: None,
            descending: false,
            collation: None,
        }],
        where_sql: None,
        sql: None,
    });
    t.checks.push(crate::transfer::plan::catalog::Check {
        name: None,
        sql: "length(code) < 9".into(),
        column: None,
    });
    let options = PlanOptions {
        target_schema: "app".into(),
        ..PlanOptions::default()
    };
    let plan = planner::plan(facts(vec![t]), &options).unwrap();
    assert!(matches!(plan.before[..], [Statement::CreateSchema(_)]));
    let table = &plan.tables[0];
    assert!(
        matches!(
            table.create[..],
            [Statement::CreateTable(_), Statement::AddCheck(_)]
        ),
        "{:?}",
        table.create
    );
    assert!(matches!(
        table.after_load[..],
        [Statement::AddPrimaryKey(_), Statement::AddUnique(_)]
    ));
    let text = plan.to_toml();
    assert_eq!(Plan::from_toml(&text).unwrap(), plan);
}

/// A table with a unique index over text timestamps, which PostgreSQL compares as instants.
fn timestamps_under_a_unique_key() -> Facts {
    let mut t = table("t", &[("id", "INTEGER"), ("at", "DATETIME")]);
    t.indexes.push(Index {
        name: "t_at".into(),
        unique: true,
        origin: IndexOrigin::Unique,
        parts: vec![IndexPart {
            column: Some("at".into()),
            expression: None,
            descending: false,
            collation: None,
        }],
        where_sql: None,
        sql: None,
    });
    let mut facts = facts(vec![t]);
    facts.profiles[0].columns[1] = ColumnProfile {
        column: "at".into(),
        texts: 10,
        text_timestamps: 10,
        ..ColumnProfile::default()
    };
    facts
}

#[test]
fn a_unique_key_that_collides_once_converted_blocks() {
    let options = PlanOptions::default();
    let keys = planner::keys_to_probe(&timestamps_under_a_unique_key(), &options).unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].columns[0].source, "at");
    let plan = planner::plan(timestamps_under_a_unique_key(), &options).unwrap();
    assert_eq!(plan.blocking().count(), 0);
    let mut facts = timestamps_under_a_unique_key();
    facts.collisions.push((keys[0].clone(), 2));
    let plan = planner::plan(facts, &options).unwrap();
    let blocking: Vec<_> = plan.blocking().collect();
    assert_eq!(blocking.len(), 1);
    assert!(
        blocking[0].message.contains("2 row(s) repeat"),
        "{blocking:?}"
    );
}
