//! [`DbConfig`]: which database to use and how to pool connections, from a TOML file and the
//! environment. Its URL is a [`DatabaseUrl`], shown only redacted ([`RedactedUrl`]).
//!
//! Lookup order for the file: an explicit path (`--config PATH`), else `DBSHIFT_CONFIG`, else
//! `./dbshift.toml` if it exists, else the embedded default (a SQLite file `dbshift.db` in the
//! working directory). `DATABASE_URL`, when set, replaces the URL from the file.
//!
//! ```toml
//! url = "postgres://app@db.internal:5432/app"   # or "sqlite:app.db", or a bare file path
//! backend = "postgres"          # optional: taken from the URL's scheme when absent
//! password_file = "/run/secrets/db-password"    # optional; PGPASSWORD also works
//! application_name = "billing"  # optional: PostgreSQL's name for these connections
//!
//! [pool]
//! max_size = 10                 # connections kept at most
//! min_idle = 0                  # connections opened ahead and kept open while idle
//! connect_timeout_secs = 5      # waiting for a new connection or a free pooled one
//! busy_timeout_ms = 5000        # SQLite: how long a writer waits for a lock
//!
//! [migrations]                  # optional: the application's own schema migrations
//! sqlite = "migrations_sqlite"  # diesel-format directories, relative to this file
//! postgres = "migrations_postgres"
//! ```
//!
//! Without `[migrations]` (and without [`DbConfig::with_migrations`]) a backend runs the
//! bundled missions schema.
//!
//! A SQLite URL may be written `sqlite://app.db`, `sqlite:app.db` or `app.db`: all three open the
//! file `app.db`. diesel CLI reads only two of them the same way: `sqlite://app.db` (which it
//! opens as the URI `file:app.db`) and the bare path. To diesel CLI, `sqlite:app.db` is a file
//! named `sqlite:app.db`, so a `DATABASE_URL` shared with diesel CLI uses `sqlite://` or a path.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::migrations::{MigrationDirs, Migrations};
pub use crate::redact::RedactedUrl;

/// The config file name looked for in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "dbshift.toml";
/// The SQLite file used when there is no configuration at all.
pub const DEFAULT_SQLITE_FILE: &str = "dbshift.db";

/// Where a database lives and how to pool connections to it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DbConfig {
    /// The backend's registry name (`sqlite`, `postgres`, or one registered by the caller).
    /// When absent, the URL's scheme decides.
    #[serde(default)]
    pub backend: Option<String>,
    /// The connection URL (a secret: it may hold a password).
    pub url: DatabaseUrl,
    /// A file whose first line is the password, merged into a PostgreSQL URL at connect time.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// PostgreSQL: the name the server shows for this service's connections
    /// (`pg_stat_activity.application_name`); `dbshift` when absent. A URL's own
    /// `application_name` parameter wins.
    #[serde(default)]
    pub application_name: Option<String>,
    /// Pool settings.
    #[serde(default)]
    pub pool: PoolConfig,
    /// The application's migration directories (`[migrations]`); relative paths are taken
    /// from the config file's folder when read by [`DbConfig::from_file`].
    #[serde(default)]
    pub migrations: Option<MigrationDirs>,
    /// Migrations given in code ([`DbConfig::with_migrations`]); they win over `migrations`.
    #[serde(skip)]
    embedded_migrations: Option<Migrations>,
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// The most connections the pool opens.
    pub max_size: u32,
    /// Connections opened ahead of need and kept open while idle. Default 0: connections that
    /// were used stay pooled anyway (until r2d2's ten-minute idle timeout), and r2d2 opens the
    /// ones kept ahead on its own threads, where a PostgreSQL connect still running when a
    /// short-lived process exits can crash it in libpq's exit-time cleanup. A long-running
    /// service that wants warm connections after a quiet spell may raise it.
    pub min_idle: u32,
    /// Seconds to wait for a new connection, or for a pooled one to come free.
    pub connect_timeout_secs: u64,
    /// SQLite only: milliseconds a statement waits on a locked database before failing.
    pub busy_timeout_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 10,
            min_idle: 0,
            connect_timeout_secs: 5,
            busy_timeout_ms: 5000,
        }
    }
}

impl PoolConfig {
    /// The connect timeout as a [`Duration`].
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.clamp(1, MAX_CONNECT_TIMEOUT_SECS))
    }
}

impl DbConfig {
    /// A config for a URL with default pool settings.
    pub fn from_url(url: impl Into<String>) -> Self {
        DbConfig {
            backend: None,
            url: DatabaseUrl::new(url),
            password_file: None,
            application_name: None,
            pool: PoolConfig::default(),
            migrations: None,
            embedded_migrations: None,
        }
    }

