"""Runs the FastAPI sketch the book compares Tally with (see summary.py)."""

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

import summary


# ANCHOR: test_client
@pytest.fixture
def client():
    summary.ACCOUNTS.clear()
    with TestClient(summary.app) as client:
        yield client


def test_a_summary_gives_income_and_expense_month_by_month(client):
    this_month = datetime.now(timezone.utc).strftime("%Y-%m")
    summary.ACCOUNTS["a1"] = summary.Account("ana", "EUR", {this_month: (250_000, 4_250)})

    reply = client.get("/v1/accounts/a1/summary?months=3", headers={"Authorization": "Bearer ana"})

    assert reply.status_code == 200
    months = reply.json()["months"]
    assert len(months) == 3
    assert months[0] == {"month": this_month, "income": 250_000, "expense": 4_250, "net": 245_750}
    assert client.get("/v1/accounts/a1/summary?months=0", headers={"Authorization": "Bearer ana"}).status_code == 422
    assert client.get("/v1/accounts/a1/summary", headers={"Authorization": "Bearer bob"}).status_code == 404
# ANCHOR_END: test_client


def test_the_schema_and_docs_come_from_the_code(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/accounts/{account_id}/summary"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Summary"
    }
    months = next(p for p in operation["parameters"] if p["name"] == "months")
    assert months["schema"]["minimum"] == 1 and months["schema"]["maximum"] == 120
    assert client.get("/docs").status_code == 200


def test_mangum_serves_an_http_api_event():
    summary.ACCOUNTS.clear()
    summary.ACCOUNTS["a1"] = summary.Account("ana", "EUR")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/v1/accounts/a1/summary",
        "rawQueryString": "months=2",
        "headers": {"authorization": "Bearer ana", "host": "example.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "http": {"method": "GET", "path": "/v1/accounts/a1/summary", "protocol": "HTTP/1.1",
                     "sourceIp": "198.51.100.23", "userAgent": "pytest"},
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    response = summary.handler(event, {})
    assert response["statusCode"] == 200, response
    assert '"currency":"EUR"' in response["body"]
