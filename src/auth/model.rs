use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Email, SignInCode};

/// Asks for a sign-in code by e-mail.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = "otp_request_example")]
pub struct OtpRequest {
    /// The address to send the code to; compared case-insensitively.
    pub email: Email,
}

fn otp_request_example() -> serde_json::Value {
    serde_json::json!({"email": "ana@example.com"})
}

/// The code is on its way (the same answer whether or not the address is known).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "otp_sent_example")]
pub struct OtpSent {
    /// Seconds until the code expires.
    pub expires_in: u64,
}

fn otp_sent_example() -> serde_json::Value {
    serde_json::json!({"expires_in": 600})
}

/// Exchanges an e-mailed code for an access token.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = "token_request_example")]
pub struct TokenRequest {
    /// The address the code was sent to.
    pub email: Email,
    /// The 6-digit code from the e-mail. Anything else is 422 and does not count as a try.
    pub code: SignInCode,
}

fn token_request_example() -> serde_json::Value {
    serde_json::json!({"email": "ana@example.com", "code": "123456"})
}

/// A bearer token for `Authorization: Bearer <access_token>`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(example = "access_token_example")]
pub struct AccessToken {
    /// A PASETO v4.public token carrying the user id and an expiry.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

fn access_token_example() -> serde_json::Value {
    serde_json::json!({"access_token": "v4.public.eyJzdWIiOi…", "token_type": "Bearer", "expires_in": 3600})
}

/// A user, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
}
