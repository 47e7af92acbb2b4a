"""Hourly request limits per API key and category, counted atomically in DynamoDB.

Windows are fixed and aligned to the UTC hour: a key may make `limit` requests of a category between
hh:00:00 and hh:59:59, and its counter starts again at the next hour. (A fixed window lets a caller
spend two windows' worth around a boundary; a sliding window would need a read or a second counter
per request, and API Gateway's throttle already bounds bursts.) Each request is one conditional
UpdateItem: the counter only grows while it is below the limit, so concurrent requests can never let
more than `limit` through, and a refused request does not count. Counters expire by TTL.

Key: RATE#<key_id>#<category>#<window start, epoch seconds> / RATE
"""

import time
from typing import Any, NamedTuple

from craiverse import db
from craiverse.errors import RateLimited
from craiverse.routes import Category

WINDOW_SECONDS = 3600
SK = "RATE"
COUNTED = (Category.READ, Category.WRITE, Category.AI)

# The contract's limits are the free tier's; platform apps act for many users and get more.
TIER_LIMITS: dict[str, dict[str, int]] = {
    "free": {Category.READ: 1000, Category.WRITE: 100, Category.AI: 60},
    "pro": {Category.READ: 5000, Category.WRITE: 500, Category.AI: 300},
    "platform": {Category.READ: 100_000, Category.WRITE: 20_000, Category.AI: 2_000},
}


def pk(key_id: str, category: str, window_start: int) -> str:
    return f"RATE#{key_id}#{category}#{window_start}"


def limits_for(tier: str, overrides: dict[str, int] | None = None) -> dict[str, int]:
    """The hourly limit of each category for a key: its overrides over its tier's defaults."""
    limits = dict(TIER_LIMITS.get(tier, TIER_LIMITS["free"]))
    limits.update(
        {category: int(value) for category, value in (overrides or {}).items() if category in limits}
    )
    return limits


class Quota(NamedTuple):
    category: str
    limit: int
    used: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": str(self.reset),
        }


def consume(key_id: str, category: str, limit: int, *, now: float | None = None) -> Quota:
    """Counts one request, or raises RateLimited (429) without counting it."""
    moment = int(time.time() if now is None else now)
    window_start = moment - moment % WINDOW_SECONDS
    reset = window_start + WINDOW_SECONDS
    try:
        item = db.update(
            pk(key_id, category, window_start),
            SK,
            "ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
            {":one": 1, ":limit": limit, ":expires": reset + WINDOW_SECONDS},
            condition="attribute_not_exists(#count) OR #count < :limit",
            names={"#count": "request_count"},
        )
    except db.ConditionFailed as err:
        raise _limited(category, limit, reset, moment) from err
    return Quota(category, limit, int(item["request_count"]), reset)


def _limited(category: str, limit: int, reset: int, moment: int) -> RateLimited:
    headers: dict[str, Any] = Quota(category, limit, limit, reset).headers()
    headers["Retry-After"] = str(max(1, reset - moment))
    return RateLimited(
        "Rate limit exceeded for this API key",
        {"category": category, "limit": limit, "reset": reset},
        headers,
    )
