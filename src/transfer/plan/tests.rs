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
    // A name lowercasing leaves as it is keeps it, wherever it stands in the catalog; only the
    // name lowercasing changes takes a suffix.
    let users = table(
        "Users",
        &[("id", "INTEGER"), ("Name", "TEXT"), ("name", "TEXT")],
    );
    let lower = table("users", &[("id", "INTEGER")]);
    let plan = planner::plan(facts(vec![users, lower]), &PlanOptions::default()).unwrap();
    let targets: Vec<&str> = plan.tables.iter().map(|t| t.map.target.as_str()).collect();
    assert_eq!(targets, ["users_2", "users"]);
    let note = review_of(&plan, "table `Users`");
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
    assert_eq!(columns, ["id", "name_2", "name"]);
    let note = review_of(&plan, "column `Users.Name`");
    assert!(
        note[0].message.starts_with("renamed to `name_2`"),
        "{note:?}"
    );
    assert!(review_of(&plan, "table `users`").is_empty());
    assert!(review_of(&plan, "column `Users.name`").is_empty());
}

#[test]
fn a_rename_never_takes_another_tables_exact_name() {
    // `Äb` lowercases to `äb`, which `äb` keeps; its numbered variant `äb_2` is the exact
    // name of a third table, so it takes `äb_3`.
    let tables = vec![
        table("Äb", &[("id", "INTEGER")]),
        table("äb", &[("id", "INTEGER")]),
        table("äb_2", &[("id", "INTEGER")]),
    ];
    let plan = planner::plan(facts(tables), &PlanOptions::default()).unwrap();
    let targets: Vec<&str> = plan.tables.iter().map(|t| t.map.target.as_str()).collect();
    assert_eq!(targets, ["äb_3", "äb", "äb_2"]);
}

#[test]
fn system_column_names_are_renamed_in_the_plan() {
    let t = table(
        "t",
        &[
            ("id", "INTEGER"),
            ("ctid", "TEXT"),
            ("XMIN", "TEXT"),
            ("tableoid", "TEXT"),
            ("cmin", "TEXT"),
            ("cmax", "TEXT"),
            ("xmax", "TEXT"),
            ("oid", "TEXT"),
        ],
    );
    let plan = planner::plan(facts(vec![t]), &PlanOptions::default()).unwrap();
    let columns: Vec<&str> = plan.tables[0]
        .map
        .columns
        .iter()
        .map(|c| c.target.as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "id",
            "ctid_2",
            "xmin_2",
            "tableoid_2",
            "cmin_2",
            "cmax_2",
            "xmax_2",
            "oid"
        ]
    );
    let note = review_of(&plan, "column `t.ctid`");
    assert_eq!(
        note[0].message,
        "renamed to `ctid_2` because PostgreSQL reserves the name for a system column"
    );
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
fn a_unique_key_that_collides_once_typed_keeps_its_column_as_text() {
    let options = PlanOptions::default();
    let keys = planner::keys_to_probe(&timestamps_under_a_unique_key(), &options).unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].columns[0].source, "at");
    let plan = planner::plan(timestamps_under_a_unique_key(), &options).unwrap();
    assert_eq!(plan.blocking().count(), 0);
    assert_eq!(plan.decisions[1].chosen, "timestamp");
    let mut facts = timestamps_under_a_unique_key();
    facts.collisions.push((keys[0].clone(), 2));
    let plan = planner::plan(facts, &options).unwrap();
    assert_eq!(plan.blocking().count(), 0, "{:?}", plan.review);
    let at = &plan.decisions[1];
    assert_eq!(
        (at.chosen.as_str(), at.rule.as_str()),
        ("text", "key.typed_collision")
    );
    assert!(
        at.flagged && at.reason.starts_with("2 row(s) repeat"),
        "{at:?}"
    );
}

#[test]
fn a_check_the_rows_fail_is_added_not_valid_after_them_with_the_count() {
    let mut t = table("t", &[("id", "INTEGER"), ("n", "INTEGER")]);
    t.checks.push(crate::transfer::plan::catalog::Check {
        name: None,
        sql: "n > 0".into(),
        column: Some("n".into()),
    });
    let mut facts = facts(vec![t]);
    let plan = planner::plan(facts_clone_checks(&facts), &PlanOptions::default()).unwrap();
    let sql = |s: &Statement| s.sql().to_string();
    assert!(plan.tables[0]
        .create
        .iter()
        .any(|s| matches!(s, Statement::AddCheck(_))));
    facts.check_violations.insert((0, 0), 3);
    let plan = planner::plan(facts, &PlanOptions::default()).unwrap();
    let table = &plan.tables[0];
    assert!(!table
        .create
        .iter()
        .any(|s| matches!(s, Statement::AddCheck(_))));
    let after: Vec<String> = table.after_load.iter().map(sql).collect();
    assert!(
        after
            .iter()
            .any(|s| s.contains("CHECK") && s.ends_with("NOT VALID")),
        "{after:?}"
    );
    let item = &review_of(&plan, "table `t`")[0];
    assert_eq!(item.severity, Severity::Warning);
    assert!(
        item.message
            .starts_with("3 row(s) of the source fail this CHECK"),
        "{item:?}"
    );
}

/// The same facts without their check counts, for the plan before the counts are known.
fn facts_clone_checks(facts: &Facts) -> Facts {
    let mut copy = self::facts(facts.schema.tables.clone());
    copy.profiles = facts.profiles.clone();
    copy
}
