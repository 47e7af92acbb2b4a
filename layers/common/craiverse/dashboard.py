"""The customer portal's dashboard: profile, balance, subscription, recent activity and this month's
usage, read in two DynamoDB round trips that run side by side.

1. BatchGetItem (consistent): the profile, the credit account, this month's usage counters and the
   subscription, all in the user's partition.
2. Query on GSI1: the newest feed items (credit movements and ticket events).
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from craiverse import activity, clock, credits, db, subscriptions, tickets, users
from craiverse.errors import NotFound
from craiverse.log import logger

RECENT_ACTIVITY = 10


def build(user_id: str) -> dict[str, Any]:
    """The dashboard of one user; 404 if there is no such user."""
    month = clock.month_of(clock.iso(clock.now()))
    keys = [
        users.profile_key(user_id),
        credits.account_key(user_id),
        credits.usage_key(user_id, month),
        subscriptions.key(user_id),
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:
        feed = pool.submit(activity.recent, user_id, RECENT_ACTIVITY)
        profile, account, usage_item, subscription = db.batch_get(keys, consistent=True)
        if profile is None:
            raise NotFound("User not found", {"user_id": user_id})
        recent = feed.result()

    user = users.User.from_item(profile)
    usage = credits.Usage.from_item(usage_item)
    return {
        "user": {"display_name": user.display_name, "plan": user.plan},
        "credits": {"balance": credits.Account.from_item(account).balance if account else 0},
        "subscription": subscriptions.Subscription.from_item(subscription).view(),
        "recent_activity": [view for item in recent if (view := _activity_view(item)) is not None],
        "stats": {"apps_used": len(usage.apps), "credits_used_this_month": usage.credits_used},
    }


def _activity_view(item: dict[str, Any]) -> dict[str, Any] | None:
    if credits.is_entry(item):
        return credits.activity_view(item)
    if tickets.is_event(item):
        return tickets.activity_view(item)
    logger.warning("unknown activity item skipped", extra={"entity": item.get("entity")})
    return None
