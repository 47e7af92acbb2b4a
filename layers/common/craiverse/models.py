"""Request bodies and query strings, validated strictly: unknown fields and type coercion are errors.

A model is a read-only class whose field types carry their rules: `Annotated[str, Rule(<schema>)]` or a
`Literal`, with `| None` where null is accepted. `@model` builds each class's validator at import with
pydantic_core alone: the pydantic package on top of it would add tens of milliseconds to every cold start.
`Model.validate(data)` answers an instance or raises `pydantic_core.ValidationError` naming each field
that is wrong (`missing`, `extra_forbidden`, `string_too_long`, `value_error`, ...).
"""

import enum
import re
import types
import unicodedata
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    ClassVar,
    Final,
    Literal,
    Self,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
)
from urllib.parse import urlsplit

from pydantic_core import SchemaValidator, core_schema

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
    if not value.strip():
        raise ValueError("must not be blank")
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
    if any(c in _BIDI_CONTROLS for c in value):
        raise ValueError("must not contain text-direction characters")
    if all(unicodedata.category(c) in _INVISIBLE_CATEGORIES or c in _TEXT_LAYOUT for c in value):
        raise ValueError("must contain a visible character")
    return value


def _https_url(value: str) -> str:
    if not value.isprintable() or " " in value:
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("must have a port from 1 to 65535")
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


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must be a string; a display name cannot be removed")
    return value


class Rule:
    """A field's pydantic_core schema, carried in `Annotated` (wrapped: a schema is an unhashable dict)."""

    __slots__ = ("schema",)

    def __init__(self, schema: core_schema.CoreSchema) -> None:
        self.schema = schema


def _text(check: Callable[[str], str] | None = None, **constraints: Any) -> Rule:
    """A strict string (no coercion) within `constraints` (lengths are counted after stripping), then
    `check` on it: its ValueError is a `value_error`."""
    schema = core_schema.str_schema(strict=True, **constraints)
    return Rule(schema if check is None else core_schema.no_info_after_validator_function(check, schema))


def _whole_number(ge: int, le: int, before: Callable[[Any], Any] | None = None) -> Rule:
    """A strict int (bools, floats and numeric strings refused) in [ge, le]; `before` may convert first."""
    schema = core_schema.int_schema(strict=True, ge=ge, le=le)
    return Rule(schema if before is None else core_schema.no_info_before_validator_function(before, schema))


_DISPLAY_NAME = _text(_no_controls, strip_whitespace=True, min_length=1, max_length=80)

