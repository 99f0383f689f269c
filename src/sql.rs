//! Just enough SQL lexing to work on statement text safely: finding `$N` placeholders outside
//! strings, quoted identifiers and comments, and cutting statements at them.
//!
//! dbshift's one placeholder style is PostgreSQL's numbered `$1, $2, ...` on both backends. A
//! number may repeat and appear in any order. SQLite would read `$1` as a *named* parameter and
//! number names by first appearance, so backends never send `$N` as written: they cut the
//! statement at each placeholder ([`segments`]) and bind the N-th value there in the driver's
//! own style.

/// A lexical piece of SQL text, as far as placeholders care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Code outside any literal or comment.
    Code,
    /// A string literal, quoted identifier or dollar-quoted string (kept verbatim).
    Quoted,
    /// A comment.
    Comment,
    /// A `$N` placeholder with its number.
    Placeholder(usize),
}

/// Splits `sql` into `(piece, byte range)` parts covering the whole text.
pub fn lex(sql: &str) -> Vec<(Piece, std::ops::Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    let push = |out: &mut Vec<_>, piece, start: usize, end: usize, code_start: &mut usize| {
        if *code_start < start {
            out.push((Piece::Code, *code_start..start));
        }
        out.push((piece, start..end));
        *code_start = end;
    };
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\'' => {
                // PostgreSQL E'...' strings allow backslash escapes.
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && (i < 2 || !is_word(bytes[i - 2]));
                Some((Piece::Quoted, skip_quoted(bytes, i, b'\'', escapes)))
            }
            b'"' => Some((Piece::Quoted, skip_quoted(bytes, i, b'"', false))),
            b'`' => Some((Piece::Quoted, skip_quoted(bytes, i, b'`', false))),
            b'[' => Some((
                Piece::Quoted,
                bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |p| i + p + 1),
            )),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some((
                Piece::Comment,
                bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1),
            )),
            b'/' if bytes.get(i + 1) == Some(&b'*') => Some((
                Piece::Comment,
                sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2),
            )),
            b'$' => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let prev_is_word = i > 0 && is_word(bytes[i - 1]);
                if digits > 0 && !prev_is_word {
                    let n = sql[i + 1..i + 1 + digits].parse().unwrap_or(usize::MAX);
                    Some((Piece::Placeholder(n), i + 1 + digits))
                } else if !prev_is_word {
                    dollar_quote_end(sql, i).map(|end| (Piece::Quoted, end))
                } else {
                    None
                }
            }
            _ => None,
        };
        match end {
            Some((piece, end)) => {
                push(&mut out, piece, i, end, &mut code_start);
                i = end;
            }
            None => i += 1,
        }
    }
    if code_start < bytes.len() {
        out.push((Piece::Code, code_start..bytes.len()));
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash_escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The end of a `$tag$ ... $tag$` string starting at `start`, if one starts there.
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let rest = &sql[start + 1..];
    let tag_len = rest.find('$')?;
    let tag = &rest[..tag_len];
    if !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || tag.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let delimiter = &sql[start..start + tag_len + 2];
    let body_start = start + tag_len + 2;
    Some(
        sql[body_start..]
            .find(delimiter)
            .map_or(sql.len(), |p| body_start + p + delimiter.len()),
    )
}

