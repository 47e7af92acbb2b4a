"""Request bodies and query strings, validated strictly: unknown fields and type coercion are errors."""

import re
import unicodedata
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# A local part, then a host name of at least two labels (a dot is required: no bare hosts).
EMAIL_PATTERN = re.compile(
    r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
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


# Control characters, lone surrogates and line/paragraph separators; format characters such as the
# zero-width joiner inside emoji stay allowed.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_TEXT_LAYOUT = frozenset("\n\r\t")


# Characters that reorder or hide text: bidirectional embeddings, overrides and isolates.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Mn", "Me"})


def _no_controls(value: str) -> str:
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES or c in _BIDI_CONTROLS for c in value):
        raise ValueError("must not contain control or text-direction characters")
    if all(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in value):
        raise ValueError("must contain a visible character")
    return value


def _no_controls_but_layout(value: str) -> str:
    """Free text: line breaks and tabs are layout; any other control character is refused."""
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES and c not in _TEXT_LAYOUT for c in value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def _https_url(value: str) -> str:
    if not value.isprintable() or " " in value:
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    _ = parts.port  # raises ValueError for a port out of range
    return value


def _email(value: str) -> str:
    """ASCII addresses only (a domain in its punycode form), so that look-alikes are not new users."""
    local = value.partition("@")[0]
    if not value.isascii() or local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError("must be an ASCII email address such as ada@example.com")
    value = value.lower()
    if not EMAIL_PATTERN.fullmatch(value) or not value.isprintable():
        raise ValueError("must be an email address such as ada@example.com")
    return value


def _query_integer(value: Any) -> Any:
    """Query string values are text: digits become an int, anything else is left for the type check."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6:
        return int(value)
    return value


UserId = Annotated[str, StringConstraints(strict=True, max_length=36), AfterValidator(_uuid)]
Credits = Annotated[int, Field(strict=True, ge=1, le=MAX_CREDITS)]
Slug = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Reference = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200), AfterValidator(_printable)
]
Email = Annotated[
    str, StringConstraints(strict=True, strip_whitespace=True, max_length=254), AfterValidator(_email)
]
DisplayName = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_no_controls),
]
AvatarUrl = Annotated[str, StringConstraints(strict=True, max_length=2048), AfterValidator(_https_url)]
Subject = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=3, max_length=200),
    AfterValidator(_no_controls),
]
Description = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=10_000),
    AfterValidator(_no_controls_but_layout),
]
Priority = Literal["low", "medium", "high", "urgent"]
TicketCategory = Literal["billing", "technical", "account", "feature_request", "bug_report", "general"]
TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
PageLimit = Annotated[int, BeforeValidator(_query_integer), Field(strict=True, ge=1, le=100)]
Cursor = Annotated[str, StringConstraints(strict=True, max_length=1024)]


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


class CreateUser(Strict):
    email: Email
    display_name: DisplayName | None = None


class ProfileUpdate(Strict):
    """A partial update: only the fields given change; `avatar_url: null` removes the avatar."""

    user_id: UserId
    display_name: DisplayName | None = None
    avatar_url: AvatarUrl | None = None

    @field_validator("display_name", mode="before")
    @classmethod
    def _display_name_is_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be a string; a display name cannot be removed")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.changes():
            raise ValueError("give display_name or avatar_url to change")
        return self

    def changes(self) -> dict[str, str | None]:
        """The fields the caller gave, with their new values (None: remove)."""
        given = self.model_fields_set - {"user_id"}
        return {name: getattr(self, name) for name in sorted(given)}


class CreateTicket(Strict):
    user_id: UserId
    subject: Subject
    description: Description
    priority: Priority = "medium"
    category: TicketCategory = "general"


class TicketsQuery(Strict):
    user_id: UserId
    status: TicketStatus | None = None
    limit: PageLimit = 20
    cursor: Cursor | None = None
