//! A typed store for the application's missions, their event log and tags, written only against
//! [`Backend`]: the same functions run on SQLite and PostgreSQL, and on any third-party backend
//! that speaks one of the two [`Dialect`](crate::Dialect)s.
//!
//! The schema is the one in `migrations_sqlite/` and `migrations_postgres/`. Where the two
//! databases differ, the SQL comes from [`Dialect`](crate::Dialect): enum parameters are cast on PostgreSQL
//! ([`cast_param`](crate::Dialect::cast_param)), title search is [`ilike`](crate::Dialect::ilike)
//! with [`like_escape`], tags are created with [`upsert`](crate::Dialect::upsert).
//!
//! Every function that writes more than one row runs in one transaction, so a mission never
//! changes status without the event that records it.
//!
//! Each function also has an `_in` form that takes an [`Executor`] instead: given the
//! executor of the caller's own transaction, its writes commit or roll back with the caller's.
//!
//! ```
//! # use dbshift::missions::{self, NewMission};
//! # use dbshift::{DbConfig, Registry};
//! # fn main() -> dbshift::Result<()> {
//! # let db = Registry::with_defaults().connect(&DbConfig::sqlite(":memory:"))?;
//! # db.run_pending_migrations()?;
//! let failed = db.transaction(|tx| {
//!     let mission = missions::create_in(tx, &NewMission::new("Resupply hangar 7"))?;
//!     missions::tag_in(tx, mission.id, "logistics")?;
//!     tx.execute("INSERT INTO no_such_table VALUES (1)", &[])
//! });
//! assert!(failed.is_err());
//! assert!(missions::search_titles(&*db, "hangar")?.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! ```
//! use dbshift::missions::{self, NewMission, Priority, Status};
//! use dbshift::{DbConfig, Registry};
//!
//! # fn main() -> dbshift::Result<()> {
//! let db = Registry::with_defaults().connect(&DbConfig::sqlite(":memory:"))?;
//! db.run_pending_migrations()?;
//! let mission = missions::create(&*db, &NewMission { priority: Priority::High, ..NewMission::new("Map the ice shelf") })?;
//! missions::change_status(&*db, mission.id, Status::Active, Some("crew ready"))?;
//! missions::tag(&*db, mission.id, "science")?;
//! assert_eq!(missions::search_titles(&*db, "ICE")?[0].status, Status::Active);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backend::{Backend, Executor};
use crate::dialect::like_escape;
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// Declares a closed set of values stored as text: a PostgreSQL enum type, a `CHECK` in SQLite.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident in $pg_type:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order the schema declares them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The PostgreSQL enum type of the column.
            pub const PG_TYPE: &'static str = $pg_type;

            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::Conversion {
                        column: $pg_type.into(),
                        expected: stringify!($name),
                        found: format!("`{other}`"),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl From<$name> for Value {
            fn from(value: $name) -> Value {
                Value::Text(value.as_str().to_owned())
            }
        }
    };
}

text_enum! {
    /// Where a mission is in its life.
    Status in "mission_status" {
        /// Written down, not started.
        Draft = "draft",
        /// Under way.
        Active = "active",
        /// Stopped for now.
        Paused = "paused",
        /// Done.
        Completed = "completed",
        /// Put away.
        Archived = "archived",
        /// Given up.
        Failed = "failed",
    }
}

text_enum! {
    /// How urgent a mission is.
    Priority in "mission_priority" {
        /// When there is time.
        Low = "low",
        /// The default.
        Medium = "medium",
        /// Before the others.
        High = "high",
        /// Drop everything.
        Critical = "critical",
    }
}

/// A mission as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mission {
    /// The key, assigned by the database.
    pub id: i64,
    /// The title, 1 to 500 characters.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// The life-cycle state.
    pub status: Status,
    /// The urgency.
    pub priority: Priority,
    /// Hidden from the default views.
    pub is_archived: bool,
    /// Percent done, 0 to 100.
    pub progress: i32,
    /// Free-form JSON object.
    pub metadata: serde_json::Value,
    /// When the mission was created.
    pub created_at: DateTime<Utc>,
    /// When the mission last changed.
    pub updated_at: DateTime<Utc>,
}

