//! `dbshift verify`: compare a SQLite database with its PostgreSQL copy.

use dbshift::transfer::load::progress::Progress;
use dbshift::transfer::{Mode, Options};

use super::args::{GlobalArgs, VerifyArgs};
use super::transfer::{build_work, source_path, target_config};
use super::{print, Outcome};

pub fn run(global: &GlobalArgs, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let config = target_config(global, args.target.clone())?;
    let mode = if args.data_only {
        Mode::DataOnly
    } else {
        Mode::Full
    };
    let options = Options {
        source: source_path(&args.source),
        target: config,
        mode,
        jobs: usize::from(args.jobs),
        if_exists: Default::default(),
        resume: false,
        verify: true,
        reject_dir: args.reject_dir.clone(),
        progress: Progress::quiet(),
        lock_wait: None,
        split_rows: 0,
    };
    let (work, _) = build_work(
        mode,
        &options,
        args.plan.as_deref(),
        &args.select,
        false,
        args.orm,
    )?;
    let verification = dbshift::transfer::load::run::verify_work(&options, &work)?;
    // Rows the reject files list are not in the target: exit 1, as `migrate` does for them.
    let ok = verification.ok && verification.rejected_rows() == 0;
    print(global.format, &VerifyReport(verification))?;
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Differences
    })
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct VerifyReport(dbshift::transfer::load::report::Verification);

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.0;
        for check in &v.tables {
            writeln!(
                f,
                "{:<30} {:>10} rows  {}",
                check.table,
                check.target_rows,
                if check.ok() && check.rejected_rows > 0 {
                    format!(
                        "matches, without {} rejected row(s) the reject files list",
                        check.rejected_rows
                    )
                } else if check.ok() {
                    "ok".to_string()
                } else {
                    format!("DIFFERS (source {} rows)", check.source_rows)
                }
            )?;
            for d in &check.differences {
                writeln!(f, "    {d}")?;
            }
        }
        dbshift::transfer::load::report::write_not_carried(f, v)?;
        // "ok" only when the target holds the whole source: rows the reject files list were
        // left out of the comparison, and the verdict says so.
        let verdict = match (v.ok, v.rejected_rows()) {
            (true, 0) => "ok".to_string(),
            (true, n) => format!(
                "the target matches the source but for {n} rejected row(s) the reject files list"
            ),
            (false, _) => "FAILED".to_string(),
        };
        write!(f, "verification: {verdict} ({:.2}s)", v.seconds)
    }
}
