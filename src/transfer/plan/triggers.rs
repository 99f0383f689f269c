//! Triggers: each SQLite trigger becomes a PL/pgSQL function and a row-level trigger that runs
//! it (SQLite's triggers are all `FOR EACH ROW`), created after the data so they do not fire
//! during the copy. The body's expressions go through the same translator as views, with
//! `NEW` and `OLD` as the row records; `RAISE(..)` becomes `RAISE EXCEPTION` (or `RETURN NULL`
//! for `IGNORE`). SQLite does not fire a trigger again from its own body (recursive triggers
//! are off by default); PostgreSQL would, so the function marks itself running in a
//! transaction-local setting and does nothing while it is set. A trigger whose form or body
//! cannot keep its meaning is flagged with its SQL.

use crate::sql::{matching_paren, span, split_top_level, tokenize, Token, TokenKind};
use crate::transfer::model::{ColumnMap, TableMap};
use crate::transfer::plan::catalog::Trigger;
use crate::transfer::plan::ddl::{
    self, q, qualified, short_hash, translate, translate_condition, DefaultSql, Scope,
    ScopeRelation, TriggerDef,
};
use crate::transfer::plan::document::{ObjectKind, ObjectPlan};
use crate::transfer::plan::planner::Planner;
use crate::transfer::plan::statement::Definition;

/// When a trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    Before,
    After,
    InsteadOf,
}

/// The change that fires a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Insert,
    Update,
    Delete,
}

/// A `CREATE TRIGGER` statement taken apart.
#[derive(Debug)]
struct Parsed<'s> {
    timing: Timing,
    event: Event,
    /// `UPDATE OF` columns (SQLite names).
    of_columns: Vec<String>,
    table: String,
    when: Option<&'s str>,
    /// The body's statements, without their `;`.
    body: Vec<&'s str>,
}

/// Takes a `CREATE TRIGGER` apart; `Err` names what is not understood.
fn parse(sql: &str) -> Result<Parsed<'_>, String> {
    let tokens = tokenize(sql);
    let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(w));
    let punct = |i: usize, p: &str| tokens.get(i).is_some_and(|t| t.is_punct(p));
    let mut i = usize::from(word(1, "TEMP") || word(1, "TEMPORARY")) + 1;
    if !word(0, "CREATE") || !word(i, "TRIGGER") {
        return Err("not a CREATE TRIGGER statement".into());
    }
    i += 1;
    if word(i, "IF") {
        i += 3;
    }
    i += if punct(i + 1, ".") { 3 } else { 1 };
    let timing = if word(i, "BEFORE") {
        i += 1;
        Timing::Before
    } else if word(i, "AFTER") {
        i += 1;
        Timing::After
    } else if word(i, "INSTEAD") && word(i + 1, "OF") {
        i += 2;
        Timing::InsteadOf
    } else {
        Timing::Before
    };
    let event = if word(i, "INSERT") {
        Event::Insert
    } else if word(i, "UPDATE") {
        Event::Update
    } else if word(i, "DELETE") {
        Event::Delete
    } else {
        return Err("its event is not INSERT, UPDATE or DELETE".into());
    };
    i += 1;
    let mut of_columns = Vec::new();
    if event == Event::Update && word(i, "OF") {
        i += 1;
        loop {
            let name = tokens
                .get(i)
                .and_then(Token::name)
                .ok_or("`UPDATE OF` without columns")?;
            of_columns.push(name);
            i += 1;
            if !punct(i, ",") {
                break;
            }
            i += 1;
        }
    }
    if !word(i, "ON") {
        return Err("no `ON table`".into());
    }
    i += 1;
    if punct(i + 1, ".") {
        i += 2;
    }
    let table = tokens.get(i).and_then(Token::name).ok_or("no table")?;
    i += 1;
    if word(i, "FOR") && word(i + 1, "EACH") && word(i + 2, "ROW") {
        i += 3;
    }
    let mut when = None;
    if word(i, "WHEN") {
        let begin = top_level(&tokens, i + 1, |t| t.is_word("BEGIN")).ok_or("no BEGIN")?;
        when = Some(span(sql, &tokens[i + 1..begin]));
        i = begin;
    }
    let last = tokens.len().saturating_sub(1);
    if !word(i, "BEGIN") || !word(last, "END") || last <= i + 1 {
        return Err("its body is not `BEGIN .. END`".into());
    }
    let mut body = Vec::new();
    let mut start = i + 1;
    while start < last {
        let end = top_level(&tokens[..last], start, |t| t.is_punct(";")).unwrap_or(last);
        if end > start {
            body.push(span(sql, &tokens[start..end]));
        }
        start = end + 1;
    }
    Ok(Parsed {
        timing,
        event,
        of_columns,
        table,
        when,
        body,
    })
}

