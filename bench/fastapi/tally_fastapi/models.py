"""Request bodies: strict Pydantic v2 models. Unknown fields are rejected,
money is a JSON integer only, and every invalid field is reported at once."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
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
    return value


def _currency(value: str) -> str:
    if value not in CODES:
        raise PydanticCustomError("currency", "unknown ISO 4217 code")
    return value


def _non_zero(value: int) -> int:
    if value == 0:
        raise PydanticCustomError("non_zero", "must not be 0")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Money = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]


class Body(BaseModel):
    # strict: no coercion at all ("12", 1.5 and true are not integers).
    model_config = ConfigDict(extra="forbid", strict=True)


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


class MovementCreate(Body):
    amount: Annotated[Money, AfterValidator(_non_zero)]
    description: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")] | None = None
    occurred_at: AwareDatetime | None = None


__all__ = ["AccountCreate", "MovementCreate", "OtpRequest", "TokenRequest", "datetime"]
