//! Verifying a whole transfer: every table's two sides (source and target) read as separate
//! tasks on `jobs` connections, largest tables first, then each table's sums compared
//! ([`verify`](super::verify) does one table).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::transfer::error::{Error, Result};
use crate::transfer::load::options::Options;
use crate::transfer::load::preflight::connect;
use crate::transfer::load::rejects::RunTag;
use crate::transfer::load::report::Verification;
use crate::transfer::load::verify::{rejected_keys, Side, Sums, TableToCheck};
use crate::transfer::load::work::Work;

/// The reads still to do and what they found, shared by the workers.
struct Tasks<'c> {
    checks: &'c [TableToCheck<'c>],
    queue: Mutex<Vec<(usize, Side)>>,
    sums: Mutex<Vec<Sums>>,
    failure: Mutex<Option<Error>>,
}

impl Tasks<'_> {
    fn fail(&self, e: Error) {
        self.failure.lock().expect("lock").get_or_insert(e);
    }

    /// One worker: reads sides until none is left or another worker failed.
    fn work(&self, options: &Options) {
        let mut conn = match connect(&options.target)
            .and_then(|mut conn| options.prepare_session(&mut conn).map(|_| conn))
        {
            Ok(conn) => conn,
            Err(e) => return self.fail(e),
        };
        loop {
            let Some((index, side)) = self.queue.lock().expect("lock").pop() else {
                return;
            };
            if self.failure.lock().expect("lock").is_some() {
                return;
            }
            if side == Side::Source {
                options
                    .progress
                    .message(&format!("verifying {}", self.checks[index].map.source));
            }
            crate::transfer::fault_point("verifying");
            let side_started = Instant::now();
            match self.checks[index].checksum(&mut conn, side) {
                Ok(sum) => {
                    let mut sums = self.sums.lock().expect("lock");
                    let entry = &mut sums[index];
                    match side {
                        Side::Source => entry.0 = Some(sum),
                        Side::Target => entry.1 = Some(sum),
                    }
                    entry.2 = entry.2.max(side_started.elapsed().as_secs_f64());
                }
                Err(e) => return self.fail(e),
            }
        }
    }
}

/// Verifies every table of `work` against the source: the sums of the tables in `early` (by
/// source table) as they were taken during the copy, both sides of the others read now.
pub fn verify_work(
    options: &Options,
    work: &Work,
    early: &HashMap<String, Sums>,
) -> Result<Verification> {
    let started = Instant::now();
    crate::transfer::fault_point("verifying");
    // Rejects of a run into another target say nothing about this one.
    let skip = match RunTag::read(&options.reject_dir) {
        Some(tag) if tag.target != options.target.url.redacted().to_string() => Default::default(),
        _ => rejected_keys(&options.reject_dir)?,
    };
    let checks: Vec<TableToCheck<'_>> = work
        .tables
        .iter()
        .map(|t| t.check(&options.source, skip.get(&t.map.source)))
        .collect();
    // Each table's two sides are separate tasks, largest tables first, so the largest table's
    // source and target are read at the same time on two connections.
    let sums: Vec<Sums> = checks
        .iter()
        .map(|c| {
            early
                .get(&c.map.source)
                .copied()
                .unwrap_or((None, None, 0.0))
        })
        .collect();
    let mut queue: Vec<(usize, Side)> = (0..checks.len())
        .flat_map(|i| [(i, Side::Target), (i, Side::Source)])
        .filter(|&(i, side)| match side {
            Side::Source => sums[i].0.is_none(),
            Side::Target => sums[i].1.is_none(),
        })
        .collect();
    queue.sort_by_key(|&(i, _)| work.tables[i].source_rows);
    let tasks = Tasks {
        checks: &checks,
        queue: Mutex::new(queue),
        sums: Mutex::new(sums),
        failure: Mutex::new(None),
    };
    let workers = options
        .jobs
        .max(1)
        .min(tasks.queue.lock().expect("lock").len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| tasks.work(options));
        }
    });
    if let Some(e) = tasks.failure.into_inner().expect("lock") {
        return Err(e);
    }
    let mut conn = connect(&options.target)?;
    options.prepare_session(&mut conn)?;
    let mut tables = Vec::with_capacity(checks.len());
    for (check, (source, target, seconds)) in
        checks.iter().zip(tasks.sums.into_inner().expect("lock"))
    {
        let (Some(source), Some(target)) = (source, target) else {
            return Err(Error::Invalid(format!(
                "verifying `{}` stopped before both sides were read",
                check.map.source
            )));
        };
        tables.push(check.finish(&mut conn, source, target, seconds)?);
    }
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(Verification {
        ok: tables.iter().all(|t| t.ok()),
        seconds: started.elapsed().as_secs_f64(),
        tables,
        not_carried: Vec::new(),
    })
}
