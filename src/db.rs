//! The pool: one of two native sqlx pools, chosen at run time by `DATABASE_URL`,
//! behind rocket_db_pools' `Pool` trait (see docs/decisions.md for why not `Any`),
//! and the write transaction every feature uses, retried when the database
//! asks for it.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::Connection as _;
use sqlx::{Either, Executor as _};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Runs `$body` once per backend with `$p` bound to that backend's native pool,
/// so the same SQL text compiles against both drivers and keeps their native types.
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p, _) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs `$body` with `$c` bound to the open transaction (`&mut sqlx::Transaction`
/// of the backend): queries take `&mut **$c`.
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite($c, _) => $body,
            $crate::db::Tx::Postgres($c) => $body,
        }
    };
}
pub(crate) use with_tx;

/// The application's database, a Rocket resource (`&Db` is a request guard).
#[derive(Database)]
#[database("tally")]
pub struct Db(Pool);

#[derive(Clone)]
pub enum Pool {
    /// The pool and its writers (see [`Writers`]).
    Sqlite(SqlitePool, Arc<Writers>),
    Postgres(PgPool),
}

/// SQLite's writers. SQLite has one writer at a time, and a writer that
/// waits in SQLite's busy handler sleeps in steps of up to 100 ms while
/// holding one of the few connections. Waiting in line for the queue's one
/// permit (`turn`) costs no connection and no sleep. Writes that can share a
/// transaction ([`Job`]s) wait in `line` instead, for a task that runs
/// all those waiting as one transaction (group commit, see
/// [`Pool::sqlite_job`]).
pub struct Writers {
    turn: Arc<Semaphore>,
    line: mpsc::UnboundedSender<Waiting>,
    /// Writes waiting for their turn or in line, for the metrics.
    waiting: std::sync::atomic::AtomicI64,
}

/// Counts one write as waiting while it lives.
struct InLine<'w>(&'w Writers);

