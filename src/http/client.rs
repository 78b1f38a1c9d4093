//! Who is asking, and through what: the client's address and the path prefix
//! Tally is mounted under. Both come from the socket, or from headers only
//! when a trusted proxy (or the Lambda adapter) set them; a client cannot
//! choose its own address by sending `X-Forwarded-For`.

use std::net::IpAddr;

use ipnet::IpNet;
use rocket::Request;

/// Which peers' forwarding headers are believed (managed state).
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// `TALLY_TRUSTED_PROXIES`: the load balancers and proxies in front of Tally.
    pub trusted: Vec<IpNet>,
    /// On Lambda the adapter builds every request and sets these itself.
    pub lambda: bool,
}

impl Network {
    fn trusts(&self, ip: IpAddr) -> bool {
        // A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`.
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// Whether forwarding headers on `req` come from a party Tally trusts.
    fn believes(&self, req: &Request<'_>) -> bool {
        self.lambda || req.remote().is_some_and(|peer| self.trusts(peer.ip()))
    }
}

fn network<'r>(req: &'r Request<'_>) -> &'r Network {
    static NONE: Network = Network {
        trusted: Vec::new(),
        lambda: false,
    };
    req.rocket().state::<Network>().unwrap_or(&NONE)
}

/// The client's address: the socket's peer, unless that peer is a trusted
/// proxy; then the nearest address in `X-Forwarded-For` that is not one.
pub fn client_ip(req: &Request<'_>) -> Option<IpAddr> {
    let peer = req.remote()?.ip().to_canonical();
    let net = network(req);
    if net.lambda || !net.trusts(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get("X-Forwarded-For")
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok().map(|ip: IpAddr| ip.to_canonical()))
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !net.trusts(*ip))
            .unwrap_or(peer),
    )
}

/// The path prefix Tally is mounted under, set by the Lambda adapter for an
/// API Gateway stage (or by a reverse proxy).
pub const PREFIX_HEADER: &str = "X-Forwarded-Prefix";

/// The path prefix in `X-Forwarded-Prefix`, when a trusted party sent it.
pub fn forwarded_prefix<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    if network(req).believes(req) {
        req.headers().get_one(PREFIX_HEADER)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use rocket::http::Header;
    use rocket::local::asynchronous::Client;

    use super::*;

    async fn client(net: Network) -> Client {
        Client::untracked(rocket::build().manage(net))
            .await
            .unwrap()
    }

    fn net(trusted: &[&str]) -> Network {
        Network {
            trusted: trusted.iter().map(|n| n.parse().unwrap()).collect(),
            lambda: false,
        }
    }

    #[rocket::async_test]
    async fn a_client_cannot_choose_its_address() {
        let c = client(net(&[])).await;
        let req = c
            .get("/")
            .remote("203.0.113.9:5000".parse::<SocketAddr>().unwrap())
            .header(Header::new("X-Forwarded-For", "198.51.100.1"))
            .header(Header::new("X-Forwarded-Prefix", "/evil"));
        assert_eq!(client_ip(req.inner()), "203.0.113.9".parse().ok());
        assert_eq!(forwarded_prefix(req.inner()), None);
    }

    #[rocket::async_test]
    async fn behind_trusted_proxies_the_nearest_untrusted_address_is_the_client() {
        let c = client(net(&["10.0.0.0/8"])).await;
        let req = c
            .get("/")
            .remote("10.0.0.2:5000".parse::<SocketAddr>().unwrap())
            // The client forged the first entry; the proxies appended the rest.
            .header(Header::new(
                "X-Forwarded-For",
                "1.2.3.4, 198.51.100.7, 10.0.0.9",
            ))
            .header(Header::new("X-Forwarded-Prefix", "/api"));
        assert_eq!(client_ip(req.inner()), "198.51.100.7".parse().ok());
        assert_eq!(forwarded_prefix(req.inner()), Some("/api"));
    }

    #[rocket::async_test]
    async fn an_ipv4_peer_on_a_dual_stack_socket_is_the_ipv4_address() {
        let c = client(net(&["10.0.0.0/8"])).await;
        let req = c
            .get("/")
            .remote("[::ffff:10.0.0.2]:5000".parse::<SocketAddr>().unwrap())
            .header(Header::new("X-Forwarded-For", "::ffff:198.51.100.7"));
        assert_eq!(client_ip(req.inner()), "198.51.100.7".parse().ok());
        let direct = c
            .get("/")
            .remote("[::ffff:203.0.113.9]:5000".parse::<SocketAddr>().unwrap());
        assert_eq!(client_ip(direct.inner()), "203.0.113.9".parse().ok());
    }
}
