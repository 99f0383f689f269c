//! A Diesel application as a test bed (issue 12): Diesel's own migrations create its schema on
//! SQLite (with `__diesel_schema_migrations`, its bookkeeping), Diesel fills it through its
//! typed inserts with edge values and deletes some rows (gaps in ids, `sqlite_sequence` ahead
//! of max(id)), then Diesel's PostgreSQL migrations create the schema there, `dbshift migrate
//! --data-only` copies, and Diesel's typed queries read every row back on PostgreSQL and must
//! give what they gave on SQLite. Diesel stores Bool as an integer, Timestamp, Date and Time as
//! text and Double as REAL on SQLite (`diesel/src/sqlite/types/`); on PostgreSQL they are
//! native types. Diesel is the independent truth: nothing here asks dbshift how it read.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::dsl::{count_star, max};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::orm_full::{assert_every_value_kept, Kind, TableSpec};
use crate::support::independent::sqlite_rows;
use crate::support::{dbshift, pg_db};

diesel::table! {
    #[sql_name = "user"]
    users (id) {
        id -> Integer,
        name -> Text,
        boss_id -> Nullable<Integer>,
    }
}

diesel::table! {
    things (id) {
        id -> Integer,
        owner_id -> Nullable<Integer>,
        flag -> Bool,
        maybe -> Nullable<Bool>,
        small -> SmallInt,
        number -> Integer,
        big -> BigInt,
        ratio -> Double,
        day -> Date,
        clock -> Time,
        moment -> Timestamp,
        blob -> Binary,
        note -> Nullable<Text>,
        #[sql_name = "MixedCase"]
        mixed_case -> Text,
    }
}

diesel::table! {
    things_tags (thing_id, tag) {
        thing_id -> Integer,
        tag -> Text,
    }
}

/// Aware date/times: the same table, declared with each backend's own SQL type (Diesel's
/// `TimestamptzSqlite` on SQLite, `Timestamptz` on PostgreSQL), as `diesel print-schema` would.
mod on_sqlite {
    diesel::table! {
        events (id) {
            id -> Integer,
            thing_id -> Integer,
            at -> TimestamptzSqlite,
            until -> Nullable<TimestamptzSqlite>,
        }
    }
}

mod on_pg {
    diesel::table! {
        events (id) {
            id -> Integer,
            thing_id -> Integer,
            at -> Timestamptz,
            until -> Nullable<Timestamptz>,
        }
    }
}

type Event = (i32, i32, DateTime<Utc>, Option<DateTime<Utc>>);

diesel::joinable!(things -> users (owner_id));
diesel::joinable!(things_tags -> things (thing_id));
diesel::allow_tables_to_appear_in_same_query!(users, things, things_tags);

#[derive(Queryable, Debug, PartialEq, Clone)]
struct User {
    id: i32,
    name: String,
    boss_id: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    name: &'a str,
    boss_id: Option<i32>,
}

#[derive(Queryable, Debug, PartialEq, Clone)]
struct Thing {
    id: i32,
    owner_id: Option<i32>,
    flag: bool,
    maybe: Option<bool>,
    small: i16,
    number: i32,
    big: i64,
    ratio: f64,
    day: NaiveDate,
    clock: NaiveTime,
    moment: NaiveDateTime,
    blob: Vec<u8>,
    note: Option<String>,
    mixed_case: String,
}

#[derive(Insertable)]
#[diesel(table_name = things)]
struct NewThing {
    owner_id: Option<i32>,
    flag: bool,
    maybe: Option<bool>,
    small: i16,
    number: i32,
    big: i64,
    ratio: f64,
    day: NaiveDate,
    clock: NaiveTime,
    moment: NaiveDateTime,
    blob: Vec<u8>,
    note: Option<String>,
    mixed_case: String,
}

fn migrations(backend: &str) -> FileBasedMigrations {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/orm/diesel")
        .join(backend);
    FileBasedMigrations::from_path(dir).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn clock(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).unwrap()
}