impl<'w> InLine<'w> {
    fn new(writers: &'w Writers) -> Self {
        writers
            .waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InLine(writers)
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A write that can share one SQLite transaction with other writes (group
/// commit, see [`Pool::sqlite_job`]). No statement of it may fail on a
/// rule: a refusal is a statement that changes nothing, read back from the
/// rows, so that one refused write does not undo the others.
pub trait Job: Send + Sync + 'static {
    /// How many statements `sql` writes.
    fn statements(&self) -> usize;
    /// How many parameters `bind` binds.
    fn params(&self) -> usize;
    /// Appends its statements, each ending in `;`, its parameters numbered
    /// from `first + 1` (see [`renumbered`]).
    fn sql(&self, first: usize, out: &mut String);
    /// Binds its parameters, in their order.
    fn bind<'q>(&'q self, q: SqliteQuery<'q>) -> SqliteQuery<'q>;
}

pub type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// A job waiting in line, and where its rows go.
struct Waiting {
    job: Box<dyn Job>,
    reply: oneshot::Sender<Result<Vec<SqliteRow>, sqlx::Error>>,
    /// As waiting for a connection, waiting in line is bounded.
    until: Instant,
}

/// The most jobs in one transaction. Each size is its own SQL text, which
/// the writers' connection keeps prepared; 8 served no more requests than
/// 4 under the benchmark's mix (docs/decisions.md, "Pool sizing").
const GROUP: usize = 4;

/// Appends `sql` with each parameter `$n` renumbered `$(n + first)`.
pub fn renumbered(sql: &str, first: usize, out: &mut String) {
    use std::fmt::Write as _;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = rest[..digits]
            .parse()
            .expect("a parameter's number follows `$`");
        let _ = write!(out, "${}", n + first);
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

/// A write transaction on either backend.
pub enum Tx {
    /// The transaction holds the writers' permit until it ends.
    Sqlite(
        sqlx::Transaction<'static, sqlx::Sqlite>,
        OwnedSemaphorePermit,
    ),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// The work of one transaction: it gets the transaction and the input, and may
/// run more than once (see [`Pool::transaction`]).
pub type Work<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// Errors that say "the same transaction may well succeed if run again":
/// a deadlock or serialization failure on PostgreSQL, a busy SQLite.
pub trait Transient {
    fn is_transient(&self) -> bool;
}

impl Transient for sqlx::Error {
    fn is_transient(&self) -> bool {
        let Some(e) = self.as_database_error() else {
            return false;
        };
        matches!(
            e.code().as_deref(),
            // PostgreSQL: serialization_failure, deadlock_detected.
            Some("40001" | "40P01")
            // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
            | Some("5" | "6" | "261" | "517" | "262")
        )
    }
}

/// Whether `e` is a foreign-key violation: what a row refers to is gone.
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| matches!(d.kind(), sqlx::error::ErrorKind::ForeignKeyViolation))
}

/// Acquire timeouts since the last scrape of `/metrics`.
pub static POOL_TIMEOUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long a PostgreSQL connection may rest in the pool before it is pinged
/// on its way out again (see [`Pool::connect`]).
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How many times a transaction runs before a transient failure is reported.
pub const ATTEMPTS: u32 = 5;

impl Tx {
    /// Serialises this transaction with every other one that locks `key`.
    /// SQLite's `BEGIN IMMEDIATE` already serialises all writers.
    pub async fn lock_key(&mut self, key: &str) -> Result<(), sqlx::Error> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Appended to a `SELECT` that reads rows this transaction will write:
    /// PostgreSQL locks them; SQLite's write transaction holds the database lock already.
    pub fn for_update(&self) -> &'static str {
        match self {
            Tx::Sqlite(..) => "",
            Tx::Postgres(_) => " FOR UPDATE",
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: {0}")]
    Config(String),
    #[error("DATABASE_URL: cannot connect: {0}")]
    Connect(#[source] sqlx::Error),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// `databases.tally` in the figment; every field but `url` has a default chosen
/// for the backend (see docs/decisions.md, "Pool sizing").
#[derive(Deserialize)]
struct PoolConfig {
    url: String,
    max_connections: Option<u32>,
    connect_timeout: Option<u64>,
    #[serde(default)]
    lazy: bool,
}

pub enum Connection {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for Pool {
    type Connection = Connection;
    type Error = DbError;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: PoolConfig = figment
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        Pool::connect(&config).await
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        Ok(match self {
            Pool::Sqlite(p, _) => Connection::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Connection::Postgres(p.acquire().await?),
        })
    }

    async fn close(&self) {
        with_pool!(self, |p| p.close().await)
    }
}

impl Pool {
    async fn connect(config: &PoolConfig) -> Result<Self, DbError> {
        let timeout = Duration::from_secs(config.connect_timeout.unwrap_or(5));
        let url = config.url.as_str();
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| DbError::Config(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            // An in-memory database lives only while a connection holds it open.
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool = SqlitePoolOptions::new()
                // A connection to a local file does not go stale, and each
                // ping is a round trip to the connection's worker thread.
                .test_before_acquire(false)
                .max_connections(config.max_connections.unwrap_or(3))
                .min_connections(u32::from(in_memory))
                .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
                .max_lifetime((!in_memory).then_some(Duration::from_secs(1800)))
                .acquire_timeout(timeout);
            let pool = if config.lazy && !in_memory {
                pool.connect_lazy_with(options)
            } else {
                pool.connect_with(options).await.map_err(DbError::Connect)?
            };
            let turn = Arc::new(Semaphore::new(1));
            let (line, waiting) = mpsc::unbounded_channel();
            tokio::spawn(write_in_groups(pool.clone(), Arc::clone(&turn), waiting));
            let waiting = 0.into();
            let writers = Writers {
                turn,
                line,
                waiting,
            };
            Ok(Pool::Sqlite(pool, Arc::new(writers)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::Config(e.to_string()))?
                .application_name("tally");
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        // sqlx pings every connection as it comes back to the
                        // pool; one back since less than this is alive, and a
                        // second ping would add a round trip to every request.
                        // A rested one is pinged, as the server or a proxy may
                        // have closed it; a failed ping discards it and the
                        // pool finds another.
                        if meta.idle_for >= PING_AFTER_IDLE {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .max_connections(config.max_connections.unwrap_or(10))
                .acquire_timeout(timeout);
            let pool = if config.lazy {
                pool.connect_lazy_with(options)
            } else {
                pool.connect_with(options).await.map_err(DbError::Connect)?
            };
            Ok(Pool::Postgres(pool))
        } else {
            Err(DbError::Config(
                "expected sqlite://path.db, sqlite::memory: or postgres://…".into(),
            ))
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Pool::Sqlite(p, _) => sqlx::migrate!("migrations/sqlite").run(p).await,
            Pool::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await,
        }
    }

    /// Starts a write transaction. SQLite takes its write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read
    /// lock; PostgreSQL relies on row locks taken in one order (see `ledger`).
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p, writers) => {
                let in_line = InLine::new(writers);
                let permit = writers_turn(p, &writers.turn).await?;
                drop(in_line);
                // The permit is released when the transaction ends: after
                // `commit` returns, or when it is dropped. A nested write
                // transaction would wait for it forever; none exists (every
                // `work` uses only the `Tx` it is given).
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, permit)
            }
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Runs `job` in a SQLite write transaction together with the jobs that
    /// wait in line beside it, and returns the rows of its own statements
    /// (group commit). One transaction for several writes crosses to the
    /// connection's thread once and commits once, where each write alone
    /// would hold the one write lock for both; under load, the writes that
    /// queue up while one group runs make the next group. A group that
    /// fails runs again, job by job, so that each job gets its own answer.
    /// Once in line, a job runs to its end even when the request that
    /// queued it is gone; a job whose request is gone before its group
    /// starts does not run.
    pub async fn sqlite_job(&self, job: Box<dyn Job>) -> Result<Vec<SqliteRow>, sqlx::Error> {
        let Pool::Sqlite(p, writers) = self else {
            return Err(not_sqlite());
        };
        let _in_line = InLine::new(writers);
        let (reply, rows) = oneshot::channel();
        let until = Instant::now() + p.options().get_acquire_timeout();
        writers
            .line
            .send(Waiting { job, reply, until })
            .map_err(|_| sqlx::Error::PoolClosed)?;
        rows.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }

    // ANCHOR: transaction
    /// Runs `work` in a write transaction and commits it. When the database
    /// reports a transient failure (a deadlock, a serialization failure, a
    /// busy SQLite) the transaction is rolled back and run again, at most
    /// [`ATTEMPTS`] times, after a short random pause. Any other error rolls
    /// back and is returned as it is.
    ///
    /// `work` is a closure that returns its future boxed, so that it can
    /// borrow both the transaction and `input` for as long as it runs:
    /// `db.transaction(&body, |tx, body| Box::pin(async move { … }))`.
    pub async fn transaction<I, T, E, F>(&self, input: &I, work: F) -> Result<T, E>
    where
        I: Sync + ?Sized,
        E: From<sqlx::Error> + Transient,
        F: for<'t> Fn(&'t mut Tx, &'t I) -> Work<'t, T, E>,
    {
        let work = &work;
        retried(move || async move {
            let mut tx = self.begin_write().await?;
            let value = work(&mut tx, input).await?;
            tx.commit().await?;
            Ok(value)
        })
        .await
    }
    // ANCHOR_END: transaction

    /// Answers whether the database responds at all.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))
    }

    /// SQLite writes waiting for their turn or in line; 0 on PostgreSQL,
    /// where writes wait for a connection like reads, and sqlx does not
    /// count the requests that wait for one.
    pub fn writes_waiting(&self) -> i64 {
        match self {
            Pool::Sqlite(_, w) => w.waiting.load(std::sync::atomic::Ordering::Relaxed),
            Pool::Postgres(_) => 0,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Pool::Sqlite(..) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }
}

/// Runs `attempt` and, when the database reports a transient failure, runs
/// it again after a short random pause, at most [`ATTEMPTS`] times in all.
pub async fn retried<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut count = 1;
    loop {
        match attempt().await {
            Err(e) if again(&e, count) => pause(&mut count).await,
            other => return other,
        }
    }
}

/// Whether a transaction that failed with `e` on its `attempt` runs again.
fn again(e: &impl Transient, attempt: u32) -> bool {
    e.is_transient() && attempt < ATTEMPTS
}

/// The short random pause before the next attempt.
async fn pause(attempt: &mut u32) {
    tracing::info!(
        attempt = *attempt,
        "transient database failure; running the transaction again"
    );
    let pause = rand::random::<u64>() % (10 * u64::from(*attempt)) + 1;
    tokio::time::sleep(Duration::from_millis(pause)).await;
    *attempt += 1;
}

fn not_sqlite() -> sqlx::Error {
    sqlx::Error::Configuration("a SQLite job on PostgreSQL".into())
}

/// The writers' task: runs the jobs in line, as many as are waiting (up to
/// [`GROUP`]) in each transaction, until the pool is gone.
async fn write_in_groups(
    p: SqlitePool,
    turn: Arc<Semaphore>,
    mut line: mpsc::UnboundedReceiver<Waiting>,
) {
    // The groups' own connection, outside the pool: each group size is one
    // SQL text, and only this connection keeps them all prepared.
    let mut own = None;
    let mut group = Vec::with_capacity(GROUP);
    while line.recv_many(&mut group, GROUP).await > 0 {
        let now = Instant::now();
        for late in group.extract_if(.., |w| w.until <= now) {
            let _ = late.reply.send(Err(sqlx::Error::PoolTimedOut));
        }
        group.retain(|w| !w.reply.is_closed());
        match run_group(&p, &turn, &mut own, &group).await {
            Ok(rows) => {
                for (w, rows) in group.drain(..).zip(rows) {
                    let _ = w.reply.send(Ok(rows));
                }
            }
            // A statement failed, and which job's is unknown: each runs
            // alone, so that the others get their rows.
            Err(e) if group.len() > 1 && e.as_database_error().is_some() => {
                for w in group.drain(..) {
                    let alone = run_group(&p, &turn, &mut own, std::slice::from_ref(&w)).await;
                    let _ = w.reply.send(alone.map(|mut rows| rows.remove(0)));
                }
            }
            // One job's own failure; or, in a group, no statement ran (the
            // line waited too long, or the database does not answer): the
            // same answer for every job.
            Err(e) => {
                let others: Vec<_> = group[1..].iter().map(|_| same_for_another(&e)).collect();
                for (w, e) in group.drain(..).zip(std::iter::once(e).chain(others)) {
                    let _ = w.reply.send(Err(e));
                }
            }
        }
    }
}

/// What another job of a group that failed with `e` before any statement
/// ran is told (`sqlx::Error` is not `Clone`): the same 503.
fn same_for_another(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// Runs `group`'s jobs in one transaction on the connection `own` (opened
/// when there is none) and returns each job's rows. Waiting for the
/// writers' turn and running again after a transient failure (as
/// `transaction` does) both stop at the earliest job's `until`. A script
/// that fails part-way has not run its `COMMIT`; its transaction is rolled
/// back, or when that fails the connection is closed, which rolls back too.
async fn run_group(
    p: &SqlitePool,
    turn: &Arc<Semaphore>,
    own: &mut Option<SqliteConnection>,
    group: &[Waiting],
) -> Result<Vec<Vec<SqliteRow>>, sqlx::Error> {
    use futures_util::TryStreamExt as _;
    let Some(until) = group.iter().map(|w| w.until).min() else {
        return Ok(Vec::new());
    };
    let mut sql = String::from("BEGIN IMMEDIATE;\n");
    let (mut first, mut statements) = (0, 2);
    for w in group {
        w.job.sql(first, &mut sql);
        first += w.job.params();
        statements += w.job.statements();
    }
    sql.push_str("COMMIT;");
    let mut attempt = 1;
    let results = loop {
        let outcome = async {
            let _permit = tokio::time::timeout_at(until, Arc::clone(turn).acquire_owned())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?;
            let conn = match own {
                Some(conn) => conn,
                None => own.insert(SqliteConnection::connect_with(&p.connect_options()).await?),
            };
            let script = group.iter().fold(sqlx::query(&sql), |q, w| w.job.bind(q));
            let results: Result<Vec<_>, _> = conn.fetch_many(script).try_collect().await;
            // Every statement ends once, COMMIT last; fewer ends means the
            // connection's thread stopped mid-way.
            let results = results.and_then(|r| {
                let ended = r.iter().filter(|r| r.is_left()).count();
                if ended == statements {
                    Ok(r)
                } else {
                    Err(sqlx::Error::Protocol(format!(
                        "the script stopped after {ended} of {statements} statements"
                    )))
                }
            });
            if let Err(e) = &results {
                if matches!(e, sqlx::Error::Protocol(_)) || !rolled_back(conn).await {
                    *own = None;
                }
            }
            results
        }
        .await;
        match outcome {
            Err(e) if again(&e, attempt) && Instant::now() < until => pause(&mut attempt).await,
            other => break other?,
        }
    };
    // After BEGIN's end, each job's rows up to the end of its last statement.
    let mut results = results.into_iter().skip(1);
    Ok(group
        .iter()
        .map(|w| {
            let mut rows = Vec::new();
            let mut ended = 0;
            while ended < w.job.statements() {
                match results.next() {
                    Some(Either::Left(_)) => ended += 1,
                    Some(Either::Right(row)) => rows.push(row),
                    None => break,
                }
            }
            rows
        })
        .collect())
}

/// Rolls back what a failed script left open; `false` if that failed too.
async fn rolled_back(c: &mut SqliteConnection) -> bool {
    match sqlx::query("ROLLBACK").execute(c).await {
        Ok(_) => true,
        // BEGIN itself failed, so nothing was open.
        Err(e) => e
            .as_database_error()
            .is_some_and(|d| d.message().contains("no transaction is active")),
    }
}

/// A SQLite writer's turn: the writers' queue's one permit. Waiting in line
/// is bounded like waiting for a connection, and ends the same way: 503,
/// counted in the metrics.
async fn writers_turn(
    p: &SqlitePool,
    writers: &Arc<Semaphore>,
) -> Result<OwnedSemaphorePermit, sqlx::Error> {
    tokio::time::timeout(
        p.options().get_acquire_timeout(),
        Arc::clone(writers).acquire_owned(),
    )
    .await
    .map_err(|_| sqlx::Error::PoolTimedOut)
    .map(|permit| permit.expect("the writers' queue is never closed"))
}

/// Connects with the database settings alone, for `tally migrate`.
pub async fn connect(figment: &Figment) -> Result<Pool, DbError> {
    <Pool as rocket_db_pools::Pool>::init(
        &figment.focus(&format!("databases.{}", crate::config::DB_NAME)),
    )
    .await
}

/// Applies migrations once the pool exists, failing launch on error.
pub async fn run_migrations(rocket: Rocket<Build>) -> rocket::fairing::Result {
    let Some(db) = Db::fetch(&rocket) else {
        return Err(rocket);
    };
    match db.migrate().await {
        Ok(()) => Ok(rocket),
        Err(e) => {
            tracing::error!(error = %e, "database migrations failed");
            Err(rocket)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::renumbered;

    #[test]
    fn renumbering_shifts_every_parameter_and_nothing_else() {
        let mut out = String::from("BEGIN;");
        renumbered("SELECT $1, $10 WHERE x = $2;", 14, &mut out);
        assert_eq!(out, "BEGIN;SELECT $15, $24 WHERE x = $16;");
        let mut out = String::new();
        renumbered("SELECT 1;", 3, &mut out);
        assert_eq!(out, "SELECT 1;");
    }
}
