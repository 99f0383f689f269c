//! `dbshift migrations run|list|revert`: the configured database's schema migrations: the
//! directories of the config's `[migrations]` table, else the bundled missions schema.

use std::fmt;

use anyhow::Context;
use serde::Serialize;

use super::args::{GlobalArgs, MigrationsCommand};
use super::{connect, print, Outcome};

/// What a migrations command did or found.
#[derive(Debug, Serialize)]
struct Report {
    url: dbshift::config::RedactedUrl,
    dialect: dbshift::Dialect,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied_now: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverted_now: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    migrations: Option<Vec<Migration>>,
}

/// One migration and its state, for `list`.
#[derive(Debug, Serialize)]
struct Migration {
    version: String,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum State {
    Applied,
    Pending,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions = |v: &[String]| v.join(", ");
        match (&self.applied_now, &self.reverted_now, &self.migrations) {
            (Some(applied), _, _) if applied.is_empty() => {
                write!(f, "no pending migrations on {}", self.url)
            }
            (Some(applied), _, _) => {
                write!(
                    f,
                    "applied {} migration(s) to {}: {}",
                    applied.len(),
                    self.url,
                    versions(applied)
                )
            }
            (_, Some(reverted), _) if reverted.is_empty() => {
                write!(f, "no applied migrations on {}", self.url)
            }
            (_, Some(reverted), _) => {
                write!(
                    f,
                    "reverted {} migration(s) on {}: {}",
                    reverted.len(),
                    self.url,
                    versions(reverted)
                )
            }
            (_, _, Some(migrations)) => {
                writeln!(
                    f,
                    "{} migrations on {} ({}):",
                    self.dialect,
                    self.url,
                    migrations.len()
                )?;
                for (i, m) in migrations.iter().enumerate() {
                    let state = if m.state == State::Applied {
                        "applied"
                    } else {
                        "pending"
                    };
                    write!(f, "  {}  {state}", m.version)?;
                    if i + 1 < migrations.len() {
                        writeln!(f)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

pub fn run(global: &GlobalArgs, command: &MigrationsCommand) -> anyhow::Result<Outcome> {
    let (_, db) = connect(global)?;
    let mut report = Report {
        url: db.url(),
        dialect: db.dialect(),
        applied_now: None,
        reverted_now: None,
        migrations: None,
    };
    match command {
        MigrationsCommand::Run => {
            report.applied_now = Some(db.run_pending_migrations().context("applying migrations")?);
        }
        MigrationsCommand::List => {
            let applied = db.applied_migrations()?;
            let pending = db.pending_migrations()?;
            let mut all: Vec<Migration> = applied
                .into_iter()
                .map(|version| Migration {
                    version,
                    state: State::Applied,
                })
                .chain(pending.into_iter().map(|version| Migration {
                    version,
                    state: State::Pending,
                }))
                .collect();
            all.sort_by(|a, b| a.version.cmp(&b.version));
            report.migrations = Some(all);
        }
        MigrationsCommand::Revert { all } => {
            let mut reverted = Vec::new();
            while let Some(version) = db
                .revert_last_migration()
                .context("reverting a migration")?
            {
                reverted.push(version);
                if !all {
                    break;
                }
            }
            report.reverted_now = Some(reverted);
        }
    }
    print(global.format, &report)?;
    Ok(Outcome::Success)
}
