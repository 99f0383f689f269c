//! [`TempServer`]: a throwaway PostgreSQL server started from the installed binaries (`initdb`,
//! `pg_ctl`) in a temporary directory, on its own port and socket. Used by `--rehearse` and by
//! the test suite.
//!
//! As root, the server runs as the `postgres` system user (PostgreSQL refuses to run as root).
//! A watchdog process stops the server and removes its directory when the owning process exits,
//! even when it is killed, so no server outlives its user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The apt command that installs what this module needs.
pub const INSTALL_HINT: &str =
    "install PostgreSQL's server binaries: `apt-get install -y postgresql`";

/// A running throwaway PostgreSQL server. Dropping it stops the server and deletes its data.
#[derive(Debug)]
pub struct TempServer {
    dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    run_as: Option<String>,
}

/// Finds the directory holding `initdb` and `pg_ctl`: `PG_BIN_DIR` when set (and then only
/// there: a run against another major, `scripts/pg-majors.sh`, must never fall back to the
/// installed one unnoticed), else `PATH`, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Result<PathBuf> {
    find_bin_dir_in(&Places {
        pg_bin_dir: std::env::var_os("PG_BIN_DIR")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from),
        path: std::env::var_os("PATH"),
        versions_root: PathBuf::from("/usr/lib/postgresql"),
    })
}

/// Where [`find_bin_dir`] looks, in order.
struct Places {
    pg_bin_dir: Option<PathBuf>,
    path: Option<std::ffi::OsString>,
    /// A directory of `<major>/bin` directories, as Debian installs them.
    versions_root: PathBuf,
}

fn find_bin_dir_in(places: &Places) -> Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = &places.pg_bin_dir {
        if has_tools(dir) {
            return Ok(dir.clone());
        }
        return Err(server_error(format!(
            "`PG_BIN_DIR` is `{}`, which holds no `initdb` and `pg_ctl`",
            dir.display()
        )));
    }
    if let Some(path) = &places.path {
        if let Some(dir) = std::env::split_paths(path).find(|d| has_tools(d)) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(&places.versions_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        server_error(format!(
            "`initdb` and `pg_ctl` were not found; {INSTALL_HINT}"
        ))
    })
}

fn server_error(message: String) -> Error {
    Error::Server { message }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { geteuid() == 0 }
}

extern "C" {
    fn geteuid() -> u32;
}

fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
        context: "cannot find a free local port".into(),
        source,
    })?;
    Ok(listener
        .local_addr()
        .map_err(|source| Error::Io {
            context: "cannot read a local port".into(),
            source,
        })?
        .port())
}

