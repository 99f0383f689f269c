//! JSON as `jsonb` compares it, written as bytes that are equal exactly when the documents are:
//! keys sorted (the last of duplicate keys wins), strings by their decoded text, numbers by
//! decimal value (`2.50`, `25e-1` and `2.5` alike; beyond `f64`'s range and precision too).
//! Verification hashes this form of every JSON value on both sides, so it is one pass over the
//! bytes with no tree of values: objects are sorted in place in the output buffer.
//!
//! The planner's profile asks [`jsonb_alters`] which documents `jsonb` would not keep as they
//! mean: those are the ones this form folds together with another (a key written twice, a
//! negative zero), and their column becomes `json`, which keeps the text as written.
//!
//! The form (never parsed back): a number is `#` and its [`canonical_decimal`]; a string is
//! `"`, its text with `"`, `\` and control characters escaped, `"`; `true`, `false`, `null`;
//! arrays and objects as in JSON without spaces. Text that is not JSON is compared as it is.

use std::ops::Range;

/// The canonical form of `text` appended to `out`; the text itself when it is not JSON.
pub(crate) fn write_canonical_jsonb(text: &str, out: &mut Vec<u8>) {
    write_canonical(text, out);
}

/// Whether `text` is JSON that `jsonb` stores with less than it says: an object with a key
/// written twice (`jsonb` keeps the last, SQLite's `json_extract` reads the first, and the
/// other value is gone) or a negative zero (`-0`, `-0.0`: `jsonb` keeps `0`, a client reading
/// the text gets a zero of the other sign). Text that is not JSON: `false`.
pub(crate) fn jsonb_alters(text: &str) -> bool {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| {
        let mut out = scratch.borrow_mut();
        out.clear();
        let altered = write_canonical(text, &mut out);
        if out.capacity() > 1 << 20 {
            *out = Vec::new();
        }
        altered
    })
}

/// [`jsonb_alters`] for a text already known to be JSON (the profile has validated it), in one
/// pass that writes nothing: keys are compared as written, and only a document with an escape
/// in a key (`"a"` and `"\u0061"` are one key) is given to the full canonical form. On the
/// benchmark's 850,000 documents the canonical form cost planning a third more CPU.
pub(crate) fn jsonb_alters_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Keys of the open objects, as byte ranges, and where each open object's keys start
    // (`None` for an array).
    let mut keys: Vec<Range<usize>> = Vec::new();
    let mut frames: Vec<Option<usize>> = Vec::new();
    let mut expect_key = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let start = at + 1;
                let mut end = start;
                let mut escaped = false;
                loop {
                    let Some(offset) = memchr::memchr2(b'"', b'\\', &bytes[end..]) else {
                        return false;
                    };
                    end += offset;
                    if bytes[end] == b'"' {
                        break;
                    }
                    escaped = true;
                    end += 2;
                }
                if expect_key {
                    if escaped {
                        return jsonb_alters(text);
                    }
                    let first = frames.last().copied().flatten().unwrap_or(keys.len());
                    let key = &bytes[start..end];
                    if keys[first..].iter().any(|k| &bytes[k.clone()] == key) {
                        return true;
                    }
                    keys.push(start..end);
                    expect_key = false;
                }
                at = end + 1;
                continue;
            }
            b'{' => {
                frames.push(Some(keys.len()));
                expect_key = true;
            }
            b'[' => frames.push(None),
            b'}' => {
                if let Some(Some(first)) = frames.pop() {
                    keys.truncate(first);
                }
            }
            b']' => {
                frames.pop();
            }
            b',' => expect_key = matches!(frames.last(), Some(Some(_))),
            b'-' => {
                // A negative zero: every digit before the exponent is a zero.
                let rest = &bytes[at + 1..];
                let mantissa = rest
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'.'))
                    .map_or(rest, |end| &rest[..end]);
                if mantissa.iter().all(|&b| b == b'0' || b == b'.') {
                    return true;
                }
                at += 1 + mantissa.len();
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    false
}

