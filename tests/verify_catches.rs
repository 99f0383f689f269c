//! What `dbshift verify` must catch: a target whose values differ from the source in the ways
//! a wrong conversion would make them differ (a zone, a unit, a boolean, a scale, a text), each
//! made by hand in the target after a correct transfer. Verification reads both databases on
//! its own; these tests check it is not fooled by a change that keeps counts and types.

use crate::support::{pg_db, run, sqlite_db};

#[test]
fn verify_catches_a_shifted_zone_a_wrong_unit_a_swapped_boolean_a_cent_and_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE event (
             id INTEGER PRIMARY KEY,
             at DATETIME NOT NULL,
             done BOOLEAN NOT NULL,
             millis INTEGER NOT NULL,
             price NUMERIC(10,2) NOT NULL,
             label TEXT NOT NULL
         );
         INSERT INTO event VALUES
             (1, '2024-03-01 12:00:00', 1, 1500, 9.99, 'Ärger'),
             (2, '2024-03-02 08:30:15.250', 0, 0, 0.5, 'plain'),
             (3, '1999-12-31 23:59:59', 1, -42, 1234.56, 'x');",
    );
    let src = source.path.display().to_string();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", "--quiet", &src, &target.url]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verified = |what: &str| {
        let output = run(dir.path(), &["verify", &src, &target.url]);
        (
            output.status.code(),
            format!("{what}: {}", String::from_utf8_lossy(&output.stdout)),
        )
    };
    let (code, text) = verified("as copied");
    assert_eq!(code, Some(0), "{text}");
    // Each change keeps the row count and the column types; each must be named.
    for (change, undo, column) in [
        (
            "UPDATE event SET at = at + interval '1 hour' WHERE id = 2",
            "UPDATE event SET at = at - interval '1 hour' WHERE id = 2",
            "at",
        ),
        (
            "UPDATE event SET millis = millis * 1000 WHERE id = 1",
            "UPDATE event SET millis = millis / 1000 WHERE id = 1",
            "millis",
        ),
        (
            "UPDATE event SET done = NOT done WHERE id = 3",
            "UPDATE event SET done = NOT done WHERE id = 3",
            "done",
        ),
        (
            "UPDATE event SET price = price + 0.01 WHERE id = 3",
            "UPDATE event SET price = price - 0.01 WHERE id = 3",
            "price",
        ),
        (
            "UPDATE event SET label = lower(label) WHERE id = 1",
            "UPDATE event SET label = 'Ärger' WHERE id = 1",
            "label",
        ),
    ] {
        target.exec(change);
        let (code, text) = verified(change);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("DIFFERS"), "{text}");
        assert!(
            text.contains(&format!("column {column}")),
            "the column is named: {text}"
        );
        target.exec(undo);
        let (code, text) = verified(undo);
        assert_eq!(code, Some(0), "{text}");
    }
}

#[test]
fn verify_catches_a_trigger_dropped_or_disabled_in_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         CREATE TABLE log (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5);
         CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (n) VALUES (NEW.n); END;",
    );
    let src = source.path.display().to_string();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", "--quiet", &src, &target.url]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let verify = || {
        let output = run(dir.path(), &["verify", &src, &target.url]);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).to_string(),
        )
    };
    let (code, text) = verify();
    assert_eq!(code, Some(0), "{text}");
    target.exec("ALTER TABLE t DISABLE TRIGGER t_log");
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not carried: trigger `t_log`"), "{text}");
    target.exec("ALTER TABLE t ENABLE TRIGGER t_log");
    assert_eq!(verify().0, Some(0));
    target.exec("DROP TRIGGER t_log ON t");
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not carried: trigger `t_log`"), "{text}");
}
