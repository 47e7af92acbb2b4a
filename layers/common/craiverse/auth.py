"""Who is calling: the principal the authorizer resolved, and the one rule for what it may do."""

from typing import Any, NamedTuple

from craiverse import ratelimit
from craiverse.errors import Forbidden, Unauthorized
from craiverse.routes import ADMIN, Route

LIMIT_PREFIX = "limit_"


def limits_context(limits: dict[str, int]) -> dict[str, int]:
    """The hourly limits as authorizer context values (`limit_read`, ...): scalars only."""
    return {f"{LIMIT_PREFIX}{category}": limit for category, limit in limits.items()}


def _limits(context: dict[str, Any]) -> dict[str, int]:
    """The key's limits from the context; a context without them falls back to the tier's."""
    overrides = {
        name.removeprefix(LIMIT_PREFIX): int(value)
        for name, value in context.items()
        if name.startswith(LIMIT_PREFIX) and str(value).isdigit()
    }
    return ratelimit.limits_for(str(context.get("tier", "free")), overrides)


class Principal(NamedTuple):
    type: str  # user | service | admin
    id: str
    key_id: str
    key_kind: str  # secret | publishable
    scopes: frozenset[str]
    tier: str
    limits: dict[str, int]

    @classmethod
    def from_authorizer(cls, context: dict[str, Any] | None) -> "Principal":
        """Reads the authorizer context (scalar values only). Missing context means no valid key."""
        context = context or {}
        try:
            return cls(
                type=str(context["principal_type"]),
                id=str(context["principal_id"]),
                key_id=str(context["key_id"]),
                key_kind=str(context["key_kind"]),
                scopes=frozenset(str(context.get("scopes", "")).split()),
                tier=str(context.get("tier", "free")),
                limits=_limits(context),
            )
        except KeyError as err:
            raise Unauthorized() from err

    @property
    def ref(self) -> str:
        """`user:<id>`, `service:<name>` or `admin:<name>`: scopes idempotency keys to their owner."""
        return f"{self.type}:{self.id}"

    @property
    def is_admin(self) -> bool:
        return self.type == "admin" and ADMIN in self.scopes

    def authorize(self, route: Route, user_id: str | None = None) -> None:
        """Raises Forbidden unless this principal may call `route` on behalf of `user_id`."""
        if self.key_kind != "secret" and not route.widget:
            raise Forbidden("Publishable keys may call only the widget endpoints", {"route": route.name})
        if self.is_admin:
            return
        if route.scope not in self.scopes:
            raise Forbidden("API key lacks the required scope", {"required_scope": route.scope})
        if self.type == "user" and user_id is not None and user_id != self.id:
            raise Forbidden("A user key may act only on its own user_id", {"field": "user_id"})
