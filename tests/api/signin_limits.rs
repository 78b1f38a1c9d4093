//! Sign-in abuse: a per-client-address limit on codes asked for and tried,
//! counted in the database, with the client's address from the socket (or a
//! trusted proxy), never from a header the client set.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::api_test;
use crate::helpers::{Reply, Req, TestApp};

async fn ask(app: &TestApp, email: &str, remote: &str, forwarded: Option<&str>) -> Reply {
    let mut req = Req::new(Method::Post, "/v1/auth/otp")
        .remote(remote)
        .json(json!({"email": email}));
    if let Some(xff) = forwarded {
        req = req.header("X-Forwarded-For", xff);
    }
    app.call(req).await
}

async fn try_code(app: &TestApp, remote: &str) -> Reply {
    app.call(
        Req::new(Method::Post, "/v1/auth/token")
            .remote(remote)
            .json(json!({"email": "ana@example.com", "code": "000000"})),
    )
    .await
}

#[track_caller]
fn limited(reply: &Reply) {
    reply.problem(Status::TooManyRequests);
    let retry: u64 = reply.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=3601).contains(&retry), "{retry}");
}

api_test!(
    codes_asked_for_and_tried_count_against_the_address_then_429,
    configure = |s| s.signin_limit_per_ip = 3,
    |app| {
        let me = "203.0.113.5:40000";
        assert_eq!(
            ask(app, "ana@example.com", me, None).await.status,
            Status::Accepted
        );
        assert_eq!(try_code(app, me).await.status, Status::Unauthorized);
        assert_eq!(
            ask(app, "bob@example.com", me, None).await.status,
            Status::Accepted
        );
        limited(&ask(app, "carl@example.com", me, None).await);
        limited(&try_code(app, me).await);
        // Another address is not affected.
        assert_eq!(
            ask(app, "dora@example.com", "198.51.100.9:1", None)
                .await
                .status,
            Status::Accepted
        );
    }
);

api_test!(
    a_forged_x_forwarded_for_does_not_buy_more_tries,
    configure = |s| s.signin_limit_per_ip = 2,
    |app| {
        let me = "203.0.113.5:40000";
        for (i, forged) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].iter().enumerate() {
            let reply = ask(app, &format!("u{i}@example.com"), me, Some(forged)).await;
            if i < 2 {
                assert_eq!(reply.status, Status::Accepted, "{reply:?}");
            } else {
                limited(&reply);
            }
        }
    }
);

api_test!(
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit,
    configure = |s| {
        s.signin_limit_per_ip = 1;
        s.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    },
    |app| {
        let proxy = "10.1.2.3:5000";
        // The client's own first entry is ignored; the proxy appended the real one.
        let a = "6.6.6.6, 198.51.100.1";
        let b = "6.6.6.6, 198.51.100.2";
        assert_eq!(
            ask(app, "a1@example.com", proxy, Some(a)).await.status,
            Status::Accepted
        );
        limited(&ask(app, "a2@example.com", proxy, Some(a)).await);
        assert_eq!(
            ask(app, "b1@example.com", proxy, Some(b)).await.status,
            Status::Accepted
        );
    }
);

/// A code that is not ana's newest one.
fn wrong_for(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// Asks for a new code for ana and spends `n` wrong tries on it, each 401.
async fn wrong_tries_on_a_new_code(app: &TestApp, n: usize) {
    let wrong = wrong_for(&app.request_code("ana@example.com").await);
    for _ in 0..n {
        app.post(
            "/v1/auth/token",
            json!({"email": "ana@example.com", "code": wrong}),
            None,
        )
        .await
        .problem(Status::Unauthorized);
    }
}

api_test!(
    ten_wrong_tries_per_address_an_hour_over_all_its_codes,
    |app| {
        for _ in 0..2 {
            wrong_tries_on_a_new_code(app, 5).await;
        }
        // A third code does not buy more guesses: even the right one waits.
        let code = app.request_code("ana@example.com").await;
        let reply = app
            .post(
                "/v1/auth/token",
                json!({"email": "ana@example.com", "code": code}),
                None,
            )
            .await;
        limited(&reply);
    }
);

api_test!(
    wrong_tries_sent_all_at_once_spend_no_more_than_the_addresses_ten,
    |app| {
        // 5 wrong tries on a first code and 3 on a second: 8 of the
        // address's 10. A third code's own 5 tries would allow 5 more.
        for tries in [5, 3] {
            wrong_tries_on_a_new_code(app, tries).await;
        }
        let wrong = wrong_for(&app.request_code("ana@example.com").await);
        let guesses = (0..30).map(|_| {
            app.post(
                "/v1/auth/token",
                json!({"email": "ana@example.com", "code": wrong}),
                None,
            )
        });
        let replies = futures::future::join_all(guesses).await;
        let count = |status| replies.iter().filter(|r| r.status == status).count();
        assert_eq!(
            (count(Status::Unauthorized), count(Status::TooManyRequests)),
            (2, 28),
            "{replies:?}"
        );
        let spent: i64 = crate::with_pool!(app.pool(), |p| {
            sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM otp_codes")
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(spent, 10);
    }
);
