//! What the backends remember of each runtime statement, so that sending it again costs one
//! lookup of its text: its cut at the placeholders, and the slot by which Diesel finds its
//! prepared form without rebuilding its text.
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
//! Diesel asks for that id only of a query it loads (`query`, `query_each`): a statement it
//! executes (`execute`) it takes by reference, and a reference's id in Diesel 2.3 comes from
//! the referent's type alone (`HAS_STATIC_QUERY_ID`, `QueryId`), never from its `query_id`. So
//! an executed statement's slot is a type, [`ExecutedSlot`], that the query is wrapped in
//! ([`crate::backend::dynamic::Executed`]); each of the [`EXECUTED_SLOTS`] is a copy of
//! Diesel's execute path compiled for its type, chosen from a table by the slot's number.
//!
//! A slot is given to one statement for the life of the process, by a process-wide table, so
//! it means the same statement on every connection of every pool, whichever thread runs it
//! (a pooled connection moves between threads). The first [`SLOTS`] loaded statements and the
//! first [`EXECUTED_SLOTS`] executed ones take them; later ones, and statements with more than
//! [`MAX_TYPED_PARAMS`] parameters on PostgreSQL, go on being keyed by their text.
//!
//! Each thread remembers, by text, the cut and the slots it has looked up ([`statement`]), so
//! the table's lock is taken once per statement and thread, and lexing a statement (about a
//! tenth of a SQLite point read) once per thread. A small table by the address the text was
//! passed at answers a statement passed again from the same string without hashing its text.

use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{LazyLock, Mutex};

use crate::sql::Part;
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

/// Statement text and parameter signature -> slot, for the whole process, and how many slots
/// of each kind are given. Never changes an entry once made.
#[derive(Default)]
struct Assigned {
    slots: HashMap<(Box<str>, u64), u16>,
    loaded: usize,
    executed: usize,
}

static ASSIGNED: LazyLock<Mutex<Assigned>> = LazyLock::new(Default::default);

/// Marks the signature of a statement Diesel executes: its slot is one of
/// [`EXECUTED_SLOTS`], a [`ExecutedSlot`] type (signatures use at most 60 bits).
pub(crate) const EXECUTED: u64 = 1 << 63;

/// How many statements that Diesel executes get a slot. Each is a copy of Diesel's execute
/// path compiled for its [`ExecutedSlot`] type, per backend, so there are fewer of these than
/// of the slots of loaded statements, which cost nothing in code.
pub(crate) const EXECUTED_SLOTS: usize = 64;

/// The key type of an executed statement's slot `N`: Diesel takes such a statement by
/// reference, and a reference's id comes from its referent's type alone, so the slot must be
/// a type when the code is compiled ([`crate::backend::dynamic::Executed`]).
pub(crate) struct ExecutedSlot<const N: u16>;

/// Builds [`TextHasher`]s, for maps keyed by statement text.
type TextHashBuilder = std::hash::BuildHasherDefault<TextHasher>;

/// FxHash (rustc's hasher), eight bytes a step. The keys are the application's own SQL, so
/// resisting crafted collisions matters less than hashing a statement in a few dozen
/// instructions instead of SipHash's few hundred.
#[derive(Default)]
struct TextHasher(u64);

impl TextHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a thread remembers of one statement text: its cut, the parameter count the cut was
/// checked against, and the slot of each parameter signature it was run with (or none left).
struct Known {
    parts: Rc<[Part]>,
    given: usize,
    slots: Vec<(u64, Option<u16>)>,
}

/// One lookup's answer, kept in [`RECENT`] under the address the text was passed at.
struct Recent {
    text: Rc<str>,
    given: usize,
    signature: Option<u64>,
    statement: Statement,
}

/// The most statement texts a thread remembers before it starts over, so SQL built with
/// literals in it cannot grow the map without bound (the process-wide table keeps the slots
/// meanwhile).
const KNOWN_TEXTS: usize = 1024;

/// Entries of [`RECENT`].
const RECENT_ENTRIES: usize = 64;

