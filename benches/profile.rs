//! Prints how long introspecting and profiling a SQLite file takes, on one and on two threads.
//!
//! `cargo bench --bench profile -- FILE.sqlite` (prints figures, asserts nothing).

use std::time::Instant;

use dbshift::transfer::plan::{catalog as introspect, profile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // cargo bench passes `--bench`; the first other argument is the file.
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: cargo bench --bench profile -- SQLITE_FILE")?;
    let started = Instant::now();
    let mut source = introspect::Source::open(path.as_ref())?;
    let schema = introspect::introspect(&mut source)?;
    println!(
        "introspect: {:?} ({} tables)",
        started.elapsed(),
        schema.tables.len()
    );
    for threads in [1, 2, 2] {
        let started = Instant::now();
        let profiles = profile::profile(&mut source, &schema, threads)?;
        let rows: u64 = profiles.iter().map(|p| p.rows).sum();
        println!(
            "profile, {threads} thread(s): {:?} ({rows} rows)",
            started.elapsed()
        );
    }
    Ok(())
}
