use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, Row};
use uuid::Uuid;

use std::sync::LazyLock;

use super::model::{Entry, Movement};
use crate::db::{renumbered, with_tx, Job, Pool, SqliteQuery, Tx};
use crate::domain::{Amount, MAX_BALANCE};

const COLUMNS: &str =
    "id, account_id, amount, description, category, occurred_at, created_at, transfer_id";

/// A movement as the ledger reverses it.
#[derive(sqlx::FromRow)]
pub struct Leg {
    pub id: Uuid,
    pub account_id: Uuid,
    pub amount: i64,
    pub category: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub transfer_id: Option<Uuid>,
}

/// Why a movement could not be posted.
pub enum Refused {
    /// No such account of the user, or the balance would leave
    /// ±`MAX_BALANCE`: the caller asks which.
    AccountOrBalance,
    /// No such account of the user.
    NoAccount,
    /// The balance would leave ±`MAX_BALANCE`.
    Balance,
    /// The day's income or expense in the category would leave 64 bits.
    Totals,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Db(e)
    }
}

/// Posting's change to the account (arguments as `bind_post!` numbers them):
/// it changes no row when the account is not the user's or the balance
/// would leave its bounds.
const SHIFT_BALANCE: &str =
    "UPDATE accounts SET balance = balance + $3, version = version + 1, updated_at = $7
     WHERE id = $1 AND user_id = $2 AND balance + $3 BETWEEN $9 AND $10";

/// Binds what posting a movement takes, numbered as the SQL of both
/// backends uses it: $1 account, $2 user, $3 amount, $4 description,
/// $5 category, $6 occurred_at, $7 now, $8 its day, $9 and $10 the balance's
/// bounds, $11 the new id, $12 the totals' category, $13 whether it counts
/// in the totals.
macro_rules! bind_post {
    ($query:expr, $user:expr, $account:expr, $entry:expr, $counts:expr, $now:expr) => {
        $query
            .bind($account)
            .bind($user)
            .bind($entry.amount.get())
            .bind($entry.description)
            .bind($entry.category)
            .bind($entry.occurred_at)
            .bind($now)
            .bind($entry.occurred_at.date_naive())
            .bind(-MAX_BALANCE)
            .bind(MAX_BALANCE)
            .bind(Uuid::now_v7())
            .bind($entry.category.unwrap_or(""))
            .bind($counts)
    };
}

/// The balance, the movement and (when it `counts`) its day's totals, on
/// PostgreSQL in one statement, so one round trip: the account's row lock
/// is taken first, as the lock order says. SQLite, in process, runs the
/// three statements of the same transaction.
pub async fn post(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    entry: &Entry<'_>,
    counts: bool,
    now: DateTime<Utc>,
) -> Result<Movement, Refused> {
    let Tx::Postgres(c) = tx else {
        let amount = entry.amount.get();
        let day = entry.occurred_at.date_naive();
        let category = entry.category.unwrap_or("");
        if !add_to_balance(tx, user, account, amount, now).await? {
            return Err(Refused::AccountOrBalance);
        }
        let movement = insert(tx, account, entry, None, now).await?;
        if counts && !add_to_totals(tx, account, day, category, amount).await? {
            return Err(Refused::Totals);
        }
        return Ok(movement);
    };
    post_postgres(c, user, account, entry, counts, now).await
}

/// `post` on PostgreSQL, on any connection: inside a transaction, or alone
/// (one statement is atomic by itself, so it needs no BEGIN and COMMIT).
pub async fn post_postgres(
    c: &mut sqlx::PgConnection,
    user: Uuid,
    account: Uuid,
    entry: &Entry<'_>,
    counts: bool,
    now: DateTime<Utc>,
) -> Result<Movement, Refused> {
    let sql = format!(
        "WITH account AS (
            {SHIFT_BALANCE}
            RETURNING id
        ), movement AS (
            INSERT INTO movements ({COLUMNS})
            SELECT $11, id, $3, $4, $5, $6, $7, NULL FROM account
            RETURNING {COLUMNS}
        ), totals AS (
            INSERT INTO movement_totals (account_id, day, category, income, expense)
            SELECT id, $8, $12, GREATEST($3, 0), GREATEST(-$3, 0) FROM account WHERE $13
            ON CONFLICT (account_id, day, category) DO UPDATE
               SET income = movement_totals.income + excluded.income,
                   expense = movement_totals.expense + excluded.expense
            RETURNING 1
        )
        SELECT {COLUMNS} FROM movement"
    );
    let posted: Option<Movement> =
        bind_post!(sqlx::query_as(&sql), user, account, entry, counts, now)
            .fetch_optional(&mut *c)
            .await
            .map_err(
                |e| match e.as_database_error().and_then(|d| d.code()).as_deref() {
                    // numeric_value_out_of_range: a day's total left 64 bits, and the
                    // whole statement (balance and movement too) was undone.
                    Some("22003") => Refused::Totals,
                    _ => Refused::Db(e),
                },
            )?;
    posted.ok_or(Refused::AccountOrBalance)
}

