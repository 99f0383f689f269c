//! The plan for people: [`render_text`] lays out the DDL in execution order, every column's type
//! decision with its reason, and the review list (widened columns with counts and examples,
//! flagged objects with their SQLite SQL). For machines, a [`Plan`] serializes to JSON with
//! serde (`serde_json::to_string_pretty(&plan)`) and to TOML with [`Plan::to_toml`].

use std::fmt::Write;

use crate::transfer::plan::cast::Decision;
use crate::transfer::plan::{ObjectKind, Plan, Severity};

/// The plan as text for a terminal or a review.
pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    summary(&mut out, plan);
    section(&mut out, "DDL, in execution order");
    ddl(&mut out, plan);
    section(&mut out, "Column types");
    for decision in &plan.decisions {
        column_type(&mut out, decision);
    }
    section(&mut out, "Review");
    review(&mut out, plan);
    out
}

/// The first two lines: what is planned, and how much there is to review.
fn summary(out: &mut String, plan: &Plan) {
    let rows: u64 = plan.tables.iter().map(|t| t.source_rows).sum();
    let _ = writeln!(
        out,
        "Plan for `{}` into schema `{}`: {} table(s), {rows} row(s), {} view(s), {} trigger(s)",
        plan.source,
        plan.options.target_schema,
        plan.tables.len(),
        plan.views
            .iter()
            .filter(|v| v.sql.is_some() && v.kind != ObjectKind::Trigger)
            .count(),
        plan.views
            .iter()
            .filter(|v| v.sql.is_some() && v.kind == ObjectKind::Trigger)
            .count()
    );
    let blocking = plan.blocking().count();
    let warnings = plan
        .review
        .iter()
        .filter(|r| r.severity == Severity::Warning)
        .count();
    let _ = writeln!(
        out,
        "Review: {blocking} blocking, {warnings} warning(s), {} note(s)",
        plan.review.len() - blocking - warnings
    );
}

/// Every statement in the order the transfer runs them.
fn ddl(out: &mut String, plan: &Plan) {
    for sql in &plan.before {
        statement(out, sql);
    }
    for table in &plan.tables {
        let _ = writeln!(
            out,
            "-- table `{}` -> {}",
            table.map.source,
            table.map.qualified_target()
        );
        for sql in &table.create {
            statement(out, sql);
        }
    }
    for table in &plan.tables {
        let _ = writeln!(
            out,
            "-- copy {} row(s) of `{}`, then:",
            table.source_rows, table.map.source
        );
        for sql in &table.after_load {
            statement(out, sql);
        }
        if let Some(identity) = &table.identity {
            statement(out, &identity.sql);
        }
    }
    let foreign_keys: Vec<_> = plan.tables.iter().flat_map(|t| &t.foreign_keys).collect();
    if !foreign_keys.is_empty() {
        let _ = writeln!(out, "-- foreign keys, after every table is loaded");
        for fk in foreign_keys {
            if fk.orphan_rows > 0 {
                let _ = writeln!(out, "-- {} orphan row(s)", fk.orphan_rows);
            }
            statement(out, &fk.sql);
        }
    }
    let views: Vec<_> = plan.views.iter().filter_map(|v| v.sql.as_ref()).collect();
    if !views.is_empty() {
        let _ = writeln!(
            out,
            "-- views, then triggers (after the data, so the copy does not fire them)"
        );
        for sql in views {
            statement(out, sql);
        }
    }
}

/// One column's type decision, with its reason, its values and examples.
fn column_type(out: &mut String, d: &Decision) {
    let declared = if d.declared.is_empty() {
        "(none)"
    } else {
        d.declared.as_str()
    };
    let conversion = d
        .conversion
        .map(|c| {
            format!(
                " via {}",
                serde_json::to_string(&c)
                    .unwrap_or_default()
                    .trim_matches('"')
            )
        })
        .unwrap_or_default();
    let mark = if d.flagged { "!" } else { " " };
    let _ = writeln!(
        out,
        "{mark} {}.{}: {declared} -> {}{conversion}  [{}]",
        d.table, d.column, d.chosen, d.rule
    );
    let _ = writeln!(out, "      {}", d.reason);
    let c = &d.counts;
    let _ = writeln!(
        out,
        "      values: {} integer, {} real, {} text, {} blob, {} null",
        c.integers, c.reals, c.texts, c.blobs, c.nulls
    );
    if d.widened {
        let _ = writeln!(
            out,
            "      {} value(s) do not fit the declared type",
            d.misfits
        );
    }
    if !d.examples.is_empty() {
        let _ = writeln!(
            out,
            "      examples: {}",
            d.examples
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The review list, blocking items first, each with its SQLite SQL.
fn review(out: &mut String, plan: &Plan) {
    if plan.review.is_empty() {
        let _ = writeln!(out, "nothing to review");
    }
    let mut items: Vec<_> = plan.review.iter().collect();
    items.sort_by_key(|r| std::cmp::Reverse(r.severity));
    for r in items {
        let level = match r.severity {
            Severity::Blocking => "BLOCKING",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        let _ = writeln!(out, "[{level}] {}: {}", r.object, r.message);
        if let Some(sql) = &r.sql {
            for line in sql.lines() {
                let _ = writeln!(out, "    | {line}");
            }
        }
    }
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n== {title} ==");
}

fn statement(out: &mut String, sql: &str) {
    let _ = writeln!(out, "{sql};");
}
