//! PostgreSQL names for SQLite ones: lowercased unless asked to keep case, cut to 63 bytes with
//! a short hash so cut names stay distinct, quoted, and made unique within a [`Namespace`].

use std::collections::BTreeSet;

use crate::dialect::quote_ident;

/// PostgreSQL's identifier limit, in bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Quotes a planned name. Planned names never hold NUL ([`pg_name`] removes it); should one,
/// the NUL is dropped rather than failing.
pub fn q(name: &str) -> String {
    quote_ident(name)
        .unwrap_or_else(|_| quote_ident(&name.replace('\0', "")).unwrap_or_else(|_| "\"\"".into()))
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", q(schema), q(name))
}

/// The PostgreSQL spelling of a SQLite name: lowercase unless `keep_case`, NUL removed, never
/// empty, and cut to 63 bytes with a stable hash of the full name appended when longer.
pub fn pg_name(source: &str, keep_case: bool) -> String {
    let mut name: String = if keep_case {
        source.to_string()
    } else {
        source.to_lowercase()
    };
    name.retain(|c| c != '\0');
    if name.is_empty() {
        name = format!("unnamed_{}", short_hash(source));
    }
    fit(&name, &short_hash(source))
}

/// Cuts `name` so that `name_suffix` fits in 63 bytes (at a character boundary).
fn fit(name: &str, suffix: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_string();
    }
    let room = MAX_IDENTIFIER_BYTES - suffix.len() - 1;
    let mut cut = room;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{suffix}", &name[..cut])
}

/// 8 hex digits of FNV-1a over `text`: stable across runs and platforms.
pub fn short_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", (hash >> 32) as u32 ^ hash as u32)
}

/// Names already taken in one PostgreSQL namespace (the relations of a schema, the columns of
/// a table). [`Namespace::claim`] hands out the wanted name or, when taken, a numbered variant,
/// so the same input always gives the same names.
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    /// Takes `wanted`, or `wanted_2`, `wanted_3`, ... (each cut to 63 bytes) when it is taken.
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = fit(&format!("{wanted}_{n}"), &format!("{n}"));
            if name.len() > MAX_IDENTIFIER_BYTES || !name.ends_with(&n.to_string()) {
                name = fit(wanted, &n.to_string());
            }
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}
