//! Reject files: every row that could not be copied, one JSON object per line, with its table,
//! key, column, reason and the whole original row (so it can be fixed and loaded by hand).
//!
//! A directory holds the files of one run: its manifest `run.json` ([`RunTag`]: the run's id,
//! the redacted target, the source) and each line's `run` say which. A new run moves the files
//! of any other run into a subdirectory named after that run before it writes its own, and
//! verification and `--resume` read only the files of their run, so rejects left by an
//! earlier run (another mode, another target) are never counted again.
//!
//! A table's rejects are written to `<dir>/<table>.rejects.jsonl.partial` and renamed to
//! `<table>.rejects.jsonl` only when the table's transaction commits; a retried or failed table
//! leaves no stale lines. Write errors (a full disk) fail the table, so a row is never counted
//! as handled when its record is not on disk.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Map, Value as Json};

use crate::transfer::error::{Error, Result};
use crate::transfer::load::values::Src;
use crate::transfer::text::float_text;

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
    /// The run that wrote it ([`RunTag::run`]); absent in files of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// The name of a reject directory's manifest.
pub const MANIFEST: &str = "run.json";

/// Which run a reject directory's files belong to: its manifest, `run.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunTag {
    /// The run's id (UTC start time and a random suffix), also recorded in the target.
    pub run: String,
    /// The target, without its password.
    pub target: String,
    /// The SQLite source.
    pub source: String,
}

impl RunTag {
    /// A fresh run id: `20260102T030405Z-1a2b3c4d`.
    pub fn new_id() -> String {
        let now = chrono::Utc::now();
        let seed = format!("{}{:?}", std::process::id(), std::time::SystemTime::now());
        format!(
            "{}-{:08x}",
            now.format("%Y%m%dT%H%M%SZ"),
            xxhash_rust::xxh3::xxh3_64(seed.as_bytes()) as u32
        )
    }

    /// The manifest of `dir`, when there is a readable one.
    pub fn read(dir: &Path) -> Option<RunTag> {
        let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Makes `dir` this run's: files of another run (or of no known run) are moved into a
    /// subdirectory named after it, then the manifest is written. Returns where files went.
    pub(crate) fn claim(&self, dir: &Path) -> Result<Option<PathBuf>> {
        let io = |context: String| move |source| Error::Io { context, source };
        let old = RunTag::read(dir);
        let theirs: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| is_run_file(p))
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut moved = None;
        if old.as_ref() != Some(self) && !theirs.is_empty() {
            let name = match &old {
                Some(tag) if !tag.run.is_empty() => tag.run.replace(['/', '\\', '.'], "_"),
                _ => format!("earlier-{}", RunTag::new_id()),
            };
            let aside = unused(dir.join(&name));
            std::fs::create_dir_all(&aside)
                .map_err(io(format!("cannot create `{}`", aside.display())))?;
            for path in theirs {
                let to = aside.join(path.file_name().expect("a file in the directory"));
                std::fs::rename(&path, &to)
                    .map_err(io(format!("cannot move `{}` aside", path.display())))?;
            }
            moved = Some(aside);
        }
        std::fs::create_dir_all(dir).map_err(io(format!(
            "cannot create the reject directory `{}`",
            dir.display()
        )))?;
        let json = serde_json::to_string_pretty(self).expect("a run tag serializes");
        std::fs::write(dir.join(MANIFEST), json + "\n").map_err(io(format!(
            "cannot write `{}`",
            dir.join(MANIFEST).display()
        )))?;
        Ok(moved)
    }

    /// After a run that wrote no reject file: removes its manifest, and the directory when
    /// nothing else is in it, so a clean run leaves nothing behind.
    pub(crate) fn release_if_unused(dir: &Path) {
        let has_rejects = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| is_run_file(&e.path()) && !e.path().ends_with(MANIFEST))
        });
        if !has_rejects {
            let _ = std::fs::remove_file(dir.join(MANIFEST));
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A JSON value as text for comparing keys: a string without its quotes, anything else as
/// written.
pub(crate) fn json_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `path` is a file a run writes into its reject directory.
fn is_run_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.is_file()
        && (name == MANIFEST
            || name.ends_with(".rejects.jsonl")
            || name.ends_with(".rejects.jsonl.partial"))
}

/// `path`, or `path-2`, `path-3`, ... whichever does not exist yet.
fn unused(path: PathBuf) -> PathBuf {
    let mut candidate = path.clone();
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{}-{n}", path.display()));
        n += 1;
    }
    candidate
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
    run: Option<String>,
    table: String,
    writer: Option<BufWriter<File>>,
    count: u64,
    /// The part of a table copied in parallel streams, whose rejects have a file of their own.
    part: Option<usize>,
}

