//! Prepared statements of runtime SQL found again without Diesel rebuilding their text.
//!
//! Diesel caches a connection's prepared statements by a key. A query whose type fixes its SQL
//! (typed Diesel) is keyed by a `TypeId`, found in a few nanoseconds. Runtime SQL has no type
//! of its own, so Diesel keys it by its text: on every call it walks the query to write the SQL
//! out again, copies the bind types, and hashes both with SipHash. On a SQLite point read that
//! was about a tenth of the time, most of what the `dyn Backend` layer cost over typed Diesel.
//!
//! So each distinct statement (its text, and on PostgreSQL the types of its parameters, which
//! its prepared form fixes) gets a *slot*: one of [`SLOTS`] private types whose `TypeId`
//! Diesel then uses as the key. The statement runs with its slot set on the thread
//! ([`enter`]), and [`crate::backend::dynamic::DynQuery`]'s `QueryId::query_id` hands Diesel
//! that slot's `TypeId` instead of asking for the text.
//!
//! Diesel asks for the id only of a query it loads (`query`, `query_each`): a statement it
//! executes (`execute`) it takes by reference, and a reference's id in Diesel 2.3 comes from
//! the referent's `HAS_STATIC_QUERY_ID` alone, never from its `query_id`. So statements run with
//! `execute` stay keyed by their text and get no slot.
//!
//! A slot is given to one statement for the life of the process, by a process-wide table, so
//! it means the same statement on every connection of every pool, whichever thread runs it
//! (a pooled connection moves between threads). The first [`SLOTS`] statements take them;
//! later ones, and statements with more than [`MAX_TYPED_PARAMS`] parameters on PostgreSQL,
//! go on being keyed by their text, as before. Each thread remembers the slots it has looked
//! up, so the table's lock is taken once per statement and thread.

use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use crate::value::Value;

/// How many statements get a slot (rows × columns of [`TYPE_IDS`]).
pub(crate) const SLOTS: usize = 1024;

/// The most parameters whose types fit a statement's signature (4 bits each).
pub(crate) const MAX_TYPED_PARAMS: usize = 15;

/// The slot types: one per (row, column), never constructed.
struct Slot<const ROW: u8, const COLUMN: u8>;

macro_rules! slot_row {
    ($row:literal; $($column:literal)*) => {
        [$(TypeId::of::<Slot<$row, $column>>()),*]
    };
}

macro_rules! slot_table {
    ($($row:literal)*) => {
        [$(slot_row!($row; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31)),*]
    };
}

static TYPE_IDS: LazyLock<[[TypeId; 32]; 32]> = LazyLock::new(
    || slot_table!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31),
);

/// Statement text and parameter signature -> slot, for the whole process. Never changes an
/// entry once made.
type Assigned = HashMap<(Box<str>, u64), u16>;

static ASSIGNED: LazyLock<Mutex<Assigned>> = LazyLock::new(Default::default);

/// This thread's copy of the entries it needed: text -> (signature, slot or none left).
type Known = HashMap<Box<str>, Vec<(u64, Option<u16>)>, crate::sql::TextHashBuilder>;

/// The most statement texts a thread remembers before it starts over (the process-wide table
/// keeps their slots meanwhile).
const KNOWN_TEXTS: usize = 4096;

thread_local! {
    static KNOWN: RefCell<Known> = RefCell::new(Known::default());
    static CURRENT: Cell<Option<u16>> = const { Cell::new(None) };
}

/// The signature of a PostgreSQL statement's parameters: their types, which its prepared form
/// fixes (a statement prepared for a `bigint` `$1` cannot take a text). `None` when there are
/// too many to fit.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn postgres_signature(params: &[Value]) -> Option<u64> {
    if params.len() > MAX_TYPED_PARAMS {
        return None;
    }
    Some(params.iter().fold(0u64, |signature, value| {
        let kind = match value {
            Value::Null => 1,
            Value::Bool(_) => 2,
            Value::Int(_) => 3,
            Value::Float(_) => 4,
            Value::Text(_) => 5,
            Value::Bytes(_) => 6,
            Value::Timestamp(_) => 7,
            Value::Json(_) => 8,
            Value::Uuid(_) => 9,
        };
        signature << 4 | kind
    }))
}

/// SQLite binds each value by its own type when a statement runs, so the text alone decides.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_signature(_params: &[Value]) -> Option<u64> {
    Some(0)
}

/// The slot of `sql` with parameters of `signature`, given now if it has none and one is
/// left.
pub(crate) fn slot(sql: &str, signature: Option<u64>) -> Option<u16> {
    let signature = signature?;
    let known = KNOWN.with(|known| {
        known
            .borrow()
            .get(sql)
            .and_then(|entries| entries.iter().find(|(s, _)| *s == signature))
            .map(|(_, slot)| *slot)
    });
    if let Some(slot) = known {
        return slot;
    }
    let slot = {
        let mut assigned = ASSIGNED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = assigned.len();
        match assigned.get(&(sql.into(), signature)) {
            Some(slot) => Some(*slot),
            None if next < SLOTS => {
                assigned.insert((sql.into(), signature), next as u16);
                Some(next as u16)
            }
            None => None,
        }
    };
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= KNOWN_TEXTS {
            known.clear();
        }
        known.entry(sql.into()).or_default().push((signature, slot));
    });
    slot
}

/// Sets the slot of the statement this thread is about to hand Diesel, until the guard drops.
pub(crate) fn enter(slot: Option<u16>) -> Current {
    Current(CURRENT.with(|current| current.replace(slot)))
}

/// Puts back the slot that was set before (a statement run inside another's row callback).
pub(crate) struct Current(Option<u16>);

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// The `TypeId` Diesel keys the current statement's prepared form by, or `None` to key it by
/// its text.
pub(crate) fn type_id() -> Option<TypeId> {
    let slot = usize::from(CURRENT.with(Cell::get)?);
    Some(TYPE_IDS[slot / 32][slot % 32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_its_own_type_id() {
        let all: std::collections::HashSet<TypeId> = TYPE_IDS.iter().flatten().copied().collect();
        assert_eq!(all.len(), SLOTS);
    }

    #[test]
    fn a_statement_keeps_its_slot_and_the_signature_tells_parameter_types_apart() {
        let sql = "SELECT $1 -- slots test";
        let int = slot(sql, postgres_signature(&[Value::Int(1)]));
        let text = slot(sql, postgres_signature(&["a".into()]));
        assert!(int.is_some() && text.is_some() && int != text);
        assert_eq!(slot(sql, postgres_signature(&[Value::Int(2)])), int);
        // Another thread finds the same slot for the same statement.
        let there = std::thread::spawn(move || slot(sql, postgres_signature(&[Value::Int(3)])));
        assert_eq!(there.join().unwrap(), int);
        let many = vec![Value::Null; MAX_TYPED_PARAMS + 1];
        assert_eq!(slot(sql, postgres_signature(&many)), None);
        assert_ne!(
            postgres_signature(&[Value::Null, Value::Int(1)]),
            postgres_signature(&[Value::Int(1)])
        );
    }

    #[test]
    fn the_current_slot_is_put_back_when_a_nested_statement_ends() {
        assert_eq!(type_id(), None);
        let outer = enter(Some(3));
        let expected = type_id();
        {
            let _inner = enter(Some(4));
            assert_ne!(type_id(), expected);
        }
        assert_eq!(type_id(), expected);
        drop(outer);
        assert_eq!(type_id(), None);
    }
}
