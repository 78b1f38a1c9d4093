//! Access tokens (PASETO v4.public, Ed25519) and the keyed hash of sign-in codes,
//! both derived from `TALLY_TOKEN_KEY`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use pasetors::claims::{Claims, ClaimsValidationRules};
use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey};
use pasetors::token::UntrustedToken;
use pasetors::version4::V4;
use pasetors::{public, Public};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::TokenKey;

const ISSUER: &str = "tally";

type HmacSha256 = Hmac<Sha256>;

pub struct Tokens {
    secret: AsymmetricSecretKey<V4>,
    public: AsymmetricPublicKey<V4>,
    ttl: Duration,
    code_key: [u8; 32],
    /// Tokens already verified: SHA-256 of the token to its user and expiry.
    verified: Cache<[u8; 32], (Uuid, i64)>,
}

/// How many verified tokens are kept (about 100 bytes each).
pub const VERIFIED_CAPACITY: usize = 4096;

#[derive(Debug, thiserror::Error)]
#[error("invalid token")]
pub struct InvalidToken;

impl Tokens {
    pub fn new(key: &TokenKey, ttl: Duration) -> Self {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(key.seed));
        let secret =
            AsymmetricSecretKey::<V4>::from(pair.sk.as_ref()).expect("64-byte Ed25519 key");
        let public =
            AsymmetricPublicKey::<V4>::from(pair.pk.as_ref()).expect("32-byte Ed25519 key");
        // A separate key for code hashes, so neither use can stand in for the other.
        let mut mac = HmacSha256::new_from_slice(&key.seed).expect("HMAC takes any key length");
        mac.update(b"tally sign-in code hash v1");
        Tokens {
            secret,
            public,
            ttl,
            code_key: mac.finalize().into_bytes().into(),
            verified: Cache::new(VERIFIED_CAPACITY),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `user`, valid for the configured lifetime.
    pub fn issue(&self, user: Uuid) -> Result<String, pasetors::errors::Error> {
        let mut claims = Claims::new_expires_in(&self.ttl)?;
        claims.issuer(ISSUER)?;
        claims.subject(&user.to_string())?;
        public::sign(&self.secret, &claims, None, None)
    }

    /// The user a genuine, unexpired token names. A token verified before
    /// is found by its hash and only its expiry is checked again: the
    /// signature check (Ed25519) is the dearest step of a request.
    pub fn verify(&self, token: &str) -> Result<Uuid, InvalidToken> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Utc::now().timestamp();
        if let Some((user, expires)) = self.verified.get(&key) {
            return if now < expires {
                Ok(user)
            } else {
                Err(InvalidToken)
            };
        }
        let (user, expires) = self.verify_signed(token)?;
        self.verified.insert(key, (user, expires));
        Ok(user)
    }

    fn verify_signed(&self, token: &str) -> Result<(Uuid, i64), InvalidToken> {
        let untrusted = UntrustedToken::<Public, V4>::try_from(token).map_err(|_| InvalidToken)?;
        let mut rules = ClaimsValidationRules::new();
        rules.validate_issuer_with(ISSUER);
        let trusted = public::verify(&self.public, &untrusted, &rules, None, None)
            .map_err(|_| InvalidToken)?;
        let claims = trusted.payload_claims().ok_or(InvalidToken)?;
        let claim = |name| claims.get_claim(name).and_then(|v| v.as_str());
        let user = claim("sub")
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(InvalidToken)?;
        let expires = claim("exp")
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or(InvalidToken)?
            .timestamp();
        Ok((user, expires))
    }

    /// A keyed hash of a code, bound to the row it belongs to: a leaked table
    /// alone cannot be searched through the million possible codes.
    pub fn hash_code(&self, code_id: Uuid, code: &str) -> Vec<u8> {
        self.code_mac(code_id, code)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Compares in constant time.
    pub fn code_matches(&self, code_id: Uuid, code: &str, hash: &[u8]) -> bool {
        self.code_mac(code_id, code).verify_slice(hash).is_ok()
    }

    fn code_mac(&self, code_id: Uuid, code: &str) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.code_key).expect("HMAC takes any key length");
        mac.update(code_id.as_bytes());
        mac.update(code.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(seed: u8) -> Tokens {
        Tokens::new(
            &TokenKey {
                seed: [seed; 32],
                ephemeral: false,
            },
            Duration::from_secs(60),
        )
    }

    #[test]
    fn a_token_names_its_user_and_only_its_key_accepts_it() {
        let user = Uuid::now_v7();
        let token = tokens(1).issue(user).unwrap();
        assert!(token.starts_with("v4.public."));
        assert_eq!(tokens(1).verify(&token).unwrap(), user);
        assert!(tokens(2).verify(&token).is_err());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = tokens(1).issue(Uuid::now_v7()).unwrap();
        let mut bytes = token.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert!(tokens(1)
            .verify(&String::from_utf8(bytes).unwrap())
            .is_err());
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let t = Tokens::new(
            &TokenKey {
                seed: [3; 32],
                ephemeral: false,
            },
            Duration::from_secs(1),
        );
        let user = Uuid::now_v7();
        let token = t.issue(user).unwrap();
        assert_eq!(t.verify(&token).unwrap(), user);
        assert_eq!(t.verify(&token).unwrap(), user, "from the cache");
        assert!(t.verified.len() == 1);
        std::thread::sleep(Duration::from_millis(2100));
        assert!(t.verify(&token).is_err(), "the cache honours the expiry");
    }

    #[test]
    fn code_hashes_are_bound_to_code_and_row() {
        let t = tokens(1);
        let id = Uuid::now_v7();
        let hash = t.hash_code(id, "123456");
        assert!(t.code_matches(id, "123456", &hash));
        assert!(!t.code_matches(id, "123457", &hash));
        assert!(!t.code_matches(Uuid::now_v7(), "123456", &hash));
        assert!(!tokens(2).code_matches(id, "123456", &hash));
    }
}
