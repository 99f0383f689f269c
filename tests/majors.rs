//! Conversions whose PostgreSQL input differs between majors (the guide promises 13 to 18;
//! `scripts/pg-majors.sh` runs the suite on each). Before 15 each number in interval input text
//! is a 32-bit integer, so `'7260000000 microseconds'` is refused on 13 and 14; dbshift sends
//! intervals in binary (days and microseconds), which every major reads the same.

use crate::support::independent::pg_rows;
use crate::support::{dbshift, exits, pg_db, sqlite_db};

#[test]
fn django_durations_beyond_2_pow_31_microseconds_arrive_on_every_major() {
    // A source Django made (its bookkeeping table), without Django itself: a DurationField is
    // `bigint` microseconds on SQLite and `interval` on PostgreSQL.
    let source = sqlite_db();
    let micros: [(i64, i64); 6] = [
        (1, 25_460_000),              // the 25.46 s
        (2, -1),                      // one microsecond before zero
        (3, 7_260_000_000),           // 2 h 1 min: beyond 2^31 microseconds
        (4, 2_522_880_000_999_999),   // 80 years of days and a fraction
        (5, -241_199_999_993),        // -3 days + 5 h + 7 µs, as Python normalises it
        (6, i64::from(i32::MAX) + 1), // just past the 32-bit limit
    ];
    let rows: Vec<String> = micros
        .iter()
        .map(|(id, n)| format!("({id}, {n})"))
        .collect();
    source.exec(&format!(
        "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app varchar(255), name varchar(255), applied datetime);
         CREATE TABLE shop_run (id integer PRIMARY KEY, took bigint NULL);
         INSERT INTO shop_run VALUES {}, (7, NULL);",
        rows.join(", ")
    ));
    let target = pg_db();
    target.exec(
        "CREATE TABLE django_migrations (id bigint PRIMARY KEY, app varchar(255), name varchar(255), applied timestamptz);
         CREATE TABLE shop_run (id bigint PRIMARY KEY, took interval);",
    );
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .args(["migrate", "--data-only", "--quiet"])
        .arg(&source.path)
        .arg(&target.url)
        .output()
        .unwrap();
    exits(&output, 0);
    // Each interval equals its count of microseconds, computed by PostgreSQL from the numbers
    // written here (interval equality counts a day as 24 hours, whatever the split).
    let expected: Vec<String> = micros
        .iter()
        .map(|(id, n)| format!("({id}, {n}::float8)"))
        .collect();
    let got = pg_rows(
        &target.url,
        &format!(
            "SELECT id, took = interval '1 microsecond' * v.n FROM shop_run \
             LEFT JOIN (VALUES {}) AS v(id, n) USING (id) ORDER BY id",
            expected.join(", ")
        ),
    );
    let want: Vec<Vec<Option<String>>> = (1..=7)
        .map(|id| vec![Some(id.to_string()), (id < 7).then(|| "t".to_string())])
        .collect();
    assert_eq!(got, want);
}
