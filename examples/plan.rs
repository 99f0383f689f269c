//! Plans a SQLite file and prints the plan as text (or JSON / TOML), with the time it took.
//!
//! `cargo run --release --example plan -- SOURCE.sqlite [text|json|toml]`

use std::time::Instant;

use dbshift::transfer::plan::{plan, PlanOptions};
use dbshift::transfer::render::render_text;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let source = args
        .next()
        .ok_or("usage: plan SQLITE_FILE [text|json|toml]")?;
    let format = args.next().unwrap_or_else(|| "text".into());
    let started = Instant::now();
    let plan = plan(source.as_ref(), &PlanOptions::default())?;
    let elapsed = started.elapsed();
    match format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&plan)?),
        "toml" => println!("{}", plan.to_toml()),
        _ => println!("{}", render_text(&plan)),
    }
    eprintln!("planned in {elapsed:?}");
    Ok(())
}
