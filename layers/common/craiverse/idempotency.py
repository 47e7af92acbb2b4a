"""Idempotency-Key records: written in the same transaction as the effect they guard.

Key: IDEMPOTENCY#<principal>#<key> / IDEMPOTENCY, expiring by TTL. The same key with the same request
answers the stored response; with another request (or on another route) it answers 409.
"""

import hashlib
import json
from typing import Any, NamedTuple

from craiverse import db
from craiverse.errors import Conflict

SK = "IDEMPOTENCY"


class Claim(NamedTuple):
    """A caller's Idempotency-Key for one request."""

    principal: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, principal: str, key: str, route: str, request: dict[str, Any]) -> "Claim":
        canonical = json.dumps({"route": route, "request": request}, sort_keys=True, separators=(",", ":"))
        return cls(principal, key, hashlib.sha256(canonical.encode()).hexdigest())

    @property
    def pk(self) -> str:
        return f"IDEMPOTENCY#{self.principal}#{self.key}"

    def record(
        self, response: dict[str, Any], *, created_at: str, now_epoch: int, ttl_seconds: int
    ) -> dict[str, Any]:
        """The Put for the transaction; an expired record may be replaced before TTL deletes it."""
        values = {
            "PK": self.pk,
            "SK": SK,
            "entity": "idempotency",
            "fingerprint": self.fingerprint,
            "response": json.dumps(response, separators=(",", ":")),
            "created_at": created_at,
            "expires_at": now_epoch + ttl_seconds,
        }
        return db.tx_put(
            values,
            condition="attribute_not_exists(PK) OR expires_at < :now",
            condition_values={":now": now_epoch},
            return_old=True,
        )

    def replay(self, item: dict[str, Any]) -> dict[str, Any]:
        """The stored response of an earlier request with this key, or 409 if that request differed."""
        if item.get("fingerprint") != self.fingerprint:
            raise Conflict(
                "Idempotency-Key was already used for a different request",
                {"idempotency_key": self.key},
            )
        response: dict[str, Any] = json.loads(item["response"])
        return response
