//! What a path supports, read from Rocket's own route table: the `Allow` of
//! a 405 and of an `OPTIONS` answer.

use rocket::http::uri::Origin;
use rocket::http::{Header, Method, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{options, routes, Orbit, Rocket, Route};

use crate::error::ApiError;

/// The order methods are listed in.
const ORDER: [Method; 7] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
];

/// Whether a route's path pattern (`/v1/accounts/<id>`) matches `path`.
fn matches(pattern: &str, path: &[&str]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut i = 0;
    for (n, segment) in pattern.iter().enumerate() {
        if segment.starts_with('<') && segment.ends_with("..>") {
            return true;
        }
        let Some(actual) = path.get(n) else {
            return false;
        };
        if !(segment.starts_with('<') && segment.ends_with('>')) && segment != actual {
            return false;
        }
        i = n + 1;
    }
    i == path.len()
}

/// The methods some route has for the request's path (with `HEAD` where
/// there is `GET`, and `OPTIONS`); empty when no route has the path.
pub fn allowed(req: &Request<'_>) -> Vec<Method> {
    allowed_on(req.rocket(), req.uri())
}

/// [`allowed`] for the path of `uri`.
pub fn allowed_on(rocket: &Rocket<Orbit>, uri: &Origin<'_>) -> Vec<Method> {
    let path: Vec<&str> = uri.path().segments().collect();
    let mut found: Vec<Method> = rocket
        .routes()
        .filter(|r| r.name.as_deref() != Some(OPTIONS_ROUTE))
        .filter(|r| matches(r.uri.path(), &path))
        .map(|r| r.method)
        .collect();
    if found.is_empty() {
        return found;
    }
    if found.contains(&Method::Get) {
        found.push(Method::Head);
    }
    found.push(Method::Options);
    ORDER.into_iter().filter(|m| found.contains(m)).collect()
}

/// The path pattern (`/v1/accounts/<id>`) of a route that has the
/// request's path, whatever its method: what a 405 is counted under.
pub fn template<'a>(req: &Request<'a>) -> Option<&'a str> {
    let path: Vec<&str> = req.uri().path().segments().collect();
    req.rocket()
        .routes()
        .filter(|r| r.name.as_deref() != Some(OPTIONS_ROUTE))
        .find(|r| matches(r.uri.path(), &path))
        .map(|r| r.uri.as_str())
}

/// `GET, HEAD, OPTIONS`.
pub fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

const OPTIONS_ROUTE: &str = "options_any";

/// The methods of the request's path, as a request guard.
pub struct Allowed(pub Vec<Method>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Allowed {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Allowed(allowed(req)))
    }
}

/// `204 No Content` with `Allow`.
pub struct AllowOnly(Vec<Method>);

impl<'r> Responder<'r, 'static> for AllowOnly {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .status(Status::NoContent)
            .header(Header::new("Allow", allow_header(&self.0)))
            .ok()
    }
}

/// `OPTIONS` on any path: what it supports (a CORS preflight is answered
/// here too; `Cors` adds its headers).
#[options("/<_..>", rank = 100)]
fn options_any(allowed: Allowed) -> Result<AllowOnly, ApiError> {
    if allowed.0.is_empty() {
        return Err(ApiError::NotFound("no resource at this path"));
    }
    Ok(AllowOnly(allowed.0))
}

pub fn routes() -> Vec<Route> {
    routes![options_any]
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn path_patterns_match_whole_segments() {
        assert!(matches("/v1/accounts/<id>", &["v1", "accounts", "x"]));
        assert!(!matches("/v1/accounts/<id>", &["v1", "accounts"]));
        assert!(!matches(
            "/v1/accounts/<id>",
            &["v1", "accounts", "x", "movements"]
        ));
        assert!(matches("/v1/accounts", &["v1", "accounts"]));
        assert!(!matches("/v1/accounts", &["v1", "account"]));
        assert!(matches("/swagger-ui/<path..>", &["swagger-ui", "a", "b"]));
        assert!(matches("/swagger-ui/<path..>", &["swagger-ui"]));
        assert!(matches("/", &[]));
        assert!(!matches("/", &["x"]));
    }
}
