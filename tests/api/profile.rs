use rocket::http::Status;

use crate::api_test;

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
