//! Every error, Rocket's own included, is an RFC 9457 problem with the contract's status.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::api_test;
use crate::helpers::Req;

api_test!(an_unknown_route_is_a_404_problem, |app| {
    app.get("/v1/nothing-here", None)
        .await
        .problem(Status::NotFound);
    app.get("/", None).await.problem(Status::NotFound);
});

api_test!(an_unsupported_method_is_a_405_problem_not_html, |app| {
    let reply = app.call(Req::new(Method::Put, "/v1/me")).await;
    reply.problem(Status::MethodNotAllowed);
    assert_eq!(reply.header("Allow"), Some("GET, HEAD, DELETE, OPTIONS"));
});

api_test!(malformed_json_is_400, |app| {
    let reply = app
        .call(
            Req::new(Method::Post, "/v1/auth/otp")
                .raw(r#"{"email": "#)
                .header("Content-Type", "application/json"),
        )
        .await;
    let problem = reply.problem(Status::BadRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{problem}"
    );
    assert!(problem.get("errors").is_none(), "errors is for 422 only");
});

api_test!(a_body_that_is_not_json_is_415, |app| {
    let body = r#"{"email": "ana@example.com"}"#;
    for (content_type, why) in [
        (Some("text/plain"), "wrong type"),
        (Some("application/x-www-form-urlencoded"), "a form"),
        (None, "no Content-Type"),
    ] {
        let mut req = Req::new(Method::Post, "/v1/auth/otp").raw(body);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let reply = app.call(req).await;
        assert_eq!(
            reply.status,
            Status::UnsupportedMediaType,
            "{why}: {reply:?}"
        );
        reply.problem(Status::UnsupportedMediaType);
    }
    let with_charset = app
        .call(
            Req::new(Method::Post, "/v1/auth/otp")
                .raw(body)
                .header("Content-Type", "application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(with_charset.status, Status::Accepted, "{with_charset:?}");
});

api_test!(a_body_over_64_kib_is_413, |app| {
    let big = json!({"email": format!("{}@example.com", "a".repeat(70 * 1024))});
    app.post("/v1/auth/otp", big, None)
        .await
        .problem(Status::PayloadTooLarge);
    let just_under = json!({"email": "x".repeat(60 * 1024)});
    let reply = app.post("/v1/auth/otp", just_under, None).await;
    assert_eq!(
        reply.status,
        Status::UnprocessableEntity,
        "within the limit, so validated"
    );
});

api_test!(an_unknown_field_is_422_naming_it, |app| {
    let reply = app
        .post(
            "/v1/auth/otp",
            json!({"email": "ana@example.com", "emial": "typo"}),
            None,
        )
        .await;
    assert_eq!(
        reply.field_errors(),
        vec![("emial".into(), "unknown_field".into())]
    );
    assert!(
        app.mails_to("ana@example.com").is_empty(),
        "nothing was sent"
    );
});

api_test!(every_invalid_field_is_listed_at_once, |app| {
    let table = [
        (
            json!({"email": 5, "code": 123456}),
            vec![("code", "type"), ("email", "type")],
            "wrong types",
        ),
        (
            json!({"code": "1"}),
            vec![("code", "pattern"), ("email", "required")],
            "missing and bad",
        ),
        (
            json!({"email": "a@b.c", "code": "123456", "x": 1, "y": 2}),
            vec![("x", "unknown_field"), ("y", "unknown_field")],
            "two unknown",
        ),
        (json!([1, 2]), vec![("body", "type")], "not an object"),
    ];
    for (body, expected, why) in table {
        let reply = app.post("/v1/auth/token", body, None).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(reply.field_errors(), expected, "{why}");
        assert_eq!(
            reply.body["detail"],
            format!("{} fields are invalid", expected.len()).replace("1 fields are", "1 field is"),
            "{why}"
        );
    }
});

api_test!(
    every_response_carries_a_request_id_and_a_sane_one_is_kept,
    |app| {
        let kept = app
            .call(Req::new(Method::Get, "/health").header("X-Request-Id", "trace-42.a_b:c"))
            .await;
        assert_eq!(kept.header("X-Request-Id"), Some("trace-42.a_b:c"));

        let replaced = app
            .call(Req::new(Method::Get, "/nowhere").header("X-Request-Id", "bad id with spaces"))
            .await;
        let id = replaced.header("X-Request-Id").unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        assert_eq!(replaced.problem(Status::NotFound)["request_id"], id);

        let generated = app.get("/health", None).await;
        assert!(generated.header("X-Request-Id").is_some());
    }
);

api_test!(a_500_reveals_nothing_and_logs_under_its_request_id, |app| {
    crate::with_pool!(app.pool(), |p| {
        sqlx::query("DROP TABLE otp_codes")
            .execute(p)
            .await
            .unwrap();
    });
    let reply = app
        .post("/v1/auth/otp", json!({"email": "ana@example.com"}), None)
        .await;
    let problem = reply.problem(Status::InternalServerError);
    let text = problem.to_string().to_lowercase();
    for leak in [
        "otp_codes",
        "sqlx",
        "sqlite",
        "postgres",
        "relation",
        "table",
        ".rs",
        "/",
    ] {
        assert!(
            !text.replace("about:blank", "").contains(leak),
            "{leak} leaked: {text}"
        );
    }
});

api_test!(
    a_missing_or_bad_token_is_401_with_a_bearer_challenge,
    |app| {
        let missing = app.get("/v1/me", None).await;
        missing.problem(Status::Unauthorized);
        assert_eq!(missing.header("WWW-Authenticate"), Some("Bearer"));

        for (header, why) in [
            ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "another scheme"),
            ("Bearer", "no token"),
            ("Bearer not-a-paseto", "garbage"),
            ("Bearer v4.local.AAAA", "a local token"),
        ] {
            let reply = app
                .call(Req::new(Method::Get, "/v1/me").header("Authorization", header))
                .await;
            reply.problem(Status::Unauthorized);
            assert!(
                reply
                    .header("WWW-Authenticate")
                    .unwrap()
                    .starts_with("Bearer"),
                "{why}"
            );
        }
    }
);

api_test!(a_tampered_token_is_401, |app| {
    let token = app.sign_in("ana@example.com").await;
    let (head, payload) = token.split_at(token.len() - 10);
    let flipped: String = payload
        .chars()
        .map(|c| if c == 'A' { 'B' } else { 'A' })
        .collect();
    let reply = app.get("/v1/me", Some(&format!("{head}{flipped}"))).await;
    reply.problem(Status::Unauthorized);
    assert_eq!(
        reply.header("WWW-Authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
});

api_test!(an_expired_token_or_one_from_another_key_is_401, |app| {
    use pasetors::claims::Claims;
    use pasetors::keys::AsymmetricSecretKey;
    use pasetors::version4::V4;

    let token = app.sign_in("ana@example.com").await;
    let me = app.get("/v1/me", Some(&token)).await;
    let user = me.body["id"].as_str().unwrap();

    let sign = |seed: [u8; 32], expired: bool| {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
        let sk = AsymmetricSecretKey::<V4>::from(pair.sk.as_ref()).unwrap();
        let mut claims = Claims::new().unwrap();
        claims.issuer("tally").unwrap();
        claims.subject(user).unwrap();
        if expired {
            claims.issued_at("2026-01-01T00:00:00+00:00").unwrap();
            claims.not_before("2026-01-01T00:00:00+00:00").unwrap();
            claims.expiration("2026-01-01T01:00:00+00:00").unwrap();
        }
        pasetors::public::sign(&sk, &claims, None, None).unwrap()
    };
    let fresh_own = sign(app.token_key, false);
    assert_eq!(
        app.get("/v1/me", Some(&fresh_own)).await.status,
        Status::Ok,
        "the harness signs like the app"
    );

    let expired = sign(app.token_key, true);
    app.get("/v1/me", Some(&expired))
        .await
        .problem(Status::Unauthorized);
    let foreign = sign([7; 32], false);
    app.get("/v1/me", Some(&foreign))
        .await
        .problem(Status::Unauthorized);
});