thread_local! {
    static KNOWN: RefCell<HashMap<Rc<str>, Known, TextHashBuilder>> =
        RefCell::new(HashMap::default());
    /// Recent answers by where the text lay. Applications mostly pass the same string
    /// constant for a statement, so the address finds its answer without hashing the text;
    /// the text is still compared in full, so a different statement at a reused address is
    /// never taken for the one that lay there before.
    static RECENT: RefCell<[Option<Recent>; RECENT_ENTRIES]> =
        const { RefCell::new([const { None }; RECENT_ENTRIES]) };
    static CURRENT: Cell<Option<u16>> = const { Cell::new(None) };
}

/// A statement ready to hand Diesel: its cut and, when it is keyed by one, its slot.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub(crate) parts: Rc<[Part]>,
    pub(crate) slot: Option<u16>,
}

/// Cuts `sql` at its placeholders after checking them against `given` parameters
/// ([`crate::sql::parts`]) and finds its slot for parameters of `signature` (none asked for
/// with `None`), both remembered per thread and text: a statement sent again costs a
/// comparison of its text, or one lookup of it. An error is not remembered.
pub(crate) fn statement(
    sql: &str,
    given: usize,
    signature: Option<u64>,
) -> Result<Statement, String> {
    let at = (sql.as_ptr() as usize >> 3) % RECENT_ENTRIES;
    let recent = RECENT.with(|recent| {
        recent.borrow()[at]
            .as_ref()
            .filter(|r| r.given == given && r.signature == signature && *r.text == *sql)
            .map(|r| r.statement.clone())
    });
    if let Some(statement) = recent {
        return Ok(statement);
    }
    let (text, statement) = known(sql, given, signature)?;
    RECENT.with(|recent| {
        recent.borrow_mut()[at] = Some(Recent {
            text,
            given,
            signature,
            statement: statement.clone(),
        });
    });
    Ok(statement)
}

/// [`statement`] by the map of texts, adding what is missing.
fn known(sql: &str, given: usize, signature: Option<u64>) -> Result<(Rc<str>, Statement), String> {
    let found = KNOWN.with(|known| {
        let known = known.borrow();
        let (text, entry) = known.get_key_value(sql)?;
        let parts = (entry.given == given).then(|| entry.parts.clone());
        let slot = match signature {
            None => Some(None),
            Some(signature) => entry
                .slots
                .iter()
                .find(|(s, _)| *s == signature)
                .map(|(_, slot)| *slot),
        };
        Some((text.clone(), parts, slot))
    });
    if let Some((text, Some(parts), Some(slot))) = &found {
        return Ok((
            text.clone(),
            Statement {
                parts: parts.clone(),
                slot: *slot,
            },
        ));
    }
    let (text, parts) = match found {
        Some((text, Some(parts), _)) => (text, parts),
        Some((text, None, _)) => (text, crate::sql::parts(sql, given)?.into()),
        None => {
            let parts: Rc<[Part]> = crate::sql::parts(sql, given)?.into();
            (Rc::from(sql), parts)
        }
    };
    let slot = signature.and_then(|signature| assign(sql, signature));
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= KNOWN_TEXTS && !known.contains_key(sql) {
            known.clear();
        }
        let entry = known.entry(text.clone()).or_insert_with(|| Known {
            parts: parts.clone(),
            given,
            slots: Vec::new(),
        });
        entry.parts = parts.clone();
        entry.given = given;
        if let Some(signature) = signature {
            if !entry.slots.iter().any(|(s, _)| *s == signature) {
                entry.slots.push((signature, slot));
            }
        }
    });
    Ok((text, Statement { parts, slot }))
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

