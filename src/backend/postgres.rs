//! [`PostgresBackend`]: the [`Backend`] on PostgreSQL through Diesel and an r2d2 pool. Runs the
//! schema migrations its config names ([`DbConfig::schema_migrations`]).
//!
//! Parameters are sent typed by their [`Value`] (text as `text`, integers as `bigint`, ...);
//! `NULL` is sent untyped so the server takes the type from its context. A text parameter for an
//! enum or other non-text column needs a cast in the SQL (see [`Dialect::cast_param`]).

use std::any::Any;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgConnection, PgValue};
use diesel::query_builder::AstPass;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Binary, Bool, Double, Nullable, Text};
use diesel::{Connection, QueryResult};
use diesel_dynamic_schema::dynamic_value::Any as AnySql;

use super::dynamic::Bind;
use super::{
    catch_panic, checkout_error, migrations, open_transactions, with_retries, Backend, Executor,
    Isolation, TransactionOptions,
};
use crate::config::{DbConfig, RedactedUrl};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::migrations::Migrations;
use crate::value::{Row, Value};

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
pub(crate) const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// Serialises concurrent migration runs from several processes on one database.
const MIGRATION_LOCK_KEY: i64 = 0x6462_7368_6966_7400; // "dbshift\0"

/// A pooled PostgreSQL database.
#[derive(Clone)]
pub struct PostgresBackend {
    pool: Pool<ConnectionManager<PgConnection>>,
    url: RedactedUrl,
    max_size: u32,
    timeout: std::time::Duration,
    closed: Arc<AtomicBool>,
    /// The schema migrations this backend runs (the config's, or the bundled ones).
    migrations: Migrations,
    /// Shared by clones: marks this database's transactions open on a thread.
    id: u64,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("url", &self.url)
            .field("pool", &self.pool.state())
            .finish()
    }
}

/// Adds `connect_timeout` and `application_name = dbshift` to a libpq URL or key/value string
/// unless they are already there.
#[cfg_attr(not(transfer), allow(dead_code))]
pub(crate) fn with_connect_options(url: &str, timeout_secs: u64) -> String {
    with_connect_options_named(url, timeout_secs, "dbshift")
}

/// [`with_connect_options`] with the `application_name` the server shows in `pg_stat_activity`.
pub(crate) fn with_connect_options_named(
    url: &str,
    timeout_secs: u64,
    application_name: &str,
) -> String {
    let mut out = url.to_string();
    let is_uri = url.contains("://");
    let name = if is_uri {
        // libpq decodes `%XX` in a URI, but not `+`.
        application_name
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    } else {
        format!(
            "'{}'",
            application_name.replace('\\', "\\\\").replace('\'', "\\'")
        )
    };
    for (key, value) in [
        ("connect_timeout", timeout_secs.to_string()),
        ("application_name", name),
    ] {
        if url.contains(&format!("{key}=")) {
            continue;
        }
        if is_uri {
            out.push(if out.contains('?') { '&' } else { '?' });
        } else {
            out.push(' ');
        }
        out.push_str(&format!("{key}={value}"));
    }
    out
}

/// Makes a libpq message one line: its lines joined with `; `, tabs and doubled spaces gone.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Opens one connection to `url` (a secret), mapping failures to a one-line [`Error::Connect`].
pub(crate) fn establish(url: &str, redacted: &RedactedUrl) -> Result<PgConnection> {
    PgConnection::establish(url).map_err(|e| Error::Connect {
        url: redacted.clone(),
        message: one_line(&e.to_string()),
    })
}

