//! Reads a SQLite file's catalog into a plain schema model ([`Schema`]), never changing the
//! file: the header is checked by hand first, then the file is opened read-only.
//!
//! What the catalog pragmas give (columns, keys, indexes, foreign keys) comes from the pragmas;
//! what only the `CREATE` text holds (CHECK constraints, collations, generated expressions,
//! `AUTOINCREMENT`, deferrable foreign keys, index expressions and `WHERE` clauses) is parsed
//! from it with [`crate::sql::tokenize`]. SQLite's own tables (`sqlite_sequence`,
//! `sqlite_stat*`) and the shadow tables of virtual tables are listed as skipped.

use std::io::Read;
use std::path::{Path, PathBuf};

use diesel::{Connection, SqliteConnection};

use crate::backend::Executor;
use crate::sql::{matching_paren, span, split_top_level, tokenize, Token, TokenKind};
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

/// Everything read from a SQLite file's catalog.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Ordinary tables and the virtual tables the plan may recreate (FTS), in catalog order.
    pub tables: Vec<Table>,
    /// Views, in catalog order (which is creation order, so dependencies come first).
    pub views: Vec<View>,
    /// Triggers, in catalog order.
    pub triggers: Vec<Trigger>,
    /// Objects left out on purpose, with why.
    pub skipped: Vec<Skipped>,
    /// The SQLite library version that read the file.
    pub sqlite_version: String,
}

/// One table of the source.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// `STRICT`.
    pub strict: bool,
    /// When this is a virtual table: its module and arguments.
    pub virtual_table: Option<VirtualTable>,
    /// The columns, hidden ones included, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns in key order (empty when there is none).
    pub primary_key: Vec<String>,
    /// The `INTEGER PRIMARY KEY` column, which is the rowid itself.
    pub rowid_alias: Option<String>,
    /// `AUTOINCREMENT` on the primary key.
    pub autoincrement: bool,
    /// The table's row in `sqlite_sequence`.
    pub sequence: Option<i64>,
    /// CHECK constraints, column and table level.
    pub checks: Vec<Check>,
    /// Indexes, including those behind UNIQUE constraints (not the primary key's).
    pub indexes: Vec<Index>,
    /// Foreign keys, in declaration order.
    pub foreign_keys: Vec<ForeignKey>,
    /// The `CREATE TABLE` statement.
    pub sql: String,
    /// Why parts of the `CREATE TABLE` text could not be read, if they could not.
    pub parse_problem: Option<String>,
}

/// A virtual table's module and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualTable {
    /// The module, lowercase (`fts5`, `fts4`, `rtree`, ...).
    pub module: String,
    /// The arguments, as written.
    pub arguments: Vec<String>,
}

impl VirtualTable {
    /// Whether this is a full-text table (FTS3, FTS4 or FTS5).
    pub fn is_fts(&self) -> bool {
        matches!(self.module.as_str(), "fts3" | "fts4" | "fts5")
    }

    /// The value of a `key=value` argument (FTS options such as `content` or `tokenize`).
    pub fn option(&self, key: &str) -> Option<String> {
        self.arguments.iter().find_map(|arg| {
            let (k, v) = arg.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| crate::sql::unquote(v.trim()))
        })
    }
}

/// One column of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The declared type as written (may be empty).
    pub declared: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The `DEFAULT` expression's SQL text, as SQLite keeps it.
    pub default: Option<String>,
    /// `COLLATE` name, when not the default `BINARY`.
    pub collation: Option<String>,
    /// A generated column's expression and kind.
    pub generated: Option<Generated>,
    /// Hidden (a virtual table's hidden column).
    pub hidden: bool,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk_position: u32,
}

/// A generated column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The expression's SQL text.
    pub sql: String,
    /// `STORED` (else `VIRTUAL`).
    pub stored: bool,
}

/// A CHECK constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `CONSTRAINT name`, when given.
    pub name: Option<String>,
    /// The expression's SQL text (inside the parentheses).
    pub sql: String,
    /// The column it was declared on, for column constraints.
    pub column: Option<String>,
}