/// The first token from `from` on, outside parentheses and `CASE .. END`, that `wanted` takes.
fn top_level(
    tokens: &[Token<'_>],
    from: usize,
    wanted: impl Fn(&Token<'_>) -> bool,
) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(from) {
        if depth == 0 && wanted(t) {
            return Some(i);
        }
        if t.is_punct("(") || t.is_word("CASE") {
            depth += 1;
        } else if t.is_punct(")") || t.is_word("END") {
            depth -= 1;
        }
    }
    None
}

/// What a trigger body may write to: a planned table.
struct Target<'p> {
    qualified: String,
    map: &'p TableMap,
    /// The identity column (PostgreSQL name): SQLite numbers a row given NULL there, as
    /// PostgreSQL does with `DEFAULT`.
    identity: Option<&'p str>,
}

impl Target<'_> {
    fn column(&self, source: &str) -> Result<&ColumnMap, String> {
        self.map
            .columns
            .iter()
            .find(|c| c.source.eq_ignore_ascii_case(source))
            .ok_or_else(|| {
                format!(
                    "table `{}` has no copied column `{source}`",
                    self.map.source
                )
            })
    }
}

/// One trigger being translated: the names its body may use and how it ends.
struct Body<'p> {
    scope: Scope,
    tables: Vec<Target<'p>>,
    timing: Timing,
    /// What the function returns to let the row change go on: `NEW`, `OLD` or `NULL`.
    pass: &'static str,
    /// The transaction-local setting that says the trigger is running.
    guard: String,
    /// Full-text tables carried as generated columns: writes to them are left out.
    obsolete: Vec<String>,
}

