//! `dbshift migrate`: copy a SQLite database into PostgreSQL, verify, report.

use dbshift::transfer::load::progress::Progress;
use dbshift::transfer::{Mode, Options};

use super::args::{Format, GlobalArgs, MigrateArgs};
use super::transfer::{build_work, source_path, target_config, Rehearsal};
use super::{print, Outcome};

pub fn run(global: &GlobalArgs, args: &MigrateArgs) -> anyhow::Result<Outcome> {
    let mode = if args.data_only {
        Mode::DataOnly
    } else if args.schema_only {
        Mode::SchemaOnly
    } else {
        Mode::Full
    };
    let rehearsal = if args.rehearse {
        Some(Rehearsal::start()?)
    } else {
        None
    };
    let target = match (&rehearsal, &args.target) {
        (Some(rehearsal), _) => rehearsal.url.clone(),
        (None, Some(target)) => target.clone(),
        (None, None) => anyhow::bail!("give a TARGET postgres:// URL, or --rehearse"),
    };
    let config = target_config(global, target)?;
    if !matches!(config.backend_name().as_str(), "postgres" | "postgresql") {
        anyhow::bail!("the target must be a postgres:// URL, not {}", config.url);
    }
    if let Some(rehearsal) = &rehearsal {
        // A data-only rehearsal needs the application's schema: make it with the embedded
        // PostgreSQL migrations, as the application would.
        if mode == Mode::DataOnly {
            dbshift::Registry::with_defaults()
                .connect(&config)?
                .run_pending_migrations()?;
        }
        eprintln!(
            "rehearsal: migrating into {}",
            dbshift::config::RedactedUrl::new(&rehearsal.url)
        );
    }
    if rehearsal.is_none() {
        dbshift::transfer::load::run::check_reachable(&config)?;
    }
    let options = Options {
        source: source_path(&args.source),
        target: config,
        mode,
        jobs: usize::from(args.jobs),
        if_exists: args.if_exists.into(),
        resume: args.resume,
        verify: !args.no_verify,
        reject_dir: args.reject_dir.clone(),
        progress: if args.quiet {
            Progress::quiet()
        } else {
            super::progress::auto()
        },
        lock_wait: args.lock_wait,
        split_rows: args.split_rows.unwrap_or(if args.jobs >= 3 {
            dbshift::transfer::load::run::SPLIT_ROWS
        } else {
            0
        }),
    };
    let (work, plan) = build_work(
        mode,
        &options,
        args.plan.as_deref(),
        &args.select,
        args.keep_case,
        args.orm,
    )?;
    if args.dry_run {
        dbshift::transfer::load::run::preflight(&options, &work)?;
        let summary = DryRun::new(&options, &work, plan.as_ref());
        print(global.format, &summary)?;
        return Ok(Outcome::Success);
    }
    if let Some(plan) = &plan {
        // A rehearsal leaves nothing behind: the renames are printed, the map not written.
        let path = rehearsal.is_none().then_some(args.name_map.as_path());
        write_name_map(global.format, plan, path)?;
    }
    let report = dbshift::transfer::load::run::run(&options, work)?;
    print(global.format, &report)?;
    if global.format == Format::Text && rehearsal.is_some() {
        println!("rehearsal: the throwaway server and its data are removed now; nothing else was changed");
    }
    drop(rehearsal);
    Ok(if report.has_rejects() || report.verification_failed() {
        Outcome::Differences
    } else {
        Outcome::Success
    })
}

/// Prints every rename of `plan` (text format) and writes its whole name map to `path`, before
/// anything is written to the target, so the map is there even if the transfer stops.
fn write_name_map(
    format: Format,
    plan: &dbshift::transfer::plan::Plan,
    path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let names = dbshift::transfer::plan::NameMap::of(plan);
    if format == Format::Text {
        for rename in names.renames() {
            println!("renamed {rename}");
        }
    }
    let Some(path) = path else {
        return Ok(());
    };
    let json = serde_json::to_string_pretty(&names)?;
    std::fs::write(path, json + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write the name map `{}`: {e}", path.display()))
}

/// What a `--dry-run` prints.
#[derive(serde::Serialize)]
struct DryRun {
    source: String,
    target: dbshift::config::RedactedUrl,
    mode: String,
    tables: Vec<(String, String, u64)>,
    statements: usize,
    warnings: Vec<String>,
}

impl DryRun {
    fn new(
        options: &Options,
        work: &dbshift::transfer::Work,
        plan: Option<&dbshift::transfer::Plan>,
    ) -> Self {
        DryRun {
            source: options.source.display().to_string(),
            target: options.target.url.redacted(),
            mode: options.mode.as_str().to_string(),
            tables: work
                .tables
                .iter()
                .map(|t| {
                    (
                        t.map.source.clone(),
                        t.map.qualified_target(),
                        t.source_rows,
                    )
                })
                .collect(),
            statements: plan.map_or(0, |p| p.ddl().len()),
            warnings: work.warnings.clone(),
        }
    }
}

impl std::fmt::Display for DryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "dry run ({}): {} -> {}; nothing was changed",
            self.mode, self.source, self.target
        )?;
        for (source, target, rows) in &self.tables {
            writeln!(f, "  {source} -> {target}: {rows} rows")?;
        }
        if self.statements > 0 {
            writeln!(f, "{} DDL statements (see `dbshift plan`)", self.statements)?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        write!(f, "the target accepts this transfer")
    }
}
