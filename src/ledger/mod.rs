//! The ledger owns the money invariant: an account's balance is the sum of
//! its movements, always. Every write that touches money goes through here,
//! in the caller's transaction, and takes its locks in one order:
//!
//! 1. the user's row (only to delete the user),
//! 2. account rows, in id order,
//! 3. movement rows.
//!
//! Two writers that lock in the same order cannot deadlock; if PostgreSQL
//! still reports one, `Pool::transaction` runs the transaction again.

mod model;
mod store;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{Pool, Tx};
use crate::domain::{Amount, Category};
use crate::error::ApiError;

pub use model::{Entry, Legs, Move, Movement};

fn no_account() -> ApiError {
    ApiError::NotFound("no such account")
}

fn no_movement() -> ApiError {
    ApiError::NotFound("no such movement")
}

fn out_of_range() -> ApiError {
    ApiError::field(
        "amount",
        "balance_range",
        "would take the balance beyond ±10^18 minor units",
    )
}

/// Changes `account`'s balance by `amount` (locking the account), or says why not.
async fn shift(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if store::add_to_balance(tx, user, account, amount, now).await? {
        return Ok(());
    }
    Err(if store::account_exists(tx, user, account).await? {
        out_of_range()
    } else {
        no_account()
    })
}

/// Whether a movement counts in the overview's income and expense (and so
/// in the daily totals): transfers and opening balances do not.
fn counts(category: Option<&str>, transfer: Option<Uuid>) -> bool {
    transfer.is_none() && category != Some(Category::OPENING_BALANCE)
}

// ANCHOR: post
/// Records a movement on `user`'s `account`, its balance and its day's totals with it.
pub async fn post(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    entry: &Entry<'_>,
    now: DateTime<Utc>,
) -> Result<Movement, ApiError> {
    let counted = counts(entry.category, None);
    match store::post(tx, user, account, entry, counted, now).await {
        Ok(movement) => Ok(movement),
        Err(store::Refused::AccountOrBalance) => Err(account_refusal(
            store::account_exists(tx, user, account).await?,
        )),
        Err(refused) => Err(refusal(refused)),
    }
}

/// Records a movement as `post` does, when nothing else needs to happen in
/// the same transaction, in one round trip: on PostgreSQL its one statement
/// runs alone (no BEGIN and COMMIT), and on SQLite the whole transaction is
/// one script.
pub async fn post_alone(
    db: &Pool,
    user: Uuid,
    account: Uuid,
    entry: &Entry<'_>,
    now: DateTime<Utc>,
) -> Result<Movement, ApiError> {
    let counted = counts(entry.category, None);
    let Pool::Postgres(pool) = db else {
        return store::post_sqlite(db, user, account, entry, counted, now)
            .await
            .map_err(refusal);
    };
    // One statement, its own transaction: a transient failure runs it again,
    // as `Pool::transaction` does.
    crate::db::retried(move || async move {
        let mut c = pool.acquire().await?;
        match store::post_postgres(&mut c, user, account, entry, counted, now).await {
            Ok(movement) => Ok(movement),
            Err(store::Refused::AccountOrBalance) => Err(account_refusal(
                store::account_exists_postgres(&mut c, user, account).await?,
            )),
            Err(refused) => Err(refusal(refused)),
        }
    })
    .await
}

/// The balance would leave its range, or there is no such account.
fn account_refusal(account_exists: bool) -> ApiError {
    if account_exists {
        out_of_range()
    } else {
        no_account()
    }
}

fn refusal(refused: store::Refused) -> ApiError {
    match refused {
        store::Refused::AccountOrBalance | store::Refused::NoAccount => no_account(),
        store::Refused::Balance => out_of_range(),
        store::Refused::Totals => ApiError::field(
            "amount",
            "totals_range",
            "would take this day's income or expense in this category beyond 64 bits",
        ),
        store::Refused::Db(e) => e.into(),
    }
}
// ANCHOR_END: post

/// Records the opening balance of an account just created (empty) in `tx`,
/// as its first movement, so that the balance has no other source than
/// movements. It is part of creating the account, not a change to it: the
/// account keeps its first version (and ETag).
pub async fn open(
    tx: &mut Tx,
    account: Uuid,
    amount: Amount,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let entry = Entry {
        amount,
        description: "Opening balance",
        category: Some(Category::OPENING_BALANCE),
        occurred_at: now,
    };
    store::open_balance(tx, account, amount.get()).await?;
    store::insert(tx, account, &entry, None, now).await?;
    Ok(())
}

