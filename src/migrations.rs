//! [`Migrations`]: the schema migrations a backend runs, one list per dialect, in diesel CLI's
//! format and bookkeeping.
//!
//! A backend runs the crate's bundled missions schema ([`Migrations::bundled`]) unless it is
//! given the application's own: directories named in the config file (`[migrations]`, read by
//! [`Migrations::from_dirs`]) or lists compiled into the application ([`embed_migrations!`](crate::embed_migrations!) and
//! [`Migrations::embedded`]), passed in with [`crate::DbConfig::with_migrations`].
//!
//! A migration is a folder `VERSION_name` (diesel CLI writes `YYYY-MM-DD-HHMMSS_name`) holding
//! `up.sql`, usually `down.sql`, and optionally `metadata.toml` with `run_in_transaction =
//! false`. Its version is the part before the first `_` without its dashes, exactly as diesel
//! computes it, and applied versions are rows of diesel's `__diesel_schema_migrations`: diesel
//! CLI and dbshift see the same migrations applied, whichever ran them. `diesel setup`'s own
//! `00000000000000_diesel_initial_setup` is tolerated when the application's list lacks it:
//! reverting stops there instead of failing.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// The version `diesel setup` gives the migration it adds on PostgreSQL.
pub const DIESEL_INITIAL_SETUP: &str = "00000000000000";

/// The application's migration directories, one per dialect, as the config file's
/// `[migrations]` table names them (relative paths are taken from the config file's folder).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrationDirs {
    /// The directory of SQLite migrations.
    #[serde(default)]
    pub sqlite: Option<PathBuf>,
    /// The directory of PostgreSQL migrations.
    #[serde(default)]
    pub postgres: Option<PathBuf>,
}

impl MigrationDirs {
    /// The directory of `dialect`, when one is configured.
    pub fn get(&self, dialect: Dialect) -> Option<&Path> {
        match dialect {
            Dialect::Sqlite => self.sqlite.as_deref(),
            Dialect::Postgres => self.postgres.as_deref(),
        }
    }

    /// These directories with relative paths taken from `base` instead of the working directory.
    pub fn relative_to(mut self, base: &Path) -> Self {
        for dir in [&mut self.sqlite, &mut self.postgres].into_iter().flatten() {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        self
    }
}

/// One migration compiled into the application; made by [`embed_migrations!`](crate::embed_migrations!).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedMigration {
    /// The folder name, `VERSION_name`.
    pub name: &'static str,
    /// The text of `up.sql`.
    pub up: &'static str,
    /// The text of `down.sql`.
    pub down: Option<&'static str>,
}

/// Compiles migration folders into the application: `embed_migrations!("dir", ["name", ...])`
/// gives a `&'static [EmbeddedMigration]` of each `dir/name/up.sql` and `down.sql`, the
/// directory taken from the calling crate's manifest folder. Changing a file rebuilds the
/// caller; a new folder must be added to the list (a test comparing
/// [`Migrations::versions`] with the directory keeps the two in step).
///
/// ```ignore
/// const SQLITE: &[dbshift::EmbeddedMigration] =
///     dbshift::embed_migrations!("migrations_sqlite", ["2026-01-01-000000_create_notes"]);
/// ```
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal, [$($name:literal),* $(,)?]) => {
        &[$($crate::EmbeddedMigration {
            name: $name,
            up: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $name, "/up.sql")),
            down: Some(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $name, "/down.sql"
            ))),
        }),*]
    };
}

/// The migrations of both dialects. Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Migrations {
    sqlite: Option<MigrationList>,
    postgres: Option<MigrationList>,
}

impl Migrations {
    /// The crate's own missions schema (`migrations_sqlite/`, `migrations_postgres/`), what a
    /// backend runs when it is given nothing else.
    pub fn bundled() -> Self {
        const SQLITE: &[EmbeddedMigration] = embed_migrations!(
            "migrations_sqlite",
            [
                "2026-01-01-000000_create_missions",
                "2026-01-01-000100_create_tags"
            ]
        );
        const POSTGRES: &[EmbeddedMigration] = embed_migrations!(
            "migrations_postgres",
            [
                "2026-01-01-000000_create_missions",
                "2026-01-01-000100_create_tags"
            ]
        );
        Self::compiled_in(SQLITE, POSTGRES, "the bundled missions schema")
            .expect("the bundled migrations are well formed")
    }

    /// Migrations compiled into the application, one list per dialect (see
    /// [`embed_migrations!`](crate::embed_migrations!)). Fails on a malformed name or a version given twice.
    pub fn embedded(
        sqlite: &'static [EmbeddedMigration],
        postgres: &'static [EmbeddedMigration],
    ) -> Result<Self> {
        Self::compiled_in(sqlite, postgres, "the embedded migrations")
    }

