use rocket::http::{Method, Status};
use serde_json::json;

use crate::api_test;
use crate::helpers::{Req, TestApp};

pub async fn create_account(
    app: &TestApp,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let reply = app.post("/v1/accounts", body, Some(token)).await;
    assert_eq!(reply.status, Status::Created, "{reply:?}");
    reply.body
}

api_test!(
    creating_an_account_answers_201_with_location_and_etag,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let reply = app
            .post(
                "/v1/accounts",
                json!({"name": "Everyday", "kind": "checking", "currency": "EUR"}),
                Some(&token),
            )
            .await;
        assert_eq!(reply.status, Status::Created, "{reply:?}");
        let id = reply.body["id"].as_str().unwrap();
        assert_eq!(
            reply.header("Location"),
            Some(format!("/v1/accounts/{id}").as_str())
        );
        let etag = reply.header("ETag").unwrap().to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "a strong ETag: {etag}"
        );
        assert_eq!(reply.body["balance"], 0);
        assert_eq!(reply.body["kind"], "checking");
        assert_eq!(reply.body["currency"], "EUR");
        assert_eq!(reply.body["created_at"], reply.body["updated_at"]);

        let view = app.get(&format!("/v1/accounts/{id}"), Some(&token)).await;
        assert_eq!(view.status, Status::Ok);
        assert_eq!(view.header("ETag"), Some(etag.as_str()));
        assert_eq!(view.body, reply.body);
    }
);

api_test!(a_non_zero_opening_balance_is_the_first_movement, |app| {
    let token = app.sign_in("ana@example.com").await;
    for opening in [125_000, -5_000] {
        let account = create_account(
            app,
            &token,
            json!({"name": "A", "kind": "savings", "currency": "USD", "opening_balance": opening}),
        )
        .await;
        assert_eq!(account["balance"], opening);
        let id = account["id"].as_str().unwrap();
        let list = app
            .get(&format!("/v1/accounts/{id}/movements"), Some(&token))
            .await;
        let items = list.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["amount"], opening);
        assert_eq!(items[0]["category"], "opening_balance");
    }
    let zero = create_account(
        app,
        &token,
        json!({"name": "Z", "kind": "cash", "currency": "EUR", "opening_balance": 0}),
    )
    .await;
    let list = app
        .get(
            &format!("/v1/accounts/{}/movements", zero["id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
    assert_eq!(
        list.body["items"],
        json!([]),
        "a zero opening balance records nothing"
    );
});

api_test!(account_bodies_are_validated_all_at_once, |app| {
    let token = app.sign_in("ana@example.com").await;
    let cases = [
        (
            json!({"name": "", "kind": "piggy", "currency": "XYZ"}),
            vec![
                ("currency", "currency"),
                ("kind", "enum"),
                ("name", "length"),
            ],
            "three rules",
        ),
        (
            json!({"name": "x".repeat(101), "kind": "cash", "currency": "eur"}),
            vec![("currency", "currency"), ("name", "length")],
            "long name, lower case",
        ),
        (
            json!({"kind": "cash"}),
            vec![("currency", "required"), ("name", "required")],
            "missing",
        ),
        (
            json!({"name": "A", "kind": "cash", "currency": "EUR", "opening_balance": "12"}),
            vec![("opening_balance", "type")],
            "money as a string",
        ),
        (
            json!({"name": "A", "kind": "cash", "currency": "EUR", "opening_balance": 1.5}),
            vec![("opening_balance", "type")],
            "money as a float",
        ),
        (
            json!({"name": "A", "kind": "cash", "currency": "EUR", "opening_balance": true}),
            vec![("opening_balance", "type")],
            "money as a bool",
        ),
        (
            json!({"name": "A", "kind": "cash", "currency": "EUR", "opening_balance": 1_000_000_000_000_001_i64}),
            vec![("opening_balance", "range")],
            "over 10^15",
        ),
        (
            json!({"name": "A", "kind": "cash", "currency": "EUR", "balance": 5}),
            vec![("balance", "unknown_field")],
            "read-only field",
        ),
    ];
    for (body, expected, why) in cases {
        let reply = app.post("/v1/accounts", body, Some(&token)).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.into(), c.into()))
            .collect();
        assert_eq!(reply.field_errors(), expected, "{why}");
    }
    let list = app.get("/v1/accounts", Some(&token)).await;
    assert_eq!(list.body["items"], json!([]), "nothing was written");
});