    /// Makes backends connected with this config run `migrations` (the application's own,
    /// usually compiled in with [`crate::embed_migrations!`]) instead of the directories of
    /// `[migrations]` or the bundled missions schema.
    pub fn with_migrations(mut self, migrations: Migrations) -> Self {
        self.embedded_migrations = Some(migrations);
        self
    }

    /// The migrations a backend connected with this config runs: those given in code, else
    /// the `[migrations]` directories (read now), else the bundled missions schema.
    pub fn schema_migrations(&self) -> Result<Migrations> {
        match (&self.embedded_migrations, &self.migrations) {
            (Some(migrations), _) => Ok(migrations.clone()),
            (None, Some(dirs)) => Migrations::from_config(dirs),
            (None, None) => Ok(Migrations::bundled()),
        }
    }

    /// A SQLite database file (or `:memory:`).
    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        let mut config = Self::from_url(path.as_ref().to_string_lossy());
        config.backend = Some("sqlite".into());
        config
    }

    /// A PostgreSQL database; user and password are percent-encoded into the URL.
    pub fn postgres(
        host: &str,
        port: u16,
        database: &str,
        user: &str,
        password: Option<&str>,
    ) -> Self {
        let mut url = url::Url::parse("postgres://localhost").expect("static URL parses");
        let _ = url.set_host(Some(host));
        let _ = url.set_port(Some(port));
        url.set_path(database);
        let _ = url.set_username(user);
        let _ = url.set_password(password);
        let mut config = Self::from_url(String::from(url));
        config.backend = Some("postgres".into());
        config
    }

    /// Sets the pool's largest size.
    pub fn with_max_connections(mut self, max_size: u32) -> Self {
        self.pool.max_size = max_size;
        self
    }

    /// Sets how long to wait for a connection, in whole seconds (rounded up, so a timeout
    /// below a second waits one).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.pool.connect_timeout_secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        self
    }

    /// The embedded default: a SQLite file `dbshift.db` in the working directory.
    pub fn embedded_default() -> Self {
        Self::sqlite(DEFAULT_SQLITE_FILE)
    }

    /// Parses a config from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let config: DbConfig = toml::from_str(text).map_err(|e| Error::Config {
            origin: origin.to_string(),
            message: e.message().to_string(),
        })?;
        config.validate_from(origin)?;
        Ok(config)
    }

    /// Reads a config file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("cannot read config file `{}`", path.display()),
            source,
        })?;
        let mut config = Self::from_toml(&text, &format!("`{}`", path.display()))?;
        // Directories in the file are the file's: a service started from another working
        // directory still finds them.
        let base = path.parent().unwrap_or(Path::new(""));
        config.migrations = config.migrations.map(|dirs| dirs.relative_to(base));
        Ok(config)
    }

    /// Loads the config the documented way: `explicit` path, else `DBSHIFT_CONFIG`, else
    /// `./dbshift.toml`, else the embedded default; then `DATABASE_URL` overrides the URL.
    pub fn load(explicit: Option<&Path>) -> Result<Self> {
        let env_path = std::env::var_os("DBSHIFT_CONFIG").map(PathBuf::from);
        let path = explicit.map(Path::to_path_buf).or(env_path).or_else(|| {
            let local = PathBuf::from(DEFAULT_CONFIG_FILE);
            local.exists().then_some(local)
        });
        let mut config = match path {
            Some(path) => Self::from_file(&path)?,
            None => Self::embedded_default(),
        };
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                config.override_url(url);
            }
        }
        Ok(config)
    }

    /// Replaces the URL; a URL with its own scheme also decides the backend again.
    pub fn override_url(&mut self, url: String) {
        if url_scheme(&url).is_some() {
            self.backend = None;
        }
        self.url = DatabaseUrl::new(url);
    }

    /// The registry name of the backend: the `backend` key, else the URL's scheme, else
    /// `sqlite` for a bare path.
    pub fn backend_name(&self) -> String {
        match &self.backend {
            Some(name) => name.to_ascii_lowercase(),
            None => url_scheme(self.url.expose()).unwrap_or_else(|| "sqlite".into()),
        }
    }

    /// The URL with the password from `password_file` merged in, for the driver only.
    pub fn connect_url(&self) -> Result<String> {
        let Some(path) = &self.password_file else {
            return Ok(self.url.expose().to_string());
        };
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("cannot read password file `{}`", path.display()),
            source,
        })?;
        let password = text.lines().next().unwrap_or("").to_string();
        let mut url = url::Url::parse(self.url.expose()).map_err(|e| Error::Config {
            origin: "password_file".into(),
            message: format!("a password file needs a URL with a host: {e}"),
        })?;
        url.set_password(Some(&password))
            .map_err(|()| Error::Config {
                origin: "password_file".into(),
                message: "the URL cannot carry a password".into(),
            })?;
        Ok(url.into())
    }

    /// Checks the settings a pool cannot work with, so that they fail with a one-line
    /// [`Error::Config`] instead of a panic in the pool. Backends call it before connecting,
    /// also for a config built in code or read from the application's own file.
    pub fn validate(&self) -> Result<()> {
        self.validate_from("config")
    }

    fn validate_from(&self, origin: &str) -> Result<()> {
        let fail = |message: String| {
            Err(Error::Config {
                origin: origin.to_string(),
                message,
            })
        };
        let pool = &self.pool;
        if self.url.expose().trim().is_empty() {
            return fail("`url` is empty".into());
        }
        if pool.max_size == 0 {
            return fail("`pool.max_size` must be at least 1".into());
        }
        if pool.min_idle > pool.max_size {
            return fail(format!(
                "`pool.min_idle` ({}) is larger than `pool.max_size` ({})",
                pool.min_idle, pool.max_size
            ));
        }
        if !(1..=MAX_CONNECT_TIMEOUT_SECS).contains(&pool.connect_timeout_secs) {
            return fail(format!(
                "`pool.connect_timeout_secs` must be between 1 and {MAX_CONNECT_TIMEOUT_SECS}, not {}",
                pool.connect_timeout_secs
            ));
        }
        if pool.busy_timeout_ms > MAX_BUSY_TIMEOUT_MS {
            return fail(format!(
                "`pool.busy_timeout_ms` must be at most {MAX_BUSY_TIMEOUT_MS}, not {}",
                pool.busy_timeout_ms
            ));
        }
        Ok(())
    }
}