/// Diesel fills the SQLite database with edge values, then deletes some rows.
fn fill(conn: &mut SqliteConnection) {
    // The SQLite build Diesel links here may predate RETURNING: the newest id is read back.
    let mut owners: Vec<i32> = Vec::new();
    for name in ["root", "boss's deputy", "é ☃", "gone"] {
        let boss_id = owners.last().copied();
        diesel::insert_into(users::table)
            .values(&NewUser { name, boss_id })
            .execute(conn)
            .unwrap();
        owners.push(
            users::table
                .select(users::id)
                .order(users::id.desc())
                .first(conn)
                .unwrap(),
        );
    }
    let floats = [
        0.1 + 0.2,
        1.0 / 3.0,
        1e308,
        -2.2250738585072014e-308,
        123456789.12345679,
        5e-324,
        0.0,
    ];
    let bounds: [(i16, i32, i64); 7] = [
        (i16::MIN, i32::MIN, i64::MIN),
        (i16::MAX, i32::MAX, i64::MAX),
        (0, 0, 0),
        (1, -1, (1 << 53) + 1),
        (-1, 1, -(1 << 53) - 1),
        (100, 100_000, 1_000_000_000_000_000_000),
        (7, 7, 7),
    ];
    let days = [
        date(1, 1, 1),
        date(9999, 12, 31),
        date(2000, 2, 29),
        date(1970, 1, 1),
        date(1969, 12, 31),
        date(2024, 1, 1),
        date(1900, 3, 1),
    ];
    let clocks = [
        clock(0, 0, 0, 0),
        clock(23, 59, 59, 999_999),
        clock(12, 30, 0, 0),
        clock(1, 2, 3, 4),
        clock(13, 0, 0, 100_000),
        clock(6, 0, 0, 0),
        clock(18, 45, 1, 0),
    ];
    let moments = [
        date(2024, 3, 31).and_time(clock(2, 30, 0, 999_999)),
        date(1970, 1, 1).and_time(clock(0, 0, 0, 0)),
        date(1901, 12, 13).and_time(clock(20, 45, 52, 123_456)),
        date(2099, 12, 31).and_time(clock(23, 59, 59, 999_999)),
        date(2000, 2, 29).and_time(clock(12, 0, 0, 500_000)),
        date(1, 1, 1).and_time(clock(0, 0, 0, 1)),
        date(9999, 12, 31).and_time(clock(23, 59, 59, 999_999)),
    ];
    let blobs: [Vec<u8>; 7] = [
        (0..=255).collect(),
        vec![],
        vec![0],
        vec![0xff, 0xfe],
        b"text".to_vec(),
        vec![0; 10],
        b"\x00\x01".to_vec(),
    ];
    let mut ids = Vec::new();
    for i in 0..7 {
        let thing = NewThing {
            owner_id: [
                Some(owners[0]),
                Some(owners[1]),
                None,
                Some(owners[3]),
                Some(owners[2]),
                Some(owners[0]),
                None,
            ][i],
            flag: i % 2 == 0,
            maybe: [Some(true), Some(false), None][i % 3],
            small: bounds[i].0,
            number: bounds[i].1,
            big: bounds[i].2,
            ratio: floats[i],
            day: days[i],
            clock: clocks[i],
            moment: moments[i],
            blob: blobs[i].clone(),
            note: (i % 3 != 1).then(|| ["", "a'b", "tab\there", "ß"][i % 4].to_string()),
            mixed_case: ["Mixed", "", "CASE", "x", "y", "z", "w"][i].to_string(),
        };
        diesel::insert_into(things::table)
            .values(&thing)
            .execute(conn)
            .unwrap();
        let id: i32 = things::table
            .select(things::id)
            .order(things::id.desc())
            .first(conn)
            .unwrap();
        for tag in ["red", "green", "blue"].iter().take(i % 4) {
            diesel::insert_into(things_tags::table)
                .values((things_tags::thing_id.eq(id), things_tags::tag.eq(*tag)))
                .execute(conn)
                .unwrap();
        }
        ids.push(id);
    }
    // Aware date/times given in other zones: Diesel stores them in UTC with `+00:00`.
    let aware = |text: &str| DateTime::<FixedOffset>::parse_from_rfc3339(text).unwrap();
    let events = [
        (
            ids[0],
            "2024-03-31T04:30:00.999999+02:00",
            Some("1970-01-01T00:00:00Z"),
        ),
        (ids[1], "1999-12-31T23:59:59.5-08:00", None),
        (
            ids[3],
            "0001-01-01T00:00:00.000001Z",
            Some("9999-12-31T23:59:59.999999Z"),
        ),
        (
            ids[3],
            "2000-01-01T00:00:00+14:00",
            Some("2038-01-19T03:14:08Z"),
        ),
    ];
    for (thing_id, at, until) in events {
        use on_sqlite::events::dsl as e;
        diesel::insert_into(e::events)
            .values((
                e::thing_id.eq(thing_id),
                e::at.eq(aware(at)),
                e::until.eq(until.map(aware)),
            ))
            .execute(conn)
            .unwrap();
    }
    // Deletions: gaps in ids, the last ids among them (sqlite_sequence stays ahead).
    for id in [ids[2], ids[6]] {
        diesel::delete(things_tags::table.filter(things_tags::thing_id.eq(id)))
            .execute(conn)
            .unwrap();
        diesel::delete(things::table.find(id))
            .execute(conn)
            .unwrap();
    }
    diesel::update(things::table.filter(things::owner_id.eq(owners[3])))
        .set(things::owner_id.eq(None::<i32>))
        .execute(conn)
        .unwrap();
    diesel::delete(users::table.find(owners[3]))
        .execute(conn)
        .unwrap();
}

