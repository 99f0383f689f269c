//! The `Backend` trait's behaviour, run by the same code on SQLite and PostgreSQL.

use crate::support::{backend, migrated, Kind};
use dbshift::{Dialect, Error, Value};

both_backends! {
    fn executes_and_queries_with_dynamic_values(kind) {
        let (db, _guard) = backend(kind);
        assert_eq!(db.dialect(), if kind == Kind::Sqlite { Dialect::Sqlite } else { Dialect::Postgres });
        db.batch_execute(&format!(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, score {}, flag {}, at {}, doc {}, raw {}, u {})",
            if kind == Kind::Sqlite { "REAL" } else { "DOUBLE PRECISION" },
            db.dialect().bool_type(), db.dialect().timestamp_type(), db.dialect().json_type(),
            db.dialect().bytes_type(), db.dialect().uuid_type(),
        )).unwrap();
        let at = dbshift::value::parse_timestamp("2024-05-06 07:08:09.123456").unwrap();
        let u = uuid::Uuid::new_v4();
        let params = vec![
            Value::Int(i64::MAX), "it's \"quoted\" é".into(), Value::Float(-0.5), Value::Bool(true),
            Value::Timestamp(at), Value::Json(serde_json::json!({"k": [1, 2]})), Value::Bytes(vec![0, 255, 1]), Value::Uuid(u),
        ];
        let changed = db.execute("INSERT INTO t (id, name, score, flag, at, doc, raw, u) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &params).unwrap();
        assert_eq!(changed, 1);
        db.execute("INSERT INTO t (id, name) VALUES ($1, $2)", &[Value::Int(2), Value::Null]).unwrap();
        let row = db.query_one("SELECT * FROM t WHERE id = $1", &[Value::Int(i64::MAX)]).unwrap();
        assert_eq!(row.get::<i64, _>("id").unwrap(), i64::MAX);
        assert_eq!(row.get::<String, _>("name").unwrap(), "it's \"quoted\" é");
        assert_eq!(row.get::<f64, _>("score").unwrap(), -0.5);
        assert!(row.get::<bool, _>("flag").unwrap());
        assert_eq!(row.get::<chrono::DateTime<chrono::Utc>, _>("at").unwrap(), at);
        assert_eq!(row.get::<serde_json::Value, _>("doc").unwrap(), serde_json::json!({"k": [1, 2]}));
        assert_eq!(row.get::<Vec<u8>, _>("raw").unwrap(), vec![0, 255, 1]);
        assert_eq!(row.get::<uuid::Uuid, _>("u").unwrap(), u);
        let row = db.query_one("SELECT name, flag FROM t WHERE id = $1", &[Value::Int(2)]).unwrap();
        assert_eq!(row.value("name").unwrap(), &Value::Null);
        assert_eq!(row.get::<Option<bool>, _>("flag").unwrap(), None);
    }

    fn placeholders_can_repeat_and_reorder(kind) {
        let (db, _guard) = backend(kind);
        let row = db.query_one("SELECT $2 || '-' || $1 || '-' || $2 AS s, '$1' AS lit", &["a".into(), "b".into()]).unwrap();
        assert_eq!(row.get::<String, _>("s").unwrap(), "b-a-b");
        assert_eq!(row.get::<String, _>("lit").unwrap(), "$1");
        let err = db.query("SELECT $1, $3", &[Value::Int(1), Value::Int(2)]).unwrap_err();
        assert!(matches!(err, Error::Statement(_)), "{err}");
    }

    fn transactions_commit_roll_back_and_survive_panics(kind) {
        let (db, _guard) = migrated(kind);
        let id: i64 = db.transaction(|tx| {
            tx.execute("INSERT INTO tags (name) VALUES ($1)", &["kept".into()])?;
            tx.query("SELECT id FROM tags WHERE name = $1", &["kept".into()])?[0].get("id")
        }).unwrap();
        assert!(id > 0);
        let err = db.transaction(|tx| -> dbshift::Result<()> {
            tx.execute("INSERT INTO tags (name) VALUES ($1)", &["rolled back".into()])?;
            Err(Error::Rollback("changed my mind".into()))
        }).unwrap_err();
        assert!(err.to_string().contains("changed my mind"));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = db.transaction(|tx| -> dbshift::Result<()> {
                tx.execute("INSERT INTO tags (name) VALUES ($1)", &["panicked".into()])?;
                panic!("boom");
            });
        }));
        assert!(panicked.is_err());
        let names: Vec<String> = db.query("SELECT name FROM tags ORDER BY name", &[]).unwrap()
            .iter().map(|r| r.get("name").unwrap()).collect();
        assert_eq!(names, vec!["kept".to_string()]);
        db.ping().unwrap();
    }

    fn migrations_apply_list_and_revert(kind) {
        let (db, _guard) = backend(kind);
        let applied = db.run_pending_migrations().unwrap();
        assert_eq!(applied, vec!["20260101000000".to_string(), "20260101000100".into()]);
        assert!(db.run_pending_migrations().unwrap().is_empty());
        assert_eq!(db.applied_migrations().unwrap(), applied);
        assert_eq!(db.revert_last_migration().unwrap().as_deref(), Some("20260101000100"));
        assert!(db.query("SELECT 1 FROM tags", &[]).is_err());
        assert_eq!(db.revert_last_migration().unwrap().as_deref(), Some("20260101000000"));
        assert_eq!(db.revert_last_migration().unwrap(), None);
        assert_eq!(db.run_pending_migrations().unwrap().len(), 2);
    }

    fn clones_share_the_pool_and_close_stops_them(kind) {
        let (db, _guard) = backend(kind);
        let clone = db.clone();
        db.batch_execute("CREATE TABLE c (x INTEGER)").unwrap();
        clone.execute("INSERT INTO c (x) VALUES ($1)", &[Value::Int(7)]).unwrap();
        assert_eq!(db.query_one("SELECT x FROM c", &[]).unwrap().get::<i64, _>(0).unwrap(), 7);
        db.close();
        assert!(matches!(clone.query("SELECT 1", &[]), Err(Error::Closed)));
    }
}
