//! `If-Match`: a change applies only to the version the client saw.

use rocket::request::{FromRequest, Outcome, Request};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};

use crate::error::ApiError;
use crate::spec;

/// The optional `If-Match` header: `*` or a list of strong ETags.
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// 412 unless the header is absent or names `etag` (or `*`).
    pub fn check(&self, etag: &str) -> Result<(), ApiError> {
        let accepted = match &self.0 {
            None => true,
            Some(header) => header
                .split(',')
                .map(str::trim)
                .any(|candidate| candidate == "*" || candidate == etag),
        };
        accepted.then_some(()).ok_or(ApiError::PreconditionFailed)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfMatch {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(IfMatch(
            req.headers().get_one("If-Match").map(str::to_owned),
        ))
    }
}

impl<'r> OpenApiFromRequest<'r> for IfMatch {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::Parameter(spec::optional_parameter(
            "If-Match",
            "header",
            "The `ETag` you last saw; if the resource changed since, the answer is 412.",
            spec::schema(serde_json::json!({"type": "string"})),
            Some(serde_json::json!("\"0193a5b27c4d7e8f9a0b1c2d3e4f5a6b-3\"")),
        )))
    }

    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(spec::problems(&[412]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_a_star_or_a_list_of_strong_etags() {
        let etag = "\"a-1\"";
        assert!(IfMatch(None).check(etag).is_ok());
        assert!(IfMatch(Some("*".into())).check(etag).is_ok());
        assert!(IfMatch(Some("\"x-9\", \"a-1\"".into())).check(etag).is_ok());
        assert!(IfMatch(Some("\"a-2\"".into())).check(etag).is_err());
        assert!(IfMatch(Some("W/\"a-1\"".into())).check(etag).is_err());
    }
}
