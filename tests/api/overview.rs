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

/// Income and expense per (currency, category) over `[from, to)`, recomputed
/// from every movement in the database, without the daily totals.
async fn recompute(
    app: &crate::helpers::TestApp,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> std::collections::BTreeMap<(String, Option<String>), (i128, i128)> {
    type Row = (
        String,
        Option<String>,
        i64,
        chrono::DateTime<chrono::Utc>,
        Option<uuid::Uuid>,
    );
    let rows: Vec<Row> = crate::with_pool!(app.pool(), |p| {
        sqlx::query_as(
            "SELECT a.currency, m.category, m.amount, m.occurred_at, m.transfer_id
             FROM movements m JOIN accounts a ON a.id = m.account_id",
        )
        .fetch_all(p)
        .await
        .unwrap()
    });
    let mut sums = std::collections::BTreeMap::new();
    for (currency, category, amount, at, transfer) in rows {
        let inside = from.is_none_or(|f| f <= at) && to.is_none_or(|t| at < t);
        if !inside || transfer.is_some() || category.as_deref() == Some("opening_balance") {
            continue;
        }
        let sum: &mut (i128, i128) = sums.entry((currency, category)).or_default();
        if amount > 0 {
            sum.0 += i128::from(amount);
        } else {
            sum.1 -= i128::from(amount);
        }
    }
    sums
}

api_test!(
    the_overview_equals_a_full_recomputation_after_random_posts_deletes_and_transfers,
    |app| {
        use chrono::TimeZone;
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let token = app.sign_in("ana@example.com").await;
        let new_account = async |currency: &str| {
            let a = create_account(app, &token, json!({"name": "x", "kind": "cash", "currency": currency, "opening_balance": 1_000})).await;
            a["id"].as_str().unwrap().to_owned()
        };
        let mut accounts = vec![
            (new_account("EUR").await, "EUR"),
            (new_account("EUR").await, "EUR"),
            (new_account("USD").await, "USD"),
        ];
        let mut movements: Vec<String> = Vec::new();
        let day0 = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        for _ in 0..160 {
            let roll: u32 = rng.gen_range(0..100);
            if roll < 60 || movements.is_empty() {
                let (account, _) = &accounts[rng.gen_range(0..accounts.len())];
                let amount = rng.gen_range(1..50_000) * if rng.gen_bool(0.7) { -1 } else { 1 };
                let at = day0 + chrono::TimeDelta::minutes(rng.gen_range(0..10 * 24 * 60));
                let mut body =
                    json!({"amount": amount, "description": "r", "occurred_at": at.to_rfc3339()});
                let category = ["food", "rent", "fun", ""][rng.gen_range(0..4)];
                if !category.is_empty() {
                    body["category"] = json!(category);
                }
                let r = app
                    .post(
                        &format!("/v1/accounts/{account}/movements"),
                        body,
                        Some(&token),
                    )
                    .await;
                assert_eq!(r.status, Status::Created, "{r:?}");
                movements.push(r.header("Location").unwrap().to_owned());
            } else if roll < 78 {
                let path = movements.swap_remove(rng.gen_range(0..movements.len()));
                let r = app.delete(&path, Some(&token)).await;
                assert!(matches!(r.status.code, 204 | 404), "{r:?}");
            } else if roll < 96 {
                let euros: Vec<&String> = accounts
                    .iter()
                    .filter(|(_, c)| *c == "EUR")
                    .map(|(a, _)| a)
                    .collect();
                let [a, b, ..] = euros[..] else { continue };
                let (from, to) = if rng.gen_bool(0.5) { (a, b) } else { (b, a) };
                let r = app.post("/v1/transfers", json!({"from_account_id": from, "to_account_id": to, "amount": rng.gen_range(1..5_000)}), Some(&token)).await;
                assert_eq!(r.status, Status::Created, "{r:?}");
                movements.push(format!(
                    "/v1/accounts/{from}/movements/{}",
                    r.body["from_movement"]["id"].as_str().unwrap()
                ));
            } else {
                // An account goes, with its movements and the other legs of its transfers.
                let (gone, _) = accounts.remove(rng.gen_range(0..accounts.len()));
                assert_eq!(
                    app.delete(&format!("/v1/accounts/{gone}"), Some(&token))
                        .await
                        .status,
                    Status::NoContent
                );
                let currency = if rng.gen_bool(0.5) { "EUR" } else { "USD" };
                accounts.push((new_account(currency).await, currency));
            }
        }
        let at = |days: i64, minutes: i64| {
            Some(day0 + chrono::TimeDelta::days(days) + chrono::TimeDelta::minutes(minutes))
        };
        let periods = [
            (None, None),
            (at(2, 0), at(7, 0)),
            (at(1, 330), at(8, 1065)),
            (at(4, 60), at(4, 1380)),
            (at(3, 720), at(4, 720)),
            (at(5, 17), None),
            (None, at(6, 1)),
            (at(-30, 0), at(40, 0)),
        ];
        for (from, to) in periods {
            let mut query = Vec::new();
            if let Some(f) = from {
                query.push(format!("from={}", f.format("%Y-%m-%dT%H:%M:%SZ")));
            }
            if let Some(t) = to {
                query.push(format!("to={}", t.format("%Y-%m-%dT%H:%M:%SZ")));
            }
            let reply = app
                .get(&format!("/v1/overview?{}", query.join("&")), Some(&token))
                .await;
            assert_eq!(reply.status, Status::Ok, "{reply:?}");
            let served: std::collections::BTreeMap<(String, Option<String>), (i128, i128)> = reply
                .body["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        (
                            c["currency"].as_str().unwrap().to_owned(),
                            c["category"].as_str().map(str::to_owned),
                        ),
                        (
                            i128::from(c["income"].as_i64().unwrap()),
                            i128::from(c["expense"].as_i64().unwrap()),
                        ),
                    )
                })
                .collect();
            assert_eq!(
                served,
                recompute(app, from, to).await,
                "period {from:?}..{to:?}"
            );
        }
    }
);

