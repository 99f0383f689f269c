//! Progress of a transfer: a bar per table on a terminal (rows, rows/s, ETA), plain log lines
//! otherwise, nothing when quiet.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::copy::TableStats;

/// How progress is shown.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    bars: Option<MultiProgress>,
    tables: Mutex<HashMap<String, (ProgressBar, Instant)>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match &self.inner {
            None => "Progress::Quiet",
            Some(inner) if inner.bars.is_some() => "Progress::Bars",
            Some(_) => "Progress::Log",
        })
    }
}

impl Progress {
    /// No progress output.
    pub fn quiet() -> Self {
        Progress { inner: None }
    }

    /// Bars when stderr is a terminal, log lines otherwise.
    pub fn auto() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            inner: Some(Arc::new(Inner {
                bars,
                tables: Mutex::new(HashMap::new()),
            })),
        }
    }

    /// A table starts copying.
    pub fn start(&self, table: &str, total_rows: u64) {
        let Some(inner) = &self.inner else { return };
        let bar = match &inner.bars {
            Some(multi) => {
                let bar = multi.add(ProgressBar::new(total_rows.max(1)));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>24} [{bar:30}] {pos}/{len} rows {per_sec} ETA {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(table.chars().take(24).collect::<String>());
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            }
            None => {
                eprintln!("dbshift: copying {table} ({total_rows} rows)");
                ProgressBar::hidden()
            }
        };
        inner
            .tables
            .lock()
            .expect("lock")
            .insert(table.to_string(), (bar, Instant::now()));
    }

    /// Rows read so far for a table.
    pub fn rows(&self, table: &str, rows: u64) {
        let Some(inner) = &self.inner else { return };
        let mut tables = inner.tables.lock().expect("lock");
        if let Some((bar, last_log)) = tables.get_mut(table) {
            bar.set_position(rows);
            if inner.bars.is_none() && last_log.elapsed() > Duration::from_secs(5) {
                eprintln!("dbshift: {table}: {rows} rows read");
                *last_log = Instant::now();
            }
        }
    }

    /// A table is done.
    pub fn finish(&self, table: &str, stats: &TableStats) {
        let Some(inner) = &self.inner else { return };
        if let Some((bar, _)) = inner.tables.lock().expect("lock").remove(table) {
            bar.finish_and_clear();
        }
        let message = format!(
            "{table}: {} rows written, {} rejected, {:.2}s",
            stats.rows_written, stats.rows_rejected, stats.seconds
        );
        match &inner.bars {
            Some(multi) => {
                let _ = multi.println(message);
            }
            None => eprintln!("dbshift: {message}"),
        }
    }

    /// A one-off message (a phase starts).
    pub fn message(&self, text: &str) {
        let Some(inner) = &self.inner else { return };
        match &inner.bars {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("dbshift: {text}"),
        }
    }
}
