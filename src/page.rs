//! Query parameters as request guards (so a bad one is a clear 400 or 422, and
//! each documents itself), keyset pagination with signed opaque cursors, and
//! the page response with its `Link: rel="next"` header.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rocket::http::Header;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{Object, Parameter, ParameterValue, Responses};
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::response::OpenApiResponderInner;
use schemars::schema::SchemaObject;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::Sha256;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;

/// The `Link` response header of a list, for the OpenAPI document.
pub const LINK: (&str, &str) = (
    "Link",
    "`<URL of the next page>; rel=\"next\"`, when there is a next page.",
);
pub const MAX_LIMIT: u32 = 200;

/// A query parameter that parses itself; `Query<P>` is its request guard.
pub trait QueryParam: Sized + Send + Sync {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    fn schema(gen: &mut OpenApiGenerator) -> SchemaObject;
    /// `raw` is the decoded value, `None` when the parameter is absent.
    fn parse(raw: Option<&str>) -> Result<Self, ApiError>;
}

/// A parsed query parameter.
pub struct Query<P>(pub P);

#[rocket::async_trait]
impl<'r, P: QueryParam> FromRequest<'r> for Query<P> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let raw = match req.query_value::<String>(P::NAME) {
            None => None,
            Some(Ok(value)) => Some(value),
            Some(Err(_)) => {
                return ApiError::BadRequest(format!("`{}` is not valid UTF-8", P::NAME)).fail(req)
            }
        };
        match P::parse(raw.as_deref()) {
            Ok(value) => Outcome::Success(Query(value)),
            Err(e) => e.fail(req),
        }
    }
}

impl<'r, P: QueryParam> OpenApiFromRequest<'r> for Query<P> {
    fn from_request_input(
        gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::Parameter(optional_parameter(
            P::NAME,
            "query",
            P::DESCRIPTION,
            P::schema(gen),
            None,
        )))
    }
}

/// An optional query or header parameter, for request guards' documentation.
pub fn optional_parameter(
    name: &str,
    location: &str,
    description: &str,
    schema: SchemaObject,
    example: Option<serde_json::Value>,
) -> Parameter {
    Parameter {
        name: name.to_owned(),
        location: location.to_owned(),
        description: Some(description.to_owned()),
        required: false,
        deprecated: false,
        allow_empty_value: false,
        value: ParameterValue::Schema {
            style: None,
            explode: None,
            allow_reserved: false,
            schema,
            example,
            examples: None,
        },
        extensions: Object::default(),
    }
}

/// Page size.
pub struct Limit(pub u32);

impl QueryParam for Limit {
    const NAME: &'static str = "limit";
    const DESCRIPTION: &'static str = "Items per page, 1 to 200 (default 50).";

    fn schema(_gen: &mut OpenApiGenerator) -> SchemaObject {
        serde_json::from_value(serde_json::json!({
            "type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT
        }))
        .expect("a schema")
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let Some(raw) = raw else {
            return Ok(Limit(DEFAULT_LIMIT));
        };
        let n: i64 = raw.trim().parse().map_err(|_| {
            ApiError::BadRequest(format!("`limit` must be an integer, got `{raw}`"))
        })?;
        if !(1..=i64::from(MAX_LIMIT)).contains(&n) {
            return Err(ApiError::field("limit", "range", "must be 1 to 200"));
        }
        Ok(Limit(n as u32))
    }
}

/// The `cursor` from the previous page.
pub struct CursorParam(pub Option<String>);

impl QueryParam for CursorParam {
    const NAME: &'static str = "cursor";
    const DESCRIPTION: &'static str =
        "Opaque `next_cursor` of the previous page; omit it for the first page.";

    fn schema(_gen: &mut OpenApiGenerator) -> SchemaObject {
        serde_json::from_value(serde_json::json!({"type": "string", "minLength": 1}))
            .expect("a schema")
    }

    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        Ok(CursorParam(raw.map(str::to_owned)))
    }
}

fn parse_time(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    // An unencoded `+` in a query string arrives as a space.
    let fixed = raw.trim().replace(' ', "+");
    DateTime::parse_from_rfc3339(&fixed)
        .map(|t| Some(crate::time::micros(t.with_timezone(&Utc))))
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "`{name}` must be an RFC 3339 timestamp with an offset, e.g. 2026-11-21T10:00:00Z"
            ))
        })
}

fn time_schema() -> SchemaObject {
    serde_json::from_value(serde_json::json!({"type": "string", "format": "date-time"}))
        .expect("a schema")
}

/// Start of the period on `occurred_at`, inclusive.
pub struct From(pub Option<DateTime<Utc>>);

impl QueryParam for From {
    const NAME: &'static str = "from";
    const DESCRIPTION: &'static str =
        "Only movements that occurred at or after this instant (inclusive).";
    fn schema(_gen: &mut OpenApiGenerator) -> SchemaObject {
        time_schema()
    }
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_time(Self::NAME, raw).map(From)
    }
}

/// End of the period on `occurred_at`, exclusive.
pub struct To(pub Option<DateTime<Utc>>);

