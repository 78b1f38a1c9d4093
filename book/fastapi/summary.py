"""The tutorial's endpoint, `GET /v1/accounts/{id}/summary`, the way a
FastAPI user would write it, for the concepts that the benchmark peer
(`bench/fastapi/`) leaves out for speed: `response_model`, `HTTPException`,
`Query(...)` limits, `TestClient` with a fixture, and Mangum for Lambda.

It is a sketch with an in-memory store and a stand-in for authentication,
not a second implementation of Tally. `test_summary.py` runs it, and
`scripts/book` runs that, so the code the book shows works.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Query
from mangum import Mangum
from pydantic import BaseModel, Field

# ANCHOR: app
app = FastAPI(title="Summary sketch")  # OpenAPI at /openapi.json, Swagger UI at /docs
# ANCHOR_END: app


# ANCHOR: response_model
class Month(BaseModel):
    month: str = Field(description="`YYYY-MM`, in UTC.")
    income: int = Field(ge=0, description="The sum of the month's positive movements.")
    expense: int = Field(ge=0, description="The sum of the month's negative movements, as a positive number.")
    net: int = Field(description="`income - expense`.")


class Summary(BaseModel):
    account_id: str
    currency: str = Field(description="ISO 4217 code of the account.")
    months: list[Month] = Field(description="Every month of the range, empty ones included, newest first.")
# ANCHOR_END: response_model


@dataclass
class Account:
    owner: str
    currency: str
    # "YYYY-MM" -> (income, expense)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)


ACCOUNTS: dict[str, Account] = {}


def current_user(authorization: Annotated[str, Header()]) -> str:
    """A stand-in: the bearer token is the user's name. The peer verifies
    real PASETO tokens (`bearer_user` in bench/fastapi/tally_fastapi/main.py)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    return token


def last_months(today: date, n: int) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


# ANCHOR: path_operation
@app.get("/v1/accounts/{account_id}/summary", response_model=Summary, tags=["overview"])
async def summary_view(
    account_id: str,
    user: Annotated[str, Depends(current_user)],
    months: Annotated[int, Query(ge=1, le=120, description="How many calendar months.")] = 12,
):
    """Summarise an account by month."""
    account = ACCOUNTS.get(account_id)
    if account is None or account.owner != user:
        raise HTTPException(status_code=404, detail="no such account")
    today = datetime.now(timezone.utc).date()
    rows = []
    for key in last_months(today, months):
        income, expense = account.totals.get(key, (0, 0))
        rows.append(Month(month=key, income=income, expense=expense, net=income - expense))
    return Summary(account_id=account_id, currency=account.currency, months=rows)
# ANCHOR_END: path_operation


# ANCHOR: mangum
handler = Mangum(app, lifespan="off")  # the Lambda entry point: "summary.handler"
# ANCHOR_END: mangum
