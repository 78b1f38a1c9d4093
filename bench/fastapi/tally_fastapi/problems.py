"""RFC 9457 problem details, with the same titles, details and field error
codes as Tally."""

import orjson
from pydantic import ValidationError
from starlette.responses import Response

# RFC 9110 reason phrases, which Tally uses as titles.
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

PROBLEM_JSON = "application/problem+json"


# ANCHOR: api_error
class ApiError(Exception):
    """Raised by handlers; rendered by the exception handler in main.py."""

    def __init__(self, status: int, detail: str, *, errors=None, headers=None, database=None):
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.database = database
# ANCHOR_END: api_error


def render(error: ApiError, request_id: str) -> Response:
    body = {
        "type": "about:blank",
        "title": TITLES.get(error.status, "Error"),
        "status": error.status,
        "detail": error.detail,
        "request_id": request_id,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    if error.database is not None:
        body["database"] = error.database
    return Response(orjson.dumps(body), error.status, error.headers, media_type=PROBLEM_JSON)


def field_error(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def unprocessable(errors: list[dict]) -> ApiError:
    errors.sort(key=lambda e: e["field"])
    n = len(errors)
    detail = "1 field is invalid" if n == 1 else f"{n} fields are invalid"
    return ApiError(422, detail, errors=errors)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


def unauthorized(detail: str, invalid_token: bool) -> ApiError:
    challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
    return ApiError(401, detail, headers={"WWW-Authenticate": challenge})


# Pydantic error types -> Tally's stable codes.
_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_too_short": "length",
    "string_too_long": "length",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "greater_than": "range",
    "less_than": "range",
    "string_pattern_mismatch": "pattern",
    "literal_error": "enum",
    "enum": "enum",
    "timezone_aware": "format",
    "datetime_parsing": "format",
    "datetime_from_date_parsing": "format",
    "datetime_object_invalid": "format",
}


def _message(e: dict, code: str) -> str:
    ctx = e.get("ctx") or {}
    if code == "required":
        return "is required"
    if code == "unknown_field":
        return "is not a known field"
    if e["type"] == "string_too_short":
        return f"must be at least {ctx.get('min_length')} characters"
    if e["type"] == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if e["type"] == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if e["type"] == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if code == "pattern":
        return f"must match {ctx.get('pattern')}"
    if code == "format":
        return "must be a valid date-time with an offset"
    return e["msg"]


def from_validation(exc: ValidationError) -> ApiError:
    """Every invalid field at once; malformed JSON is a 400, not a 422."""
    errors = []
    for e in exc.errors(include_url=False, include_input=False):
        kind = e["type"]
        if kind == "json_invalid":
            return bad_request(f"malformed JSON: {e['msg']}")
        loc = e["loc"]
        field = ".".join(str(p) for p in loc) if loc else "body"
        code = _CODES.get(kind) or ("type" if kind.endswith("_type") else kind)
        errors.append(field_error(field, code, _message(e, code)))
    return unprocessable(errors)