/// Where an index comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOrigin {
    /// `CREATE INDEX`.
    Created,
    /// A `UNIQUE` constraint.
    Unique,
    /// The primary key.
    PrimaryKey,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index's name (`sqlite_autoindex_...` for constraint indexes).
    pub name: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// Where it comes from.
    pub origin: IndexOrigin,
    /// The key parts, in order.
    pub parts: Vec<IndexPart>,
    /// A partial index's `WHERE` expression.
    pub where_sql: Option<String>,
    /// The `CREATE INDEX` statement (none for constraint indexes).
    pub sql: Option<String>,
}

/// One key part of an index: a column or an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPart {
    /// The column, when the part is a plain column.
    pub column: Option<String>,
    /// The expression's SQL text, when the part is an expression.
    pub expression: Option<String>,
    /// `DESC`.
    pub descending: bool,
    /// `COLLATE` name, when given or inherited and not `BINARY`.
    pub collation: Option<String>,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// `CONSTRAINT name`, when given.
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub parent: String,
    /// The referenced columns (the parent's primary key when the SQL names none).
    pub parent_columns: Vec<String>,
    /// `ON UPDATE` action (`NO ACTION`, `CASCADE`, ...).
    pub on_update: String,
    /// `ON DELETE` action.
    pub on_delete: String,
    /// `DEFERRABLE INITIALLY DEFERRED` and its kin, as written, when given.
    pub deferrable: Option<String>,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The view's name.
    pub name: String,
    /// Column names given in `CREATE VIEW v(a, b)`.
    pub columns: Vec<String>,
    /// The `SELECT` after `AS`.
    pub select_sql: String,
    /// The `CREATE VIEW` statement.
    pub sql: String,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger's name.
    pub name: String,
    /// The table or view it fires on.
    pub table: String,
    /// The `CREATE TRIGGER` statement.
    pub sql: String,
}

/// An object the transfer leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The object's name.
    pub name: String,
    /// Why it is left out.
    pub reason: String,
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
        result.map_err(|e| self.error(data_error_message(&e)))
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

