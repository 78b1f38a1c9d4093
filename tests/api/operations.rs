//! Operations and HTTP completeness: metrics, 405 with `Allow`, `OPTIONS`,
//! `HEAD`, CORS and RFC 9110 titles.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::api_test;
use crate::helpers::{Reply, Req, TestApp};
use crate::movements::setup;

async fn scrape(app: &TestApp) -> String {
    let reply = app.get("/metrics", None).await;
    assert_eq!(reply.status, Status::Ok, "{reply:?}");
    assert!(
        reply
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("text/plain") && t.contains("version=0.0.4")),
        "{reply:?}"
    );
    reply.body.as_str().unwrap().to_owned()
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

api_test!(
    metrics_count_requests_by_route_template_method_and_status,
    |app| {
        let (token, account) = setup(app).await;
        for _ in 0..3 {
            assert_eq!(app.get(&account, Some(&token)).await.status, Status::Ok);
        }
        app.get(
            "/v1/accounts/0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
            Some(&token),
        )
        .await
        .problem(Status::NotFound);
        app.get("/no/such/path", None).await;
        app.call(Req::new(Method::Put, &account).token(Some(&token)))
            .await
            .problem(Status::MethodNotAllowed);
        scrape(app).await;
        let text = scrape(app).await;
        let by = |route: &str, method: &str, status: u16| {
            sample(
            &text,
            &format!(
                "tally_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
        };
        assert_eq!(by("/v1/accounts/<id>", "GET", 200), Some(3.0), "{text}");
        assert_eq!(by("/v1/accounts/<id>", "GET", 404), Some(1.0), "{text}");
        assert_eq!(by("/v1/accounts", "POST", 201), Some(1.0), "{text}");
        assert_eq!(by("unmatched", "GET", 404), Some(1.0), "{text}");
        assert_eq!(by("/v1/accounts/<id>", "PUT", 405), Some(1.0), "{text}");
        assert!(!text.contains(&account[1..]), "no raw paths in labels");
        assert!(
            !text.contains("route=\"/metrics\""),
            "scrapes are not counted: {text}"
        );
        assert!(
        text.contains("tally_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/accounts/<id>\",status=\"200\",le=\"0.5\"}"),
        "{text}"
    );
        for state in ["open", "idle", "in_use", "max"] {
            assert!(
                sample(
                    &text,
                    &format!("tally_db_pool_connections{{state=\"{state}\"}}")
                )
                .is_some(),
                "pool gauge {state}: {text}"
            );
        }
        assert!(text.contains("tally_db_pool_timeouts_total 0"), "{text}");
        assert!(text.contains("tally_db_writes_waiting 0"), "{text}");
        assert!(text.contains("tally_build_info{backend="), "{text}");
    }
);

// ANCHOR: configure_test
api_test!(
    tally_metrics_false_leaves_metrics_out,
    configure = |s| s.metrics = false,
    |app| {
        app.get("/metrics", None).await.problem(Status::NotFound);
        assert_eq!(app.get("/health", None).await.status, Status::Ok);
    }
);
// ANCHOR_END: configure_test

api_test!(
    a_method_a_known_path_lacks_is_405_with_the_route_tables_allow,
    |app| {
        let (token, account) = setup(app).await;
        let movement = app
            .post(
                &format!("{account}/movements"),
                json!({"amount": 1, "description": "x"}),
                Some(&token),
            )
            .await;
        let movement = movement.header("Location").unwrap().to_owned();
        let cases = [
            (
                Method::Put,
                account.clone(),
                "GET, HEAD, PATCH, DELETE, OPTIONS",
            ),
            (
                Method::Post,
                "/v1/me".to_owned(),
                "GET, HEAD, DELETE, OPTIONS",
            ),
            (Method::Delete, "/health".to_owned(), "GET, HEAD, OPTIONS"),
            (Method::Get, "/v1/transfers".to_owned(), "POST, OPTIONS"),
            (
                Method::Patch,
                "/v1/accounts".to_owned(),
                "GET, HEAD, POST, OPTIONS",
            ),
            (Method::Put, movement.clone(), "GET, HEAD, DELETE, OPTIONS"),
            (Method::Get, "/v1/auth/otp".to_owned(), "POST, OPTIONS"),
            (
                Method::Delete,
                format!("{account}/movements"),
                "GET, HEAD, POST, OPTIONS",
            ),
        ];
        for (method, path, allow) in cases {
            let reply = app.call(Req::new(method, &path).token(Some(&token))).await;
            reply.problem(Status::MethodNotAllowed);
            assert_eq!(reply.header("Allow"), Some(allow), "{method} {path}");
        }
        app.call(Req::new(Method::Put, "/v1/nothing"))
            .await
            .problem(Status::NotFound);
    }
);

api_test!(head_and_options_behave_as_http_says, |app| {
    let (token, account) = setup(app).await;
    let head = app
        .call(Req::new(Method::Head, &account).token(Some(&token)))
        .await;
    assert_eq!(head.status, Status::Ok);
    assert_eq!(head.body, json!(""), "HEAD has no body");
    assert!(head.header("ETag").is_some(), "but the headers of GET");
    let options = app.call(Req::new(Method::Options, &account)).await;
    assert_eq!(options.status, Status::NoContent);
    assert_eq!(
        options.header("Allow"),
        Some("GET, HEAD, PATCH, DELETE, OPTIONS")
    );
    app.call(Req::new(Method::Options, "/v1/nothing"))
        .await
        .problem(Status::NotFound);
});

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.net";

fn cors_headers(reply: &Reply) -> Vec<(String, String)> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .cloned()
        .collect()
}

async fn preflight(app: &TestApp, origin: &str) -> Reply {
    app.call(
        Req::new(Method::Options, "/v1/accounts")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            ),
    )
    .await
}

