//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.

pub mod error;
pub mod model;
pub mod values;

pub use error::{Error, Result};
