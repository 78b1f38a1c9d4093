//! The per-client sign-in limit: codes asked for plus codes tried, per client
//! address per hour, counted in the database so every instance sees the same
//! count.

use std::net::IpAddr;

use chrono::{DurationRound, TimeDelta};
use ipnet::Ipv6Net;
use rocket::request::{FromRequest, Outcome, Request};
use rocket_db_pools::Database;
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::Responses;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};

use super::store;
use crate::db::Db;
use crate::domain::time;
use crate::error::ApiError;
use crate::http::client_ip;
use crate::spec;

/// Sign-in requests allowed per client address and hour; 0 turns the limit off.
pub struct PerClient(pub u32);

const WINDOW: TimeDelta = TimeDelta::hours(1);

/// Passes while the client is under its hourly share of sign-in requests.
pub struct SignInLimit;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignInLimit {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match check(req).await {
            Ok(()) => Outcome::Success(SignInLimit),
            Err(e) => e.fail(req),
        }
    }
}

/// The key a client address counts under: an IPv4 address, or the /64 an
/// IPv6 address belongs to, since one subscriber gets a whole /64 and could
/// otherwise take a fresh address for every request.
fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Net::new(v6, 64).expect("64 is a valid prefix length");
            net.trunc().to_string()
        }
    }
}

async fn check(req: &Request<'_>) -> Result<(), ApiError> {
    let limit = req.rocket().state::<PerClient>().map_or(0, |l| l.0);
    if limit == 0 {
        return Ok(());
    }
    let db = Db::fetch(req.rocket()).ok_or_else(|| ApiError::internal("no database"))?;
    let client = client_ip(req).map_or_else(|| "unknown".to_owned(), bucket);
    let now = time::now();
    let window = now.duration_trunc(WINDOW).map_err(ApiError::internal)?;
    let hits = db
        .transaction(client.as_str(), move |tx, client| {
            Box::pin(async move { Ok::<_, ApiError>(store::hit(tx, client, window).await?) })
        })
        .await?;
    if hits > i64::from(limit) {
        return Err(ApiError::TooManyRequests {
            detail: "too many sign-in requests from this address; try again later",
            retry_after: (window + WINDOW - now).num_seconds().max(0) as u64 + 1,
        });
    }
    Ok(())
}

impl<'r> OpenApiFromRequest<'r> for SignInLimit {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }

    fn get_responses(_gen: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(spec::problems(&[429]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_counts_by_address_and_ipv6_by_its_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(bucket(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            bucket(ip("2001:db8:1:2::")),
            "one /64, one count"
        );
        assert_ne!(bucket(ip("2001:db8:1:3::1")), bucket(ip("2001:db8:1:2::1")));
    }
}
