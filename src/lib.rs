//! dbshift: a runtime-switchable SQLite/PostgreSQL data layer for blocking Rust services, and a
//! verified SQLite to PostgreSQL transfer.
//!
//! A service reads a [`DbConfig`], asks a [`Registry`] for a `Box<dyn Backend>`, runs the schema
//! migrations of that dialect (its own, see [`Migrations`], or the bundled missions schema), and
//! then uses the same code on either database:
//!
//! ```
//! use dbshift::{DbConfig, Registry, Value};
//!
//! # fn main() -> dbshift::Result<()> {
//! let db = Registry::with_defaults().connect(&DbConfig::sqlite(":memory:"))?;
//! db.run_pending_migrations()?;
//! db.execute("INSERT INTO tags (name) VALUES ($1)", &[Value::from("urgent")])?;
//! let row = db.query_one("SELECT id, name FROM tags WHERE name = $1", &["urgent".into()])?;
//! assert_eq!(row.get::<String, _>("name")?, "urgent");
//! let again = db.execute("INSERT INTO tags (name) VALUES ($1)", &["urgent".into()]);
//! assert!(again.unwrap_err().is_unique_violation());
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/ARCHITECTURE.md` for the map of the crate.
#![warn(missing_docs)]

pub mod backend;
pub mod config;
pub(crate) mod datetime;
pub mod dialect;
pub mod error;
pub mod migrations;
pub mod missions;
#[doc(hidden)]
pub mod pg_server;
pub mod redact;
#[doc(hidden)]
pub mod sql;
#[cfg(transfer)]
pub mod transfer;
pub mod value;

pub use backend::{Backend, Executor, Isolation, Registry, TransactionOptions};
pub use config::DbConfig;
pub use dialect::Dialect;
pub use error::{Error, Result};
pub use migrations::{EmbeddedMigration, Migrations};
pub use value::{Row, Value};

/// The crates whose types [`Value`] holds (`Value::Json`, `Value::Timestamp`, `Value::Uuid`),
/// so a service uses the same versions without naming them in its own manifest.
pub use {chrono, serde_json, uuid};
