use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::db::Pool;
use crate::{with_pool, with_tx};

/// How many codes one address may be sent in a sliding hour.
pub const CODES_PER_HOUR: usize = 5;
/// Wrong tries after which a code is burnt.
pub const MAX_ATTEMPTS: i32 = 5;

#[derive(sqlx::FromRow)]
pub struct CodeRow {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// Stores a new code for `email`, unless the address already had
/// `CODES_PER_HOUR` in the last hour: then `Err(seconds until one frees up)`.
/// Serialised per address, so concurrent requests cannot slip past the limit.
pub async fn create_code(
    pool: &Pool,
    email: &str,
    id: Uuid,
    code_hash: &[u8],
    now: DateTime<Utc>,
    ttl: TimeDelta,
) -> Result<Result<(), u64>, sqlx::Error> {
    let window_start = now - TimeDelta::hours(1);
    let mut tx = pool.begin_write().await?;
    tx.lock_key(email).await?;
    let limited = with_tx!(&mut tx, |c| {
        sqlx::query("DELETE FROM otp_codes WHERE email = $1 AND created_at <= $2")
            .bind(email)
            .bind(window_start)
            .execute(&mut **c)
            .await?;
        let recent: Vec<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT created_at FROM otp_codes WHERE email = $1 ORDER BY created_at",
        )
        .bind(email)
        .fetch_all(&mut **c)
        .await?;
        if recent.len() >= CODES_PER_HOUR {
            let frees_at = recent[recent.len() - CODES_PER_HOUR] + TimeDelta::hours(1);
            Some((frees_at - now).num_seconds().max(0) as u64 + 1)
        } else {
            sqlx::query(
                "INSERT INTO otp_codes (id, email, code_hash, attempts, created_at, expires_at)
                 VALUES ($1, $2, $3, 0, $4, $5)",
            )
            .bind(id)
            .bind(email)
            .bind(code_hash)
            .bind(now)
            .bind(now + ttl)
            .execute(&mut **c)
            .await?;
            None
        }
    });
    match limited {
        Some(retry_after) => Ok(Err(retry_after)),
        None => {
            tx.commit().await?;
            Ok(Ok(()))
        }
    }
}

pub async fn discard_code(pool: &Pool, id: Uuid) -> Result<(), sqlx::Error> {
    with_pool!(pool, |p| sqlx::query("DELETE FROM otp_codes WHERE id = $1")
        .bind(id)
        .execute(p)
        .await
        .map(|_| ()))
}

/// The newest code sent to `email`: the only one that can still sign in.
pub async fn latest_code(pool: &Pool, email: &str) -> Result<Option<CodeRow>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT id, code_hash, attempts, expires_at, consumed_at FROM otp_codes
         WHERE email = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
    )
    .bind(email)
    .fetch_optional(p)
    .await)
}

/// Counts one try against a code; `false` when it is burnt or already used.
/// Atomic, so parallel guesses cannot exceed `MAX_ATTEMPTS`.
pub async fn spend_attempt(pool: &Pool, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = with_pool!(pool, |p| sqlx::query(
        "UPDATE otp_codes SET attempts = attempts + 1
         WHERE id = $1 AND attempts < $2 AND consumed_at IS NULL"
    )
    .bind(id)
    .bind(MAX_ATTEMPTS)
    .execute(p)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Uses the code up and returns the user of `email`, created on first sign-in;
/// `None` if another request used the code first.
pub async fn redeem(
    pool: &Pool,
    code_id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let mut tx = pool.begin_write().await?;
    let user = with_tx!(&mut tx, |c| {
        let used = sqlx::query(
            "UPDATE otp_codes SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL",
        )
        .bind(code_id)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected();
        if used != 1 {
            None
        } else {
            sqlx::query(
                "INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (email) DO NOTHING",
            )
            .bind(Uuid::now_v7())
            .bind(email)
            .bind(now)
            .execute(&mut **c)
            .await?;
            Some(
                sqlx::query_scalar::<_, Uuid>("SELECT id FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_one(&mut **c)
                    .await?,
            )
        }
    });
    if user.is_some() {
        tx.commit().await?;
    }
    Ok(user)
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