UserId = Annotated[str, _text(_uuid, max_length=36)]
Credits = Annotated[int, _whole_number(1, MAX_CREDITS)]
Slug = Annotated[str, _text(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Reference = Annotated[str, _text(_printable, min_length=1, max_length=200)]
Email = Annotated[str, _text(_email, strip_whitespace=True, max_length=254)]
DisplayName = Annotated[str, _DISPLAY_NAME]
# In a partial update null would mean "remove", which a display name cannot be.
NewDisplayName = Annotated[
    str, Rule(core_schema.no_info_before_validator_function(_not_null, _DISPLAY_NAME.schema))
]
AvatarUrl = Annotated[str, _text(_https_url, max_length=2048)]
Subject = Annotated[str, _text(_no_controls, strip_whitespace=True, min_length=3, max_length=200)]
Description = Annotated[
    str, _text(_no_controls_but_layout, strip_whitespace=True, min_length=1, max_length=10_000)
]
Priority = Literal["low", "medium", "high", "urgent"]
TicketCategory = Literal["billing", "technical", "account", "feature_request", "bug_report", "general"]
TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
PageLimit = Annotated[int, _whole_number(1, 100, before=_query_integer)]
Cursor = Annotated[str, _text(max_length=1024)]


class Unset(enum.Enum):
    """The value of a field the caller left out, where leaving it out differs from giving null."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


class Model:
    """A request model, made by `@model`: read-only attributes, one per field, set by `validate`."""

    _validator: ClassVar[SchemaValidator]
    _defaults: ClassVar[dict[str, Any]]
    _field_names: ClassVar[tuple[str, ...]]

    def __init__(self, **values: Any) -> None:
        for name, value in (self._defaults | values).items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and its values may be unhashable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in vars(self).items())})"

    @classmethod
    def validate(cls, data: Any) -> Self:
        """The model of `data`, or pydantic_core.ValidationError listing every problem."""
        values: dict[str, Any] = cls._validator.validate_python(data)
        return cls(**values)  # fields left out take their defaults

    @classmethod
    def check(cls, given: dict[str, Any]) -> dict[str, Any]:
        """A rule across fields, run once each given field is valid; its ValueError names no field."""
        return given

    def dump(self) -> dict[str, Any]:
        """Every field's value, as idempotency fingerprints hash them (fields left out are omitted)."""
        values = {name: getattr(self, name) for name in self._field_names}
        return {name: value for name, value in values.items() if value is not UNSET}


def _schema_of(annotation: Any) -> core_schema.CoreSchema:
    """The schema of a field's type: its `Rule` or `Literal`, nullable with `| None`; `| Unset` only
    says that the field may be left out, which its default says already."""
    options = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    kinds = [option for option in options if option not in (Unset, types.NoneType)]
    if len(kinds) != 1:
        raise TypeError(f"a field's type must be one kind (or None), not {annotation!r}")
    kind = kinds[0]
    if get_origin(kind) is Literal:
        schema: core_schema.CoreSchema = core_schema.literal_schema(list(get_args(kind)))
    else:
        rules = [rule.schema for rule in getattr(kind, "__metadata__", ()) if isinstance(rule, Rule)]
        if len(rules) != 1:
            raise TypeError(f"a field's type must carry one Rule, not {kind!r}")
        schema = rules[0]
    return core_schema.nullable_schema(schema) if types.NoneType in options else schema


@dataclass_transform(frozen_default=True)
def model[M: Model](cls: type[M]) -> type[M]:
    """Builds `cls`'s validator from its annotated fields: a field without a default is required, one
    with a default may be left out, any other key is `extra_forbidden`. (Not a dataclass: building one
    costs about 0.35 ms at import, and every cold start imports every model.)"""
    annotations = {
        n: t for n, t in vars(cls).get("__annotations__", {}).items() if get_origin(t) is not ClassVar
    }
    cls._defaults = {name: vars(cls)[name] for name in annotations if name in vars(cls)}
    field_schemas = {
        name: core_schema.typed_dict_field(_schema_of(kind), required=name not in cls._defaults)
        for name, kind in annotations.items()
    }
    schema = core_schema.typed_dict_schema(field_schemas, extra_behavior="forbid")
    cls._validator = SchemaValidator(
        core_schema.no_info_after_validator_function(cls.check, schema),
        core_schema.CoreConfig(title=cls.__name__),
    )
    cls._field_names = tuple(field_schemas)
    return cls


@model
class UserQuery(Model):
    """?user_id= of the routes that read one user's data."""

    user_id: UserId


@model
class AddCredits(Model):
    """POST /credits/add: idempotent on (source, source_reference)."""

    user_id: UserId
    amount: Credits
    source: Slug
    source_reference: Reference


@model
class DeductCredits(Model):
    """POST /credits/deduct."""

    user_id: UserId
    amount: Credits
    source_app: Slug
    source_action: Slug


@model
class CreateUser(Model):
    """POST /users: the email is stored in lower case."""

    email: Email
    display_name: DisplayName | None = None


@model
class ProfileUpdate(Model):
    """A partial update: only the fields given change; `avatar_url: null` removes the avatar."""

    user_id: UserId
    display_name: NewDisplayName | Unset = UNSET
    avatar_url: AvatarUrl | Unset | None = UNSET

    @classmethod
    def check(cls, given: dict[str, Any]) -> dict[str, Any]:
        """`given` holds only the fields the caller sent: one besides user_id is needed."""
        if given.keys() <= {"user_id"}:
            raise ValueError("give display_name or avatar_url to change")
        return given

    def changes(self) -> dict[str, str | None]:
        """The fields the caller gave, with their new values (None: remove)."""
        given = {"avatar_url": self.avatar_url, "display_name": self.display_name}
        return {name: value for name, value in given.items() if not isinstance(value, Unset)}


@model
class CreateTicket(Model):
    """POST /customer/tickets."""

    user_id: UserId
    subject: Subject
    description: Description
    priority: Priority = "medium"
    category: TicketCategory = "general"


@model
class TicketsQuery(Model):
    """GET /customer/tickets: a page of the user's tickets, optionally of one status."""

    user_id: UserId
    status: TicketStatus | None = None
    limit: PageLimit = 20
    cursor: Cursor | None = None
