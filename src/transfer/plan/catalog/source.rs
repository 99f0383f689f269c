//! Opens a SQLite file for planning without ever changing it: the header is checked by hand
//! first, then the file is opened read-only (`immutable=1` only when read-only locking is
//! impossible), and SQLite failures become transfer errors that say whether the file is
//! corrupt or busy.

use std::io::Read;
use std::path::{Path, PathBuf};

use diesel::{Connection, SqliteConnection};

use crate::backend::Executor;
use crate::transfer::error::{Error, Result};
use crate::value::{Row, Value};

/// The first 16 bytes of every SQLite 3 database file.
pub const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A SQLite database opened read-only for planning.
pub struct Source {
    /// The file as given.
    pub path: PathBuf,
    uri: String,
    conn: SqliteConnection,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("uri", &self.uri)
            .finish()
    }
}

/// Checks that `path` is a readable SQLite 3 file by its header, without opening it as a
/// database. Errors are [`Error::NotSqlite`] with a one-line reason.
pub fn check_header(path: &Path) -> Result<()> {
    let not_sqlite = |reason: String| Error::NotSqlite {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_sqlite("no such file".into()),
        _ => not_sqlite(format!("cannot read it: {e}")),
    })?;
    if meta.is_dir() {
        return Err(not_sqlite("it is a directory".into()));
    }
    if meta.len() == 0 {
        return Err(not_sqlite("the file is empty".into()));
    }
    let mut header = [0u8; 100];
    let mut file =
        std::fs::File::open(path).map_err(|e| not_sqlite(format!("cannot open it: {e}")))?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(not_sqlite(format!("cannot read it: {e}"))),
        }
    }
    if read < 16 || &header[..16] != SQLITE_HEADER {
        return Err(not_sqlite(
            "the file does not start with the SQLite 3 header (another format, or encrypted)"
                .into(),
        ));
    }
    if read < 100 {
        return Err(not_sqlite(format!(
            "the file is {read} bytes long, shorter than a SQLite header"
        )));
    }
    Ok(())
}

impl Source {
    /// Opens `path` read-only after checking its header. A file with a `-wal` beside it is
    /// opened with `mode=ro` so the WAL's committed pages are read; otherwise `mode=ro` is
    /// tried first and `immutable=1` when read-only locking is impossible (a read-only
    /// directory holding a WAL-mode file without its `-wal`).
    ///
    /// A file locked by a writer is waited for ([`BUSY_TIMEOUT_MS`]), then refused: it is never
    /// read around the lock with `immutable=1`, which would see a half-written file or miss the
    /// writer's rows.
    pub fn open(path: &Path) -> Result<Source> {
        check_header(path)?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut wal = absolute.clone().into_os_string();
        wal.push("-wal");
        let has_wal = Path::new(&wal).exists();
        let base = format!("file:{}?mode=ro", percent_encode_path(&absolute));
        let mut attempts = vec![base.clone()];
        if !has_wal {
            attempts.push(format!("{base}&immutable=1"));
        }
        let mut last_error = String::new();
        for uri in attempts {
            match SqliteConnection::establish(&uri) {
                Ok(mut conn) => {
                    // Before the first read: a writer's lock, or the checkpoint of a WAL file
                    // when another connection closes, delays the read instead of failing it.
                    if let Err(e) = diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        &format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"),
                    ) {
                        last_error = e.to_string();
                        continue;
                    }
                    let mut source = Source {
                        path: path.to_path_buf(),
                        uri,
                        conn,
                    };
                    match source.query("SELECT count(*) FROM sqlite_master", &[]) {
                        Ok(_) => return Ok(source),
                        Err(e) if is_locked(&e.to_string()) => {
                            return Err(Error::Source {
                                path: path.to_path_buf(),
                                message: format!(
                                    "another process holds a lock on it (waited {} s); try again once its writer has finished",
                                    BUSY_TIMEOUT_MS / 1000
                                ),
                                source: Some(Box::new(e)),
                            })
                        }
                        Err(e) => last_error = e.to_string(),
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        let hint = if has_wal {
            " (it has a -wal file, which read-only access needs the directory to be writable for; checkpoint it or copy the files somewhere writable)"
        } else {
            ""
        };
        Err(Error::NotSqlite {
            path: path.to_path_buf(),
            reason: format!("SQLite cannot read it: {last_error}{hint}"),
        })
    }

    /// The underlying read-only connection, for readers that need Diesel directly.
    pub fn into_connection(self) -> SqliteConnection {
        self.conn
    }

    /// Another read-only connection to the same file (for reading in parallel).
    pub fn connect_again(&self) -> Result<SqliteConnection> {
        let mut conn =
            SqliteConnection::establish(&self.uri).map_err(|e| self.error(e.to_string()))?;
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            &format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"),
        )
        .map_err(|e| self.error(e.to_string()))?;
        Ok(conn)
    }

    /// A second handle on the same file, for reading on another thread.
    pub fn reopen(&self) -> Result<Source> {
        Ok(Source {
            path: self.path.clone(),
            uri: self.uri.clone(),
            conn: self.connect_again()?,
        })
    }

    /// Runs a query with `$N` parameters on the source.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let result = Executor::query(&mut self.conn, sql, params);
        result.map_err(|e| caused_source_error(&self.path, data_error_message(&e), e))
    }

    /// The transfer error for a SQLite failure: a corrupt file is [`Error::NotSqlite`].
    pub(crate) fn error(&self, message: String) -> Error {
        source_error(&self.path, message)
    }
}

/// How long a read of the source waits for a writer's lock before it fails.
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

fn is_locked(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("database is locked") || lower.contains("database table is locked")
}

/// A SQLite failure on `path` as a transfer error: corruption is [`Error::NotSqlite`]. The
/// one place both sides turn a SQLite failure into a transfer error (the message may be a
/// driver error, or a sentence naming the table).
pub(crate) fn source_error(path: &Path, message: impl std::fmt::Display) -> Error {
    source_error_with(path, message.to_string(), None)
}

/// [`source_error`] for a failure of the driver, which is kept as the error's source.
pub(crate) fn caused_source_error(
    path: &Path,
    message: impl std::fmt::Display,
    cause: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    source_error_with(path, message.to_string(), Some(Box::new(cause)))
}

fn source_error_with(
    path: &Path,
    message: String,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    let lower = message.to_ascii_lowercase();
    if lower.contains("malformed") || lower.contains("not a database") || lower.contains("corrupt")
    {
        Error::NotSqlite {
            path: path.to_path_buf(),
            reason: format!("the file is corrupt: {message}"),
        }
    } else {
        Error::Source {
            path: path.to_path_buf(),
            message,
            source: cause,
        }
    }
}

fn data_error_message(error: &crate::Error) -> String {
    match error {
        crate::Error::Query { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn percent_encode_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
