//! Text helpers both sides of the transfer use on source values: how a float is spelled so it
//! reads back exactly, and whether a text Diesel read may have had bytes replaced.

/// The shortest text that reads back to the same `f64` (`NaN`, `Infinity`, `-Infinity` as
/// PostgreSQL spells them).
pub fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{x:?}")
    }
}

/// Whether `text` from Diesel's `read_text` may hold a U+FFFD it put in for bytes that are not
/// UTF-8 (its first byte, 0xEF, is rare in most text: one memchr decides).
pub(crate) fn maybe_repaired(text: &str) -> bool {
    text.as_bytes().contains(&0xEF) && text.contains('\u{FFFD}')
}

#[cfg(test)]
mod mutants_tests;