api_test!(
    cors_answers_allowed_origins_only,
    configure = |s| s.cors_origins = vec![APP.to_owned(), "http://localhost:5173".to_owned()],
    |app| {
        let ok = preflight(app, APP).await;
        assert_eq!(ok.status, Status::NoContent);
        assert_eq!(ok.header("Access-Control-Allow-Origin"), Some(APP));
        assert_eq!(
            ok.header("Access-Control-Allow-Methods"),
            Some("GET, HEAD, POST, OPTIONS")
        );
        assert_eq!(
            ok.header("Access-Control-Allow-Headers"),
            Some("Authorization, Content-Type, Idempotency-Key, If-Match")
        );
        assert_eq!(ok.header("Access-Control-Max-Age"), Some("600"));
        assert_eq!(ok.header("Vary"), Some("Origin"));

        let foreign = preflight(app, EVIL).await;
        assert_eq!(
            cors_headers(&foreign),
            vec![],
            "nothing for a foreign origin"
        );

        let (token, account) = setup(app).await;
        let actual = app
            .call(
                Req::new(Method::Get, &account)
                    .token(Some(&token))
                    .header("Origin", APP),
            )
            .await;
        assert_eq!(actual.status, Status::Ok);
        assert_eq!(actual.header("Access-Control-Allow-Origin"), Some(APP));
        assert_eq!(
            actual.header("Access-Control-Expose-Headers"),
            Some("ETag, Location, Link, X-Request-Id, Retry-After, Idempotent-Replayed")
        );
        let foreign = app
            .call(
                Req::new(Method::Get, &account)
                    .token(Some(&token))
                    .header("Origin", EVIL),
            )
            .await;
        assert_eq!(
            foreign.status,
            Status::Ok,
            "the server answers; the browser will not show it"
        );
        assert_eq!(cors_headers(&foreign), vec![]);
        // Errors carry the headers too, so a browser app can read the problem.
        let problem = app
            .call(Req::new(Method::Get, "/v1/me").header("Origin", APP))
            .await;
        problem.problem(Status::Unauthorized);
        assert_eq!(problem.header("Access-Control-Allow-Origin"), Some(APP));
    }
);

api_test!(without_cors_origins_there_are_no_cors_headers, |app| {
    let reply = preflight(app, APP).await;
    assert_eq!(
        reply.status,
        Status::NoContent,
        "OPTIONS still answers with Allow"
    );
    assert_eq!(cors_headers(&reply), vec![]);
});

api_test!(problem_titles_are_rfc_9110_reason_phrases, |app| {
    let unprocessable = app
        .post("/v1/auth/otp", json!({"email": "nope"}), None)
        .await;
    assert_eq!(unprocessable.body["title"], "Unprocessable Content");
    let big = json!({"email": format!("{}@example.com", "a".repeat(70 * 1024))});
    let too_large = app.post("/v1/auth/otp", big, None).await;
    assert_eq!(too_large.status.code, 413);
    assert_eq!(too_large.body["title"], "Content Too Large");
    let not_allowed = app.call(Req::new(Method::Put, "/health")).await;
    assert_eq!(not_allowed.body["title"], "Method Not Allowed");
});

/// `req` from `peer`, with the prefix a proxy mounting Tally under `/api` sends.
fn via<'a>(peer: &str, req: Req<'a>) -> Req<'a> {
    req.remote(peer).header("X-Forwarded-Prefix", "/api")
}

api_test!(
    behind_a_trusted_proxy_links_carry_its_prefix_and_an_untrusted_peer_s_is_ignored,
    configure = |s| {
        s.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    },
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let body = json!({"name": "A", "kind": "cash", "currency": "EUR"});
        let mut locations = Vec::new();
        for peer in ["10.1.2.3:5000", "203.0.113.9:5000"] {
            let reply = app
                .call(
                    via(peer, Req::new(Method::Post, "/v1/accounts"))
                        .json(body.clone())
                        .token(Some(&token)),
                )
                .await;
            assert_eq!(reply.status, Status::Created, "{reply:?}");
            locations.push(reply.header("Location").unwrap().to_owned());
        }
        assert!(
            locations[0].starts_with("/api/v1/accounts/"),
            "{locations:?}"
        );
        assert!(locations[1].starts_with("/v1/accounts/"), "{locations:?}");

        // A trusted proxy's prefix is kept; an untrusted peer's is ignored.
        for (peer, prefix, server) in [
            ("10.1.2.3:5000", "/api", "/api"),
            ("203.0.113.9:5000", "", "/"),
        ] {
            let page = app
                .call(via(peer, Req::new(Method::Get, "/v1/accounts?limit=1")).token(Some(&token)))
                .await;
            let link = page.header("Link").unwrap();
            let next = format!("<{prefix}/v1/accounts?limit=1&cursor=");
            assert!(link.starts_with(&next), "{link}");
            let spec = app
                .call(via(peer, Req::new(Method::Get, "/openapi.json")))
                .await;
            assert_eq!(
                spec.body["servers"][0]["url"], server,
                "{:?}",
                spec.body["servers"]
            );
        }
    }
);
