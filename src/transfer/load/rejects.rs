//! Reject files: every row that could not be copied, one JSON object per line, with its table,
//! key, column, reason and the whole original row (so it can be fixed and loaded by hand).
//!
//! A table's rejects are written to `<dir>/<table>.rejects.jsonl.partial` and renamed to
//! `<table>.rejects.jsonl` only when the table's transaction commits; a retried or failed table
//! leaves no stale lines. Write errors (a full disk) fail the table, so a row is never counted
//! as handled when its record is not on disk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use crate::transfer::error::{Error, Result};
use crate::transfer::load::values::{float_text, Src};

/// One rejected row's record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    /// The source table.
    pub table: String,
    /// `rejected` (the row is not in the target) or `repaired` (the row is, with this value
    /// changed by the column's policy).
    pub action: String,
    /// The row's key: `{"rowid": n}` or the primary key columns.
    pub key: Json,
    /// The column that failed (`?` when the server refused the row without naming one).
    pub column: String,
    /// Why.
    pub reason: String,
    /// The failing value, as in [`value_json`].
    pub value: Json,
    /// The whole source row, column name to value.
    pub row: Json,
}

/// A source value as JSON that loses nothing: integers and text as themselves, reals as
/// numbers (or strings for NaN/infinity), blobs and text that is not UTF-8 as
/// `{"base64": ...}` with the storage class.
pub fn value_json<'a>(value: impl Into<Src<'a>>) -> Json {
    match value.into() {
        Src::Null => Json::Null,
        Src::Int(i) => json!(i),
        Src::Float(x) if x.is_finite() => json!(x),
        Src::Float(x) => json!({ "real": float_text(x) }),
        Src::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => json!(text),
            Err(_) => {
                json!({ "text_base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
            }
        },
        Src::Blob(bytes) => {
            json!({ "blob_base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        }
    }
}

/// Builds a JSON object of names to values.
pub fn object<'a>(names: &[String], values: impl IntoIterator<Item = Src<'a>>) -> Json {
    let mut map = Map::new();
    for (name, value) in names.iter().zip(values) {
        map.insert(name.clone(), value_json(value));
    }
    Json::Object(map)
}

/// The reject file of one table being copied.
pub struct RejectSink {
    dir: Option<PathBuf>,
    table: String,
    writer: Option<BufWriter<File>>,
    count: u64,
}

impl RejectSink {
    /// A sink for `table` under `dir`; `None` keeps rejects only in the counts (used by
    /// verification, which writes nothing).
    pub fn new(dir: Option<&Path>, table: &str) -> Self {
        RejectSink {
            dir: dir.map(Path::to_path_buf),
            table: table.to_string(),
            writer: None,
            count: 0,
        }
    }

    /// Rejected rows so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn file_stem(&self) -> String {
        let safe: String = self
            .table
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{safe}-{:08x}",
            xxhash_rust::xxh3::xxh3_64(self.table.as_bytes()) as u32
        )
    }

    fn partial_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.rejects.jsonl.partial", self.file_stem()))
    }

    /// The final path of this table's reject file.
    pub fn final_path(&self) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.rejects.jsonl", self.file_stem())))
    }

    /// The key and file of a row of `table` rejected by this run whose columns hold `wanted`
    /// (column, value as in [`value_json`]; names and the table compared without ASCII case,
    /// values by their text), looked up in the reject files in the directory, this table's
    /// unfinished one included (flush it first).
    pub(crate) fn find_rejected(
        &self,
        table: &str,
        wanted: &[(String, Json)],
    ) -> Result<Option<(String, PathBuf)>> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(None);
        };
        let text_of = |v: &Json| match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        for path in entries.flatten().map(|e| e.path()) {
            let name = path.to_string_lossy();
            if !(name.ends_with(".rejects.jsonl") || name.ends_with(".rejects.jsonl.partial")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                context: format!("cannot read `{}`", path.display()),
                source,
            })?;
            for reject in text
                .lines()
                .filter_map(|l| serde_json::from_str::<Reject>(l).ok())
                .filter(|r| r.action == "rejected" && r.table.eq_ignore_ascii_case(table))
            {
                let Json::Object(row) = &reject.row else {
                    continue;
                };
                let matches = wanted.iter().all(|(column, value)| {
                    row.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(column))
                        .is_some_and(|(_, v)| !v.is_null() && text_of(v) == text_of(value))
                });
                if matches {
                    let file = PathBuf::from(name.trim_end_matches(".partial"));
                    return Ok(Some((reject.key.to_string(), file)));
                }
            }
        }
        Ok(None)
    }

    /// Records one rejected row.
    pub fn push(&mut self, reject: &Reject) -> Result<()> {
        self.count += 1;
        let Some(dir) = self.dir.clone() else {
            return Ok(());
        };
        if self.writer.is_none() {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
                context: format!("cannot create the reject directory `{}`", dir.display()),
                source,
            })?;
            let path = self.partial_path(&dir);
            let file = File::create(&path).map_err(|source| Error::Io {
                context: format!("cannot create reject file `{}`", path.display()),
                source,
            })?;
            self.writer = Some(BufWriter::new(file));
        }
        let writer = self.writer.as_mut().expect("opened above");
        let line = serde_json::to_string(reject).expect("a reject serializes");
        writeln!(writer, "{line}").map_err(|source| Error::Io {
            context: format!("cannot write to the reject file of `{}`", self.table),
            source,
        })
    }

    /// Forgets what was written (the table's transaction is being retried).
    pub fn reset(&mut self) -> Result<()> {
        self.writer = None;
        self.count = 0;
        if let Some(dir) = &self.dir {
            let path = self.partial_path(dir);
            if path.exists() {
                std::fs::remove_file(&path).map_err(|source| Error::Io {
                    context: format!("cannot remove `{}`", path.display()),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Flushes and syncs the partial file; call before the table's transaction commits.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.as_mut() {
            let table = self.table.clone();
            let io = |source| Error::Io {
                context: format!("cannot write the reject file of `{table}`"),
                source,
            };
            writer.flush().map_err(io)?;
            writer.get_ref().sync_all().map_err(io)?;
        }
        Ok(())
    }

    /// Renames the partial file into place; call after the table's transaction committed.
    pub fn commit(&mut self) -> Result<Option<PathBuf>> {
        self.writer = None;
        let (Some(dir), Some(final_path)) = (self.dir.clone(), self.final_path()) else {
            return Ok(None);
        };
        let partial = self.partial_path(&dir);
        if !partial.exists() {
            return Ok(None);
        }
        std::fs::rename(&partial, &final_path).map_err(|source| Error::Io {
            context: format!(
                "cannot move the reject file into place at `{}`",
                final_path.display()
            ),
            source,
        })?;
        Ok(Some(final_path))
    }
}
