//! PostgreSQL names for SQLite objects: one namespace for relations and constraints, names
//! dbshift makes up (`t_pkey`, `t_a_key`, and the identity sequences PostgreSQL would name
//! `t_id_seq`), and a review note for every name that is not simply the source name.
//!
//! Names are claimed in an order that keeps every name that can stay: first the names
//! lowercasing leaves as they are (`äb` stays `äb` even when `Äb` comes first in the catalog),
//! then the ones it changes, which take a numbered variant when their lowercase name is taken.
//! A numbered variant is never another object's exact name, since those were claimed first.
//! Columns never take a PostgreSQL system column's name (`ctid`, `xmin`, ...).
//! Names keep their case when asked, or when an ORM wrote the source (ORMs quote every name,
//! so the application asks for `"LegacyCode"`: `PlanOptions::with_orm`); otherwise every
//! mixed-case name that is lowercased is listed.

use crate::transfer::plan::ddl::{self, Namespace};
use crate::transfer::plan::planner::Planner;

/// The system columns every PostgreSQL table has (`oid` only before PostgreSQL 12, where a
/// user column of that name is refused only on tables `WITH OIDS`, which dbshift never makes).
pub(crate) const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];

/// One name to claim: the object as the review names it, its source name, and the name it
/// wants when the user gave one (an override, taken as given).
pub(crate) struct NameRequest<'a> {
    pub object: String,
    pub source: &'a str,
    pub given: Option<&'a str>,
}

/// Why a name is not the plain source name, for the review and the name map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameReason {
    Collision,
    SystemColumn,
    TooLong,
    Unusable,
}

impl RenameReason {
    pub(crate) fn text(self) -> &'static str {
        match self {
            RenameReason::Collision => "its PostgreSQL name collides with another one",
            RenameReason::SystemColumn => "PostgreSQL reserves the name for a system column",
            RenameReason::TooLong => "it is longer than PostgreSQL's 63-byte limit",
            RenameReason::Unusable => "PostgreSQL cannot use the name as it is",
        }
    }
}

impl Planner<'_> {
    /// Claims the PostgreSQL names of the relations `sources` (tables, views), in the order
    /// that keeps every name that can stay (see the module doc), returned in `sources`' order.
    pub(crate) fn claim_relation_names(&mut self, requests: &[NameRequest<'_>]) -> Vec<String> {
        let mut names = std::mem::take(&mut self.relations);
        let claimed = self.claim_names(requests, &mut names);
        self.relations = names;
        claimed
    }

    /// Claims the names of `requests` in `names`: given names first, then the names that
    /// lowercasing leaves as they are, then the rest; notes every rename.
    pub(crate) fn claim_names(
        &mut self,
        requests: &[NameRequest<'_>],
        names: &mut Namespace,
    ) -> Vec<String> {
        let keep_case = self.options.keep_case;
        let wanted: Vec<String> = requests
            .iter()
            .map(|r| match r.given {
                Some(given) => ddl::pg_name(given, true),
                None => ddl::pg_name(r.source, keep_case),
            })
            .collect();
        let rank = |i: usize| {
            if requests[i].given.is_some() {
                0
            } else if wanted[i] == requests[i].source {
                1
            } else {
                2
            }
        };
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by_key(|&i| rank(i));
        let mut claimed = vec![String::new(); requests.len()];
        for i in order {
            claimed[i] = names.claim(&wanted[i]);
        }
        for (i, request) in requests.iter().enumerate() {
            if request.given.is_none() {
                self.note_rename(&request.object, request.source, &wanted[i], &claimed[i]);
            }
        }
        claimed
    }

    /// Claims a name dbshift makes up (`t_pkey`, `t_a_b_key`, `t_a_fkey`), cut to 63 bytes.
    pub(crate) fn derived_name(&mut self, name: String) -> String {
        self.relations.claim(&ddl::pg_name(&name, true))
    }

    /// Notes a name that is not simply the source name (lowercased unless keeping case).
    pub(crate) fn note_rename(&mut self, object: &str, source: &str, wanted: &str, claimed: &str) {
        let plain = if self.options.keep_case {
            source.to_string()
        } else {
            source.to_lowercase()
        };
        if plain != source && claimed == plain {
            self.lowercased.push(format!("{object} -> `{claimed}`"));
        }
        if claimed != plain {
            let why = rename_reason(source, wanted, claimed, self.options.keep_case);
            self.note(
                object.to_string(),
                format!("renamed to `{claimed}` because {}", why.text()),
                None,
            );
        }
    }
}

/// Why `source` became `claimed` rather than its plain PostgreSQL spelling `wanted`. A column
/// whose plain name is a system column's was refused that name, by [`column_namespace`].
pub(crate) fn rename_reason(
    source: &str,
    wanted: &str,
    claimed: &str,
    keep_case: bool,
) -> RenameReason {
    let plain = if keep_case {
        source.to_string()
    } else {
        source.to_lowercase()
    };
    if claimed != wanted && SYSTEM_COLUMNS.contains(&wanted) {
        RenameReason::SystemColumn
    } else if claimed != wanted {
        RenameReason::Collision
    } else if plain.len() > ddl::MAX_IDENTIFIER_BYTES {
        RenameReason::TooLong
    } else {
        RenameReason::Unusable
    }
}

/// A column namespace with the system column names taken, so a source column named `ctid`
/// gets `ctid_2`.
pub(crate) fn column_namespace() -> Namespace {
    let mut names = Namespace::default();
    for system in SYSTEM_COLUMNS {
        names.claim(system);
    }
    names
}

/// Every name a plan gives: each table (with its columns) and view, source to target, with why
/// a name is not the plain PostgreSQL spelling of the source name (lowercased unless keeping
/// case). `migrate` prints the renames and writes the whole map as JSON, so an application
/// can find its tables and columns under their new names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NameMap {
    /// The tables, in plan order.
    pub tables: Vec<TableNames>,
    /// The views the plan creates.
    pub views: Vec<Name>,
}

