//! What a caller chooses for one transfer: its [`Mode`], what to do with tables that exist
//! ([`IfExists`]), and the [`Options`] that carry them with the source, the target and the
//! rest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::DbConfig;
use crate::transfer::error::Error;
use crate::transfer::load::progress::Progress;
use crate::transfer::pg::server_message;

/// What to transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Schema and data.
    Full,
    /// Only the schema (tables, indexes, constraints, views): no rows.
    SchemaOnly,
    /// Only the rows, into tables that already exist in the target.
    DataOnly,
}

impl Mode {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::SchemaOnly => "schema-only",
            Mode::DataOnly => "data-only",
        }
    }
}

/// What to do when the target already holds the tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IfExists {
    /// Refuse, changing nothing (the default).
    #[default]
    Fail,
    /// Empty the existing tables first.
    Truncate,
    /// Drop and recreate the tables (full mode).
    Drop,
}

/// Everything a transfer needs besides the work itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// The SQLite file.
    pub source: PathBuf,
    /// The PostgreSQL target.
    pub target: DbConfig,
    /// What to transfer.
    pub mode: Mode,
    /// Tables copied at once.
    pub jobs: usize,
    /// What to do with existing tables.
    pub if_exists: IfExists,
    /// Finish a transfer that stopped.
    pub resume: bool,
    /// Verify after copying.
    pub verify: bool,
    /// Where reject files go.
    pub reject_dir: PathBuf,
    /// How progress is shown.
    pub progress: Progress,
    /// How long a statement waits for a lock another session holds before the transfer gives
    /// up (`lock_timeout`); `None` waits as long as it takes, and the wait is shown meanwhile.
    pub lock_wait: Option<std::time::Duration>,
    /// Tables with at least this many rows are copied in `jobs` parallel streams, by ranges of
    /// their rowid (full mode); 0 never splits a table.
    pub split_rows: u64,
}

/// The default of [`Options::split_rows`] where the transfer has cores to spare (`migrate`
/// uses it from `--jobs 3`). On the 2-core benchmark machine the load is CPU-bound with two
/// jobs: parts gave no wall-clock gain and cost COPY FREEZE (3% more server CPU).
pub const SPLIT_ROWS: u64 = 200_000;

impl Options {
    /// Sets what a bulk load needs on one of the transfer's sessions
    /// ([`prepare_session`](crate::transfer::pg)); returns the settings it overrode.
    pub(crate) fn prepare_session(
        &self,
        conn: &mut diesel::pg::PgConnection,
    ) -> Result<Vec<String>, Error> {
        crate::transfer::pg::prepare_session(conn, self.lock_wait)
            .map_err(|e| self.target_error("setting up the session", e))
    }

    /// The target refused `what`; the error names the target and keeps the server's error.
    pub(crate) fn target_error(&self, what: &str, e: diesel::result::Error) -> Error {
        Error::Target {
            url: self.target.url.redacted(),
            message: format!("{what}: {}", server_message(&e)),
            source: Some(e),
        }
    }
}

/// Where reject files go by default: `./dbshift-rejects`.
pub fn default_reject_dir() -> PathBuf {
    Path::new("dbshift-rejects").to_path_buf()
}
