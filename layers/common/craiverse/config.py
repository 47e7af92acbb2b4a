"""Settings read once per cold start from the environment; a missing required one fails loudly."""

import os
from functools import cache
from typing import NamedTuple

# The most credits one ledger movement may carry (craiverse.models.MAX_CREDITS).
MAX_SIGNUP_BONUS = 1_000_000_000


class ConfigurationError(RuntimeError):
    pass


class Settings(NamedTuple):
    table_name: str
    stage: str
    cors_allow_origin: str
    max_body_bytes: int
    idempotency_ttl_seconds: int
    # Credits a user signing up through POST /users starts with, written as a ledger entry (0: none).
    signup_bonus_credits: int
    # The queue the email worker drains; only functions that send email are given it.
    email_queue_url: str | None


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required")
    return value


def _integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ConfigurationError(f"environment variable {name} must be an integer, got {raw!r}") from err


def _bounded(name: str, default: int, maximum: int) -> int:
    value = _integer(name, default)
    if not 0 <= value <= maximum:
        raise ConfigurationError(f"environment variable {name} must be between 0 and {maximum}, got {value}")
    return value


@cache
def settings() -> Settings:
    return Settings(
        table_name=_required("TABLE_NAME"),
        stage=os.environ.get("STAGE", "dev"),
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
        max_body_bytes=_integer("MAX_BODY_BYTES", 64 * 1024),
        idempotency_ttl_seconds=_integer("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        signup_bonus_credits=_bounded("SIGNUP_BONUS_CREDITS", 0, MAX_SIGNUP_BONUS),
        email_queue_url=os.environ.get("EMAIL_QUEUE_URL", "").strip() or None,
    )