/// The slot of `sql` with parameters of `signature` in the process-wide table, given now if it
/// has none and one of its kind ([`EXECUTED`] or not) is left.
fn assign(sql: &str, signature: u64) -> Option<u16> {
    let mut assigned = ASSIGNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(slot) = assigned.slots.get(&(sql.into(), signature)) {
        return Some(*slot);
    }
    let slot = if signature & EXECUTED != 0 {
        (assigned.executed < EXECUTED_SLOTS).then(|| {
            assigned.executed += 1;
            assigned.executed - 1
        })?
    } else {
        (assigned.loaded < SLOTS).then(|| {
            assigned.loaded += 1;
            assigned.loaded - 1
        })?
    };
    assigned.slots.insert((sql.into(), signature), slot as u16);
    Some(slot as u16)
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

    fn slot(sql: &str, params: &[Value]) -> Option<u16> {
        statement(sql, params.len(), postgres_signature(params))
            .unwrap()
            .slot
    }

    #[test]
    fn a_statement_keeps_its_slot_and_the_signature_tells_parameter_types_apart() {
        let sql = "SELECT $1 -- slots test";
        let int = slot(sql, &[Value::Int(1)]);
        let text = slot(sql, &["a".into()]);
        assert!(int.is_some() && text.is_some() && int != text);
        assert_eq!(slot(sql, &[Value::Int(2)]), int);
        // Another thread finds the same slot for the same statement.
        let there = std::thread::spawn(move || slot(sql, &[Value::Int(3)]));
        assert_eq!(there.join().unwrap(), int);
        let many = vec![Value::Null; MAX_TYPED_PARAMS + 1];
        let many_sql = (1..=many.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>();
        assert_eq!(
            slot(&format!("SELECT {}", many_sql.join(", ")), &many),
            None
        );
        assert_ne!(
            postgres_signature(&[Value::Null, Value::Int(1)]),
            postgres_signature(&[Value::Int(1)])
        );
        // Asked for no slot (a statement Diesel executes), it gets none.
        assert_eq!(statement(sql, 1, None).unwrap().slot, None);
    }

    #[test]
    fn a_remembered_cut_is_checked_against_the_parameters_every_time() {
        let sql = "SELECT $2, '$1' || $1 -- cut test";
        for _ in 0..2 {
            let parts = statement(sql, 2, Some(0)).unwrap().parts;
            let text = |p: &Part| match p {
                Part::Sql(range) => sql[range.clone()].to_string(),
                Part::Param(n) => format!("<{n}>"),
            };
            assert_eq!(
                parts.iter().map(text).collect::<String>(),
                "SELECT <2>, '$1' || <1> -- cut test"
            );
        }
        assert!(statement(sql, 1, Some(0)).unwrap_err().contains("`$2`"));
        assert!(statement(sql, 3, None).unwrap_err().contains("`$3`"));
        assert!(statement(sql, 2, None).is_ok());
        // The same text at another address (a statement formatted anew) is found by its text.
        let again = String::from(sql);
        assert_eq!(
            statement(&again, 2, Some(0)).unwrap().slot,
            statement(sql, 2, Some(0)).unwrap().slot
        );
    }

    #[test]
    fn another_statement_written_where_one_lay_gets_its_own_cut_and_slot() {
        // One buffer, so both texts lie at the same address: the answer remembered for the
        // first must not be taken for the second.
        let mut sql = String::with_capacity(64);
        sql.push_str("SELECT $1 AS a -- reused address");
        let address = sql.as_ptr();
        let first = statement(&sql, 1, Some(0)).unwrap();
        sql.clear();
        sql.push_str("SELECT 1 AS b, $1 -- reused address");
        assert_eq!(sql.as_ptr(), address);
        let second = statement(&sql, 1, Some(0)).unwrap();
        assert_ne!(first.slot, second.slot);
        assert_eq!(second.parts.last(), Some(&Part::Sql(17..sql.len())));
        assert_eq!(first.parts[0], Part::Sql(0..7));
        // And the first is found again by its text, wherever it lies now.
        assert_eq!(
            statement("SELECT $1 AS a -- reused address", 1, Some(0))
                .unwrap()
                .slot,
            first.slot
        );
    }

    #[test]
    fn executed_statements_take_slots_of_their_own_kind() {
        let sql = "UPDATE t SET v = $1 -- executed slots test";
        let executed = statement(sql, 1, Some(EXECUTED | 3)).unwrap().slot.unwrap();
        assert!(usize::from(executed) < EXECUTED_SLOTS);
        assert_eq!(
            statement(sql, 1, Some(EXECUTED | 3)).unwrap().slot,
            Some(executed)
        );
        let there = std::thread::spawn(move || statement(sql, 1, Some(EXECUTED | 3)).unwrap().slot);
        assert_eq!(there.join().unwrap(), Some(executed));
        // Loaded, the same text is another statement with a slot of the other kind.
        assert!(statement(sql, 1, Some(3)).unwrap().slot.is_some());
        let assigned = ASSIGNED.lock().unwrap();
        assert_eq!(assigned.slots[&(sql.into(), EXECUTED | 3)], executed);
        assert!(assigned.slots.contains_key(&(sql.into(), 3)));
        assert!(assigned.executed <= EXECUTED_SLOTS && assigned.loaded <= SLOTS);
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
