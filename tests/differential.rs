//! The differential harness: every SQLite expression below goes through dbshift's own
//! translator (`plan::ddl::translate`, `translate_condition`, the same functions the plan uses
//! for CHECKs, defaults, generated columns, index expressions and view bodies) and is evaluated
//! on both databases over the same generated inputs (NULL, zero, negatives, the 64-bit limits,
//! huge and tiny reals, non-ASCII and mixed-case text, dates). The results are read back through
//! dbshift's `Backend`, as the application would read them, and must be equal row by row. An
//! expression that cannot keep its meaning must come back as an `Err` (flagged for review),
//! never as SQL that computes something else.

use dbshift::transfer::model::PgType;
use dbshift::transfer::plan::ddl::{
    translate, translate_condition, Scope, ScopeColumn, ScopeRelation,
};
use dbshift::{Backend, Value};

use crate::support::{backend, Kind, TestDb};

/// The integers, reals, texts and dates the inputs are drawn from.
const INTEGERS: &[Option<i64>] = &[
    None,
    Some(0),
    Some(1),
    Some(-1),
    Some(7),
    Some(-7),
    Some(3),
    Some(i64::MAX),
    Some(i64::MIN),
    Some(1000),
];
const REALS: &[Option<f64>] = &[
    None,
    Some(0.0),
    Some(2.7),
    Some(-2.7),
    Some(0.5),
    Some(-0.5),
    Some(1e300),
    Some(-1e300),
    Some(1e-300),
    Some(3.0),
    Some(9.3e18),
    Some(-9.3e18),
];
const TEXTS: &[Option<&str>] = &[
    None,
    Some(""),
    Some("abc"),
    Some("ABC"),
    Some("émile"),
    Some("ÉMILE"),
    Some("Ärger"),
    Some("ärger"),
    Some("a%b_c"),
    Some("a\\b"),
    Some("Mixed Case"),
    Some("  padded  "),
    Some("12"),
    Some("2.5"),
    Some("日本語テキスト"),
];
const DATES: &[Option<&str>] = &[
    None,
    Some("2024-01-05"),
    Some("2024-02-29 13:45:10"),
    Some("1970-01-01T00:00:00"),
    Some("not a date"),
    Some("2023-02-28 23:59:59.999"),
    Some("1969-12-31 12:00"),
    Some("2024-13-01"),
    Some("0999-05-06 07:08:09.5"),
    Some("2024-01-31T06:30:45.125"),
    Some("2024-02-29 13:61:00"),
];
/// Reals where rounding half away from zero, half to even and decimal printing part ways.
const ROUNDING: &[Option<f64>] = &[
    None,
    Some(2.675),
    Some(1.005),
    Some(-2.5),
    Some(0.125),
    Some(2.5),
    Some(-0.001),
    Some(1234.5678),
    Some(0.045),
    Some(-3.5),
    Some(1e15 + 0.5),
    Some(-0.5),
    Some(99.995),
];
const ROWS: usize = 90;

/// The columns every expression may use, and their PostgreSQL types.
const COLUMNS: &[(&str, PgType)] = &[
    ("a", PgType::BigInt),
    ("b", PgType::BigInt),
    ("x", PgType::Double),
    ("t", PgType::Text),
    ("u", PgType::Text),
    ("d", PgType::Text),
    ("r", PgType::Double),
];

