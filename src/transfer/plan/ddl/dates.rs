//! SQLite's date functions (`date`, `time`, `datetime`, `julianday`, `strftime`) over text in
//! PostgreSQL, with SQLite's semantics: the time value becomes SQLite's own instant, whole
//! milliseconds since 1970 (`YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]]`, month 1-12, day 1-31 counted on
//! from the first of the month as SQLite does, so `2023-02-30` is March 2nd), modifiers move it
//! (`±N days|hours|minutes|seconds|months|years`, `start of day|month|year`), and the result
//! is printed field by field with integer arithmetic and `extract` on a plain timestamp, so
//! the translation stays immutable (usable in generated columns and indexes). Text SQLite
//! reads as no date gives NULL on both sides; text SQLite might read in a form this does not
//! (a zone suffix, a bare time, a Julian day number, 'now') makes PostgreSQL fail loudly rather
//! than answer something else. `localtime`, `utc`, `unixepoch`, `weekday` and the rest stay
//! flagged.

use crate::dialect::quote_literal;
use crate::sql::{unquote, Token, TokenKind};

const DAY: i64 = 86_400_000;

/// The PostgreSQL text of a date function call, or why it is not translated. `value` is the
/// translated time value (text), `format` the strftime format, `modifiers` the literal
/// modifiers.
pub(super) fn date_function(
    function: &str,
    arguments: &[&[Token<'_>]],
    sub: &dyn Fn(&[Token<'_>]) -> Result<String, String>,
) -> Result<String, String> {
    let (format, rest) = match function {
        "strftime" => {
            let Some(([f], rest)) = arguments.split_first().map(|(f, r)| (*f, r)) else {
                return Err("`strftime` without a literal format".into());
            };
            if f.kind != TokenKind::String {
                return Err("`strftime` with a format that is not a literal".into());
            }
            (unquote(f.text), rest)
        }
        "date" => ("%Y-%m-%d".to_string(), arguments),
        "time" => ("%H:%M:%S".to_string(), arguments),
        "datetime" => ("%Y-%m-%d %H:%M:%S".to_string(), arguments),
        "julianday" => (String::new(), arguments),
        _ => return Err(format!("`{function}` is not translated")),
    };
    let Some((value, modifiers)) = rest.split_first() else {
        return Err(format!("`{function}()` reads the clock"));
    };
    if let [t] = value {
        if t.kind == TokenKind::String && unquote(t.text).trim().eq_ignore_ascii_case("now") {
            return Err(format!("`{function}('now')` reads the clock"));
        }
        if t.kind == TokenKind::Number {
            return Err("a Julian day number as a time value is not translated".into());
        }
        // PostgreSQL folds a constant's regular expression without a collation in a generated
        // column; a fixed date is rare enough to leave for review.
        if t.kind == TokenKind::String {
            return Err(format!("`{function}` of a fixed date is not translated"));
        }
    }
    let mut ms = instant(&sub(value)?);
    for modifier in modifiers.iter() {
        let [m] = modifier else {
            return Err("a modifier that is not a literal".into());
        };
        if m.kind != TokenKind::String {
            return Err("a modifier that is not a literal".into());
        }
        ms = modify(&ms, &unquote(m.text))?;
    }
    if function == "julianday" {
        return Ok(format!(
            "(CAST(({ms}) + 210866760000000 AS double precision) / 86400000.0)"
        ));
    }
    print(&format, &ms)
}

/// SQLite's instant of a text: whole milliseconds since 1970-01-01 (NULL when SQLite reads no
/// date). PostgreSQL fails, rather than answer differently, on what SQLite reads in a way this
/// does not: a zone suffix, a bare time, a Julian day number, 'now', more than 3 fractional
/// digits (SQLite rounds them into the instant but prints the fields as written), a day past
/// the end of its month (SQLite prints it as written but counts it on; `make_date` refuses it).
fn instant(text: &str) -> String {
    let t = format!("CAST({text} AS text)");
    let part = |from: usize, len: usize| format!("CAST(substr({t}, {from}, {len}) AS integer)");
    let (year, month, day) = (part(1, 4), part(6, 2), part(9, 2));
    let long = |at: usize, value: String| {
        format!("(CASE WHEN length({t}) > {at} THEN {value} ELSE 0 END)")
    };
    let hour = long(10, part(12, 2));
    let minute = long(10, part(15, 2));
    let second_ms = long(
        16,
        format!("CAST(CAST(substr({t}, 18) AS numeric) * 1000 AS bigint)"),
    );
    let seconds_ok = format!("(length({t}) <= 16 OR {} <= 59)", part(18, 2));
    format!(
        "(CASE WHEN ({t} COLLATE \"C\") ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([ T][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]{{1,3}})?)?)?$' THEN \
         CASE WHEN {month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND 31 AND {hour} <= 24 AND {minute} <= 59 AND {seconds_ok} THEN \
         CAST(make_date({year}, {month}, {day}) - DATE '1970-01-01' AS bigint) * {DAY} + {hour} * 3600000 + {minute} * 60000 + {second_ms} END \
         WHEN ({t} COLLATE \"C\") ~* '^\\s*([-+]?[0-9.]|now)' THEN CAST({} || {t} AS bigint) END)",
        quote_literal("dbshift: a date form SQLite reads and the translation does not: ")
    )
}

/// Milliseconds since 0000-01-01, a whole number of days before 1970: every instant SQLite
/// holds is after it, so `%` gives the time of day with one reading of `ms`.
const BEFORE_YEAR_ZERO: i64 = 62_167_219_200_000;

/// Milliseconds into the day (0 to a day less one), for instants before 1970 too.
fn time_of_day(ms: &str) -> String {
    format!("((({ms}) + {BEFORE_YEAR_ZERO}) % {DAY})")
}

/// The plain timestamp of an instant, for its calendar fields.
fn timestamp(ms: &str) -> String {
    format!("(TIMESTAMP '1970-01-01 00:00:00' + ({ms}) * INTERVAL '1 millisecond')")
}

/// An instant from a year, a month (counted on past 12 as SQLite does) and a day of that
/// month (counted on from the first), with the time of day of `ms`.
fn from_fields(year: &str, month: &str, day: &str, ms: &str) -> String {
    format!(
        "(CAST((make_date(CAST({year} + floor((({month}) - 1) / 12.0) AS integer), CAST(mod(mod(({month}) - 1, 12) + 12, 12) + 1 AS integer), 1) - DATE '1970-01-01') + ({day}) - 1 AS bigint) * {DAY} + {})",
        time_of_day(ms)
    )
}

fn field(ms: &str, name: &str) -> String {
    format!("CAST(extract({name} FROM {}) AS integer)", timestamp(ms))
}

/// The instant `ms` moved by one modifier.
fn modify(ms: &str, modifier: &str) -> Result<String, String> {
    let words: Vec<String> = modifier
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let (year, month, day) = (field(ms, "year"), field(ms, "month"), field(ms, "day"));
    Ok(match words.as_slice() {
        ["start", "of", "day"] => format!("(({ms}) - {})", time_of_day(ms)),
        ["start", "of", "month"] => format!(
            "(({}) - {})",
            from_fields(&year, &month, "1", ms),
            time_of_day(ms)
        ),
        ["start", "of", "year"] => format!(
            "(({}) - {})",
            from_fields(&year, "1", "1", ms),
            time_of_day(ms)
        ),
        [amount, unit] => {
            let n: i64 = amount
                .strip_prefix('+')
                .unwrap_or(amount)
                .parse()
                .map_err(|_| format!("modifier `{modifier}` is not a whole number of units"))?;
            let unit = unit.strip_suffix('s').unwrap_or(unit);
            match unit {
                "day" => format!("(({ms}) + ({n}) * CAST({DAY} AS bigint))"),
                "hour" => format!("(({ms}) + ({n}) * CAST(3600000 AS bigint))"),
                "minute" => format!("(({ms}) + ({n}) * CAST(60000 AS bigint))"),
                "second" => format!("(({ms}) + ({n}) * CAST(1000 AS bigint))"),
                "month" => from_fields(&year, &format!("{month} + ({n})"), &day, ms),
                "year" => from_fields(&format!("{year} + ({n})"), &month, &day, ms),
                _ => return Err(format!("modifier `{modifier}` is not translated")),
            }
        }
        _ => return Err(format!("modifier `{modifier}` is not translated")),
    })
}

/// The strftime text of `ms`: `%Y %m %d %H %M %S %f %s %j %w %%`, each field padded as SQLite
/// pads it.
fn print(format: &str, ms: &str) -> Result<String, String> {
    let pad = |value: String, width: usize| format!("lpad(CAST({value} AS text), {width}, '0')");
    let tod = time_of_day(ms);
    let mut pieces: Vec<String> = Vec::new();
    let mut literal = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let spec = chars.next().ok_or("a `%` at the end of the format")?;
        if spec == '%' {
            literal.push('%');
            continue;
        }
        if !literal.is_empty() {
            pieces.push(quote_literal(&std::mem::take(&mut literal)));
        }
        pieces.push(match spec {
            'Y' => pad(field(ms, "year"), 4),
            'm' => pad(field(ms, "month"), 2),
            'd' => pad(field(ms, "day"), 2),
            'H' => pad(format!("({tod} / 3600000)"), 2),
            'M' => pad(format!("({tod} / 60000 % 60)"), 2),
            'S' => pad(format!("({tod} / 1000 % 60)"), 2),
            'f' => format!(
                "{} || '.' || {}",
                pad(format!("({tod} / 1000 % 60)"), 2),
                pad(format!("({tod} % 1000)"), 3)
            ),
            // Whole seconds, rounded down (before 1970 too), as SQLite counts them.
            's' => format!(
                "CAST((({ms}) + {BEFORE_YEAR_ZERO}) / 1000 - {} AS text)",
                BEFORE_YEAR_ZERO / 1000
            ),
            'j' => pad(field(ms, "doy"), 3),
            'w' => format!("CAST({} AS text)", field(ms, "dow")),
            other => return Err(format!("strftime `%{other}` is not translated")),
        });
    }
    if !literal.is_empty() {
        pieces.push(quote_literal(&literal));
    }
    let text = match pieces.len() {
        0 => "''".to_string(),
        _ => pieces.join(" || "),
    };
    // No date is NULL, whatever the format's own text.
    Ok(format!(
        "(CASE WHEN ({ms}) IS NULL THEN NULL ELSE CAST({text} AS text) END)"
    ))
}
