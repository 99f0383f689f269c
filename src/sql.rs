//! Just enough SQL lexing to work on statement text safely: finding `$N` placeholders outside
//! strings, quoted identifiers and comments, and cutting statements at them; and splitting
//! SQLite schema SQL into [`Token`]s for the transfer planner ([`tokenize`]).
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
/// the cut can be kept apart from the text (see [`parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// This range of the text, sent as is.
    Sql(std::ops::Range<usize>),
    /// The parameter `$N` (1-based) goes here.
    Param(usize),
}

/// [`segments`] by byte range instead of by slice, so a backend can keep the cut of a
/// statement it sends again and again (it does, per thread and text, in
/// `backend::statement_cache`) and apply it to the text it is given next time.
pub fn parts(sql: &str, given: usize) -> Result<Vec<Part>, String> {
    let base = sql.as_ptr() as usize;
    Ok(segments(sql, given)?
        .into_iter()
        .map(|segment| match segment {
            Segment::Sql(text) => {
                let start = text.as_ptr() as usize - base;
                Part::Sql(start..start + text.len())
            }
            Segment::Param(n) => Part::Param(n),
        })
        .collect())
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

/// What a [`Token`] of SQLite SQL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: a keyword or an unquoted identifier.
    Word,
    /// An identifier quoted with `"..."`, `[...]` or `` `...` ``.
    QuotedIdent,
    /// A string literal `'...'`.
    String,
    /// A blob literal `x'...'`.
    Blob,
    /// A numeric literal (decimal, real or `0x` hexadecimal).
    Number,
    /// An operator or punctuation: `(`, `,`, `||`, `<=`, ...
    Punct,
}

/// One token of SQLite SQL, borrowing its text. Whitespace and comments are not tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// The token exactly as written (quotes included).
    pub text: &'a str,
    /// Where the token is in the statement, in bytes.
    pub start: usize,
}

impl Token<'_> {
    /// The end of the token in the statement, in bytes.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Whether this is the bare word `keyword` (ASCII case-insensitive).
    pub fn is_word(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// Whether this is the punctuation `punct`.
    pub fn is_punct(&self, punct: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == punct
    }

    /// The name this token stands for when it is an identifier: bare words as written, quoted
    /// identifiers and strings unquoted (SQLite accepts `'name'` where a name is expected).
    pub fn name(&self) -> Option<String> {
        match self.kind {
            TokenKind::Word => Some(self.text.to_string()),
            TokenKind::QuotedIdent | TokenKind::String => Some(unquote(self.text)),
            _ => None,
        }
    }
}

/// Removes the quotes of a quoted identifier or string literal and undoubles inner quotes.
/// Text that is not quoted comes back unchanged; an unterminated quote keeps its content.
pub fn unquote(text: &str) -> String {
    let Some(open) = text.chars().next() else {
        return String::new();
    };
    let close = match open {
        '"' => '"',
        '\'' => '\'',
        '`' => '`',
        '[' => ']',
        _ => return text.to_string(),
    };
    let inner = &text[1..];
    let inner = inner.strip_suffix(close).unwrap_or(inner);
    if open == '[' {
        inner.to_string()
    } else {
        let doubled: String = [close, close].iter().collect();
        inner.replace(&doubled, &close.to_string())
    }
}

