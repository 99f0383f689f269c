//! The probe: everything planning needs from the SQLite source, read in one step, so the
//! planner after it ([`crate::transfer::plan::planner`]) is a pure function of these [`Facts`]
//! and the options.
//!
//! The probe reads the catalog, sorts the tables by the table options, then profiles the
//! planned tables while a second connection counts the orphan rows of every foreign key. Last
//! it counts the rows whose unique key repeats once converted: which keys need that count, and
//! how their values compare, depends on the type each column gets, so the probe asks the pure
//! table planner ([`crate::transfer::plan::planner::keys_to_probe`]) for those keys first.
//! The decisions are a function of the catalog, the profiles and the options alone, so they are
//! the ones the final plan makes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::dialect::quote_ident;
use crate::transfer::error::{Error, Result};
use crate::transfer::model::PgType;
use crate::transfer::plan::catalog::{self, ForeignKey, Schema, Source, Table};
use crate::transfer::plan::collisions::{normalize_for_key, spelled_alike};
use crate::transfer::plan::facts::{Facts, KeyProbe};
use crate::transfer::plan::options::{self, PlanOptions};
use crate::transfer::plan::planner;
use crate::transfer::plan::profile;

/// How many threads profile the source.
const PROFILE_THREADS: usize = 2;

/// Reads what planning `source` with `options` needs, read-only.
pub(crate) fn probe(source: &Path, options: &PlanOptions) -> Result<Facts> {
    let mut db = Source::open(source)?;
    let mut schema = catalog::introspect(&mut db)?;
    let selection = options::select(&mut schema, options);
    schema.tables = selection.kept;
    // Orphans are counted on a connection of their own while the profile reads: the counts
    // need only the catalog, and on a large child table the count is a long serial query.
    let mut counter = db.reopen()?;
    let (profiles, orphans) = std::thread::scope(|scope| {
        let orphans = scope.spawn(|| count_all_orphans(&mut counter, &schema));
        let profiles = profile::profile(&mut db, &schema, PROFILE_THREADS);
        let orphans = match orphans.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (profiles, orphans)
    });
    let mut facts = Facts {
        source: source.display().to_string(),
        schema,
        left_out: selection.left_out,
        unplannable: selection.unplannable,
        profiles: profiles?,
        orphans,
        collisions: Vec::new(),
        check_violations: HashMap::new(),
    };
    for (t, table) in facts.schema.tables.iter().enumerate() {
        for (c, violations) in count_check_violations(&mut db, table)? {
            facts.check_violations.insert((t, c), violations);
        }
        if let Some(profile) = facts.profiles.get_mut(t) {
            for column in profile.columns.iter_mut().filter(|c| c.mixes_classes()) {
                column.class_collisions =
                    count_class_collisions(&mut db, &table.name, &column.column)?;
            }
        }
    }
    for key in planner::keys_to_probe(&facts, options)? {
        let collisions = count_collisions(&mut db, &key)?;
        if collisions > 0 {
            facts.collisions.push((key, collisions));
        }
    }
    Ok(facts)
}

/// Orphan rows of the foreign keys of `schema`, keyed by (table, foreign key) index.
fn count_all_orphans(db: &mut Source, schema: &Schema) -> HashMap<(usize, usize), Result<u64>> {
    let mut counts = HashMap::new();
    for (t, table) in schema.tables.iter().enumerate() {
        for (f, fk) in table.foreign_keys.iter().enumerate() {
            let parent_known = schema
                .tables
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&fk.parent));
            if parent_known && fk.columns.len() == fk.parent_columns.len() {
                counts.insert((t, f), count_orphans(db, table, fk));
            }
        }
    }
    counts
}

/// Child rows whose key has no parent row. Distinct child keys are checked, each once, with
/// the rows counted per key: an indexed key column is read in order without sorting, and a key
/// repeated on many rows costs one lookup. Keys are grouped byte for byte (`COLLATE BINARY`),
/// the finest grouping, so each group's rows all find a parent or all do not. Parents are
/// matched byte for byte too, as PostgreSQL will compare them.
fn count_orphans(db: &mut Source, table: &Table, fk: &ForeignKey) -> Result<u64> {
    let quote = |name: &str| quote_ident(name).map_err(Error::Invalid);
    let child = quote(&table.name)?;
    let parent = quote(&fk.parent)?;
    let mut keys = Vec::new();
    let mut present = Vec::new();
    let mut groups = Vec::new();
    let mut matched = Vec::new();
    for (i, (c, p)) in fk.columns.iter().zip(&fk.parent_columns).enumerate() {
        let c = quote(c)?;
        keys.push(format!("{c} AS k{i}"));
        present.push(format!("{c} IS NOT NULL"));
        groups.push(format!("{c} COLLATE BINARY"));
        // PostgreSQL's foreign key compares the texts byte for byte, even where the parent
        // column is NOCASE in SQLite: a child `abc` of a parent `ABC` is an orphan there.
        matched.push(format!("p.{} = c.k{i} COLLATE BINARY", quote(p)?));
    }
    let sql = format!(
        "SELECT coalesce(sum(n), 0) AS n FROM (SELECT {}, count(*) AS n FROM {child} WHERE {} GROUP BY {}) AS c WHERE NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {})",
        keys.join(", "),
        present.join(" AND "),
        groups.join(", "),
        matched.join(" AND ")
    );
    let rows = db.query(&sql, &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.get::<i64, _>("n").ok())
        .map_or(0, |n| n.max(0) as u64))
}

