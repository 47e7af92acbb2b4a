"""A user's subscription as billing records it: one item, USER#<id> / SUBSCRIPTION.

Billing (Stripe and PayPal webhooks) writes it; until a user subscribes there is no item, which reads
as the "none" state rather than an error.
"""

from typing import Any, NamedTuple

from craiverse import db, users

SK = "SUBSCRIPTION"
NONE = "none"


def key(user_id: str) -> db.Key:
    return users.pk(user_id), SK


class Subscription(NamedTuple):
    status: str  # none | trialing | active | past_due | canceled ...
    current_period_end: str | None

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> "Subscription":
        if item is None:
            return cls(NONE, None)
        return cls(str(item.get("status", NONE)), item.get("current_period_end"))

    def view(self) -> dict[str, Any]:
        return {"status": self.status, "current_period_end": self.current_period_end}
