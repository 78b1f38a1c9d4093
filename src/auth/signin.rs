//! The rules of passwordless sign-in: how codes are sent, tried and used.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use uuid::Uuid;

use super::mailer::Mailer;
use super::model::{AccessToken, OtpSent};
use super::store;
use super::token::Tokens;
use crate::db::Pool;
use crate::domain::{time, Email, SignInCode};
use crate::error::ApiError;

/// How long a sign-in code lives.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(10);
/// The window of the per-address limits.
pub const WINDOW: TimeDelta = TimeDelta::hours(1);
/// How many codes one address may be sent per window.
pub const CODES_PER_WINDOW: usize = 5;
/// Wrong tries after which a code is burnt.
pub const TRIES_PER_CODE: i32 = 5;
/// Tries per address per window, over all its codes: asking for new codes
/// does not buy new guesses.
pub const TRIES_PER_WINDOW: i64 = 10;

fn wrong_code() -> ApiError {
    ApiError::Unauthorized {
        detail: "the code is wrong, expired or used up; ask for a new one",
        invalid_token: false,
    }
}

/// Seconds until `since` is one window old (at least 1).
fn seconds_until_window_after(since: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    (since + WINDOW - now).num_seconds().max(0) as u64 + 1
}

/// E-mails a new code to `email`, unless the address had its share this hour.
pub async fn send_code(
    db: &Pool,
    tokens: &Tokens,
    mailer: &Mailer,
    email: &Email,
) -> Result<OtpSent, ApiError> {
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let id = Uuid::now_v7();
    let hash = tokens.hash_code(id, &code);
    let now = time::now();
    db.transaction(
        &(email.as_str(), hash.as_slice()),
        move |tx, &(email, hash)| {
            Box::pin(async move {
                // Serialised per address, so a burst cannot slip past the limit.
                tx.lock_key(email).await?;
                let recent = store::codes_since(tx, email, now - WINDOW).await?;
                if recent.len() >= CODES_PER_WINDOW {
                    let oldest_counted = recent[recent.len() - CODES_PER_WINDOW];
                    return Err(ApiError::TooManyRequests {
                        detail: "too many sign-in codes for this address; try again later",
                        retry_after: seconds_until_window_after(oldest_counted, now),
                    });
                }
                store::insert_code(tx, email, id, hash, now, CODE_TTL).await?;
                Ok(())
            })
        },
    )
    .await?;
    if let Err(e) = mailer.send_code(email.as_str(), &code).await {
        // A code nobody received must not count against the hourly limit.
        store::discard_code(db, id).await?;
        return Err(ApiError::internal(e));
    }
    Ok(OtpSent {
        expires_in: CODE_TTL.num_seconds() as u64,
    })
}

/// Exchanges the newest code of `email` for a token; the first sign-in of
/// an address creates its user.
pub async fn redeem(
    db: &Pool,
    tokens: &Tokens,
    email: &Email,
    code: &SignInCode,
) -> Result<AccessToken, ApiError> {
    let now = time::now();
    let row = db
        .transaction(email.as_str(), move |tx, email| {
            Box::pin(async move {
                // Serialised per address (as `send_code` is), so parallel
                // guesses cannot all read a count under the cap and each
                // spend a try past it.
                tx.lock_key(email).await?;
                let (latest, tries) = store::latest_code(tx, email, now - WINDOW).await?;
                if tries.count >= TRIES_PER_WINDOW {
                    return Err(ApiError::TooManyRequests {
                        detail: "too many wrong codes for this address; try again later",
                        retry_after: seconds_until_window_after(tries.oldest.unwrap_or(now), now),
                    });
                }
                let row = latest.ok_or_else(wrong_code)?;
                let spent = row.attempts >= TRIES_PER_CODE;
                if row.consumed_at.is_some() || row.expires_at <= now || spent {
                    return Err(wrong_code());
                }
                if !store::spend_attempt(tx, row.id, TRIES_PER_CODE).await? {
                    return Err(wrong_code());
                }
                Ok(row)
            })
        })
        .await?;
    // The try is spent (committed) whether or not the code is right.
    if !tokens.code_matches(row.id, code.as_str(), &row.code_hash) {
        return Err(wrong_code());
    }
    let code_id = row.id;
    let user = db
        .transaction(email.as_str(), move |tx, email| {
            Box::pin(async move {
                if !store::consume(tx, code_id, now).await? {
                    return Err(wrong_code());
                }
                Ok(store::user_of(tx, email, now).await?)
            })
        })
        .await?;
    Ok(AccessToken {
        access_token: tokens.issue(user).map_err(ApiError::internal)?,
        token_type: "Bearer",
        expires_in: tokens.ttl().as_secs(),
    })
}
