//! URL redaction: [`RedactedUrl`], a connection URL with its password replaced, the only form
//! of a URL that errors, logs and reports hold. It depends on nothing else in the crate, so
//! both the configuration and the errors may use it.

use std::fmt;

/// A URL with any password replaced by `***`; safe for errors, logs and reports.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// Redacts the userinfo password and `password=` parameters (URL query or libpq
    /// key/value form) of `url`.
    pub fn new(url: &str) -> Self {
        RedactedUrl(redact(url))
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

fn redact(url: &str) -> String {
    let mut out = url.to_string();
    // userinfo: scheme://user:password@host -- find the last '@' before the path.
    if let Some(rest_at) = out.find("://").map(|i| i + 3) {
        let authority_end = out[rest_at..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_at + i);
        if let Some(at) = out[rest_at..authority_end].rfind('@').map(|i| rest_at + i) {
            if let Some(colon) = out[rest_at..at].find(':').map(|i| rest_at + i) {
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    // password=... in a query string or a libpq key/value string.
    let lower = out.to_ascii_lowercase();
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find("password=").map(|p| i + p) {
        let boundary = pos == 0 || matches!(lower.as_bytes()[pos - 1], b'?' | b'&' | b' ' | b';');
        let value_start = pos + "password=".len();
        result.push_str(&out[i..value_start]);
        if boundary {
            let bytes = out.as_bytes();
            let quoted = bytes.get(value_start) == Some(&b'\'');
            let mut end = value_start;
            if quoted {
                end += 1;
                while end < bytes.len() && bytes[end] != b'\'' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                end = (end + 1).min(bytes.len());
            } else {
                while end < bytes.len() && !matches!(bytes[end], b'&' | b' ' | b'#' | b';') {
                    end += 1;
                }
            }
            result.push_str("***");
            i = end;
        } else {
            i = value_start;
        }
    }
    result.push_str(&out[i..]);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, secret) in [
            ("postgres://app:s3cr%40t@db:5432/app", "s3cr%40t"),
            (
                "postgresql://app:hunter2@localhost/app?sslmode=require",
                "hunter2",
            ),
            (
                "postgres://app@db/app?password=hunter2&sslmode=disable",
                "hunter2",
            ),
            ("host=db user=app password='x y\\' z' dbname=app", "x y"),
            ("host=db password=plain dbname=app", "plain"),
            ("postgres://us:er:pa@ss@host/db", "er:pa@ss"),
        ] {
            let redacted = RedactedUrl::new(url).to_string();
            assert!(!redacted.contains(secret), "{url} -> {redacted}");
            assert!(redacted.contains("***"), "{url} -> {redacted}");
        }
        assert_eq!(
            RedactedUrl::new("postgres://app@db/app").as_str(),
            "postgres://app@db/app"
        );
        assert_eq!(
            RedactedUrl::new("/var/lib/app.db").as_str(),
            "/var/lib/app.db"
        );
    }
}