/// The rows of `table` each of its CHECKs fails, as SQLite evaluates them (a NULL result
/// passes, as in both databases), by CHECK index; CHECKs every row passes are left out. SQLite
/// enforces CHECKs, but a file written with `ignore_check_constraints`, or before the CHECK was
/// added, may hold rows that fail; PostgreSQL would refuse them. All CHECKs of a table are
/// counted in one pass. A CHECK SQLite cannot evaluate on its own (an unknown function) is
/// counted alone, and left out when it fails.
fn count_check_violations(db: &mut Source, table: &Table) -> Result<Vec<(usize, u64)>> {
    if table.checks.is_empty() || table.virtual_table.is_some() {
        return Ok(Vec::new());
    }
    let name = quote_ident(&table.name).map_err(Error::Invalid)?;
    let failing = |sql: &str| format!("coalesce(sum(CASE WHEN NOT ({sql}) THEN 1 ELSE 0 END), 0)");
    let all: Vec<String> = table
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS c{i}", failing(&c.sql)))
        .collect();
    let counts: Vec<Option<i64>> =
        match db.query(&format!("SELECT {} FROM {name}", all.join(", ")), &[]) {
            Ok(rows) => (0..table.checks.len())
                .map(|i| rows.first().and_then(|r| r.get::<i64, _>(i).ok()))
                .collect(),
            Err(_) => table
                .checks
                .iter()
                .map(|c| {
                    db.query(&format!("SELECT {} AS n FROM {name}", failing(&c.sql)), &[])
                        .ok()
                        .and_then(|rows| rows.first().and_then(|r| r.get::<i64, _>("n").ok()))
                })
                .collect(),
        };
    Ok(counts
        .into_iter()
        .enumerate()
        .filter_map(|(i, n)| n.filter(|&n| n > 0).map(|n| (i, n as u64)))
        .collect())
}

/// Distinct values of `column` held in more than one storage class with the same bytes
/// (`42`, `'42'`, `x'3432'`): one type would make them equal. Run only on columns that mix
/// classes, which are rare; a `GROUP BY` sorts the column once.
fn count_class_collisions(db: &mut Source, table: &str, column: &str) -> Result<u64> {
    let t = quote_ident(table).map_err(Error::Invalid)?;
    let c = quote_ident(column).map_err(Error::Invalid)?;
    let sql = format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM {t} WHERE {c} IS NOT NULL GROUP BY CAST({c} AS BLOB) \
         HAVING count(DISTINCT CASE WHEN typeof({c}) IN ('integer', 'real') THEN 'number' ELSE typeof({c}) END) > 1)"
    );
    let rows = db.query(&sql, &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.get::<i64, _>("n").ok())
        .map_or(0, |n| n.max(0) as u64))
}

/// Rows of `key`'s table that repeat another row's key once converted: candidates by an SQL
/// approximation, then exactly, the way the values will be converted.
fn count_collisions(db: &mut Source, key: &KeyProbe) -> Result<u64> {
    let rows = unique_candidates(db, key)?;
    let mut seen = BTreeSet::new();
    let mut collisions = 0u64;
    for row in &rows {
        let normalized: Vec<String> = key
            .columns
            .iter()
            .zip(row.values())
            .map(|(c, v)| normalize_for_key(&c.pg_type, v))
            .collect();
        if !seen.insert(normalized) {
            collisions += 1;
        }
    }
    Ok(collisions)
}

/// Rows whose key may repeat once converted: grouped in SQLite by the instant to the second
/// and by truth value, at most 100,000 rows.
fn unique_candidates(db: &mut Source, key: &KeyProbe) -> Result<Vec<crate::value::Row>> {
    let quote = |name: &str| quote_ident(name).map_err(Error::Invalid);
    let mut columns = Vec::new();
    let mut groups = Vec::new();
    let mut present = Vec::new();
    for column in &key.columns {
        let q = quote(&column.source)?;
        present.push(format!("{q} IS NOT NULL"));
        groups.push(match (&column.pg_type, column.conversion) {
            (PgType::Timestamptz | PgType::Timestamp, None) => format!("strftime('%Y-%m-%d %H:%M:%S', {q})"),
            (PgType::Boolean, None) => format!(
                "CASE WHEN typeof({q}) = 'text' THEN lower(trim({q})) IN ('1', 't', 'true', 'y', 'yes', 'on') ELSE {q} <> 0 END"
            ),
            // Candidates only: SQLite spells some reals differently from the copier, and
            // `normalize_for_key` decides.
            (pg_type, None) if spelled_alike(pg_type) => format!("CAST({q} AS BLOB)"),
            _ => q.clone(),
        });
        // Text is read as bytes: it need not be UTF-8 in a column headed for bytea.
        columns.push(if spelled_alike(&column.pg_type) {
            format!("CASE WHEN typeof({q}) = 'text' THEN CAST({q} AS BLOB) ELSE {q} END")
        } else {
            q
        });
    }
    let (columns, groups, present) = (columns.join(", "), groups.join(", "), present.join(" AND "));
    let table = quote(&key.table)?;
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE {present} AND ({groups}) IN (SELECT {groups} FROM {table} WHERE {present} GROUP BY {groups} HAVING count(*) > 1) LIMIT 100000"
    );
    db.query(&sql, &[])
}
