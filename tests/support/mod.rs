//! Test support: one real PostgreSQL per test binary (a throwaway server started from the
//! installed binaries, or `DATABASE_URL` when set), one database per test, and a macro that runs
//! the same test body on SQLite and on PostgreSQL.

#![allow(dead_code)]

// Also without PostgreSQL: its SQLite half reads through the `sqlite3` shell alone.
pub mod independent;

use std::path::PathBuf;
#[cfg(feature = "postgres")]
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(feature = "postgres")]
use std::sync::OnceLock;

#[cfg(feature = "postgres")]
use dbshift::pg_server::TempServer;
use dbshift::{Backend, DbConfig, Registry};

/// The PostgreSQL the tests use.
#[cfg(feature = "postgres")]
pub enum Server {
    /// Started by this test binary.
    Temp(TempServer),
    /// Given by `DATABASE_URL` (a URL to an existing database; tests create siblings).
    External(url::Url),
}

#[cfg(feature = "postgres")]
static SERVER: OnceLock<Server> = OnceLock::new();
#[cfg(feature = "postgres")]
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The shared server, started on first use. A missing PostgreSQL install fails loudly.
#[cfg(feature = "postgres")]
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            Server::External(url::Url::parse(&url).expect("DATABASE_URL is a URL"))
        }
        _ => Server::Temp(TempServer::start().unwrap_or_else(|e| {
            panic!("tests need a real PostgreSQL and could not start one: {e}")
        })),
    })
}

#[cfg(feature = "postgres")]
impl Server {
    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        match self {
            Server::Temp(server) => server.url(database),
            Server::External(base) => {
                let mut url = base.clone();
                url.set_path(database);
                url.to_string()
            }
        }
    }

    /// The throwaway server, when the tests started one (fault tests need to stop it).
    pub fn temp(&self) -> Option<&TempServer> {
        match self {
            Server::Temp(server) => Some(server),
            Server::External(_) => None,
        }
    }

    fn admin(&self) -> diesel::PgConnection {
        use diesel::Connection;
        diesel::PgConnection::establish(&self.url("postgres"))
            .expect("connect to the admin database")
    }
}

/// A database of its own for one test, dropped when the value is.
#[cfg(feature = "postgres")]
pub struct PgDb {
    pub name: String,
    pub url: String,
}

/// A fresh, empty PostgreSQL database.
#[cfg(feature = "postgres")]
pub fn pg_db() -> PgDb {
    use diesel::connection::SimpleConnection;
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let server = server();
    server
        .admin()
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create test database");
    PgDb {
        url: server.url(&name),
        name,
    }
}

