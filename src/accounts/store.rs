use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::{Account, AccountCreate, AccountKind};
use crate::db::Pool;
use crate::movements::store::{self as movements, NewMovement};
use crate::{with_pool, with_tx};

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

/// Every account of `user`, newest first (for the profile).
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

/// Creates the account and, when the opening balance is not 0, its first
/// movement, in one transaction.
pub async fn create(
    pool: &Pool,
    user: Uuid,
    new: &AccountCreate,
    now: DateTime<Utc>,
) -> Result<Account, sqlx::Error> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin_write().await?;
    let sql = format!(
        "INSERT INTO accounts (id, user_id, name, kind, currency, balance, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING {COLUMNS}"
    );
    let account: Account = with_tx!(&mut tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(user)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(&new.currency)
        .bind(new.opening_balance)
        .bind(now)
        .fetch_one(&mut **c)
        .await?);
    if new.opening_balance != 0 {
        movements::insert(
            &mut tx,
            &NewMovement {
                account_id: id,
                amount: new.opening_balance,
                description: "Opening balance",
                category: Some("opening_balance"),
                occurred_at: now,
                transfer_id: None,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(account)
}

pub enum UpdateError {
    NotFound,
    Precondition,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for UpdateError {
    fn from(e: sqlx::Error) -> Self {
        UpdateError::Db(e)
    }
}

/// Applies the changes if `matches` accepts the current ETag. A change that
/// changes nothing leaves the account (and its ETag) as it is.
pub async fn update(
    pool: &Pool,
    user: Uuid,
    id: Uuid,
    name: Option<&str>,
    kind: Option<AccountKind>,
    matches: impl Fn(&str) -> bool,
    now: DateTime<Utc>,
) -> Result<Account, UpdateError> {
    let mut tx = pool.begin_write().await?;
    let select = format!(
        "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND user_id = $2{}",
        tx.for_update()
    );
    let current: Option<Account> = with_tx!(&mut tx, |c| sqlx::query_as(&select)
        .bind(id)
        .bind(user)
        .fetch_optional(&mut **c)
        .await?);
    let current = current.ok_or(UpdateError::NotFound)?;
    if !matches(&current.etag()) {
        return Err(UpdateError::Precondition);
    }
    let name = name.unwrap_or(&current.name);
    let kind = kind.unwrap_or(current.kind);
    if name == current.name && kind == current.kind {
        return Ok(current);
    }
    let sql = format!(
        "UPDATE accounts SET name = $3, kind = $4, version = version + 1, updated_at = $5
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    let updated: Account = with_tx!(&mut tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(user)
        .bind(name)
        .bind(kind.as_str())
        .bind(now)
        .fetch_one(&mut **c)
        .await?);
    tx.commit().await?;
    Ok(updated)
}

/// Deletes the account; its movements go with it (foreign-key cascade).
pub async fn delete(pool: &Pool, user: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query(
        "DELETE FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(id)
    .bind(user)
    .execute(p)
    .await
    .map(|r| r.rows_affected() == 1))
}
