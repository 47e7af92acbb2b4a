"""Time and identifiers. Timestamps are UTC ISO-8601 with milliseconds and a Z."""

import os
import time
import uuid
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def month_of(timestamp: str) -> str:
    """`2026-12` for an ISO timestamp made by `iso` (UTC, so the calendar month is its prefix)."""
    return timestamp[:7]


def sortable_id(prefix: str) -> str:
    """`<prefix>_<12 hex ms since epoch><16 hex random>`: unique and ordered by creation time."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{os.urandom(8).hex()}"


def new_uuid() -> str:
    return str(uuid.uuid4())
