use rocket::http::Status;
use serde_json::json;

use crate::accounts::create_account;
use crate::api_test;

api_test!(the_overview_totals_per_currency_and_category, |app| {
    let token = app.sign_in("ana@example.com").await;
    let mut ids = Vec::new();
    for (currency, opening) in [("EUR", 100_000), ("EUR", 0), ("USD", 5_000)] {
        let a = create_account(app, &token, json!({"name": "x", "kind": "checking", "currency": currency, "opening_balance": opening})).await;
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    let post = |account: usize, amount: i64, category: Option<&str>, day: u32| {
        let mut body = json!({"amount": amount, "description": "m", "occurred_at": format!("2026-11-{day:02}T12:00:00Z")});
        if let Some(c) = category {
            body["category"] = json!(c);
        }
        let path = format!("/v1/accounts/{}/movements", ids[account]);
        let token = token.clone();
        async move {
            assert_eq!(
                app.post(&path, body, Some(&token)).await.status,
                Status::Created
            )
        }
    };
    post(0, 250_000, Some("salary"), 1).await;
    post(0, -4_250, Some("food"), 2).await;
    post(1, -1_000, Some("food"), 3).await;
    post(1, 700, None, 4).await;
    post(1, -300, None, 5).await;
    post(2, -2_000, Some("travel"), 6).await;
    post(0, -999, Some("food"), 20).await;
    let t = app.post("/v1/transfers", json!({"from_account_id": ids[0], "to_account_id": ids[1], "amount": 10_000, "occurred_at": "2026-11-07T00:00:00Z"}), Some(&token)).await;
    assert_eq!(t.status, Status::Created);

    let all = app.get("/v1/overview", Some(&token)).await;
    assert_eq!(all.status, Status::Ok, "{all:?}");
    assert_eq!(
        all.body["currencies"],
        json!([
            {"currency": "EUR", "balance": 100_000 + 250_000 - 4_250 - 1_000 + 700 - 300 - 999, "income": 250_700, "expense": 6_549, "accounts": 2},
            {"currency": "USD", "balance": 3_000, "income": 0, "expense": 2_000, "accounts": 1},
        ]),
        "opening balances and transfers are left out of income and expense"
    );
    assert_eq!(
        all.body["categories"],
        json!([
            {"currency": "EUR", "category": null, "income": 700, "expense": 300},
            {"currency": "EUR", "category": "food", "income": 0, "expense": 6_249},
            {"currency": "EUR", "category": "salary", "income": 250_000, "expense": 0},
            {"currency": "USD", "category": "travel", "income": 0, "expense": 2_000},
        ])
    );

    let period = app
        .get(
            "/v1/overview?from=2026-11-02T12:00:00Z&to=2026-11-06T12:00:00Z",
            Some(&token),
        )
        .await;
    assert_eq!(period.body["currencies"][0]["income"], 700);
    assert_eq!(
        period.body["currencies"][0]["expense"],
        4_250 + 1_000 + 300,
        "from inclusive, to exclusive"
    );
    assert_eq!(
        period.body["currencies"][0]["balance"], all.body["currencies"][0]["balance"],
        "balance is current"
    );
    assert_eq!(period.body["currencies"][1]["expense"], 0);

    let bob = app.sign_in("bob@example.com").await;
    assert_eq!(
        app.get("/v1/overview", Some(&bob)).await.body,
        json!({"currencies": [], "categories": []})
    );
    app.get("/v1/overview?from=soon", Some(&token))
        .await
        .problem(Status::BadRequest);
});
