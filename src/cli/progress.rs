//! How the command shows a transfer's progress: a bar per table on a terminal (rows, rows/s,
//! ETA), plain log lines otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use dbshift::transfer::load::copy::TableStats;
use dbshift::transfer::load::progress::{Observer, Progress};

/// Bars when stderr is a terminal, log lines otherwise.
pub fn auto() -> Progress {
    let bars = std::io::stderr()
        .is_terminal()
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    Progress::to(Arc::new(Shown {
        bars,
        tables: Mutex::new(HashMap::new()),
    }))
}

/// Progress shown on stderr.
struct Shown {
    bars: Option<MultiProgress>,
    tables: Mutex<HashMap<String, (ProgressBar, Instant)>>,
}

impl Observer for Shown {
    fn start(&self, table: &str, total_rows: u64) {
        let inner = self;
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

    fn rows(&self, table: &str, rows: u64) {
        let inner = self;
        let mut tables = inner.tables.lock().expect("lock");
        if let Some((bar, last_log)) = tables.get_mut(table) {
            bar.set_position(rows);
            if inner.bars.is_none() && last_log.elapsed() > Duration::from_secs(5) {
                eprintln!("dbshift: {table}: {rows} rows read");
                *last_log = Instant::now();
            }
        }
    }

    fn finish(&self, table: &str, stats: &TableStats) {
        let inner = self;
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

    fn message(&self, text: &str) {
        let inner = self;
        match &inner.bars {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("dbshift: {text}"),
        }
    }
}
