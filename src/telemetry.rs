//! Logs and request ids: every response carries `X-Request-Id`, and every log
//! line about a request names it.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

// ANCHOR: init_logging
/// Human-readable logs in debug, JSON lines in release; `RUST_LOG` filters.
/// Rocket 0.5 logs through `log`, which this subscriber also receives.
pub fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,rocket=warn,rocket::server=off,sqlx=warn,lettre=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
// ANCHOR_END: init_logging

/// The request's id and arrival time, cached on the request by the fairing.
pub struct RequestId {
    id: String,
    start: Instant,
}

impl RequestId {
    /// The id of this request (generated on the spot if the fairing did not run).
    pub fn of<'r>(req: &'r Request<'_>) -> &'r str {
        &req.local_cache(|| RequestId::new(req.headers().get_one(REQUEST_ID_HEADER)))
            .id
    }

    fn new(incoming: Option<&str>) -> Self {
        let id = match incoming {
            Some(id) if is_sane(id) => id.to_owned(),
            _ => uuid::Uuid::now_v7().to_string(),
        };
        RequestId {
            id,
            start: Instant::now(),
        }
    }
}

/// A client's id is kept only when it is short, printable and cannot forge log lines.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub struct RequestIds;

#[rocket::async_trait]
impl Fairing for RequestIds {
    fn info(&self) -> Info {
        Info {
            name: "Request ids and access log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        RequestId::of(req);
    }

    // ANCHOR: access_log
    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let meta = req.local_cache(|| RequestId::new(None));
        res.set_header(Header::new(REQUEST_ID_HEADER, meta.id.clone()));
        let route = req.route().and_then(|r| r.name.as_deref()).unwrap_or("-");
        tracing::info!(
            request_id = %meta.id,
            method = %req.method(),
            path = %req.uri().path(),
            route,
            status = res.status().code,
            micros = meta.start.elapsed().as_micros() as u64,
            "request"
        );
    }
    // ANCHOR_END: access_log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_request_ids_are_kept() {
        assert!(is_sane("abc-123_x.y:z"));
        assert!(is_sane(&"a".repeat(128)));
        for bad in ["", " ", "a b", "a\nb", "é", &"a".repeat(129)] {
            assert!(!is_sane(bad), "{bad:?}");
        }
    }
}
