"""A user's activity feed: credit movements and ticket events, newest first, from one GSI1 query.

The items themselves belong to their entity modules (ledger entries to `credits`, ticket events to
`tickets`); each carries the feed's index keys, which this module alone builds:
  GSI1PK = ACTIVITY#<user_id>   GSI1SK = <created_at>#<item id>
Timestamps are fixed-width UTC ISO strings, so the sort key orders the feed by time.
"""

from typing import Any

from craiverse import db

INDEX = "GSI1"


def feed_pk(user_id: str) -> str:
    return f"ACTIVITY#{user_id}"


def index_keys(user_id: str, created_at: str, item_id: str) -> dict[str, str]:
    """The attributes that put an item on its user's feed."""
    return {"GSI1PK": feed_pk(user_id), "GSI1SK": f"{created_at}#{item_id}"}


def recent(user_id: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` feed items, newest first, in one Query (GSI reads are eventually consistent)."""
    return db.query(feed_pk(user_id), index=INDEX, newest_first=True, limit=limit)
