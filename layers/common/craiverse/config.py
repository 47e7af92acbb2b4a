"""Settings read once per cold start from the environment; a missing required one fails loudly."""

import os
from dataclasses import dataclass
from functools import cache


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    table_name: str
    stage: str
    cors_allow_origin: str
    max_body_bytes: int
    idempotency_ttl_seconds: int


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


@cache
def settings() -> Settings:
    return Settings(
        table_name=_required("TABLE_NAME"),
        stage=os.environ.get("STAGE", "dev"),
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
        max_body_bytes=_integer("MAX_BODY_BYTES", 64 * 1024),
        idempotency_ttl_seconds=_integer("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
    )
