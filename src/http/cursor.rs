//! Opaque page cursors: a keyset position, signed. A cursor is bound to the
//! list it came from (its `scope`: path and filters), so one cannot be forged,
//! edited or replayed on another list: anything else is "not one we issued", a 400.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

const MAC_LEN: usize = 16;

pub struct Cursors {
    key: [u8; 32],
}

fn not_issued() -> ApiError {
    ApiError::BadRequest("`cursor` is not one this list issued".to_owned())
}

impl Cursors {
    pub fn new(seed: &[u8; 32]) -> Self {
        let mut mac = HmacSha256::new_from_slice(seed).expect("HMAC takes any key length");
        mac.update(b"tally cursor key v1");
        Cursors {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    pub fn encode(&self, scope: &str, payload: &[u8]) -> String {
        let tag = self.mac(scope, payload).finalize().into_bytes();
        let mut bytes = payload.to_vec();
        bytes.extend_from_slice(&tag[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(&self, scope: &str, cursor: &str) -> Result<Vec<u8>, ApiError> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| not_issued())?;
        if bytes.len() < MAC_LEN {
            return Err(not_issued());
        }
        let (payload, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        self.mac(scope, payload)
            .verify_truncated_left(tag)
            .map_err(|_| not_issued())?;
        Ok(payload.to_vec())
    }

    /// The cursor after an item ordered by id (UUID v7: creation order).
    pub fn encode_id(&self, scope: &str, id: Uuid) -> String {
        self.encode(scope, id.as_bytes())
    }

    pub fn decode_id(&self, scope: &str, cursor: Option<&str>) -> Result<Option<Uuid>, ApiError> {
        cursor
            .map(|c| Uuid::from_slice(&self.decode(scope, c)?).map_err(|_| not_issued()))
            .transpose()
    }

    /// The cursor after an item ordered by time, then id.
    pub fn encode_position(&self, scope: &str, at: DateTime<Utc>, id: Uuid) -> String {
        let mut bytes = at.timestamp_micros().to_be_bytes().to_vec();
        bytes.extend_from_slice(id.as_bytes());
        self.encode(scope, &bytes)
    }

    pub fn decode_position(
        &self,
        scope: &str,
        cursor: Option<&str>,
    ) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let bytes = self.decode(scope, cursor)?;
        position_from(&bytes).map(Some).ok_or_else(not_issued)
    }
}

fn position_from(bytes: &[u8]) -> Option<(DateTime<Utc>, Uuid)> {
    if bytes.len() != 24 {
        return None;
    }
    let micros = i64::from_be_bytes(bytes[..8].try_into().ok()?);
    let id = Uuid::from_slice(&bytes[8..]).ok()?;
    Some((DateTime::from_timestamp_micros(micros)?, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_their_scope_and_cannot_be_edited() {
        let c = Cursors::new(&[1; 32]);
        let cursor = c.encode("a", b"position");
        assert_eq!(c.decode("a", &cursor).unwrap(), b"position");
        assert!(c.decode("b", &cursor).is_err(), "another list");
        assert!(
            Cursors::new(&[2; 32]).decode("a", &cursor).is_err(),
            "another key"
        );
        let mut edited = cursor.clone().into_bytes();
        edited[0] = if edited[0] == b'A' { b'B' } else { b'A' };
        assert!(c
            .decode("a", std::str::from_utf8(&edited).unwrap())
            .is_err());
        for junk in ["", "x", "!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(c.decode("a", junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn positions_and_ids_round_trip() {
        let c = Cursors::new(&[1; 32]);
        let at = crate::domain::time::now();
        let id = Uuid::now_v7();
        let cursor = c.encode_position("s", at, id);
        assert_eq!(
            c.decode_position("s", Some(&cursor)).unwrap(),
            Some((at, id))
        );
        assert_eq!(c.decode_position("s", None).unwrap(), None);
        let short = c.encode("s", b"short");
        assert!(c.decode_position("s", Some(&short)).is_err());
        let cursor = c.encode_id("s", id);
        assert_eq!(c.decode_id("s", Some(&cursor)).unwrap(), Some(id));
        assert!(c.decode_id("s", Some(&short)).is_err());
    }
}
