//! The data layer's `Io` error: a file or directory the config names that cannot be read is
//! refused with `Error::Io`, in one line that names the path, with the OS error kept as the
//! cause (not only printed), and nothing is connected or migrated.

use std::io::ErrorKind;
use std::path::Path;

use dbshift::migrations::MigrationDirs;
use dbshift::{DbConfig, Error, Registry};

/// Asserts that `err` is `Error::Io` whose one-line message names `path`, whose cause is the OS
/// error of `kind`, and whose message says what was being read (`what`).
fn assert_io(err: &Error, path: &Path, what: &str, kind: ErrorKind) {
    let Error::Io { source, .. } = err else {
        panic!("expected Error::Io, got {err:?}");
    };
    assert_eq!(source.kind(), kind, "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("`{}", path.display())),
        "the message names the path `{}`: {message}",
        path.display()
    );
    assert!(message.contains(what), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    let cause = std::error::Error::source(err).expect("the OS error is the cause");
    assert_eq!(
        cause.downcast_ref::<std::io::Error>().map(|e| e.kind()),
        Some(kind)
    );
}

#[test]
fn a_config_file_that_does_not_exist_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let err = DbConfig::from_file(&path).unwrap_err();
    assert_io(&err, &path, "config file", ErrorKind::NotFound);
    // The documented loader takes the same path and gives the same error.
    let err = DbConfig::load(Some(&path)).unwrap_err();
    assert_io(&err, &path, "config file", ErrorKind::NotFound);
}

#[test]
fn a_config_path_that_is_a_directory_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = DbConfig::from_file(dir.path()).unwrap_err();
    assert_io(&err, dir.path(), "config file", ErrorKind::IsADirectory);
}

#[test]
fn a_missing_password_file_is_an_io_error_naming_it_and_no_connection_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("no-such-secret");
    let config_file = dir.path().join("dbshift.toml");
    std::fs::write(
        &config_file,
        format!(
            "url = \"postgres://app@127.0.0.1:1/app\"\npassword_file = \"{}\"\n",
            secret.display()
        ),
    )
    .unwrap();
    let config = DbConfig::from_file(&config_file).unwrap();
    let err = config.connect_url().unwrap_err();
    assert_io(&err, &secret, "password file", ErrorKind::NotFound);
}

#[test]
fn a_migrations_directory_that_does_not_exist_is_an_io_error_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("dbshift.toml");
    let database = dir.path().join("app.db");
    std::fs::write(
        &config_file,
        format!(
            "url = \"{}\"\n[migrations]\nsqlite = \"no_such_migrations\"\n",
            database.display()
        ),
    )
    .unwrap();
    let config = DbConfig::from_file(&config_file).unwrap();
    // Relative to the config file's folder, as documented: the message names that path.
    let missing = dir.path().join("no_such_migrations");
    let err = config.schema_migrations().unwrap_err();
    assert_io(&err, &missing, "migrations directory", ErrorKind::NotFound);
    // Connecting reads the directories first: the same error, and no database file is made.
    let err = Registry::with_defaults().connect(&config).unwrap_err();
    assert_io(&err, &missing, "migrations directory", ErrorKind::NotFound);
    assert!(!database.exists(), "no database file was created");
}

#[test]
fn a_migration_without_up_sql_is_an_io_error_naming_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(migrations.join("2024-01-01-000000_create_things")).unwrap();
    let mut config = DbConfig::sqlite(dir.path().join("app.db"));
    config.migrations = Some(MigrationDirs {
        sqlite: Some(migrations.clone()),
        postgres: None,
    });
    let err = config.schema_migrations().unwrap_err();
    assert_io(
        &err,
        &migrations,
        "`2024-01-01-000000_create_things/up.sql`",
        ErrorKind::NotFound,
    );
}