impl RejectSink {
    /// A sink for `table` under `dir`; `None` keeps rejects only in the counts (used by
    /// verification, which writes nothing).
    pub fn new(dir: Option<&Path>, table: &str) -> Self {
        RejectSink {
            dir: dir.map(Path::to_path_buf),
            run: dir.and_then(RunTag::read).map(|tag| tag.run),
            table: table.to_string(),
            writer: None,
            count: 0,
            part: None,
        }
    }

    /// The sink of one part of the table (a table copied in parallel streams): its own file,
    /// `<table>.part<N>.rejects.jsonl`, merged into the table's by [`RejectSink::merge_parts`].
    pub fn part(mut self, part: usize) -> Self {
        self.part = Some(part);
        self
    }

    /// Rejected rows so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The name of the table's reject file (of `part` of it, when given) before its suffix.
    fn file_stem(&self, part: Option<usize>) -> String {
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
        let part = part.map(|p| format!(".part{p}")).unwrap_or_default();
        format!(
            "{safe}-{:08x}{part}",
            xxhash_rust::xxh3::xxh3_64(self.table.as_bytes()) as u32
        )
    }

    /// Appends the reject files of the table's `parts` (in order) to the table's own file and
    /// removes them; the table's file, if any row was rejected. Parts whose file is gone (merged
    /// by an earlier attempt that stopped before recording it) are skipped.
    pub fn merge_parts(&self, parts: usize) -> Result<Option<PathBuf>> {
        let Some(whole) = self.path_of(None) else {
            return Ok(None);
        };
        let io = |what: String| {
            move |source| Error::Io {
                context: what,
                source,
            }
        };
        for part in 1..=parts {
            let Some(file) = self.path_of(Some(part)) else {
                continue;
            };
            let Ok(text) = std::fs::read(&file) else {
                continue;
            };
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&whole)
                .map_err(io(format!("cannot open `{}`", whole.display())))?;
            out.write_all(&text)
                .and_then(|()| out.sync_all())
                .map_err(io(format!("cannot write `{}`", whole.display())))?;
            std::fs::remove_file(&file)
                .map_err(io(format!("cannot remove `{}`", file.display())))?;
        }
        Ok(whole.exists().then_some(whole))
    }

    fn partial_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!(
            "{}.rejects.jsonl.partial",
            self.file_stem(self.part)
        ))
    }

    /// The final path of this table's reject file.
    pub fn final_path(&self) -> Option<PathBuf> {
        self.path_of(self.part)
    }

    /// The final path of the reject file of the table, or of one part of it.
    fn path_of(&self, part: Option<usize>) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.rejects.jsonl", self.file_stem(part))))
    }

    /// The rows of `table` rejected by this run, by the text of their `columns` (names and the
    /// table compared without ASCII case; rows with a NULL among them left out), with each
    /// row's key and file: read once from the reject files in the directory, this table's
    /// unfinished one included (flush it first).
    pub(crate) fn rejected_index(
        &self,
        table: &str,
        columns: &[String],
    ) -> Result<HashMap<Vec<String>, (String, PathBuf)>> {
        let mut index = HashMap::new();
        let Some(entries) = self.dir.as_ref().and_then(|d| std::fs::read_dir(d).ok()) else {
            return Ok(index);
        };
        for path in entries.flatten().map(|e| e.path()) {
            let name = path.to_string_lossy();
            if !(name.ends_with(".rejects.jsonl") || name.ends_with(".rejects.jsonl.partial")) {
                continue;
            }
            let file = PathBuf::from(name.trim_end_matches(".partial"));
            // Another table's copy may commit, renaming its partial file into place, between
            // the listing and the read: then the rows are in the final file.
            let text = match std::fs::read_to_string(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && path != file => {
                    std::fs::read_to_string(&file)
                }
                read => read,
            }
            .map_err(|source| Error::Io {
                context: format!("cannot read `{}`", path.display()),
                source,
            })?;
            for reject in text
                .lines()
                .filter_map(|l| serde_json::from_str::<Reject>(l).ok())
                .filter(|r| r.action == "rejected" && r.run == self.run)
                .filter(|r| r.table.eq_ignore_ascii_case(table))
            {
                let Json::Object(row) = &reject.row else {
                    continue;
                };
                let values: Option<Vec<String>> = columns
                    .iter()
                    .map(|column| {
                        row.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(column))
                            .map(|(_, v)| v)
                            .filter(|v| !v.is_null())
                            .map(json_text)
                    })
                    .collect();
                if let Some(values) = values {
                    index
                        .entry(values)
                        .or_insert_with(|| (reject.key.to_string(), file.clone()));
                }
            }
        }
        Ok(index)
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
        let line = if self.run.is_some() && reject.run != self.run {
            let mut stamped = reject.clone();
            stamped.run.clone_from(&self.run);
            serde_json::to_string(&stamped)
        } else {
            serde_json::to_string(reject)
        }
        .expect("a reject serializes");
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