impl QueryParam for To {
    const NAME: &'static str = "to";
    const DESCRIPTION: &'static str =
        "Only movements that occurred before this instant (exclusive).";
    fn schema(_gen: &mut OpenApiGenerator) -> SchemaObject {
        time_schema()
    }
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        parse_time(Self::NAME, raw).map(To)
    }
}

/// A page of items, newest first.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schemars(schema_with = "crate::docs::nullable_string")]
    pub next_cursor: Option<String>,
}

/// A page, with `Link: <…>; rel="next"` when there is a next one.
pub struct Paged<T> {
    pub page: Page<T>,
    pub next_link: Option<String>,
}

impl<T> Paged<T> {
    /// Cuts `items` (fetched with `limit + 1`) to `limit`; when there was one
    /// more, the cursor of the last kept item leads to the next page.
    pub fn new(
        mut items: Vec<T>,
        limit: u32,
        here: &Here,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(cursor_of)
        } else {
            None
        };
        Paged {
            next_link: next_cursor.as_deref().map(|c| here.next(c)),
            page: Page { items, next_cursor },
        }
    }
}

impl<'r, T: Serialize> Responder<'r, 'static> for Paged<T> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self.page).respond_to(req)?;
        if let Some(link) = self.next_link {
            response.set_header(Header::new("Link", format!("<{link}>; rel=\"next\"")));
        }
        Ok(response)
    }
}

impl<T: Serialize + JsonSchema + Send> OpenApiResponderInner for Paged<T> {
    fn responses(gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Json::<Page<T>>::responses(gen)
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks cursors. A cursor is bound to the list it came from (the
/// `scope`: path and filters), so one cannot be forged, edited or replayed on
/// another list: anything else is "not one we issued", a 400.
pub struct Cursors {
    key: [u8; 32],
}

const MAC_LEN: usize = 16;

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
        let invalid = || ApiError::BadRequest("`cursor` is not one this list issued".to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if bytes.len() < MAC_LEN {
            return Err(invalid());
        }
        let (payload, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        self.mac(scope, payload)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        Ok(payload.to_vec())
    }
}

/// The keyset position after an item: its time (µs since the epoch) and id.
pub fn position_bytes(at: DateTime<Utc>, id: uuid::Uuid) -> Vec<u8> {
    let mut bytes = at.timestamp_micros().to_be_bytes().to_vec();
    bytes.extend_from_slice(id.as_bytes());
    bytes
}

pub fn position_from(bytes: &[u8]) -> Option<(DateTime<Utc>, uuid::Uuid)> {
    if bytes.len() != 24 {
        return None;
    }
    let micros = i64::from_be_bytes(bytes[..8].try_into().ok()?);
    let id = uuid::Uuid::from_slice(&bytes[8..]).ok()?;
    Some((DateTime::from_timestamp_micros(micros)?, id))
}

/// The URL of the next page: this request's path and query, with `cursor` replaced.
pub fn next_link(req_path: &str, query: Option<&str>, cursor: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(query) = query {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if k != "cursor" {
                out.append_pair(&k, &v);
            }
        }
    }
    out.append_pair("cursor", cursor);
    format!("{req_path}?{}", out.finish())
}

/// The request's path and raw query, for building `Link` headers.
pub struct Here {
    pub path: String,
    pub query: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Here {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let uri = req.uri();
        Outcome::Success(Here {
            path: uri.path().to_string(),
            query: uri.query().map(|q| q.as_str().to_owned()),
        })
    }
}

impl<'r> OpenApiFromRequest<'r> for Here {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }
}

impl Here {
    pub fn next(&self, cursor: &str) -> String {
        next_link(&self.path, self.query.as_deref(), cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_are_422_and_non_numbers_400() {
        assert_eq!(Limit::parse(None).unwrap().0, 50);
        assert_eq!(Limit::parse(Some("200")).unwrap().0, 200);
        for (raw, status) in [
            ("0", 422),
            ("201", 422),
            ("-1", 422),
            ("abc", 400),
            ("1.5", 400),
            ("", 400),
        ] {
            assert_eq!(
                Limit::parse(Some(raw)).err().unwrap().status().code,
                status,
                "{raw}"
            );
        }
    }

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
    fn positions_round_trip() {
        let at = crate::time::micros(Utc::now());
        let id = uuid::Uuid::now_v7();
        assert_eq!(position_from(&position_bytes(at, id)), Some((at, id)));
        assert_eq!(position_from(b"short"), None);
    }

    #[test]
    fn the_next_link_keeps_filters_and_replaces_the_cursor() {
        assert_eq!(
            next_link(
                "/v1/x",
                Some("limit=2&cursor=old&from=2026-01-01T00:00:00%2B01:00"),
                "new"
            ),
            "/v1/x?limit=2&from=2026-01-01T00%3A00%3A00%2B01%3A00&cursor=new"
        );
        assert_eq!(next_link("/v1/x", None, "c"), "/v1/x?cursor=c");
    }
}
