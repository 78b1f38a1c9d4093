use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{with_pool, Pool};
use crate::domain::Period;
use crate::ledger::Movement;

/// Filters of the movement list.
pub struct Filter<'a> {
    pub period: Period,
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
        .bind(filter.period.from)
        .bind(filter.period.to)
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
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT m.id, m.account_id, m.amount, m.description, m.category, m.occurred_at,
                m.created_at, m.transfer_id
         FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE m.id = $1 AND m.account_id = $2 AND a.user_id = $3"
    )
    .bind(id)
    .bind(account)
    .bind(user)
    .fetch_optional(p)
    .await)
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
