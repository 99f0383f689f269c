//! The flags that act on the transfer's errors. The library says what happened (a transfer
//! stopped, a target is not empty) without naming the command line; the command adds which
//! flag to use, so its message stays one line that says what to do.

use dbshift::transfer::Error;

use super::one_line;

/// The line for a transfer error that a flag acts on; `None` for the others.
pub fn with_flags(error: &Error) -> Option<String> {
    let line = match error {
        Error::Stopped { source } => {
            format!(
                "{}; run the same command with --resume to finish the transfer",
                one_line(chain(&**source))
            )
        }
        Error::TargetNotEmpty { .. } => format!(
            "{}; use --if-exists truncate|drop, --resume, or an empty database",
            one_line(chain(error))
        ),
        Error::Unfinished { .. } => format!(
            "{}; run again with --resume to finish it, or with --if-exists drop to start over",
            one_line(chain(error))
        ),
        Error::RecordedWork { .. } => {
            format!("{}; start over with --if-exists drop", one_line(chain(error)))
        }
        Error::AmbiguousConversion { column, .. } => format!(
            "{}: pass --plan FILE with `[columns.\"{column}\"] conversion = \"...\"`, or --orm NAME",
            one_line(chain(error))
        ),
        Error::NaiveTimes { column, .. } => format!(
            "{}: give --source-timezone ZONE, or --plan FILE with `[columns.\"{column}\"] conversion = {{ naive_in_zone = \"ZONE\" }}`, or --orm NAME",
            one_line(chain(error))
        ),
        Error::OffsetTimes { column, .. } => format!(
            "{}: give --plan FILE with `[columns.\"{column}\"] conversion = \"offsets_to_utc\"` (stored as UTC wall-clock time) or `\"naive_only\"` (those rows rejected), or --orm NAME",
            one_line(chain(error))
        ),
        Error::TruncateNeedsDataOnly => "--if-exists truncate keeps the existing tables and needs --data-only; to replace them in a full migration use --if-exists drop".to_string(),
        _ => return None,
    };
    Some(line)
}

/// An error and its causes, outermost first.
fn chain<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| (*e).source())
}
