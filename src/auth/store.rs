use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::model::User;
use crate::db::{with_pool, with_tx, Pool, Tx};

#[derive(sqlx::FromRow)]
pub struct CodeRow {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// The creation times of the codes sent to `email` since `since`, oldest first.
pub async fn codes_since(
    tx: &mut Tx,
    email: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT created_at FROM otp_codes WHERE email = $1 AND created_at > $2 ORDER BY created_at"
    )
    .bind(email)
    .bind(since)
    .fetch_all(&mut **c)
    .await)
}

pub async fn insert_code(
    tx: &mut Tx,
    email: &str,
    id: Uuid,
    code_hash: &[u8],
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO otp_codes (id, email, code_hash, attempts, created_at, expires_at)
         VALUES ($1, $2, $3, 0, $4, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(code_hash)
    .bind(now)
    .bind(now + ttl)
    .execute(&mut **c)
    .await
    .map(|_| ()))
}

pub async fn discard_code(pool: &Pool, id: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query("DELETE FROM otp_codes WHERE id = $1")
        .bind(id)
        .execute(p)
        .await
        .map(|_| ()))
}

/// How many tries the codes sent to an address since a time have had, and
/// when the oldest of those tried was sent.
pub struct Tries {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

/// The newest code sent to `email` (the only one that can still sign in),
/// and the tries of all the address's codes since `since`.
pub async fn latest_code(
    tx: &mut Tx,
    email: &str,
    since: DateTime<Utc>,
) -> Result<(Option<CodeRow>, Tries), sqlx::Error> {
    with_tx!(tx, |c| {
        let code = sqlx::query_as(
            "SELECT id, code_hash, attempts, expires_at, consumed_at FROM otp_codes
             WHERE email = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(email)
        .fetch_optional(&mut **c)
        .await?;
        let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT),
                    MIN(CASE WHEN attempts > 0 THEN created_at END)
             FROM otp_codes WHERE email = $1 AND created_at > $2",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&mut **c)
        .await?;
        Ok((code, Tries { count, oldest }))
    })
}

/// Counts one try against a code; `false` when it is burnt or already used.
/// Atomic, so parallel guesses cannot exceed `max`.
pub async fn spend_attempt(tx: &mut Tx, id: Uuid, max: i32) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, |c| sqlx::query(
        "UPDATE otp_codes SET attempts = attempts + 1
         WHERE id = $1 AND attempts < $2 AND consumed_at IS NULL"
    )
    .bind(id)
    .bind(max)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Uses the code up; `false` if another request used it first.
pub async fn consume(tx: &mut Tx, code: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let used = with_tx!(tx, |c| sqlx::query(
        "UPDATE otp_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL"
    )
    .bind(code)
    .bind(now)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(used == 1)
}

/// The user of `email`, created if there is none yet.
pub async fn user_of(tx: &mut Tx, email: &str, now: DateTime<Utc>) -> Result<Uuid, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(email)
        .bind(now)
        .execute(&mut **c)
        .await?;
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&mut **c)
            .await
    })
}

pub async fn user(pool: &Pool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT id, email, created_at FROM users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)
}

pub async fn user_exists(pool: &Pool, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await
    .map(|row| row.is_some()))
}

/// Deletes the user (what they own goes by foreign-key cascade) and the
/// codes of their address.
pub async fn delete_user(tx: &mut Tx, id: Uuid) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query("DELETE FROM otp_codes WHERE email = (SELECT email FROM users WHERE id = $1)")
            .bind(id)
            .execute(&mut **c)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Counts one sign-in request of `client` in the window starting at
/// `window`, and returns the window's count so far (itself included).
pub async fn hit(tx: &mut Tx, client: &str, window: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO signin_hits (client, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (client, window_start) DO UPDATE SET hits = signin_hits.hits + 1
         RETURNING CAST(hits AS BIGINT)"
    )
    .bind(client)
    .bind(window)
    .fetch_one(&mut **c)
    .await)
}

/// Deletes codes and sign-in counts older than `before`; how many rows went.
pub async fn purge(pool: &Pool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| {
        let codes = sqlx::query("DELETE FROM otp_codes WHERE created_at < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected();
        let hits = sqlx::query("DELETE FROM signin_hits WHERE window_start < $1")
            .bind(before)
            .execute(p)
            .await?
            .rows_affected();
        Ok(codes + hits)
    })
}