/// A mission to create; [`NewMission::new`] fills in the schema's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMission {
    /// The title, 1 to 500 characters.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// The initial state.
    pub status: Status,
    /// The urgency.
    pub priority: Priority,
    /// Hidden from the default views.
    pub is_archived: bool,
    /// Percent done, 0 to 100.
    pub progress: i32,
    /// Free-form JSON object.
    pub metadata: serde_json::Value,
    /// When the mission was created; `None` takes the database's clock.
    pub created_at: Option<DateTime<Utc>>,
}

impl NewMission {
    /// A draft of medium priority with no description, no progress and empty metadata.
    pub fn new(title: impl Into<String>) -> Self {
        NewMission {
            title: title.into(),
            description: None,
            status: Status::Draft,
            priority: Priority::Medium,
            is_archived: false,
            progress: 0,
            metadata: serde_json::json!({}),
            created_at: None,
        }
    }
}

/// One entry of a mission's event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissionEvent {
    /// The key, assigned by the database.
    pub id: i64,
    /// The mission it belongs to.
    pub mission_id: i64,
    /// What happened: `created`, `status_changed`, or an application's own kind.
    pub kind: String,
    /// A human note.
    pub message: Option<String>,
    /// Structured details.
    pub payload: Option<serde_json::Value>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// An event to add to a mission's log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened; not empty.
    pub kind: String,
    /// A human note.
    pub message: Option<String>,
    /// Structured details.
    pub payload: Option<serde_json::Value>,
    /// When it happened; `None` takes the database's clock.
    pub created_at: Option<DateTime<Utc>>,
}

impl NewEvent {
    /// An event of `kind` with no message or payload, happening now.
    pub fn new(kind: impl Into<String>) -> Self {
        NewEvent {
            kind: kind.into(),
            message: None,
            payload: None,
            created_at: None,
        }
    }
}

/// A label that missions share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// The key, assigned by the database.
    pub id: i64,
    /// The unique name.
    pub name: String,
    /// A display colour, if any.
    pub color: Option<String>,
}

/// The event kind [`create`] records.
pub const EVENT_CREATED: &str = "created";
/// The event kind [`change_status`] records; its payload is `{"from": .., "to": ..}`.
pub const EVENT_STATUS_CHANGED: &str = "status_changed";

const MISSION_COLUMNS: &str =
    "id, title, description, status, priority, is_archived, progress, metadata, created_at, updated_at";
const EVENT_COLUMNS: &str = "id, mission_id, kind, message, payload, created_at";

/// Creates a mission and its `created` event in one transaction.
pub fn create(db: &dyn Backend, new: &NewMission) -> Result<Mission> {
    create_in(&mut { db }, new)
}

/// [`create`] on `tx`: inside the caller's transaction, the mission and its event commit or
/// roll back with it. They are written under a savepoint, so a failure (a broken check, say)
/// leaves the caller's transaction usable.
pub fn create_in(tx: &mut dyn Executor, new: &NewMission) -> Result<Mission> {
    tx.transaction(|tx| insert_mission(tx, new, None))
}

/// The mission with this id, if there is one.
pub fn get(db: &dyn Backend, id: i64) -> Result<Option<Mission>> {
    get_in(&mut { db }, id)
}

/// [`get`] on `tx`: sees what the caller's transaction wrote.
pub fn get_in(tx: &mut dyn Executor, id: i64) -> Result<Option<Mission>> {
    tx.query_opt(
        &format!("SELECT {MISSION_COLUMNS} FROM missions WHERE id = $1"),
        &[Value::Int(id)],
    )?
    .map(|row| mission_from_row(&row))
    .transpose()
}

/// The missions in `status`, oldest id first.
pub fn list_by_status(db: &dyn Backend, status: Status) -> Result<Vec<Mission>> {
    list_by_status_in(&mut { db }, status)
}

