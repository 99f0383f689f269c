//! Naming the parent of a row refused for a missing parent: when a foreign key's parent row
//! was itself rejected by this run, the child's reject says which (table, key, file), so a
//! person fixing the data starts with the parent. Each key is looked up once per table: its
//! columns from the target's catalog, the parent's rejected rows from the reject files.

use std::collections::HashMap;
use std::path::PathBuf;

use diesel::pg::PgConnection;
use diesel::result::Error as DieselError;

use crate::transfer::error::Result;
use crate::transfer::load::rejects::{json_text, Reject, RejectSink};
use crate::transfer::model::TableMap;
use crate::transfer::pg::{foreign_key_columns, server_error};

/// Per foreign key (by constraint name): its parent table, the child's source columns, and the
/// parent's rows rejected by this run by the text of the referenced columns; read once per key.
type ParentIndex = (String, Vec<String>, HashMap<Vec<String>, (String, PathBuf)>);

#[derive(Default)]
pub(crate) struct Parents(HashMap<String, Option<ParentIndex>>);

impl Parents {
    /// `; its parent ... was rejected ...` when the foreign key `e` names points at a row of
    /// the parent table that this run rejected.
    pub(crate) fn rejected(
        &mut self,
        conn: &mut PgConnection,
        (map, table): (&TableMap, &str),
        sink: &RejectSink,
        reject: &Reject,
        e: &DieselError,
    ) -> Result<Option<String>> {
        let DieselError::DatabaseError(_, info) = e else {
            return Ok(None);
        };
        let Some(constraint) = info.constraint_name() else {
            return Ok(None);
        };
        if !self.0.contains_key(constraint) {
            let index = parent_index(conn, (map, table), sink, constraint)?;
            self.0.insert(constraint.to_string(), index);
        }
        let Some(Some((parent, child_columns, rejected))) = self.0.get(constraint) else {
            return Ok(None);
        };
        let values: Option<Vec<String>> = child_columns
            .iter()
            .map(|c| reject.row.get(c).filter(|v| !v.is_null()).map(json_text))
            .collect();
        Ok(values.and_then(|v| rejected.get(&v)).map(|(key, file)| {
            format!(
                "; its parent row in `{parent}` was rejected by this run (key {key}, in `{}`)",
                file.display()
            )
        }))
    }
}

/// The [`ParentIndex`] of foreign key `constraint` of `table`; `None` when a key
/// column is not one the copy feeds.
fn parent_index(
    conn: &mut PgConnection,
    (map, table): (&TableMap, &str),
    sink: &RejectSink,
    constraint: &str,
) -> Result<Option<ParentIndex>> {
    let columns = foreign_key_columns(conn, constraint, table).map_err(|e| {
        server_error(
            format!("reading foreign key `{constraint}` of `{table}`"),
            e,
        )
    })?;
    let Some(parent) = columns.first().map(|c| c.parent.clone()) else {
        return Ok(None);
    };
    let mut child_columns = Vec::new();
    for column in &columns {
        match map.columns.iter().find(|m| m.target == column.child_column) {
            Some(fed) => child_columns.push(fed.source.clone()),
            None => return Ok(None),
        }
    }
    let parent_columns: Vec<String> = columns.iter().map(|c| c.parent_column.clone()).collect();
    let rejected = sink.rejected_index(&parent, &parent_columns)?;
    Ok(Some((parent, child_columns, rejected)))
}
