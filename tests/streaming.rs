//! Streaming results: `query_each` hands over 2M rows one at a time on both databases, with the
//! memory this thread holds flat (measured by a counting allocator, which also shows what
//! collecting the rows would have held), and stopping early leaves the connection usable.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::support::{config, Kind};
use dbshift::{Dialect, Error, Registry};

/// The system allocator, counting the bytes live and their peak for threads that ask.
struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = TRACKING.try_with(|tracking| {
        if tracking.get() {
            let live = LIVE.with(|l| {
                l.set(l.get() + delta);
                l.get()
            });
            PEAK.with(|p| p.set(p.get().max(live)));
        }
    });
}

// SAFETY: every call is passed to `System` unchanged; the counters are thread-local cells with
// constant initialisers, which neither allocate nor have destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes this thread's allocations held at once while `work` ran, above what they
/// held when it started.
pub(crate) fn peak_bytes<T>(work: impl FnOnce() -> T) -> (T, isize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let out = work();
    TRACKING.with(|t| t.set(false));
    (out, PEAK.with(Cell::get))
}

/// `n` numbered rows made by the database itself (no table to fill first).
fn numbers(dialect: Dialect, n: i64) -> String {
    match dialect {
        Dialect::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             SELECT i, 'row number ' || i AS label FROM n"
        ),
        Dialect::Postgres => format!(
            "SELECT i::bigint AS i, 'row number ' || i AS label FROM generate_series(1, {n}) AS i"
        ),
    }
}

const ROWS: i64 = 2_000_000;

both_backends! {
    fn two_million_rows_stream_in_flat_memory(kind) {
        let (config, _guard) = config(kind);
        let db = Registry::with_defaults().connect(&config).unwrap();
        let sql = numbers(db.dialect(), ROWS);
        db.query_one("SELECT 1 AS warm", &[]).unwrap();

        let ((count, sum, last_label), peak) = peak_bytes(|| {
            let (mut count, mut sum, mut last_label) = (0i64, 0i64, String::new());
            db.query_each(&sql, &[], &mut |row| {
                let i: i64 = row.get("i")?;
                count += 1;
                sum += i;
                if i == ROWS {
                    last_label = row.get("label")?;
                }
                Ok(())
            })
            .unwrap();
            (count, sum, last_label)
        });
        assert_eq!(count, ROWS);
        assert_eq!(sum, ROWS * (ROWS + 1) / 2, "every row, each once");
        assert_eq!(last_label, format!("row number {ROWS}"));
        eprintln!("{kind:?}: streaming {ROWS} rows held at most {peak} bytes");
        assert!(peak < 1 << 20, "streaming held {peak} bytes at once");

        // The meter sees what collecting holds: a tenth of the rows, collected, holds far more.
        let (rows, collected) = peak_bytes(|| db.query(&numbers(db.dialect(), ROWS / 10), &[]).unwrap());
        assert_eq!(rows.len() as i64, ROWS / 10);
        eprintln!("{kind:?}: collecting {} rows held {collected} bytes", ROWS / 10);
        assert!(collected > 16 * peak.max(1 << 16), "collected {collected}, streamed {peak}");
    }

    fn stopping_early_returns_the_callers_error_and_leaves_the_connection_usable(kind) {
        let (config, _guard) = config(kind);
        // One connection: the next query must run on the one the stream stopped on.
        let db = Registry::with_defaults().connect(&config.with_max_connections(1)).unwrap();
        let mut seen = 0;
        let err = db
            .query_each(&numbers(db.dialect(), 100_000), &[], &mut |_| {
                seen += 1;
                if seen == 10 {
                    return Err(Error::Rollback("enough".into()));
                }
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, Error::Rollback(ref m) if m == "enough"), "{err:?}");
        assert_eq!(seen, 10);
        let row = db.query_one("SELECT 41 + 1 AS answer", &[]).unwrap();
        assert_eq!(row.get::<i64, _>("answer").unwrap(), 42);
        // Inside a transaction, through its executor, and a database error mid-way is reported.
        let n = db
            .transaction(|tx| {
                let mut n = 0;
                tx.query_each(&numbers(tx.dialect(), 1000), &[], &mut |_| { n += 1; Ok(()) })?;
                Ok(n)
            })
            .unwrap();
        assert_eq!(n, 1000);
        let err = db.query_each("SELECT * FROM no_such_table", &[], &mut |_| Ok(())).unwrap_err();
        assert!(matches!(err, Error::Query { .. }), "{err:?}");
        if kind == Kind::Postgres {
            // A failure after rows were handed over (division by zero at row 500).
            let mut seen = 0;
            let err = db
                .query_each("SELECT 1 / (500 - i) AS x FROM generate_series(1, 1000) AS i", &[], &mut |_| { seen += 1; Ok(()) })
                .unwrap_err();
            assert!(err.to_string().contains("division by zero"), "{err}");
            assert_eq!(seen, 499);
            assert_eq!(db.query_one("SELECT 1 AS one", &[]).unwrap().get::<i64, _>("one").unwrap(), 1);
        }
    }
}
