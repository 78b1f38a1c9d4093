"""A user's day through the SDK that openapi-python-client generated from the served spec.

    python e2e/sdk_scenario.py BASE_URL INBOX_DIR

Every call goes through the generated `tally_client` package (its functions
and models); only the sign-in code comes from the SMTP sink's inbox. Prints
one summary line; any mismatch raises.
"""

import datetime
import sys
import uuid

from tally_client import AuthenticatedClient, Client
from tally_client.api.accounts import account_create, account_view
from tally_client.api.auth import otp_create, token_create
from tally_client.api.movements import movement_create, movement_list
from tally_client.api.overview import overview_view
from tally_client.api.profile import me_view
from tally_client.api.transfers import transfer_create
from tally_client.models import (
    AccessToken,
    Account,
    AccountCreate,
    AccountKind,
    Currency,
    Me,
    Movement,
    MovementCreate,
    MovementPage,
    OtpRequest,
    Overview,
    TokenRequest,
    Transfer,
    TransferCreate,
)
from tally_client.types import UNSET

from inbox import last_message, read_code


def ok(response, status, model):
    """The parsed body of a response that must have `status` and be a `model`."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.content[:500]!r}"
    )
    assert isinstance(response.parsed, model), f"expected {model.__name__}, got {response.parsed!r}"
    return response.parsed


def main(base, inbox):
    address = f"sdk-{uuid.uuid4().hex[:12]}@Example.com"

    # Sign in: a code by e-mail, exchanged for a token.
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    before = last_message(inbox)
    sent = otp_create.sync_detailed(client=anonymous, body=OtpRequest(email=address))
    assert sent.status_code == 202 and sent.parsed.expires_in == 600, sent
    code, _ = read_code(inbox, address, after=before)
    token = ok(token_create.sync_detailed(client=anonymous, body=TokenRequest(email=address, code=code)),
               200, AccessToken)
    assert token.token_type == "Bearer" and token.expires_in > 0
    api = AuthenticatedClient(base_url=base, token=token.access_token, raise_on_unexpected_status=True)

    me = ok(me_view.sync_detailed(client=api), 200, Me)
    assert me.email == address.lower() and me.accounts == [], me

    # Two EUR accounts; the opening balance is the first movement.
    checking = ok(account_create.sync_detailed(client=api, body=AccountCreate(
        name="Everyday", kind=AccountKind.CHECKING, currency=Currency.EUR, opening_balance=120000)),
        201, Account)
    savings = ok(account_create.sync_detailed(client=api, body=AccountCreate(
        name="Rainy day", kind=AccountKind.SAVINGS, currency=Currency.EUR)), 201, Account)
    assert (checking.balance, savings.balance) == (120000, 0)

    # Movements; a retried request with the same Idempotency-Key records nothing new.
    groceries = MovementCreate(amount=-4250, description="Groceries", category="food")
    first = movement_create.sync_detailed(checking.id, client=api, body=groceries, idempotency_key="sdk-groceries")
    again = movement_create.sync_detailed(checking.id, client=api, body=groceries, idempotency_key="sdk-groceries")
    first, replay = ok(first, 201, Movement), ok(again, 201, Movement)
    assert replay.id == first.id and again.headers.get("idempotent-replayed") == "true", again.headers
    last_week = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)
    for body in (
        MovementCreate(amount=250000, description="Salary", category="salary"),
        MovementCreate(amount=-1999, description="Market", category="food", occurred_at=last_week),
        MovementCreate(amount=-500, description="Bus", category="transport"),
    ):
        ok(movement_create.sync_detailed(checking.id, client=api, body=body), 201, Movement)

    # Move 200.00 EUR to savings: two legs, one transfer id.
    transfer = ok(transfer_create.sync_detailed(client=api, body=TransferCreate(
        from_account_id=checking.id, to_account_id=savings.id, amount=20000)), 201, Transfer)
    legs = (transfer.from_movement, transfer.to_movement)
    assert [leg.amount for leg in legs] == [-20000, 20000]
    assert [leg.account_id for leg in legs] == [checking.id, savings.id]
    assert legs[0].transfer_id == legs[1].transfer_id == transfer.id

    # Page through the checking account's movements, two at a time, until next_cursor is null.
    items, pages, cursor = [], 0, UNSET
    while True:
        page = ok(movement_list.sync_detailed(checking.id, client=api, limit=2, cursor=cursor),
                  200, MovementPage)
        pages += 1
        assert len(page.items) <= 2 and pages <= 10
        items += page.items
        if page.next_cursor is None:
            break
        assert isinstance(page.next_cursor, str), f"next_cursor missing: {page!r}"
        cursor = page.next_cursor
    amounts = sorted(m.amount for m in items)
    assert amounts == sorted([120000, -4250, 250000, -1999, -500, -20000]), amounts
    assert len({m.id for m in items}) == len(items)
    times = [m.occurred_at for m in items]
    assert times == sorted(times, reverse=True), "movements are not newest first"

    balance = ok(account_view.sync_detailed(checking.id, client=api), 200, Account).balance
    assert balance == sum(amounts) == 343251, balance
    assert ok(account_view.sync_detailed(savings.id, client=api), 200, Account).balance == 20000

    # The overview: transfers and the opening balance are neither income nor expense.
    overview = ok(overview_view.sync_detailed(client=api), 200, Overview)
    currencies = [(c.currency, c.balance, c.income, c.expense, c.accounts) for c in overview.currencies]
    assert currencies == [("EUR", 363251, 250000, 6749, 2)], currencies
    categories = sorted((c.currency, c.category, c.income, c.expense) for c in overview.categories)
    assert categories == [("EUR", "food", 0, 6249), ("EUR", "salary", 250000, 0),
                          ("EUR", "transport", 0, 500)], categories

    print(f"sdk: signed in, 2 accounts, {len(items)} movements in {pages} pages of 2, "
          f"transfer and overview exact (balance 3632.51 EUR)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