api_test!(patch_changes_name_and_kind_and_the_etag, |app| {
    let token = app.sign_in("ana@example.com").await;
    let account = create_account(
        app,
        &token,
        json!({"name": "A", "kind": "cash", "currency": "EUR"}),
    )
    .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
    let before = app.get(&path, Some(&token)).await;
    let etag = before.header("ETag").unwrap().to_owned();

    let reply = app
        .call(
            Req::new(Method::Patch, &path)
                .token(Some(&token))
                .json(json!({"name": "B", "kind": "savings"})),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{reply:?}");
    assert_eq!(
        (reply.body["name"].as_str(), reply.body["kind"].as_str()),
        (Some("B"), Some("savings"))
    );
    assert_eq!(reply.body["currency"], "EUR");
    assert_ne!(reply.header("ETag"), Some(etag.as_str()));
    assert_ne!(reply.body["updated_at"], before.body["updated_at"]);

    let unchanged = app
        .call(
            Req::new(Method::Patch, &path)
                .token(Some(&token))
                .json(json!({"name": "B"})),
        )
        .await;
    assert_eq!(
        unchanged.header("ETag"),
        reply.header("ETag"),
        "no change, same ETag"
    );
});

api_test!(patch_refuses_empty_bodies_currency_and_nulls, |app| {
    let token = app.sign_in("ana@example.com").await;
    let account = create_account(
        app,
        &token,
        json!({"name": "A", "kind": "cash", "currency": "EUR"}),
    )
    .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
    for (body, expected) in [
        (json!({}), vec![("body", "empty")]),
        (
            json!({"currency": "USD"}),
            vec![("currency", "unknown_field")],
        ),
        (json!({"name": ""}), vec![("name", "length")]),
    ] {
        let reply = app
            .call(
                Req::new(Method::Patch, &path)
                    .token(Some(&token))
                    .json(body.clone()),
            )
            .await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.into(), c.into()))
            .collect();
        assert_eq!(reply.field_errors(), expected, "{body}");
    }
});

api_test!(if_match_guards_against_lost_updates, |app| {
    let token = app.sign_in("ana@example.com").await;
    let account = create_account(
        app,
        &token,
        json!({"name": "A", "kind": "cash", "currency": "EUR"}),
    )
    .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
    let etag = app
        .get(&path, Some(&token))
        .await
        .header("ETag")
        .unwrap()
        .to_owned();

    let first = app
        .call(
            Req::new(Method::Patch, &path)
                .token(Some(&token))
                .header("If-Match", &etag)
                .json(json!({"name": "B"})),
        )
        .await;
    assert_eq!(first.status, Status::Ok);
    let stale = app
        .call(
            Req::new(Method::Patch, &path)
                .token(Some(&token))
                .header("If-Match", &etag)
                .json(json!({"name": "C"})),
        )
        .await;
    stale.problem(Status::PreconditionFailed);
    assert_eq!(
        app.get(&path, Some(&token)).await.body["name"],
        "B",
        "the stale write changed nothing"
    );

    let star = app
        .call(
            Req::new(Method::Patch, &path)
                .token(Some(&token))
                .header("If-Match", "*")
                .json(json!({"name": "D"})),
        )
        .await;
    assert_eq!(star.status, Status::Ok);
});