#[cfg(feature = "postgres")]
impl PgDb {
    /// Runs `;`-separated statements on this database, panicking on failure (test setup).
    pub fn exec(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        diesel::PgConnection::establish(&self.url)
            .expect("connect to the test database")
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

#[cfg(feature = "postgres")]
impl Drop for PgDb {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        let mut admin = server().admin();
        // r2d2 may still be opening a connection to refill the pool when a test ends; it closes
        // it a moment later. Waiting for that, instead of killing it with FORCE at once, keeps
        // libpq's "FATAL: terminating connection" notices out of the test output.
        for _ in 0..20 {
            if admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", self.name))
                .is_ok()
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// A SQLite database file in a temporary directory, removed when the value is dropped.
pub struct SqliteDb {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl SqliteDb {
    /// Runs `;`-separated statements on this database, creating it if needed (test setup).
    pub fn exec(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        diesel::SqliteConnection::establish(self.path.to_str().expect("a UTF-8 temp path"))
            .expect("open the test database")
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

/// A fresh SQLite file path (not created yet).
pub fn sqlite_db() -> SqliteDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    SqliteDb { dir, path }
}

/// Keeps a test database alive as long as the backend using it.
pub enum Guard {
    Sqlite(SqliteDb),
    #[cfg(feature = "postgres")]
    Postgres(PgDb),
}

/// Which backend a shared test body runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh database of `kind` and its config.
pub fn config(kind: Kind) -> (DbConfig, Guard) {
    match kind {
        Kind::Sqlite => {
            let db = sqlite_db();
            (DbConfig::sqlite(&db.path), Guard::Sqlite(db))
        }
        #[cfg(feature = "postgres")]
        Kind::Postgres => {
            let db = pg_db();
            (DbConfig::from_url(db.url.clone()), Guard::Postgres(db))
        }
        #[cfg(not(feature = "postgres"))]
        Kind::Postgres => unreachable!("PostgreSQL tests are not built without feature `postgres`"),
    }
}

/// A connected backend on a test database of its own. Derefs to `dyn Backend`.
///
/// The backend is dropped before the database, so PostgreSQL never has to terminate pooled
/// connections of a dropped test database (which libpq reports as `FATAL` noise on stderr).
pub struct TestDb {
    /// The backend; fields drop in order, so it goes first.
    pub backend: Box<dyn Backend>,
    /// Keeps the database alive.
    pub guard: Guard,
}

impl TestDb {
    /// Another handle on the same pool.
    pub fn handle(&self) -> Box<dyn Backend> {
        self.backend.clone()
    }
}

impl std::ops::Deref for TestDb {
    type Target = dyn Backend;
    fn deref(&self) -> &Self::Target {
        &*self.backend
    }
}

/// A connected backend of `kind` on a fresh database.
pub fn backend(kind: Kind) -> TestDb {
    let (config, guard) = config(kind);
    TestDb {
        backend: Registry::with_defaults().connect(&config).expect("connect"),
        guard,
    }
}

/// A connected backend with the application schema migrated.
pub fn migrated(kind: Kind) -> TestDb {
    let db = backend(kind);
    db.run_pending_migrations().expect("migrations apply");
    db
}

/// Checks out one pooled connection of a built-in backend and holds it until the box is dropped.
pub fn hold_connection(db: &dyn Backend) -> Box<dyn std::any::Any> {
    #[cfg(feature = "sqlite")]
    if let Some(sqlite) = db
        .as_any()
        .downcast_ref::<dbshift::backend::SqliteBackend>()
    {
        return Box::new(sqlite.conn().expect("check out a SQLite connection"));
    }
    #[cfg(feature = "postgres")]
    if let Some(postgres) = db
        .as_any()
        .downcast_ref::<dbshift::backend::PostgresBackend>()
    {
        return Box::new(postgres.conn().expect("check out a PostgreSQL connection"));
    }
    panic!("not a built-in backend: {db:?}")
}

/// The built binary in `dir`, with none of the variables that choose a database or logging.
pub fn dbshift(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbshift"));
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DBSHIFT_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("PGPASSWORD");
    command
}

/// Runs the built binary in `dir` with `args` and waits for it.
pub fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    dbshift(dir).args(args).output().unwrap()
}

/// Asserts that `output` exited with `code`, showing its stdout and stderr when it did not.
pub fn exits(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The shared Chinook fixture's path, as an argument.
pub fn chinook() -> String {
    shared_fixture("chinook.sqlite").display().to_string()
}

/// Path of a fixture in `../shared/fixtures/`.
pub fn shared_fixture(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(name);
    assert!(
        path.exists(),
        "fixture {} is missing (tests read it from ../shared/fixtures)",
        path.display()
    );
    path
}

/// Defines one test per backend from one body: `both_backends!(fn name(kind) { ... });`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(fn $name:ident($kind:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($kind: $crate::support::Kind) $body
            #[test]
            fn sqlite() { run($crate::support::Kind::Sqlite) }
            #[cfg(feature = "postgres")]
            #[test]
            fn postgres() { run($crate::support::Kind::Postgres) }
        }
    )*};
}

/// The password of the test server: the throwaway server's, or the one in `DATABASE_URL`
/// (`None` when an external server is reached without one).
#[cfg(feature = "postgres")]
pub fn password() -> Option<String> {
    match server() {
        Server::Temp(temp) => Some(temp.password().to_string()),
        Server::External(url) => url.password().map(str::to_string),
    }
}

/// Whether the test server refuses a wrong password: the throwaway server does; an external
/// `DATABASE_URL` server may trust every local connection, and then a wrong password connects.
#[cfg(feature = "postgres")]
pub fn checks_passwords() -> bool {
    static CHECKS: OnceLock<bool> = OnceLock::new();
    *CHECKS.get_or_init(|| match server() {
        Server::Temp(_) => true,
        Server::External(base) => {
            use diesel::Connection;
            let mut wrong = base.clone();
            wrong.set_path("postgres");
            let _ = wrong.set_password(Some("surely-not-the-password-4711"));
            diesel::PgConnection::establish(wrong.as_str()).is_err()
        }
    })
}

/// Records that the running test could not make a check on this server, and why (an external
/// `DATABASE_URL` without a password, or one that may not check passwords). `.ci/run` counts
/// the tests that did in its closing line, so a skipped check is never counted as a pass.
pub fn skipped(why: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!("SKIPPED {test}: {why}");
    if let Some(path) = std::env::var_os("DBSHIFT_TEST_SKIPS") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the skip log");
        // One write per line: tests running at once append to the same file, and a line
        // written in pieces could interleave with another's.
        file.write_all(format!("{test}\t{why}\n").as_bytes())
            .expect("write the skip log");
    }
}

/// A TCP port on 127.0.0.1 that refuses connections for as long as the guard lives: a socket
/// is bound to it but never listens, so no other process can take it meanwhile.
pub struct ClosedPort {
    fd: libc::c_int,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> Self {
        // SAFETY: plain socket calls on a socket this function owns; the address structs are
        // zeroed plain data of the sizes passed.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket");
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let bound = libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len);
            assert_eq!(bound, 0, "bind");
            let mut out: libc::sockaddr_in = std::mem::zeroed();
            let mut out_len = len;
            let named =
                libc::getsockname(fd, &mut out as *mut _ as *mut libc::sockaddr, &mut out_len);
            assert_eq!(named, 0, "getsockname");
            ClosedPort {
                fd,
                port: u16::from_be(out.sin_port),
            }
        }
    }
}

impl Drop for ClosedPort {
    fn drop(&mut self) {
        // SAFETY: the descriptor is this guard's own.
        unsafe { libc::close(self.fd) };
    }
}