impl TempServer {
    /// Initialises and starts a server with settings for throwaway data (`fsync=off`,
    /// `synchronous_commit=off`, `full_page_writes=off`). Local socket connections are trusted;
    /// TCP connections on 127.0.0.1 need the password (see [`TempServer::url`]).
    pub fn start() -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        let run_as = if is_root() {
            Some("postgres".to_string())
        } else {
            None
        };
        let dir = std::env::temp_dir().join(format!(
            "dbshift-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            context: format!("cannot create `{}`", dir.display()),
            source,
        })?;
        if let Some(user) = &run_as {
            let (uid, gid) = user_ids(user).ok_or_else(|| {
                server_error(format!("running as root needs the `{user}` system user to own the server; {INSTALL_HINT}"))
            })?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|source| Error::Io {
                context: format!("cannot hand `{}` to `{user}`", dir.display()),
                source,
            })?;
        }
        let password = uuid::Uuid::new_v4().simple().to_string();
        let mut server = TempServer {
            dir,
            bin_dir,
            port: 0,
            password,
            run_as,
        };
        server.spawn_watchdog()?;
        server.init()?;
        let mut last_error = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.start_on_port() {
                Ok(()) => return Ok(server),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("three attempts were made"))
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.clone()
    }

    /// The superuser's password for TCP connections.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A TCP URL for `database` as the superuser `postgres`, with the password.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        self.psql(
            "postgres",
            &format!(
                "CREATE DATABASE {}",
                crate::dialect::quote_ident(name).map_err(server_error)?
            ),
        )?;
        Ok(self.url(name))
    }

    /// Runs SQL through `psql` on the local socket as the superuser; returns its output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String> {
        let psql = self.bin_dir.join("psql");
        let psql = if psql.is_file() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let output = self
            .command(&psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .map_err(|source| Error::Io {
                context: "cannot run `psql`".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(server_error(format!(
                "psql failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Stops the server at once (as a crash would) and starts it again on the same port.
    pub fn restart(&self) -> Result<()> {
        self.pg_ctl(&["-m", "immediate", "stop"])?;
        self.start_on_port()
    }

    /// Stops the server at once, leaving it down until [`TempServer::start_again`].
    pub fn stop(&self) -> Result<()> {
        self.pg_ctl(&["-m", "immediate", "stop"])
    }

    /// Starts a stopped server again on the same port.
    pub fn start_again(&self) -> Result<()> {
        self.start_on_port()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The postmaster's process id (the first line of `postmaster.pid`), while it runs. The
    /// benchmark reads the server's CPU time from it: the CPU of the backends that served a
    /// tool, once they exit, is counted into their parent's.
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        command
            .stdin(Stdio::null())
            .env_remove("PGPASSWORD")
            .env_remove("PGDATABASE");
        command
    }

    fn run(&self, mut command: Command, what: &str) -> Result<()> {
        let output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| Error::Io {
                context: format!("cannot run `{what}`; {INSTALL_HINT}"),
                source,
            })?;
        if output.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        Err(server_error(format!(
            "`{what}` failed: {} {}{}",
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim(),
            if tail.is_empty() {
                String::new()
            } else {
                format!(
                    " (server log: {})",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                )
            }
        )))
    }

    fn init(&self) -> Result<()> {
        let pwfile = self.dir.join("pwfile");
        std::fs::write(&pwfile, &self.password).map_err(|source| Error::Io {
            context: "cannot write the password file".into(),
            source,
        })?;
        if let Some(user) = &self.run_as {
            if let Some((uid, gid)) = user_ids(user) {
                let _ = std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid));
            }
        }
        let mut command = self.command(&self.bin_dir.join("initdb"));
        command
            .arg("-D")
            .arg(self.data_dir())
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = self.run(command, "initdb");
        let _ = std::fs::remove_file(&pwfile);
        result
    }

    fn start_on_port(&self) -> Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB",
            self.port,
            self.dir.display()
        );
        let mut command = self.command(&self.bin_dir.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"]);
        self.run(command, "pg_ctl start")
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<()> {
        let mut command = self.command(&self.bin_dir.join("pg_ctl"));
        command.arg("-D").arg(self.data_dir()).args(args);
        self.run(command, "pg_ctl")
    }

    /// Starts a detached shell that waits for this process to exit, then stops the server and
    /// removes its directory.
    fn spawn_watchdog(&self) -> Result<()> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = match &self.run_as {
            Some(user) => format!(
                "runuser -u {user} -- '{}' -D '{}' -m immediate stop",
                pg_ctl.display(),
                self.data_dir().display()
            ),
            None => format!(
                "'{}' -D '{}' -m immediate stop",
                pg_ctl.display(),
                self.data_dir().display()
            ),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; if [ -d '{data}' ]; then {stop}; fi; rm -rf '{dir}'",
            pid = std::process::id(),
            data = self.data_dir().display(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Io {
                context: "cannot start the server watchdog".into(),
                source,
            })?;
        Ok(())
    }
}

impl Drop for TempServer {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools_in(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for tool in ["initdb", "pg_ctl"] {
            std::fs::write(dir.join(tool), "").unwrap();
        }
    }

    #[test]
    fn without_the_server_binaries_the_error_says_how_to_install_them() {
        let empty = tempfile::tempdir().unwrap();
        let err = find_bin_dir_in(&Places {
            pg_bin_dir: None,
            path: Some(empty.path().as_os_str().to_owned()),
            versions_root: empty.path().join("postgresql"),
        })
        .unwrap_err();
        assert!(matches!(err, Error::Server { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("`initdb` and `pg_ctl` were not found"),
            "{message}"
        );
        assert!(message.contains(INSTALL_HINT), "{message}");
    }

    #[test]
    fn a_pg_bin_dir_without_the_tools_is_an_error_not_a_fall_back() {
        let root = tempfile::tempdir().unwrap();
        let on_path = root.path().join("on-path");
        tools_in(&on_path);
        let err = find_bin_dir_in(&Places {
            pg_bin_dir: Some(root.path().join("missing")),
            path: Some(on_path.as_os_str().to_owned()),
            versions_root: root.path().join("postgresql"),
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("`PG_BIN_DIR` is") && message.contains("missing"),
            "{message}"
        );
    }

    #[test]
    fn pg_bin_dir_then_path_then_the_newest_installed_major() {
        let root = tempfile::tempdir().unwrap();
        let versions = root.path().join("postgresql");
        tools_in(&versions.join("13/bin"));
        tools_in(&versions.join("16/bin"));
        std::fs::create_dir_all(versions.join("17/bin")).unwrap(); // no tools: skipped
        let on_path = root.path().join("on-path");
        tools_in(&on_path);
        let chosen = root.path().join("chosen");
        tools_in(&chosen);
        let places = |pg_bin_dir: Option<PathBuf>, path: Option<&Path>| Places {
            pg_bin_dir,
            path: path.map(|p| p.as_os_str().to_owned()),
            versions_root: versions.clone(),
        };
        assert_eq!(
            find_bin_dir_in(&places(Some(chosen.clone()), Some(&on_path))).unwrap(),
            chosen
        );
        assert_eq!(
            find_bin_dir_in(&places(None, Some(&on_path))).unwrap(),
            on_path
        );
        assert_eq!(
            find_bin_dir_in(&places(None, None)).unwrap(),
            versions.join("16/bin")
        );
    }
}
