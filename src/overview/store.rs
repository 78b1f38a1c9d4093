use uuid::Uuid;

use super::model::{CategoryTotals, CurrencyTotals};
use crate::db::{with_pool, Pool};
use crate::domain::{Period, Total};

/// Every currency of `user`'s accounts, with its balance and account count
/// (income and expense are 0 here). Sums are exact (see `Total::from_parts`).
pub async fn balances(pool: &Pool, user: Uuid) -> Result<Vec<CurrencyTotals>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = with_pool!(pool, |p| sqlx::query_as(
        "SELECT currency, CAST(SUM(balance >> 32) AS BIGINT),
                CAST(SUM(balance & 4294967295) AS BIGINT), COUNT(*)
         FROM accounts WHERE user_id = $1 GROUP BY currency"
    )
    .bind(user)
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(currency, high, low, accounts)| CurrencyTotals {
            currency,
            balance: Total::from_parts(high, low),
            income: Total::default(),
            expense: Total::default(),
            accounts,
        })
        .collect())
}

/// Income and expense per currency and category over the period, without
/// transfers and opening balances.
pub async fn flows(
    pool: &Pool,
    user: Uuid,
    period: &Period,
) -> Result<Vec<CategoryTotals>, sqlx::Error> {
    type Row = (String, Option<String>, i64, i64, i64, i64);
    let rows: Vec<Row> = with_pool!(pool, |p| {
        sqlx::query_as(
        "SELECT a.currency, m.category,
                CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount >> 32 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount & 4294967295 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN (-m.amount) >> 32 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN (-m.amount) & 4294967295 ELSE 0 END), 0) AS BIGINT)
         FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE a.user_id = $1
           AND m.transfer_id IS NULL
           AND (m.category IS NULL OR m.category <> 'opening_balance')
           AND ($2 IS NULL OR m.occurred_at >= $2)
           AND ($3 IS NULL OR m.occurred_at < $3)
         GROUP BY a.currency, m.category"
    )
    .bind(user)
    .bind(period.from)
    .bind(period.to)
    .fetch_all(p)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(currency, category, ih, il, eh, el)| CategoryTotals {
            currency,
            category,
            income: Total::from_parts(ih, il),
            expense: Total::from_parts(eh, el),
        })
        .collect())
}
