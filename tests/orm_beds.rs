//! Applications as their ORM wrote them (issue 12): the ORM itself creates and fills a SQLite
//! database with edge values, creates its schema on PostgreSQL, `dbshift migrate --data-only`
//! copies, and the ORM reads every object back and compares it with what it read from SQLite
//! (same type, same value), answers typical queries the same, and gives a new object a fresh
//! id. The ORM is the independent truth: the beds under `tests/orm/` never ask dbshift.
//!
//! The beds need Python with the ORM and psycopg (`.ci/run` installs them); a missing package
//! is a loud failure with the install command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{dbshift, pg_db};

/// The bed's script under `tests/orm/`.
pub(crate) fn bed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/orm")
        .join(name)
        .join("bed.py")
}

/// Runs `python3 script ARGS`, failing loudly with the install command when a package is
/// missing.
pub(crate) fn python(script: &Path, args: &[&str]) -> Output {
    let output = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (apt-get install python3)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "the ORM test beds need Python packages: pip install 'Django>=5.2,<6' 'SQLAlchemy>=2' 'psycopg[binary]>=3.1' 'peewee>=4,<5' psycopg2-binary (bash .ci/run installs them)\n{stderr}"
    );
    output
}

pub(crate) fn succeeded(what: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A bed filled by its ORM: the SQLite file and what the ORM read back from it.
pub(crate) struct Filled {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) sqlite: PathBuf,
    pub(crate) expected: PathBuf,
}

pub(crate) fn fill(name: &str) -> Filled {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("app.sqlite");
    let expected = dir.path().join("expected.json");
    succeeded(
        &format!("{name}: filling SQLite"),
        &python(
            &bed(name),
            &["fill", sqlite.to_str().unwrap(), expected.to_str().unwrap()],
        ),
    );
    Filled {
        dir,
        sqlite,
        expected,
    }
}

fn migrate(filled: &Filled, url: &str, extra: &[&str]) -> Output {
    migrate_with(filled, url, &[&["--data-only"], extra].concat())
}

/// `dbshift migrate --quiet --format json ARGS SOURCE URL` from the bed's directory.
pub(crate) fn migrate_with(filled: &Filled, url: &str, args: &[&str]) -> Output {
    dbshift(filled.dir.path())
        .args(["migrate", "--quiet", "--format", "json"])
        .args(args)
        .arg(&filled.sqlite)
        .arg(url)
        .output()
        .unwrap()
}

/// The JSON report of a run that exited 0 (its output shown when it did not).
pub(crate) fn report(output: &Output) -> serde_json::Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Whether the installed Django supports the test server's PostgreSQL major (Django 5.2 needs
/// 14 or newer; `scripts/pg-majors.sh 13` runs the suite on 13). When it does not, the test
/// records a skipped check instead of passing.
pub(crate) fn django_supports_the_server(url: &str) -> bool {
    let minimum = python_line(
        "from django.db.backends.postgresql.features import DatabaseFeatures as F; print(F.minimum_database_version[0])",
    );
    let server: u32 =
        crate::support::independent::scalar(url, "SELECT current_setting('server_version_num')")
            .parse()
            .expect("a version number");
    let minimum: u32 = minimum.parse().expect("Django's minimum PostgreSQL major");
    if server / 10000 >= minimum {
        return true;
    }
    crate::support::skipped(&format!(
        "Django needs PostgreSQL {minimum} or newer; the server is {}",
        server / 10000
    ));
    false
}

fn python_line(code: &str) -> String {
    let output = Command::new("python3").args(["-c", code]).output().unwrap();
    succeeded(code, &output).trim().to_string()
}

/// The Python bed `name` creates its ORM's schema in the database at `url`.
fn bed_schema(name: &str, url: &str) {
    succeeded(
        &format!("{name}: creating the schema on PostgreSQL"),
        &python(&bed(name), &["schema", url]),
    );
}

