//! The loading side: make PostgreSQL hold what a [`Plan`](super::Plan) (or, with
//! `--data-only`, the target's own catalog) says, and check that it does.
//!
//! [`run`] orders the work and records it for `--resume`; [`pages`] reads SQLite in pages;
//! [`values`] converts each value for its target column; [`encode`] writes COPY data; [`copy`]
//! runs one table's copy; [`rejects`] keeps refused rows; [`verify`] compares both sides;
//! [`progress`] and [`report`] tell what happened.

pub mod copy;
pub mod encode;
pub mod pages;
pub mod progress;
pub mod rejects;
pub mod report;
pub mod run;
pub mod target_catalog;
pub mod values;
pub mod verify;