/// Expressions that must translate and agree on every input.
const AGREE: &[&str] = &[
    // Arithmetic, division by zero and integer division.
    "a / b",
    "a % b",
    "x / b",
    "a / 0",
    "7 / 2",
    "-7 / 2",
    "a / (b - 1)",
    "a / -b",
    "(a / b) / b",
    "a / abs(b)",
    "x * 2",
    "a - b / 2",
    // substr with zero, negative and column starts.
    "substr(t, -2)",
    "substr(t, -3, 2)",
    "substr(t, -40, 3)",
    "substr(t, 0)",
    "substr(t, 0, 2)",
    "substr(t, 2, 3)",
    "substr(t, 1, 0)",
    // A start computed by the expression; starts beyond ±2^31 are not compared (SQLite's own
    // arithmetic wraps there, PostgreSQL's start is a 32-bit integer).
    "substr(t, b % 20)",
    "substr(t, b % 20, 2)",
    "substring(u, 2)",
    // Case folding: ASCII only in SQLite.
    "upper(t)",
    "lower(t)",
    "lower(upper(u))",
    // CAST truncates and saturates.
    "CAST(x AS INTEGER)",
    "CAST(a AS INTEGER)",
    "CAST(2.7 AS INTEGER)",
    "CAST(-2.7 AS INTEGER)",
    "CAST(a AS TEXT)",
    "CAST(a AS REAL)",
    "CAST(x AS REAL)",
    "CAST(x / 2 AS INTEGER)",
    // Conditionals and NULL handling.
    "iif(a > b, t, u)",
    "iif(a IS NULL, 'none', t)",
    "ifnull(t, 'default')",
    "coalesce(a, b, 0)",
    "coalesce(t, u)",
    "nullif(a, b)",
    "min(a, b)",
    "max(a, b, 0)",
    "min(t, u)",
    "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END",
    // Concatenation with NULL.
    "t || u",
    "t || 'x'",
    "t || a",
    // LIKE (ASCII case only, no default escape) and GLOB (case-sensitive).
    "t LIKE 'a%'",
    "t LIKE '%É%'",
    "t LIKE u",
    "t NOT LIKE '_b%'",
    "t LIKE 'a\\%'",
    "t LIKE 'a!%%' ESCAPE '!'",
    "t GLOB 'a*'",
    "t GLOB '*?'",
    "t NOT GLOB '*É*'",
    "t GLOB 'a%b*'",
    // Comparisons and other functions.
    "a = b",
    "a IS b",
    "a IS NOT b",
    "t = u",
    "x > 0.5",
    "a BETWEEN b AND 10",
    "t IN ('abc', 'ÉMILE')",
    "abs(a)",
    "length(t)",
    "instr(t, 'a')",
    "replace(t, 'a', 'Z')",
    "trim(t)",
    "ltrim(t, ' a')",
    // Constant expressions.
    "1 + 1",
    "'a' || 'b'",
    "0x10 + 1",
    "x'00ff'",
    // round: half away from zero, a real even for an integer.
    "round(x)",
    "round(x, 0)",
    "round(a)",
    "round(r)",
    "round(-r)",
    "round(r, 1)",
    "round(r, 2)",
    "round(x, 2)",
    "round(2.5)",
    // typeof where the type decides it.
    "typeof(a)",
    "typeof(1.5)",
    "typeof('a')",
    "typeof(NULL)",
    "typeof(x'00')",
    // printf / format: %d %s %x %.Nf %%, NULL as 0 or nothing.
    "printf('%d', a)",
    "printf('%s-%s!', t, a)",
    "printf('%x', a)",
    "printf('%.2f', r)",
    "printf('%.1f', x)",
    "printf('%.3f', -r)",
    "printf('%d%%', b)",
    "format('<%s>', u)",
    "printf('plain')",
    // Date functions over text: SQLite's own instant (day overflow counted on), modifiers,
    // and NULL for text that is no date.
    "date(d)",
    "time(d)",
    "datetime(d)",
    "julianday(d)",
    "datetime(d, '+1 day')",
    "datetime(d, '-36 hours', '+90 minutes', '+30 seconds')",
    "date(d, 'start of month')",
    "date(d, 'start of year')",
    "datetime(d, 'start of day')",
    "date(d, '+1 month')",
    "date(d, '-13 months')",
    "date(d, '+1 year')",
    "date(d, 'start of month', '+1 month', '-1 day')",
    "strftime('%Y', d)",
    "strftime('%Y-%m-%dT%H:%M:%f', d)",
    "strftime('%s', d)",
    "strftime('%j %w %%', d)",
    "strftime('no fields', d)",
    "date(d, '+2 years', '-1 month')",
];

/// Expressions SQLite computes in a way the translation does not reproduce: each must be an
/// `Err` (the plan flags it with its SQL), never a translation.
const FLAGGED: &[&str] = &[
    "printf('%5d', a)",
    "printf('%s', x)",
    "printf('%d', t)",
    "printf('%.2f', a)",
    "printf(t, a)",
    "strftime('%Y', 'now')",
    "date('now')",
    "datetime(d, 'localtime')",
    "datetime(d, 'unixepoch')",
    "julianday(a)",
    "date(d, '+1.5 days')",
    "strftime('%A', d)",
    "date('2024-02-29', '+1 year')",
    "json_extract(t, '$.a')",
    "typeof(x)",
    "typeof(t)",
    "t GLOB '[a-c]*'",
    "substr(t, 1, a)",
    "CAST(t AS INTEGER)",
    "CAST(x AS TEXT)",
    "x || t",
    "t REGEXP 'a'",
    "round(t)",
    "round(x, a)",
    "t LIKE u || '%'",
    "x % 2",
];

/// View bodies, compared as row multisets; `group_concat`'s order is unspecified in both, so
/// its pieces are compared sorted.
const QUERIES: &[&str] = &[
    "SELECT b, group_concat(t, '|') AS g FROM inputs GROUP BY b",
    "SELECT b, group_concat(a) AS g, count(*) AS n FROM inputs WHERE a IS NOT NULL GROUP BY b",
    "SELECT upper(t) AS up, count(*) AS n FROM inputs GROUP BY upper(t)",
    "SELECT id FROM inputs WHERE t LIKE '%a%' AND a / b > 0",
    "SELECT min(a, b) AS m FROM inputs",
];

