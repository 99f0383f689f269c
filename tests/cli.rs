//! The `dbshift` binary, run as a user would: help texts, `migrations run|list|revert` and
//! `ping` on both databases, exit codes, one-line errors without passwords, and logging.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::sqlite_db;

/// The built binary in `dir` (see [`support::dbshift`](crate::support::dbshift)).
fn dbshift(dir: &std::path::Path) -> Command {
    Command::from_std(crate::support::dbshift(dir))
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// Asserts a failed run printed exactly one `error: ...` line and returns it.
fn single_error_line(output: &std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines[0].to_string()
}

#[test]
fn help_explains_the_commands_config_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    dbshift(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("migrations"))
        .stdout(predicate::str::contains("ping"))
        .stdout(predicate::str::contains("DBSHIFT_CONFIG"))
        .stdout(predicate::str::contains("DATABASE_URL"))
        .stdout(predicate::str::contains(
            "Exit codes: 0 success, 1 rows were rejected or verification found differences, 2 error",
        ));
    dbshift(dir.path())
        .args(["migrations", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("run")
                .and(predicate::str::contains("list"))
                .and(predicate::str::contains("revert")),
        );
    dbshift(dir.path())
        .args(["migrations", "revert", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--all"));
    dbshift(dir.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("dbshift "));
    // A usage error is exit code 2, like every other error.
    dbshift(dir.path())
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand"));
}

#[test]
fn migrations_run_list_and_revert_on_a_sqlite_config_file() {
    let file = sqlite_db();
    let dir = file.dir.path();
    let config = dir.join("app.toml");
    std::fs::write(
        &config,
        format!("url = {:?}\n", file.path.display().to_string()),
    )
    .unwrap();
    let with_config = || {
        let mut command = dbshift(dir);
        command.arg("--config").arg(&config);
        command
    };
    with_config()
        .args(["migrations", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "20260101000000  pending\n  20260101000100  pending",
        ));
    with_config()
        .args(["migrations", "run"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("applied 2 migration(s)")
                .and(predicate::str::contains("20260101000000, 20260101000100")),
        );
    with_config()
        .args(["migrations", "run"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("no pending migrations"));

    let output = with_config()
        .args(["migrations", "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json = stdout_json(&output);
    assert_eq!(json["dialect"], "sqlite");
    assert_eq!(
        json["migrations"],
        serde_json::json!([
            {"version": "20260101000000", "state": "applied"},
            {"version": "20260101000100", "state": "applied"},
        ])
    );

    with_config()
        .args(["migrations", "revert"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("reverted 1 migration(s)")
                .and(predicate::str::contains("20260101000100")),
        );
    // The global options may also come before the command; DBSHIFT_CONFIG is the same as --config.
    let output = dbshift(dir)
        .env("DBSHIFT_CONFIG", &config)
        .args(["--format", "json", "migrations", "revert", "--all"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_json(&output)["reverted_now"],
        serde_json::json!(["20260101000000"])
    );
    with_config()
        .args(["migrations", "revert"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("no applied migrations"));
}

#[test]
fn without_a_config_the_working_directory_decides() {
    let dir = tempfile::tempdir().unwrap();
    // No config at all: a SQLite file dbshift.db in the working directory.
    dbshift(dir.path())
        .arg("ping")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "ok: sqlite database dbshift.db answered in",
        ));
    assert!(dir.path().join("dbshift.db").exists());
    // ./dbshift.toml when present.
    std::fs::write(dir.path().join("dbshift.toml"), "url = \"other.db\"\n").unwrap();
    dbshift(dir.path())
        .args(["migrations", "run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("to other.db"));
    // A typo in the config file is an error naming the key.
    std::fs::write(
        dir.path().join("dbshift.toml"),
        "url = \"other.db\"\n[pool]\nmax_sise = 2\n",
    )
    .unwrap();
    let line = single_error_line(&dbshift(dir.path()).arg("ping").output().unwrap());
    assert!(line.contains("max_sise"), "{line}");
    let line = single_error_line(
        &dbshift(dir.path())
            .args(["--config", "missing.toml", "ping"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        line,
        "error: cannot read config file `missing.toml`: No such file or directory (os error 2)"
    );
}

#[test]
fn an_unknown_scheme_is_one_error_line_listing_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path())
        .env("DATABASE_URL", "mysql://app:hunter2@db/app")
        .arg("ping")
        .output()
        .unwrap();
    let line = single_error_line(&output);
    assert_eq!(
        line,
        "error: no backend for scheme `mysql`; available: file, postgres, postgresql, sqlite"
    );
}

#[test]
fn logs_go_to_stderr_at_the_chosen_level() {
    let dir = tempfile::tempdir().unwrap();
    let output = dbshift(dir.path()).args(["-vv", "ping"]).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DEBUG") && stderr.contains("connecting"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("ok: "),
        "stdout holds only the result"
    );
    let output = dbshift(dir.path())
        .env("RUST_LOG", "dbshift=debug")
        .arg("ping")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("connecting"));
    let output = dbshift(dir.path())
        .env("RUST_LOG", "debug")
        .args(["--log-level", "error", "ping"])
        .output()
        .unwrap();
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = dbshift(dir.path()).arg("ping").output().unwrap();
    assert!(
        output.stderr.is_empty(),
        "quiet by default: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::support::{pg_db, server};

    #[test]
    fn migrations_and_ping_on_postgres_through_database_url() {
        let db = pg_db();
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            dbshift(dir.path())
                .env("DATABASE_URL", &db.url)
                .args(args)
                .output()
                .unwrap()
        };
        let output = run(&["--format", "json", "ping"]);
        assert!(output.status.success(), "{output:?}");
        let json = stdout_json(&output);
        assert_eq!(
            (json["backend"].as_str(), json["dialect"].as_str()),
            (Some("postgres"), Some("postgres"))
        );
        match crate::support::password() {
            Some(password) => {
                let url = json["url"].as_str().unwrap();
                assert!(url.contains(":***@") && !url.contains(&password), "{url}");
            }
            None => crate::support::skipped("no password in DATABASE_URL"),
        }
        assert!(json["round_trip_ms"].as_f64().unwrap() > 0.0);
        // `--json` is short for `--format json`, anywhere on the line; both at once is a usage
        // error.
        let short = stdout_json(&run(&["ping", "--json"]));
        assert_eq!(short["backend"].as_str(), Some("postgres"));
        let both = run(&["ping", "--json", "--format", "text"]);
        assert_eq!(both.status.code(), Some(2), "{both:?}");

        let output = run(&["migrations", "run"]);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("applied 2 migration(s)"),
            "{output:?}"
        );
        let json = stdout_json(&run(&["--format", "json", "migrations", "list"]));
        assert_eq!(json["dialect"], "postgres");
        assert_eq!(
            json["migrations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["state"] == "applied")
                .count(),
            2
        );
        // The schema really is there.
        let backend = dbshift::Registry::with_defaults()
            .connect(&dbshift::DbConfig::from_url(db.url.clone()))
            .unwrap();
        backend
            .execute("INSERT INTO tags (name) VALUES ('from the cli test')", &[])
            .unwrap();
        drop(backend);
        let json = stdout_json(&run(&["--format", "json", "migrations", "revert", "--all"]));
        assert_eq!(
            json["reverted_now"],
            serde_json::json!(["20260101000100", "20260101000000"])
        );
    }

    #[test]
    fn a_wrong_password_is_one_error_line_without_the_password() {
        let Some(temp) = server().temp() else {
            return crate::support::skipped(
                "a wrong password needs the throwaway server (an external one may not check it)",
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "postgres://postgres:Hunter2-wrong@127.0.0.1:{}/postgres",
            temp.port()
        );
        let line = single_error_line(
            &dbshift(dir.path())
                .env("DATABASE_URL", &url)
                .arg("ping")
                .output()
                .unwrap(),
        );
        assert!(!line.contains("Hunter2"), "{line}");
        assert!(
            line.contains("postgres://postgres:***@127.0.0.1")
                && line.contains("password authentication failed"),
            "{line}"
        );
        // Through a config file's password_file, too.
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "Hunter2-wrong\n").unwrap();
        let config = dir.path().join("pg.toml");
        std::fs::write(
            &config,
            format!(
                "url = \"postgres://postgres@127.0.0.1:{}/postgres\"\npassword_file = {:?}\n",
                temp.port(),
                secret.display().to_string()
            ),
        )
        .unwrap();
        let line = single_error_line(
            &dbshift(dir.path())
                .arg("--config")
                .arg(&config)
                .arg("ping")
                .output()
                .unwrap(),
        );
        assert!(
            !line.contains("Hunter2") && line.contains("password authentication failed"),
            "{line}"
        );
    }
}

both_backends! {
    fn migrations_commands_use_the_configs_own_directories(kind) {
        let (config, _guard, folder) = crate::service::service_config(kind);
        // Run from elsewhere: the directories are found next to the config file.
        let elsewhere = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let output = dbshift(elsewhere.path())
                .arg("--config")
                .arg(folder.path().join("service.toml"))
                .args(["--format", "json"])
                .args(args)
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            stdout_json(&output)
        };
        let versions = serde_json::json!(["20260201000000", "20260202000000"]);
        assert_eq!(run(&["migrations", "run"])["applied_now"], versions);
        assert_eq!(
            run(&["migrations", "list"])["migrations"],
            serde_json::json!([
                {"version": "20260201000000", "state": "applied"},
                {"version": "20260202000000", "state": "applied"},
            ])
        );
        let db = dbshift::Registry::with_defaults().connect(&config).unwrap();
        assert!(db.query("SELECT name, value FROM counters", &[]).unwrap().is_empty());
        assert!(db.query("SELECT 1 FROM missions", &[]).is_err(), "the bundled schema is not run");
        assert_eq!(
            run(&["migrations", "revert", "--all"])["reverted_now"],
            serde_json::json!(["20260202000000", "20260201000000"])
        );
        assert!(db.applied_migrations().unwrap().is_empty());
    }
}
