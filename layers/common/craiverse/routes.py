"""Every route of the API with the scope it needs, its rate category and whether widgets may call it.

This table is the one place that says who may call what; handlers look themselves up here.
"""

from enum import StrEnum
from typing import NamedTuple


class Category(StrEnum):
    READ = "read"
    WRITE = "write"
    AI = "ai"
    WEBHOOK = "webhook"


class Route(NamedTuple):
    method: str
    path: str
    scope: str | None  # None: public (webhooks verify their own signatures)
    category: Category
    widget: bool = False  # publishable (browser) keys may call it

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


# Scopes, by endpoint family. `credits:grant` mints credits and `users:create` opens accounts: neither is
# ever given to user keys. A service gets `users:create` only when asked for (the signup flow's key).
CREDITS_READ = "credits:read"
CREDITS_WRITE = "credits:write"
CREDITS_GRANT = "credits:grant"
PROFILE_READ = "profile:read"
PROFILE_WRITE = "profile:write"
USERS_CREATE = "users:create"
DASHBOARD_READ = "dashboard:read"
TICKETS_READ = "tickets:read"
TICKETS_WRITE = "tickets:write"
ADMIN = "admin"

_USER_SCOPES = (
    CREDITS_READ,
    CREDITS_WRITE,
    PROFILE_READ,
    PROFILE_WRITE,
    DASHBOARD_READ,
    TICKETS_READ,
    TICKETS_WRITE,
)
ALL_SCOPES = frozenset({*_USER_SCOPES, CREDITS_GRANT, USERS_CREATE, ADMIN})
DEFAULT_SCOPES = {
    "user": _USER_SCOPES,
    "service": (*_USER_SCOPES, CREDITS_GRANT),
    "admin": (ADMIN,),
}

ROUTES: dict[tuple[str, str], Route] = {
    (r.method, r.path): r
    for r in (
        Route("GET", "/credits/balance", CREDITS_READ, Category.READ),
        Route("POST", "/credits/add", CREDITS_GRANT, Category.WRITE),
        Route("POST", "/credits/deduct", CREDITS_WRITE, Category.WRITE),
        Route("POST", "/users", USERS_CREATE, Category.WRITE),
        Route("GET", "/user/profile", PROFILE_READ, Category.READ),
        Route("PATCH", "/user/profile", PROFILE_WRITE, Category.WRITE),
        Route("GET", "/customer/dashboard", DASHBOARD_READ, Category.READ),
        Route("POST", "/customer/tickets", TICKETS_WRITE, Category.WRITE),
        Route("GET", "/customer/tickets", TICKETS_READ, Category.READ),
    )
}


def route(method: str, path: str) -> Route:
    return ROUTES[(method, path)]