    /// Both lists, named `label` in errors.
    fn compiled_in(
        sqlite: &'static [EmbeddedMigration],
        postgres: &'static [EmbeddedMigration],
        label: &str,
    ) -> Result<Self> {
        let list = |migrations: &'static [EmbeddedMigration], dialect: &str| {
            let origin = format!("{label} ({dialect})");
            let origin = origin.as_str();
            let texts = migrations.iter().map(|m| {
                MigrationText::new(
                    m.name,
                    Cow::Borrowed(m.up),
                    m.down.map(Cow::Borrowed),
                    true,
                    origin,
                )
            });
            MigrationList::new(texts.collect::<Result<_>>()?, origin)
        };
        Ok(Migrations {
            sqlite: Some(list(sqlite, "sqlite")?),
            postgres: Some(list(postgres, "postgres")?),
        })
    }

    /// Reads both directories now (the backend then needs no file at run time).
    pub fn from_dirs(sqlite: impl AsRef<Path>, postgres: impl AsRef<Path>) -> Result<Self> {
        Ok(Migrations {
            sqlite: Some(MigrationList::read_dir(sqlite.as_ref())?),
            postgres: Some(MigrationList::read_dir(postgres.as_ref())?),
        })
    }

    /// Reads the directories the config names; a dialect without one has no migrations here.
    pub fn from_config(dirs: &MigrationDirs) -> Result<Self> {
        let read = |dir: Option<&PathBuf>| dir.map(|d| MigrationList::read_dir(d)).transpose();
        Ok(Migrations {
            sqlite: read(dirs.sqlite.as_ref())?,
            postgres: read(dirs.postgres.as_ref())?,
        })
    }

    /// The versions of `dialect`'s migrations, oldest first.
    pub fn versions(&self, dialect: Dialect) -> Vec<String> {
        self.get(dialect)
            .map(|list| list.items.iter().map(|m| m.version.clone()).collect())
            .unwrap_or_default()
    }

    /// The list a backend of `dialect` runs; an error when the config gave none for it.
    pub(crate) fn for_dialect(&self, dialect: Dialect) -> Result<MigrationList> {
        self.get(dialect).cloned().ok_or_else(|| Error::Migration {
            message: format!(
                "no migrations for `{dialect}`: `[migrations]` names no `{dialect}` directory"
            ),
        })
    }

    fn get(&self, dialect: Dialect) -> Option<&MigrationList> {
        match dialect {
            Dialect::Sqlite => self.sqlite.as_ref(),
            Dialect::Postgres => self.postgres.as_ref(),
        }
    }
}

/// One dialect's migrations, sorted by version; a diesel `MigrationSource`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MigrationList {
    items: Arc<[Arc<MigrationText>]>,
    /// Where they came from (a directory, or "embedded ..."), for error messages.
    origin: Arc<str>,
}

impl MigrationList {
    fn new(mut items: Vec<MigrationText>, origin: &str) -> Result<Self> {
        items.sort_by(|a, b| a.version.cmp(&b.version));
        if let Some(pair) = items.windows(2).find(|w| w[0].version == w[1].version) {
            return Err(Error::Migration {
                message: format!(
                    "{origin}: `{}` and `{}` have the same version `{}`",
                    pair[0].name, pair[1].name, pair[0].version
                ),
            });
        }
        Ok(MigrationList {
            items: items.into_iter().map(Arc::new).collect(),
            origin: origin.into(),
        })
    }

    /// Reads a diesel-format directory: every folder not starting with `.` is a migration.
    fn read_dir(dir: &Path) -> Result<Self> {
        let origin = format!("`{}`", dir.display());
        let io = |source| Error::Io {
            context: format!("cannot read migrations directory {origin}"),
            source,
        };
        let mut items = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            let read = |file: &str| std::fs::read_to_string(entry.path().join(file));
            let up = read("up.sql").map_err(|source| Error::Io {
                context: format!("cannot read `{name}/up.sql` in {origin}"),
                source,
            })?;
            let down = read("down.sql").ok();
            let in_transaction = match read("metadata.toml") {
                Ok(text) => Metadata::parse(&text, &name)?.run_in_transaction,
                Err(_) => true,
            };
            items.push(MigrationText::new(
                &name,
                up.into(),
                down.map(Cow::Owned),
                in_transaction,
                &origin,
            )?);
        }
        Self::new(items, &origin)
    }

    pub(crate) fn versions(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|m| m.version.as_str())
    }

    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }
}

/// `metadata.toml` of a migration folder, as diesel reads it.
#[derive(Deserialize)]
struct Metadata {
    #[serde(default = "yes")]
    run_in_transaction: bool,
}

fn yes() -> bool {
    true
}

impl Metadata {
    fn parse(text: &str, name: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Migration {
            message: format!("`{name}/metadata.toml`: {}", e.message()),
        })
    }
}

/// One migration's SQL.
#[derive(Debug, PartialEq)]
struct MigrationText {
    name: String,
    version: String,
    up: Cow<'static, str>,
    down: Option<Cow<'static, str>>,
    run_in_transaction: bool,
}