/// A table's name and its columns' names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableNames {
    /// The table's own name.
    #[serde(flatten)]
    pub name: Name,
    /// Its columns, generated columns last.
    pub columns: Vec<Name>,
}

/// One name, source to target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Name {
    /// The SQLite name.
    pub source: String,
    /// The PostgreSQL name.
    pub target: String,
    /// Why the target is not the source name as PostgreSQL would spell it; absent when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed: Option<String>,
}

impl NameMap {
    /// The names of `plan`.
    pub fn of(plan: &crate::transfer::plan::Plan) -> NameMap {
        let options = &plan.options;
        let name = |source: &str, target: &str, given: Option<&str>| Name {
            source: source.to_string(),
            target: target.to_string(),
            renamed: renamed(source, target, given, options.keep_case),
        };
        let tables = plan
            .tables
            .iter()
            .map(|table| {
                let map = &table.map;
                let columns = map
                    .columns
                    .iter()
                    .chain(&map.generated)
                    .map(|c| {
                        let given = options
                            .overrides
                            .column(&map.source, &c.source)
                            .and_then(|o| o.name.as_deref());
                        name(&c.source, &c.target, given)
                    })
                    .collect();
                TableNames {
                    name: name(&map.source, &map.target, None),
                    columns,
                }
            })
            .collect();
        let views = plan
            .views
            .iter()
            .filter(|v| v.sql.is_some())
            .map(|v| name(&v.source, &v.target, None))
            .collect();
        NameMap { tables, views }
    }

    /// Each renamed object as `table `a` -> `b`: why` (columns as `table.column`).
    pub fn renames(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut push = |what: &str, source: String, name: &Name| {
            if let Some(why) = &name.renamed {
                lines.push(format!("{what} `{source}` -> `{}`: {why}", name.target));
            }
        };
        for table in &self.tables {
            push("table", table.name.source.clone(), &table.name);
            for column in &table.columns {
                let source = format!("{}.{}", table.name.source, column.source);
                push("column", source, column);
            }
        }
        for view in &self.views {
            push("view", view.source.clone(), view);
        }
        lines
    }
}

/// Why `source` became `target`, or `None` when `target` is its plain spelling.
fn renamed(source: &str, target: &str, given: Option<&str>, keep_case: bool) -> Option<String> {
    if given.is_some() {
        return (target != source).then(|| "the plan file names it so".to_string());
    }
    let plain = if keep_case {
        source.to_string()
    } else {
        source.to_lowercase()
    };
    if target == plain {
        return None;
    }
    let wanted = ddl::pg_name(source, keep_case);
    Some(
        rename_reason(source, &wanted, target, keep_case)
            .text()
            .to_string(),
    )
}

impl Planner<'_> {
    /// One warning listing every mixed-case name that was lowercased: an application that
    /// quotes it (`"UserId"`) will not find it.
    pub(crate) fn note_lowercased(&mut self) {
        if self.lowercased.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.lowercased);
        self.warn(
            "names".into(),
            format!(
                "{} mixed-case name(s) lowercased, so queries that quote them (as ORMs do) will not find them; `--keep-case` (or `--orm NAME` for an ORM's source) keeps them: {}",
                names.len(),
                names.join(", ")
            ),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_has_its_reason_and_a_plain_name_none() {
        assert_eq!(renamed("Users", "users", None, false), None);
        assert_eq!(renamed("Users", "Users", None, true), None);
        assert_eq!(
            renamed("ctid", "ctid_2", None, false).as_deref(),
            Some(RenameReason::SystemColumn.text())
        );
        assert_eq!(
            renamed("Äb", "äb_3", None, false).as_deref(),
            Some(RenameReason::Collision.text())
        );
        let long = "x".repeat(70);
        let cut = ddl::pg_name(&long, false);
        assert_eq!(
            renamed(&long, &cut, None, false).as_deref(),
            Some(RenameReason::TooLong.text())
        );
        assert_eq!(
            renamed("a", "b", Some("b"), false).as_deref(),
            Some("the plan file names it so")
        );
    }
}