/// The longest connect timeout accepted: a day. The pool adds it to the current instant,
/// which overflows (and panics) for the largest values.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 86_400;
/// The longest SQLite busy timeout accepted: SQLite takes it as a 32-bit `int`.
pub const MAX_BUSY_TIMEOUT_MS: u64 = i32::MAX as u64;

/// The scheme of a URL (`postgres` in `postgres://...`), or `None` for a bare path.
/// Single letters are taken as Windows drive letters, not schemes.
pub fn url_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// A connection URL. It may hold a password, so `Debug` and `Display` show it redacted; only
/// [`DatabaseUrl::expose`] gives the real text, for the driver.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL with its password, for handing to a driver. Never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced, safe to print.
    pub fn redacted(&self) -> RedactedUrl {
        RedactedUrl::new(&self.0)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted().as_str())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_config_hides_the_password() {
        let config = DbConfig::postgres("db", 5432, "app", "app", Some("p@ss word"));
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("p%40ss"),
            "{debug}"
        );
        assert!(config.url.expose().contains("p%40ss%20word"));
        assert_eq!(config.backend_name(), "postgres");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            DbConfig::from_toml("url = \"x.db\"\nmax_conections = 3\n", "`t.toml`").unwrap_err();
        assert!(err.to_string().contains("max_conections"), "{err}");
        let err = DbConfig::from_toml("url = \"x.db\"\n[pool]\nmax = 3\n", "`t.toml`").unwrap_err();
        assert!(err.to_string().contains("`max`"), "{err}");
    }

    #[test]
    fn backend_comes_from_key_then_scheme_then_path() {
        assert_eq!(
            DbConfig::from_url("postgresql://h/d").backend_name(),
            "postgresql"
        );
        assert_eq!(DbConfig::from_url("sqlite:app.db").backend_name(), "sqlite");
        assert_eq!(DbConfig::from_url("./data/app.db").backend_name(), "sqlite");
        assert_eq!(
            DbConfig::from_url("C:\\data\\app.db").backend_name(),
            "sqlite"
        );
        let config = DbConfig::from_toml("backend = \"Counting\"\nurl = \"a.db\"", "t").unwrap();
        assert_eq!(config.backend_name(), "counting");
        let config = DbConfig::from_toml("url = \"a.db\"\n[pool]\nmax_size = 3\n", "t").unwrap();
        assert_eq!(config.pool.max_size, 3);
        assert_eq!(config.pool.busy_timeout_ms, 5000);
    }
}
