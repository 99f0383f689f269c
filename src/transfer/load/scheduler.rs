//! Copying the tables in parallel: `jobs` workers take tables largest first, a table only once
//! the tables it references are loaded (so its foreign keys can be checked as it loads), and
//! the first failure stops them all.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};

use crate::backend::PostgresBackend;
use crate::transfer::error::{Error, Result};
use crate::transfer::load::options::Options;
use crate::transfer::load::preflight::prepare_loading;
use crate::transfer::load::report::TableReport;
use crate::transfer::load::state::Done;
use crate::transfer::load::table_steps::load_table;
use crate::transfer::load::work::Work;

/// What the workers share: the tables not yet taken, those loaded, and the first failure.
struct Queue {
    pending: Vec<usize>,
    loaded: HashSet<String>,
    running: usize,
    failure: Option<Error>,
}

/// The tables of `work`, their parents first, on `jobs` workers.
struct Scheduler<'w> {
    work: &'w Work,
    in_transfer: HashSet<&'w str>,
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl<'w> Scheduler<'w> {
    fn new(work: &'w Work) -> Self {
        let mut order: Vec<usize> = (0..work.tables.len()).collect();
        // Largest first, so the last table to finish is a small one.
        order.sort_by_key(|&i| std::cmp::Reverse(work.tables[i].source_rows));
        Scheduler {
            work,
            in_transfer: work.tables.iter().map(|t| t.map.target.as_str()).collect(),
            queue: Mutex::new(Queue {
                pending: order,
                loaded: HashSet::new(),
                running: 0,
                failure: None,
            }),
            wake: Condvar::new(),
        }
    }

    /// Whether every parent of table `i` in this transfer is loaded.
    fn ready(&self, queue: &Queue, i: usize) -> bool {
        let table = &self.work.tables[i];
        table.parents.iter().all(|p| {
            !self.in_transfer.contains(p.as_str())
                || queue.loaded.contains(p)
                || *p == table.map.target
        })
    }

    /// The next table to load, waiting for its parents; `None` when there is none left or a
    /// worker failed.
    fn next(&self) -> Option<usize> {
        let mut queue = self.queue.lock().expect("lock");
        loop {
            if queue.failure.is_some() || queue.pending.is_empty() {
                return None;
            }
            let ready = queue.pending.iter().position(|&i| self.ready(&queue, i));
            match ready {
                Some(position) => {
                    queue.running += 1;
                    return Some(queue.pending.remove(position));
                }
                // Parents in a cycle of foreign keys: load anyway; rows the server refuses
                // are isolated and rejected, never silently dropped.
                None if queue.running == 0 => {
                    queue.running += 1;
                    return Some(queue.pending.remove(0));
                }
                None => queue = self.wake.wait(queue).expect("lock"),
            }
        }
    }

    /// Records how loading table `index` ended and wakes the workers waiting for it.
    fn finished(
        &self,
        index: usize,
        result: Result<TableReport>,
        reports: &Mutex<Vec<TableReport>>,
    ) {
        let mut queue = self.queue.lock().expect("lock");
        queue.running -= 1;
        match result {
            Ok(report) => {
                queue
                    .loaded
                    .insert(self.work.tables[index].map.target.clone());
                reports.lock().expect("lock").push(report);
            }
            Err(e) => {
                queue.failure.get_or_insert(e);
            }
        }
        self.wake.notify_all();
    }
}

/// Copies every table of `work` not recorded as done, with its keys and indexes.
pub(crate) fn copy_tables(options: &Options, work: &Work, done: &Done) -> Result<Vec<TableReport>> {
    let scheduler = Scheduler::new(work);
    let reports = Mutex::new(Vec::new());
    let pool = PostgresBackend::connect(&{
        let mut config = options.target.clone();
        config.pool.max_size = options.jobs.max(1) as u32;
        config.pool.min_idle = 0;
        config
    })?;
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                while let Some(index) = scheduler.next() {
                    let table = &work.tables[index];
                    let result = pool.conn().map_err(Error::from).and_then(|mut conn| {
                        prepare_loading(options, &mut conn)?;
                        load_table(options, &mut conn, table, done)
                    });
                    scheduler.finished(index, result, &reports);
                }
            });
        }
    });
    if let Some(e) = scheduler.queue.into_inner().expect("lock").failure {
        return Err(e);
    }
    Ok(reports.into_inner().expect("lock"))
}
