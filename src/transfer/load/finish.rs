//! The steps after every table is loaded: identities and sequences moved past the copied ids,
//! foreign keys, views. A foreign key whose parent lost its unique index, or a view PostgreSQL
//! refuses, is reported with its SQL instead of stopping the transfer.

use diesel::pg::PgConnection;

use crate::transfer::error::{Error, Result};
use crate::transfer::load::options::Options;
use crate::transfer::load::state::{self, run_step, Done};
use crate::transfer::load::work::{Step, StepKind};
use crate::transfer::pg::{answered, refusal, Refusal};

/// Runs the finishing steps not yet done; returns a warning for each one left for the user.
pub(crate) fn run_finish(
    options: &Options,
    conn: &mut PgConnection,
    done: &Done,
    steps: &[Step],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for step in steps {
        let Err(e) = run_step(options, conn, done, step) else {
            continue;
        };
        let tolerated = match &e {
            Error::Target {
                message,
                source: Some(server),
                ..
            } => advice(step.kind, server).map(|advice| (message.clone(), advice)),
            _ => None,
        };
        let Some((message, advice)) = tolerated else {
            return Err(e);
        };
        state::mark_done(options, conn, &step.id)?;
        warnings.push(format!(
            "{} not created ({message}); {advice}: {}",
            step.what,
            step.sql.join("; ")
        ));
    }
    Ok(warnings)
}

/// What the user should do about a finishing step the server refused, when the transfer can
/// go on without it. A key whose parent lost its unique index (see
/// `table_steps`) cannot be added, and a view is translated by rules that
/// PostgreSQL may still refuse (a function over a type it does not take). The rows are all in
/// by then, and failing would leave a resumed transfer nothing it could finish: such a step is
/// recorded as done and reported with its SQL. Only a statement error is taken so: the server
/// must have answered.
fn advice(kind: StepKind, error: &diesel::result::Error) -> Option<&'static str> {
    match kind {
        StepKind::ForeignKey if refusal(error) == Refusal::NoUniqueKeyForForeignKey => {
            Some("add it by hand once the parent has its unique index")
        }
        StepKind::View | StepKind::Trigger if answered(error) => Some("create it by hand"),
        _ => None,
    }
}