// ANCHOR: summary_test
api_test!(
    an_account_summary_gives_income_and_expense_month_by_month,
    |app| {
        use chrono::{Datelike, Months};
        let token = app.sign_in("ana@example.com").await;
        let a = create_account(
            app,
            &token,
            json!({"name": "A", "kind": "checking", "currency": "EUR", "opening_balance": 9_999}),
        )
        .await;
        let b = create_account(
            app,
            &token,
            json!({"name": "B", "kind": "savings", "currency": "EUR"}),
        )
        .await;
        let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
        let this_month = chrono::Utc::now().date_naive().with_day(1).unwrap();
        let last_month = this_month.checked_sub_months(Months::new(1)).unwrap();
        let long_ago = this_month.checked_sub_months(Months::new(14)).unwrap();
        for (day, amount) in [
            (this_month, 250_000),
            (this_month, -4_250),
            (last_month, -1_000),
            (long_ago, 7),
        ] {
            let at = format!("{day}T12:00:00Z");
            let reply = app
                .post(
                    &format!("/v1/accounts/{a}/movements"),
                    json!({"amount": amount, "description": "m", "occurred_at": at}),
                    Some(&token),
                )
                .await;
            assert_eq!(reply.status, Status::Created, "{reply:?}");
        }
        let moved = app
            .post(
                "/v1/transfers",
                json!({"from_account_id": a, "to_account_id": b, "amount": 500}),
                Some(&token),
            )
            .await;
        assert_eq!(moved.status, Status::Created);

        let reply = app
            .get(&format!("/v1/accounts/{a}/summary?months=3"), Some(&token))
            .await;
        assert_eq!(reply.status, Status::Ok, "{reply:?}");
        assert_eq!(reply.body["account_id"], a);
        assert_eq!(reply.body["currency"], "EUR");
        let months = reply.body["months"].as_array().unwrap();
        let month = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
        let two_ago = last_month.checked_sub_months(Months::new(1)).unwrap();
        assert_eq!(
            months.clone(),
            vec![
                json!({"month": month(this_month), "income": 250_000, "expense": 4_250, "net": 245_750}),
                json!({"month": month(last_month), "income": 0, "expense": 1_000, "net": -1_000}),
                json!({"month": month(two_ago), "income": 0, "expense": 0, "net": 0}),
            ],
            "transfers and the opening balance are left out; empty months are there"
        );
        let default = app
            .get(&format!("/v1/accounts/{a}/summary"), Some(&token))
            .await;
        assert_eq!(default.body["months"].as_array().unwrap().len(), 12);
        let year = app
            .get(&format!("/v1/accounts/{a}/summary?months=15"), Some(&token))
            .await;
        assert_eq!(year.body["months"][14]["income"], 7, "fifteen months back");

        for (query, status) in [("months=0", 422), ("months=121", 422), ("months=x", 400)] {
            app.get(&format!("/v1/accounts/{a}/summary?{query}"), Some(&token))
                .await
                .problem(Status::from_code(status).unwrap());
        }
        let other = app.sign_in("bob@example.com").await;
        app.get(&format!("/v1/accounts/{a}/summary"), Some(&other))
            .await
            .problem(Status::NotFound);
    }
);
// ANCHOR_END: summary_test
