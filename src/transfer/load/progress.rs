//! Progress of a transfer, as events for an observer the caller supplies: a table starts, rows
//! were read, a table is done, a phase starts. The library draws nothing itself; the command
//! line turns the events into bars or log lines.

use std::sync::Arc;

use crate::transfer::load::copy::TableStats;

/// Receives a transfer's progress. Called from the copying threads, so it must be cheap and
/// must not block for long; every method defaults to doing nothing.
pub trait Observer: Send + Sync {
    /// A table starts copying; `total_rows` is the source's count when planned.
    fn start(&self, _table: &str, _total_rows: u64) {}
    /// Rows read so far for a table.
    fn rows(&self, _table: &str, _rows: u64) {}
    /// A table is done.
    fn finish(&self, _table: &str, _stats: &TableStats) {}
    /// A one-off message (a phase starts).
    fn message(&self, _text: &str) {}
}

/// Where progress goes: nowhere ([`Progress::quiet`]) or to an [`Observer`].
#[derive(Clone, Default)]
pub struct Progress {
    observer: Option<Arc<dyn Observer>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.observer {
            None => "Progress::Quiet",
            Some(_) => "Progress::Observed",
        })
    }
}

impl Progress {
    /// No progress output.
    pub fn quiet() -> Self {
        Progress { observer: None }
    }

    /// Progress events go to `observer`.
    pub fn to(observer: Arc<dyn Observer>) -> Self {
        Progress {
            observer: Some(observer),
        }
    }

    /// A table starts copying.
    pub fn start(&self, table: &str, total_rows: u64) {
        if let Some(observer) = &self.observer {
            observer.start(table, total_rows);
        }
    }

    /// Rows read so far for a table.
    pub fn rows(&self, table: &str, rows: u64) {
        if let Some(observer) = &self.observer {
            observer.rows(table, rows);
        }
    }

    /// A table is done.
    pub fn finish(&self, table: &str, stats: &TableStats) {
        if let Some(observer) = &self.observer {
            observer.finish(table, stats);
        }
    }

    /// A one-off message (a phase starts).
    pub fn message(&self, text: &str) {
        if let Some(observer) = &self.observer {
            observer.message(text);
        }
    }
}