impl PostgresBackend {
    /// Opens a pool on the PostgreSQL database of `config`. One connection is made first so a
    /// wrong password or an unreachable server fails at once with the server's reason.
    pub fn connect(config: &DbConfig) -> Result<Self> {
        config.validate()?;
        let url = config.url.redacted();
        let migrations = config.schema_migrations()?;
        let target = with_connect_options_named(
            &config.connect_url()?,
            config.pool.connect_timeout_secs,
            config.application_name.as_deref().unwrap_or("dbshift"),
        );
        drop(establish(&target, &url)?);
        let timeout = config.pool.connect_timeout();
        let pool = Pool::builder()
            .max_size(config.pool.max_size)
            .min_idle(Some(config.pool.min_idle))
            .connection_timeout(timeout)
            .build(ConnectionManager::<PgConnection>::new(target))
            .map_err(|e| Error::Connect {
                url: url.clone(),
                message: one_line(&e.to_string()),
            })?;
        tracing::debug!(%url, max_size = config.pool.max_size, "opened postgres pool");
        Ok(PostgresBackend {
            pool,
            url,
            max_size: config.pool.max_size,
            timeout,
            closed: Arc::new(AtomicBool::new(false)),
            migrations,
            id: open_transactions::new_id(),
        })
    }

    /// A pooled connection, for callers inside the crate that need Diesel directly (COPY).
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager<PgConnection>>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        open_transactions::check_outside(self.id)?;
        self.pool.get().map_err(|e| {
            checkout_error(e, self.pool.state(), self.max_size, self.timeout, &self.url)
        })
    }

    /// The underlying r2d2 pool (for typed Diesel code sharing the same connections).
    pub fn pool(&self) -> &Pool<ConnectionManager<PgConnection>> {
        &self.pool
    }

    fn with_migration_lock<T>(&self, f: impl FnOnce(&mut PgConnection) -> Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .map_err(Error::query)?;
        let result = f(&mut conn);
        let unlock =
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
        let value = result?;
        unlock.map_err(Error::query)?;
        Ok(value)
    }
}

