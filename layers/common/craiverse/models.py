"""Request bodies and query strings, validated strictly: unknown fields and type coercion are errors."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_CREDITS = 1_000_000_000


def _uuid(value: str) -> str:
    value = value.lower()
    if not UUID_PATTERN.fullmatch(value):
        raise ValueError("must be a UUID such as 3f2b8c1e-5d4a-4b7e-9c21-0a1b2c3d4e5f")
    return value


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


UserId = Annotated[str, StringConstraints(strict=True, max_length=36), AfterValidator(_uuid)]
Credits = Annotated[int, Field(strict=True, ge=1, le=MAX_CREDITS)]
Slug = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Reference = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200), AfterValidator(_printable)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserQuery(Strict):
    user_id: UserId


class AddCredits(Strict):
    user_id: UserId
    amount: Credits
    source: Slug
    source_reference: Reference


class DeductCredits(Strict):
    user_id: UserId
    amount: Credits
    source_app: Slug
    source_action: Slug