/// `post` on SQLite as a whole transaction, in a group with the other
/// movements waiting to be posted (see `Pool::sqlite_job`): one crossing to
/// the connection's thread and one commit for them all. The account's
/// update checks the day's totals too, so that no statement after it can
/// fail on a rule. When it changes nothing, the answer has no movement row:
/// a one-column row says whether the balance was in range, and no row at
/// all means no account.
pub async fn post_sqlite(
    db: &Pool,
    user: Uuid,
    account: Uuid,
    entry: &Entry<'_>,
    counts: bool,
    now: DateTime<Utc>,
) -> Result<Movement, Refused> {
    let job = SqlitePost {
        user,
        account,
        amount: entry.amount,
        description: entry.description.to_owned(),
        category: entry.category.map(str::to_owned),
        occurred_at: entry.occurred_at,
        counts,
        now,
    };
    let rows = db.sqlite_job(Box::new(job)).await?;
    match rows.first() {
        None => Err(Refused::NoAccount),
        Some(row) if row.len() == 1 => Err(if row.try_get("in_range")? {
            Refused::Totals
        } else {
            Refused::Balance
        }),
        Some(row) => Ok(Movement::from_row(row)?),
    }
}

/// A movement to post on SQLite, owned: the writers' task posts it.
struct SqlitePost {
    user: Uuid,
    account: Uuid,
    amount: Amount,
    description: String,
    category: Option<String>,
    occurred_at: DateTime<Utc>,
    counts: bool,
    now: DateTime<Utc>,
}

/// `post_sqlite`'s statements, numbered as `bind_post!` binds, and $14 the
/// largest total.
static POST_SQLITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SHIFT_BALANCE}
          AND NOT ($13 AND EXISTS (
            SELECT 1 FROM movement_totals
            WHERE account_id = $1 AND day = $8 AND category = $12
              AND (income > $14 - max($3, 0) OR expense > $14 - max(-$3, 0))));
        SELECT balance + $3 BETWEEN $9 AND $10 AS in_range FROM accounts
        WHERE id = $1 AND user_id = $2 AND changes() = 0;
        INSERT INTO movements ({COLUMNS})
        SELECT $11, $1, $3, $4, $5, $6, $7, NULL WHERE changes() = 1
        RETURNING {COLUMNS};
        INSERT INTO movement_totals (account_id, day, category, income, expense)
        SELECT $1, $8, $12, max($3, 0), max(-$3, 0) WHERE $13 AND changes() = 1
        ON CONFLICT (account_id, day, category) DO UPDATE
           SET income = movement_totals.income + excluded.income,
               expense = movement_totals.expense + excluded.expense;
        "
    )
});

impl Job for SqlitePost {
    fn statements(&self) -> usize {
        4
    }

    fn params(&self) -> usize {
        14
    }

    fn sql(&self, first: usize, out: &mut String) {
        renumbered(&POST_SQLITE, first, out);
    }

    fn bind<'q>(&'q self, q: SqliteQuery<'q>) -> SqliteQuery<'q> {
        let entry = Entry {
            amount: self.amount,
            description: &self.description,
            category: self.category.as_deref(),
            occurred_at: self.occurred_at,
        };
        bind_post!(q, self.user, self.account, entry, self.counts, self.now).bind(i64::MAX)
    }
}

/// Adds `amount` to the income (positive) or expense (negative) of the
/// account's day and category; `false` when that total would leave 64 bits.
pub async fn add_to_totals(
    tx: &mut Tx,
    account: Uuid,
    day: NaiveDate,
    category: &str,
    amount: i64,
) -> Result<bool, sqlx::Error> {
    let (income, expense) = if amount > 0 {
        (amount, 0)
    } else {
        (0, -amount)
    };
    let changed = with_tx!(tx, |c| sqlx::query(
        "INSERT INTO movement_totals (account_id, day, category, income, expense)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, day, category) DO UPDATE
            SET income = movement_totals.income + excluded.income,
                expense = movement_totals.expense + excluded.expense
            WHERE movement_totals.income <= $6 - excluded.income
              AND movement_totals.expense <= $6 - excluded.expense"
    )
    .bind(account)
    .bind(day)
    .bind(category)
    .bind(income)
    .bind(expense)
    .bind(i64::MAX)
    .execute(&mut **c)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Takes a reversed movement's `amount` back out of its day's totals.
pub async fn remove_from_totals(
    tx: &mut Tx,
    account: Uuid,
    day: NaiveDate,
    category: &str,
    amount: i64,
) -> Result<(), sqlx::Error> {
    let (income, expense) = if amount > 0 {
        (amount, 0)
    } else {
        (0, -amount)
    };
    with_tx!(tx, |c| sqlx::query(
        "UPDATE movement_totals SET income = income - $4, expense = expense - $5
         WHERE account_id = $1 AND day = $2 AND category = $3"
    )
    .bind(account)
    .bind(day)
    .bind(category)
    .bind(income)
    .bind(expense)
    .execute(&mut **c)
    .await
    .map(|_| ()))
}

/// `(?, ?, …)` for `n` values, numbered from `$first`.
fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Adds `amount` to the balance of `user`'s account, atomically
/// (`balance = balance + $1`: concurrent writers never lose an update), and
/// locks the account row. `false` when there is no such account or the
/// balance would leave ±`MAX_BALANCE`.
pub async fn add_to_balance(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
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
    Ok(changed == 1)
}

/// Sets the balance of an account created in this transaction.
pub async fn open_balance(tx: &mut Tx, account: Uuid, amount: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE accounts SET balance = $2 WHERE id = $1"
    )
    .bind(account)
    .bind(amount)
    .execute(&mut **c)
    .await
    .map(|_| ()))
}