impl Body<'_> {
    fn table(&self, name: &str) -> Result<&Target<'_>, String> {
        self.tables
            .iter()
            .find(|t| t.map.source.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("it writes to `{name}`, which is not a copied table"))
    }

    /// The statement in PL/pgSQL; empty when it only writes to a full-text table carried as a
    /// generated column (which keeps itself up to date).
    fn statement(&self, sql: &str) -> Result<String, String> {
        let tokens = tokenize(sql);
        let first = tokens.first().ok_or("an empty statement")?;
        let written = match first.text.to_ascii_uppercase().as_str() {
            "INSERT" | "DELETE" => relation_at(&tokens, 2).ok(),
            "UPDATE" => relation_at(&tokens, 1).ok(),
            _ => None,
        };
        if written
            .is_some_and(|(name, _)| self.obsolete.iter().any(|o| o.eq_ignore_ascii_case(&name)))
        {
            return Ok(String::new());
        }
        if tokens
            .iter()
            .any(|t| t.is_word("RETURNING") || t.is_word("CONFLICT"))
        {
            return Err(
                "`ON CONFLICT` and `RETURNING` in a trigger body are not translated".into(),
            );
        }
        if first.is_word("INSERT") {
            self.insert(sql, &tokens)
        } else if first.is_word("UPDATE") {
            self.update(sql, &tokens)
        } else if first.is_word("DELETE") {
            self.delete(sql, &tokens)
        } else if first.is_word("SELECT") {
            self.select(sql, &tokens)
        } else {
            Err(format!(
                "a `{}` statement in a trigger body is not translated",
                first.text
            ))
        }
    }

    /// `INSERT INTO t [(columns)] VALUES (..), .. | SELECT .. | DEFAULT VALUES`.
    fn insert(&self, sql: &str, tokens: &[Token<'_>]) -> Result<String, String> {
        if !tokens.get(1).is_some_and(|t| t.is_word("INTO")) {
            return Err("`INSERT OR ..` in a trigger body is not translated (its conflict handling differs)".into());
        }
        let (table, mut i) = relation_at(tokens, 2)?;
        let target = self.table(&table)?;
        let columns: Vec<&ColumnMap> = if tokens.get(i).is_some_and(|t| t.is_punct("(")) {
            let close = matching_paren(tokens, i).ok_or("unbalanced parentheses")?;
            let names = split_top_level(&tokens[i + 1..close]);
            i = close + 1;
            names
                .iter()
                .map(|n| match n {
                    [name] => target.column(&name.name().unwrap_or_default()),
                    _ => Err("a column list that is not plain names".to_string()),
                })
                .collect::<Result<_, _>>()?
        } else {
            target.map.columns.iter().collect()
        };
        let list = columns
            .iter()
            .map(|c| q(&c.target))
            .collect::<Vec<_>>()
            .join(", ");
        let into = format!("INSERT INTO {} ({list})", target.qualified);
        let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(w));
        if word(i, "DEFAULT") && word(i + 1, "VALUES") {
            return Ok(format!("INSERT INTO {} DEFAULT VALUES;", target.qualified));
        }
        if word(i, "SELECT") || word(i, "WITH") {
            let select = translate(span(sql, &tokens[i..]), &self.scope)?;
            return Ok(format!("{into} {select};"));
        }
        if !word(i, "VALUES") {
            return Err("an INSERT that is not `VALUES`, `SELECT` or `DEFAULT VALUES`".into());
        }
        let mut rows = Vec::new();
        i += 1;
        while let Some(open) = tokens.get(i).filter(|t| t.is_punct("(")).map(|_| i) {
            let close = matching_paren(tokens, open).ok_or("unbalanced parentheses")?;
            let values = split_top_level(&tokens[open + 1..close]);
            if values.len() != columns.len() {
                return Err(format!(
                    "{} values for {} columns",
                    values.len(),
                    columns.len()
                ));
            }
            let values = values
                .iter()
                .zip(&columns)
                .map(|(v, c)| self.value(span(sql, v), target, c))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(format!("({})", values.join(", ")));
            i = close + 1;
            if !tokens.get(i).is_some_and(|t| t.is_punct(",")) {
                break;
            }
            i += 1;
        }
        if rows.is_empty() || i < tokens.len() {
            return Err("an INSERT whose VALUES are not plain rows".into());
        }
        Ok(format!("{into} VALUES {};", rows.join(", ")))
    }

    /// `UPDATE t SET a = .., b = .. [WHERE ..]`.
    fn update(&self, sql: &str, tokens: &[Token<'_>]) -> Result<String, String> {
        if tokens.get(1).is_some_and(|t| t.is_word("OR")) {
            return Err("`UPDATE OR ..` in a trigger body is not translated (its conflict handling differs)".into());
        }
        let (table, i) = relation_at(tokens, 1)?;
        let target = self.table(&table)?;
        if !tokens.get(i).is_some_and(|t| t.is_word("SET")) {
            return Err("an UPDATE without SET".into());
        }
        let end = top_level(tokens, i + 1, |t| {
            ["WHERE", "FROM", "ORDER", "LIMIT"]
                .iter()
                .any(|w| t.is_word(w))
        })
        .unwrap_or(tokens.len());
        let mut sets = Vec::new();
        for assignment in split_top_level(&tokens[i + 1..end]) {
            let [name, eq, value @ ..] = assignment else {
                return Err("an assignment that is not `column = value`".into());
            };
            if !eq.is_punct("=") || value.is_empty() || name.kind == TokenKind::Punct {
                return Err("an assignment that is not `column = value`".into());
            }
            let column = target.column(&name.name().unwrap_or_default())?;
            sets.push(format!(
                "{} = {}",
                q(&column.target),
                self.value(span(sql, value), target, column)?
            ));
        }
        let filter = self.filter(sql, &tokens[end..])?;
        Ok(format!(
            "UPDATE {} SET {}{filter};",
            target.qualified,
            sets.join(", ")
        ))
    }

    /// `DELETE FROM t [WHERE ..]`.
    fn delete(&self, sql: &str, tokens: &[Token<'_>]) -> Result<String, String> {
        if !tokens.get(1).is_some_and(|t| t.is_word("FROM")) {
            return Err("a DELETE without FROM".into());
        }
        let (table, i) = relation_at(tokens, 2)?;
        let target = self.table(&table)?;
        let filter = self.filter(sql, &tokens[i..])?;
        Ok(format!("DELETE FROM {}{filter};", target.qualified))
    }

    /// ` WHERE ..` of an UPDATE or DELETE, translated as a condition; nothing else may follow.
    fn filter(&self, sql: &str, tokens: &[Token<'_>]) -> Result<String, String> {
        match tokens {
            [] => Ok(String::new()),
            [w, condition @ ..] if w.is_word("WHERE") && !condition.is_empty() => Ok(format!(
                " WHERE {}",
                translate_condition(span(sql, condition), &self.scope)?
            )),
            _ => Err("an UPDATE or DELETE with `FROM`, `ORDER BY` or `LIMIT`".into()),
        }
    }

    /// A value written to `column`: a literal or the current time in the column's type (as a
    /// default would be), anything else translated as an expression.
    fn value(&self, sql: &str, target: &Target<'_>, column: &ColumnMap) -> Result<String, String> {
        if sql.trim().eq_ignore_ascii_case("NULL")
            && target.identity == Some(column.target.as_str())
        {
            return Ok("DEFAULT".into());
        }
        let plain = !tokenize(sql)
            .iter()
            .any(|t| t.kind == TokenKind::QuotedIdent || t.is_punct("."));
        if plain {
            if let DefaultSql::Sql(value) =
                ddl::translate_default(sql, &column.pg_type, column.conversion)
            {
                return Ok(value);
            }
        }
        translate(sql, &self.scope)
    }

    /// `SELECT RAISE(..) [FROM ..] [WHERE ..]` or `SELECT CASE WHEN c THEN RAISE(..) END ..`:
    /// the raise, under the condition that a row of the query exists.
    fn select(&self, sql: &str, tokens: &[Token<'_>]) -> Result<String, String> {
        let rest_at = top_level(tokens, 1, |t| t.is_word("FROM") || t.is_word("WHERE"))
            .unwrap_or(tokens.len());
        let items = split_top_level(&tokens[1..rest_at]);
        let [item] = items.as_slice() else {
            return Err("a SELECT in a trigger body that is not one `RAISE(..)`".into());
        };
        let (raise, condition) = match item {
            [r, open, ..] if r.is_word("RAISE") && open.is_punct("(") => (self.raise(item)?, None),
            [case, when, ..] if case.is_word("CASE") && when.is_word("WHEN") => {
                let then = top_level(item, 2, |t| t.is_word("THEN")).ok_or("CASE without THEN")?;
                let last = item.len() - 1;
                let raise_end = if item[last - 1].is_word("NULL") && item[last - 2].is_word("ELSE")
                {
                    last - 2
                } else {
                    last
                };
                if !item[last].is_word("END") {
                    return Err("a CASE that does not end in END".into());
                }
                let condition = span(sql, &item[2..then]);
                translate_condition(condition, &self.scope)?;
                (self.raise(&item[then + 1..raise_end])?, Some(condition))
            }
            _ => return Err("a SELECT in a trigger body that is not one `RAISE(..)`".into()),
        };
        let where_at = top_level(tokens, rest_at, |t| t.is_word("WHERE")).unwrap_or(tokens.len());
        let from = span(sql, &tokens[rest_at..where_at]);
        let mut conditions: Vec<String> = Vec::new();
        if where_at < tokens.len() {
            conditions.push(format!("({})", span(sql, &tokens[where_at + 1..])));
        }
        if let Some(c) = condition {
            conditions.push(format!("({c})"));
        }
        if from.is_empty() && conditions.is_empty() {
            return Ok(raise);
        }
        let mut query = format!("SELECT 1 {from}");
        if !conditions.is_empty() {
            query.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
        }
        let query = translate(&query, &self.scope)?;
        Ok(format!(
            "IF EXISTS ({query}) THEN\n        {raise}\n    END IF;"
        ))
    }

    /// `RAISE(IGNORE)` ends the trigger and skips the row; `RAISE(ABORT|FAIL|ROLLBACK, 'msg')`
    /// fails the statement with the message, as a constraint violation.
    fn raise(&self, tokens: &[Token<'_>]) -> Result<String, String> {
        let close = matching_paren(tokens, 1).ok_or("unbalanced parentheses")?;
        if !tokens[0].is_word("RAISE") || close + 1 != tokens.len() {
            return Err("a RAISE inside an expression is not translated".into());
        }
        let arguments = split_top_level(&tokens[2..close]);
        match arguments.as_slice() {
            [[kind]] if kind.is_word("IGNORE") => match self.timing {
                Timing::After => Err("`RAISE(IGNORE)` in an AFTER trigger abandons the rest of the statement in SQLite".into()),
                _ => Ok(format!("{}\n        RETURN NULL;", self.release())),
            },
            [[kind], [message]]
                if ["ABORT", "FAIL", "ROLLBACK"].iter().any(|k| kind.is_word(k))
                    && message.kind == TokenKind::String =>
            {
                Ok(format!(
                    "{}\n        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = {};",
                    self.release(),
                    message.text
                ))
            }
            _ => Err("a RAISE that is not `RAISE(IGNORE)` or `RAISE(ABORT|FAIL|ROLLBACK, 'message')`".into()),
        }
    }

    /// Marks the trigger as no longer running.
    fn release(&self) -> String {
        format!("PERFORM set_config('{}', '', true);", self.guard)
    }
}

/// A relation name at `at` (maybe `schema.name`) and the position after it.
fn relation_at(tokens: &[Token<'_>], at: usize) -> Result<(String, usize), String> {
    let at = if tokens.get(at + 1).is_some_and(|t| t.is_punct(".")) {
        at + 2
    } else {
        at
    };
    let name = tokens
        .get(at)
        .filter(|t| t.kind != TokenKind::Punct)
        .and_then(Token::name)
        .ok_or("no table name")?;
    Ok((name, at + 1))
}

/// Each trigger's PostgreSQL name, and whether it was prefixed to keep SQLite's firing order.
/// SQLite fires the triggers of one table, timing and event newest first (the last in
/// `sqlite_master`); PostgreSQL fires them by name. Where the names alone would fire them in
/// another order, each of that group gets a prefix with its place (`t01_`, `t02_`, ...).
fn firing_names(triggers: &[Trigger], keep_case: bool) -> Vec<(String, bool)> {
    let mut names: Vec<(String, bool)> = triggers
        .iter()
        .map(|t| (ddl::pg_name(&t.name, keep_case), false))
        .collect();
    let event_of = |t: &Trigger| {
        parse(&t.sql)
            .ok()
            .map(|p| (p.table.to_ascii_lowercase(), p.timing, p.event))
    };
    let events: Vec<_> = triggers.iter().map(event_of).collect();
    let mut done = vec![false; triggers.len()];
    for first in 0..triggers.len() {
        let Some(event) = &events[first] else {
            continue;
        };
        if done[first] {
            continue;
        }
        // SQLite's firing order: the newest first.
        let group: Vec<usize> = (first..triggers.len())
            .filter(|&i| events[i].as_ref() == Some(event))
            .rev()
            .collect();
        for &i in &group {
            done[i] = true;
        }
        let in_order = group
            .windows(2)
            .all(|pair| names[pair[0]].0.as_bytes() < names[pair[1]].0.as_bytes());
        if !in_order {
            for (place, &i) in group.iter().enumerate() {
                let prefixed = format!("t{:02}_{}", place + 1, triggers[i].name);
                names[i] = (ddl::pg_name(&prefixed, keep_case), true);
            }
        }
    }
    names
}

impl Planner<'_> {
    /// Plans every trigger: translated ones carry their function and trigger, the others are
    /// flagged with their SQL. `views` are the planned views (an `INSTEAD OF` trigger needs its
    /// view translated).
    pub(crate) fn plan_triggers(&mut self, views: &[ObjectPlan]) -> Vec<ObjectPlan> {
        let facts = self.facts;
        let mut out = Vec::new();
        let names = firing_names(&facts.schema.triggers, self.options.keep_case);
        for (trigger, (name, reordered)) in facts.schema.triggers.iter().zip(names) {
            if reordered {
                self.note(
                    format!("trigger `{}`", trigger.name),
                    format!("named `{name}` in PostgreSQL: it fires the triggers of one table and event by name, SQLite the newest first, and this name keeps SQLite's order"),
                    None,
                );
            }
            match self.translate_trigger(trigger, &name, views) {
                Ok(None) => self.note(
                    format!("trigger `{}`", trigger.name),
                    "not created: it only maintains a full-text table whose PostgreSQL tsvector column is generated and keeps itself up to date".into(),
                    Some(trigger.sql.clone()),
                ),
                Ok(Some((definition, note))) => out.push(ObjectPlan {
                    kind: ObjectKind::Trigger,
                    source: trigger.name.clone(),
                    target: name,
                    sql: Some(Definition::CreateTrigger(definition).render()),
                    original: trigger.sql.clone(),
                    note,
                }),
                Err(why) => {
                    let note = format!(
                        "not translated ({why}); rewrite it by hand as a PL/pgSQL trigger on `{}`",
                        trigger.table
                    );
                    self.lose(
                        format!("trigger `{}`", trigger.name),
                        note.clone(),
                        Some(trigger.sql.clone()),
                    );
                    out.push(ObjectPlan {
                        kind: ObjectKind::Trigger,
                        source: trigger.name.clone(),
                        target: name,
                        sql: None,
                        original: trigger.sql.clone(),
                        note,
                    });
                }
            }
        }
        out
    }

    fn translate_trigger(
        &mut self,
        trigger: &Trigger,
        name: &str,
        views: &[ObjectPlan],
    ) -> Result<Option<(TriggerDef, String)>, String> {
        let parsed = parse(&trigger.sql)?;
        let schema = self.options.target_schema.clone();
        let on_table = self
            .planned
            .iter()
            .find(|p| p.plan.map.source.eq_ignore_ascii_case(&parsed.table));
        let on_view = views.iter().find(|v| {
            v.kind == ObjectKind::View
                && v.sql.is_some()
                && v.source.eq_ignore_ascii_case(&parsed.table)
        });
        let table = match (parsed.timing, on_table, on_view) {
            (Timing::InsteadOf, _, Some(view)) => qualified(&schema, &view.target),
            (Timing::InsteadOf, _, None) => {
                return Err(format!("its view `{}` is not created", parsed.table))
            }
            (_, Some(planned), _) => planned.qualified.clone(),
            (_, None, _) => return Err(format!("its table `{}` is not copied", parsed.table)),
        };
        let event = match parsed.event {
            Event::Insert => "INSERT".to_string(),
            Event::Delete => "DELETE".to_string(),
            Event::Update if parsed.of_columns.is_empty() => "UPDATE".to_string(),
            Event::Update => {
                let (Some(planned), Timing::Before | Timing::After) = (on_table, parsed.timing)
                else {
                    return Err("`INSTEAD OF UPDATE OF` has no PostgreSQL form".into());
                };
                let columns = parsed
                    .of_columns
                    .iter()
                    .map(|c| {
                        planned
                            .columns
                            .iter()
                            .find(|p| p.source.eq_ignore_ascii_case(c))
                            .map(|p| q(&p.target))
                            .ok_or_else(|| format!("`UPDATE OF` names `{c}`, which is not copied"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                format!("UPDATE OF {}", columns.join(", "))
            }
        };
        let function = ddl::pg_name(&format!("{}_fn", trigger.name), true);
        let Some(body) = self.trigger_body(&parsed, &function)? else {
            return Ok(None);
        };
        let function = self.derived_name(function);
        let note = if trigger.sql.to_ascii_uppercase().contains("FAIL")
            || trigger.sql.to_ascii_uppercase().contains("ROLLBACK")
        {
            "RAISE(FAIL) and RAISE(ROLLBACK) fail the whole statement, as RAISE(ABORT) does"
                .to_string()
        } else {
            String::new()
        };
        Ok(Some((
            TriggerDef {
                function: qualified(&schema, &function),
                name: name.to_string(),
                timing: match parsed.timing {
                    Timing::Before => "BEFORE",
                    Timing::After => "AFTER",
                    Timing::InsteadOf => "INSTEAD OF",
                }
                .to_string(),
                event,
                table,
                body,
            },
            note,
        )))
    }

    /// The PL/pgSQL statements of the function: the recursion guard, the `WHEN`, the body.
    /// `None` when every statement only maintained a full-text table that needs no trigger.
    fn trigger_body(
        &self,
        parsed: &Parsed<'_>,
        function: &str,
    ) -> Result<Option<Vec<String>>, String> {
        let mut scope = self.view_scope();
        scope
            .relations
            .extend(["new", "old"].map(|record| ScopeRelation {
                source: record.to_string(),
                target: record.to_string(),
            }));
        let pass = match (parsed.timing, parsed.event) {
            (Timing::After, _) => "NULL",
            (_, Event::Delete) => "OLD",
            _ => "NEW",
        };
        let body = Body {
            scope,
            tables: self
                .planned
                .iter()
                .map(|p| Target {
                    qualified: p.qualified.clone(),
                    map: &p.plan.map,
                    identity: p.plan.identity.as_ref().map(|i| i.column.as_str()),
                })
                .collect(),
            timing: parsed.timing,
            pass,
            guard: format!("dbshift.trigger_{}", short_hash(function)),
            obsolete: self.content_indexes.iter().map(|c| c.fts.clone()).collect(),
        };
        let mut out = vec![format!(
            "IF current_setting('{}', true) = 'on' THEN\n        RETURN {pass};\n    END IF;",
            body.guard
        )];
        if let Some(when) = parsed.when {
            let condition = translate_condition(when, &body.scope)?;
            out.push(format!(
                "IF NOT coalesce(({condition}), false) THEN\n        RETURN {pass};\n    END IF;"
            ));
        }
        out.push(format!("PERFORM set_config('{}', 'on', true);", body.guard));
        let mut statements = Vec::new();
        for statement in &parsed.body {
            statements.push(body.statement(statement)?);
        }
        statements.retain(|s| !s.is_empty());
        if statements.is_empty() {
            return Ok(None);
        }
        out.extend(statements);
        out.push(body.release());
        out.push(format!("RETURN {};", body.pass));
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_headers_are_taken_apart() {
        let p = parse("CREATE TRIGGER IF NOT EXISTS main.t_audit AFTER UPDATE OF a, \"B\" ON \"T\" FOR EACH ROW WHEN NEW.a > 1 BEGIN INSERT INTO log VALUES (NEW.a); SELECT CASE WHEN 1 THEN RAISE(ABORT, 'x;y') END; END").unwrap();
        assert_eq!(p.timing, Timing::After);
        assert_eq!(p.event, Event::Update);
        assert_eq!(p.of_columns, ["a", "B"]);
        assert_eq!(p.table, "T");
        assert_eq!(p.when, Some("NEW.a > 1"));
        assert_eq!(
            p.body,
            [
                "INSERT INTO log VALUES (NEW.a)",
                "SELECT CASE WHEN 1 THEN RAISE(ABORT, 'x;y') END"
            ]
        );
        let p = parse("CREATE TEMP TRIGGER v_ins INSTEAD OF INSERT ON v BEGIN DELETE FROM t; END")
            .unwrap();
        assert_eq!((p.timing, p.event), (Timing::InsteadOf, Event::Insert));
        let p = parse("CREATE TRIGGER d DELETE ON t BEGIN SELECT 1; END").unwrap();
        assert_eq!((p.timing, p.event), (Timing::Before, Event::Delete));
        assert!(parse("CREATE TRIGGER x AFTER TRUNCATE ON t BEGIN SELECT 1; END").is_err());
        assert!(parse("CREATE TRIGGER x AFTER INSERT ON t BEGIN END").is_err());
    }
}
