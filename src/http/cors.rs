//! CORS for the origins in `TALLY_CORS_ORIGINS`: browsers on those origins may
//! call the API and read the headers it answers with; any other origin gets
//! no CORS headers at all (and its browser refuses the answer).

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Method};
use rocket::{Request, Response};

use super::methods::{allow_header, allowed};

/// The request headers a browser may send.
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-Match";
/// The response headers a browser script may read.
pub const EXPOSE_HEADERS: &str =
    "ETag, Location, Link, X-Request-Id, Retry-After, Idempotent-Replayed";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE: &str = "600";

pub struct Cors {
    pub origins: Vec<String>,
}

#[rocket::async_trait]
impl Fairing for Cors {
    fn info(&self) -> Info {
        Info {
            name: "CORS",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Answers differ by Origin: shared caches must keep them apart.
        res.adjoin_header(Header::new("Vary", "Origin"));
        let Some(origin) = req.headers().get_one("Origin") else {
            return;
        };
        if !self.origins.iter().any(|o| o == origin) {
            return;
        }
        res.set_header(Header::new(
            "Access-Control-Allow-Origin",
            origin.to_owned(),
        ));
        let preflight = req.method() == Method::Options
            && req.headers().contains("Access-Control-Request-Method");
        if preflight {
            let methods = allowed(req);
            res.set_header(Header::new(
                "Access-Control-Allow-Methods",
                allow_header(&methods),
            ));
            res.set_header(Header::new("Access-Control-Allow-Headers", ALLOW_HEADERS));
            res.set_header(Header::new("Access-Control-Max-Age", MAX_AGE));
        } else {
            res.set_header(Header::new("Access-Control-Expose-Headers", EXPOSE_HEADERS));
        }
    }
}