/// Moves money between two of `user`'s accounts in one currency: two legs,
/// both balances, one transaction.
pub async fn transfer(
    tx: &mut Tx,
    user: Uuid,
    order: &Move<'_>,
    now: DateTime<Utc>,
) -> Result<Legs, ApiError> {
    if order.from == order.to {
        return Err(ApiError::field(
            "to_account_id",
            "distinct",
            "must differ from from_account_id",
        ));
    }
    let locked = store::lock_accounts(tx, user, &[order.from, order.to]).await?;
    let currency = |id: Uuid| locked.iter().find(|(a, _)| *a == id).map(|(_, c)| c);
    let (Some(from_currency), Some(to_currency)) = (currency(order.from), currency(order.to))
    else {
        return Err(no_account());
    };
    if from_currency != to_currency {
        return Err(ApiError::field(
            "to_account_id",
            "currency",
            "must be in the same currency as from_account_id",
        ));
    }
    let amount = order.amount.get();
    let mut changes = [(order.from, -amount), (order.to, amount)];
    changes.sort_by_key(|(account, _)| *account);
    for (account, change) in changes {
        shift(tx, user, account, change, now).await?;
    }
    let id = Uuid::now_v7();
    let leg = |amount: i64| Entry {
        amount: Amount::try_from(amount).expect("a transfer's amount is a valid amount"),
        description: order.description.unwrap_or("Transfer"),
        category: Some(Category::TRANSFER),
        occurred_at: order.occurred_at.unwrap_or(now),
    };
    let from = store::insert(tx, order.from, &leg(-amount), Some(id), now).await?;
    let to = store::insert(tx, order.to, &leg(amount), Some(id), now).await?;
    Ok(Legs { id, from, to })
}

/// Deletes a movement of `user`'s `account` and moves the balance back; for
/// a transfer leg, both legs and both balances.
pub async fn reverse(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    movement: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    // Read without locks: the balance updates below lock the accounts (in
    // id order), and the deletion must then find every leg still there.
    let mut legs = store::legs(tx, user, account, movement).await?;
    if !legs.iter().any(|leg| leg.id == movement) {
        return Err(no_movement());
    }
    legs.sort_by_key(|leg| leg.account_id);
    for leg in &legs {
        shift(tx, user, leg.account_id, -leg.amount, now).await?;
    }
    let ids: Vec<Uuid> = legs.iter().map(|leg| leg.id).collect();
    if store::delete(tx, &ids).await? != ids.len() as u64 {
        // Another request deleted it first: this one changes nothing.
        return Err(no_movement());
    }
    for leg in legs
        .iter()
        .filter(|l| counts(l.category.as_deref(), l.transfer_id))
    {
        let day = leg.occurred_at.date_naive();
        let category = leg.category.as_deref().unwrap_or("");
        store::remove_from_totals(tx, leg.account_id, day, category, leg.amount).await?;
    }
    Ok(())
}

/// Empties `user`'s `account` before it is deleted: the other legs of its
/// transfers are reversed and deleted with it (a transfer has both legs or
/// neither); its own movements go with the account. `false` when there is no
/// such account.
pub async fn close(
    tx: &mut Tx,
    user: Uuid,
    account: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let mut accounts = store::partner_accounts(tx, account).await?;
    accounts.push(account);
    let locked = store::lock_accounts(tx, user, &accounts).await?;
    if !locked.iter().any(|(id, _)| *id == account) {
        return Ok(false);
    }
    let mut legs = store::partner_legs(tx, account).await?;
    // A transfer that committed between the first read and the locks can
    // name an account not locked yet; locking it now would break the lock
    // order, so the transaction runs again and reads it first.
    if legs.iter().any(|leg| !accounts.contains(&leg.account_id)) {
        return Err(ApiError::DatabaseBusy);
    }
    legs.sort_by_key(|leg| leg.account_id);
    for leg in &legs {
        shift(tx, user, leg.account_id, -leg.amount, now).await?;
    }
    let ids: Vec<Uuid> = legs.iter().map(|leg| leg.id).collect();
    store::delete(tx, &ids).await?;
    Ok(true)
}

/// Locks everything of `user`'s before the user is deleted, in the ledger's
/// order, so the deletion cannot deadlock with a write in flight.
pub async fn lock_user(tx: &mut Tx, user: Uuid) -> Result<(), ApiError> {
    store::lock_user(tx, user).await?;
    Ok(())
}
