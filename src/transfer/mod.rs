//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.

pub mod copy;
pub mod encode;
pub mod error;
pub mod model;
pub mod rejects;
pub mod source;
pub mod values;
pub mod verify;

pub use error::{Error, Result};
