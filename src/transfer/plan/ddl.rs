//! Pure: PostgreSQL names and DDL text for the planned schema. Turns SQLite identifiers into
//! PostgreSQL ones (lowercase, at most 63 bytes, unique), translates SQLite expressions
//! (CHECK constraints, defaults, generated columns, index expressions, views) where the
//! translation means the same thing, and renders each statement. Every identifier goes through
//! [`crate::dialect::quote_ident`]. What cannot be translated faithfully comes back as an `Err`
//! with the reason, for the planner to flag. No I/O here.
//!
//! One concern per file: `names` (PostgreSQL names), `scope` (what an expression may name),
//! `vocabulary` (keywords and functions), `operand_types` (where PostgreSQL's types refuse what
//! SQLite accepted), `expression` (the translator), `check` (conditions), `default`
//! (`DEFAULT`s), `tokens` (literals, joining, canonical text) and `statements` (rendering);
//! functions rewritten to keep SQLite's result in `functions`, with `dates`, `formatting` and
//! `json` (`json_extract`, typed by its place).

mod check;
mod dates;
mod default;
mod expression;
mod formatting;
mod functions;
mod json;
mod names;
mod operand_types;
mod scope;
mod statements;
mod tokens;
mod truth;
mod vocabulary;

pub use check::{check_implied_by_type, translate_condition};
pub use default::{translate_default, DefaultSql};
pub use expression::{columns_used, translate};
pub use names::{pg_name, q, qualified, short_hash, Namespace, MAX_IDENTIFIER_BYTES};
pub use scope::{Scope, ScopeColumn, ScopeRelation, Wanted};
pub use statements::{
    add_check, add_foreign_key, add_primary_key, add_unique, create_index, create_table,
    create_trigger, create_view, restart_identity, CheckDef, ColumnDef, ForeignKeyDef, TriggerDef,
};