/// Every row and the answers of typical queries, as Diesel's typed queries give them.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<User>,
    things: Vec<Thing>,
    tags: Vec<(i32, String)>,
    queries: Vec<(&'static str, Vec<i32>)>,
    owners_of_flagged: Vec<(i32, String)>,
    per_flag: Vec<(bool, i64)>,
    biggest: Option<i64>,
    latest: Option<NaiveDateTime>,
    events: Vec<Event>,
    events_after_2000: Vec<i32>,
}

/// The same typed queries on either connection: a macro, as Diesel's query types differ per
/// backend.
macro_rules! snapshot {
    ($conn:expr, $events:ident) => {{
        let conn = $conn;
        use $events::events::dsl as e;
        let y2k: DateTime<Utc> = "2000-01-01T00:00:00Z".parse().unwrap();
        use things::dsl as t;
        let ids = |q: Vec<i32>| q;
        let queries = vec![
            (
                "flag true",
                ids(t::things
                    .filter(t::flag.eq(true))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "maybe null",
                ids(t::things
                    .filter(t::maybe.is_null())
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "maybe false",
                ids(t::things
                    .filter(t::maybe.eq(false))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "small at its bound",
                ids(t::things
                    .filter(t::small.eq(i16::MIN))
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "big > 2^53",
                ids(t::things
                    .filter(t::big.gt(1i64 << 53))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "ratio < 0.5",
                ids(t::things
                    .filter(t::ratio.lt(0.5))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "day range",
                ids(t::things
                    .filter(t::day.between(date(1950, 1, 1), date(2050, 1, 1)))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "clock after noon",
                ids(t::things
                    .filter(t::clock.ge(clock(12, 0, 0, 0)))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "moment after 2000",
                ids(t::things
                    .filter(t::moment.gt(date(2000, 1, 1).and_time(clock(0, 0, 0, 0))))
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "blob is one zero byte",
                ids(t::things
                    .filter(t::blob.eq(vec![0u8]))
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "note null",
                ids(t::things
                    .filter(t::note.is_null())
                    .order(t::id)
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "mixed case",
                ids(t::things
                    .filter(t::mixed_case.eq("Mixed"))
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "order by ratio",
                ids(t::things
                    .order((t::ratio, t::id))
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "order by moment desc",
                ids(t::things
                    .order(t::moment.desc())
                    .select(t::id)
                    .load(conn)
                    .unwrap()),
            ),
            (
                "tagged red",
                ids(things_tags::table
                    .filter(things_tags::tag.eq("red"))
                    .order(things_tags::thing_id)
                    .select(things_tags::thing_id)
                    .load(conn)
                    .unwrap()),
            ),
        ];
        Snapshot {
            users: users::table.order(users::id).load(conn).unwrap(),
            things: t::things.order(t::id).load(conn).unwrap(),
            tags: things_tags::table
                .order((things_tags::thing_id, things_tags::tag))
                .load(conn)
                .unwrap(),
            queries,
            owners_of_flagged: t::things
                .inner_join(users::table)
                .filter(t::flag.eq(true))
                .order(t::id)
                .select((t::id, users::name))
                .load(conn)
                .unwrap(),
            per_flag: t::things
                .group_by(t::flag)
                .order(t::flag)
                .select((t::flag, count_star()))
                .load(conn)
                .unwrap(),
            biggest: t::things.select(max(t::big)).first(conn).unwrap(),
            latest: t::things.select(max(t::moment)).first(conn).unwrap(),
            events: e::events.order(e::id).load(conn).unwrap(),
            events_after_2000: e::events
                .filter(e::at.gt(y2k))
                .order(e::id)
                .select(e::id)
                .load(conn)
                .unwrap(),
        }
    }};
}

/// A bed Diesel filled on SQLite: the file and what Diesel read from it.
struct Filled {
    dir: tempfile::TempDir,
    sqlite: std::path::PathBuf,
    expected: Snapshot,
}

fn filled() -> Filled {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("app.sqlite");
    let mut conn = SqliteConnection::establish(sqlite.to_str().unwrap()).unwrap();
    conn.run_pending_migrations(migrations("sqlite")).unwrap();
    fill(&mut conn);
    let expected = snapshot!(&mut conn, on_sqlite);
    assert_eq!(
        (
            expected.users.len(),
            expected.things.len(),
            expected.events.len()
        ),
        (3, 5, 4)
    );
    Filled {
        dir,
        sqlite,
        expected,
    }
}

#[test]
fn diesel_reads_back_every_row_after_a_data_only_copy() {
    let filled = filled();
    let target = pg_db();
    let mut pg = PgConnection::establish(&target.url).unwrap();
    pg.run_pending_migrations(migrations("postgres")).unwrap();
    // Diesel's migrations fill `__diesel_schema_migrations` on PostgreSQL too: replaced.
    let output = dbshift(filled.dir.path())
        .args(["migrate", "--data-only", "--quiet", "--format", "json"])
        .args(["--if-exists", "truncate"])
        .arg(&filled.sqlite)
        .arg(&target.url)
        .output()
        .unwrap();
    crate::support::exits(&output, 0);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["totals"]["rows_rejected"], 0, "{report:#}");
    assert_eq!(report["totals"]["values_repaired"], 0, "{report:#}");
    assert_eq!(report["verification"]["ok"], true, "{report:#}");
    assert!(
        report["notes"]
            .to_string()
            .contains("ORM: diesel (found `__diesel_schema_migrations`)"),
        "{report:#}"
    );
    let actual = snapshot!(&mut pg, on_pg);
    assert_eq!(filled.expected, actual);
    // New rows get fresh ids, past both max(id) and sqlite_sequence.
    let sequences = sqlite_rows(&filled.sqlite, "SELECT name, seq FROM sqlite_sequence");
    assert_eq!(sequences.len(), 3);
    for row in sequences {
        let table = row[0].clone().unwrap();
        let seq: i32 = row[1].as_deref().unwrap().parse().unwrap();
        let new: i32 = match table.as_str() {
            "user" => diesel::insert_into(users::table)
                .values(&NewUser {
                    name: "new",
                    boss_id: None,
                })
                .returning(users::id)
                .get_result(&mut pg)
                .unwrap(),
            "things" => diesel::insert_into(things::table)
                .values((
                    things::flag.eq(true),
                    things::small.eq(0i16),
                    things::number.eq(0),
                    things::big.eq(0i64),
                    things::ratio.eq(0.0),
                    things::day.eq(date(2024, 1, 1)),
                    things::clock.eq(clock(0, 0, 0, 0)),
                    things::moment.eq(date(2024, 1, 1).and_time(clock(0, 0, 0, 0))),
                    things::blob.eq(Vec::<u8>::new()),
                    things::mixed_case.eq("new"),
                ))
                .returning(things::id)
                .get_result(&mut pg)
                .unwrap(),
            "events" => {
                use on_pg::events::dsl as e;
                diesel::insert_into(e::events)
                    .values((e::thing_id.eq(1), e::at.eq(Utc::now())))
                    .returning(e::id)
                    .get_result(&mut pg)
                    .unwrap()
            }
            other => panic!("unexpected sequence of `{other}`"),
        };
        assert!(
            new > seq,
            "a new `{table}` row got id {new}, not past {seq}"
        );
    }
}

/// The Diesel bed's tables, every column with its meaning.
const DIESEL: &[TableSpec] = {
    use Kind::*;
    &[
        (
            "__diesel_schema_migrations",
            &[("version", Same), ("run_on", Instant)],
        ),
        ("user", &[("id", Same), ("name", Same), ("boss_id", Same)]),
        ("things_tags", &[("thing_id", Same), ("tag", Same)]),
        (
            "events",
            &[
                ("id", Same),
                ("thing_id", Same),
                ("at", AwareInstant),
                ("until", AwareInstant),
            ],
        ),
        (
            "things",
            &[
                ("id", Same),
                ("owner_id", Same),
                ("flag", Bool),
                ("maybe", Bool),
                ("small", Same),
                ("number", Same),
                ("big", Same),
                ("ratio", Float),
                ("day", Same),
                ("clock", TimeOfDay),
                ("moment", Instant),
                ("blob", Bytes),
                ("note", Same),
                ("MixedCase", Same),
            ],
        ),
    ]
};

#[test]
fn diesel_full_mode_loses_no_value() {
    let filled = filled();
    let target = pg_db();
    let output = crate::support::run(
        filled.dir.path(),
        &[
            "migrate",
            "--quiet",
            filled.sqlite.to_str().unwrap(),
            &target.url,
        ],
    );
    crate::support::exits(&output, 0);
    let compared = assert_every_value_kept(&filled.sqlite, &target.url, DIESEL);
    assert!(compared > 80, "{compared} values compared");
}
