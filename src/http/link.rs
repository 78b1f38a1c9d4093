//! Links Tally hands out (`Location`, `Link`, the spec's `servers`) stay
//! inside the deployment: behind an API Gateway stage or a proxy that mounts
//! Tally under a path, they carry that path prefix.

use rocket::Request;

struct CachedPrefix(Option<String>);

/// The sanitised `X-Forwarded-Prefix` of the request, if any (`/Prod`).
pub fn prefix<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    req.local_cache(|| {
        CachedPrefix(
            super::client::forwarded_prefix(req)
                .map(|p| p.trim_end_matches('/'))
                .filter(|p| is_path_prefix(p))
                .map(str::to_owned),
        )
    })
    .0
    .as_deref()
}

/// The prefix, as a request guard.
pub struct Prefix(pub Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Prefix {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(Prefix(prefix(req).map(str::to_owned)))
    }
}

/// `path` (from the root of the app) as the client must ask for it.
pub fn public(req: &Request<'_>, path: &str) -> String {
    match prefix(req) {
        Some(prefix) => format!("{prefix}{path}"),
        None => path.to_owned(),
    }
}

/// This request's URL with `cursor` set to `cursor`, other parameters kept.
pub fn with_cursor(req: &Request<'_>, cursor: &str) -> String {
    let uri = req.uri();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Some(query) = uri.query() {
        for (k, v) in url::form_urlencoded::parse(query.as_str().as_bytes()) {
            if k != "cursor" {
                out.append_pair(&k, &v);
            }
        }
    }
    out.append_pair("cursor", cursor);
    public(req, &format!("{}?{}", uri.path(), out.finish()))
}

/// `/seg/seg…` of URL-safe characters, nothing a URL could be smuggled in.
fn is_path_prefix(p: &str) -> bool {
    p.len() <= 200
        && p.starts_with('/')
        && p[1..].split('/').all(|seg| {
            !seg.bytes().all(|b| b == b'.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_path_prefixes_are_kept() {
        assert!(is_path_prefix("/Prod"));
        assert!(is_path_prefix("/api/v1.2_x~y"));
        for bad in [
            "",
            "/",
            "Prod",
            "//x",
            "/a b",
            "/x?y",
            "/x#y",
            "/http://evil",
            "/x/../y",
            "/y%2F",
        ] {
            assert!(!is_path_prefix(bad), "{bad}");
        }
    }

    #[rocket::async_test]
    async fn the_next_link_keeps_filters_replaces_the_cursor_and_the_prefix() {
        let network = super::super::Network {
            trusted: Vec::new(),
            lambda: true,
        };
        let client =
            rocket::local::asynchronous::Client::untracked(rocket::build().manage(network))
                .await
                .unwrap();
        let req = client.get("/v1/x?limit=2&cursor=old&from=2026-01-01T00:00:00%2B01:00");
        assert_eq!(
            with_cursor(req.inner(), "new"),
            "/v1/x?limit=2&from=2026-01-01T00%3A00%3A00%2B01%3A00&cursor=new"
        );
        let req = client.get("/v1/x").header(rocket::http::Header::new(
            crate::http::PREFIX_HEADER,
            "/Prod/",
        ));
        assert_eq!(with_cursor(req.inner(), "c"), "/Prod/v1/x?cursor=c");
        assert_eq!(public(req.inner(), "/v1/a"), "/Prod/v1/a");
    }
}