#[cfg(test)]
mod mutants_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::model::{Conversion, PgType};

    fn scope(columns: &[(&str, &str, PgType, bool)]) -> Scope {
        Scope {
            columns: columns
                .iter()
                .map(|(s, t, ty, comparable)| ScopeColumn {
                    source: s.to_string(),
                    target: t.to_string(),
                    pg_type: ty.clone(),
                    comparable: *comparable,
                })
                .collect(),
            schema: "public".into(),
            ..Scope::default()
        }
    }

    #[test]
    fn names_are_lowercased_cut_and_deduplicated() {
        assert_eq!(pg_name("Customer", false), "customer");
        assert_eq!(pg_name("Customer", true), "Customer");
        let long = "a".repeat(70);
        let cut = pg_name(&long, false);
        assert!(cut.len() <= 63 && cut.starts_with("aaaa"), "{cut}");
        assert_eq!(cut, pg_name(&long, false));
        assert_ne!(pg_name(&format!("{long}x"), false), cut);
        let unicode = "é".repeat(40);
        assert!(pg_name(&unicode, false).len() <= 63);
        assert!(pg_name("", false).starts_with("unnamed_"));
        let mut ns = Namespace::default();
        assert_eq!(ns.claim("t"), "t");
        assert_eq!(ns.claim("t"), "t_2");
        assert_eq!(ns.claim("t"), "t_3");
        let wide = "b".repeat(63);
        assert_eq!(ns.claim(&wide), wide);
        let second = ns.claim(&wide);
        assert!(second.len() <= 63 && second.ends_with("_2"), "{second}");
    }

    #[test]
    fn expressions_translate_with_renamed_columns() {
        let s = scope(&[
            ("Status", "status", PgType::Text, true),
            ("price", "price", PgType::Double, true),
            ("flag", "flag", PgType::Boolean, false),
        ]);
        assert_eq!(
            translate("Status IN ('a', \"b\")", &s).unwrap(),
            "\"status\" IN ('a', 'b')"
        );
        assert_eq!(
            translate("price >= 0 AND price == 1", &s).unwrap(),
            "\"price\" >= 0 AND \"price\" = 1"
        );
        assert_eq!(
            translate("length(status) > 0", &s).unwrap(),
            "length(\"status\") > 0"
        );
        assert_eq!(
            translate("ifnull(status, 'x') LIKE 'a%'", &s).unwrap(),
            "coalesce(\"status\", 'x') ILIKE 'a%' COLLATE \"C\" ESCAPE ''"
        );
        assert_eq!(
            translate("status IS NOT 'x'", &s).unwrap(),
            "\"status\" IS DISTINCT FROM 'x'"
        );
        assert_eq!(
            translate("status IS NOT NULL", &s).unwrap(),
            "\"status\" IS NOT NULL"
        );
        assert_eq!(
            translate("max(price, 0x10) > 1", &s).unwrap(),
            "CASE WHEN (\"price\") IS NULL OR (16) IS NULL THEN NULL ELSE GREATEST(\"price\", 16) END > 1"
        );
        assert_eq!(
            translate("CAST(price AS INTEGER) > 1", &s).unwrap(),
            "CASE WHEN (\"price\") IS NULL THEN NULL ELSE CAST(trunc(LEAST(GREATEST(CAST(\"price\" AS numeric), -9223372036854775808), 9223372036854775807)) AS bigint) END > 1"
        );
        assert_eq!(
            translate("flag = 1 AND flag != 0", &s).unwrap(),
            "\"flag\" = TRUE AND \"flag\" != FALSE"
        );
        assert_eq!(
            translate("flag IS NOT NULL", &s).unwrap(),
            "\"flag\" IS NOT NULL"
        );
        assert!(translate("flag + 1 = 2", &s)
            .unwrap_err()
            .contains("boolean"));
        assert!(translate("flag = 1 + 1", &s).is_err());
        assert_eq!(
            translate("status GLOB 'a*_?'", &s).unwrap(),
            "\"status\" LIKE 'a%\\__' COLLATE \"C\""
        );
        assert!(translate("status GLOB '[a-c]*'", &s).is_err());
        assert!(translate("typeof(status) = 'text'", &s).is_err());
        assert!(translate("nope > 1", &s).is_err());
        assert!(translate("", &s).is_err());
    }

    #[test]
    fn views_qualify_relations_and_keep_aliases() {
        let mut s = scope(&[
            ("Name", "name", PgType::Text, true),
            ("ArtistId", "artistid", PgType::BigInt, true),
        ]);
        s.relations = vec![ScopeRelation {
            source: "Artist".into(),
            target: "artist".into(),
        }];
        s.query = true;
        let sql = translate("SELECT a.Name AS ArtistName, count(*) FROM Artist a WHERE Artist.ArtistId > 1 GROUP BY a.Name", &s).unwrap();
        assert_eq!(
            sql,
            "SELECT \"a\".\"name\" AS \"artistname\", count(*) FROM \"public\".\"artist\" \"a\" WHERE \"artist\".\"artistid\" > 1 GROUP BY \"a\".\"name\""
        );
    }

    #[test]
    fn literals_follow_the_column_affinity_as_in_sqlite() {
        let s = scope(&[
            ("code", "code", PgType::Text, true),
            ("n", "n", PgType::BigInt, true),
            ("x", "x", PgType::Double, true),
        ]);
        assert_eq!(translate("code = 1", &s).unwrap(), "\"code\" = '1'");
        assert_eq!(translate("1 <> code", &s).unwrap(), "'1' <> \"code\"");
        let mut q = s.clone();
        q.query = true;
        q.relations = vec![ScopeRelation {
            source: "t".into(),
            target: "t".into(),
        }];
        assert_eq!(
            translate("SELECT n FROM t WHERE t.code = 2", &q).unwrap(),
            "SELECT \"n\" FROM \"public\".\"t\" WHERE \"t\".\"code\" = '2'"
        );
        assert_eq!(
            translate("code IN (1, 'a', 2)", &s).unwrap(),
            "\"code\" IN ('1', 'a', '2')"
        );
        assert_eq!(
            translate("code NOT IN (1)", &s).unwrap(),
            "\"code\" NOT IN ('1')"
        );
        assert_eq!(
            translate("n = '5' AND n > 0", &s).unwrap(),
            "\"n\" = '5' AND \"n\" > 0"
        );
        assert_eq!(
            translate("length(code) > 1", &s).unwrap(),
            "length(\"code\") > 1"
        );
        assert!(translate("n <> ''", &s).is_err());
        assert!(translate("n IN ('a')", &s).is_err());
        assert!(translate("code = 1.5", &s).is_err());
        assert!(translate("coalesce(n, '')", &s).is_err());
        assert!(translate("coalesce(code, '')", &s).is_ok());
        assert!(translate("x % 2 = 0", &s).is_err());
        assert!(translate("n % 2 = 0", &s).is_ok());
    }

    #[test]
    fn conditions_must_be_boolean_in_postgresql() {
        let s = scope(&[
            ("a", "a", PgType::BigInt, true),
            ("b", "b", PgType::Text, true),
        ]);
        assert_eq!(
            translate_condition("a > 1 AND b IS NOT NULL", &s).unwrap(),
            "\"a\" > 1 AND \"b\" IS NOT NULL"
        );
        assert!(translate_condition("((a > 1))", &s).is_ok());
        assert!(translate_condition("length(b)", &s).is_err());
        assert!(translate_condition("a", &s).is_err());
        assert!(translate_condition("(a + 1)", &s).is_err());
        assert!(translate_condition("a > 1 AND 1", &s).is_err());
        assert!(translate_condition("a BETWEEN 1 AND 10 AND b <> ''", &s).is_ok());
        assert!(translate_condition("a BETWEEN 1 AND 10 AND 1", &s).is_err());
        assert!(translate_condition("CASE WHEN a > 5 THEN b IS NOT NULL ELSE 1 END", &s).is_err());
    }

    #[test]
    fn typed_columns_pass_where_their_use_is_portable() {
        let mut s = scope(&[
            ("at", "at", PgType::Timestamptz, false),
            ("doc", "doc", PgType::Jsonb, false),
            ("n", "n", PgType::BigInt, true),
        ]);
        assert_eq!(
            translate("at > '2024-01-01'", &s).unwrap(),
            "\"at\" > '2024-01-01'"
        );
        assert!(translate("at > 'yesterday'", &s).is_err());
        assert!(translate("length(doc) > 2", &s).is_err());
        s.relations = vec![ScopeRelation {
            source: "t".into(),
            target: "t".into(),
        }];
        s.query = true;
        assert_eq!(
            translate("SELECT n, at AS when_, max(at), doc FROM t ORDER BY at DESC", &s).unwrap(),
            "SELECT \"n\", \"at\" AS \"when_\", max(\"at\"), \"doc\" FROM \"public\".\"t\" ORDER BY \"at\" DESC"
        );
        assert!(translate("SELECT coalesce(doc, '{}') FROM t", &s).is_err());
        assert!(translate("SELECT n FROM t WHERE doc = '{}'", &s).is_err());
    }

    #[test]
    fn implied_checks_are_recognised() {
        assert!(
            check_implied_by_type("is_archived IN (0, 1)", "is_archived", &PgType::Boolean)
                .is_some()
        );
        assert!(
            check_implied_by_type("\"flag\" = 0 OR flag = 1", "flag", &PgType::Boolean).is_some()
        );
        assert!(check_implied_by_type("json_valid(doc)", "doc", &PgType::Jsonb).is_some());
        assert!(
            check_implied_by_type("doc IS NULL OR json_valid(doc)", "doc", &PgType::Jsonb)
                .is_some()
        );
        assert!(check_implied_by_type("typeof(n) = 'integer'", "n", &PgType::BigInt).is_some());
        assert!(
            check_implied_by_type("datetime(at) IS NOT NULL", "at", &PgType::Timestamptz).is_some()
        );
        assert!(check_implied_by_type("flag IN (0, 1, 2)", "flag", &PgType::Boolean).is_none());
        assert!(check_implied_by_type("json_valid(doc)", "doc", &PgType::Text).is_none());
    }

    #[test]
    fn statements_render_quoted() {
        let columns = vec![
            ColumnDef {
                name: "id".into(),
                pg_type: PgType::BigInt,
                not_null: true,
                default: None,
                identity: true,
                sequence: None,
                generated: None,
            },
            ColumnDef {
                name: "select".into(),
                pg_type: PgType::Text,
                not_null: true,
                default: Some("'x'".into()),
                identity: false,
                sequence: None,
                generated: None,
            },
            ColumnDef {
                name: "two".into(),
                pg_type: PgType::BigInt,
                not_null: false,
                default: None,
                identity: false,
                sequence: None,
                generated: Some("\"id\" * 2".into()),
            },
        ];
        let checks = vec![CheckDef {
            name: Some("ok".into()),
            sql: "\"id\" > 0".into(),
        }];
        assert_eq!(
            create_table("\"public\".\"t\"", &columns, &checks),
            "CREATE TABLE \"public\".\"t\" (\n    \"id\" bigint GENERATED BY DEFAULT AS IDENTITY,\n    \"select\" text NOT NULL DEFAULT 'x',\n    \"two\" bigint GENERATED ALWAYS AS (\"id\" * 2) STORED,\n    CONSTRAINT \"ok\" CHECK (\"id\" > 0)\n)"
        );
        let fk = ForeignKeyDef {
            name: "t_p_fkey".into(),
            columns: vec!["p".into()],
            parent: "\"public\".\"p\"".into(),
            parent_columns: vec!["id".into()],
            on_delete: "CASCADE".into(),
            on_update: "NO ACTION".into(),
            deferrable: Some("DEFERRABLE INITIALLY DEFERRED".into()),
            not_valid: true,
        };
        assert_eq!(
            add_foreign_key("\"public\".\"t\"", &fk),
            "ALTER TABLE \"public\".\"t\" ADD CONSTRAINT \"t_p_fkey\" FOREIGN KEY (\"p\") REFERENCES \"public\".\"p\" (\"id\") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID"
        );
        assert_eq!(
            create_index(
                "i",
                "\"public\".\"t\"",
                true,
                None,
                &["lower(\"a\")".into()],
                Some("\"a\" IS NOT NULL")
            ),
            "CREATE UNIQUE INDEX \"i\" ON \"public\".\"t\" (lower(\"a\")) WHERE \"a\" IS NOT NULL"
        );
    }

    /// Untrusted SQL text (CHECKs, defaults, index and view SQL, type names) must never make
    /// the planner panic: throw random fragments at every parser and translator.
    #[test]
    fn random_sql_never_panics() {
        const PIECES: &[&str] = &[
            "(",
            ")",
            "'",
            "\"",
            "[",
            "]",
            "`",
            "x'",
            "0x",
            "1e",
            "-",
            "+",
            ".",
            ",",
            "==",
            "||",
            "->>",
            "IS",
            "NOT",
            "NULL",
            "IN",
            "CAST",
            "AS",
            "INTEGER",
            "SELECT",
            "FROM",
            "WHERE",
            "LIMIT",
            "min",
            "max",
            "count",
            "json_valid",
            "datetime",
            "'now'",
            "CURRENT_TIMESTAMP",
            "strftime",
            "'%s'",
            "a",
            "b",
            "é",
            "\u{1F680}",
            "\0",
            "--",
            "/*",
            "*/",
            " ",
            "CHECK",
            "DEFAULT",
            "REFERENCES",
            "GENERATED",
            "COLLATE",
            "NOCASE",
            "ON",
            "DEFERRABLE",
            "CONSTRAINT",
            "PRIMARY",
            "KEY",
            "CREATE",
            "TABLE",
            "INDEX",
            "VIEW",
            "VIRTUAL",
            "USING",
            "fts5",
            "=",
            "1",
            "0",
            "2.5",
            "numeric(",
            "99999999999999999999",
            "TRUE",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let scope = scope(&[
            ("a", "a", PgType::Boolean, false),
            ("b", "b", PgType::Text, true),
        ]);
        let mut query = scope.clone();
        query.query = true;
        query.relations = vec![ScopeRelation {
            source: "a".into(),
            target: "a".into(),
        }];
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let sql: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(if next() % 2 == 0 { " " } else { "" });
            let _ = translate(&sql, &scope);
            let _ = translate(&sql, &query);
            let _ = check_implied_by_type(&sql, "a", &PgType::Boolean);
            let _ = columns_used(&sql, &scope);
            for ty in [
                PgType::Timestamptz,
                PgType::Text,
                PgType::Boolean,
                PgType::BigInt,
                PgType::Jsonb,
                PgType::Bytea,
                PgType::Date,
            ] {
                let _ = translate_default(&sql, &ty, Some(Conversion::UnixMilliseconds));
                let _ = translate_default(&sql, &ty, None);
            }
            let _ = crate::transfer::plan::catalog::parse_create_table(&sql);
            let _ = crate::transfer::plan::catalog::parse_create_index(&sql);
            let _ = crate::transfer::model::parse_pg_type(&sql);
            let _ = crate::transfer::plan::sqlite_types::declared_kind(&sql);
            let _ = crate::transfer::plan::sqlite_types::numeric_precision(&sql);
            let _ = crate::transfer::plan::profile::timestamp_shape(&sql);
            let _ = crate::transfer::plan::profile::json_shape(&sql);
            assert!(pg_name(&sql, false).len() <= MAX_IDENTIFIER_BYTES);
        }
    }
}
