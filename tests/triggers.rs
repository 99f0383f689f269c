//! Triggers, differentially: each case is a SQLite database with triggers, migrated by the
//! built binary; then the same statements run on the SQLite file and on the migrated
//! PostgreSQL database, and every table is read back on both sides through the `sqlite3` shell
//! and `psql` (never through dbshift) and compared. A statement a trigger refuses must fail on
//! both sides with the trigger's message, and leave the same rows behind.

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::support::independent::{pg_rows, sqlite_rows};
use crate::support::{exits, pg_db, run, sqlite_db};

/// One trigger case: the source schema and rows, the statements run on both sides after the
/// migration, and the reads compared (SQLite's query, and PostgreSQL's when it must differ).
struct Case {
    name: &'static str,
    schema: &'static str,
    statements: &'static [&'static str],
    reads: &'static [(&'static str, Option<&'static str>)],
}

const CASES: &[Case] = &[
    Case {
        name: "audit rows on insert, update and delete",
        schema: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);
             CREATE TABLE audit (id INTEGER PRIMARY KEY, item_id INTEGER, action TEXT, detail TEXT);
             INSERT INTO items VALUES (1, 'bolt', 10), (2, 'nut', 0);
             INSERT INTO audit VALUES (1, 1, 'seed', NULL);
             CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN
                 INSERT INTO audit (item_id, action, detail) VALUES (NEW.id, 'insert', NEW.name || ':' || NEW.qty);
             END;
             CREATE TRIGGER items_au AFTER UPDATE ON items FOR EACH ROW BEGIN
                 INSERT INTO audit VALUES (NULL, NEW.id, 'update', OLD.name || '>' || NEW.name);
             END;
             CREATE TRIGGER items_ad AFTER DELETE ON items BEGIN
                 INSERT INTO audit (item_id, action, detail) VALUES (OLD.id, 'delete', NULL);
             END;",
        statements: &[
            "INSERT INTO items (name, qty) VALUES ('washer', 5)",
            "INSERT INTO items (name, qty) VALUES ('Écrou', NULL), ('screw', 3)",
            "UPDATE items SET name = upper(name) WHERE qty > 0",
            "DELETE FROM items WHERE id = 2",
            "DELETE FROM items WHERE qty IS NULL",
        ],
        reads: &[
            ("SELECT id, name, qty FROM items ORDER BY id", None),
            (
                "SELECT id, item_id, action, detail FROM audit ORDER BY id",
                None,
            ),
        ],
    },
    Case {
        // The trigger's own UPDATE does not fire it again (SQLite's recursive triggers are off
        // by default); in PostgreSQL it would, without end, but for the guard.
        name: "updated_at and a revision kept by an AFTER UPDATE trigger that updates its own table",
        schema: "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, revision INTEGER NOT NULL DEFAULT 0, updated_at TEXT);
             INSERT INTO docs VALUES (1, 'a', 0, '2000-01-01 00:00:00'), (2, 'b', 0, '2000-01-01 00:00:00'), (3, 'c', 0, '2000-01-01 00:00:00');
             CREATE TRIGGER docs_touch AFTER UPDATE ON docs BEGIN
                 UPDATE docs SET updated_at = CURRENT_TIMESTAMP, revision = revision + 1 WHERE id = NEW.id;
             END;",
        statements: &[
            "UPDATE docs SET body = 'a2' WHERE id = 1",
            "UPDATE docs SET body = body WHERE id = 2",
            "UPDATE docs SET body = body || '!' WHERE id >= 1",
        ],
        reads: &[(
            "SELECT id, body, revision, updated_at > '2001-01-01' FROM docs ORDER BY id",
            Some("SELECT id, body, revision, (updated_at > '2001-01-01')::int FROM docs ORDER BY id"),
        )],
    },
    Case {
        name: "a cascade-like delete and a counter on the parent",
        schema: "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT, books INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER, title TEXT);
             INSERT INTO authors VALUES (1, 'Le Guin', 0), (2, 'Lem', 0), (3, 'Tolstoy', 0);
             CREATE TRIGGER authors_ad AFTER DELETE ON authors BEGIN
                 DELETE FROM books WHERE author_id = OLD.id;
             END;
             CREATE TRIGGER books_ai AFTER INSERT ON books BEGIN
                 UPDATE authors SET books = books + 1 WHERE id = NEW.author_id;
             END;
             CREATE TRIGGER books_ad BEFORE DELETE ON books BEGIN
                 UPDATE authors SET books = books - 1 WHERE id = OLD.author_id;
             END;",
        statements: &[
            "INSERT INTO books (author_id, title) VALUES (1, 'Earthsea'), (1, 'Lathe'), (2, 'Solaris'), (3, 'War')",
            "DELETE FROM authors WHERE id = 1",
            "DELETE FROM books WHERE title = 'War'",
        ],
        reads: &[
            ("SELECT id, name, books FROM authors ORDER BY id", None),
            ("SELECT id, author_id, title FROM books ORDER BY id", None),
        ],
    },
    Case {
        name: "RAISE(ABORT) with WHEN and with a query, RAISE(IGNORE)",
        schema: "CREATE TABLE products (id INTEGER PRIMARY KEY, stock INTEGER NOT NULL);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, product_id INTEGER, qty INTEGER, note TEXT);
             INSERT INTO products VALUES (1, 5), (2, 0);
             CREATE TRIGGER orders_qty BEFORE INSERT ON orders WHEN NEW.qty <= 0 BEGIN
                 SELECT RAISE(ABORT, 'qty must be positive');
             END;
             CREATE TRIGGER orders_stock BEFORE INSERT ON orders BEGIN
                 SELECT RAISE(FAIL, 'not enough stock') FROM products WHERE id = NEW.product_id AND stock < NEW.qty;
                 SELECT CASE WHEN NEW.note = 'ignore me' THEN RAISE(IGNORE) END;
             END;
             CREATE TRIGGER orders_take AFTER INSERT ON orders BEGIN
                 UPDATE products SET stock = stock - NEW.qty WHERE id = NEW.product_id;
             END;",
        statements: &[
            "INSERT INTO orders (product_id, qty) VALUES (1, 2)",
            "INSERT INTO orders (product_id, qty) VALUES (1, 0)",
            "INSERT INTO orders (product_id, qty) VALUES (1, 4)",
            "INSERT INTO orders (product_id, qty, note) VALUES (1, 1, 'ignore me')",
            "INSERT INTO orders (product_id, qty, note) VALUES (1, 3, 'ok')",
            "INSERT INTO orders (product_id, qty) VALUES (2, -1)",
        ],
        reads: &[
            ("SELECT id, stock FROM products ORDER BY id", None),
            // Not the ids: PostgreSQL's identity does not hand back the numbers the refused
            // inserts took, where SQLite numbers the next row max(id) + 1.
            ("SELECT product_id, qty, note FROM orders ORDER BY id", None),
        ],
    },
    Case {
        name: "UPDATE OF fires only when the column is set",
        schema: "CREATE TABLE prices (id INTEGER PRIMARY KEY, name TEXT, price REAL);
             CREATE TABLE price_log (id INTEGER PRIMARY KEY, product INTEGER, old REAL, new REAL);
             INSERT INTO prices VALUES (1, 'tea', 2.5), (2, 'coffee', 3.25);
             CREATE TRIGGER prices_log AFTER UPDATE OF price ON prices BEGIN
                 INSERT INTO price_log (product, old, new) VALUES (OLD.id, OLD.price, NEW.price);
             END;",
        statements: &[
            "UPDATE prices SET name = 'green tea' WHERE id = 1",
            "UPDATE prices SET price = 2.75 WHERE id = 1",
            "UPDATE prices SET price = price, name = 'mocha' WHERE id = 2",
        ],
        reads: &[
            ("SELECT id, name, price FROM prices ORDER BY id", None),
            ("SELECT id, product, old, new FROM price_log ORDER BY id", None),
        ],
    },
    Case {
        name: "INSTEAD OF INSERT, UPDATE and DELETE on a view",
        schema: "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, source TEXT);
             INSERT INTO people VALUES (1, 'ada', 'seed');
             CREATE VIEW v_people AS SELECT id, name FROM people;
             CREATE TRIGGER v_people_ins INSTEAD OF INSERT ON v_people BEGIN
                 INSERT INTO people (name, source) VALUES (upper(NEW.name), 'view');
             END;
             CREATE TRIGGER v_people_upd INSTEAD OF UPDATE ON v_people BEGIN
                 UPDATE people SET name = NEW.name, source = 'view update' WHERE id = OLD.id;
             END;
             CREATE TRIGGER v_people_del INSTEAD OF DELETE ON v_people BEGIN
                 DELETE FROM people WHERE id = OLD.id;
             END;",
        statements: &[
            "INSERT INTO v_people (name) VALUES ('grace')",
            "INSERT INTO v_people (name) VALUES ('édith'), ('linus')",
            "UPDATE v_people SET name = 'Ada' WHERE id = 1",
            "DELETE FROM v_people WHERE name = 'LINUS'",
        ],
        reads: &[("SELECT id, name, source FROM people ORDER BY id", None)],
    },
    Case {
        // SQLite fires the triggers of one event newest first; PostgreSQL by name, which here
        // would be a, b, c. The log's ids record the order.
        name: "several triggers on one event fire in SQLite's order",
        schema: "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER);
             CREATE TABLE log (id INTEGER PRIMARY KEY, w TEXT);
             CREATE TRIGGER b_first AFTER INSERT ON t BEGIN INSERT INTO log (w) VALUES ('b' || NEW.x); END;
             CREATE TRIGGER a_second AFTER INSERT ON t BEGIN INSERT INTO log (w) VALUES ('a' || NEW.x); END;
             CREATE TRIGGER c_third AFTER INSERT ON t BEGIN INSERT INTO log (w) VALUES ('c' || NEW.x); END;
             CREATE TRIGGER z_before BEFORE INSERT ON t BEGIN INSERT INTO log (w) VALUES ('z' || NEW.x); END;
             CREATE TRIGGER y_update AFTER UPDATE ON t BEGIN INSERT INTO log (w) VALUES ('y' || NEW.x); END;
             CREATE TRIGGER x_update AFTER UPDATE ON t BEGIN INSERT INTO log (w) VALUES ('x' || NEW.x); END;",
        statements: &[
            "INSERT INTO t (x) VALUES (1)",
            "INSERT INTO t (x) VALUES (2)",
            "UPDATE t SET x = x + 10",
        ],
        reads: &[("SELECT id, w FROM log ORDER BY id", None)],
    },
];