/// A SQLite failure on `path` as a transfer error: corruption is [`Error::NotSqlite`].
pub(crate) fn source_error(path: &Path, message: String) -> Error {
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

/// Reads the whole catalog of `source`.
pub fn introspect(source: &mut Source) -> Result<Schema> {
    let mut schema = Schema {
        sqlite_version: source.query("SELECT sqlite_version() AS v", &[])?[0]
            .get::<String, _>("v")
            .unwrap_or_default(),
        ..Schema::default()
    };
    let master = source.query(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid",
        &[],
    )?;
    let text = |row: &Row, column: &str| -> String {
        row.get::<Option<String>, _>(column)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let entries: Vec<(String, String, String, String)> = master
        .iter()
        .map(|r| {
            (
                text(r, "type"),
                text(r, "name"),
                text(r, "tbl_name"),
                text(r, "sql"),
            )
        })
        .collect();

    // PRAGMA table_list (SQLite 3.37+) knows shadow tables; older libraries fall back to names.
    let mut shadow_of: Vec<(String, String)> = Vec::new();
    let virtual_tables: Vec<(String, VirtualTable)> = entries
        .iter()
        .filter(|(kind, _, _, sql)| kind == "table" && is_virtual(sql))
        .filter_map(|(_, name, _, sql)| Some((name.clone(), parse_virtual(sql)?)))
        .collect();
    let table_list = source
        .query(
            "SELECT name, type FROM pragma_table_list WHERE schema = 'main'",
            &[],
        )
        .ok();
    for (name, vt) in &virtual_tables {
        let suffixes: &[&str] = match vt.module.as_str() {
            "fts5" => &["_data", "_idx", "_content", "_docsize", "_config"],
            "fts3" | "fts4" => &["_content", "_segments", "_segdir", "_docsize", "_stat"],
            "rtree" | "rtree_i32" | "geopoly" => &["_node", "_rowid", "_parent"],
            _ => &[],
        };
        for suffix in suffixes {
            shadow_of.push((format!("{name}{suffix}").to_lowercase(), name.clone()));
        }
    }
    let listed_shadow = |name: &str| -> bool {
        table_list.as_ref().is_some_and(|rows| {
            rows.iter()
                .any(|r| text(r, "name") == name && text(r, "type") == "shadow")
        })
    };

    let sequences: Vec<(String, i64)> = if entries
        .iter()
        .any(|(k, n, _, _)| k == "table" && n == "sqlite_sequence")
    {
        source
            .query("SELECT name, seq FROM sqlite_sequence", &[])?
            .iter()
            .filter_map(|r| {
                Some((
                    r.get::<Option<String>, _>("name").ok()??,
                    r.get::<Option<i64>, _>("seq").ok()??,
                ))
            })
            .collect()
    } else {
        Vec::new()
    };

    for (kind, name, table_name, sql) in &entries {
        match kind.as_str() {
            "table" => {
                let lower = name.to_lowercase();
                if lower.starts_with("sqlite_") {
                    let reason = if lower == "sqlite_sequence" {
                        "SQLite's AUTOINCREMENT counters; each becomes its identity column's restart value"
                    } else if lower.starts_with("sqlite_stat") {
                        "SQLite's planner statistics (ANALYZE); PostgreSQL keeps its own"
                    } else {
                        "an internal SQLite table"
                    };
                    schema.skipped.push(Skipped {
                        name: name.clone(),
                        reason: reason.into(),
                    });
                    continue;
                }
                if let Some((_, owner)) = shadow_of.iter().find(|(shadow, _)| *shadow == lower) {
                    schema.skipped.push(Skipped {
                        name: name.clone(),
                        reason: format!("shadow table of virtual table `{owner}`; its data moves with `{owner}`"),
                    });
                    continue;
                }
                if listed_shadow(name) {
                    schema.skipped.push(Skipped {
                        name: name.clone(),
                        reason: "shadow table of a virtual table".into(),
                    });
                    continue;
                }
                let mut table = read_table(source, name, sql)?;
                table.sequence = sequences.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
                schema.tables.push(table);
            }
            "view" => schema.views.push(parse_view(name, sql)),
            "trigger" => schema.triggers.push(Trigger {
                name: name.clone(),
                table: table_name.clone(),
                sql: sql.clone(),
            }),
            _ => {}
        }
    }
    Ok(schema)
}

fn is_virtual(sql: &str) -> bool {
    let tokens = tokenize(sql);
    tokens.len() > 2 && tokens[0].is_word("CREATE") && tokens[1].is_word("VIRTUAL")
}

fn read_table(source: &mut Source, name: &str, sql: &str) -> Result<Table> {
    let mut table = Table {
        name: name.to_string(),
        sql: sql.to_string(),
        ..Table::default()
    };
    let name_param = [Value::from(name)];
    let xinfo = source.query(
        "SELECT cid, name, type, \"notnull\" AS nn, dflt_value, pk, hidden FROM pragma_table_xinfo($1) ORDER BY cid",
        &name_param,
    )?;
    if is_virtual(sql) {
        table.virtual_table = parse_virtual(sql);
    }
    let parsed = if table.virtual_table.is_none() {
        parse_create_table(sql)
    } else {
        Ok(ParsedTable::default())
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(problem) => {
            table.parse_problem = Some(problem);
            ParsedTable::default()
        }
    };
    table.without_rowid = parsed.without_rowid;
    table.strict = parsed.strict;
    table.autoincrement = parsed.autoincrement;
    table.checks = parsed.checks.clone();

    let mut pk: Vec<(u32, String)> = Vec::new();
    for row in &xinfo {
        let column_name = row
            .get::<Option<String>, _>("name")
            .ok()
            .flatten()
            .unwrap_or_default();
        let hidden = row.get::<i64, _>("hidden").unwrap_or(0);
        let parsed_column = parsed
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&column_name));
        let pk_position = u32::try_from(row.get::<i64, _>("pk").unwrap_or(0)).unwrap_or(0);
        if pk_position > 0 {
            pk.push((pk_position, column_name.clone()));
        }
        let generated = match (hidden, parsed_column.and_then(|c| c.generated.clone())) {
            (2 | 3, Some(sql)) => Some(Generated {
                sql,
                stored: hidden == 3,
            }),
            (2 | 3, None) => Some(Generated {
                sql: String::new(),
                stored: hidden == 3,
            }),
            _ => None,
        };
        table.columns.push(Column {
            name: column_name,
            declared: row
                .get::<Option<String>, _>("type")
                .ok()
                .flatten()
                .unwrap_or_default(),
            not_null: row.get::<i64, _>("nn").unwrap_or(0) != 0,
            default: row.get::<Option<String>, _>("dflt_value").ok().flatten(),
            collation: parsed_column
                .and_then(|c| c.collation.clone())
                .filter(|c| !c.eq_ignore_ascii_case("BINARY")),
            generated,
            hidden: hidden == 1,
            pk_position,
        });
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
    if !table.without_rowid && table.virtual_table.is_none() && table.primary_key.len() == 1 {
        let column = table
            .columns
            .iter()
            .find(|c| c.name == table.primary_key[0]);
        if column.is_some_and(|c| c.declared.eq_ignore_ascii_case("INTEGER")) {
            table.rowid_alias = Some(table.primary_key[0].clone());
        }
    }
    if table.virtual_table.is_some() {
        return Ok(table);
    }

    // Indexes: constraint indexes from the pragmas, created ones from their SQL.
    let index_list = source.query(
        "SELECT name, \"unique\" AS u, origin, partial FROM pragma_index_list($1)",
        &name_param,
    )?;
    let mut indexes = Vec::new();
    for row in &index_list {
        let index_name = row
            .get::<Option<String>, _>("name")
            .ok()
            .flatten()
            .unwrap_or_default();
        let unique = row.get::<i64, _>("u").unwrap_or(0) != 0;
        let origin = match row
            .get::<Option<String>, _>("origin")
            .ok()
            .flatten()
            .as_deref()
        {
            Some("u") => IndexOrigin::Unique,
            Some("pk") => IndexOrigin::PrimaryKey,
            _ => IndexOrigin::Created,
        };
        let index_sql = source
            .query(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
                &[Value::from(index_name.as_str())],
            )?
            .first()
            .and_then(|r| r.get::<Option<String>, _>("sql").ok().flatten());
        let xinfo = source.query(
            "SELECT seqno, cid, name, \"desc\" AS d, coll, \"key\" AS k FROM pragma_index_xinfo($1) ORDER BY seqno",
            &[Value::from(index_name.as_str())],
        )?;
        let mut parts: Vec<IndexPart> = xinfo
            .iter()
            .filter(|r| r.get::<i64, _>("k").unwrap_or(0) == 1)
            .map(|r| IndexPart {
                column: r.get::<Option<String>, _>("name").ok().flatten(),
                expression: None,
                descending: r.get::<i64, _>("d").unwrap_or(0) != 0,
                collation: r
                    .get::<Option<String>, _>("coll")
                    .ok()
                    .flatten()
                    .filter(|c| !c.eq_ignore_ascii_case("BINARY")),
            })
            .collect();
        let mut where_sql = None;
        if let Some(index_sql) = &index_sql {
            if let Some(parsed_index) = parse_create_index(index_sql) {
                // The pragma knows collations inherited from columns; the SQL knows expressions.
                if parsed_index.parts.len() == parts.len() {
                    for (part, parsed_part) in parts.iter_mut().zip(parsed_index.parts) {
                        if part.column.is_none() {
                            part.expression = parsed_part.expression;
                        }
                    }
                }
                where_sql = parsed_index.where_sql;
            }
        }
        indexes.push(Index {
            name: index_name,
            unique,
            origin,
            parts,
            where_sql,
            sql: index_sql,
        });
    }
    // pragma index_list lists the newest index first; keep creation order.
    indexes.reverse();
    table.indexes = indexes;

    // Foreign keys: one pragma row per column, grouped by id.
    let fk_rows = source.query(
        "SELECT id, seq, \"table\" AS parent, \"from\" AS child, \"to\" AS target, on_update, on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        &name_param,
    )?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    let mut missing_targets = Vec::new();
    for row in &fk_rows {
        let id = row.get::<i64, _>("id").unwrap_or(0);
        let get = |c: &str| row.get::<Option<String>, _>(c).ok().flatten();
        let child = get("child").unwrap_or_default();
        let target = get("target");
        if target.is_none() {
            missing_targets.push(id);
        }
        match foreign_keys.iter_mut().find(|(i, _)| *i == id) {
            Some((_, fk)) => {
                fk.columns.push(child);
                fk.parent_columns.extend(target);
            }
            None => foreign_keys.push((
                id,
                ForeignKey {
                    name: None,
                    columns: vec![child],
                    parent: get("parent").unwrap_or_default(),
                    parent_columns: target.into_iter().collect(),
                    on_update: get("on_update").unwrap_or_else(|| "NO ACTION".into()),
                    on_delete: get("on_delete").unwrap_or_else(|| "NO ACTION".into()),
                    deferrable: None,
                },
            )),
        }
    }
    // pragma foreign_key_list numbers the last declared key 0; keep declaration order.
    foreign_keys.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    for (id, fk) in &mut foreign_keys {
        if missing_targets.contains(id) {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.parent_columns = primary_key_of(source, &fk.parent)?;
        }
        if let Some(parsed_fk) = parsed.foreign_keys.iter().find(|p| {
            p.parent.eq_ignore_ascii_case(&fk.parent)
                && p.columns.len() == fk.columns.len()
                && p.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        }) {
            fk.name = parsed_fk.name.clone();
            fk.deferrable = parsed_fk.deferrable.clone();
        }
    }
    table.foreign_keys = foreign_keys.into_iter().map(|(_, fk)| fk).collect();
    Ok(table)
}

fn primary_key_of(source: &mut Source, table: &str) -> Result<Vec<String>> {
    let rows = source.query(
        "SELECT name, pk FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        &[Value::from(table)],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| r.get::<Option<String>, _>("name").ok().flatten())
        .collect())
}

/// What the `CREATE TABLE` text says beyond the pragmas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedTable {
    pub columns: Vec<ParsedColumn>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ParsedForeignKey>,
    pub without_rowid: bool,
    pub strict: bool,
    pub autoincrement: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedColumn {
    pub name: String,
    pub collation: Option<String>,
    pub generated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub parent: String,
    pub deferrable: Option<String>,
}

const COLUMN_CONSTRAINT_START: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// Parses the parts of a `CREATE TABLE` statement the pragmas do not report.
pub(crate) fn parse_create_table(sql: &str) -> std::result::Result<ParsedTable, String> {
    let tokens = tokenize(sql);
    let mut parsed = ParsedTable::default();
    let Some(open) = tokens.iter().position(|t| t.is_punct("(")) else {
        // `CREATE TABLE t AS SELECT ...` has no constraints to read.
        return Ok(parsed);
    };
    if tokens[..open].iter().any(|t| t.is_word("AS")) {
        return Ok(parsed);
    }
    let close = matching_paren(&tokens, open).ok_or("unbalanced parentheses")?;
    for token in &tokens[close + 1..] {
        if token.is_word("ROWID") {
            parsed.without_rowid = true;
        } else if token.is_word("STRICT") {
            parsed.strict = true;
        }
    }
    for part in split_top_level(&tokens[open + 1..close]) {
        let Some(first) = part.first() else { continue };
        let is_table_constraint = first.kind == TokenKind::Word
            && ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
                .iter()
                .any(|k| first.is_word(k));
        if is_table_constraint {
            parse_table_constraint(sql, part, &mut parsed);
        } else {
            parse_column(sql, part, &mut parsed);
        }
    }
    Ok(parsed)
}

fn parse_column(sql: &str, part: &[Token<'_>], parsed: &mut ParsedTable) {
    let Some(name) = part.first().and_then(Token::name) else {
        return;
    };
    let mut column = ParsedColumn {
        name: name.clone(),
        ..ParsedColumn::default()
    };
    // Skip the type: words and a parenthesised size, up to the first constraint keyword.
    let mut i = 1;
    while i < part.len() {
        let t = &part[i];
        if t.kind == TokenKind::Word && COLUMN_CONSTRAINT_START.iter().any(|k| t.is_word(k)) {
            break;
        }
        i = if t.is_punct("(") {
            matching_paren(part, i).map_or(part.len(), |c| c + 1)
        } else {
            i + 1
        };
    }
    let mut constraint_name: Option<String> = None;
    while i < part.len() {
        let t = &part[i];
        if t.is_word("CONSTRAINT") {
            constraint_name = part.get(i + 1).and_then(Token::name);
            i += 2;
            continue;
        }
        if t.is_word("AUTOINCREMENT") {
            parsed.autoincrement = true;
        } else if t.is_word("COLLATE") {
            column.collation = part.get(i + 1).and_then(Token::name);
            i += 2;
            continue;
        } else if t.is_word("CHECK") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            if let Some(close) = matching_paren(part, i + 1) {
                parsed.checks.push(Check {
                    name: constraint_name.take(),
                    sql: span(sql, &part[i + 2..close]).to_string(),
                    column: Some(name.clone()),
                });
                i = close + 1;
                continue;
            }
        } else if t.is_word("AS") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
            if let Some(close) = matching_paren(part, i + 1) {
                column.generated = Some(span(sql, &part[i + 2..close]).to_string());
                i = close + 1;
                continue;
            }
        } else if t.is_word("DEFAULT") {
            // The pragma reports the default; step over a parenthesised one so its words are
            // not read as constraints.
            if part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
                i = matching_paren(part, i + 1).map_or(part.len(), |c| c + 1);
                continue;
            }
            i += 2;
            continue;
        } else if t.is_word("REFERENCES") {
            let end = part[i + 1..]
                .iter()
                .position(|t| {
                    t.kind == TokenKind::Word
                        && [
                            "CONSTRAINT",
                            "CHECK",
                            "DEFAULT",
                            "COLLATE",
                            "GENERATED",
                            "AS",
                            "PRIMARY",
                            "UNIQUE",
                        ]
                        .iter()
                        .any(|k| t.is_word(k))
                })
                .map_or(part.len(), |p| i + 1 + p);
            let clause = &part[i + 1..end];
            parsed.foreign_keys.push(ParsedForeignKey {
                name: constraint_name.take(),
                columns: vec![name.clone()],
                parent: clause.first().and_then(Token::name).unwrap_or_default(),
                deferrable: deferrable_clause(sql, clause),
            });
            i = end;
            continue;
        }
        i += 1;
    }
    parsed.columns.push(column);
}