/// [`list_by_status`] on `tx`.
pub fn list_by_status_in(tx: &mut dyn Executor, status: Status) -> Result<Vec<Mission>> {
    let sql = format!(
        "SELECT {MISSION_COLUMNS} FROM missions WHERE status = {} ORDER BY id",
        tx.dialect().cast_param(1, Status::PG_TYPE)
    );
    tx.query(&sql, &[status.into()])?
        .iter()
        .map(mission_from_row)
        .collect()
}

/// How many missions are in each status, in [`Status::ALL`] order, zeros included.
pub fn count_by_status(db: &dyn Backend) -> Result<Vec<(Status, i64)>> {
    count_by_status_in(&mut { db })
}

/// [`count_by_status`] on `tx`.
pub fn count_by_status_in(tx: &mut dyn Executor) -> Result<Vec<(Status, i64)>> {
    let rows = tx.query(
        "SELECT CAST(status AS TEXT) AS status, count(*) AS n FROM missions GROUP BY status",
        &[],
    )?;
    let mut counts: Vec<(Status, i64)> = Status::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        let status: Status = row.get::<String, _>("status")?.parse()?;
        let slot = counts
            .iter_mut()
            .find(|(s, _)| *s == status)
            .expect("ALL holds every status");
        slot.1 = row.get("n")?;
    }
    Ok(counts)
}

/// Moves a mission to `status` and records a `status_changed` event (with `note` as its
/// message) in the same transaction. Setting the status it already has changes nothing and
/// records nothing. Fails with [`Error::NotFound`] when there is no such mission.
pub fn change_status(
    db: &dyn Backend,
    id: i64,
    status: Status,
    note: Option<&str>,
) -> Result<Mission> {
    change_status_in(&mut { db }, id, status, note)
}

/// [`change_status`] on `tx`, under a savepoint (see [`create_in`]).
pub fn change_status_in(
    tx: &mut dyn Executor,
    id: i64,
    status: Status,
    note: Option<&str>,
) -> Result<Mission> {
    tx.transaction(|tx| {
        let dialect = tx.dialect();
        let current = lock_mission(tx, id)?;
        if current.status == status {
            return Ok(current);
        }
        let sql = format!(
            "UPDATE missions SET status = {}, updated_at = {} WHERE id = $1 RETURNING {MISSION_COLUMNS}",
            dialect.cast_param(2, Status::PG_TYPE),
            dialect.now()
        );
        let updated = mission_from_row(&single(tx.query(&sql, &[Value::Int(id), status.into()])?)?)?;
        let event = NewEvent {
            message: note.map(str::to_owned),
            payload: Some(serde_json::json!({"from": current.status, "to": status})),
            ..NewEvent::new(EVENT_STATUS_CHANGED)
        };
        insert_event(tx, id, &event)?;
        Ok(updated)
    })
}

/// Missions whose title contains `text`, ignoring case, oldest id first. `%`, `_` and `\` in
/// `text` match themselves. SQLite folds the case of ASCII letters only; PostgreSQL folds every
/// letter its locale knows.
pub fn search_titles(db: &dyn Backend, text: &str) -> Result<Vec<Mission>> {
    search_titles_in(&mut { db }, text)
}

/// [`search_titles`] on `tx`.
pub fn search_titles_in(tx: &mut dyn Executor, text: &str) -> Result<Vec<Mission>> {
    let sql = format!(
        "SELECT {MISSION_COLUMNS} FROM missions WHERE {} ORDER BY id",
        tx.dialect().ilike("title", "$1")
    );
    tx.query(&sql, &[format!("%{}%", like_escape(text)).into()])?
        .iter()
        .map(mission_from_row)
        .collect()
}

/// Adds an event to a mission's log. Fails with [`Error::NotFound`] when there is no such
/// mission.
pub fn add_event(db: &dyn Backend, mission_id: i64, event: &NewEvent) -> Result<MissionEvent> {
    add_event_in(&mut { db }, mission_id, event)
}

