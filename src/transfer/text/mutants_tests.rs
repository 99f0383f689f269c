//! The float spelling and the repaired-text test, at the cases `cargo mutants` found
//! unchecked (see `docs/testing.md`).

use super::*;

#[test]
fn floats_are_spelled_as_postgresql_reads_them() {
    assert_eq!(float_text(f64::INFINITY), "Infinity");
    assert_eq!(float_text(f64::NEG_INFINITY), "-Infinity");
    assert_eq!(float_text(f64::NAN), "NaN");
    assert_eq!(float_text(0.1), "0.1");
    assert_eq!(float_text(-0.0), "-0.0");
    assert_eq!(float_text(1e300).parse::<f64>().unwrap(), 1e300);
}

#[test]
fn only_a_replacement_character_counts_as_a_repair() {
    assert!(maybe_repaired("a\u{FFFD}b"));
    // 0xEF starts other characters too: U+F000..U+FFFF that are not U+FFFD.
    assert!(!maybe_repaired("\u{FEFF}"));
    assert!(!maybe_repaired("plain"));
    assert!(!maybe_repaired(""));
}
