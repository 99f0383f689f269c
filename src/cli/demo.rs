//! `dbshift demo`: a sample missions database written through the data layer, and optionally
//! its rehearsed migration to PostgreSQL: the product end to end on data it makes itself.

use anyhow::Context;
use dbshift::transfer::{Mode, Options};
use dbshift::{DbConfig, Registry};

use super::args::{DemoArgs, Format, GlobalArgs, SelectArgs};
use super::transfer::{build_work, Rehearsal};
use super::{print, Outcome};

pub fn run(global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<Outcome> {
    // A rehearsal without --out leaves nothing behind: its database lives in a temporary
    // directory, so the README's main command can run again and again.
    let scratch = if args.out.is_none() && args.rehearse {
        Some(tempfile::tempdir()?)
    } else {
        None
    };
    let out = match (&args.out, &scratch) {
        (Some(out), _) => out.clone(),
        (None, Some(dir)) => dir.path().join("dbshift-demo.db"),
        (None, None) => std::path::PathBuf::from("dbshift-demo.db"),
    };
    if out.exists() {
        if !args.force {
            anyhow::bail!(
                "`{}` already exists; pass --force to replace it, or --out another path",
                out.display()
            );
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut path = out.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    let started = std::time::Instant::now();
    {
        let mut config = DbConfig::sqlite(&out);
        config.pool.min_idle = 0;
        let db = Registry::with_defaults().connect(&config)?;
        let written = dbshift::missions::seed_demo(db.as_ref(), args.missions)
            .context("writing the demo database")?;
        // Fold the WAL into the file so the database is one self-contained file.
        db.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        eprintln!(
            "demo: wrote {written} missions with their events and tags to {} through the data layer in {:.2}s",
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    if !args.rehearse {
        if global.format == Format::Text {
            println!("{}", out.display());
        }
        return Ok(Outcome::Success);
    }
    let rehearsal = Rehearsal::start()?;
    let mut target = DbConfig::from_url(rehearsal.url.clone());
    target.pool.min_idle = 0;
    let options = Options {
        source: out.clone(),
        target,
        mode: Mode::Full,
        jobs: 2,
        if_exists: Default::default(),
        resume: false,
        verify: true,
        reject_dir: std::path::PathBuf::from("dbshift-rejects"),
        progress: super::progress::auto(),
        lock_wait: None,
        split_rows: 0,
    };
    let select = SelectArgs {
        tables: Vec::new(),
        exclude: vec!["__diesel_schema_migrations".into()],
        schema: "public".into(),
        source_timezone: None,
    };
    let (work, _) = build_work(Mode::Full, &options, None, &select, false, None)?;
    let report = dbshift::transfer::load::run::run(&options, work)?;
    print(global.format, &report)?;
    Ok(if report.has_rejects() || report.verification_failed() {
        Outcome::Differences
    } else {
        Outcome::Success
    })
}
