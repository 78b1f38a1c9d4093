use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Pool;
use crate::with_pool;

/// `(currency, balance, accounts)` of every currency of `user`'s accounts.
pub async fn balances(pool: &Pool, user: Uuid) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT currency, CAST(SUM(balance) AS BIGINT), COUNT(*) FROM accounts
         WHERE user_id = $1 GROUP BY currency"
    )
    .bind(user)
    .fetch_all(p)
    .await)
}

/// `(currency, category, income, expense)` over the period, without transfers
/// and opening balances.
pub async fn flows(
    pool: &Pool,
    user: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<(String, Option<String>, i64, i64)>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT a.currency, m.category,
                CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN -m.amount ELSE 0 END), 0) AS BIGINT)
         FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE a.user_id = $1
           AND m.transfer_id IS NULL
           AND (m.category IS NULL OR m.category <> 'opening_balance')
           AND ($2 IS NULL OR m.occurred_at >= $2)
           AND ($3 IS NULL OR m.occurred_at < $3)
         GROUP BY a.currency, m.category"
    )
    .bind(user)
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await)
}