/// [`add_event`] on `tx`, under a savepoint (see [`create_in`]).
pub fn add_event_in(
    tx: &mut dyn Executor,
    mission_id: i64,
    event: &NewEvent,
) -> Result<MissionEvent> {
    tx.transaction(|tx| {
        lock_mission(tx, mission_id)?;
        insert_event(tx, mission_id, event)
    })
}

/// A mission's events, oldest first.
pub fn events(db: &dyn Backend, mission_id: i64) -> Result<Vec<MissionEvent>> {
    events_in(&mut { db }, mission_id)
}

/// [`events`] on `tx`.
pub fn events_in(tx: &mut dyn Executor, mission_id: i64) -> Result<Vec<MissionEvent>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM mission_events WHERE mission_id = $1 ORDER BY created_at, id"
    );
    tx.query(&sql, &[Value::Int(mission_id)])?
        .iter()
        .map(event_from_row)
        .collect()
}

/// Tags a mission with `name`, creating the tag if no mission used it yet. Tagging twice with
/// the same name changes nothing. Fails with [`Error::NotFound`] when there is no such mission.
pub fn tag(db: &dyn Backend, mission_id: i64, name: &str) -> Result<Tag> {
    tag_in(&mut { db }, mission_id, name)
}

/// [`tag`] on `tx`, under a savepoint (see [`create_in`]).
pub fn tag_in(tx: &mut dyn Executor, mission_id: i64, name: &str) -> Result<Tag> {
    tx.transaction(|tx| {
        lock_mission(tx, mission_id)?;
        let tag = ensure_tag(tx, name, None)?;
        link_tag(tx, mission_id, tag.id)?;
        Ok(tag)
    })
}

/// A mission's tags, by name.
pub fn tags(db: &dyn Backend, mission_id: i64) -> Result<Vec<Tag>> {
    tags_in(&mut { db }, mission_id)
}

/// [`tags`] on `tx`.
pub fn tags_in(tx: &mut dyn Executor, mission_id: i64) -> Result<Vec<Tag>> {
    let rows = tx.query(
        "SELECT t.id, t.name, t.color FROM tags t JOIN mission_tags mt ON mt.tag_id = t.id \
         WHERE mt.mission_id = $1 ORDER BY t.name",
        &[Value::Int(mission_id)],
    )?;
    rows.iter().map(tag_from_row).collect()
}

/// Writes a sample missions database: `n_missions` missions with varied statuses, priorities,
/// progress and JSON metadata, some unicode and LIKE wildcards in titles, NULL descriptions,
/// an event log that follows each mission's status, and tags. Runs the pending schema
/// migrations first and writes in transactions of up to 200 missions. The content depends only
/// on `n_missions` (a fixed pseudo-random sequence and fixed dates in 2025), so two runs give
/// equal data. Returns the number of missions written.
pub fn seed_demo(db: &dyn Backend, n_missions: usize) -> Result<usize> {
    db.run_pending_migrations()?;
    let mut rng = demo::Rng(0x05EE_DD85_A1F7);
    let tag_ids: Vec<i64> = db.transaction(|tx| {
        demo::TAGS
            .iter()
            .map(|(name, color)| ensure_tag(tx, name, Some(color)).map(|t| t.id))
            .collect()
    })?;
    let mut written = 0;
    while written < n_missions {
        let batch = (n_missions - written).min(200);
        // A transaction may run again after a conflict: each attempt starts from the same
        // generator state, so a retry writes the same missions.
        rng = db.transaction(|tx| {
            let mut attempt = rng.clone();
            for i in written..written + batch {
                demo::write_mission(tx, &mut attempt, i, &tag_ids)?;
            }
            Ok(attempt)
        })?;
        written += batch;
    }
    tracing::info!(missions = written, "seeded the demo missions database");
    Ok(written)
}

