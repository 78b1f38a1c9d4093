use rocket::http::Status;
use serde_json::json;

use crate::api_test;
use crate::helpers::TestApp;

async fn exchange(app: &TestApp, email: &str, code: &str) -> crate::helpers::Reply {
    app.post(
        "/v1/auth/token",
        json!({ "email": email, "code": code }),
        None,
    )
    .await
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

api_test!(
    sign_in_over_real_smtp_creates_the_user_and_the_token_works,
    |app| {
        let code = app.request_code("ana@example.com").await;
        let mail = app.mails_to("ana@example.com").pop().unwrap();
        assert_eq!(mail.header("Subject"), Some("Your Tally sign-in code"));
        assert!(mail
            .header("Content-Type")
            .unwrap()
            .starts_with("text/plain"));
        assert_eq!(mail.code().as_deref(), Some(code.as_str()));

        let reply = exchange(app, "ana@example.com", &code).await;
        assert_eq!(reply.status, Status::Ok, "{reply:?}");
        assert_eq!(reply.body["token_type"], "Bearer");
        assert_eq!(reply.body["expires_in"], 3600);
        let token = reply.body["access_token"].as_str().unwrap();
        assert!(token.starts_with("v4.public."));

        let me = app.get("/v1/me", Some(token)).await;
        assert_eq!(me.status, Status::Ok, "{me:?}");
        assert_eq!(me.body["email"], "ana@example.com");
    }
);

api_test!(
    the_otp_answer_is_the_same_for_known_and_unknown_addresses,
    |app| {
        app.sign_in("known@example.com").await;
        let known = app
            .post("/v1/auth/otp", json!({"email": "known@example.com"}), None)
            .await;
        let unknown = app
            .post("/v1/auth/otp", json!({"email": "nobody@example.com"}), None)
            .await;
        assert_eq!(known.status, Status::Accepted);
        assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
        assert_eq!(known.body, json!({"expires_in": 600}));
    }
);

api_test!(a_second_sign_in_returns_the_same_user, |app| {
    let first = app.sign_in("ana@example.com").await;
    let second = app.sign_in("ana@example.com").await;
    let a = app.get("/v1/me", Some(&first)).await;
    let b = app.get("/v1/me", Some(&second)).await;
    assert_eq!(a.body["id"], b.body["id"]);
});

api_test!(addresses_compare_case_insensitively, |app| {
    let code = app.request_code("Ana@Example.COM").await;
    let reply = exchange(app, "ana@example.com", &code).await;
    assert_eq!(reply.status, Status::Ok, "{reply:?}");
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let again = app.sign_in("ANA@example.com").await;
    let a = app.get("/v1/me", Some(&token)).await;
    let b = app.get("/v1/me", Some(&again)).await;
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(a.body["email"], "ana@example.com");
});

api_test!(codes_are_stored_hashed_never_in_clear, |app| {
    let code = app.request_code("ana@example.com").await;
    let hashes: Vec<Vec<u8>> = crate::with_pool!(app.pool(), |p| {
        sqlx::query_scalar("SELECT code_hash FROM otp_codes")
            .fetch_all(p)
            .await
            .unwrap()
    });
    assert_eq!(hashes.len(), 1);
    assert_eq!(hashes[0].len(), 32, "an HMAC-SHA256");
    let hex_hash = hex::encode(&hashes[0]);
    assert!(!hex_hash.contains(&code) && !hashes[0].windows(6).any(|w| w == code.as_bytes()));
});

api_test!(a_code_works_only_once, |app| {
    let code = app.request_code("ana@example.com").await;
    assert_eq!(
        exchange(app, "ana@example.com", &code).await.status,
        Status::Ok
    );
    exchange(app, "ana@example.com", &code)
        .await
        .problem(Status::Unauthorized);
});

api_test!(an_expired_code_is_refused, |app| {
    let code = app.request_code("ana@example.com").await;
    let past = chrono::Utc::now() - chrono::TimeDelta::minutes(11);
    crate::with_pool!(app.pool(), |p| {
        sqlx::query("UPDATE otp_codes SET expires_at = $1")
            .bind(past)
            .execute(p)
            .await
            .unwrap();
    });
    let reply = exchange(app, "ana@example.com", &code).await;
    reply.problem(Status::Unauthorized);
    // HTTP requires a challenge on every 401; a code is not a bad token, so no error= on it.
    assert_eq!(reply.header("WWW-Authenticate"), Some("Bearer"));
});

api_test!(five_wrong_tries_burn_the_code, |app| {
    let code = app.request_code("ana@example.com").await;
    for _ in 0..5 {
        exchange(app, "ana@example.com", &wrong(&code))
            .await
            .problem(Status::Unauthorized);
    }
    exchange(app, "ana@example.com", &code)
        .await
        .problem(Status::Unauthorized);
});

api_test!(four_wrong_tries_still_leave_the_right_code_usable, |app| {
    let code = app.request_code("ana@example.com").await;
    for _ in 0..4 {
        exchange(app, "ana@example.com", &wrong(&code))
            .await
            .problem(Status::Unauthorized);
    }
    assert_eq!(
        exchange(app, "ana@example.com", &code).await.status,
        Status::Ok
    );
});

api_test!(a_code_that_is_not_six_digits_is_422_and_not_a_try, |app| {
    let code = app.request_code("ana@example.com").await;
    for bad in ["12345", "1234567", "12a456", "", " 123456"] {
        let reply = exchange(app, "ana@example.com", bad).await;
        assert_eq!(
            reply.field_errors(),
            vec![("code".into(), "pattern".into())],
            "{bad:?}"
        );
    }
    assert_eq!(
        exchange(app, "ana@example.com", &code).await.status,
        Status::Ok
    );
});

api_test!(a_new_code_makes_older_ones_useless, |app| {
    let old = app.request_code("ana@example.com").await;
    let new = app.request_code("ana@example.com").await;
    if old != new {
        exchange(app, "ana@example.com", &old)
            .await
            .problem(Status::Unauthorized);
    }
    assert_eq!(
        exchange(app, "ana@example.com", &new).await.status,
        Status::Ok
    );
});

api_test!(a_sixth_code_within_an_hour_is_429_with_retry_after, |app| {
    for _ in 0..5 {
        app.request_code("ana@example.com").await;
    }
    let reply = app
        .post("/v1/auth/otp", json!({"email": "ANA@example.com"}), None)
        .await;
    reply.problem(Status::TooManyRequests);
    let retry: u64 = reply.header("Retry-After").unwrap().parse().unwrap();
    assert!((3590..=3601).contains(&retry), "about an hour: {retry}");
    assert_eq!(
        app.mails_to("ana@example.com").len(),
        5,
        "no sixth mail went out"
    );
    // Other addresses are not affected.
    app.request_code("bob@example.com").await;
});

api_test!(an_address_without_a_code_cannot_sign_in, |app| {
    exchange(app, "ana@example.com", "123456")
        .await
        .problem(Status::Unauthorized);
});

api_test!(sign_in_bodies_are_validated_all_at_once, |app| {
    let reply = app
        .post(
            "/v1/auth/token",
            json!({"email": "not-an-address", "code": "12", "remember": true}),
            None,
        )
        .await;
    assert_eq!(
        reply.field_errors(),
        vec![
            ("code".into(), "pattern".into()),
            ("email".into(), "email".into()),
            ("remember".into(), "unknown_field".into()),
        ]
    );
    let missing = app.post("/v1/auth/otp", json!({}), None).await;
    assert_eq!(
        missing.field_errors(),
        vec![("email".into(), "required".into())]
    );
});

api_test!(
    when_the_smtp_server_refuses_the_mail_the_answer_is_500_and_the_code_does_not_count,
    |app| {
        app.refuse_mail();
        let reply = app
            .post("/v1/auth/otp", json!({"email": "ana@example.com"}), None)
            .await;
        reply.problem(Status::InternalServerError);
        let codes: i64 = crate::with_pool!(app.pool(), |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM otp_codes")
                .fetch_one(p)
                .await
                .unwrap()
        });
        assert_eq!(codes, 0);
    }
);
