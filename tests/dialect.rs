//! Every `Dialect` helper's SQL, run on both real databases; the tests check what the SQL does,
//! not only how it reads.

use chrono::{DateTime, Utc};

use crate::support::{backend, migrated};
use dbshift::dialect::{like_escape, quote_ident};
use dbshift::{Error, Value};

both_backends! {
    fn now_is_the_current_instant(kind) {
        let db = backend(kind);
        let before = Utc::now() - chrono::Duration::seconds(2);
        let row = db.query_one(&format!("SELECT {} AS t", db.dialect().now()), &[]).unwrap();
        let after = Utc::now() + chrono::Duration::seconds(2);
        let t: DateTime<Utc> = row.get("t").unwrap();
        assert!(before <= t && t <= after, "{t} not within [{before}, {after}]");
        // It orders as time, also when SQLite stores it as text.
        db.batch_execute(&format!("CREATE TABLE ts (n INTEGER, at {})", db.dialect().timestamp_type())).unwrap();
        db.execute(&format!("INSERT INTO ts (n, at) VALUES (1, {})", db.dialect().now()), &[]).unwrap();
        // The second row must be written at a later instant: wait until the database's clock
        // has moved past the first (instead of sleeping a guessed time).
        let first_at: DateTime<Utc> = db.query_one("SELECT at FROM ts WHERE n = 1", &[]).unwrap().get("at").unwrap();
        while db.query_one(&format!("SELECT {} AS t", db.dialect().now()), &[]).unwrap().get::<DateTime<Utc>, _>("t").unwrap() <= first_at {}
        db.execute(&format!("INSERT INTO ts (n, at) VALUES (2, {})", db.dialect().now()), &[]).unwrap();
        let rows = db.query("SELECT n FROM ts ORDER BY at DESC", &[]).unwrap();
        assert_eq!(rows.iter().map(|r| r.get::<i64, _>("n").unwrap()).collect::<Vec<_>>(), vec![2, 1]);
        // A value written by now() equals the same instant bound as a parameter, so SQL
        // comparisons agree with Rust's (SQLite stores both in one fixed-width text form).
        let first: DateTime<Utc> = db.query_one("SELECT at FROM ts WHERE n = 1", &[]).unwrap().get("at").unwrap();
        let same = db.query("SELECT n FROM ts WHERE at = $1", &[Value::Timestamp(first)]).unwrap();
        assert_eq!(same.len(), 1);
        let later = db.query("SELECT n FROM ts WHERE at > $1", &[Value::Timestamp(first)]).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].get::<i64, _>("n").unwrap(), 2);
    }

    fn uuid_generate_makes_distinct_version_4_uuids(kind) {
        let db = backend(kind);
        let expr = db.dialect().uuid_generate();
        let sql = format!("SELECT {expr} AS a, {expr} AS b");
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let row = db.query_one(&sql, &[]).unwrap();
            for column in ["a", "b"] {
                let text: String = row.get(column).unwrap();
                assert_eq!(text.len(), 36, "{text}");
                assert_eq!(text, text.to_lowercase(), "lowercase hyphenated");
                let uuid: uuid::Uuid = row.get(column).unwrap();
                assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{uuid}");
                assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{uuid}");
                assert!(seen.insert(uuid), "{uuid} came twice");
            }
        }
    }

    fn bool_literals_are_booleans(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute(&format!("CREATE TABLE b (n INTEGER, flag {} NOT NULL)", d.bool_type())).unwrap();
        db.execute(&format!("INSERT INTO b (n, flag) VALUES (1, {}), (2, {})", d.bool_literal(true), d.bool_literal(false)), &[]).unwrap();
        db.execute("INSERT INTO b (n, flag) VALUES (3, $1)", &[Value::Bool(true)]).unwrap();
        let rows = db.query(&format!("SELECT n, flag FROM b WHERE flag = {} ORDER BY n", d.bool_literal(true)), &[]).unwrap();
        assert_eq!(rows.iter().map(|r| r.get::<i64, _>("n").unwrap()).collect::<Vec<_>>(), vec![1, 3]);
        assert!(rows.iter().all(|r| r.get::<bool, _>("flag").unwrap()));
        let row = db.query_one(&format!("SELECT CASE WHEN {} THEN 'yes' ELSE 'no' END AS answer", d.bool_literal(false)), &[]).unwrap();
        assert_eq!(row.get::<String, _>("answer").unwrap(), "no");
    }

    fn concat_joins_text_and_numbers_and_propagates_null(kind) {
        let db = backend(kind);
        let d = db.dialect();
        let row = db.query_one(&format!("SELECT {} AS s", d.concat(&["$1", "'-'", "42", "'-'", "$2"])), &["é".into(), "x".into()]).unwrap();
        assert_eq!(row.get::<String, _>("s").unwrap(), "é-42-x");
        let row = db.query_one(&format!("SELECT {} AS s", d.concat(&["'a'", "NULL"])), &[]).unwrap();
        assert_eq!(row.value("s").unwrap(), &Value::Null);
    }

    fn ilike_matches_case_insensitively_and_user_wildcards_literally(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute("CREATE TABLE titles (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").unwrap();
        let titles = ["50% off", "50 percent off", "snake_case", "snakeXcase", "Hello World", "HELLO", r"C:\path", "C:path"];
        for (id, title) in titles.iter().enumerate() {
            db.execute("INSERT INTO titles (id, title) VALUES ($1, $2)", &[Value::Int(id as i64), (*title).into()]).unwrap();
        }
        let search = |text: &str| -> Vec<String> {
            let sql = format!("SELECT title FROM titles WHERE {} ORDER BY id", d.ilike("title", "$1"));
            db.query(&sql, &[format!("%{}%", like_escape(text)).into()]).unwrap()
                .iter().map(|r| r.get("title").unwrap()).collect()
        };
        assert_eq!(search("50%"), vec!["50% off"]);
        assert_eq!(search("e_c"), vec!["snake_case"]);
        assert_eq!(search("hello"), vec!["Hello World", "HELLO"]);
        assert_eq!(search("WORLD"), vec!["Hello World"]);
        assert_eq!(search(r"C:\"), vec![r"C:\path"]);
        assert_eq!(search("%"), vec!["50% off"]);
        assert!(search("nothing").is_empty());
        // Without escaping, the same text is a wildcard: that is what like_escape prevents.
        let sql = format!("SELECT count(*) AS n FROM titles WHERE {}", d.ilike("title", "$1"));
        // (`percent` holds e-r-c.)
        assert_eq!(db.query_one(&sql, &["%e_c%".into()]).unwrap().get::<i64, _>("n").unwrap(), 3);
    }

    fn auto_increment_primary_keys_are_assigned(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute(&format!("CREATE TABLE auto ({}, name TEXT)", d.auto_increment_primary_key("id").unwrap())).unwrap();
        let mut ids = Vec::new();
        for name in ["a", "b", "c"] {
            let row = db.query_one("INSERT INTO auto (name) VALUES ($1) RETURNING id", &[name.into()]).unwrap();
            ids.push(row.get::<i64, _>("id").unwrap());
        }
        assert_eq!(ids, vec![1, 2, 3]);
        // Ids are not reused after a delete.
        db.execute("DELETE FROM auto WHERE id = 3", &[]).unwrap();
        let row = db.query_one("INSERT INTO auto (name) VALUES ('d') RETURNING id", &[]).unwrap();
        assert_eq!(row.get::<i64, _>("id").unwrap(), 4);
    }

    fn column_types_round_trip_their_values(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute(&format!(
            "CREATE TABLE typed (id INTEGER PRIMARY KEY, doc {}, at {}, flag {}, u {}, raw {}, body {})",
            d.json_type(), d.timestamp_type(), d.bool_type(), d.uuid_type(), d.bytes_type(), d.text_type()
        )).unwrap();
        let doc = serde_json::json!({"name": "ü", "list": [1, 2.5, null], "nested": {"ok": true}});
        let at = dbshift::value::parse_timestamp("1999-12-31 23:59:59.999999").unwrap();
        let u = uuid::Uuid::new_v4();
        let raw: Vec<u8> = (0..=255).collect();
        let params = [Value::Int(1), Value::Json(doc.clone()), Value::Timestamp(at), Value::Bool(false), Value::Uuid(u), Value::Bytes(raw.clone()), "line\nbreak\ttab 🚀".into()];
        db.execute("INSERT INTO typed (id, doc, at, flag, u, raw, body) VALUES ($1, $2, $3, $4, $5, $6, $7)", &params).unwrap();
        let row = db.query_one("SELECT * FROM typed WHERE id = 1", &[]).unwrap();
        assert_eq!(row.get::<serde_json::Value, _>("doc").unwrap(), doc);
        assert_eq!(row.get::<DateTime<Utc>, _>("at").unwrap(), at);
        assert!(!row.get::<bool, _>("flag").unwrap());
        assert_eq!(row.get::<uuid::Uuid, _>("u").unwrap(), u);
        assert_eq!(row.get::<Vec<u8>, _>("raw").unwrap(), raw);
        assert_eq!(row.value("raw").unwrap(), &Value::Bytes(raw));
        assert_eq!(row.get::<String, _>("body").unwrap(), "line\nbreak\ttab 🚀");
        // Timestamps compare as instants in SQL too.
        let later = db.query("SELECT id FROM typed WHERE at > $1", &[Value::Timestamp(at - chrono::Duration::microseconds(1))]).unwrap();
        assert_eq!(later.len(), 1);
    }

    fn upsert_inserts_then_updates(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, hits INTEGER DEFAULT 0)").unwrap();
        let upsert = d.upsert("kv", &["k", "v"], &["k"], &["v"]).unwrap();
        assert_eq!(db.execute(&upsert, &["a".into(), "first".into()]).unwrap(), 1);
        assert_eq!(db.execute(&upsert, &["a".into(), "second".into()]).unwrap(), 1);
        db.execute(&upsert, &["b".into(), "other".into()]).unwrap();
        let rows = db.query("SELECT k, v FROM kv ORDER BY k", &[]).unwrap();
        let pairs: Vec<(String, String)> = rows.iter().map(|r| (r.get("k").unwrap(), r.get("v").unwrap())).collect();
        assert_eq!(pairs, vec![("a".into(), "second".into()), ("b".into(), "other".into())]);
        let insert_only = d.upsert("kv", &["k", "v"], &["k"], &[]).unwrap();
        assert_eq!(db.execute(&insert_only, &["a".into(), "ignored".into()]).unwrap(), 0);
        assert_eq!(db.query_one("SELECT v FROM kv WHERE k = 'a'", &[]).unwrap().get::<String, _>("v").unwrap(), "second");
    }

    fn cast_param_writes_and_compares_enum_columns(kind) {
        let db = migrated(kind);
        let d = db.dialect();
        let sql = format!(
            "INSERT INTO missions (title, status, priority) VALUES ($1, {}, {}) RETURNING id",
            d.cast_param(2, "mission_status"), d.cast_param(3, "mission_priority")
        );
        let id: i64 = db.query_one(&sql, &["cast".into(), "active".into(), "critical".into()]).unwrap().get("id").unwrap();
        let row = db.query_one(&format!("SELECT status, priority FROM missions WHERE id = $1 AND status = {}", d.cast_param(2, "mission_status")), &[Value::Int(id), "active".into()]).unwrap();
        assert_eq!(row.get::<String, _>("status").unwrap(), "active");
        assert_eq!(row.get::<String, _>("priority").unwrap(), "critical");
        // A value outside the set fails on both: the PostgreSQL enum, the SQLite CHECK.
        let err = db.query_one(&sql, &["bad".into(), "sleeping".into(), "low".into()]).unwrap_err();
        assert!(matches!(err, Error::Query { .. }), "{err:?}");
    }

    fn json_field_text_reads_one_field_as_text(kind) {
        let db = backend(kind);
        let d = db.dialect();
        db.batch_execute(&format!("CREATE TABLE docs (id INTEGER PRIMARY KEY, doc {})", d.json_type())).unwrap();
        let doc = serde_json::json!({"name": "Zoë", "n": 5, "x": 1.5, "yes": true, "no": false, "nil": null, "odd \"key\"": "q", "a.b": "dot"});
        db.execute("INSERT INTO docs (id, doc) VALUES (1, $1)", &[Value::Json(doc)]).unwrap();
        let field = |key: &str| -> Value {
            db.query_one(&format!("SELECT {} AS f FROM docs", d.json_field_text("doc", key)), &[]).unwrap().values()[0].clone()
        };
        assert_eq!(field("name"), Value::Text("Zoë".into()));
        assert_eq!(field("n"), Value::Text("5".into()));
        assert_eq!(field("x"), Value::Text("1.5".into()));
        assert_eq!(field("yes"), Value::Text("true".into()));
        assert_eq!(field("no"), Value::Text("false".into()));
        assert_eq!(field("nil"), Value::Null);
        assert_eq!(field("missing"), Value::Null);
        assert_eq!(field("odd \"key\""), Value::Text("q".into()));
        assert_eq!(field("a.b"), Value::Text("dot".into()));
        // It filters as text.
        let sql = format!("SELECT id FROM docs WHERE {} = $1", d.json_field_text("doc", "name"));
        assert_eq!(db.query(&sql, &["Zoë".into()]).unwrap().len(), 1);
    }

    fn quote_ident_keeps_hostile_names_as_names(kind) {
        let db = backend(kind);
        db.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        db.execute("INSERT INTO t (x) VALUES (42)", &[]).unwrap();
        let table = quote_ident("x\"; DROP TABLE t; --").unwrap();
        let column = quote_ident("col\"umn; DELETE FROM t").unwrap();
        db.batch_execute(&format!("CREATE TABLE {table} ({column} TEXT)")).unwrap();
        db.execute(&format!("INSERT INTO {table} ({column}) VALUES ($1)"), &["safe".into()]).unwrap();
        let row = db.query_one(&format!("SELECT {column} FROM {table}"), &[]).unwrap();
        assert_eq!(row.columns(), &["col\"umn; DELETE FROM t".to_string()]);
        assert_eq!(row.get::<String, _>(0).unwrap(), "safe");
        assert_eq!(db.query_one("SELECT x FROM t", &[]).unwrap().get::<i64, _>("x").unwrap(), 42, "table t survives");
        let upsert = db.dialect().upsert("x\"; DROP TABLE t; --", &["col\"umn; DELETE FROM t"], &[], &[]);
        assert!(upsert.is_ok());
        assert!(quote_ident("nul\0byte").is_err());
    }
}