pub async fn account_exists_postgres(
    c: &mut sqlx::PgConnection,
    user: Uuid,
    account: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2")
        .bind(account)
        .bind(user)
        .fetch_optional(c)
        .await
        .map(|r| r.is_some())
}

pub async fn account_exists(tx: &mut Tx, user: Uuid, account: Uuid) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar::<_, i32>(
        "SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2"
    )
    .bind(account)
    .bind(user)
    .fetch_optional(&mut **c)
    .await
    .map(|r| r.is_some()))
}

/// Locks those of `ids` that are `user`'s accounts, in id order, and returns
/// them with their currencies.
pub async fn lock_accounts(
    tx: &mut Tx,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT id, currency FROM accounts WHERE user_id = $1 AND id IN {} ORDER BY id{}",
        placeholders(2, ids.len()),
        tx.for_update()
    );
    with_tx!(tx, |c| {
        let mut query = sqlx::query_as(&sql).bind(user);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(&mut **c).await
    })
}

/// Locks the user's row, then their accounts in id order.
pub async fn lock_user(tx: &mut Tx, user: Uuid) -> Result<(), sqlx::Error> {
    let users = format!("SELECT id FROM users WHERE id = $1{}", tx.for_update());
    let accounts = format!(
        "SELECT id FROM accounts WHERE user_id = $1 ORDER BY id{}",
        tx.for_update()
    );
    with_tx!(tx, |c| {
        sqlx::query(&users).bind(user).execute(&mut **c).await?;
        sqlx::query(&accounts).bind(user).execute(&mut **c).await?;
        Ok(())
    })
}

pub async fn insert(
    tx: &mut Tx,
    account: Uuid,
    entry: &Entry<'_>,
    transfer: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Movement, sqlx::Error> {
    let sql = format!(
        "INSERT INTO movements ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    );
    with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(Uuid::now_v7())
        .bind(account)
        .bind(entry.amount.get())
        .bind(entry.description)
        .bind(entry.category)
        .bind(entry.occurred_at)
        .bind(now)
        .bind(transfer)
        .fetch_one(&mut **c)
        .await)
}

/// The movement and, for a transfer, its other leg, if `user` owns the movement.
pub async fn legs(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    id: Uuid,
) -> Result<Vec<Leg>, sqlx::Error> {
    with_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT m.id, m.account_id, m.amount, m.category, m.occurred_at, m.transfer_id
         FROM movements m JOIN accounts a ON a.id = m.account_id
         WHERE a.user_id = $3 AND (
            (m.id = $1 AND m.account_id = $2)
            OR m.transfer_id = (SELECT t.transfer_id FROM movements t WHERE t.id = $1 AND t.account_id = $2))"
    )
    .bind(id)
    .bind(account)
    .bind(user)
    .fetch_all(&mut **c)
    .await
    })
}

/// The accounts holding the other legs of `account`'s transfers.
pub async fn partner_accounts(tx: &mut Tx, account: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT DISTINCT p.account_id FROM movements m
         JOIN movements p ON p.transfer_id = m.transfer_id AND p.account_id <> m.account_id
         WHERE m.account_id = $1 AND m.transfer_id IS NOT NULL"
    )
    .bind(account)
    .fetch_all(&mut **c)
    .await)
}

/// The other legs of `account`'s transfers.
pub async fn partner_legs(tx: &mut Tx, account: Uuid) -> Result<Vec<Leg>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT p.id, p.account_id, p.amount, p.category, p.occurred_at, p.transfer_id
         FROM movements m
         JOIN movements p ON p.transfer_id = m.transfer_id AND p.account_id <> m.account_id
         WHERE m.account_id = $1 AND m.transfer_id IS NOT NULL"
    )
    .bind(account)
    .fetch_all(&mut **c)
    .await)
}

/// Deletes the movements `ids`; how many were still there.
pub async fn delete(tx: &mut Tx, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "DELETE FROM movements WHERE id IN {}",
        placeholders(1, ids.len())
    );
    with_tx!(tx, |c| {
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut **c).await.map(|r| r.rows_affected())
    })
}
