//! Transfers checked against an independent reading: every value of the source, read by the
//! `sqlite3` shell, against the target as `psql` prints it, with the expected mapping of each
//! column written here by hand (not taken from the plan, the copier or `verify`).

use crate::support::independent::{pg_rows, sqlite_rows};
use crate::support::{dbshift, pg_db, shared_fixture};

/// How a SQLite column should arrive, as the two expressions whose text must agree.
#[derive(Clone, Copy)]
enum Expect {
    /// Integers and texts: the same text on both sides.
    Same,
    /// A REAL kept as `numeric(p, 2)`: SQLite's value rounded to two decimals.
    Numeric2,
    /// A `YYYY-MM-DD HH:MM:SS` text without an offset: a wall-clock `timestamp`, printed as
    /// the same text.
    NaiveTimestamp,
}

impl Expect {
    fn sqlite(self, column: &str) -> String {
        let quoted = format!("\"{column}\"");
        match self {
            Expect::Same => quoted,
            Expect::Numeric2 => format!("printf('%.2f', {quoted})"),
            Expect::NaiveTimestamp => quoted,
        }
    }

    fn pg(self, column: &str) -> String {
        format!("\"{}\"", column.to_lowercase())
    }
}

/// A table: its name, key columns (for the order), and every column with its mapping.
type TableSpec = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, Expect)],
);

/// Chinook's tables.
const CHINOOK: &[TableSpec] = {
    use Expect::*;
    &[
        (
            "Album",
            &["AlbumId"],
            &[("AlbumId", Same), ("Title", Same), ("ArtistId", Same)],
        ),
        (
            "Artist",
            &["ArtistId"],
            &[("ArtistId", Same), ("Name", Same)],
        ),
        (
            "Customer",
            &["CustomerId"],
            &[
                ("CustomerId", Same),
                ("FirstName", Same),
                ("LastName", Same),
                ("Company", Same),
                ("Address", Same),
                ("City", Same),
                ("State", Same),
                ("Country", Same),
                ("PostalCode", Same),
                ("Phone", Same),
                ("Fax", Same),
                ("Email", Same),
                ("SupportRepId", Same),
            ],
        ),
        (
            "Employee",
            &["EmployeeId"],
            &[
                ("EmployeeId", Same),
                ("LastName", Same),
                ("FirstName", Same),
                ("Title", Same),
                ("ReportsTo", Same),
                ("BirthDate", NaiveTimestamp),
                ("HireDate", NaiveTimestamp),
                ("Address", Same),
                ("City", Same),
                ("State", Same),
                ("Country", Same),
                ("PostalCode", Same),
                ("Phone", Same),
                ("Fax", Same),
                ("Email", Same),
            ],
        ),
        ("Genre", &["GenreId"], &[("GenreId", Same), ("Name", Same)]),
        (
            "Invoice",
            &["InvoiceId"],
            &[
                ("InvoiceId", Same),
                ("CustomerId", Same),
                ("InvoiceDate", NaiveTimestamp),
                ("BillingAddress", Same),
                ("BillingCity", Same),
                ("BillingState", Same),
                ("BillingCountry", Same),
                ("BillingPostalCode", Same),
                ("Total", Numeric2),
            ],
        ),
        (
            "InvoiceLine",
            &["InvoiceLineId"],
            &[
                ("InvoiceLineId", Same),
                ("InvoiceId", Same),
                ("TrackId", Same),
                ("UnitPrice", Numeric2),
                ("Quantity", Same),
            ],
        ),
        (
            "MediaType",
            &["MediaTypeId"],
            &[("MediaTypeId", Same), ("Name", Same)],
        ),
        (
            "Playlist",
            &["PlaylistId"],
            &[("PlaylistId", Same), ("Name", Same)],
        ),
        (
            "PlaylistTrack",
            &["PlaylistId", "TrackId"],
            &[("PlaylistId", Same), ("TrackId", Same)],
        ),
        (
            "Track",
            &["TrackId"],
            &[
                ("TrackId", Same),
                ("Name", Same),
                ("AlbumId", Same),
                ("MediaTypeId", Same),
                ("GenreId", Same),
                ("Composer", Same),
                ("Milliseconds", Same),
                ("Bytes", Same),
                ("UnitPrice", Numeric2),
            ],
        ),
    ]
};

#[test]
fn chinook_arrives_value_for_value_as_an_independent_reading_expects() {
    let dir = tempfile::tempdir().unwrap();
    let target = pg_db();
    let source = shared_fixture("chinook.sqlite");
    let output = dbshift(dir.path())
        .args(["migrate", "--quiet"])
        .arg(&source)
        .arg(&target.url)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut tables_checked = 0;
    for (table, key, columns) in CHINOOK {
        let select = |side: fn(Expect, &str) -> String, name: &dyn Fn(&str) -> String| {
            let cells: Vec<String> = columns.iter().map(|(c, e)| side(*e, c)).collect();
            let order: Vec<String> = key.iter().map(|k| name(k)).collect();
            format!(
                "SELECT {} FROM {} ORDER BY {}",
                cells.join(", "),
                name(table),
                order.join(", ")
            )
        };
        let sqlite_sql = select(Expect::sqlite, &|n| format!("\"{n}\""));
        let pg_sql = select(Expect::pg, &|n| format!("\"{}\"", n.to_lowercase()));
        let expected = sqlite_rows(&source, &sqlite_sql);
        let actual = pg_rows(&target.url, &pg_sql);
        assert!(!expected.is_empty(), "{table} has rows in Chinook");
        assert_eq!(expected.len(), actual.len(), "{table}: row count");
        for (want, got) in expected.iter().zip(&actual) {
            assert_eq!(want, got, "{table}: a row differs");
        }
        tables_checked += 1;
    }
    // Every table of the source is checked, not only the ones listed.
    let all = sqlite_rows(
        &source,
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    );
    assert_eq!(
        all[0][0].as_deref(),
        Some(tables_checked.to_string().as_str())
    );
}
