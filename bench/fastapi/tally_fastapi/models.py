"""Request bodies: strict Pydantic v2 models. Unknown fields are rejected,
money is a JSON integer only, and every invalid field is reported at once."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from .currencies import CODES

MAX_AMOUNT = 10**15

Kind = Literal["checking", "savings", "credit_card", "cash", "investment", "other"]

# The `validator` crate's e-mail rule, which Tally applies.
_USER = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+", re.IGNORECASE)
_DOMAIN = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*", re.IGNORECASE
)


def _email(value: str) -> str:
    user, at, domain = value.rpartition("@")
    if not at or not user or len(user) > 64 or len(domain) > 255:
        raise PydanticCustomError("email", "must be an e-mail address")
    if not _USER.fullmatch(user) or not _DOMAIN.fullmatch(domain):
        raise PydanticCustomError("email", "must be an e-mail address")
    # Tally also requires an address its mailer (lettre) takes: the local part is a dot-atom.
    if user.startswith(".") or user.endswith(".") or ".." in user:
        raise PydanticCustomError("email", "must be an e-mail address")
    return value


# RFC 3339 `date-time` exactly, as Tally's schema checks it (`T`, seconds and a
# `Z` or `±hh:mm` offset); Pydantic alone would accept ISO 8601 variants.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.(\d+))?(?:[Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value):
    if not isinstance(value, str):
        return value  # strict: anything else is a type error
    m = _RFC3339.fullmatch(value)
    if m is None:
        raise PydanticCustomError("format", "must be a valid date-time")
    text = value.upper()
    if m.group(1) is not None and len(m.group(1)) > 6:  # Tally keeps microseconds
        text = text[: m.start(1) + 6] + text[m.end(1) :]
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("format", "must be a valid date-time") from None


def _currency(value: str) -> str:
    if value not in CODES:
        raise PydanticCustomError("currency", "unknown ISO 4217 code")
    return value


def _non_zero(value: int) -> int:
    if value == 0:
        raise PydanticCustomError("non_zero", "must not be 0")
    return value


# ANCHOR: money
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Money = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
# ANCHOR_END: money


# ANCHOR: body
class Body(BaseModel):
    # strict: no coercion at all ("12", 1.5 and true are not integers).
    model_config = ConfigDict(extra="forbid", strict=True)
# ANCHOR_END: body


class OtpRequest(Body):
    email: Email


class TokenRequest(Body):
    email: Email
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class AccountCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Kind
    currency: Annotated[str, AfterValidator(_currency)]
    opening_balance: Money = 0


# ANCHOR: movement_create
class MovementCreate(Body):
    amount: Annotated[Money, AfterValidator(_non_zero)]
    description: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")] | None = None
    occurred_at: Annotated[AwareDatetime, BeforeValidator(_rfc3339)] | None = None
# ANCHOR_END: movement_create


__all__ = ["AccountCreate", "MovementCreate", "OtpRequest", "TokenRequest"]
