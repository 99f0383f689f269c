//! PostgreSQL names for SQLite objects: one namespace for relations and constraints, names
//! dbshift makes up (`t_pkey`, `t_a_key`), and a review note for every name that is not simply
//! the source name. Names keep their case when asked, or when an ORM wrote the source (ORMs
//! quote every name, so the application asks for `"LegacyCode"`: `PlanOptions::with_orm`);
//! otherwise every mixed-case name that is lowercased is listed.

use crate::transfer::plan::ddl;
use crate::transfer::plan::planner::Planner;

impl Planner<'_> {
    /// Claims the PostgreSQL name of the relation `source` (a `what`: table, view).
    pub(crate) fn name(&mut self, source: &str, what: &str) -> String {
        let wanted = ddl::pg_name(source, self.options.keep_case);
        let claimed = self.relations.claim(&wanted);
        self.note_rename(&format!("{what} `{source}`"), source, &wanted, &claimed);
        claimed
    }

    /// Claims a name dbshift makes up (`t_pkey`, `t_a_b_key`, `t_a_fkey`), cut to 63 bytes.
    pub(crate) fn derived_name(&mut self, name: String) -> String {
        self.relations.claim(&ddl::pg_name(&name, true))
    }

    /// Notes a name that is not simply the source name (lowercased unless keeping case).
    pub(crate) fn note_rename(&mut self, object: &str, source: &str, wanted: &str, claimed: &str) {
        let plain = if self.options.keep_case {
            source.to_string()
        } else {
            source.to_lowercase()
        };
        if plain != source && claimed == plain {
            self.lowercased.push(format!("{object} -> `{claimed}`"));
        }
        if claimed != plain {
            let why = if claimed != wanted {
                "its PostgreSQL name collides with another one"
            } else if plain.len() > ddl::MAX_IDENTIFIER_BYTES {
                "it is longer than PostgreSQL's 63-byte limit"
            } else {
                "PostgreSQL cannot use the name as it is"
            };
            self.note(
                object.to_string(),
                format!("renamed to `{claimed}` because {why}"),
                None,
            );
        }
    }
}

impl Planner<'_> {
    /// One warning listing every mixed-case name that was lowercased: an application that
    /// quotes it (`"UserId"`) will not find it.
    pub(crate) fn note_lowercased(&mut self) {
        if self.lowercased.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.lowercased);
        self.warn(
            "names".into(),
            format!(
                "{} mixed-case name(s) lowercased, so queries that quote them (as ORMs do) will not find them; `--keep-case` (or `--orm NAME` for an ORM's source) keeps them: {}",
                names.len(),
                names.join(", ")
            ),
            None,
        );
    }
}