fn scope(query: bool) -> Scope {
    Scope {
        columns: COLUMNS
            .iter()
            .map(|(name, pg_type)| ScopeColumn {
                source: name.to_string(),
                target: name.to_string(),
                pg_type: pg_type.clone(),
                comparable: true,
            })
            .collect(),
        relations: vec![ScopeRelation {
            source: "inputs".into(),
            target: "inputs".into(),
        }],
        schema: "public".into(),
        keep_case: false,
        query,
        wanted: Default::default(),
    }
}

/// A value as the application reads it, for comparison. A PostgreSQL boolean reads as SQLite's
/// 0/1; everything else keeps its kind.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Error,
}

fn read(value: &Value) -> Read {
    match value {
        Value::Null => Read::Null,
        Value::Bool(b) => Read::Int(i64::from(*b)),
        Value::Int(i) => Read::Int(*i),
        Value::Float(f) => Read::Real(*f),
        Value::Text(t) => Read::Text(t.clone()),
        Value::Bytes(b) => Read::Bytes(b.clone()),
        other => Read::Text(format!("{other:?}")),
    }
}

fn same(a: &Read, b: &Read) -> bool {
    match (a, b) {
        (Read::Real(x), Read::Real(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// Both databases with the same `inputs` table and rows.
struct Pair {
    sqlite: TestDb,
    postgres: TestDb,
}

fn inputs() -> Pair {
    let sqlite = backend(Kind::Sqlite);
    let postgres = backend(Kind::Postgres);
    sqlite
        .batch_execute(
            "CREATE TABLE inputs (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, x REAL, t TEXT, u TEXT, d TEXT, r REAL)",
        )
        .unwrap();
    postgres
        .batch_execute(
            "CREATE TABLE inputs (id bigint PRIMARY KEY, a bigint, b bigint, x double precision, t text, u text, d text, r double precision)",
        )
        .unwrap();
    for row in 0..ROWS {
        let pick = |n: usize, stride: usize, offset: usize| (row * stride + offset) % n;
        let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        let text = |v: Option<&str>| v.map_or(Value::Null, |t| Value::Text(t.into()));
        let values = [
            Value::Int(row as i64),
            int(INTEGERS[pick(INTEGERS.len(), 1, 0)]),
            int(INTEGERS[pick(INTEGERS.len(), 3, 1)]),
            REALS[pick(REALS.len(), 5, 2)].map_or(Value::Null, Value::Float),
            text(TEXTS[pick(TEXTS.len(), 1, 0)]),
            text(TEXTS[pick(TEXTS.len(), 7, 3)]),
            text(DATES[pick(DATES.len(), 1, 0)]),
            ROUNDING[pick(ROUNDING.len(), 1, 0)].map_or(Value::Null, Value::Float),
        ];
        for db in [&sqlite, &postgres] {
            db.execute(
                "INSERT INTO inputs (id, a, b, x, t, u, d, r) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &values,
            )
            .unwrap();
        }
    }
    Pair { sqlite, postgres }
}

/// Every row's value of `expression` on one side: one query, or row by row when it fails, so
/// a refused row reads as an error and the others still compare.
fn evaluate(db: &dyn Backend, expression: &str) -> Vec<Read> {
    let all = format!("SELECT {expression} FROM inputs ORDER BY id");
    if let Ok(rows) = db.query(&all, &[]) {
        return rows.iter().map(|r| read(&r.values()[0])).collect();
    }
    (0..ROWS)
        .map(|id| {
            let one = format!("SELECT {expression} FROM inputs WHERE id = {id}");
            match db.query(&one, &[]) {
                Ok(rows) => read(&rows[0].values()[0]),
                Err(_) => Read::Error,
            }
        })
        .collect()
}

/// Whether a row holds an integer at the 64-bit limits or a real beyond them, where SQLite's
/// integer arithmetic overflows into reals.
fn at_the_limits(db: &dyn Backend, id: usize) -> bool {
    let sql = format!(
        "SELECT count(*) FROM inputs WHERE id = {id} AND (a IN ({min}, {max}) OR b IN ({min}, {max}) OR abs(x) >= 9.2e18)",
        min = i64::MIN,
        max = i64::MAX
    );
    matches!(db.query(&sql, &[]).unwrap()[0].values()[0], Value::Int(1))
}

fn input_row(db: &dyn Backend, id: usize) -> String {
    let rows = db
        .query(
            &format!("SELECT a, b, x, t, u, d FROM inputs WHERE id = {id}"),
            &[],
        )
        .unwrap();
    format!("{:?}", rows[0].values())
}

#[test]
fn translated_expressions_agree_with_sqlite_on_every_input() {
    let pair = inputs();
    let scope = scope(false);
    let mut differences = Vec::new();
    let mut compared = 0usize;
    let mut refused = 0usize;
    for sqlite_sql in AGREE {
        let pg_sql = match translate(sqlite_sql, &scope) {
            Ok(sql) => sql,
            Err(why) => {
                differences.push(format!("`{sqlite_sql}` was not translated: {why}"));
                continue;
            }
        };
        let expected = evaluate(&*pair.sqlite, sqlite_sql);
        let got = evaluate(&*pair.postgres, &pg_sql);
        for (id, (e, g)) in expected.iter().zip(&got).enumerate() {
            compared += 1;
            if *g == Read::Error && *e != Read::Error && at_the_limits(&*pair.sqlite, id) {
                // SQLite turns an integer overflow into a real; PostgreSQL refuses the row,
                // which the transfer rejects and reports: loud, not silent.
                refused += 1;
                continue;
            }
            if !same(e, g) {
                differences.push(format!(
                    "`{sqlite_sql}` as `{pg_sql}` on {}: SQLite {e:?}, PostgreSQL {g:?}",
                    input_row(&*pair.sqlite, id)
                ));
            }
        }
    }
    eprintln!(
        "differential: {} expressions over {ROWS} input rows, {compared} values compared, {refused} refused by PostgreSQL on 64-bit overflow, {} flagged",
        AGREE.len(),
        FLAGGED.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn conditions_agree_as_checks_and_partial_index_filters() {
    let pair = inputs();
    let scope = scope(false);
    let conditions = AGREE
        .iter()
        .filter_map(|e| translate_condition(e, &scope).ok().map(|pg| (e, pg)));
    let mut n = 0;
    for (sqlite_sql, pg_sql) in conditions {
        n += 1;
        // A CHECK passes on NULL or true, as a partial index keeps rows where it is true.
        let check = |sql: &str| {
            format!(
                "CASE WHEN ({sql}) IS NULL THEN 'null' WHEN ({sql}) THEN 'true' ELSE 'false' END"
            )
        };
        assert_eq!(
            evaluate(&*pair.sqlite, &check(sqlite_sql)),
            evaluate(&*pair.postgres, &check(&pg_sql)),
            "`{sqlite_sql}` as `{pg_sql}`"
        );
    }
    assert!(n >= 15, "only {n} conditions translated");
}

#[test]
fn what_cannot_keep_its_meaning_is_flagged_not_translated() {
    let scope = scope(false);
    let translated: Vec<String> = FLAGGED
        .iter()
        .filter_map(|e| {
            translate(e, &scope)
                .ok()
                .map(|pg| format!("`{e}` became `{pg}`"))
        })
        .collect();
    assert!(translated.is_empty(), "{}", translated.join("\n"));
}

#[test]
fn generated_column_and_index_translations_are_immutable_in_postgresql() {
    let pair = inputs();
    let scope = scope(false);
    // An empty table of the same shape: an index is refused for an expression that is not
    // immutable, not for a value of the inputs.
    pair.postgres
        .batch_execute("CREATE TABLE shape (LIKE inputs)")
        .unwrap();
    let mut refused = Vec::new();
    for (n, sqlite_sql) in AGREE.iter().enumerate() {
        let pg_sql = translate(sqlite_sql, &scope).unwrap();
        // PostgreSQL keeps an index's expression tree in a catalog row without TOAST, so a
        // long one (the date functions) is checked as a generated column, which must be
        // immutable too.
        let index = if pg_sql.len() < 1500 {
            format!("CREATE INDEX i{n} ON shape (({pg_sql}))")
        } else {
            format!("ALTER TABLE shape ADD COLUMN g{n} text GENERATED ALWAYS AS (CAST(({pg_sql}) AS text)) STORED")
        };
        if let Err(e) = pair.postgres.batch_execute(&index) {
            refused.push(format!("`{pg_sql}`: {e}"));
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn view_bodies_return_the_same_rows() {
    let pair = inputs();
    let scope = scope(true);
    let sorted_rows = |db: &dyn Backend, sql: &str| {
        let mut rows: Vec<String> = db
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
            .iter()
            .map(|r| {
                let cells: Vec<String> = r
                    .values()
                    .iter()
                    .map(|v| match read(v) {
                        // group_concat's order is unspecified on both sides.
                        Read::Text(t) if t.contains(['|', ',']) => {
                            let mut pieces: Vec<&str> = t.split(['|', ',']).collect();
                            pieces.sort();
                            format!("{pieces:?}")
                        }
                        other => format!("{other:?}"),
                    })
                    .collect();
                cells.join(" ; ")
            })
            .collect();
        rows.sort();
        rows
    };
    for sqlite_sql in QUERIES {
        let pg_sql = translate(sqlite_sql, &scope).unwrap_or_else(|e| panic!("{sqlite_sql}: {e}"));
        assert_eq!(
            sorted_rows(&*pair.sqlite, sqlite_sql),
            sorted_rows(&*pair.postgres, &pg_sql),
            "`{sqlite_sql}` as `{pg_sql}`"
        );
    }
}

/// Constant DEFAULT expressions: SQLite evaluates them when a row takes the default and
/// stores the result under the column's affinity. Each is translated for its column's type
/// and the row a plain insert gets is compared on both databases.
const DEFAULTS: &[(&str, &str, PgType)] = &[
    ("1 + 1", "INTEGER", PgType::BigInt),
    ("'a' || 'b'", "TEXT", PgType::Text),
    ("0x1F", "INTEGER", PgType::BigInt),
    ("-0x10", "INTEGER", PgType::BigInt),
    ("(2 * (3 + 4)) % 5", "INTEGER", PgType::BigInt),
    ("-7 / 2", "INTEGER", PgType::BigInt),
    ("10 - 3 * 2", "INTEGER", PgType::BigInt),
    ("1 || 2", "INTEGER", PgType::BigInt),
    ("1 + 1", "TEXT", PgType::Text),
    ("'x' || 2 || 'y'", "TEXT", PgType::Text),
    ("X'00ff'", "BLOB", PgType::Bytea),
    ("0x7FFFFFFFFFFFFFFF", "INTEGER", PgType::BigInt),
    ("(('é'))", "TEXT", PgType::Text),
];

#[test]
fn constant_defaults_give_the_same_row() {
    use dbshift::transfer::plan::ddl::{translate_default, DefaultSql};
    let sqlite = backend(Kind::Sqlite);
    let postgres = backend(Kind::Postgres);
    let mut differences = Vec::new();
    for (n, (expression, declared, pg_type)) in DEFAULTS.iter().enumerate() {
        let pg_default = match translate_default(expression, pg_type, None) {
            DefaultSql::Sql(sql) => sql,
            other => {
                differences.push(format!("`{expression}` was not translated: {other:?}"));
                continue;
            }
        };
        sqlite
            .batch_execute(&format!(
                "CREATE TABLE d{n} (id INTEGER PRIMARY KEY, v {declared} DEFAULT ({expression})); INSERT INTO d{n} (id) VALUES (1)"
            ))
            .unwrap();
        postgres
            .batch_execute(&format!(
                "CREATE TABLE d{n} (id bigint PRIMARY KEY, v {} DEFAULT {pg_default}); INSERT INTO d{n} (id) VALUES (1)",
                pg_type.sql()
            ))
            .unwrap_or_else(|e| panic!("`{expression}` as `{pg_default}`: {e}"));
        let read = format!("SELECT v FROM d{n}");
        let expected = evaluate_rows(&*sqlite, &read);
        let got = evaluate_rows(&*postgres, &read);
        if expected != got {
            differences.push(format!(
                "`{expression}` as `{pg_default}`: SQLite {expected:?}, PostgreSQL {got:?}"
            ));
        }
    }
    eprintln!("differential: {} constant defaults", DEFAULTS.len());
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // What SQLite computes from reals or text arithmetic is flagged, not guessed.
    for flagged in ["1.5 * 2", "'a' + 1", "1 / 0", "9223372036854775807 + 1"] {
        assert!(
            matches!(
                translate_default(flagged, &PgType::BigInt, None),
                DefaultSql::Flagged(_)
            ),
            "{flagged}"
        );
    }
}

fn evaluate_rows(db: &dyn Backend, sql: &str) -> Vec<Read> {
    db.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| read(&r.values()[0]))
        .collect()
}

#[test]
fn a_generated_column_reading_another_is_inlined_and_computes_the_same() {
    use crate::support::independent::{pg_rows, sqlite_rows};
    use crate::support::{exits, pg_db, run, sqlite_db};
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER,
             g1 INTEGER GENERATED ALWAYS AS (a * 2) STORED,
             g2 INTEGER GENERATED ALWAYS AS (g1 + b) VIRTUAL,
             g3 INTEGER GENERATED ALWAYS AS (g2 / (g1 - 4)) STORED);
         INSERT INTO t (id, a, b) VALUES (1, 1, 1), (2, 2, 5), (3, NULL, 1), (4, -3, 0), (5, 7, -2);",
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    let read = "SELECT id, g1, g2, g3 FROM t ORDER BY id";
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
    // PostgreSQL computes them: a new row gets SQLite's values.
    target.exec("INSERT INTO t (id, a, b) VALUES (6, 3, 4)");
    source.exec("INSERT INTO t (id, a, b) VALUES (6, 3, 4)");
    assert_eq!(pg_rows(&target.url, read), sqlite_rows(&source.path, read));
}

#[test]
fn date_forms_sqlite_reads_otherwise_fail_loudly_in_postgresql() {
    let postgres = backend(Kind::Postgres);
    let scope = scope(false);
    let pg_sql = translate("datetime(d)", &scope).unwrap();
    postgres
        .batch_execute("CREATE TABLE dates (d text)")
        .unwrap();
    // A zone suffix, a day past the month's end, four fractional digits, a Julian day: SQLite
    // gives a value the translation would not, so PostgreSQL refuses the row.
    for form in [
        "2024-01-05T10:00:00Z",
        "2023-02-30",
        "2024-01-05 10:00:00.1234",
        "2460000.5",
        "10:00",
        "now",
    ] {
        postgres.batch_execute("DELETE FROM dates").unwrap();
        postgres
            .execute("INSERT INTO dates VALUES ($1)", &[Value::Text(form.into())])
            .unwrap();
        let result = postgres.query(&format!("SELECT {pg_sql} FROM dates"), &[]);
        assert!(result.is_err(), "{form}: {result:?}");
    }
    // Text SQLite reads as no date is NULL on both sides.
    postgres.batch_execute("DELETE FROM dates").unwrap();
    postgres
        .execute("INSERT INTO dates VALUES ('not a date')", &[])
        .unwrap();
    let rows = postgres
        .query(&format!("SELECT {pg_sql} FROM dates"), &[])
        .unwrap();
    assert_eq!(rows[0].values()[0], Value::Null);
}

/// JSON documents for `json_extract`: every JSON type at the same paths, a missing path, a
/// document that is JSON `null`, an array, numbers written in several ways, non-ASCII text.
const DOCUMENTS: &[Option<&str>] = &[
    None,
    Some(
        r#"{"s":"abc","n":5,"r":2.5,"b":true,"z":null,"o":{"k":"v"},"l":["a","b"],"odd key":"x","big":12345678901234567890}"#,
    ),
    Some(r#"{"s":"ÉMILE","n":-3,"r":-0.5,"b":false,"l":[1,2,3],"o":{"k":"w","n":7}}"#),
    Some(r#"{"s":"12","n":0,"r":100,"o":{"k":null}}"#),
    Some(r#"{"n":"5","s":7,"r":"x","b":1}"#),
    Some(r#"{}"#),
    Some(r#"null"#),
    Some(r#"[1,2]"#),
    Some(r#"{"s":"a\"q\u00e9","n":9223372036854775807,"r":1.0}"#),
    Some(r#"{"s":"","n":1.0,"r":3.0,"b":null}"#),
    Some(r#"{"n":true,"s":"Mixed Case ünï","r":-0}"#),
    Some(r#"{"s":"a%b","n":-9223372036854775808,"r":1e-3,"o":[]}"#),
    Some(r#"{"n":2.0,"r":1e2,"s":"  padded "}"#),
];

/// `json_extract` where its place decides its type: compared with a literal, inside a text
/// function, `||`, `LIKE`, `CAST`, `IS NULL`, `IN`. Each is run on both databases over the
/// documents, with the PostgreSQL document as `text` (read as `json`) and as `jsonb` (what the
/// plan makes of a JSON column).
const JSON_AGREE: &[&str] = &[
    "json_extract(j, '$.s') = 'abc'",
    "json_extract(j, '$.s') = '7'",
    "json_extract(j, '$.n') = '5'",
    "json_extract(j, '$.s') > 'a'",
    "json_extract(j, '$.n') > 1",
    "json_extract(j, '$.n') = 5",
    "-1 < json_extract(j, '$.n')",
    "json_extract(j, '$.r') >= 2.5",
    "json_extract(j, '$.b') = 1",
    "lower(json_extract(j, '$.s'))",
    "upper(json_extract(j, '$.s'))",
    "length(json_extract(j, '$.s'))",
    "substr(json_extract(j, '$.s'), 2)",
    "replace(json_extract(j, '$.s'), 'a', 'Z')",
    "json_extract(j, '$.s') || '!'",
    "json_extract(j, '$.n') || ''",
    "json_extract(j, '$.s') LIKE 'a%'",
    "json_extract(j, '$.o.k') IS NULL",
    "json_extract(j, '$.z') IS NOT NULL",
    "json_extract(j, '$.l[1]') = 'b'",
    "json_extract(j, '$.l[0]') = 1",
    "json_extract(j, '$.\"odd key\"') = 'x'",
    "json_extract(j, '$.s') IN ('abc', '12')",
    "json_extract(j, '$.n') IN (5, -3)",
    "CAST(json_extract(j, '$.n') AS INTEGER)",
    "CAST(json_extract(j, '$.r') AS INTEGER)",
    "CAST(json_extract(j, '$.r') AS REAL)",
    "CAST(json_extract(j, '$.n') AS TEXT)",
    "CAST(json_extract(j, '$.s') AS TEXT)",
    "coalesce(CAST(json_extract(j, '$.b') AS INTEGER), -1)",
];

/// What PostgreSQL may refuse (loud) where SQLite gives a value: the row's JSON at the path
/// is of a type the place cannot hold as SQLite would (a string compared with a number, a
/// real's or an object's text), never a value computed otherwise.
fn json_refusal_expected(sqlite: &dyn Backend, expression: &str, id: usize) -> bool {
    let paths: Vec<&str> = expression
        .split("'$")
        .skip(1)
        .map(|rest| &rest[..rest.find('\'').unwrap_or(0)])
        .collect();
    paths.iter().any(|path| {
        let sql = format!("SELECT json_type(j, '${path}') FROM docs WHERE id = {id}");
        let kind = sqlite.query(&sql, &[]).unwrap()[0].values()[0].clone();
        let compared_with_text = expression.contains("= '")
            || expression.contains("> '")
            || expression.contains("IN ('");
        let wants_text = expression.contains("||")
            || expression.contains("LIKE")
            || expression.contains("AS TEXT")
            || ["lower(", "upper(", "length(", "substr(", "replace("]
                .iter()
                .any(|f| expression.starts_with(f));
        match kind {
            Value::Text(kind) if compared_with_text => kind != "text",
            Value::Text(kind) if wants_text => {
                kind != "text" && kind != "integer" && kind != "true" && kind != "false"
            }
            Value::Text(kind) => kind == "text" || kind == "object" || kind == "array",
            _ => false,
        }
    })
}

#[test]
fn json_extract_agrees_where_its_place_decides_its_type() {
    let sqlite = backend(Kind::Sqlite);
    let postgres = backend(Kind::Postgres);
    sqlite
        .batch_execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, j TEXT)")
        .unwrap();
    postgres
        .batch_execute("CREATE TABLE docs (id bigint PRIMARY KEY, j text); CREATE TABLE docs_b (id bigint PRIMARY KEY, j jsonb)")
        .unwrap();
    for (id, doc) in DOCUMENTS.iter().enumerate() {
        let values = [
            Value::Int(id as i64),
            doc.map_or(Value::Null, |d| Value::Text(d.into())),
        ];
        sqlite
            .execute("INSERT INTO docs VALUES ($1, $2)", &values)
            .unwrap();
        postgres
            .execute("INSERT INTO docs VALUES ($1, $2)", &values)
            .unwrap();
        postgres
            .execute("INSERT INTO docs_b VALUES ($1, CAST($2 AS jsonb))", &values)
            .unwrap();
    }
    let mut differences = Vec::new();
    let (mut compared, mut refused) = (0, 0);
    for (pg_type, table) in [(PgType::Text, "docs"), (PgType::Jsonb, "docs_b")] {
        let scope = Scope {
            columns: vec![ScopeColumn {
                source: "j".into(),
                target: "j".into(),
                pg_type: pg_type.clone(),
                comparable: pg_type == PgType::Text,
            }],
            ..Scope::default()
        };
        for sqlite_sql in JSON_AGREE {
            let pg_sql = match translate(sqlite_sql, &scope) {
                Ok(sql) => sql,
                Err(why) => {
                    differences.push(format!("`{sqlite_sql}` was not translated: {why}"));
                    continue;
                }
            };
            for (id, document) in DOCUMENTS.iter().enumerate() {
                let expected = evaluate_rows(
                    &*sqlite,
                    &format!("SELECT {sqlite_sql} FROM docs WHERE id = {id}"),
                );
                let got = match postgres.query(
                    &format!("SELECT {pg_sql} FROM {table} WHERE id = {id}"),
                    &[],
                ) {
                    Ok(rows) => read(&rows[0].values()[0]),
                    Err(_) => Read::Error,
                };
                compared += 1;
                // PostgreSQL's numeric comparison reads back as a boolean, its numbers as
                // the kinds SQLite has.
                if got == Read::Error && json_refusal_expected(&*sqlite, sqlite_sql, id) {
                    refused += 1;
                    continue;
                }
                if !same(&expected[0], &got) {
                    differences.push(format!(
                        "`{sqlite_sql}` as `{pg_sql}` on {table} {:?}: SQLite {:?}, PostgreSQL {got:?}",
                        document, expected[0]
                    ));
                }
            }
        }
    }
    eprintln!(
        "differential: json_extract in {} places over {} documents, {compared} values compared, {refused} refused by PostgreSQL where SQLite gives another type",
        JSON_AGREE.len(),
        DOCUMENTS.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // Where nothing decides the type, it is flagged: a bare value, arithmetic, other paths.
    let scope = Scope {
        columns: vec![ScopeColumn {
            source: "j".into(),
            target: "j".into(),
            pg_type: PgType::Jsonb,
            comparable: false,
        }],
        ..Scope::default()
    };
    for flagged in [
        "json_extract(j, '$.a')",
        "json_extract(j, '$.a') + 1",
        "json_extract(j, '$.n') = json_extract(j, '$.n')",
        "json_extract(j, '$.a', '$.b') = 1",
        "json_extract(j, '$[#-1]') = 1",
        "json_extract(j, t) = 1",
    ] {
        assert!(translate(flagged, &scope).is_err(), "{flagged}");
    }
}

#[test]
fn json_extract_in_generated_columns_checks_indexes_and_views_moves_with_its_values() {
    use crate::support::independent::{assert_same_rows, pg_rows, sqlite_rows};
    use crate::support::{exits, pg_db, run, sqlite_db};
    let source = sqlite_db();
    source.exec(
        r#"CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT NOT NULL,
             kind TEXT GENERATED ALWAYS AS (json_extract(data, '$.kind')) VIRTUAL,
             amount INTEGER GENERATED ALWAYS AS (json_extract(data, '$.amount')) STORED,
             ratio REAL GENERATED ALWAYS AS (json_extract(data, '$.m.ratio')) VIRTUAL,
             CHECK (json_extract(data, '$.amount') >= 0));
         CREATE INDEX events_kind ON events (json_extract(data, '$.kind'));
         CREATE UNIQUE INDEX events_ref ON events (json_extract(data, '$.ref'));
         CREATE VIEW large AS SELECT id, CAST(json_extract(data, '$.kind') AS TEXT) AS k
             FROM events WHERE json_extract(data, '$.amount') > 10;
         INSERT INTO events (id, data) VALUES
             (1, '{"kind":"sale","amount":12,"m":{"ratio":0.25},"ref":"a-1"}'),
             (2, '{"kind":"refund","amount":3,"m":{"ratio":2},"ref":"a-2"}'),
             (3, '{"kind":"Sälé","amount":40,"m":{},"ref":7}'),
             (4, '{"kind":true,"amount":0,"ref":"7"}'),
             (5, '{"amount":2.0,"m":{"ratio":1e2}}'),
             (6, '{"kind":"sale","amount":11,"m":{"ratio":-0.5},"ref":null}');"#,
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("verification: ok"), "{text}");
    // The ratios are binary fractions, exact in both; the shells print reals differently.
    let (read, pg_read) = (
        "SELECT id, kind, amount, CAST(ratio * 1000 AS INTEGER) FROM events ORDER BY id",
        "SELECT id, kind, amount, CAST(ratio * 1000 AS bigint) FROM events ORDER BY id",
    );
    assert_same_rows("generated", &source.path, read, &target.url, pg_read);
    let view = "SELECT id, k FROM large ORDER BY id";
    assert_eq!(pg_rows(&target.url, view), sqlite_rows(&source.path, view));
    // PostgreSQL computes the columns of new rows as SQLite does, and the CHECK and the unique
    // index hold there too.
    let insert = r#"INSERT INTO events (id, data) VALUES (7, '{"kind":"x","amount":99,"m":{"ratio":1.5},"ref":"a-3"}')"#;
    target.exec(insert);
    source.exec(insert);
    assert_same_rows("new row", &source.path, read, &target.url, pg_read);
    let indexes: Vec<String> = pg_rows(
        &target.url,
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname",
    )
    .into_iter()
    .map(|row| row[0].clone().unwrap_or_default())
    .collect();
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("UNIQUE") && i.contains("ref")),
        "{indexes:?}"
    );
    assert!(
        indexes
            .iter()
            .any(|i| i.contains("kind") && !i.contains("UNIQUE")),
        "{indexes:?}"
    );
    for refused in [
        r#"INSERT INTO events (id, data) VALUES (8, '{"amount":-1}')"#,
        r#"INSERT INTO events (id, data) VALUES (9, '{"amount":1,"ref":"a-1"}')"#,
    ] {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let mut pg = diesel::PgConnection::establish(&target.url).unwrap();
        assert!(pg.batch_execute(refused).is_err(), "{refused}");
    }
}
