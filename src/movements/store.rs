use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::model::Movement;
use crate::db::{Pool, Tx};
use crate::{with_pool, with_tx};

/// The largest balance an account may reach, either way: far beyond any real
/// account and well inside a 64-bit integer, so sums cannot overflow.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000_000;

const COLUMNS: &str =
    "id, account_id, amount, description, category, occurred_at, created_at, transfer_id";

pub struct NewMovement<'a> {
    pub account_id: Uuid,
    pub amount: i64,
    pub description: &'a str,
    pub category: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub transfer_id: Option<Uuid>,
}

/// Why a balance could not change.
pub enum BalanceError {
    NoAccount,
    OutOfRange,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for BalanceError {
    fn from(e: sqlx::Error) -> Self {
        BalanceError::Db(e)
    }
}

/// Adds `amount` to the balance of `user`'s account, atomically
/// (`balance = balance + $1`: concurrent writers never lose an update).
pub async fn add_to_balance(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<(), BalanceError> {
    let changed = with_tx!(tx, |c| sqlx::query(
        "UPDATE accounts SET balance = balance + $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND user_id = $4 AND balance + $1 BETWEEN $5 AND $6"
    )
    .bind(amount)
    .bind(now)
    .bind(account)
    .bind(user)
    .bind(-MAX_BALANCE)
    .bind(MAX_BALANCE)
    .execute(&mut **c)
    .await?
    .rows_affected());
    if changed == 1 {
        return Ok(());
    }
    let exists = with_tx!(tx, |c| sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(account)
    .bind(user)
    .fetch_optional(&mut **c)
    .await?
    .is_some());
    Err(if exists {
        BalanceError::OutOfRange
    } else {
        BalanceError::NoAccount
    })
}

pub async fn insert(
    tx: &mut Tx,
    new: &NewMovement<'_>,
    now: DateTime<Utc>,
) -> Result<Movement, sqlx::Error> {
    let sql = format!(
        "INSERT INTO movements ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(Uuid::now_v7())
        .bind(new.account_id)
        .bind(new.amount)
        .bind(new.description)
        .bind(new.category)
        .bind(new.occurred_at)
        .bind(now)
        .bind(new.transfer_id)
        .fetch_one(&mut **c)
        .await)
}

/// Filters of the movement list.
pub struct Filter<'a> {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub category: Option<&'a str>,
    /// Keyset position: only movements strictly after it in list order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// The movement list: newest `occurred_at` first (ties by newest id).
/// Binds: account, from, to, category, after (occurred_at, id), limit, user.
/// The ownership check is a one-time condition of the same query, so a
/// non-empty page costs one round trip; an empty one is told apart from
/// "not your account" by the caller.
pub const LIST_SQL: &str =
    "SELECT id, account_id, amount, description, category, occurred_at, created_at, transfer_id
     FROM movements
     WHERE account_id = $1
       AND ($2 IS NULL OR occurred_at >= $2)
       AND ($3 IS NULL OR occurred_at < $3)
       AND ($4 IS NULL OR category = $4)
       AND ($5 IS NULL OR (occurred_at, id) < ($5, $6))
       AND EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND user_id = $8)
     ORDER BY occurred_at DESC, id DESC
     LIMIT $7";

pub async fn list(
    pool: &Pool,
    user: Uuid,
    account: Uuid,
    filter: &Filter<'_>,
    limit: u32,
) -> Result<Vec<Movement>, sqlx::Error> {
    let (after_at, after_id) = filter.after.unzip();
    with_pool!(pool, |p| sqlx::query_as(LIST_SQL)
        .bind(account)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.category)
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit))
        .bind(user)
        .fetch_all(p)
        .await)
}

pub async fn find(
    pool: &Pool,
    user: Uuid,
    account: Uuid,
    id: Uuid,
) -> Result<Option<Movement>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE m.id = $1 AND m.account_id = $2 AND a.user_id = $3",
        qualified("m")
    );
    with_pool!(pool, |p| sqlx::query_as(&sql)
        .bind(id)
        .bind(account)
        .bind(user)
        .fetch_optional(p)
        .await)
}

fn qualified(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The movement and, for a transfer, its other leg: `(id, account, amount)`,
/// only if `user` owns the movement. The rows stay locked until the
/// transaction ends, so a concurrent deletion of the same movement waits and
/// then finds it gone (rather than reversing the balance a second time).
pub async fn legs(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    id: Uuid,
) -> Result<Vec<(Uuid, Uuid, i64)>, sqlx::Error> {
    let lock = if tx.for_update().is_empty() {
        ""
    } else {
        " FOR UPDATE OF m"
    };
    let sql = format!(
        "SELECT m.id, m.account_id, m.amount FROM movements m
         JOIN accounts a ON a.id = m.account_id
         WHERE a.user_id = $3 AND (
            (m.id = $1 AND m.account_id = $2)
            OR m.transfer_id = (SELECT t.transfer_id FROM movements t WHERE t.id = $1 AND t.account_id = $2))
         ORDER BY m.account_id{lock}"
    );
    with_tx!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(id)
            .bind(account)
            .bind(user)
            .fetch_all(&mut **c)
            .await
    })
}

/// Whether the movement was there to delete.
pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query("DELETE FROM movements WHERE id = $1")
        .bind(id)
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Whether `user` owns `account`.
pub async fn account_exists(pool: &Pool, user: Uuid, account: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(account)
    .bind(user)
    .fetch_optional(p)
    .await
    .map(|r| r.is_some()))
}
