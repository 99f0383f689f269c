//! [`Registry`]: URL scheme -> backend factory. A value the caller owns (not a global), filled
//! with the built-in backends by [`Registry::with_defaults`]; [`Registry::register`] adds more.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::Backend;
use crate::config::DbConfig;
use crate::error::{Error, Result};

/// Makes a backend from a config. A closure, so a third party's factory can carry state.
pub type Factory = Arc<dyn Fn(&DbConfig) -> Result<Box<dyn Backend>> + Send + Sync>;

/// Maps backend names and URL schemes to factories.
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.factories.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with `sqlite` (also used for bare file paths and `file:` URIs), `postgres`
    /// and `postgresql`. A backend left out of the build is still registered, and connecting to
    /// it says which Cargo feature to enable.
    pub fn with_defaults() -> Self {
        let mut registry = Self::new();
        #[cfg(feature = "sqlite")]
        let sqlite: Factory =
            Arc::new(|config| Ok(Box::new(super::SqliteBackend::connect(config)?)));
        #[cfg(not(feature = "sqlite"))]
        let sqlite: Factory = Arc::new(|_| {
            Err(Error::NotCompiled(
                "SQLite support was not compiled in (enable feature `sqlite`)",
            ))
        });
        #[cfg(feature = "postgres")]
        let postgres: Factory =
            Arc::new(|config| Ok(Box::new(super::PostgresBackend::connect(config)?)));
        #[cfg(not(feature = "postgres"))]
        let postgres: Factory = Arc::new(|_| {
            Err(Error::NotCompiled(
                "PostgreSQL support was not compiled in (enable feature `postgres`)",
            ))
        });
        registry.factories.insert("sqlite".into(), sqlite.clone());
        registry.factories.insert("file".into(), sqlite);
        registry
            .factories
            .insert("postgres".into(), postgres.clone());
        registry.factories.insert("postgresql".into(), postgres);
        registry
    }

    /// Adds (or replaces) the factory for `scheme`, matched case-insensitively against the
    /// config's `backend` key or the URL's scheme.
    pub fn register<F>(&mut self, scheme: &str, factory: F) -> &mut Self
    where
        F: Fn(&DbConfig) -> Result<Box<dyn Backend>> + Send + Sync + 'static,
    {
        self.factories
            .insert(scheme.to_ascii_lowercase(), Arc::new(factory));
        self
    }

    /// The registered schemes, sorted.
    pub fn schemes(&self) -> Vec<&str> {
        self.factories.keys().map(String::as_str).collect()
    }

    /// Connects to the database of `config` with the factory its backend name selects, after
    /// [`DbConfig::validate`].
    pub fn connect(&self, config: &DbConfig) -> Result<Box<dyn Backend>> {
        let name = config.backend_name();
        let factory = self
            .factories
            .get(&name)
            .ok_or_else(|| Error::UnknownScheme {
                scheme: name.clone(),
                available: self.schemes().join(", "),
            })?;
        config.validate()?;
        tracing::debug!(backend = %name, url = %config.url, "connecting");
        factory(config)
    }
}