/// Splits SQLite SQL into tokens, dropping whitespace and comments. Never fails: an
/// unterminated literal or comment runs to the end of the text.
pub fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'', false);
                kind = TokenKind::String;
            }
            b'x' | b'X' if bytes.get(i + 1) == Some(&b'\'') => {
                i = skip_quoted(bytes, i + 1, b'\'', false);
                kind = TokenKind::Blob;
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i, b, false);
                kind = TokenKind::QuotedIdent;
            }
            b'[' => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                kind = TokenKind::QuotedIdent;
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                kind = TokenKind::Number;
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = number_end(bytes, i);
                kind = TokenKind::Number;
            }
            _ if is_word(b) => {
                i += 1;
                while i < bytes.len() && (is_word(bytes[i]) || bytes[i] == b'$') {
                    i += 1;
                }
                kind = TokenKind::Word;
            }
            _ => {
                let two = sql.get(i..i + 2).unwrap_or("");
                let three = sql.get(i..i + 3).unwrap_or("");
                i += if three == "->>" {
                    3
                } else if matches!(
                    two,
                    "||" | "<=" | ">=" | "<>" | "!=" | "==" | "<<" | ">>" | "->"
                ) {
                    2
                } else {
                    1
                };
                kind = TokenKind::Punct;
            }
        }
        out.push(Token {
            kind,
            text: &sql[start..i],
            start,
        });
    }
    out
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
        i += 2;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            i += 1 + sign;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// Splits a token list at the commas that are not nested in parentheses.
pub fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if token.is_punct(",") && depth == 0 {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        parts.push(&tokens[start..]);
    }
    parts
}

/// The index of the `)` that closes the `(` at `open`, if the text closes it.
pub fn matching_paren(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The statement text a run of tokens covers (from the first token's start to the last's end).
pub fn span<'a>(sql: &'a str, tokens: &[Token<'_>]) -> &'a str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => sql.get(first.start..last.end()).unwrap_or(""),
        _ => "",
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
    fn parts_cut_like_segments_and_check_the_count() {
        let sql = "SELECT $2, '$1' || $1";
        let text = |p: &Part| match p {
            Part::Sql(range) => sql[range.clone()].to_string(),
            Part::Param(n) => format!("<{n}>"),
        };
        assert_eq!(
            parts(sql, 2).unwrap().iter().map(text).collect::<String>(),
            "SELECT <2>, '$1' || <1>"
        );
        assert!(parts(sql, 1).unwrap_err().contains("`$2`"));
        assert!(parts(sql, 3).unwrap_err().contains("`$3`"));
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

    #[test]
    fn tokenizer_splits_sqlite_sql() {
        let sql = "CREATE TABLE \"a\"\"b\" ([x y] INT DEFAULT -1.5e3, `z` TEXT CHECK (z <> 'it''s'), b BLOB DEFAULT x'00ff') -- c\n/* d */";
        let tokens = tokenize(sql);
        let texts: Vec<&str> = tokens.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            vec![
                "CREATE",
                "TABLE",
                "\"a\"\"b\"",
                "(",
                "[x y]",
                "INT",
                "DEFAULT",
                "-",
                "1.5e3",
                ",",
                "`z`",
                "TEXT",
                "CHECK",
                "(",
                "z",
                "<>",
                "'it''s'",
                ")",
                ",",
                "b",
                "BLOB",
                "DEFAULT",
                "x'00ff'",
                ")"
            ]
        );
        assert_eq!(tokens[2].name().unwrap(), "a\"b");
        assert_eq!(tokens[4].name().unwrap(), "x y");
        assert_eq!(tokens[16].name().unwrap(), "it's");
        assert_eq!(tokens[22].kind, TokenKind::Blob);
        assert_eq!(tokens[8].kind, TokenKind::Number);
        let body = &tokens[4..23];
        assert_eq!(split_top_level(body).len(), 3);
        assert_eq!(matching_paren(&tokens, 3), Some(23));
        assert_eq!(span(sql, &tokens[12..18]), "CHECK (z <> 'it''s')");
    }

    #[test]
    fn tokenizer_never_panics_and_keeps_char_boundaries() {
        for sql in [
            "'abc",
            "\"é",
            "[ü",
            "x'",
            "0x",
            "1e",
            "é$1 ->> ü",
            "/*",
            "--",
            "`",
            "\u{1F680}(",
            ".5e+",
        ] {
            let tokens = tokenize(sql);
            for t in &tokens {
                assert_eq!(&sql[t.start..t.end()], t.text);
            }
        }
        assert_eq!(
            tokenize("a->>'b'")
                .iter()
                .map(|t| t.text)
                .collect::<Vec<_>>(),
            vec!["a", "->>", "'b'"]
        );
    }
}