/// Inserts a mission and its `created` event; `updated_at` defaults to `created_at`.
fn insert_mission(
    tx: &mut dyn Executor,
    new: &NewMission,
    updated_at: Option<DateTime<Utc>>,
) -> Result<Mission> {
    let dialect = tx.dialect();
    let sql = format!(
        "INSERT INTO missions (title, description, status, priority, is_archived, progress, metadata, created_at, updated_at) \
         VALUES ($1, $2, {}, {}, $5, $6, $7, COALESCE($8, {now}), COALESCE($9, $8, {now})) RETURNING {MISSION_COLUMNS}",
        dialect.cast_param(3, Status::PG_TYPE),
        dialect.cast_param(4, Priority::PG_TYPE),
        now = dialect.now(),
    );
    let params = [
        new.title.as_str().into(),
        new.description.clone().into(),
        new.status.into(),
        new.priority.into(),
        Value::Bool(new.is_archived),
        Value::Int(new.progress.into()),
        Value::Json(new.metadata.clone()),
        new.created_at.into(),
        updated_at.into(),
    ];
    let mission = mission_from_row(&single(tx.query(&sql, &params)?)?)?;
    let event = NewEvent {
        payload: Some(serde_json::json!({"status": mission.status, "priority": mission.priority})),
        created_at: Some(mission.created_at),
        ..NewEvent::new(EVENT_CREATED)
    };
    insert_event(tx, mission.id, &event)?;
    Ok(mission)
}

fn insert_event(tx: &mut dyn Executor, mission_id: i64, event: &NewEvent) -> Result<MissionEvent> {
    let sql = format!(
        "INSERT INTO mission_events (mission_id, kind, message, payload, created_at) \
         VALUES ($1, $2, $3, $4, COALESCE($5, {})) RETURNING {EVENT_COLUMNS}",
        tx.dialect().now()
    );
    let params = [
        Value::Int(mission_id),
        event.kind.as_str().into(),
        event.message.clone().into(),
        event.payload.clone().into(),
        event.created_at.into(),
    ];
    event_from_row(&single(tx.query(&sql, &params)?)?)
}

/// Reads a mission inside a transaction, locking its row on PostgreSQL.
fn lock_mission(tx: &mut dyn Executor, id: i64) -> Result<Mission> {
    let sql = format!(
        "SELECT {MISSION_COLUMNS} FROM missions WHERE id = $1{}",
        tx.dialect().for_update()
    );
    match tx.query(&sql, &[Value::Int(id)])?.first() {
        Some(row) => mission_from_row(row),
        None => Err(Error::NotFound {
            table: "missions",
            key: format!("id = {id}"),
        }),
    }
}

/// The tag called `name`, created (with `color`) if missing. An existing tag keeps its colour.
fn ensure_tag(tx: &mut dyn Executor, name: &str, color: Option<&str>) -> Result<Tag> {
    let upsert = tx
        .dialect()
        .upsert("tags", &["name", "color"], &["name"], &[])?;
    tx.execute(&upsert, &[name.into(), color.into()])?;
    tag_from_row(&single(tx.query(
        "SELECT id, name, color FROM tags WHERE name = $1",
        &[name.into()],
    )?)?)
}

fn link_tag(tx: &mut dyn Executor, mission_id: i64, tag_id: i64) -> Result<()> {
    let columns = ["mission_id", "tag_id"];
    let upsert = tx
        .dialect()
        .upsert("mission_tags", &columns, &columns, &[])?;
    tx.execute(&upsert, &[Value::Int(mission_id), Value::Int(tag_id)])?;
    Ok(())
}

fn single(mut rows: Vec<Row>) -> Result<Row> {
    match rows.len() {
        1 => Ok(rows.remove(0)),
        n => Err(Error::Statement(format!(
            "expected exactly one row, got {n}"
        ))),
    }
}

