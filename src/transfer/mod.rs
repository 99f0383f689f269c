//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.
//!
//! Two sides meet at [`model`]. The planning side, [`plan`](mod@plan), reads the source and
//! decides what PostgreSQL should hold: a reviewable [`Plan`]. The loading side, [`load`],
//! makes the target hold it: it creates, copies, verifies and reports.

pub mod error;
pub(crate) mod jsonb;
pub mod load;
pub mod model;
pub mod orm;
pub(crate) mod pg;
pub mod plan;
pub(crate) mod text;

pub use error::{Error, Result};
pub use load::report::Report;
pub use load::run::{IfExists, Mode, Options, Work};
pub use plan::render::render_text;
pub use plan::{plan, OrphanPolicy, Plan, PlanOptions};

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