impl Backend for PostgresBackend {
    fn name(&self) -> &str {
        "postgres"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn url(&self) -> RedactedUrl {
        self.url.clone()
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        Executor::execute(&mut *self.conn()?, sql, params)
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Executor::query(&mut *self.conn()?, sql, params)
    }

    fn query_first(&self, sql: &str, params: &[Value]) -> Result<(Option<Row>, usize)> {
        Executor::query_first(&mut *self.conn()?, sql, params)
    }

    fn batch_execute(&self, sql: &str) -> Result<()> {
        Executor::batch_execute(&mut *self.conn()?, sql)
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        Executor::query_each(&mut *self.conn()?, sql, params, each)
    }

    fn transaction_dyn(
        &self,
        options: &TransactionOptions,
        body: &mut dyn FnMut(&mut dyn Executor) -> Result<()>,
    ) -> Result<()> {
        let mut pooled = self.conn()?;
        let _open = open_transactions::enter(self.id)?;
        with_retries(options.max_attempts, || {
            let conn: &mut PgConnection = &mut pooled;
            let builder = conn.build_transaction();
            let mut builder = match options.isolation {
                Isolation::Serializable => builder.serializable(),
                Isolation::RepeatableRead => builder.repeatable_read(),
                Isolation::ReadCommitted => builder.read_committed(),
            };
            let mut panic = None;
            let result = builder.run(|conn| catch_panic(|| body(conn), &mut panic));
            if let Some(panic) = panic {
                std::panic::resume_unwind(panic);
            }
            result.map_err(|e| e.with_driver(crate::error::Driver::Postgres))
        })
    }

    fn run_pending_migrations(&self) -> Result<Vec<String>> {
        self.with_migration_lock(|conn| {
            migrations::run_pending(conn, &self.migrations.for_dialect(Dialect::Postgres)?)
        })
    }

    fn applied_migrations(&self) -> Result<Vec<String>> {
        migrations::applied(&mut *self.conn()?)
    }

    fn pending_migrations(&self) -> Result<Vec<String>> {
        migrations::pending(
            &mut *self.conn()?,
            &self.migrations.for_dialect(Dialect::Postgres)?,
        )
    }

    fn revert_last_migration(&self) -> Result<Option<String>> {
        self.with_migration_lock(|conn| {
            migrations::revert_last(conn, &self.migrations.for_dialect(Dialect::Postgres)?)
        })
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

dynamic_executor!(
    PgConnection,
    Dialect::Postgres,
    crate::error::Driver::Postgres,
    diesel::pg::PgRowByRowLoadingMode,
    crate::backend::statement_cache::postgres_signature
);

/// A SQL type with OID 0: the server infers the parameter's type from its context. Used for
/// `NULL`, which has no bytes for a wrong type's receive function to misread.
#[derive(Debug, Clone, Copy, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 0, array_oid = 0))]
struct Unspecified;

/// Never constructed: only `None::<UntypedNull>` is bound, as an untyped `NULL`.
#[derive(Debug)]
enum UntypedNull {}

impl ToSql<Unspecified, Pg> for UntypedNull {
    fn to_sql<'b>(&'b self, _out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        match *self {}
    }
}

/// `timestamptz`, bound from a [`Value::Timestamp`]'s instant. Private, as is
/// [`JsonbDocument`], so the conversions below serve only the binds of this module.
#[derive(Debug, Clone, Copy, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
struct Instant;

impl ToSql<Instant, Pg> for chrono::DateTime<chrono::Utc> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let micros = self.timestamp_micros() - PG_EPOCH_OFFSET_MICROS;
        out.write_all(&micros.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

/// `jsonb`, bound from a [`Value::Json`] document (binary format: version byte 1, then the
/// text, written straight into the bind buffer).
#[derive(Debug, Clone, Copy, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
struct JsonbDocument;

impl ToSql<JsonbDocument, Pg> for serde_json::Value {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&[1])?;
        serde_json::to_writer(&mut *out, self)?;
        Ok(IsNull::No)
    }
}

/// A parameter is bound typed by its variant, straight from the value: nothing is converted or
/// collected before the statement runs.
impl Bind<Pg> for Value {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match self {
            Value::Null => out.push_bind_param::<Nullable<Unspecified>, Option<UntypedNull>>(&None),
            Value::Bool(b) => out.push_bind_param::<Bool, bool>(b),
            Value::Int(i) => out.push_bind_param::<BigInt, i64>(i),
            Value::Float(x) => out.push_bind_param::<Double, f64>(x),
            Value::Text(s) => out.push_bind_param::<Text, str>(s),
            Value::Bytes(b) => out.push_bind_param::<Binary, [u8]>(b),
            Value::Timestamp(t) => out.push_bind_param::<Instant, _>(t),
            Value::Json(j) => out.push_bind_param::<JsonbDocument, _>(j),
            Value::Uuid(u) => out.push_bind_param::<diesel::sql_types::Uuid, uuid::Uuid>(u),
        }
    }
}

/// Type OIDs of PostgreSQL's built-in types that [`Value`] reads.
pub(crate) mod oid {
    #![allow(missing_docs)]
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const INET: u32 = 869;
    pub const CIDR: u32 = 650;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
    /// The first OID PostgreSQL gives to user-defined objects (enums, domains, extensions).
    pub const FIRST_USER_OID: u32 = 16384;
}

fn read_be<const N: usize>(bytes: &[u8]) -> deserialize::Result<[u8; N]> {
    bytes
        .get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("expected {N} bytes, got {}", bytes.len()).into())
}

/// Decodes a binary `numeric` into its exact decimal text (`NaN`, `Infinity` included).
pub(crate) fn decode_numeric(bytes: &[u8]) -> deserialize::Result<String> {
    let header: [u8; 8] = read_be(bytes)?;
    let ndigits = i16::from_be_bytes([header[0], header[1]]) as usize;
    let weight = i16::from_be_bytes([header[2], header[3]]) as i32;
    let sign = u16::from_be_bytes([header[4], header[5]]);
    let dscale = i16::from_be_bytes([header[6], header[7]]).max(0) as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| read_be::<2>(&bytes[8 + 2 * i..]).map(|d| i16::from_be_bytes(d) as i32))
        .collect::<deserialize::Result<_>>()?;
    let digit = |i: i32| {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                out.push_str(&digit(i).to_string());
            } else {
                out.push_str(&format!("{:04}", digit(i)));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(dscale);
        out.push_str(&frac);
    }
    Ok(out)
}

