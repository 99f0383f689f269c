//! The loading side: make PostgreSQL hold what a [`Plan`](super::Plan) (or, with
//! `--data-only`, the target's own catalog) says, and check that it does.
//!
//! [`run`] runs a transfer's phases in order. Its work list comes from `work` (from a plan)
//! or `data_only` (onto the target's tables, read by `target_catalog`, from the source's
//! tables, read by `source_catalog`); `state` records progress in the target for a resumed
//! transfer; `preflight` checks the target before anything is written; `scheduler` spreads
//! the tables over workers, each running a table's steps (`table_steps`); `finish` adds
//! keys and views after the tables; `lock_watch` shows waits for locks other sessions hold. Underneath, [`pages`] reads SQLite in pages; [`values`]
//! converts each value for its target column; `encode` writes COPY data; [`copy`] runs one
//! table's copy; [`rejects`] keeps refused rows; [`verify`] compares one table's sides and
//! `verify_all` every table's; [`progress`] and [`report`] tell what happened.

pub(crate) mod active_model;
pub mod copy;
pub(crate) mod data_only;
pub(crate) mod encode;
pub(crate) mod finish;
pub(crate) mod lock_watch;
pub(crate) mod options;
pub(crate) mod orphans;
pub mod pages;
pub(crate) mod parts;
pub(crate) mod preflight;
pub mod progress;
pub mod rejects;
pub mod report;
pub mod run;
pub(crate) mod scheduler;
pub(crate) mod source_catalog;
pub(crate) mod state;
pub(crate) mod table_steps;
pub(crate) mod target_catalog;
pub mod values;
pub mod verify;
pub(crate) mod verify_all;
pub mod verify_views;
pub(crate) mod work;
