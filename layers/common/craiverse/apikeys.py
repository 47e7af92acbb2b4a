"""API keys: generation, hashing and their items. Only the SHA-256 of a key is ever stored.

A key reads `crv_sk_<43 url-safe chars>` (secret, for servers) or `crv_pk_...` (publishable, for
browser widgets). Its id is derived from the hash, so the authorizer finds it in one GetItem.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from craiverse import db
from craiverse.routes import ALL_SCOPES, DEFAULT_SCOPES

KEY_PATTERN = re.compile(r"^crv_(sk|pk)_[A-Za-z0-9_-]{43}$")
TIERS = ("free", "pro", "platform")


class KeyKind(StrEnum):
    SECRET = "secret"  # noqa: S105 - a kind of key, not a credential
    PUBLISHABLE = "publishable"


class PrincipalType(StrEnum):
    USER = "user"
    SERVICE = "service"
    ADMIN = "admin"


PREFIXES = {KeyKind.SECRET: "crv_sk_", KeyKind.PUBLISHABLE: "crv_pk_"}


def pk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


SK = "APIKEY"
LIST_PK = "APIKEYS"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    key_hash: str
    kind: KeyKind
    principal_type: PrincipalType
    principal_id: str
    scopes: tuple[str, ...]
    tier: str
    name: str
    created_at: str
    revoked_at: str | None = None
    rate_limits: dict[str, int] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_item(self) -> dict[str, Any]:
        return {
            "PK": pk(self.key_id),
            "SK": SK,
            "GSI1PK": LIST_PK,
            "GSI1SK": f"{self.created_at}#{self.key_id}",
            "entity": "api_key",
            "key_id": self.key_id,
            "key_hash": self.key_hash,
            "kind": self.kind.value,
            "principal_type": self.principal_type.value,
            "principal_id": self.principal_id,
            "scopes": list(self.scopes),
            "tier": self.tier,
            "name": self.name,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "rate_limits": self.rate_limits or None,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "ApiKey":
        return cls(
            key_id=item["key_id"],
            key_hash=item["key_hash"],
            kind=KeyKind(item["kind"]),
            principal_type=PrincipalType(item["principal_type"]),
            principal_id=item["principal_id"],
            scopes=tuple(item.get("scopes", ())),
            tier=item["tier"],
            name=item.get("name", ""),
            created_at=item["created_at"],
            revoked_at=item.get("revoked_at"),
            rate_limits=dict(item.get("rate_limits") or {}),
        )

    def public_view(self) -> dict[str, Any]:
        """What operators may see of a key: never its hash."""
        return {
            "key_id": self.key_id,
            "kind": self.kind.value,
            "principal": f"{self.principal_type.value}:{self.principal_id}",
            "scopes": " ".join(self.scopes),
            "tier": self.tier,
            "name": self.name,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_id_for(key_hash: str) -> str:
    return "key_" + key_hash[:20]


def generate(kind: KeyKind) -> str:
    return PREFIXES[kind] + secrets.token_urlsafe(32)


def is_well_formed(secret: str) -> bool:
    return KEY_PATTERN.fullmatch(secret) is not None


def kind_of(secret: str) -> KeyKind:
    return KeyKind.SECRET if secret.startswith(PREFIXES[KeyKind.SECRET]) else KeyKind.PUBLISHABLE


def lookup(secret: str) -> ApiKey | None:
    """The active key for a presented secret, or None. One GetItem; the hash is compared in constant time."""
    if not is_well_formed(secret):
        return None
    key_hash = hash_key(secret)
    item = db.get(pk(key_id_for(key_hash)), SK)
    if item is None or not hmac.compare_digest(item["key_hash"], key_hash):
        return None
    key = ApiKey.from_item(item)
    return key if key.active else None


SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


def validate_principal(principal_type: PrincipalType, principal_id: str) -> None:
    """Services and admins are named like `market-oracle`; users are ids of existing users."""
    if principal_type is not PrincipalType.USER and not SERVICE_NAME.fullmatch(principal_id):
        raise ValueError("a service or admin name is 3 to 64 lowercase letters, digits and hyphens")


def validate_grant(principal_type: PrincipalType, kind: KeyKind, scopes: tuple[str, ...], tier: str) -> None:
    unknown = set(scopes) - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}")
    if principal_type is PrincipalType.USER and not set(scopes) <= set(DEFAULT_SCOPES["user"]):
        raise ValueError("user keys may hold only " + " ".join(DEFAULT_SCOPES["user"]))
    if kind is KeyKind.PUBLISHABLE and principal_type is not PrincipalType.SERVICE:
        raise ValueError("publishable keys belong to services (browser widgets), never to users or admins")


def create(
    *,
    principal_type: PrincipalType,
    principal_id: str,
    kind: KeyKind = KeyKind.SECRET,
    scopes: tuple[str, ...] | None = None,
    tier: str = "free",
    name: str = "",
    created_at: str,
    secret: str | None = None,
) -> tuple[str, ApiKey]:
    """Stores a new key and returns (secret, key). The secret is shown once and never stored."""
    scopes = tuple(scopes) if scopes is not None else DEFAULT_SCOPES[principal_type.value]
    validate_principal(principal_type, principal_id)
    validate_grant(principal_type, kind, scopes, tier)
    secret = secret or generate(kind)
    if not is_well_formed(secret) or kind_of(secret) is not kind:
        raise ValueError("a given key must look like crv_sk_/crv_pk_ followed by 43 url-safe characters")
    key_hash = hash_key(secret)
    key = ApiKey(
        key_id=key_id_for(key_hash),
        key_hash=key_hash,
        kind=kind,
        principal_type=principal_type,
        principal_id=principal_id,
        scopes=scopes,
        tier=tier,
        name=name,
        created_at=created_at,
    )
    db.put(key.to_item(), condition="attribute_not_exists(PK)")
    return secret, key


def list_keys() -> list[ApiKey]:
    return [ApiKey.from_item(item) for item in db.query(LIST_PK, index="GSI1")]


def get(key_id: str) -> ApiKey | None:
    item = db.get(pk(key_id), SK, consistent=True)
    return ApiKey.from_item(item) if item else None


def revoke(key_id: str, revoked_at: str) -> ApiKey:
    """Marks a key revoked; API Gateway's authorizer cache may honour it for up to its TTL."""
    return _update(key_id, "SET revoked_at = if_not_exists(revoked_at, :now)", {":now": revoked_at})


def set_rate_limits(key_id: str, limits: dict[str, int]) -> ApiKey:
    """Overrides some of the tier's hourly limits for one key; an empty mapping restores the tier's."""
    if not limits:
        return _update(key_id, "REMOVE rate_limits", {})
    return _update(key_id, "SET rate_limits = :limits", {":limits": limits})


def _update(key_id: str, expression: str, values: dict[str, Any]) -> ApiKey:
    try:
        item = db.update(pk(key_id), SK, expression, values, condition="attribute_exists(PK)")
    except db.ConditionFailed as err:
        raise LookupError(f"no key {key_id}") from err
    return ApiKey.from_item(item)