api_test!(
    the_etag_and_updated_at_change_when_the_balance_does,
    |app| {
        let token = app.sign_in("ana@example.com").await;
        let account = create_account(
            app,
            &token,
            json!({"name": "A", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
        let before = app.get(&path, Some(&token)).await;
        let posted = app
            .post(
                &format!("{path}/movements"),
                json!({"amount": 10, "description": "x"}),
                Some(&token),
            )
            .await;
        assert_eq!(posted.status, Status::Created);
        let after = app.get(&path, Some(&token)).await;
        assert_ne!(after.header("ETag"), before.header("ETag"));
        assert_ne!(after.body["updated_at"], before.body["updated_at"]);
        assert_eq!(after.body["balance"], 10);
    }
);

api_test!(
    another_users_account_is_indistinguishable_from_a_missing_one,
    |app| {
        let ana = app.sign_in("ana@example.com").await;
        let bob = app.sign_in("bob@example.com").await;
        let account = create_account(
            app,
            &ana,
            json!({"name": "A", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let id = account["id"].as_str().unwrap();
        let path = format!("/v1/accounts/{id}");
        let missing = format!("/v1/accounts/{}", uuid::Uuid::now_v7());
        for p in [&path, &missing] {
            let view = app.get(p, Some(&bob)).await;
            view.problem(Status::NotFound);
            app.delete(p, Some(&bob)).await.problem(Status::NotFound);
            app.call(
                Req::new(Method::Patch, p)
                    .token(Some(&bob))
                    .json(json!({"name": "x"})),
            )
            .await
            .problem(Status::NotFound);
            app.get(&format!("{p}/movements"), Some(&bob))
                .await
                .problem(Status::NotFound);
            app.post(
                &format!("{p}/movements"),
                json!({"amount": 1, "description": "x"}),
                Some(&bob),
            )
            .await
            .problem(Status::NotFound);
        }
        assert_eq!(
            app.get("/v1/accounts", Some(&bob)).await.body["items"],
            json!([])
        );
        assert_eq!(
            app.get(&path, Some(&ana)).await.body["balance"],
            0,
            "untouched"
        );
    }
);

api_test!(a_path_id_that_is_not_a_uuid_is_400, |app| {
    let token = app.sign_in("ana@example.com").await;
    app.get("/v1/accounts/not-a-uuid", Some(&token))
        .await
        .problem(Status::BadRequest);
    app.get("/v1/accounts/123/movements", Some(&token))
        .await
        .problem(Status::BadRequest);
});

api_test!(deleting_an_account_deletes_its_movements, |app| {
    let token = app.sign_in("ana@example.com").await;
    let account = create_account(
        app,
        &token,
        json!({"name": "A", "kind": "cash", "currency": "EUR", "opening_balance": 100}),
    )
    .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&path, Some(&token)).await.status,
        Status::NoContent
    );
    app.get(&path, Some(&token)).await.problem(Status::NotFound);
    app.delete(&path, Some(&token))
        .await
        .problem(Status::NotFound);
    let movements: i64 = crate::with_pool!(app.pool(), |p| {
        sqlx::query_scalar("SELECT COUNT(*) FROM movements")
            .fetch_one(p)
            .await
            .unwrap()
    });
    assert_eq!(movements, 0);
});

api_test!(accounts_page_newest_first_with_link_headers, |app| {
    let token = app.sign_in("ana@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let a = create_account(
            app,
            &token,
            json!({"name": format!("A{i}"), "kind": "cash", "currency": "EUR"}),
        )
        .await;
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut next = Some("/v1/accounts?limit=2".to_owned());
    while let Some(path) = next {
        let page = app.get(&path, Some(&token)).await;
        assert_eq!(page.status, Status::Ok, "{page:?}");
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        next = page.header("Link").map(|link| {
            assert!(link.ends_with(r#">; rel="next""#), "{link}");
            assert!(page.body["next_cursor"].is_string());
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        if next.is_none() {
            assert_eq!(page.body["next_cursor"], serde_json::Value::Null);
        }
    }
    assert_eq!(seen, ids);
    let me = app.get("/v1/me", Some(&token)).await;
    let mine: Vec<&str> = me.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        mine,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "/v1/me lists the accounts too"
    );
});

api_test!(bad_limits_and_cursors_are_refused, |app| {
    let token = app.sign_in("ana@example.com").await;
    for (query, status) in [
        ("limit=0", Status::UnprocessableEntity),
        ("limit=201", Status::UnprocessableEntity),
        ("limit=ten", Status::BadRequest),
        ("cursor=made-up", Status::BadRequest),
        ("cursor=", Status::BadRequest),
    ] {
        let reply = app
            .get(&format!("/v1/accounts?{query}"), Some(&token))
            .await;
        reply.problem(status);
    }
    let reply = app.get("/v1/accounts?limit=0", Some(&token)).await;
    assert_eq!(
        reply.field_errors(),
        vec![("limit".to_owned(), "range".to_owned())]
    );
});
