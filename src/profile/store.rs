use uuid::Uuid;

use super::model::Me;
use crate::db::Pool;
use crate::{with_pool, with_tx};

pub async fn find(pool: &Pool, id: Uuid) -> Result<Option<Me>, sqlx::Error> {
    with_pool!(pool, |p| sqlx::query_as(
        "SELECT id, email, created_at FROM users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await)
}

/// Deletes the user, what they own (by foreign-key cascade) and their
/// pending sign-in codes, in one transaction.
pub async fn delete(pool: &Pool, id: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin_write().await?;
    let deleted = with_tx!(&mut tx, |c| {
        sqlx::query("DELETE FROM otp_codes WHERE email = (SELECT email FROM users WHERE id = $1)")
            .bind(id)
            .execute(&mut **c)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut **c)
            .await?
            .rows_affected()
    });
    tx.commit().await?;
    Ok(deleted == 1)
}
