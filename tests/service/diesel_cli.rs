//! The real `diesel` binary (diesel CLI, installed by `.ci/run`) and dbshift on one database:
//! what `diesel setup` and `diesel migration run` apply, `dbshift migrations list` and the
//! library see applied, and what dbshift applies or reverts, `diesel migration list` sees the
//! same way; on SQLite, `sqlite:PATH`, `sqlite://PATH` and `PATH` reach the same file.
//!
//! Without `diesel` on `PATH` each test records itself skipped (`support::skipped`), so the
//! closing line of `.ci/run` counts it as skipped, never as passed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{copy_tree, migrations_dir, tables, COUNTERS, VERSIONS};
use crate::support::{config, exits, Kind};
use dbshift::{serde_json, Backend, DbConfig, Dialect, Registry};

/// The version `diesel setup` gives its initial migration on PostgreSQL.
const INITIAL: &str = "00000000000000";

/// The `diesel` binary, or `None` (and the test recorded skipped) when it is not installed.
fn diesel_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("diesel"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        crate::support::skipped(
            "diesel CLI is not installed (cargo install diesel_cli --no-default-features --features postgres,sqlite)",
        );
    }
    found
}

/// A diesel project folder (an empty `diesel.toml`, which `diesel setup` needs to find its
/// root) with a `dbshift.toml` naming the same `migrations` folder for dbshift.
struct Project {
    diesel: PathBuf,
    dir: tempfile::TempDir,
}

impl Project {
    fn new(diesel: PathBuf, url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("diesel.toml"), "").unwrap();
        std::fs::write(
            dir.path().join("dbshift.toml"),
            format!(
                "url = {url:?}\n[migrations]\nsqlite = \"migrations\"\npostgres = \"migrations\"\n"
            ),
        )
        .unwrap();
        Project { diesel, dir }
    }

    fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Runs `diesel ARGS --database-url URL` in the project, as a user would from its root.
    fn diesel(&self, url: &str, args: &[&str]) -> Output {
        let output = Command::new(&self.diesel)
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("DIESEL_CONFIG_FILE")
            .args(args)
            .args(["--database-url", url])
            .output()
            .unwrap();
        exits(&output, 0);
        output
    }

    /// `diesel migration list`: each migration's version and whether it is applied, by
    /// version.
    fn diesel_list(&self, url: &str) -> Vec<(String, bool)> {
        let output = self.diesel(url, &["migration", "list"]);
        let mut list: Vec<(String, bool)> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                let applied = line.starts_with("[X]");
                let name = line
                    .strip_prefix("[X] ")
                    .or_else(|| line.strip_prefix("[ ] "))?;
                Some((version_of(name), applied))
            })
            .collect();
        list.sort();
        list
    }

    /// `dbshift ARGS` in the project, reading its `dbshift.toml`; `url`, when given, replaces
    /// the file's (through `DATABASE_URL`, as the command documents).
    fn dbshift(&self, url: Option<&str>, args: &[&str]) -> Output {
        let mut command = crate::support::dbshift(self.dir.path());
        if let Some(url) = url {
            command.env("DATABASE_URL", url);
        }
        let output = command.args(args).output().unwrap();
        exits(&output, 0);
        output
    }

    /// `dbshift migrations list --format json`, in the same form as [`Project::diesel_list`].
    fn dbshift_list(&self, url: Option<&str>) -> Vec<(String, bool)> {
        let output = self.dbshift(url, &["--format", "json", "migrations", "list"]);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut list: Vec<(String, bool)> = json["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["version"].as_str().unwrap().to_string(),
                    m["state"] == "applied",
                )
            })
            .collect();
        list.sort();
        list
    }

    /// The library's view through the project's `dbshift.toml`.
    fn library(&self) -> Box<dyn Backend> {
        let config = DbConfig::from_file(self.dir.path().join("dbshift.toml")).unwrap();
        Registry::with_defaults().connect(&config).unwrap()
    }
}

