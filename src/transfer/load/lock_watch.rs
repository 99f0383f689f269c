//! Watching dbshift's own sessions for locks held by others. A data-only transfer into a live
//! database meets the application's sessions: an open transaction that altered a table, an
//! index being built. PostgreSQL then makes the copy wait without a word; this watcher, on a
//! connection of its own, polls `pg_stat_activity` and `pg_locks` for sessions of this process
//! ([`application_name`]) that wait for a lock, and tells which table, which session holds it
//! and since when, while the wait lasts and in the report afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::sql_types::{Double, Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::dialect::quote_literal;
use crate::transfer::error::Error;
use crate::transfer::load::options::Options;
use crate::transfer::load::preflight::connect;
use crate::transfer::pg::{application_name, is_lock_timeout, prepare_session, query_text};

/// How often the watcher looks.
const POLL: Duration = Duration::from_millis(200);

/// One wait for a lock, as last seen.
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct LockWait {
    /// The locked table (or the kind of lock when it is not a table's).
    #[diesel(sql_type = Text)]
    pub(crate) object: String,
    /// The session holding it.
    #[diesel(sql_type = Integer)]
    pub(crate) holder: i32,
    /// Its `application_name`.
    #[diesel(sql_type = Text)]
    pub(crate) application: String,
    /// When its transaction (or session) began.
    #[diesel(sql_type = Text)]
    pub(crate) since: String,
    /// Seconds our session has waited so far.
    #[diesel(sql_type = Double)]
    pub(crate) waited: f64,
}

impl LockWait {
    /// `a lock on `t` held by pid 12 (application `psql`, in a transaction since ...)`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "a lock on `{}` held by pid {} (application `{}`, in a transaction since {})",
            self.object, self.holder, self.application, self.since
        )
    }
}

/// The running watcher; [`LockWatch::finish`] stops it.
pub(crate) struct LockWatch {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<LockWait>>>,
    thread: Option<JoinHandle<()>>,
}

const WAITS_SQL: &str = "
SELECT coalesce(l.relation::regclass::text, l.locktype) AS object, b.pid AS holder,
       coalesce(nullif(b.application_name, ''), 'unnamed') AS application,
       to_char(coalesce(b.xact_start, b.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since,
       extract(epoch FROM now() - coalesce(w.query_start, now()))::float8 AS waited
FROM pg_stat_activity w
JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS h(pid)
JOIN pg_stat_activity b ON b.pid = h.pid
WHERE w.application_name = $APP AND w.datname = current_database()
  AND b.application_name IS DISTINCT FROM $APP";

impl LockWatch {
    /// Starts watching; when the watcher cannot connect, nothing is watched (the transfer's own
    /// connections will fail the same way and say so).
    pub(crate) fn start(options: &Options) -> LockWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, seen, options) = (stop.clone(), seen.clone(), options.clone());
            std::thread::Builder::new()
                .name("dbshift-lock-watch".into())
                .spawn(move || {
                    let Ok(mut conn) = connect(&options.target) else {
                        return;
                    };
                    if prepare_session(&mut conn, None).is_err() {
                        return;
                    }
                    watch(&mut conn, &options, &stop, &seen);
                })
                .ok()
        };
        LockWatch { stop, seen, thread }
    }

    /// Stops the watcher; returns every wait it saw (one per table and holder, the longest).
    pub(crate) fn finish(mut self) -> Vec<LockWait> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Woken from its pause at once: the transfer does not wait out a poll interval.
            thread.thread().unpark();
            let _ = thread.join();
        }
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

impl Drop for LockWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

/// Polls until `stop`; each new wait is shown at once, and every wait kept in `seen`.
fn watch(
    conn: &mut PgConnection,
    options: &Options,
    stop: &AtomicBool,
    seen: &Mutex<Vec<LockWait>>,
) {
    let app = quote_literal(&application_name());
    let sql = WAITS_SQL.replace("$APP", &app);
    // Most polls find nobody waiting: this look at `pg_stat_activity` alone is much cheaper
    // for the server than the lock graph, which is read only when a session of ours waits.
    let anyone_waiting = format!(
        "SELECT 'waiting' AS value FROM pg_stat_activity WHERE application_name = {app} \
         AND datname = current_database() AND wait_event_type = 'Lock' LIMIT 1"
    );
    let mut last_shown = Instant::now() - Duration::from_secs(60);
    loop {
        // `finish` unparks the thread, so stopping never waits out the interval.
        std::thread::park_timeout(POLL);
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match query_text(conn, &anyone_waiting) {
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(_) => return,
        }
        let Ok(waits) = diesel::sql_query(&sql).load::<LockWait>(conn) else {
            return;
        };
        let mut seen = seen.lock().expect("lock");
        for wait in waits {
            let known = seen
                .iter_mut()
                .find(|w| w.object == wait.object && w.holder == wait.holder);
            let is_new = known.is_none();
            match known {
                Some(known) => known.waited = known.waited.max(wait.waited),
                None => seen.push(wait.clone()),
            }
            // Shown when it starts, then every ten seconds while it lasts.
            if is_new || last_shown.elapsed() >= Duration::from_secs(10) {
                let line = if is_new {
                    format!("waiting for {}", wait.describe())
                } else {
                    format!(
                        "still waiting after {:.0} s for {}",
                        wait.waited,
                        wait.describe()
                    )
                };
                // Shown through the caller's progress (not on stderr with `--quiet`); the log
                // keeps it at info.
                tracing::info!("{line}");
                options.progress.message(&line);
                last_shown = Instant::now();
            }
        }
    }
}

/// A lock timeout ([`Options::lock_wait`]) told as the wait it ended: which table, which
/// session held it, since when (as the watcher last saw it). Other errors pass unchanged.
pub(crate) fn gave_up_waiting(options: &Options, e: Error, wait: Option<&LockWait>) -> Error {
    let Some(seconds) = options.lock_wait.map(|d| d.as_secs_f64()) else {
        return e;
    };
    if !e.driver_error().is_some_and(is_lock_timeout) {
        return e;
    }
    let waited = Error::LockWait {
        seconds,
        what: wait.map_or_else(
            || "a lock another session holds".to_string(),
            LockWait::describe,
        ),
    };
    match e {
        Error::Stopped { .. } => Error::Stopped {
            source: Box::new(waited),
        },
        _ => waited,
    }
}
