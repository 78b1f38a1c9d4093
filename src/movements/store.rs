use std::sync::OnceLock;

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

/// The filters a list query has, as bits: from, to, category, after.
fn shape(filter: &Filter<'_>) -> usize {
    usize::from(filter.period.from.is_some())
        | usize::from(filter.period.to.is_some()) << 1
        | usize::from(filter.category.is_some()) << 2
        | usize::from(filter.after.is_some()) << 3
}

/// The movement list's statement for one shape of filters: newest
/// `occurred_at` first (ties by newest id). Only the filters given are in
/// it, so every shape is its own prepared statement, and even PostgreSQL's
/// generic plan walks `movements_by_account` (or `_category`) backwards and
/// stops at the limit. The ownership check is a one-time condition of the
/// same query, so a non-empty page costs one round trip; an empty one is
/// told apart from "not your account" by the caller.
pub fn list_sql(shape: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    &SQL.get_or_init(|| {
        (0..16)
            .map(|shape| {
                let mut sql = String::from(
                    "SELECT id, account_id, amount, description, category, occurred_at, created_at, transfer_id
                     FROM movements
                     WHERE account_id = $1
                       AND EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2)",
                );
                let mut n = 2;
                let mut next = || {
                    n += 1;
                    n
                };
                if shape & 1 != 0 {
                    sql += &format!(" AND occurred_at >= ${}", next());
                }
                if shape & 2 != 0 {
                    sql += &format!(" AND occurred_at < ${}", next());
                }
                if shape & 4 != 0 {
                    sql += &format!(" AND category = ${}", next());
                }
                if shape & 8 != 0 {
                    let (at, id) = (next(), next());
                    sql += &format!(" AND (occurred_at, id) < (${at}, ${id})");
                }
                sql += &format!(" ORDER BY occurred_at DESC, id DESC LIMIT ${}", next());
                sql
            })
            .collect()
    })[shape]
}

/// A page of `user`'s `account`'s movements, or `None` when the account is
/// not theirs. The page's query checks ownership itself; only an empty page
/// asks whether the account exists.
pub async fn page(
    pool: &Pool,
    user: Uuid,
    account: Uuid,
    filter: &Filter<'_>,
    limit: u32,
) -> Result<Option<Vec<Movement>>, sqlx::Error> {
    let items = list(pool, user, account, filter, limit).await?;
    if items.is_empty() && !account_exists(pool, user, account).await? {
        return Ok(None);
    }
    Ok(Some(items))
}

async fn list(
    pool: &Pool,
    user: Uuid,
    account: Uuid,
    filter: &Filter<'_>,
    limit: u32,
) -> Result<Vec<Movement>, sqlx::Error> {
    let sql = list_sql(shape(filter));
    with_pool!(pool, |p| {
        let mut query = sqlx::query_as(sql).bind(account).bind(user);
        if let Some(from) = filter.period.from {
            query = query.bind(from);
        }
        if let Some(to) = filter.period.to {
            query = query.bind(to);
        }
        if let Some(category) = filter.category {
            query = query.bind(category);
        }
        if let Some((at, id)) = filter.after {
            query = query.bind(at).bind(id);
        }
        query.bind(i64::from(limit)).fetch_all(p).await
    })
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
async fn account_exists(pool: &Pool, user: Uuid, account: Uuid) -> Result<bool, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(account)
    .bind(user)
    .fetch_optional(p)
    .await
    .map(|r| r.is_some()))
}
