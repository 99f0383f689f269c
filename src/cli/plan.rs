//! `dbshift plan`: the PostgreSQL schema a SQLite database would get, with every decision.

use anyhow::Context;

use super::args::{Format, GlobalArgs, PlanArgs};
use super::transfer::{plan_options, source_path};
use super::Outcome;

pub fn run(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<Outcome> {
    let source = source_path(&args.source);
    let options = plan_options(
        args.plan.as_deref(),
        &args.select,
        args.keep_case,
        args.orm,
        Some(args.on_orphans),
    )?;
    let plan = dbshift::transfer::plan(&source, &options)?;
    if let Some(out) = &args.out {
        std::fs::write(out, plan.to_toml())
            .with_context(|| format!("cannot write the plan to `{}`", out.display()))?;
        eprintln!("plan saved to {}", out.display());
    }
    match global.format {
        Format::Text => print!("{}", dbshift::transfer::render_text(&plan)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
    }
    Ok(Outcome::Success)
}