/// What a statement did: nothing to report, or the error's message.
fn outcome(result: diesel::QueryResult<()>) -> Result<(), String> {
    result.map_err(|e| e.to_string())
}

#[test]
fn triggers_do_the_same_on_both_databases() {
    let mut failures = Vec::new();
    for case in CASES {
        let source = sqlite_db();
        source.exec(case.schema);
        let url = source.path.display().to_string();
        let dir = tempfile::tempdir().unwrap();
        let target = pg_db();
        let output = run(dir.path(), &["migrate", &url, &target.url]);
        exits(&output, 0);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("verification: ok"), "{}: {text}", case.name);
        // The triggers did not fire during the copy: the tables are as the source had them.
        for (sqlite_sql, pg_sql) in case.reads {
            assert_eq!(
                sqlite_rows(&source.path, sqlite_sql),
                pg_rows(&target.url, pg_sql.unwrap_or(sqlite_sql)),
                "{}: before the statements",
                case.name
            );
        }
        let mut sqlite =
            diesel::SqliteConnection::establish(source.path.to_str().unwrap()).unwrap();
        let mut pg = diesel::PgConnection::establish(&target.url).unwrap();
        for statement in case.statements {
            let on_sqlite = outcome(sqlite.batch_execute(statement));
            let on_pg = outcome(pg.batch_execute(statement));
            match (&on_sqlite, &on_pg) {
                (Ok(()), Ok(())) => {}
                (Err(s), Err(p)) if p.contains(s.as_str()) => {}
                _ => failures.push(format!(
                    "{}: `{statement}`: SQLite {on_sqlite:?}, PostgreSQL {on_pg:?}",
                    case.name
                )),
            }
        }
        for (sqlite_sql, pg_sql) in case.reads {
            let expected = sqlite_rows(&source.path, sqlite_sql);
            let got = pg_rows(&target.url, pg_sql.unwrap_or(sqlite_sql));
            if expected != got {
                failures.push(format!(
                    "{}: `{sqlite_sql}`: SQLite {expected:?}, PostgreSQL {got:?}",
                    case.name
                ));
            }
        }
    }
    eprintln!("triggers: {} cases compared on both databases", CASES.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_trigger_that_cannot_be_translated_is_flagged_with_its_sql_and_fails_the_verdict() {
    let source = sqlite_db();
    source.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);
         CREATE TABLE log (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO t VALUES (1, 5);
         CREATE TRIGGER t_replace AFTER INSERT ON t BEGIN INSERT OR REPLACE INTO log VALUES (NEW.id, NEW.n); END;
         CREATE TRIGGER t_ok AFTER INSERT ON t BEGIN INSERT INTO log (n) VALUES (NEW.n); END;",
    );
    let url = source.path.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["plan", &url]);
    exits(&output, 0);
    let plan = String::from_utf8_lossy(&output.stdout);
    assert!(plan.contains("INSERT OR REPLACE INTO log"), "{plan}");
    let target = pg_db();
    let output = run(dir.path(), &["migrate", &url, &target.url]);
    exits(&output, 1);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("not carried: trigger `t_replace`"), "{text}");
    assert!(!text.contains("trigger `t_ok`"), "{text}");
    assert_eq!(
        pg_rows(
            &target.url,
            "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        ),
        [[Some("t_ok".to_string())]]
    );
}