/// The version of a diesel migration folder name: `2026-02-01-000000_x` is `20260201000000`,
/// `00000000000000_diesel_initial_setup` is `00000000000000`.
fn version_of(name: &str) -> String {
    name.split('_')
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// `versions` in the list form, each applied or not.
fn listed(versions: &[&str], applied: bool) -> Vec<(String, bool)> {
    versions.iter().map(|v| (v.to_string(), applied)).collect()
}

both_backends! {
    fn the_diesel_binary_and_dbshift_see_the_same_migrations_both_ways(kind) {
        let Some(diesel) = diesel_binary() else { return };
        let (db_config, _guard) = config(kind);
        let url = db_config.url.expose().to_string();
        // diesel CLI reads a SQLite file from `sqlite://PATH` or `PATH`; dbshift from both and
        // from `sqlite:PATH`, which is what its file holds here.
        let (diesel_url, dbshift_url) = match kind {
            Kind::Sqlite => (format!("sqlite://{url}"), format!("sqlite:{url}")),
            Kind::Postgres => (url.clone(), url.clone()),
        };
        let project = Project::new(diesel, &dbshift_url);

        // `diesel setup`: on PostgreSQL it writes and runs its initial migration; on SQLite it
        // only makes the folder.
        project.diesel(&diesel_url, &["setup"]);
        let initial: Vec<&str> = match kind {
            Kind::Sqlite => vec![],
            Kind::Postgres => vec![INITIAL],
        };
        // Folders only: setup also leaves a `.keep` file, which both tools pass over.
        let mut names: Vec<String> = std::fs::read_dir(project.migrations()).unwrap()
            .map(|e| e.unwrap()).filter(|e| e.path().is_dir())
            .map(|e| e.file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names.iter().map(|n| version_of(n)).collect::<Vec<_>>(), initial, "{names:?}");
        copy_tree(&migrations_dir(match kind { Kind::Sqlite => Dialect::Sqlite, Kind::Postgres => Dialect::Postgres }), &project.migrations());
        let db = project.library();
        assert_eq!(db.applied_migrations().unwrap(), initial, "the library sees setup's migration");
        assert_eq!(db.pending_migrations().unwrap(), VERSIONS);
        let mut all: Vec<&str> = initial.clone();
        all.extend(VERSIONS);
        let setup_only = [listed(&initial, true), listed(&VERSIONS, false)].concat();
        assert_eq!(project.dbshift_list(None), setup_only);
        assert_eq!(project.diesel_list(&diesel_url), setup_only);

        // diesel runs; dbshift (command and library) sees everything applied.
        project.diesel(&diesel_url, &["migration", "run"]);
        assert_eq!(project.dbshift_list(None), listed(&all, true));
        assert_eq!(db.applied_migrations().unwrap(), all);
        assert!(db.pending_migrations().unwrap().is_empty());
        assert_eq!(tables(&*db), ["counters", "notes"]);

        // dbshift reverts one, then the rest (setup's too: its folder is in the directory);
        // diesel sees each step.
        project.dbshift(None, &["migrations", "revert"]);
        let mut expected = listed(&all, true);
        expected.last_mut().unwrap().1 = false;
        assert_eq!(project.diesel_list(&diesel_url), expected);
        project.dbshift(None, &["migrations", "revert", "--all"]);
        assert_eq!(project.diesel_list(&diesel_url), listed(&all, false));
        assert!(tables(&*db).is_empty());
        if kind == Kind::Postgres {
            let row = db.query_one("SELECT count(*) AS n FROM pg_proc WHERE proname = 'diesel_manage_updated_at'", &[]).unwrap();
            assert_eq!(row.get::<i64, _>("n").unwrap(), 0, "setup's down.sql ran");
        }

        // dbshift runs everything; diesel sees it applied, reverts the newest, and dbshift
        // sees that one pending.
        project.dbshift(None, &["migrations", "run"]);
        assert_eq!(project.diesel_list(&diesel_url), listed(&all, true));
        project.diesel(&diesel_url, &["migration", "revert"]);
        assert_eq!(db.pending_migrations().unwrap(), [COUNTERS]);
        assert_eq!(project.dbshift_list(None), expected);
        project.diesel(&diesel_url, &["migration", "revert", "--all"]);
        assert!(db.applied_migrations().unwrap().is_empty());
        assert_eq!(project.dbshift_list(None), listed(&all, false));
    }
}

#[test]
fn the_sqlite_url_forms_reach_the_same_file_for_diesel_and_dbshift() {
    let Some(diesel) = diesel_binary() else {
        return;
    };
    let (db_config, _guard) = config(Kind::Sqlite);
    let path = db_config.url.expose().to_string();
    assert!(Path::new(&path).is_absolute(), "{path}");
    let project = Project::new(diesel, &path);
    project.diesel(&path, &["setup"]);
    copy_tree(&migrations_dir(Dialect::Sqlite), &project.migrations());
    // Each form applies one step with one tool; every form then reads the same state with both.
    let forms = [
        format!("sqlite:{path}"),
        format!("sqlite://{path}"),
        path.clone(),
    ];
    project.diesel(&forms[1], &["migration", "run"]);
    project.dbshift(Some(&forms[0]), &["migrations", "revert"]);
    project.diesel(&forms[2], &["migration", "revert"]);
    project.dbshift(Some(&forms[2]), &["migrations", "run"]);
    project.diesel(&forms[2], &["migration", "revert"]);
    let expected = vec![
        (VERSIONS[0].to_string(), true),
        (COUNTERS.to_string(), false),
    ];
    for url in &forms {
        assert_eq!(
            project.dbshift_list(Some(url)),
            expected,
            "dbshift with {url}"
        );
        let db = Registry::with_defaults()
            .connect(&DbConfig::from_url(url.clone()).with_migrations(
                dbshift::Migrations::from_dirs(project.migrations(), project.migrations()).unwrap(),
            ))
            .unwrap();
        assert_eq!(db.applied_migrations().unwrap(), [VERSIONS[0]], "{url}");
    }
    for url in &forms[1..] {
        assert_eq!(project.diesel_list(url), expected, "diesel with {url}");
    }
    // diesel CLI takes `sqlite:PATH` as a file name of its own, so it never reaches this
    // database: the form to give diesel CLI is `sqlite://PATH` or the bare path.
    let stray = Command::new(&project.diesel)
        .current_dir(project.dir.path())
        .args(["migration", "list", "--database-url", &forms[0]])
        .output()
        .unwrap();
    let listed_there = String::from_utf8_lossy(&stray.stdout).contains("[X]");
    assert!(
        !stray.status.success() || !listed_there,
        "diesel CLI now reads `sqlite:PATH` as the same file: update the docs ({stray:?})"
    );
    // Only the one file exists in its folder (plus SQLite's WAL companions).
    let files: Vec<String> = std::fs::read_dir(Path::new(&path).parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .collect();
    assert_eq!(
        files,
        [Path::new(&path).file_name().unwrap().to_str().unwrap()]
    );
}
