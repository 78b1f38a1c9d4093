use uuid::Uuid;

use crate::db::Tx;
use crate::with_tx;

/// The currencies of `user`'s accounts among `ids`, as `(id, currency)`.
pub async fn currencies(
    tx: &mut Tx,
    user: Uuid,
    ids: [Uuid; 2],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    with_tx!(tx, |c| sqlx::query_as(
        "SELECT id, currency FROM accounts WHERE user_id = $1 AND id IN ($2, $3)"
    )
    .bind(user)
    .bind(ids[0])
    .bind(ids[1])
    .fetch_all(&mut **c)
    .await)
}