/// The ORM's own schema on PostgreSQL, the copy, then the ORM's check of every object.
fn round_trip(name: &str, extra: &[&str]) -> serde_json::Value {
    let filled = fill(name);
    let target = pg_db();
    bed_schema(name, &target.url);
    let report = report(&migrate(&filled, &target.url, extra));
    assert_eq!(report["totals"]["rows_rejected"], 0, "{report:#}");
    assert_eq!(report["totals"]["values_repaired"], 0, "{report:#}");
    assert_eq!(report["verification"]["ok"], true, "{report:#}");
    let check = python(
        &bed(name),
        &["check", &target.url, filled.expected.to_str().unwrap()],
    );
    let stdout = succeeded(&format!("{name}: reading back through the ORM"), &check);
    assert!(stdout.contains("0 differences"), "{stdout}");
    report
}

fn notes(report: &serde_json::Value) -> String {
    report["notes"].to_string()
}

#[test]
fn django_reads_back_every_object_after_a_data_only_copy() {
    if !django_supports_the_server(&crate::support::server().url("postgres")) {
        return;
    }
    // Django's migrations fill `django_migrations` on PostgreSQL too: the copy replaces it.
    let report = round_trip("django", &["--if-exists", "truncate"]);
    let notes = notes(&report);
    assert!(
        notes.contains("ORM: django (found `django_migrations`)"),
        "{notes}"
    );
    assert!(
        notes.contains("`shop_item.took` (bigint on SQLite) into interval: django convention `microseconds_to_interval`"),
        "{notes}"
    );
}

