//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.
//!
//! Planning, in the order data flows: [`introspect`] reads the SQLite catalog (read-only);
//! [`profile`] reads what every column holds; [`convert`] chooses each column's type from the
//! cast table; [`ddl`] names things and writes the statements; [`plan`](mod@plan) puts it together into a
//! reviewable [`Plan`]; [`render`] shows it. [`model`] is what the row copier consumes.

pub mod convert;
pub mod ddl;
pub mod error;
pub mod introspect;
pub mod model;
pub mod plan;
pub mod profile;
pub mod render;

pub use error::{Error, Result};
pub use plan::{plan, OrphanPolicy, Plan, PlanOptions};
pub use render::render_text;
