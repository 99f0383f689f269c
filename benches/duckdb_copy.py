"""DuckDB's copy of a SQLite database into PostgreSQL, for the transfer benchmark.

    python3 benches/duckdb_copy.py SOURCE.sqlite 'host=... port=... user=... dbname=...' [POST.sql]

It loads DuckDB's sqlite and postgres extensions from the files the PyPI packages
`duckdb-ext-sqlite` and `duckdb-ext-postgres` install (no download at run time), attaches both
databases and runs one `CREATE TABLE ... AS SELECT` per table, as a user of DuckDB would. DuckDB
builds no key, index or constraint and keeps SQLite's declared types loosely (JSON and timestamps
arrive as text). With POST.sql, that file runs on PostgreSQL afterwards (the benchmark passes the
keys, indexes and foreign keys of the typed reference schema), for the "DuckDB + keys" row.
The password comes from PGPASSWORD, never from the command line.
"""

import glob
import os
import subprocess
import sys

import duckdb


def extension(name):
    """The path of an installed extension file, whichever site-packages holds it."""
    for root in sys.path:
        found = glob.glob(
            os.path.join(root, "duckdb_ext", "extensions", "v*", "*", f"{name}.duckdb_extension")
        )
        if found:
            return found[0]
    sys.exit(f"the DuckDB extension `{name}` is not installed (pip install duckdb-ext-sqlite duckdb-ext-postgres)")


def literal(text):
    """A SQL string literal (ATTACH takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    source, target = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute(f"LOAD '{extension('sqlite_scanner')}'")
    con.execute(f"LOAD '{extension('postgres_scanner')}'")
    con.execute(f"ATTACH {literal(source)} AS src (TYPE sqlite, READ_ONLY)")
    con.execute(f"ATTACH {literal(target)} AS dst (TYPE postgres)")
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' ORDER BY table_name"
        ).fetchall()
    ]
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        con.execute(f"CREATE TABLE dst.public.{quoted} AS SELECT * FROM src.{quoted}")
    con.close()
    if len(sys.argv) == 4:
        # psql reads the same key=value connection string libpq does.
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target, "-f", sys.argv[3]],
            check=True,
        )


if __name__ == "__main__":
    main()