fn mission_from_row(row: &Row) -> Result<Mission> {
    Ok(Mission {
        id: row.get("id")?,
        title: row.get("title")?,
        description: row.get("description")?,
        status: row.get::<String, _>("status")?.parse()?,
        priority: row.get::<String, _>("priority")?.parse()?,
        is_archived: row.get("is_archived")?,
        progress: row.get("progress")?,
        metadata: row.get("metadata")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn event_from_row(row: &Row) -> Result<MissionEvent> {
    Ok(MissionEvent {
        id: row.get("id")?,
        mission_id: row.get("mission_id")?,
        kind: row.get("kind")?,
        message: row.get("message")?,
        payload: row.get("payload")?,
        created_at: row.get("created_at")?,
    })
}

fn tag_from_row(row: &Row) -> Result<Tag> {
    Ok(Tag {
        id: row.get("id")?,
        name: row.get("name")?,
        color: row.get("color")?,
    })
}

/// The sample data of [`seed_demo`].
mod demo {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::json;

    use super::{
        insert_event, insert_mission, link_tag, NewEvent, NewMission, Priority, Status,
        EVENT_STATUS_CHANGED,
    };
    use crate::backend::Executor;
    use crate::error::Result;

    /// SplitMix64: small, fast and the same on every platform, so the demo data is too.
    #[derive(Clone)]
    pub(super) struct Rng(pub(super) u64);

    impl Rng {
        pub(super) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// A number in `0..n`.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }

        /// Picks by weight: `(item, weight)` pairs.
        fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
            let mut roll = self.below(items.iter().map(|(_, w)| w).sum());
            for (item, weight) in items {
                if roll < *weight {
                    return *item;
                }
                roll -= weight;
            }
            unreachable!("the roll is below the total weight")
        }
    }

    pub(super) const TAGS: [(&str, &str); 12] = [
        ("urgent", "#d73a4a"),
        ("science", "#0075ca"),
        ("logistics", "#a2eeef"),
        ("maintenance", "#7057ff"),
        ("night-shift", "#000000"),
        ("weather", "#c5def5"),
        ("external", "#fbca04"),
        ("training", "#0e8a16"),
        ("audit", "#e4e669"),
        ("ÆØÅ-nordic", "#bfd4f2"),
        ("δ-team", "#d876e3"),
        ("zone/1", "#5319e7"),
    ];

    const VERBS: [&str; 10] = [
        "Survey",
        "Deploy",
        "Repair",
        "Map",
        "Calibrate",
        "Resupply",
        "Evacuate",
        "Inspect",
        "Relocate",
        "Décontaminer",
    ];
    const OBJECTS: [&str; 12] = [
        "the northern relay",
        "Station Ægir",
        "the Kraków depot",
        "東京 uplink",
        "the São Paulo array",
        "reactor #3",
        "hangar 7",
        "the ice shelf",
        "the Zürich archive",
        "beacon Δ-9",
        "the snake_case registry",
        "the 50% rollout",
    ];
    const OWNERS: [&str; 8] = [
        "Ada", "Grace", "Linus", "Margaret", "Søren", "Zoë", "Ngozi", "José",
    ];
    const REGIONS: [&str; 6] = ["north", "south", "east", "west", "orbit", "sub-sea"];
    const NOTES: [&str; 6] = [
        "Checkpoint reached.",
        "Weather delay: 2h.",
        "Crew rotated; \"Bravo\" team on site.",
        "Spare parts arrived.\nInventory updated.",
        "Sensor reading out of range (±3σ).",
        "Ping from the field 📡",
    ];

    /// The status path a mission walked to reach `status`, starting at draft.
    fn history(status: Status) -> &'static [Status] {
        use Status::*;
        match status {
            Draft => &[],
            Active => &[Active],
            Paused => &[Active, Paused],
            Completed => &[Active, Completed],
            Archived => &[Active, Completed, Archived],
            Failed => &[Active, Failed],
        }
    }

    pub(super) fn write_mission(
        tx: &mut dyn Executor,
        rng: &mut Rng,
        i: usize,
        tag_ids: &[i64],
    ) -> Result<()> {
        use Status::*;
        let status = rng.weighted(&[
            (Draft, 15),
            (Active, 30),
            (Paused, 10),
            (Completed, 25),
            (Archived, 10),
            (Failed, 10),
        ]);
        let priority = rng.weighted(&[
            (Priority::Low, 30),
            (Priority::Medium, 40),
            (Priority::High, 20),
            (Priority::Critical, 10),
        ]);
        let progress = match status {
            Draft => 0,
            Completed | Archived => 100,
            Active | Paused | Failed => 5 + rng.below(91) as i32,
        };
        let mut title = format!("{} {}", rng.pick(&VERBS), rng.pick(&OBJECTS));
        match rng.below(10) {
            0 => title.push_str(" 🚀"),
            1 | 2 => title.push_str(&format!(" (phase {})", 1 + rng.below(4))),
            _ => {}
        }
        title.push_str(&format!(" #{}", i + 1));
        let description = match rng.below(5) {
            0 => None,
            1 => Some(format!(
                "Bring back samples; don't open the \"red\" crates.\nOwner: {}.",
                rng.pick(&OWNERS)
            )),
            _ => Some(format!(
                "{} for the {} region.",
                rng.pick(&NOTES),
                rng.pick(&REGIONS)
            )),
        };
        let metadata = if rng.below(8) == 0 {
            json!({})
        } else {
            json!({
                "owner": rng.pick(&OWNERS),
                "region": rng.pick(&REGIONS),
                "budget_eur": (rng.below(5_000_000) as f64) / 100.0,
                "crew": 1 + rng.below(12),
                "checklist": (0..rng.below(4)).map(|n| json!({"item": format!("step {}", n + 1), "done": rng.below(2) == 1})).collect::<Vec<_>>(),
                "external_ref": if rng.below(3) == 0 { serde_json::Value::Null } else { json!(format!("EXT-{:05}", rng.below(100_000))) },
            })
        };
        let start: DateTime<Utc> = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid date");
        let created_at = start
            + Duration::seconds(rng.below(300 * 86_400) as i64)
            + Duration::microseconds(rng.below(1_000_000) as i64);
        let mut at = created_at;
        let mut events = Vec::new();
        let mut from = Draft;
        for step in history(status) {
            at += Duration::seconds(60 + rng.below(7 * 86_400) as i64);
            events.push(NewEvent {
                payload: Some(json!({"from": from, "to": step})),
                created_at: Some(at),
                ..NewEvent::new(EVENT_STATUS_CHANGED)
            });
            from = *step;
            for _ in 0..rng.below(3) {
                at += Duration::seconds(60 + rng.below(86_400) as i64);
                events.push(NewEvent {
                    message: Some(rng.pick(&NOTES).to_string()),
                    payload: Some(json!({"progress": rng.below(101)})),
                    created_at: Some(at),
                    ..NewEvent::new("note")
                });
            }
        }
        let new = NewMission {
            title,
            description,
            status,
            priority,
            is_archived: status == Archived || (status == Completed && rng.below(3) == 0),
            progress,
            metadata,
            created_at: Some(created_at),
        };
        let mission = insert_mission(tx, &new, Some(at))?;
        for event in &events {
            insert_event(tx, mission.id, event)?;
        }
        let first_tag = rng.below(tag_ids.len() as u64) as usize;
        for k in 0..rng.below(4) as usize {
            link_tag(tx, mission.id, tag_ids[(first_tag + 5 * k) % tag_ids.len()])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_text() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), *status);
        }
        for priority in Priority::ALL {
            assert_eq!(priority.to_string().parse::<Priority>().unwrap(), *priority);
        }
        let err = "sleeping".parse::<Status>().unwrap_err().to_string();
        assert!(
            err.contains("`sleeping`") && err.contains("Status"),
            "{err}"
        );
        assert_eq!(
            serde_json::to_string(&Status::Active).unwrap(),
            "\"active\""
        );
    }

    #[test]
    fn demo_randomness_is_fixed_and_spread() {
        let mut a = demo::Rng(7);
        let mut b = demo::Rng(7);
        let first: Vec<u64> = (0..5).map(|_| a.next()).collect();
        assert_eq!(first, (0..5).map(|_| b.next()).collect::<Vec<_>>());
        assert_eq!(
            first.iter().collect::<std::collections::HashSet<_>>().len(),
            5
        );
    }
}
