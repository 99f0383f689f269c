//! Moving a SQLite database into PostgreSQL: read its schema and data profile, plan a faithful
//! PostgreSQL schema, copy every row, verify, report.
//!
//! Stages, in the order data flows: [`source`] reads SQLite; [`values`] converts each value for
//! its target column; [`encode`] writes COPY data; [`copy`] runs one table's copy; [`verify`]
//! compares both sides; [`run`] orders the steps and records progress for `--resume`;
//! [`report`] tells what happened.

pub mod catalog;
pub mod copy;
pub mod encode;
pub mod error;
pub mod model;
pub mod progress;
pub mod rejects;
pub mod report;
pub mod run;
pub mod source;
pub mod values;
pub mod verify;

pub use error::{Error, Result};
pub use report::Report;
pub use run::{IfExists, Mode, Options, Work};
