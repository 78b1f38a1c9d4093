use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::model::{CategoryTotals, CurrencyTotals};
use crate::db::{with_pool, Pool};
use crate::domain::{Category, Days, Period, Total};

/// `(currency, category, income high, income low, expense high, expense low)`.
type Row = (String, Option<String>, i64, i64, i64, i64);

/// The balances per currency (with their account counts) and the period's
/// income and expense per currency and category, without transfers and
/// opening balances. Whole days come from the daily totals the ledger keeps
/// and the partial days at the edges from the movements, so the cost follows
/// days and categories, not the number of movements; without partial days
/// it is one round trip. Sums are exact (see `Total::from_parts`).
pub async fn overview(
    pool: &Pool,
    user: Uuid,
    period: &Period,
) -> Result<(Vec<CurrencyTotals>, Vec<CategoryTotals>), sqlx::Error> {
    let (days, edges) = period.by_days();
    let (balances, mut rows) = balances_and_days(pool, user, days.as_ref()).await?;
    for edge in &edges {
        rows.extend(from_movements(pool, user, edge).await?);
    }
    let mut sums: BTreeMap<(String, Option<String>), (Total, Total)> = BTreeMap::new();
    for (currency, category, ih, il, eh, el) in rows {
        let category = category.filter(|c| !c.is_empty());
        let sum = sums.entry((currency, category)).or_default();
        sum.0 = sum.0 + Total::from_parts(ih, il);
        sum.1 = sum.1 + Total::from_parts(eh, el);
    }
    let flows = sums
        .into_iter()
        // A day's totals can fall back to 0 when its movements are deleted.
        .filter(|(_, (income, expense))| *income != Total(0) || *expense != Total(0))
        .map(|((currency, category), (income, expense))| CategoryTotals {
            currency,
            category,
            income,
            expense,
        })
        .collect();
    Ok((balances, flows))
}

/// The balances, and (when `days` is given) the daily totals over those
/// days, in one statement: the first rows (`kind` 0) are balances.
async fn balances_and_days(
    pool: &Pool,
    user: Uuid,
    days: Option<&Days>,
) -> Result<(Vec<CurrencyTotals>, Vec<Row>), sqlx::Error> {
    let mut sql = String::from(
        "SELECT 0, currency, CAST(NULL AS TEXT), CAST(SUM(balance >> 32) AS BIGINT),
                CAST(SUM(balance & 4294967295) AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT),
                COUNT(*)
         FROM accounts WHERE user_id = $1 GROUP BY currency",
    );
    if let Some(days) = days {
        // One statement per shape of the bounds, so each gets a plan of its own.
        let bounds = match (days.first, days.end) {
            (None, None) => "",
            (Some(_), None) => " AND t.day >= $2",
            (None, Some(_)) => " AND t.day < $2",
            (Some(_), Some(_)) => " AND t.day >= $2 AND t.day < $3",
        };
        sql += &format!(
            " UNION ALL
             SELECT 1, a.currency, t.category, {SUMS}, CAST(0 AS BIGINT)
             FROM movement_totals t JOIN accounts a ON a.id = t.account_id
             WHERE a.user_id = $1{bounds}
             GROUP BY a.currency, t.category"
        );
    }
    type Mixed = (i32, String, Option<String>, i64, i64, i64, i64, i64);
    let rows: Vec<Mixed> = with_pool!(pool, |p| {
        let mut query = sqlx::query_as(&sql).bind(user);
        for day in days.iter().flat_map(|d| [d.first, d.end]).flatten() {
            query = query.bind(day);
        }
        query.fetch_all(p).await
    })?;
    let mut balances = Vec::new();
    let mut flows = Vec::new();
    for (kind, currency, category, h1, l1, h2, l2, accounts) in rows {
        if kind == 0 {
            balances.push(CurrencyTotals {
                currency,
                balance: Total::from_parts(h1, l1),
                income: Total::default(),
                expense: Total::default(),
                accounts,
            });
        } else {
            flows.push((currency, category, h1, l1, h2, l2));
        }
    }
    Ok((balances, flows))
}

const SUMS: &str = "CAST(SUM(t.income >> 32) AS BIGINT), CAST(SUM(t.income & 4294967295) AS BIGINT),
                    CAST(SUM(t.expense >> 32) AS BIGINT), CAST(SUM(t.expense & 4294967295) AS BIGINT)";

/// A partial day, bounded on both sides, read from the movements.
async fn from_movements(pool: &Pool, user: Uuid, edge: &Period) -> Result<Vec<Row>, sqlx::Error> {
    with_pool!(pool, |p| {
        sqlx::query_as(
        "SELECT a.currency, m.category,
                CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount >> 32 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount > 0 THEN m.amount & 4294967295 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN (-m.amount) >> 32 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN m.amount < 0 THEN (-m.amount) & 4294967295 ELSE 0 END), 0) AS BIGINT)
         FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE a.user_id = $1
           AND m.occurred_at >= $2 AND m.occurred_at < $3
           AND m.transfer_id IS NULL
           AND (m.category IS NULL OR m.category <> $4)
         GROUP BY a.currency, m.category"
    )
    .bind(user)
    .bind(edge.from)
    .bind(edge.to)
    // What the ledger leaves out of the daily totals (`ledger::counts`).
    .bind(Category::OPENING_BALANCE)
    .fetch_all(p)
    .await
    })
}

// ANCHOR: store
/// The currency of `user`'s `account` and its income and expense per day
/// since `first`, or `None` when the account is not theirs. One query: the
/// account's row, joined to the ledger's daily totals (one row per day,
/// however many movements it had).
pub async fn summary(
    pool: &Pool,
    user: Uuid,
    account: Uuid,
    first: NaiveDate,
) -> Result<Option<(String, Vec<(NaiveDate, Total, Total)>)>, sqlx::Error> {
    type Row = (
        String,
        Option<NaiveDate>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = with_pool!(pool, |p| {
        sqlx::query_as(
            "SELECT a.currency, t.day,
                CAST(SUM(t.income >> 32) AS BIGINT), CAST(SUM(t.income & 4294967295) AS BIGINT),
                CAST(SUM(t.expense >> 32) AS BIGINT), CAST(SUM(t.expense & 4294967295) AS BIGINT)
         FROM accounts a
         LEFT JOIN movement_totals t ON t.account_id = a.id AND t.day >= $3
         WHERE a.id = $1 AND a.user_id = $2
         GROUP BY a.currency, t.day",
        )
        .bind(account)
        .bind(user)
        .bind(first)
        .fetch_all(p)
        .await
    })?;
    let Some(currency) = rows.first().map(|r| r.0.clone()) else {
        return Ok(None);
    };
    let days = rows
        .into_iter()
        .filter_map(|(_, day, ih, il, eh, el)| {
            let part = |v: Option<i64>| v.unwrap_or(0);
            Some((
                day?,
                Total::from_parts(part(ih), part(il)),
                Total::from_parts(part(eh), part(el)),
            ))
        })
        .collect();
    Ok(Some((currency, days)))
}
// ANCHOR_END: store
