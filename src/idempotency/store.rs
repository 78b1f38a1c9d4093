use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Tx;
use crate::with_tx;

#[derive(sqlx::FromRow)]
pub struct Row {
    pub fingerprint: Vec<u8>,
    pub status: Option<i32>,
    pub location: Option<String>,
    pub body: Option<String>,
}

/// Takes the key unless a live claim holds it. On PostgreSQL a concurrent
/// claim of the same key waits here until the first transaction ends.
pub async fn insert_claim(
    tx: &mut Tx,
    user: Uuid,
    key: &str,
    fingerprint: &[u8],
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let inserted = with_tx!(tx, |c| {
        // A user's expired keys go whenever that user claims one, so the table
        // holds about a day of keys per active user.
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < $2")
            .bind(user)
            .bind(expired_before)
            .execute(&mut **c)
            .await?;
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(user)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
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
