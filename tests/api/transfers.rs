use rocket::http::{Method, Status};
use serde_json::json;

use crate::accounts::create_account;
use crate::api_test;
use crate::helpers::{Req, TestApp};
use crate::movements::balance_and_sum;

/// ana with two EUR accounts and one USD account: `(token, eur1, eur2, usd)` ids.
async fn setup(app: &TestApp) -> (String, String, String, String) {
    let token = app.sign_in("ana@example.com").await;
    let mut ids = Vec::new();
    for (currency, opening) in [("EUR", 10_000), ("EUR", 0), ("USD", 500)] {
        let a = create_account(app, &token, json!({"name": currency, "kind": "checking", "currency": currency, "opening_balance": opening})).await;
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    (token, ids[0].clone(), ids[1].clone(), ids[2].clone())
}

api_test!(a_transfer_writes_both_legs_and_moves_both_balances, |app| {
    let (token, eur1, eur2, _) = setup(app).await;
    let reply = app
        .post(
            "/v1/transfers",
            json!({"from_account_id": eur1, "to_account_id": eur2, "amount": 2500}),
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{reply:?}");
    assert!(
        reply.header("Location").is_none(),
        "there is no transfer resource"
    );
    let (from, to) = (&reply.body["from_movement"], &reply.body["to_movement"]);
    assert_eq!(
        (from["amount"].as_i64(), to["amount"].as_i64()),
        (Some(-2500), Some(2500))
    );
    assert_eq!(from["transfer_id"], reply.body["id"]);
    assert_eq!(to["transfer_id"], reply.body["id"]);
    for leg in [from, to] {
        assert_eq!(leg["description"], "Transfer");
        assert_eq!(leg["category"], "transfer");
    }
    assert_eq!(
        balance_and_sum(app, &token, &format!("/v1/accounts/{eur1}")).await,
        (7500, 7500)
    );
    assert_eq!(
        balance_and_sum(app, &token, &format!("/v1/accounts/{eur2}")).await,
        (2500, 2500)
    );
});

api_test!(deleting_one_leg_of_a_transfer_deletes_both, |app| {
    let (token, eur1, eur2, _) = setup(app).await;
    let reply = app.post("/v1/transfers", json!({"from_account_id": eur1, "to_account_id": eur2, "amount": 300, "description": "Savings"}), Some(&token)).await;
    assert_eq!(reply.body["to_movement"]["description"], "Savings");
    let leg = format!(
        "/v1/accounts/{eur2}/movements/{}",
        reply.body["to_movement"]["id"].as_str().unwrap()
    );
    assert_eq!(
        app.delete(&leg, Some(&token)).await.status,
        Status::NoContent
    );
    let twin = format!(
        "/v1/accounts/{eur1}/movements/{}",
        reply.body["from_movement"]["id"].as_str().unwrap()
    );
    app.get(&twin, Some(&token)).await.problem(Status::NotFound);
    assert_eq!(
        balance_and_sum(app, &token, &format!("/v1/accounts/{eur1}")).await,
        (10_000, 10_000)
    );
    assert_eq!(
        balance_and_sum(app, &token, &format!("/v1/accounts/{eur2}")).await,
        (0, 0)
    );
});

api_test!(
    transfers_need_two_distinct_own_accounts_in_one_currency,
    |app| {
        let (token, eur1, eur2, usd) = setup(app).await;
        let bob = app.sign_in("bob@example.com").await;
        let bobs = create_account(
            app,
            &bob,
            json!({"name": "B", "kind": "cash", "currency": "EUR"}),
        )
        .await;
        let bobs = bobs["id"].as_str().unwrap();
        let missing = uuid::Uuid::now_v7().to_string();

        let same = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": eur1, "to_account_id": eur1, "amount": 1}),
                Some(&token),
            )
            .await;
        assert_eq!(
            same.field_errors(),
            vec![("to_account_id".into(), "distinct".into())]
        );
        let currency = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": eur1, "to_account_id": usd, "amount": 1}),
                Some(&token),
            )
            .await;
        assert_eq!(
            currency.field_errors(),
            vec![("to_account_id".into(), "currency".into())]
        );
        for (from, to) in [
            (&eur1, &bobs.to_owned()),
            (&missing, &eur2),
            (&eur1, &missing),
        ] {
            let reply = app
                .post(
                    "/v1/transfers",
                    json!({"from_account_id": from, "to_account_id": to, "amount": 1}),
                    Some(&token),
                )
                .await;
            reply.problem(Status::NotFound);
        }
        for (amount, code) in [
            (json!(0), "range"),
            (json!(-5), "range"),
            (json!(2.5), "type"),
            (json!(1_000_000_000_000_001_i64), "range"),
        ] {
            let reply = app
                .post(
                    "/v1/transfers",
                    json!({"from_account_id": eur1, "to_account_id": eur2, "amount": amount}),
                    Some(&token),
                )
                .await;
            assert_eq!(
                reply.field_errors(),
                vec![("amount".into(), code.into())],
                "{amount}"
            );
        }
        let bad_ids = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": "x", "to_account_id": 5, "amount": 1}),
                Some(&token),
            )
            .await;
        assert_eq!(
            bad_ids.field_errors(),
            vec![
                ("from_account_id".into(), "format".into()),
                ("to_account_id".into(), "type".into())
            ]
        );

        assert_eq!(
            balance_and_sum(app, &token, &format!("/v1/accounts/{eur1}")).await,
            (10_000, 10_000),
            "nothing moved"
        );
        assert_eq!(
            balance_and_sum(app, &bob, &format!("/v1/accounts/{bobs}")).await,
            (0, 0)
        );
    }
);

api_test!(
    a_transfer_retried_with_its_idempotency_key_moves_money_once,
    |app| {
        let (token, eur1, eur2, _) = setup(app).await;
        let body = json!({"from_account_id": eur1, "to_account_id": eur2, "amount": 100});
        let req = |body: serde_json::Value| {
            Req::new(Method::Post, "/v1/transfers")
                .token(Some(&token))
                .header("Idempotency-Key", "t-1")
                .json(body)
        };
        let first = app.call(req(body.clone())).await;
        let again = app.call(req(body.clone())).await;
        assert_eq!(again.status, Status::Created);
        assert_eq!(again.body, first.body);
        app.call(req(
            json!({"from_account_id": eur1, "to_account_id": eur2, "amount": 101}),
        ))
        .await
        .problem(Status::Conflict);
        assert_eq!(
            balance_and_sum(app, &token, &format!("/v1/accounts/{eur2}")).await,
            (100, 100)
        );
    }
);