impl MigrationText {
    fn new(
        name: &str,
        up: Cow<'static, str>,
        down: Option<Cow<'static, str>>,
        run_in_transaction: bool,
        origin: &str,
    ) -> Result<Self> {
        let version = version_of(name).ok_or_else(|| Error::Migration {
            message: format!(
                "{origin}: `{name}` is not a migration name; expected `VERSION_name` like `2026-01-31-120000_create_notes`"
            ),
        })?;
        Ok(MigrationText {
            name: name.to_string(),
            version,
            up,
            down,
            run_in_transaction,
        })
    }
}

/// The version diesel gives a folder name: the part before the first `_`, dashes removed;
/// `None` unless that is digits.
fn version_of(name: &str) -> Option<String> {
    let (stamp, label) = name.split_once('_')?;
    let version = stamp.replace('-', "");
    let valid =
        !version.is_empty() && !label.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(version)
}

/// A failed migration's statement: its folder name and the driver's error.
#[derive(Debug, thiserror::Error)]
#[error("`{name}`: {source}")]
struct Failed {
    name: String,
    #[source]
    source: diesel::result::Error,
}

/// A migration without `down.sql` was asked to revert.
#[derive(Debug, thiserror::Error)]
#[error("migration `{0}` has no `down.sql`")]
struct NoDown(String);

/// The diesel side: a list is a `MigrationSource`, each migration a `Migration`, so diesel's
/// harness runs them and keeps `__diesel_schema_migrations` exactly as diesel CLI does.
mod diesel_source {
    use diesel::backend::Backend as DieselBackend;
    use diesel::connection::BoxableConnection;
    use diesel::migration::{
        self, Migration, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
    };

    use super::{Arc, Failed, MigrationList, MigrationText, NoDown};

    impl super::fmt::Display for MigrationText {
        fn fmt(&self, f: &mut super::fmt::Formatter<'_>) -> super::fmt::Result {
            f.write_str(&self.name)
        }
    }

    impl MigrationName for MigrationText {
        fn version(&self) -> MigrationVersion<'_> {
            MigrationVersion::from(self.version.as_str())
        }
    }

    impl MigrationMetadata for MigrationText {
        fn run_in_transaction(&self) -> bool {
            self.run_in_transaction
        }
    }

    /// One migration as diesel runs it.
    struct Step(Arc<MigrationText>);

    fn batch<DB: DieselBackend>(
        conn: &mut dyn BoxableConnection<DB>,
        name: &str,
        sql: &str,
    ) -> migration::Result<()> {
        conn.batch_execute(sql).map_err(|source| {
            Box::new(Failed {
                name: name.to_string(),
                source,
            }) as _
        })
    }

    impl<DB: DieselBackend> Migration<DB> for Step {
        fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> migration::Result<()> {
            batch(conn, &self.0.name, &self.0.up)
        }

        fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> migration::Result<()> {
            match &self.0.down {
                Some(down) => batch(conn, &self.0.name, down),
                None => Err(Box::new(NoDown(self.0.name.clone()))),
            }
        }

        fn metadata(&self) -> &dyn MigrationMetadata {
            &*self.0
        }

        fn name(&self) -> &dyn MigrationName {
            &*self.0
        }
    }

    impl<DB: DieselBackend> MigrationSource<DB> for &MigrationList {
        fn migrations(&self) -> migration::Result<Vec<Box<dyn Migration<DB>>>> {
            Ok(self
                .items
                .iter()
                .map(|m| Box::new(Step(m.clone())) as Box<dyn Migration<DB>>)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_diesels() {
        assert_eq!(
            version_of("2026-01-31-120000_create_notes").as_deref(),
            Some("20260131120000")
        );
        assert_eq!(
            version_of("00000000000000_diesel_initial_setup").as_deref(),
            Some(DIESEL_INITIAL_SETUP)
        );
        assert_eq!(version_of("20260131_x_y").as_deref(), Some("20260131"));
        assert_eq!(version_of("notes"), None);
        assert_eq!(version_of("v1_notes"), None);
        assert_eq!(version_of("2026_"), None);
    }

    #[test]
    fn bundled_lists_every_folder_of_both_directories() {
        let bundled = Migrations::bundled();
        for (dialect, dir) in [
            (Dialect::Sqlite, "migrations_sqlite"),
            (Dialect::Postgres, "migrations_postgres"),
        ] {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let read = MigrationList::read_dir(&root).unwrap();
            assert_eq!(
                bundled.versions(dialect),
                read.versions().collect::<Vec<_>>(),
                "{dir}: a folder is missing from `Migrations::bundled`"
            );
        }
    }

    #[test]
    fn a_version_given_twice_is_refused() {
        const TWICE: &[EmbeddedMigration] = &[
            EmbeddedMigration {
                name: "2026-01-01-000000_a",
                up: "SELECT 1",
                down: None,
            },
            EmbeddedMigration {
                name: "20260101000000_b",
                up: "SELECT 1",
                down: None,
            },
        ];
        let err = Migrations::embedded(TWICE, &[]).unwrap_err().to_string();
        assert!(err.contains("same version `20260101000000`"), "{err}");
        let err = Migrations::embedded(
            &[],
            &[EmbeddedMigration {
                name: "init",
                up: "",
                down: None,
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`init` is not a migration name"), "{err}");
    }
}
