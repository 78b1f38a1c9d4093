use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Account, AccountCreate, AccountKind};
use crate::db::{is_foreign_key_violation, with_pool, with_tx, Pool, Tx};
use crate::error::ApiError;

const COLUMNS: &str = "id, name, kind, currency, balance, version, created_at, updated_at";

/// Newest first, after the account `after` when given.
pub async fn list(
    pool: &Pool,
    user: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Account>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM accounts WHERE user_id = $1 AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    with_pool!(pool, |p| sqlx::query_as(&sql)
        .bind(user)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)
}

/// Every account of `user`, newest first.
pub async fn all(pool: &Pool, user: Uuid) -> Result<Vec<Account>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE user_id = $1 ORDER BY id DESC");
    with_pool!(pool, |p| sqlx::query_as(&sql).bind(user).fetch_all(p).await)
}

pub async fn find(pool: &Pool, user: Uuid, id: Uuid) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1 AND user_id = $2");
    with_pool!(pool, |p| sqlx::query_as(&sql)
        .bind(id)
        .bind(user)
        .fetch_optional(p)
        .await)
}

/// The account, read inside `tx` (locked on PostgreSQL, for a change).
pub async fn find_for_update(
    tx: &mut Tx,
    user: Uuid,
    id: Uuid,
) -> Result<Option<Account>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND user_id = $2{}",
        tx.for_update()
    );
    with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(user)
        .fetch_optional(&mut **c)
        .await)
}

/// A new, empty account (the ledger records its opening balance). If the
/// user was deleted meanwhile, their token no longer counts: 401.
pub async fn insert(
    tx: &mut Tx,
    user: Uuid,
    new: &AccountCreate,
    now: DateTime<Utc>,
) -> Result<Account, ApiError> {
    let sql = format!(
        "INSERT INTO accounts (id, user_id, name, kind, currency, balance, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $6) RETURNING {COLUMNS}"
    );
    with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(Uuid::now_v7())
        .bind(user)
        .bind(new.name.as_str())
        .bind(new.kind.as_str())
        .bind(new.currency.code())
        .bind(now)
        .fetch_one(&mut **c)
        .await)
    .map_err(|e| match is_foreign_key_violation(&e) {
        true => ApiError::user_gone(),
        false => e.into(),
    })
}

pub async fn rename(
    tx: &mut Tx,
    user: Uuid,
    id: Uuid,
    name: &str,
    kind: AccountKind,
    now: DateTime<Utc>,
) -> Result<Account, sqlx::Error> {
    let sql = format!(
        "UPDATE accounts SET name = $3, kind = $4, version = version + 1, updated_at = $5
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(user)
        .bind(name)
        .bind(kind.as_str())
        .bind(now)
        .fetch_one(&mut **c)
        .await)
}

/// Deletes the account; its movements go with it (foreign-key cascade).
pub async fn delete(tx: &mut Tx, user: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "DELETE FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user)
    .execute(&mut **c)
    .await
    .map(|r| r.rows_affected() == 1))
}
