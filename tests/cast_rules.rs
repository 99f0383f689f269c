//! Every rule of the cast table, checked end to end against expectations written here by hand:
//! a SQLite column that the rule should decide, the rule the plan must name for it, and the
//! text `psql` must print for each of its values after `dbshift migrate`. Nothing here comes
//! from dbshift's own converters or verification. (The two `override.*` rules need a plan file
//! and are covered by the plan tests.)

use crate::support::independent::pg_rows;
use crate::support::{dbshift, pg_db, sqlite_db};

/// A column: its SQLite declaration, the SQL literals of rows 1 to 3 (`NULL` where it has none),
/// the rule that must choose its type, and what `psql` prints for rows 1 to 3.
struct Case {
    column: &'static str,
    declared: &'static str,
    values: [&'static str; 3],
    rule: &'static str,
    printed: [Option<&'static str>; 3],
}

const fn case(
    column: &'static str,
    declared: &'static str,
    values: [&'static str; 3],
    rule: &'static str,
    printed: [Option<&'static str>; 3],
) -> Case {
    Case {
        column,
        declared,
        values,
        rule,
        printed,
    }
}

const CASES: &[Case] = &[
    case(
        "e_int",
        "INTEGER",
        ["NULL", "NULL", "NULL"],
        "empty.declared",
        [None, None, None],
    ),
    case(
        "b",
        "BOOLEAN",
        ["1", "0", "'yes'"],
        "boolean.declared",
        [Some("t"), Some("f"), Some("t")],
    ),
    case(
        "is_active",
        "INTEGER",
        ["1", "0", "NULL"],
        "boolean.flag_name",
        [Some("t"), Some("f"), None],
    ),
    case(
        "created_at",
        "INTEGER",
        ["1700000000", "86400", "NULL"],
        "timestamp.epoch_seconds",
        [
            Some("2023-11-14 22:13:20+00"),
            Some("1970-01-02 00:00:00+00"),
            None,
        ],
    ),
    case(
        "updated_at",
        "INTEGER",
        ["1700000000123", "1000", "NULL"],
        "timestamp.epoch_milliseconds",
        [
            Some("2023-11-14 22:13:20.123+00"),
            Some("1970-01-01 00:00:01+00"),
            None,
        ],
    ),
    case(
        "born_at",
        "REAL",
        ["2460000.5", "2451545.0", "NULL"],
        "timestamp.julian_day",
        [
            Some("2023-02-25 00:00:00+00"),
            Some("2000-01-01 12:00:00+00"),
            None,
        ],
    ),
    case(
        "d",
        "TEXT",
        ["'2024-02-29'", "'0001-01-01'", "NULL"],
        "date.text",
        [Some("2024-02-29"), Some("0001-01-01"), None],
    ),
    case(
        "ts",
        "TEXT",
        [
            "'2024-03-01 12:00:00'",
            "'2024-03-01T12:00:00.5+02:00'",
            "'2024-03-01T00:00:00Z'",
        ],
        "timestamp.text",
        [
            Some("2024-03-01 12:00:00+00"),
            Some("2024-03-01 10:00:00.5+00"),
            Some("2024-03-01 00:00:00+00"),
        ],
    ),
    case(
        "t",
        "TIME",
        ["'12:30'", "'23:59:59.999999'", "NULL"],
        "time.text",
        [Some("12:30:00"), Some("23:59:59.999999"), None],
    ),
    case(
        "j",
        "JSON",
        ["'{\"a\":1}'", "'42'", "'\"s\"'"],
        "json.declared",
        [Some("{\"a\": 1}"), Some("42"), Some("\"s\"")],
    ),
    case(
        "jc",
        "TEXT CHECK (json_valid(jc))",
        ["'[1,2]'", "'null'", "'{}'"],
        "json.checked",
        [Some("[1, 2]"), Some("null"), Some("{}")],
    ),
    case(
        "metadata",
        "TEXT",
        ["'{\"k\":\"v\"}'", "'[]'", "NULL"],
        "json.name",
        [Some("{\"k\": \"v\"}"), Some("[]"), None],
    ),
    case(
        "u",
        "UUID",
        ["'123e4567-e89b-12d3-a456-426614174000'", "NULL", "NULL"],
        "uuid.declared",
        [Some("123e4567-e89b-12d3-a456-426614174000"), None, None],
    ),
    case(
        "s",
        "SMALLINT",
        ["32767", "-32768", "0"],
        "integer.smallint",
        [Some("32767"), Some("-32768"), Some("0")],
    ),
    case(
        "n",
        "INT",
        ["2147483647", "-2147483648", "NULL"],
        "integer.int4",
        [Some("2147483647"), Some("-2147483648"), None],
    ),
    case(
        "big",
        "INTEGER",
        ["9223372036854775807", "-9223372036854775808", "NULL"],
        "integer.bigint",
        [
            Some("9223372036854775807"),
            Some("-9223372036854775808"),
            None,
        ],
    ),
    case(
        "r",
        "REAL",
        ["0.1", "1e300", "-2.5"],
        "real.double",
        [Some("0.1"), Some("1e+300"), Some("-2.5")],
    ),
    case(
        "p",
        "DECIMAL(5,2)",
        ["123.45", "0.5", "NULL"],
        "numeric.precision",
        [Some("123.45"), Some("0.50"), None],
    ),
    case(
        "m",
        "MONEY",
        ["10", "2.5", "NULL"],
        "numeric.any",
        [Some("10"), Some("2.5"), None],
    ),
    case(
        "x",
        "",
        ["1", "2.5", "NULL"],
        "numbers.mixed",
        [Some("1"), Some("2.5"), None],
    ),
    case(
        "name",
        "VARCHAR(3)",
        ["'longer than 3'", "'émile'", "''"],
        "text.declared",
        [Some("longer than 3"), Some("émile"), Some("")],
    ),
    case(
        "bin",
        "BLOB",
        ["x'00ff'", "x''", "NULL"],
        "blob.declared",
        [Some("\\x00ff"), Some("\\x"), None],
    ),
    case(
        "flag",
        "BOOLEAN",
        ["0", "1", "2"],
        "widen.bigint",
        [Some("0"), Some("1"), Some("2")],
    ),
    case(
        "cnt",
        "INTEGER",
        ["1", "2.5", "NULL"],
        "widen.numeric",
        [Some("1"), Some("2.5"), None],
    ),
    case(
        "qty",
        "INTEGER",
        ["1", "'n/a'", "NULL"],
        "widen.text",
        [Some("1"), Some("n/a"), None],
    ),
    case(
        "mix",
        "BLOB",
        ["x'01'", "'a'", "NULL"],
        "widen.bytea",
        [Some("\\x01"), Some("\\x61"), None],
    ),
    case(
        "slot",
        "DATETIME UNIQUE",
        ["'2024-01-01T00:00:00Z'", "'2024-01-01 00:00:00'", "NULL"],
        "key.typed_collision",
        [
            Some("2024-01-01T00:00:00Z"),
            Some("2024-01-01 00:00:00"),
            None,
        ],
    ),
    case(
        "raw",
        "TEXT",
        ["CAST(x'61006200' AS TEXT)", "'plain'", "NULL"],
        "text.invalid_bytes",
        [Some("\\x61006200"), Some("\\x706c61696e"), None],
    ),
];

/// Rules whose case rejects rows by design, so it cannot share the one table above (where every
/// row must arrive): each has its own test, named here, that checks the rule and the values.
const COVERED_ELSEWHERE: &[(&str, &str)] = &[(
    "mixed.dominant",
    "meaning::values_of_different_storage_classes_never_arrive_equal",
)];
/// Columns of a source Django made (it has `django_migrations`): declarations Django writes for
/// one field only become the type Django creates on PostgreSQL.
const DJANGO_CASES: &[Case] = &[
    case(
        "ident",
        "char(32)",
        [
            "'0123456789abcdef0123456789abcdef'",
            "'ffffffffffffffffffffffffffffffff'",
            "NULL",
        ],
        "orm.convention",
        [
            Some("01234567-89ab-cdef-0123-456789abcdef"),
            Some("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            None,
        ],
    ),
    case(
        "ip",
        "char(39)",
        ["'192.168.0.1'", "'2001:db8::1'", "NULL"],
        "orm.convention",
        [Some("192.168.0.1"), Some("2001:db8::1"), None],
    ),
    case(
        "moment",
        "datetime",
        [
            "'2024-03-31 00:59:59.999999'",
            "'1970-01-01 00:00:00'",
            "NULL",
        ],
        "orm.convention",
        [
            Some("2024-03-31 00:59:59.999999+00"),
            Some("1970-01-01 00:00:00+00"),
            None,
        ],
    ),
    // One value that is not a UUID: the plan's own rules keep every value.
    case(
        "not_uuid",
        "char(32)",
        ["'0123456789abcdef0123456789abcdef'", "'n/a'", "NULL"],
        "text.declared",
        [Some("0123456789abcdef0123456789abcdef"), Some("n/a"), None],
    ),
];

#[test]
fn each_cast_rule_chooses_its_type_and_the_values_arrive_as_written_here() {
    check_cases(CASES, "");
}

#[test]
fn an_orms_declarations_become_the_type_it_creates() {
    check_cases(
        DJANGO_CASES,
        "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied DATETIME);",
    );
}

/// Plans and migrates a table `r` of `cases` (after `setup`), checking each column's rule and
/// what `psql` prints for its values.
fn check_cases(cases: &[Case], setup: &str) {
    let source = sqlite_db();
    let columns: Vec<String> = cases
        .iter()
        .map(|c| format!("{} {}", c.column, c.declared))
        .collect();
    let mut sql = format!(
        "{setup}CREATE TABLE r (id INTEGER PRIMARY KEY, {});",
        columns.join(", ")
    );
    for row in 0..3 {
        let values: Vec<&str> = cases.iter().map(|c| c.values[row]).collect();
        sql.push_str(&format!(
            "INSERT INTO r VALUES ({}, {});",
            row + 1,
            values.join(", ")
        ));
    }
    source.exec(&sql);
    let path = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();

    // The plan names the expected rule for every column.
    let output = dbshift(dir.path())
        .args(["--format", "json", "plan", &path])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rule_of = |column: &str| -> String {
        plan["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["column"] == column)
            .unwrap_or_else(|| panic!("no decision for `{column}`"))["rule"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let wrong: Vec<String> = cases
        .iter()
        .filter(|c| rule_of(c.column) != c.rule)
        .map(|c| format!("{}: {} instead of {}", c.column, rule_of(c.column), c.rule))
        .collect();
    assert!(wrong.is_empty(), "rules: {wrong:?}");

    // The rows arrive (rejected rows would make the exit code 1) with the values written here.
    let target = pg_db();
    let output = dbshift(dir.path())
        .args(["migrate", "--quiet", &path, &target.url])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut differences = Vec::new();
    for case in cases {
        let rows = pg_rows(
            &target.url,
            &format!("SELECT {} FROM r ORDER BY id", case.column),
        );
        let got: Vec<Option<String>> = rows.into_iter().map(|mut r| r.remove(0)).collect();
        let want: Vec<Option<String>> =
            case.printed.iter().map(|p| p.map(str::to_string)).collect();
        if got != want {
            differences.push(format!(
                "{} ({}): got {got:?}, want {want:?}",
                case.column, case.rule
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
}

#[test]
fn the_cases_cover_every_rule_but_the_overrides() {
    // Kept in step with the guide's cast table: a new rule needs a case here.
    let guide = include_str!("../docs/postgres_migration.md");
    let covered: std::collections::BTreeSet<&str> = CASES
        .iter()
        .chain(DJANGO_CASES)
        .map(|c| c.rule)
        .chain(COVERED_ELSEWHERE.iter().map(|(rule, _)| *rule))
        .collect();
    let mut missing = Vec::new();
    for line in guide.lines() {
        let Some(id) = line.strip_prefix("| `").and_then(|l| l.split('`').next()) else {
            continue;
        };
        let is_rule_id = id.split_once('.').is_some_and(|(a, b)| {
            [a, b].iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            })
        });
        if is_rule_id && !id.starts_with("override.") && !covered.contains(id) {
            missing.push(id.to_string());
        }
    }
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}

mod every_value_fits {
    //! The plan checks the data before anything is written: whatever a column holds, every
    //! value the profile saw goes through the converter of the type the plan chose, under
    //! whichever cast rule chose it. Columns are generated with the shapes the rules look for
    //! (flags, epochs, Julian days, ISO texts with and without offsets, JSON with lone
    //! surrogates, UUIDs, infinities, decimals) mixed with values that break them, planned from
    //! a real SQLite file, then each value is converted as the copier would convert it.

    use dbshift::transfer::load::values::{convert, Outcome, SrcValue};
    use dbshift::transfer::plan::{plan, PlanOptions};
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    use proptest::prelude::*;

    const DECLARED: &[&str] = &[
        "",
        "INTEGER",
        "INT",
        "SMALLINT",
        "BIGINT",
        "REAL",
        "DOUBLE",
        "NUMERIC(5,2)",
        "DECIMAL",
        "NUMERIC",
        "TEXT",
        "VARCHAR(3)",
        "BLOB",
        "BOOLEAN",
        "DATETIME",
        "TIMESTAMP",
        "DATE",
        "TIME",
        "JSON",
        "UUID",
        "MONEY",
    ];
    const NAMES: &[&str] = &["v", "is_active", "created_at", "data", "note", "amount"];

    fn value() -> impl Strategy<Value = SrcValue> {
        let texts = prop::sample::select(vec![
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05.123456Z",
            "2024-01-02 03:04:05+02:00",
            "2024-02-30",
            "2024-01-02",
            "12:30",
            "12:30:45.5",
            "t",
            "false",
            "yes",
            "1",
            "42",
            "1.50",
            "{\"a\": 1}",
            "[1, \"\\ud800\"]",
            "{\"a\": \"\\u0000\"}",
            "\"s\"",
            "null",
            "0d5b5f3a-3b9e-4a4f-9d5e-2f1c2b3a4d5e",
            "Ärger",
            "",
            " 7 ",
            "1e3",
            "NaN",
        ]);
        prop_oneof![
            Just(SrcValue::Null),
            prop::sample::select(vec![
                0i64,
                1,
                2,
                -1,
                32767,
                40000,
                1_700_000_000,
                1_700_000_000_123,
                i64::MAX,
                1 << 54
            ])
            .prop_map(SrcValue::Int),
            any::<i64>().prop_map(SrcValue::Int),
            prop::sample::select(vec![
                0.5,
                1.25,
                2460000.5,
                -3.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e300,
                123.456
            ])
            .prop_map(SrcValue::Float),
            texts.prop_map(|t| SrcValue::Text(t.as_bytes().to_vec())),
            ".{0,12}".prop_map(|t: String| SrcValue::Text(t.into_bytes())),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(SrcValue::Blob),
        ]
    }

    /// One column: its declared type, its name, and its values (all of one kind, or mixed).
    fn column() -> impl Strategy<Value = (&'static str, &'static str, Vec<SrcValue>)> {
        let same_kind = value().prop_flat_map(|v| {
            let first = v.clone();
            prop::collection::vec(value(), 0..3).prop_map(move |rest| {
                let mut values = vec![first.clone(); 3];
                values.extend(rest);
                values
            })
        });
        (
            prop::sample::select(DECLARED),
            prop::sample::select(NAMES),
            prop_oneof![same_kind, prop::collection::vec(value(), 1..6)],
        )
    }

    fn literal(value: &SrcValue) -> String {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        match value {
            SrcValue::Null => "NULL".into(),
            SrcValue::Int(i) => i.to_string(),
            SrcValue::Float(x) if x.is_infinite() => {
                if *x > 0.0 { "9e999" } else { "-9e999" }.into()
            }
            SrcValue::Float(x) => format!("{x:e}"),
            SrcValue::Text(b) => format!("CAST(x'{}' AS TEXT)", hex(b)),
            SrcValue::Blob(b) => format!("x'{}'", hex(b)),
        }
    }

    proptest! {
        // 96 cases by default (about 16 s); PROPTEST_CASES raises them for a longer run.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96),
            ..ProptestConfig::default()
        })]

        #[test]
        fn every_profiled_value_is_accepted_by_the_chosen_types_converter(
            columns in prop::collection::vec(column(), 1..6)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("gen.sqlite");
            let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            let defs: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, (declared, name, _))| format!("\"{name}_{i}\" {declared}"))
                .collect();
            let mut sql = format!("CREATE TABLE t (id INTEGER PRIMARY KEY, {});", defs.join(", "));
            let rows = columns.iter().map(|c| c.2.len()).max().unwrap_or(0);
            for row in 0..rows {
                let values: Vec<String> = columns
                    .iter()
                    .map(|c| c.2.get(row).map_or("NULL".into(), literal))
                    .collect();
                sql.push_str(&format!("INSERT INTO t VALUES ({}, {});", row + 1, values.join(", ")));
            }
            conn.batch_execute(&sql).unwrap();
            drop(conn);
            let plan = plan(&path, &PlanOptions::default()).unwrap();
            let table = plan.table("t").unwrap();
            for (i, (declared, name, _)) in columns.iter().enumerate() {
                let source = format!("{name}_{i}");
                let map = table.map.columns.iter().find(|c| c.source == source).unwrap();
                let decision = plan.decisions.iter().find(|d| d.column == source).unwrap();
                // The file holds what SQLite made of each literal (affinity applies).
                let stored = stored_values(&path, &source);
                // A column whose storage classes would collide keeps one class: the converter
                // refuses exactly the values of the others.
                let kept = map.conversion.map(|c| c.name()).and_then(|name| name.strip_suffix("_only"));
                for value in &stored {
                    let outcome = convert(value, map);
                    let class = match value {
                        SrcValue::Int(_) | SrcValue::Float(_) => Some("numbers"),
                        SrcValue::Text(_) => Some("text"),
                        SrcValue::Blob(_) => Some("blobs"),
                        SrcValue::Null => None,
                    };
                    let refused = matches!(outcome, Outcome::Reject(_));
                    let other_class = kept.is_some() && class.is_some() && class != kept;
                    prop_assert_eq!(
                        refused,
                        other_class,
                        "`{}` declared `{}` holding {:?}: rule {} chose {} and the converter gave {:?} for {:?}",
                        source, declared, stored, decision.rule, decision.chosen, outcome, value
                    );
                }
            }
        }
    }

    /// The values of `column` as SQLite stores them (after affinity), read through the shell's
    /// `quote()`, independent of dbshift's reader.
    fn stored_values(path: &std::path::Path, column: &str) -> Vec<SrcValue> {
        let rows = crate::support::independent::sqlite_rows(
            path,
            &format!("SELECT typeof(\"{column}\"), hex(\"{column}\"), quote(\"{column}\") FROM t ORDER BY id"),
        );
        rows.into_iter()
            .map(|row| {
                let cell = |i: usize| row[i].clone().unwrap_or_default();
                let bytes = (0..cell(1).len() / 2)
                    .map(|i| u8::from_str_radix(&cell(1)[2 * i..2 * i + 2], 16).unwrap())
                    .collect::<Vec<u8>>();
                match cell(0).as_str() {
                    "integer" => SrcValue::Int(cell(2).parse().unwrap()),
                    "real" => SrcValue::Float(match cell(2).as_str() {
                        "Inf" | "9.0e+999" => f64::INFINITY,
                        "-Inf" | "-9.0e+999" => f64::NEG_INFINITY,
                        other => other.parse().unwrap(),
                    }),
                    "text" => SrcValue::Text(bytes),
                    "blob" => SrcValue::Blob(bytes),
                    _ => SrcValue::Null,
                }
            })
            .collect()
    }
}
