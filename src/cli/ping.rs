//! `dbshift ping`: connect to the configured database and time one round trip.

use std::fmt;
use std::time::Instant;

use serde::Serialize;

use super::args::GlobalArgs;
use super::{connect, print, Outcome};

/// What `ping` found.
#[derive(Debug, Serialize)]
struct Report {
    backend: String,
    dialect: dbshift::Dialect,
    url: dbshift::config::RedactedUrl,
    round_trip_ms: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ok: {} database {} answered in {:.2} ms",
            self.backend, self.url, self.round_trip_ms
        )
    }
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let (_, db) = connect(global)?;
    let started = Instant::now();
    db.ping()?;
    let report = Report {
        backend: db.name().to_string(),
        dialect: db.dialect(),
        url: db.url(),
        round_trip_ms: started.elapsed().as_secs_f64() * 1e3,
    };
    print(global.format, &report)?;
    Ok(Outcome::Success)
}
