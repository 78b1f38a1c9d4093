//! What the account handlers do, apart from HTTP: each function is one
//! transaction, and the rules live here and in the ledger.

use uuid::Uuid;

use super::model::{Account, AccountCreate, AccountUpdate};
use super::store;
use crate::db::Pool;
use crate::domain::time;
use crate::error::ApiError;
use crate::http::{IfMatch, Versioned};
use crate::ledger;

pub fn no_account() -> ApiError {
    ApiError::NotFound("no such account")
}

// ANCHOR: create
/// Creates `user`'s account; a non-zero opening balance is posted through
/// the ledger in the same transaction, so the balance has no other source
/// than movements.
pub async fn create(db: &Pool, user: Uuid, new: &AccountCreate) -> Result<Account, ApiError> {
    db.transaction(new, move |tx, new| {
        Box::pin(async move {
            let now = time::now();
            let account = store::insert(tx, user, new, now).await?;
            let Some(amount) = new.opening_balance.amount() else {
                return Ok(account);
            };
            ledger::open(tx, account.id, amount, now).await?;
            store::find_for_update(tx, user, account.id)
                .await?
                .ok_or_else(no_account)
        })
    })
    .await
}
// ANCHOR_END: create

/// Applies `change` to `user`'s account `id` if `if_match` allows it. A
/// change that changes nothing keeps the version, and so the `ETag`.
pub async fn update(
    db: &Pool,
    user: Uuid,
    id: Uuid,
    change: &AccountUpdate,
    if_match: &IfMatch,
) -> Result<Account, ApiError> {
    db.transaction(&(change, if_match), move |tx, &(change, if_match)| {
        Box::pin(async move {
            let current = store::find_for_update(tx, user, id)
                .await?
                .ok_or_else(no_account)?;
            if_match.check(&current.etag())?;
            let name = change
                .name
                .as_ref()
                .map_or(current.name.as_str(), |n| n.as_str());
            let kind = change.kind.unwrap_or(current.kind);
            if name == current.name && kind == current.kind {
                return Ok(current);
            }
            Ok(store::rename(tx, user, id, name, kind, time::now()).await?)
        })
    })
    .await
}

/// Deletes `user`'s account `id`: the ledger first moves the other legs of
/// its transfers back, then the account goes with its own movements.
pub async fn delete(db: &Pool, user: Uuid, id: Uuid) -> Result<(), ApiError> {
    db.transaction(&(), move |tx, ()| {
        Box::pin(async move {
            if ledger::close(tx, user, id, time::now()).await?
                && store::delete(tx, user, id).await?
            {
                Ok(())
            } else {
                Err(no_account())
            }
        })
    })
    .await
}
