//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.
//!
//! Planning, in the order data flows: [`introspect`] reads the SQLite catalog (read-only);
//! [`profile`] reads what every column holds; [`convert`] chooses each column's type from the
//! cast table; [`ddl`] names things and writes the statements; [`plan`](mod@plan) puts it
//! together into a reviewable [`Plan`]; [`render`] shows it. [`model`] is what the row copier
//! consumes.
//!
//! Copying: [`source`] reads SQLite in pages; [`values`] converts each value for its target
//! column; [`encode`] writes COPY data; [`copy`] runs one table's copy; [`verify`] compares
//! both sides; [`run`] orders the steps and records progress for `--resume`; [`report`] tells
//! what happened.

pub mod catalog;
pub mod convert;
pub mod copy;
pub mod ddl;
pub mod encode;
pub mod error;
pub mod introspect;
pub mod model;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod rejects;
pub mod render;
pub mod report;
pub mod run;
pub mod source;
pub mod values;
pub mod verify;

pub use error::{Error, Result};
pub use plan::{plan, OrphanPolicy, Plan, PlanOptions};
pub use render::render_text;
pub use report::Report;
pub use run::{IfExists, Mode, Options, Work};

/// Fault injection for tests of crash recovery: when the environment variable `DBSHIFT_FAULT`
/// names this point, the process aborts here at once (no destructor runs, as with `kill -9`).
/// Points: `created:<table>` (inside a table's transaction, after CREATE, before COPY),
/// `copying:<table>` (after the first page was sent), `copied:<table>` (after the table's
/// commit, before its indexes), `indexing:<table>` (inside the index transaction, before its
/// commit), `finishing` (before foreign keys), `verifying` (during verification).
pub(crate) fn fault_point(point: &str) {
    if std::env::var_os("DBSHIFT_FAULT").is_some_and(|wanted| wanted == point) {
        eprintln!("dbshift: fault injected at {point}");
        std::process::abort();
    }
}