/// The highest placeholder number used in `sql` (0 when there are none).
pub fn placeholder_count(sql: &str) -> usize {
    lex(sql)
        .into_iter()
        .filter_map(|(piece, _)| match piece {
            Piece::Placeholder(n) => Some(n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// A statement cut at its placeholders: SQL text, and the 1-based parameter to bind in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// SQL text, sent as is.
    Sql(&'a str),
    /// The parameter `$N` (1-based) goes here.
    Param(usize),
}

/// Cuts `sql` at its `$N` placeholders after checking them against the `given` parameter
/// count (see [`check_placeholders`]). A backend pushes each `Sql` part as text and binds the
/// N-th value at each `Param`, letting the driver number the binds in its own style, so a
/// parameter may repeat and appear in any order on every backend.
pub fn segments(sql: &str, given: usize) -> Result<Vec<Segment<'_>>, String> {
    // Lexed once for both the check and the cut: this runs for every statement a backend sends.
    let pieces = lex(sql);
    check_pieces(&pieces, given)?;
    let mut out: Vec<Segment<'_>> = Vec::with_capacity(2 * given + 1);
    let mut text_start: Option<usize> = None;
    for (piece, range) in pieces {
        match piece {
            Piece::Placeholder(n) => {
                if let Some(start) = text_start.take() {
                    out.push(Segment::Sql(&sql[start..range.start]));
                }
                out.push(Segment::Param(n));
            }
            _ => {
                text_start.get_or_insert(range.start);
            }
        }
    }
    if let Some(start) = text_start {
        out.push(Segment::Sql(&sql[start..]));
    }
    Ok(out)
}

/// A part of a statement cut at its placeholders, by byte range of the statement's text, so
/// the cut can be kept apart from the text (see [`cached_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// This range of the text, sent as is.
    Sql(std::ops::Range<usize>),
    /// The parameter `$N` (1-based) goes here.
    Param(usize),
}

/// The most statements [`cached_parts`] keeps per thread before it starts over.
const CACHED_STATEMENTS: usize = 1024;

/// Cut statements by text, with the parameter count they were checked against.
type Cuts = std::collections::HashMap<
    Box<str>,
    (std::rc::Rc<[Part]>, usize),
    std::hash::BuildHasherDefault<TextHasher>,
>;

thread_local! {
    static CUTS: std::cell::RefCell<Cuts> = std::cell::RefCell::new(Cuts::default());
}

/// FxHash (rustc's hasher), eight bytes a step. The keys are the application's own SQL, so
/// resisting crafted collisions matters less than hashing a statement in a few dozen
/// instructions instead of SipHash's few hundred.
#[derive(Default)]
struct TextHasher(u64);

impl std::hash::Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// [`segments`], remembered per thread by SQL text: backends send the same statements again and
/// again, and lexing one cost a point read about a tenth of its time. Checks the placeholders
/// against `given` the same way; an error is not remembered. The cache holds at most
/// 1,024 texts per thread and starts over when full, so SQL built with literals
/// in it cannot grow it without bound.
pub fn cached_parts(sql: &str, given: usize) -> Result<std::rc::Rc<[Part]>, String> {
    if let Some(parts) = CUTS.with(|cuts| match cuts.borrow().get(sql) {
        Some((parts, checked)) if *checked == given => Some(parts.clone()),
        _ => None,
    }) {
        return Ok(parts);
    }
    let base = sql.as_ptr() as usize;
    let parts: std::rc::Rc<[Part]> = segments(sql, given)?
        .into_iter()
        .map(|segment| match segment {
            Segment::Sql(text) => {
                let start = text.as_ptr() as usize - base;
                Part::Sql(start..start + text.len())
            }
            Segment::Param(n) => Part::Param(n),
        })
        .collect();
    CUTS.with(|cuts| {
        let mut cuts = cuts.borrow_mut();
        if cuts.len() >= CACHED_STATEMENTS {
            cuts.clear();
        }
        cuts.insert(sql.into(), (parts.clone(), given));
    });
    Ok(parts)
}

/// Checks that `sql` uses placeholders `$1..$N` with N equal to the number of parameters given.
pub fn check_placeholders(sql: &str, given: usize) -> Result<(), String> {
    check_pieces(&lex(sql), given)
}

fn check_pieces(pieces: &[(Piece, std::ops::Range<usize>)], given: usize) -> Result<(), String> {
    let mut used = vec![false; given];
    for (piece, _) in pieces {
        if let Piece::Placeholder(n) = *piece {
            if n == 0 || n > given {
                return Err(format!(
                    "the statement uses `${n}` but {given} parameter(s) were given"
                ));
            }
            used[n - 1] = true;
        }
    }
    match used.iter().position(|u| !u) {
        Some(i) => Err(format!(
            "parameter `${}` is given but not used by the statement",
            i + 1
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_strings_identifiers_and_comments_are_left_alone() {
        let sql = "SELECT '$1', \"$2\", $$ $3 $$, $tag$ $4 $tag$, E'\\' $5', x$6 /* $7 */ -- $8\n, $2, $1";
        assert_eq!(placeholder_count(sql), 2);
        let segments = segments(sql, 2).unwrap();
        assert_eq!(segments.len(), 4);
        assert_eq!(
            segments[0],
            Segment::Sql(
                "SELECT '$1', \"$2\", $$ $3 $$, $tag$ $4 $tag$, E'\\' $5', x$6 /* $7 */ -- $8\n, "
            )
        );
        assert_eq!(
            &segments[1..],
            &[Segment::Param(2), Segment::Sql(", "), Segment::Param(1)]
        );
    }

    #[test]
    fn reuse_and_reordering_keep_their_numbers() {
        let params: Vec<usize> = segments("a = $2 OR b = $1 OR c = $2", 2)
            .unwrap()
            .into_iter()
            .filter_map(|s| match s {
                Segment::Param(n) => Some(n),
                Segment::Sql(_) => None,
            })
            .collect();
        assert_eq!(params, vec![2, 1, 2]);
        assert!(check_placeholders("a = $2 OR b = $1 OR c = $2", 2).is_ok());
        assert!(check_placeholders("a = $3", 2)
            .unwrap_err()
            .contains("`$3`"));
        assert!(check_placeholders("a = $2", 2)
            .unwrap_err()
            .contains("`$1`"));
        assert_eq!(
            segments("SELECT 1", 0).unwrap(),
            vec![Segment::Sql("SELECT 1")]
        );
    }

    #[test]
    fn cached_parts_cut_like_segments_and_check_every_time() {
        let sql = "SELECT $2, '$1' || $1";
        for _ in 0..2 {
            let parts = cached_parts(sql, 2).unwrap();
            let text = |p: &Part| match p {
                Part::Sql(range) => sql[range.clone()].to_string(),
                Part::Param(n) => format!("<{n}>"),
            };
            assert_eq!(
                parts.iter().map(text).collect::<String>(),
                "SELECT <2>, '$1' || <1>"
            );
        }
        assert!(cached_parts(sql, 1).unwrap_err().contains("`$2`"));
        assert!(cached_parts(sql, 3).unwrap_err().contains("`$3`"));
        assert!(cached_parts(sql, 2).is_ok());
    }

    #[test]
    fn lexing_never_panics_on_unterminated_input() {
        for sql in [
            "'abc",
            "\"abc",
            "/* abc",
            "$tag$ abc",
            "[abc",
            "$",
            "E'\\",
            "$é$",
            "é$1",
        ] {
            let pieces = lex(sql);
            assert_eq!(pieces.last().map(|(_, r)| r.end), Some(sql.len()), "{sql}");
        }
    }
}
