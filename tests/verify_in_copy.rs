//! Verification folded into the copy: `migrate` sums each table's rows as it sends them and
//! reads the table back as soon as its load commits, instead of reading both databases again at
//! the end. These tests check that the folded sums are the ones an independent `dbshift verify`
//! computes by reading both sides again, and that a target changed on its way in (a trigger of
//! the application's schema rewriting a value) is still caught and named.

use crate::support::{chinook, exits, pg_db, run, sqlite_db};

/// Each table's (source rows, source checksum, target checksum) in a JSON verification.
fn sums(verification: &serde_json::Value) -> Vec<(String, u64, String, String)> {
    let mut tables: Vec<_> = verification["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_string(),
                t["source_rows"].as_u64().unwrap(),
                t["source_checksum"].as_str().unwrap().to_string(),
                t["target_checksum"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    tables.sort();
    tables
}

#[test]
fn the_sums_taken_during_the_copy_are_those_a_separate_verify_reads() {
    // Also with the tables of more than 100 rows copied in parts, each part summed as it is
    // sent and read back as it commits.
    for split in ["0", "100"] {
        let dir = tempfile::tempdir().unwrap();
        let target = pg_db();
        let chinook = chinook();
        let migrated = run(
            dir.path(),
            &[
                "migrate",
                "--quiet",
                "--format",
                "json",
                "--split-rows",
                split,
                &chinook,
                &target.url,
            ],
        );
        exits(&migrated, 0);
        let report: serde_json::Value = serde_json::from_slice(&migrated.stdout).unwrap();
        let verified = run(
            dir.path(),
            &["verify", "--format", "json", &chinook, &target.url],
        );
        exits(&verified, 0);
        let separate: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
        let during = sums(&report["verification"]);
        assert_eq!(during.len(), 11, "{during:?}");
        assert_eq!(during, sums(&separate), "--split-rows {split}");
        // Not vacuous: the checksums are of the rows, not constants.
        assert!(during.iter().all(|(_, rows, source, target)| *rows > 0
            && source == target
            && source != "0".repeat(32).as_str()));
    }
}

#[test]
fn a_value_changed_on_its_way_into_the_target_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         INSERT INTO account VALUES (1, 'Ada@Example.org'), (2, 'bob@example.org'), (3, 'Cy@Example.org');",
    );
    let src = source.path.display().to_string();
    // The application's schema, made before the copy, rewrites emails as they arrive with a
    // trigger marked to fire always: the copy sent the source's values, and the target holds
    // others.
    let target = pg_db();
    target.exec(
        "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL);
         CREATE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
         CREATE TRIGGER lower_email BEFORE INSERT ON account
             FOR EACH ROW EXECUTE FUNCTION lower_email();
         -- ENABLE ALWAYS: the one kind of trigger a data-only copy lets fire.
         ALTER TABLE account ENABLE ALWAYS TRIGGER lower_email;",
    );
    let output = run(dir.path(), &["migrate", "--data-only", &src, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("column email"), "{text}");
    for id in ["id=1", "id=3"] {
        assert!(text.contains(id), "row {id} is named: {text}");
    }
    assert!(!text.contains("id=2"), "row 2 arrived unchanged: {text}");
}

#[test]
fn a_large_tables_read_back_in_two_halves_still_names_a_changed_row_in_either() {
    // Past 100,000 rows the read-back is split by key over two connections; a value changed
    // on its way in is found in the upper half as in the lower one.
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
         INSERT INTO big SELECT i, 'row ' || i FROM n;",
    );
    let src = source.path.display().to_string();
    let target = pg_db();
    target.exec(
        "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);
         CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN IF NEW.id IN (7, 119999) THEN NEW.payload := upper(NEW.payload); END IF; RETURN NEW; END $$;
         CREATE TRIGGER shout BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION shout();
         ALTER TABLE big ENABLE ALWAYS TRIGGER shout;",
    );
    let output = run(dir.path(), &["migrate", "--data-only", &src, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    for id in ["id=7", "id=119999"] {
        assert!(text.contains(id), "row {id} is named: {text}");
    }
    assert!(text.contains("column payload"), "{text}");
}

#[test]
fn a_table_copied_in_parts_still_has_a_changed_a_missing_and_an_extra_row_named() {
    // The table is created in a step of its own before its parts are copied; stopped right
    // there, a trigger is added that changes one row, drops another and adds two on the way
    // in (one inside a part that may already have been read back), and the resumed run's
    // verification (summed during the parts' copies, each part read back as it commits) must
    // name all four.
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO big SELECT i * 2, 'row ' || i FROM n;",
    );
    let src = source.path.display().to_string();
    let target = pg_db();
    let args = ["migrate", "--jobs", "2", "--split-rows", "1000"];
    let output = crate::support::dbshift(dir.path())
        .args(args)
        .args([&src, &target.url])
        .env("DBSHIFT_FAULT", "parts-created:big")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        None,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.exec(
        "CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.id = 4 THEN NEW.payload := 'changed'; END IF;
             IF NEW.id = 30000 THEN RETURN NULL; END IF;
             IF NEW.id = 39998 THEN
                 -- One above every key, one inside the first part's range.
                 INSERT INTO big VALUES (50001, 'extra'), (3, 'extra');
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER tamper BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION tamper();",
    );
    let mut resume = args.to_vec();
    resume.extend(["--resume", &src, &target.url]);
    let output = run(dir.path(), &resume);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    for id in ["id=4", "id=30000", "id=50001", "id=3"] {
        assert!(text.contains(id), "row {id} is named: {text}");
    }
    assert!(!text.contains("verification: ok"), "{text}");
}