fn format_date(days_since_2000: i32) -> String {
    match days_since_2000 {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        days => {
            let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
            epoch
                .checked_add_signed(chrono::Duration::days(days.into()))
                .map_or_else(
                    || format!("{days} days after 2000-01-01"),
                    |d| d.format("%Y-%m-%d").to_string(),
                )
        }
    }
}

fn format_time_of_day(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let base = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac == 0 {
        base
    } else {
        format!("{base}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

fn format_interval(bytes: &[u8]) -> deserialize::Result<String> {
    let micros = i64::from_be_bytes(read_be(bytes)?);
    let days = i32::from_be_bytes(read_be(&bytes[8..])?);
    let months = i32::from_be_bytes(read_be(&bytes[12..])?);
    let mut parts = Vec::new();
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [(years, "year"), (months, "mon"), (days, "day")] {
        if n != 0 {
            parts.push(format!("{n} {unit}{}", if n.abs() == 1 { "" } else { "s" }));
        }
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        parts.push(format!("{sign}{}", format_time_of_day(micros.abs())));
    }
    Ok(parts.join(" "))
}

fn format_inet(bytes: &[u8]) -> deserialize::Result<String> {
    let header: [u8; 4] = read_be(bytes)?;
    let (family, bits, is_cidr, len) = (header[0], header[1], header[2], header[3] as usize);
    let addr = bytes.get(4..4 + len).ok_or("truncated inet")?;
    let text = match (family, len) {
        (2, 4) => std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
        (3, 16) => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(addr)?).to_string(),
        _ => return Err("unknown inet family".into()),
    };
    let full = if family == 2 { 32 } else { 128 };
    Ok(if is_cidr == 1 || bits != full {
        format!("{text}/{bits}")
    } else {
        text
    })
}

fn timestamp_value(micros_since_2000: i64) -> Value {
    match micros_since_2000 {
        i64::MAX => Value::Text("infinity".into()),
        i64::MIN => Value::Text("-infinity".into()),
        micros => {
            chrono::DateTime::from_timestamp_micros(micros.saturating_add(PG_EPOCH_OFFSET_MICROS))
                .map_or_else(
                    || Value::Text(format!("{micros} µs after 2000-01-01")),
                    Value::Timestamp,
                )
        }
    }
}

fn json_value(text: &[u8]) -> deserialize::Result<Value> {
    let text = std::str::from_utf8(text)?;
    Ok(serde_json::from_str(text).map_or_else(|_| Value::Text(text.to_owned()), Value::Json))
}

impl FromSql<AnySql, Pg> for Value {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        let type_oid = value.get_oid().get();
        Ok(match type_oid {
            oid::BOOL => Value::Bool(bytes.first().is_some_and(|b| *b != 0)),
            oid::INT2 => Value::Int(i16::from_be_bytes(read_be(bytes)?).into()),
            oid::INT4 => Value::Int(i32::from_be_bytes(read_be(bytes)?).into()),
            oid::INT8 => Value::Int(i64::from_be_bytes(read_be(bytes)?)),
            oid::OID => Value::Int(u32::from_be_bytes(read_be(bytes)?).into()),
            oid::FLOAT4 => Value::Float(f32::from_be_bytes(read_be(bytes)?).into()),
            oid::FLOAT8 => Value::Float(f64::from_be_bytes(read_be(bytes)?)),
            oid::NUMERIC => Value::Text(decode_numeric(bytes)?),
            oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR | oid::XML => {
                Value::Text(std::str::from_utf8(bytes)?.to_owned())
            }
            oid::BYTEA => Value::Bytes(bytes.to_vec()),
            oid::JSON => json_value(bytes)?,
            oid::JSONB => json_value(bytes.get(1..).ok_or("empty jsonb")?)?,
            oid::TIMESTAMP | oid::TIMESTAMPTZ => {
                timestamp_value(i64::from_be_bytes(read_be(bytes)?))
            }
            oid::DATE => Value::Text(format_date(i32::from_be_bytes(read_be(bytes)?))),
            oid::TIME => Value::Text(format_time_of_day(i64::from_be_bytes(read_be(bytes)?))),
            oid::INTERVAL => Value::Text(format_interval(bytes)?),
            oid::INET | oid::CIDR => Value::Text(format_inet(bytes)?),
            oid::UUID => Value::Uuid(uuid::Uuid::from_slice(bytes)?),
            // Enums, citext and other user types send their text form in binary mode.
            user if user >= oid::FIRST_USER_OID => match std::str::from_utf8(bytes) {
                Ok(text) if !text.contains('\0') => Value::Text(text.to_owned()),
                _ => {
                    return Err(format!(
                        "unsupported PostgreSQL type oid {user}; cast the column to text"
                    )
                    .into())
                }
            },
            other => {
                return Err(format!(
                    "unsupported PostgreSQL type oid {other}; cast the column to text"
                )
                .into())
            }
        })
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => <Self as FromSql<AnySql, Pg>>::from_sql(value),
            None => Ok(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [ndigits, weight] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_decodes_exactly() {
        assert_eq!(
            decode_numeric(&numeric(2, 0, 0, 2, &[12, 3400])).unwrap(),
            "12.34"
        );
        assert_eq!(
            decode_numeric(&numeric(2, 1, 0x4000, 0, &[1, 0])).unwrap(),
            "-10000"
        );
        assert_eq!(
            decode_numeric(&numeric(1, -1, 0, 5, &[50])).unwrap(),
            "0.00500"
        );
        assert_eq!(decode_numeric(&numeric(0, 0, 0, 3, &[])).unwrap(), "0.000");
        assert_eq!(
            decode_numeric(&numeric(0, 0, 0xC000, 0, &[])).unwrap(),
            "NaN"
        );
        assert!(decode_numeric(&[0, 1]).is_err());
    }

    #[test]
    fn connect_options_are_added_once() {
        assert_eq!(
            with_connect_options("postgres://h/db", 5),
            "postgres://h/db?connect_timeout=5&application_name=dbshift"
        );
        assert_eq!(
            with_connect_options("postgres://h/db?sslmode=require&connect_timeout=2", 5),
            "postgres://h/db?sslmode=require&connect_timeout=2&application_name=dbshift"
        );
        assert_eq!(
            with_connect_options("host=h dbname=d", 3),
            "host=h dbname=d connect_timeout=3 application_name='dbshift'"
        );
        assert_eq!(
            with_connect_options_named("postgres://h/db", 5, "my service/1"),
            "postgres://h/db?connect_timeout=5&application_name=my%20service%2F1"
        );
        assert_eq!(
            with_connect_options_named("host=h", 5, "it's"),
            "host=h connect_timeout=5 application_name='it\\'s'"
        );
    }

    #[test]
    fn dates_times_and_intervals_format_like_postgres() {
        assert_eq!(format_date(0), "2000-01-01");
        assert_eq!(format_date(-1), "1999-12-31");
        assert_eq!(format_time_of_day(3_723_500_000), "01:02:03.5");
        let mut interval = Vec::new();
        interval.extend_from_slice(&3_600_000_000i64.to_be_bytes());
        interval.extend_from_slice(&2i32.to_be_bytes());
        interval.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(
            format_interval(&interval).unwrap(),
            "1 year 2 mons 2 days 01:00:00"
        );
        assert_eq!(one_line("a\n\tb  c\n"), "a; b c");
    }
}