both_backends! {
    fn a_row_read_for_update_is_not_written_by_another_transaction_until_the_first_ends(kind) {
        use crate::support::{config, Kind};
        use dbshift::Registry;
        use std::sync::mpsc;
        let (mut config, _guard) = config(kind);
        // SQLite: a second writer gives up after 100 ms instead of the default wait.
        config.pool.busy_timeout_ms = 100;
        let db = Registry::with_defaults().connect(&config).unwrap();
        db.batch_execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").unwrap();
        db.execute("INSERT INTO acct (id, n) VALUES (1, 10)", &[]).unwrap();
        let select = format!("SELECT n FROM acct WHERE id = 1{}", db.dialect().for_update());
        let (locked_tx, locked) = mpsc::channel::<()>();
        let (tried_tx, tried) = mpsc::channel::<bool>();
        let other = {
            let db = db.clone();
            std::thread::spawn(move || {
                locked.recv().unwrap();
                // Another transaction tries to write the row while the first still holds it.
                let blocked = db.transaction(|tx| {
                    if kind == Kind::Postgres {
                        tx.batch_execute("SET LOCAL lock_timeout = '100ms'")?;
                    }
                    tx.execute("UPDATE acct SET n = n + 100 WHERE id = 1", &[])
                });
                tried_tx.send(blocked.is_err()).unwrap();
                blocked.err()
            })
        };
        db.transaction(|tx| {
            let n: i64 = tx.query_one(&select, &[])?.get("n")?;
            locked_tx.send(()).unwrap();
            assert!(tried.recv().unwrap(), "the other write went through while the row was held");
            tx.execute("UPDATE acct SET n = $1 WHERE id = 1", &[Value::Int(n + 1)])?;
            Ok(())
        })
        .unwrap();
        let err = other.join().unwrap().expect("the other transaction failed");
        assert!(
            err.is_busy() || err.to_string().contains("lock timeout"),
            "a lock wait, not another error: {err}"
        );
        // Once the first transaction ended, the row is written as usual.
        db.execute("UPDATE acct SET n = n + 100 WHERE id = 1", &[]).unwrap();
        let n: i64 = db.query_one("SELECT n FROM acct WHERE id = 1", &[]).unwrap().get("n").unwrap();
        assert_eq!(n, 111);
    }
}
