//! SQLite's reading of a declared column type: its affinity (section 3.1 of SQLite's datatype
//! documentation) and the more precise kind the type name spells (BOOLEAN, DATETIME, JSON...).
//! Both the profiler and the cast decisions read declared types through these rules.

/// SQLite's type affinity of a declared type (the rules of section 3.1 of SQLite's datatype
/// documentation, in their order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    /// Contains `INT`.
    Integer,
    /// Contains `CHAR`, `CLOB` or `TEXT`.
    Text,
    /// Contains `BLOB`, or no type at all.
    Blob,
    /// Contains `REAL`, `FLOA` or `DOUB`.
    Real,
    /// Anything else.
    Numeric,
}

/// The affinity SQLite gives a column declared `declared`.
pub fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// `(p, s)` of a declared `DECIMAL(p, s)` / `NUMERIC(p, s)` (`s` is 0 when left out), when
/// PostgreSQL accepts it (1 <= p <= 1000, s <= p).
pub fn numeric_precision(declared: &str) -> Option<(u32, u32)> {
    let upper = declared.to_ascii_uppercase();
    let base = upper.split('(').next()?.trim();
    if !matches!(base, "DECIMAL" | "NUMERIC" | "DEC") {
        return None;
    }
    let inside = upper.split_once('(')?.1.split_once(')')?.0;
    let mut numbers = inside.split(',').map(|n| n.trim().parse::<u32>());
    let p = numbers.next()?.ok()?;
    let s = match numbers.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    (numbers.next().is_none() && (1..=1000).contains(&p) && s <= p).then_some((p, s))
}

/// What the declared type names, beyond its affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// BOOLEAN, BOOL, BIT.
    Boolean,
    /// SMALLINT, INT2, TINYINT.
    SmallInt,
    /// INT, INT4, MEDIUMINT.
    Int4,
    /// Any other integer name (INTEGER, BIGINT, INT8, UNSIGNED BIG INT...).
    BigInt,
    /// REAL, FLOAT, DOUBLE (PRECISION).
    Double,
    /// DECIMAL/NUMERIC, with `(p, s)` when valid.
    Decimal(Option<(u32, u32)>),
    /// DATE.
    Date,
    /// DATETIME, TIMESTAMP (with or without time zone).
    Timestamp,
    /// TIME.
    Time,
    /// JSON, JSONB.
    Json,
    /// UUID, GUID.
    Uuid,
    /// Text affinity names (TEXT, VARCHAR(n), CHAR(n), CLOB, ...).
    Text,
    /// BLOB.
    Blob,
    /// No declared type.
    None,
    /// Any other name (numeric affinity by SQLite's rules).
    Unknown,
}

pub(crate) fn normalize_declared(declared: &str) -> String {
    declared
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

/// Reads a declared type.
pub fn declared_kind(declared: &str) -> Declared {
    let upper = normalize_declared(declared);
    let base = upper.split('(').next().unwrap_or("").trim();
    match base {
        "" => Declared::None,
        "BOOLEAN" | "BOOL" | "BIT" => Declared::Boolean,
        // MySQL's spelling of a boolean, common in exported schemas.
        "TINYINT" if upper.replace(' ', "").ends_with("(1)") => Declared::Boolean,
        "SMALLINT" | "INT2" | "TINYINT" => Declared::SmallInt,
        "INT" | "INT4" | "MEDIUMINT" => Declared::Int4,
        "DATE" => Declared::Date,
        "DATETIME"
        | "TIMESTAMP"
        | "TIMESTAMPTZ"
        | "TIMESTAMP WITH TIME ZONE"
        | "TIMESTAMP WITHOUT TIME ZONE" => Declared::Timestamp,
        "TIME" => Declared::Time,
        "JSON" | "JSONB" => Declared::Json,
        "UUID" | "GUID" | "UNIQUEIDENTIFIER" => Declared::Uuid,
        "DECIMAL" | "NUMERIC" | "DEC" => Declared::Decimal(numeric_precision(&upper)),
        _ => match affinity(&upper) {
            Affinity::Integer => Declared::BigInt,
            Affinity::Text => Declared::Text,
            Affinity::Blob => Declared::Blob,
            Affinity::Real => Declared::Double,
            Affinity::Numeric => Declared::Unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_follows_sqlite_rules() {
        assert_eq!(affinity("INTEGER"), Affinity::Integer);
        assert_eq!(affinity("POINT"), Affinity::Integer); // contains INT, as SQLite says
        assert_eq!(affinity("VARCHAR(10)"), Affinity::Text);
        assert_eq!(affinity(""), Affinity::Blob);
        assert_eq!(affinity("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(affinity("DATETIME"), Affinity::Numeric);
        assert_eq!(numeric_precision("DECIMAL(10, 2)"), Some((10, 2)));
        assert_eq!(numeric_precision("numeric(5)"), Some((5, 0)));
        assert_eq!(numeric_precision("DECIMAL(2,5)"), None);
        assert_eq!(declared_kind("unsigned big int"), Declared::BigInt);
        assert_eq!(
            declared_kind("TIMESTAMP WITH TIME ZONE"),
            Declared::Timestamp
        );
        assert_eq!(declared_kind("STRING"), Declared::Unknown);
        assert_eq!(declared_kind("tinyint(1)"), Declared::Boolean);
        assert_eq!(declared_kind("TINYINT"), Declared::SmallInt);
    }
}
