use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{is_foreign_key_violation, with_pool, with_tx, Pool, Tx};
use crate::error::ApiError;

#[derive(sqlx::FromRow)]
pub struct Row {
    pub fingerprint: Vec<u8>,
    pub status: Option<i32>,
    pub location: Option<String>,
    pub body: Option<String>,
}

/// Takes the key unless a live claim holds it (an expired one is taken
/// over). On PostgreSQL a concurrent claim of the same key waits here until
/// the first transaction ends. A user deleted meanwhile is a 401.
pub async fn claim(
    tx: &mut Tx,
    user: Uuid,
    key: &str,
    fingerprint: &[u8],
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let taken = with_tx!(tx, |c| sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, key) DO UPDATE
            SET fingerprint = excluded.fingerprint, status = NULL, location = NULL,
                body = NULL, created_at = excluded.created_at
            WHERE idempotency_keys.created_at < $5",
    )
    .bind(user)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .bind(expired_before)
    .execute(&mut **c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| match is_foreign_key_violation(&e) {
        true => ApiError::user_gone(),
        false => e.into(),
    })?;
    Ok(taken == 1)
}

pub async fn find(tx: &mut Tx, user: Uuid, key: &str) -> Result<Option<Row>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT fingerprint, status, location, body FROM idempotency_keys
         WHERE user_id = $1 AND key = $2"
    )
    .bind(user)
    .bind(key)
    .fetch_optional(&mut **c)
    .await)
}

pub async fn record(
    tx: &mut Tx,
    user: Uuid,
    key: &str,
    status: u16,
    location: Option<&str>,
    body: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE idempotency_keys SET status = $3, location = $4, body = $5
         WHERE user_id = $1 AND key = $2"
    )
    .bind(user)
    .bind(key)
    .bind(i32::from(status))
    .bind(location)
    .bind(body)
    .execute(&mut **c)
    .await
    .map(|_| ()))
}

/// Deletes the keys older than `before`; how many went.
pub async fn purge(pool: &Pool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < $1"
    )
    .bind(before)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
}
