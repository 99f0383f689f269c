//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.

pub mod convert;
pub mod ddl;
pub mod error;
pub mod introspect;
pub mod model;
pub mod plan;
pub mod profile;
pub mod render;

pub use error::{Error, Result};
