use rocket::http::{Method, Status};

use crate::api_test;
use crate::helpers::Req;
use serde_json::json;

api_test!(me_shows_the_signed_in_user, |app| {
    let token = app.sign_in("ana@example.com").await;
    let me = app.get("/v1/me", Some(&token)).await;
    assert_eq!(me.status, Status::Ok);
    let id = me.body["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(me.body["email"], "ana@example.com");
    let created = me.body["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert!(created.ends_with('Z'), "UTC: {created}");
    let fraction = created.split('.').nth(1).unwrap_or("Z");
    assert!(
        fraction.len() <= 7,
        "at most microseconds, as stored: {created}"
    );
});

api_test!(
    deleting_me_removes_the_user_and_their_tokens_stop_working,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let other = app.sign_in("ana@example.com").await;
        let old_id = app.get("/v1/me", Some(&token)).await.body["id"].clone();

        let reply = app.delete("/v1/me", Some(&token)).await;
        assert_eq!(reply.status, Status::NoContent);
        for t in [&token, &other] {
            let reply = app.get("/v1/me", Some(t)).await;
            reply.problem(Status::Unauthorized);
            assert_eq!(
                reply.header("WWW-Authenticate"),
                Some(r#"Bearer error="invalid_token""#)
            );
        }
        let users: i64 = crate::with_pool!(app.pool(), |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(users, 0);

        let fresh = app.sign_in("ana@example.com").await;
        let me = app.get("/v1/me", Some(&fresh)).await;
        assert_ne!(me.body["id"], old_id, "signing in again makes a new user");
    }
);

api_test!(
    a_deleted_users_token_is_401_everywhere_on_every_instance,
    |app| {
        // Two instances on one database, as behind a load balancer; the
        // second has verified the token already (and remembers it).
        let other = app.twin().await;
        let token = app.sign_in("ana@example.com").await;
        let account = crate::accounts::create_account(
            &other,
            &token,
            json!({"name": "A", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let account = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
        assert_eq!(other.get(&account, Some(&token)).await.status, Status::Ok);

        assert_eq!(
            app.delete("/v1/me", Some(&token)).await.status,
            Status::NoContent
        );

        let id = account.rsplit('/').next().unwrap().to_owned();
        let requests = [
            (Method::Get, "/v1/me".to_owned(), None),
            (Method::Get, "/v1/accounts".to_owned(), None),
            (Method::Get, account.clone(), None),
            (Method::Patch, account.clone(), Some(json!({"name": "B"}))),
            (Method::Delete, account.clone(), None),
            (Method::Get, format!("{account}/movements"), None),
            (
                Method::Post,
                format!("{account}/movements"),
                Some(json!({"amount": 1, "description": "x"})),
            ),
            (
                Method::Post,
                "/v1/accounts".to_owned(),
                Some(json!({"name": "C", "kind": "cash", "currency": "EUR"})),
            ),
            (
                Method::Post,
                "/v1/transfers".to_owned(),
                Some(
                    json!({"from_account_id": id, "to_account_id": uuid::Uuid::now_v7(), "amount": 1}),
                ),
            ),
            (Method::Get, "/v1/overview".to_owned(), None),
            (Method::Delete, "/v1/me".to_owned(), None),
        ];
        for instance in [app, &other] {
            for (method, path, body) in &requests {
                let mut req = Req::new(*method, path).token(Some(&token));
                if let Some(body) = body {
                    req = req.json(body.clone());
                }
                let reply = instance.call(req).await;
                reply.problem(Status::Unauthorized);
            }
        }
    }
);