#[test]
fn without_an_orm_a_number_into_an_interval_is_refused_and_nothing_changes() {
    let target = pg_db();
    if !django_supports_the_server(&target.url) {
        return;
    }
    let filled = fill("django");
    bed_schema("django", &target.url);
    let output = migrate(
        &filled,
        &target.url,
        // Django writes UTC; without an ORM that is said with the zone.
        &[
            "--if-exists",
            "truncate",
            "--orm",
            "none",
            "--source-timezone",
            "UTC",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("column `order.waited` holds numbers for interval")
            && stderr.contains("`microseconds_to_interval` or `seconds_to_interval` or"),
        "{stderr}"
    );
    // Django's own rows on the target (its migrations) are still there, untouched.
    let migrations =
        crate::cli_transfer::count(&target.url, "SELECT count(*) AS n FROM django_migrations");
    assert!(migrations > 0);
    assert_eq!(
        crate::cli_transfer::count(&target.url, "SELECT count(*) AS n FROM shop_item"),
        0
    );
    // The conversion named per column decides as the ORM would have.
    std::fs::write(
        filled.dir.path().join("columns.toml"),
        "[columns.\"order.waited\"]\nconversion = \"microseconds_to_interval\"\n[columns.\"shop_item.took\"]\nconversion = \"microseconds_to_interval\"\n",
    )
    .unwrap();
    let report = report(&migrate(
        &filled,
        &target.url,
        &[
            "--if-exists",
            "truncate",
            "--orm",
            "none",
            "--source-timezone",
            "UTC",
            "--plan",
            "columns.toml",
        ],
    ));
    assert!(notes(&report).contains("ORM: none (as asked)"));
    let check = python(
        &bed("django"),
        &["check", &target.url, filled.expected.to_str().unwrap()],
    );
    succeeded("django: reading back through the ORM", &check);
}

#[test]
fn sqlalchemy_reads_back_every_object_after_a_data_only_copy() {
    // SQLAlchemy without Alembic leaves no bookkeeping table: the ORM is named.
    let report = round_trip("sqlalchemy", &["--orm", "sqlalchemy"]);
    let notes = notes(&report);
    assert!(notes.contains("ORM: sqlalchemy (as asked)"), "{notes}");
    assert!(
        notes.contains("`item.took` (DATETIME on SQLite) into interval: sqlalchemy convention `datetime_since_epoch_to_interval`"),
        "{notes}"
    );
}

#[test]
fn sqlalchemy_intervals_are_not_guessed_without_the_orm() {
    let filled = fill("sqlalchemy");
    let target = pg_db();
    bed_schema("sqlalchemy", &target.url);
    // Sent as they are, PostgreSQL would refuse every interval and lose the rows with them.
    let output = migrate(&filled, &target.url, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("column `item.took` holds date/times for interval")
            && stderr.contains("`datetime_since_epoch_to_interval`"),
        "{stderr}"
    );
    for table in ["category", "item"] {
        assert_eq!(
            crate::cli_transfer::count(&target.url, &format!("SELECT count(*) AS n FROM {table}")),
            0
        );
    }
}

// --- ActiveRecord (Rails) -------------------------------------------------------------------

/// Runs `ruby tests/orm/rails/bed.rb ARGS`, failing loudly with the install command when
/// ActiveRecord or a database driver is missing.
fn ruby(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/orm/rails/bed.rb");
    // ActiveRecord reads DATABASE_URL on its own and would connect there (or refuse an empty
    // one) instead of to the database the bed names.
    let output = Command::new("ruby")
        .arg(script)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("ruby runs (apt-get install ruby-activerecord ruby-sqlite3 ruby-pg)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("LoadError"),
        "the Rails test bed needs ActiveRecord: apt-get install ruby-activerecord ruby-sqlite3 ruby-pg (bash .ci/run installs them)\n{stderr}"
    );
    output
}

/// The Rails bed filled by ActiveRecord on SQLite.
pub(crate) fn rails_fill() -> Filled {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("app.sqlite");
    let expected = dir.path().join("expected.json");
    succeeded(
        "rails: filling SQLite",
        &ruby(&["fill", sqlite.to_str().unwrap(), expected.to_str().unwrap()]),
    );
    Filled {
        dir,
        sqlite,
        expected,
    }
}

#[test]
fn rails_reads_back_every_object_after_a_data_only_copy() {
    let filled = rails_fill();
    let target = pg_db();
    succeeded(
        "rails: creating the schema on PostgreSQL",
        &ruby(&["schema", &target.url]),
    );
    // `ActiveRecord::Schema.define` fills `schema_migrations` and `ar_internal_metadata` on
    // PostgreSQL too: the copy replaces them.
    let report = report(&migrate(&filled, &target.url, &["--if-exists", "truncate"]));
    assert_eq!(report["totals"]["rows_rejected"], 0, "{report:#}");
    assert_eq!(report["totals"]["values_repaired"], 0, "{report:#}");
    assert_eq!(report["verification"]["ok"], true, "{report:#}");
    let notes = notes(&report);
    assert!(
        notes.contains("ORM: rails (found `schema_migrations` and `ar_internal_metadata`)"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "`items.clock` (time on SQLite) into time: rails convention `time_on_2000_01_01`"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("`items.wide` (decimal(20,6) on SQLite) into numeric(20,6): rails convention `active_model_decimal`"),
        "{notes}"
    );
    let check = ruby(&["check", &target.url, filled.expected.to_str().unwrap()]);
    let stdout = succeeded("rails: reading back through ActiveRecord", &check);
    assert!(stdout.contains("0 differences"), "{stdout}");
}

#[test]
fn rails_times_of_day_are_not_dropped_without_the_orm() {
    // Without the convention, ActiveRecord's `2000-01-01 HH:MM:SS` is no time of day: every
    // item is rejected (with its reason) rather than given a guessed time.
    let filled = rails_fill();
    let target = pg_db();
    succeeded(
        "rails: creating the schema on PostgreSQL",
        &ruby(&["schema", &target.url]),
    );
    // Without the ORM, its naive date/times going into timestamptz need a zone too (Rails
    // writes UTC); given, only the times of day are left to fail.
    let output = migrate(
        &filled,
        &target.url,
        &[
            "--if-exists",
            "truncate",
            "--orm",
            "none",
            "--source-timezone",
            "UTC",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        crate::cli_transfer::count(&target.url, "SELECT count(*) AS n FROM items"),
        0
    );
    let rejects = std::fs::read_dir(filled.dir.path().join("dbshift-rejects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("items-"))
        .expect("a reject file for `items`");
    let text = std::fs::read_to_string(rejects).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains(r#""column":"clock","reason":"not a time of day""#)),
        "{text}"
    );
}

// --- Peewee ---------------------------------------------------------------------------------

/// How many values the Peewee bed wrote that PostgreSQL cannot hold as Peewee created the
/// columns there (the bed's own list, from its `expected.json`).
fn peewee_unfaithful(filled: &Filled) -> usize {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&filled.expected).unwrap()).unwrap();
    expected["unfaithful"].as_array().expect("a list").len()
}

#[test]
fn peewee_reads_back_every_object_after_a_data_only_copy() {
    let filled = fill("peewee");
    let target = pg_db();
    bed_schema("peewee", &target.url);
    let output = migrate(&filled, &target.url, &["--orm", "peewee"]);
    // Rows were rejected: the run says so with exit code 1 and still reports in JSON.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Peewee checks the reject files itself: exactly its unfaithful values, by key and column.
    let rejects = filled.dir.path().join("dbshift-rejects");
    let check = python(
        &bed("peewee"),
        &[
            "check",
            &target.url,
            filled.expected.to_str().unwrap(),
            rejects.to_str().unwrap(),
        ],
    );
    let stdout = succeeded("peewee: reading back through the ORM", &check);
    assert!(stdout.contains("0 differences"), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let unfaithful = peewee_unfaithful(&filled);
    assert!(unfaithful > 0);
    assert_eq!(
        report["totals"]["rows_rejected"], unfaithful as u64,
        "{report:#}"
    );
    assert_eq!(report["totals"]["values_repaired"], 0, "{report:#}");
    let notes = notes(&report);
    assert!(notes.contains("ORM: peewee (as asked)"), "{notes}");
    for column in [
        "`item.approx` (REAL on SQLite) into real: peewee convention `float4_text`",
        "`item.moment` (DATETIME on SQLite) into timestamp: peewee convention `naive_only`",
    ] {
        assert!(notes.contains(column), "{notes}");
    }
}

#[test]
fn peewee_floats_and_aware_datetimes_need_the_orm_named() {
    // Peewee keeps no bookkeeping table: without `--orm peewee` no convention applies.
    let filled = fill("peewee");
    let target = pg_db();
    bed_schema("peewee", &target.url);
    // Aware date/times into a `timestamp`: moving them to UTC would give Peewee back naive
    // times, so nothing is written until each such column is given a conversion (or the ORM).
    let output = migrate(&filled, &target.url, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("holds date/time texts with a UTC offset for timestamp")
            && stderr.contains("--orm NAME"),
        "{stderr}"
    );
    assert_eq!(
        crate::support::independent::pg_rows(&target.url, "SELECT count(*) FROM item"),
        [[Some("0".to_string())]],
        "written before refusing"
    );
    // Given `naive_only` column by column, as the error asks, the copy runs; only the floats
    // still show what not naming the ORM costs.
    let plan = filled.dir.path().join("offsets.toml");
    let mut settings = String::new();
    let mut output = output;
    loop {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let Some(column) = stderr
            .split_once("column `")
            .and_then(|(_, rest)| rest.split_once("` holds date/time texts with a UTC offset"))
            .map(|(column, _)| column.to_string())
        else {
            break;
        };
        assert!(!settings.contains(&column), "{stderr}");
        settings.push_str(&format!(
            "[columns.\"{column}\"]\nconversion = \"naive_only\"\n"
        ));
        std::fs::write(&plan, &settings).unwrap();
        output = migrate(&filled, &target.url, &["--plan", plan.to_str().unwrap()]);
    }
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        notes(&report).contains("ORM: none found"),
        "{}",
        notes(&report)
    );
    let rejects = filled.dir.path().join("dbshift-rejects");
    let check = python(
        &bed("peewee"),
        &[
            "check",
            &target.url,
            filled.expected.to_str().unwrap(),
            rejects.to_str().unwrap(),
        ],
    );
    assert_eq!(check.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&check.stdout);
    // 0.1 is no float4 exactly, yet Peewee reads it back as 0.1: the item is lost for nothing.
    assert!(
        stdout.contains(r#"rejected but faithful: ('item', '{"id": 1}', 'approx', 'rejected')"#),
        "{stdout}"
    );
    // The aware date/time is rejected and listed, as the bed expects, not moved to UTC.
    assert!(
        !stdout.lines().any(|line| line.contains("'moment'")
            && (line.contains("not in the reject files")
                || line.contains("rejected but faithful"))),
        "{stdout}"
    );
}
