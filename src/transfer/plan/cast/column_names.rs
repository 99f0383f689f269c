//! What a column's name suggests it holds (a flag, a date/time, a JSON document). The cast
//! decisions use these hints only when the values agree.

/// `snake_case` of a name, lowercase: `createdAt` and `CreatedAt` become `created_at`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out.replace([' ', '-'], "_")
}

/// Whether a name reads like a boolean flag.
pub fn is_flag_name(name: &str) -> bool {
    let n = snake(name);
    const PREFIXES: &[&str] = &[
        "is_", "has_", "can_", "should_", "was_", "allow_", "allows_", "needs_", "show_", "use_",
        "enable_",
    ];
    const SUFFIXES: &[&str] = &[
        "_flag",
        "_enabled",
        "_disabled",
        "_active",
        "_deleted",
        "_visible",
        "_hidden",
        "_archived",
        "_verified",
        "_published",
        "_locked",
    ];
    const EXACT: &[&str] = &[
        "flag",
        "enabled",
        "disabled",
        "active",
        "deleted",
        "visible",
        "hidden",
        "archived",
        "published",
        "verified",
        "locked",
        "done",
        "admin",
    ];
    PREFIXES.iter().any(|p| n.starts_with(p))
        || SUFFIXES.iter().any(|s| n.ends_with(s))
        || EXACT.contains(&n.as_str())
}

/// Whether a name reads like a date or time (and not like a duration).
pub fn is_time_name(name: &str) -> bool {
    let n = snake(name);
    const SUFFIXES: &[&str] = &[
        "_at",
        "_on",
        "_date",
        "_time",
        "_ts",
        "_timestamp",
        "_datetime",
    ];
    const WORDS: &[&str] = &[
        "at",
        "date",
        "time",
        "ts",
        "timestamp",
        "datetime",
        "created",
        "updated",
        "modified",
        "deleted",
        "expires",
        "expiry",
    ];
    const DURATIONS: &[&str] = &[
        "duration", "elapsed", "latency", "interval", "timeout", "ttl", "age", "spent", "delay",
    ];
    let parts: Vec<&str> = n.split('_').collect();
    if parts.iter().any(|p| DURATIONS.contains(p)) {
        return false;
    }
    SUFFIXES.iter().any(|s| n.ends_with(s)) || parts.iter().any(|p| WORDS.contains(p))
}

/// Whether a name reads like a JSON document.
pub fn is_json_name(name: &str) -> bool {
    let n = snake(name);
    const WORDS: &[&str] = &[
        "json",
        "data",
        "meta",
        "metadata",
        "payload",
        "config",
        "configuration",
        "settings",
        "attrs",
        "attributes",
        "properties",
        "props",
        "extra",
        "extras",
        "options",
        "details",
        "document",
        "doc",
        "params",
        "parameters",
        "context",
        "body",
    ];
    n.ends_with("_json") || n.starts_with("json_") || n.split('_').any(|part| WORDS.contains(&part))
}