/// Appends the canonical form (or the text, when it is not JSON); whether that form dropped
/// something the text says (see [`jsonb_alters`]).
fn write_canonical(text: &str, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
        altered: false,
    };
    let parsed = parser.value(out, 0).and_then(|()| {
        parser.skip_space();
        (parser.at == parser.bytes.len()).then_some(())
    });
    if parsed.is_none() {
        out.truncate(start);
        out.extend_from_slice(text.as_bytes());
        return false;
    }
    parser.altered
}

/// Deeper documents are compared as text (serde_json, which this replaces, stopped at 128).
const MAX_DEPTH: usize = 128;

struct Parser<'t> {
    bytes: &'t [u8],
    at: usize,
    /// A duplicate key or a negative zero was folded away.
    altered: bool,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8], out: &mut Vec<u8>) -> Option<()> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            out.extend_from_slice(word);
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        match *self.bytes.get(self.at)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => self.string(out),
            b't' => self.literal(b"true", out),
            b'f' => self.literal(b"false", out),
            b'n' => self.literal(b"null", out),
            b'-' | b'0'..=b'9' => self.number(out),
            _ => None,
        }
    }

    fn array(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.at += 1;
        out.push(b'[');
        if self.eat(b']') {
            out.push(b']');
            return Some(());
        }
        loop {
            self.value(out, depth + 1)?;
            if self.eat(b']') {
                out.push(b']');
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
            out.push(b',');
        }
    }

    /// Members are written as they come, then sorted by key within the output.
    fn object(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.at += 1;
        let start = out.len();
        let mut members: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        if !self.eat(b'}') {
            loop {
                self.skip_space();
                if self.bytes.get(self.at) != Some(&b'"') {
                    return None;
                }
                let key_start = out.len();
                self.string(out)?;
                let key = key_start..out.len();
                if !self.eat(b':') {
                    return None;
                }
                let value_start = out.len();
                self.value(out, depth + 1)?;
                members.push((key, value_start..out.len()));
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        // By key, and for one key the last written first, so that it is the one kept.
        members.sort_by(|(a, a_value), (b, b_value)| {
            out[a.clone()]
                .cmp(&out[b.clone()])
                .then_with(|| b_value.start.cmp(&a_value.start))
        });
        let mut sorted = Vec::with_capacity(out.len() - start + members.len() * 2 + 2);
        sorted.push(b'{');
        let mut previous: Option<&Range<usize>> = None;
        for (key, value) in &members {
            if previous.is_some_and(|p| out[p.clone()] == out[key.clone()]) {
                self.altered = true;
                continue;
            }
            if previous.is_some() {
                sorted.push(b',');
            }
            sorted.extend_from_slice(&out[key.clone()]);
            sorted.push(b':');
            sorted.extend_from_slice(&out[value.clone()]);
            previous = Some(key);
        }
        sorted.push(b'}');
        out.truncate(start);
        out.extend_from_slice(&sorted);
        Some(())
    }

    /// A string by its decoded text: `"`, `\` and control characters escaped the one way.
    fn string(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.at += 1;
        out.push(b'"');
        loop {
            let rest = &self.bytes[self.at..];
            let plain = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            out.extend_from_slice(&rest[..plain]);
            self.at += plain;
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    out.push(b'"');
                    return Some(());
                }
                b'\\' => {
                    let c = self.escape()?;
                    push_char(out, c);
                }
                // A raw control character: not JSON.
                _ => return None,
            }
        }
    }

    /// The character of the escape at `self.at` (a backslash).
    fn escape(&mut self) -> Option<char> {
        let kind = *self.bytes.get(self.at + 1)?;
        self.at += 2;
        Some(match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) {
                    // A surrogate pair, or not JSON text PostgreSQL takes.
                    if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                        return None;
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        let text = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(text, 16).ok()
    }

    fn number(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = self.at;
        while matches!(
            self.bytes.get(self.at),
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
        ) {
            self.at += 1;
        }
        let number = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        if !is_json_number(number) {
            return None;
        }
        // `-0`, `-0.0`, `-0e5`: every digit of the mantissa a zero.
        if let Some(unsigned) = number.strip_prefix('-') {
            let mantissa = unsigned.split(['e', 'E']).next().unwrap_or(unsigned);
            self.altered |= mantissa.bytes().all(|b| b == b'0' || b == b'.');
        }
        out.push(b'#');
        write_canonical_decimal(number, out);
        Some(())
    }
}

/// Writes `c` as the canonical form's string content.
fn push_char(out: &mut Vec<u8>, c: char) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
        c => {
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A JSON number as `[-]digits e exponent` with no leading or trailing zeros (`0` for zero of
/// either sign), so numbers equal in value have equal text. Not a number: returned as it is.
#[cfg(test)]
pub(crate) fn canonical_decimal(number: &str) -> String {
    let mut out = Vec::new();
    write_canonical_decimal(number, &mut out);
    String::from_utf8(out).unwrap_or_else(|_| number.to_string())
}

fn write_canonical_decimal(number: &str, out: &mut Vec<u8>) {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => match unsigned[at + 1..].parse::<i64>() {
            Ok(exponent) => (&unsigned[..at], exponent),
            Err(_) => return out.extend_from_slice(number.as_bytes()),
        },
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit()))
    {
        return out.extend_from_slice(number.as_bytes());
    }
    // The digits of int_part then frac_part, without leading and trailing zeros.
    let all = int_part.bytes().chain(frac_part.bytes());
    let leading = all.clone().take_while(|&b| b == b'0').count();
    let total = int_part.len() + frac_part.len();
    let trailing = all.rev().take_while(|&b| b == b'0').count();
    if leading == total {
        return out.push(b'0');
    }
    if negative {
        out.push(b'-');
    }
    let significant = int_part.bytes().chain(frac_part.bytes());
    out.extend(significant.skip(leading).take(total - leading - trailing));
    let exponent = exponent - frac_part.len() as i64 + trailing as i64;
    out.push(b'e');
    out.extend_from_slice(exponent.to_string().as_bytes());
}

/// Orders canonical forms the way they sort as bytes (for tests).
#[cfg(test)]
pub(crate) fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    write_canonical_jsonb(a, &mut x);
    write_canonical_jsonb(b, &mut y);
    x.cmp(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        let mut out = Vec::new();
        write_canonical_jsonb(text, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn documents_jsonb_holds_equal_have_one_form() {
        let same = [
            (
                r#"{"b": 1, "a": [true, null]}"#,
                r#"{"a":[true,null],"b":1}"#,
            ),
            (r#"{"k": 1, "k": 2}"#, r#"{"k":2}"#),
            (r#"{"k": 1, "j": 0, "k": 2, "k": 3}"#, r#"{"j":0,"k":3}"#),
            ("[2.50, -0, 1E2, 0.001]", "[2.5, 0, 100, 1e-3]"),
            (r#"{"s": "\u00e9\n\/"}"#, "{\"s\":\"é\\n/\"}"),
            (r#""\ud83d\ude00""#, "\"😀\""),
            (" [ ] ", "[]"),
            ("{ }", "{}"),
        ];
        for (a, b) in same {
            assert_eq!(canonical(a), canonical(b), "{a} vs {b}");
        }
        let different = [
            (r#"{"s": "1"}"#, r#"{"s": 1}"#),
            ("[1, 2]", "[2, 1]"),
            ("1e400", "1e401"),
            (r#"{"a": {"b": 1}}"#, r#"{"a": {"b": 2}}"#),
            (r#"["a\"b"]"#, r#"["a", "b"]"#),
            ("true", "1"),
        ];
        for (a, b) in different {
            assert_ne!(compare(a, b), std::cmp::Ordering::Equal, "{a} vs {b}");
        }
    }

    #[test]
    fn what_is_not_json_is_compared_as_it_is() {
        for text in [
            "not json",
            "{\"a\": 1",
            "[1,]",
            "01",
            "1.",
            "-",
            "\"raw\ncontrol\"",
            r#""\ud800""#,
            r#""\x""#,
            "[1] 2",
            "tru",
        ] {
            assert_eq!(canonical(text), text, "{text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(canonical(&deep), deep);
    }

    #[test]
    fn numbers_are_canonical_decimals() {
        assert_eq!(canonical_decimal("-1200"), "-12e2");
        assert_eq!(canonical_decimal("-0.0e5"), "0");
        assert_eq!(canonical_decimal("1.5E+3"), "15e2");
        assert_eq!(canonical_decimal("0.001"), "1e-3");
        assert_eq!(canonical_decimal("100"), "1e2");
        assert_eq!(canonical("[1, -3.0]"), "[#1e0,#-3e0]");
    }

    #[test]
    fn the_one_pass_check_agrees_with_the_canonical_form() {
        let documents = [
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1, "\u0061": 1}"#,
            r#"{"a\"b": 1, "a\"b": 2}"#,
            r#"{"a\\": 1, "b": "x\"y", "c": [1, {"a": 1, "b": {"a": 2}}]}"#,
            r#"[{"x": {"k": [], "k": null}}]"#,
            r#"{"k": [{"k": 1}, {"k": 2}], "j": {"k": 3}}"#,
            r#"{"": 1, " ": 2, "": 3}"#,
            "[-0]",
            r#"{"v": -0.0}"#,
            "[-0e5, 1]",
            "[-0.000E-7]",
            "-0",
            "[-0.5, 0, 0.0, -1e-3, 10, -10, -0.01]",
            r#"{"-0": "-0", "n": -1}"#,
            r#"{"a": {"b": 1}, "b": {"a": 1}}"#,
            r#"[[], {}, [{}], {"a": []}]"#,
            r#""a string, -0""#,
            "  { \"a\" : 1 ,\n \"b\" : 2 }  ",
        ];
        for document in documents {
            assert_eq!(
                jsonb_alters_valid(document),
                jsonb_alters(document),
                "{document}"
            );
        }
    }

    #[test]
    fn what_jsonb_would_fold_away_is_told_apart() {
        for altered in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1, "\u0061": 1}"#,
            r#"[{"x": {"k": [], "k": null}}]"#,
            "[-0]",
            r#"{"v": -0.0}"#,
            "[-0e5, 1]",
            "-0",
        ] {
            assert!(jsonb_alters(altered), "{altered}");
        }
        for kept in [
            r#"{"a": 1, "b": {"a": 2}}"#,
            r#"[{"a": 1}, {"a": 2}]"#,
            "[-0.5, 0, 0.0, -1e-3, 10]",
            r#"{"-0": "-0"}"#,
            "{a: 1}",
            "not json",
            "",
        ] {
            assert!(!jsonb_alters(kept), "{kept}");
        }
    }

    /// JSON text built from a small alphabet of keys and numbers, so that keys repeat and
    /// zeros of both signs turn up, spaced and escaped in several ways.
    fn document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop::sample::select(vec![
            r#""a""#,
            r#""b""#,
            r#""\u0061""#,
            r#""a\"""#,
            r#""""#,
            r#""-0""#,
        ]);
        let number = prop::sample::select(vec![
            "0", "-0", "-0.0", "-0e3", "0.0", "-1", "-0.5", "10", "-0.0001", "1E2",
        ]);
        let leaf = prop_oneof![
            number.prop_map(str::to_string),
            Just("true".to_string()),
            Just(r#""x,-0\"}""#.to_string()),
        ];
        leaf.prop_recursive(4, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                prop::collection::vec((key.clone(), inner), 0..4).prop_map(|members| {
                    let members: Vec<String> =
                        members.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{ {} }}", members.join(",\n"))
                }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_check_agrees_with_the_canonical_form_on_any_document(text in document()) {
            proptest::prop_assert_eq!(jsonb_alters_valid(&text), jsonb_alters(&text), "{}", text);
        }
    }
}