fn parse_table_constraint(sql: &str, part: &[Token<'_>], parsed: &mut ParsedTable) {
    let mut i = 0;
    let mut name = None;
    if part[0].is_word("CONSTRAINT") {
        name = part.get(1).and_then(Token::name);
        i = 2;
    }
    let Some(kind) = part.get(i) else { return };
    if kind.is_word("CHECK") && part.get(i + 1).is_some_and(|p| p.is_punct("(")) {
        if let Some(close) = matching_paren(part, i + 1) {
            parsed.checks.push(Check {
                name,
                sql: span(sql, &part[i + 2..close]).to_string(),
                column: None,
            });
        }
    } else if kind.is_word("PRIMARY") {
        if part[i..].iter().any(|t| t.is_word("AUTOINCREMENT")) {
            parsed.autoincrement = true;
        }
    } else if kind.is_word("FOREIGN") {
        let Some(open) = part.iter().position(|t| t.is_punct("(")) else {
            return;
        };
        let Some(close) = matching_paren(part, open) else {
            return;
        };
        let columns = split_top_level(&part[open + 1..close])
            .iter()
            .filter_map(|c| c.first().and_then(Token::name))
            .collect();
        let Some(references) = part.iter().position(|t| t.is_word("REFERENCES")) else {
            return;
        };
        let clause = &part[references + 1..];
        parsed.foreign_keys.push(ParsedForeignKey {
            name,
            columns,
            parent: clause.first().and_then(Token::name).unwrap_or_default(),
            deferrable: deferrable_clause(sql, clause),
        });
    }
}

/// `[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]` in a foreign key clause, normalised.
fn deferrable_clause(sql: &str, clause: &[Token<'_>]) -> Option<String> {
    let at = clause.iter().position(|t| t.is_word("DEFERRABLE"))?;
    let start = if at > 0 && clause[at - 1].is_word("NOT") {
        at - 1
    } else {
        at
    };
    let mut end = at + 1;
    if clause.get(end).is_some_and(|t| t.is_word("INITIALLY")) && clause.get(end + 1).is_some() {
        end += 2;
    }
    Some(
        span(sql, &clause[start..end])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase(),
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedIndex {
    pub parts: Vec<IndexPart>,
    pub where_sql: Option<String>,
}

/// Parses `CREATE [UNIQUE] INDEX name ON table (parts) [WHERE expr]`.
pub(crate) fn parse_create_index(sql: &str) -> Option<ParsedIndex> {
    let tokens = tokenize(sql);
    let on = tokens.iter().position(|t| t.is_word("ON"))?;
    let open = on + tokens[on..].iter().position(|t| t.is_punct("("))?;
    let close = matching_paren(&tokens, open)?;
    let mut parts = Vec::new();
    for part in split_top_level(&tokens[open + 1..close]) {
        let mut end = part.len();
        let mut descending = false;
        if end > 0 && (part[end - 1].is_word("DESC") || part[end - 1].is_word("ASC")) {
            descending = part[end - 1].is_word("DESC");
            end -= 1;
        }
        let mut collation = None;
        if end >= 2 && part[end - 2].is_word("COLLATE") {
            collation = part[end - 1].name();
            end -= 2;
        }
        let body = &part[..end];
        let (column, expression) = match body {
            [single] if matches!(single.kind, TokenKind::Word | TokenKind::QuotedIdent) => {
                (single.name(), None)
            }
            _ => (None, Some(span(sql, body).to_string())),
        };
        parts.push(IndexPart {
            column,
            expression,
            descending,
            collation,
        });
    }
    let where_sql = tokens[close + 1..]
        .iter()
        .position(|t| t.is_word("WHERE"))
        .map(|w| {
            span(sql, &tokens[close + 2 + w..])
                .trim_end_matches(';')
                .trim()
                .to_string()
        });
    Some(ParsedIndex { parts, where_sql })
}

fn parse_view(name: &str, sql: &str) -> View {
    let tokens = tokenize(sql);
    let mut view = View {
        name: name.to_string(),
        columns: Vec::new(),
        select_sql: String::new(),
        sql: sql.to_string(),
    };
    let Some(view_at) = tokens.iter().position(|t| t.is_word("VIEW")) else {
        return view;
    };
    let Some(as_at) = tokens
        .iter()
        .skip(view_at)
        .position(|t| t.is_word("AS"))
        .map(|p| p + view_at)
    else {
        return view;
    };
    if let Some(open) = tokens[view_at..as_at]
        .iter()
        .position(|t| t.is_punct("("))
        .map(|p| p + view_at)
    {
        if let Some(close) = matching_paren(&tokens, open) {
            view.columns = split_top_level(&tokens[open + 1..close])
                .iter()
                .filter_map(|c| c.first().and_then(Token::name))
                .collect();
        }
    }
    view.select_sql = span(sql, &tokens[as_at + 1..])
        .trim_end_matches(';')
        .trim()
        .to_string();
    view
}

fn parse_virtual(sql: &str) -> Option<VirtualTable> {
    let tokens = tokenize(sql);
    let using = tokens.iter().position(|t| t.is_word("USING"))?;
    let module = tokens.get(using + 1)?.name()?.to_lowercase();
    let mut arguments = Vec::new();
    if tokens.get(using + 2).is_some_and(|t| t.is_punct("(")) {
        let close = matching_paren(&tokens, using + 2).unwrap_or(tokens.len());
        for part in split_top_level(&tokens[using + 3..close.min(tokens.len())]) {
            arguments.push(span(sql, part).to_string());
        }
    }
    Some(VirtualTable { module, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_table_text_gives_checks_collations_generated_and_deferrable_keys() {
        let sql = "CREATE TABLE \"order\" (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                   name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) > 0), \
                   price DECIMAL(10, 2) DEFAULT (0) CONSTRAINT positive CHECK (price >= 0), \
                   total AS (price * 2) STORED, \
                   parent INT CONSTRAINT fk_parent REFERENCES \"order\"(id) DEFERRABLE INITIALLY DEFERRED, \
                   CONSTRAINT both_ok CHECK (id > 0 AND price < 1e9), \
                   FOREIGN KEY (name) REFERENCES names(name) ON DELETE CASCADE) WITHOUT ROWID, STRICT";
        let parsed = parse_create_table(sql).unwrap();
        assert!(parsed.autoincrement && parsed.without_rowid && parsed.strict);
        assert_eq!(parsed.columns.len(), 5);
        assert_eq!(parsed.columns[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.columns[3].generated.as_deref(), Some("price * 2"));
        let checks: Vec<(Option<&str>, &str)> = parsed
            .checks
            .iter()
            .map(|c| (c.name.as_deref(), c.sql.as_str()))
            .collect();
        assert_eq!(
            checks,
            vec![
                (None, "length(name) > 0"),
                (Some("positive"), "price >= 0"),
                (Some("both_ok"), "id > 0 AND price < 1e9")
            ]
        );
        assert_eq!(parsed.foreign_keys[0].name.as_deref(), Some("fk_parent"));
        assert_eq!(
            parsed.foreign_keys[0].deferrable.as_deref(),
            Some("DEFERRABLE INITIALLY DEFERRED")
        );
        assert_eq!(parsed.foreign_keys[1].columns, vec!["name".to_string()]);
        assert_eq!(parsed.foreign_keys[1].parent, "names");
    }

    #[test]
    fn create_index_text_gives_expressions_collations_and_where() {
        let parsed = parse_create_index("CREATE UNIQUE INDEX i ON t (lower(a), b COLLATE NOCASE DESC, \"c d\") WHERE a IS NOT NULL").unwrap();
        assert_eq!(parsed.parts[0].expression.as_deref(), Some("lower(a)"));
        assert_eq!(parsed.parts[1].column.as_deref(), Some("b"));
        assert!(parsed.parts[1].descending);
        assert_eq!(parsed.parts[1].collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.parts[2].column.as_deref(), Some("c d"));
        assert_eq!(parsed.where_sql.as_deref(), Some("a IS NOT NULL"));
    }

    #[test]
    fn views_and_virtual_tables_are_split() {
        let view = parse_view("v", "CREATE VIEW v (a, \"b\") AS SELECT 1, 2;");
        assert_eq!(view.columns, vec!["a".to_string(), "b".into()]);
        assert_eq!(view.select_sql, "SELECT 1, 2");
        let vt = parse_virtual(
            "CREATE VIRTUAL TABLE f USING fts5(title, body UNINDEXED, tokenize = 'porter ascii')",
        )
        .unwrap();
        assert_eq!(vt.module, "fts5");
        assert_eq!(vt.arguments.len(), 3);
        assert_eq!(vt.option("tokenize").as_deref(), Some("porter ascii"));
    }

    #[test]
    fn garbage_sql_never_panics() {
        for sql in [
            "",
            "CREATE TABLE",
            "CREATE TABLE t (",
            "CREATE TABLE t (a CHECK (",
            "CREATE TABLE t (CONSTRAINT)",
            "((((",
            "CREATE INDEX i ON",
        ] {
            let _ = parse_create_table(sql);
            let _ = parse_create_index(sql);
            let _ = parse_view("v", sql);
            let _ = parse_virtual(sql);
        }
    }
}
