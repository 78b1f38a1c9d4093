//! What the profile handlers do, apart from HTTP.

use uuid::Uuid;

use super::model::Me;
use crate::db::Pool;
use crate::error::ApiError;
use crate::{accounts, auth, ledger};

/// The user with every account they own; 401 once the user is gone.
pub async fn me(db: &Pool, user: Uuid) -> Result<Me, ApiError> {
    let found = auth::user(db, user)
        .await?
        .ok_or_else(ApiError::user_gone)?;
    let accounts = accounts::of_user(db, user).await?;
    Ok(Me::new(found, accounts))
}

/// Deletes the user and everything they own, in the ledger's lock order so
/// that it cannot deadlock with a write in flight.
pub async fn delete(db: &Pool, user: Uuid) -> Result<(), ApiError> {
    db.transaction(&(), move |tx, ()| {
        Box::pin(async move {
            ledger::lock_user(tx, user).await?;
            if auth::delete_user(tx, user).await? {
                Ok(())
            } else {
                Err(ApiError::user_gone())
            }
        })
    })
    .await
}
