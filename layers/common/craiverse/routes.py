"""Every route of the API with the scope it needs, its rate category and whether widgets may call it.

This table is the one place that says who may call what; handlers look themselves up here.
"""

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    READ = "read"
    WRITE = "write"
    AI = "ai"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scope: str | None  # None: public (webhooks verify their own signatures)
    category: Category
    widget: bool = False  # publishable (browser) keys may call it

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


# Scopes, by endpoint family. `credits:grant` mints credits and is never given to user keys.
CREDITS_READ = "credits:read"
CREDITS_WRITE = "credits:write"
CREDITS_GRANT = "credits:grant"
ADMIN = "admin"

ALL_SCOPES = frozenset({CREDITS_READ, CREDITS_WRITE, CREDITS_GRANT, ADMIN})
DEFAULT_SCOPES = {
    "user": (CREDITS_READ, CREDITS_WRITE),
    "service": (CREDITS_READ, CREDITS_WRITE, CREDITS_GRANT),
    "admin": (ADMIN,),
}

ROUTES: dict[tuple[str, str], Route] = {
    (r.method, r.path): r
    for r in (
        Route("GET", "/credits/balance", CREDITS_READ, Category.READ),
        Route("POST", "/credits/add", CREDITS_GRANT, Category.WRITE),
        Route("POST", "/credits/deduct", CREDITS_WRITE, Category.WRITE),
    )
}


def route(method: str, path: str) -> Route:
    return ROUTES[(method, path)]
