"""Schemathesis hooks for scripts/e2e: every check stays on.

A JSON Schema cannot say "a cursor this list issued", "`to` not before
`from`", "the current ETag", "two accounts in the same currency" or "a
retried key answers with the first response, deleted since or not", so
schemathesis' schema-valid data sometimes breaks a rule that API.md states
and the service must keep. Such a failure is dismissed only when the response
itself proves it is that rule (status, problem detail or error code, and the
request that triggered it); every dismissal is appended to $E2E_DISMISSED as
"<rule>\t<operation>" so scripts/e2e can count and show them. Anything else
fails the run.

Test data: schemathesis cannot know two account ids of its user, so without
help every transfer would be a 404. When $E2E_TRANSFER_ACCOUNTS holds two ids
("from,to", EUR accounts of the token's user), transfer bodies whose account
ids are well-formed UUIDs get those two ids; malformed ones stay as they are,
so negative cases keep their invalid part.
"""

import ast
import os
import threading
import uuid

import schemathesis

# Tool robustness, not a dismissal: CPython 3.11 keeps the AST constructor's
# recursion depth in interpreter-wide state, so two threads inside ast.parse
# at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905). Hypothesis parses lambda sources to
# describe its strategies, and schemathesis runs them in --workers threads:
# one parse at a time in this process.
_parse, _parse_lock = ast.parse, threading.Lock()


def _serialized_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialized_parse


def _problem(response):
    """The JSON object a response carries ({} if none)."""
    try:
        body = response.json()
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


def _errors(response):
    """(field, code) of each error of a 422 problem."""
    return {(e.get("field"), e.get("code")) for e in _problem(response).get("errors") or [] if isinstance(e, dict)}


def _header(response, name):
    """A response header's first value ("" if absent); schemathesis keeps lower-case keys and lists."""
    value = response.headers.get(name.lower()) or ""
    return value[0] if isinstance(value, list) and value else value or ""


def _utf8(value):
    """Whether a header value reaches the server as valid UTF-8 (HTTP clients send latin-1 bytes)."""
    try:
        str(value).encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return True  # not latin-1 at all: the client sends it as UTF-8
    except UnicodeDecodeError:
        return False
    return True


# Ids in responses replayed under an Idempotency-Key (see after_call).
REPLAYED_IDS = set()


@schemathesis.hook
def after_call(context, case, response):
    if _header(response, "Idempotent-Replayed") == "true":
        body = _problem(response)
        for item in (body, body.get("from_movement"), body.get("to_movement")):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                REPLAYED_IDS.add(item["id"])


def contract_rule(failure, case, response):
    """The API.md rule that explains this failure, or None."""
    kind = type(failure).__name__
    status = response.status_code
    query = case.query or {}
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    body = case.body if isinstance(case.body, dict) else {}

    if kind == "RejectedPositiveData":  # positive_data_acceptance
        # "a cursor that is not one we issued, is 400"
        if status == 400 and query.get("cursor") is not None and "`cursor`" in str(_problem(response).get("detail")):
            return "cursor-not-issued-400"
        # "`from` is inclusive and `to` exclusive" / decisions.md: "`to` before `from` are 422"
        if status == 422 and _errors(response) == {("to", "range")} and "from" in query and "to" in query:
            return "to-before-from-422"
        # "412: If-Match given and it does not match the current ETag"
        if status == 412 and "if-match" in headers:
            return "if-match-mismatch-412"
        # Transfers: "Both accounts must be ... distinct and in the same currency (else 422)"
        if status == 422 and _errors(response) == {("to_account_id", "distinct")} \
                and body.get("from_account_id") == body.get("to_account_id"):
            return "transfer-same-account-422"
        if status == 422 and _errors(response) == {("to_account_id", "currency")}:
            return "transfer-currency-mismatch-422"
        # decisions.md: "a balance may not leave ±10^18 minor units (422 balance_range)"
        if status == 422 and _errors(response) == {("amount", "balance_range")}:
            return "balance-range-422"
    if kind == "EnsureResourceAvailability":  # ensure_resource_availability
        # Idempotency: "The same Idempotency-Key ... with the same body returns the first
        # response again and records nothing new", even when that first resource has
        # since been deleted; a 404 for an id that came from such a replay is expected.
        if status == 404 and REPLAYED_IDS & {str(v) for v in (case.path_parameters or {}).values()}:
            return "idempotent-replay-of-deleted-404"
    if kind == "AcceptedNegativeData":  # negative_data_rejection
        # decisions.md: Rocket 0.5 drops a header whose value is not UTF-8 before
        # any guard runs, so the request is served as if it had no such header.
        if any(not _utf8(v) for v in (case.headers or {}).values()):
            return "non-utf8-header-dropped-by-rocket"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    rule = contract_rule(failure, case, response)
    if rule is None:
        return True
    path = os.environ.get("E2E_DISMISSED")
    if path:
        with open(path, "a") as f:
            f.write(f"{rule}\t{case.operation.label}\n")
    return False


def _is_uuid(value):
    try:
        uuid.UUID(value)
        return isinstance(value, str)
    except (TypeError, ValueError, AttributeError):
        return False


@schemathesis.hook
def map_body(context, body):
    accounts = os.environ.get("E2E_TRANSFER_ACCOUNTS")
    operation = context.operation
    if not accounts or operation is None or operation.label != "POST /v1/transfers" or not isinstance(body, dict):
        return body
    if _is_uuid(body.get("from_account_id")) and _is_uuid(body.get("to_account_id")):
        source, target = accounts.split(",")
        body = {**body, "from_account_id": source, "to_account_id": target}
    return body
