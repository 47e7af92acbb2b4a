"""Seeds the local backend with the demo users and keys of a fixture file (local runner only)."""

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from craiverse import apikeys, clock, provisioning

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_FIXTURE = Path(__file__).parent / "fixtures" / "demo.json"


class SeedRefused(RuntimeError):
    pass


def seed_demo(fixture: str | Path = DEFAULT_FIXTURE) -> list[dict[str, str]]:
    """Creates the fixture's users and keys (idempotently) and returns the keys to print."""
    _require_local_backend()
    data = json.loads(Path(fixture).read_text())
    user_ids = {user["name"]: _create_user(user) for user in data["users"]}
    return [_create_key(key, user_ids) for key in data["keys"]]


def _require_local_backend() -> None:
    """Demo keys are public: they may only ever exist in a backend on this machine."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(endpoint).hostname not in LOOPBACK_HOSTS:
        raise SeedRefused("demo data is seeded only into a local backend (AWS_ENDPOINT_URL on loopback)")


def _create_user(user: dict[str, Any]) -> str:
    created, _ = provisioning.create_user(
        user_id=user["user_id"], email=user["email"], display_name=user.get("display_name"), plan=user["plan"]
    )
    return created.user_id


def _create_key(spec: dict[str, Any], user_ids: dict[str, str]) -> dict[str, str]:
    principal_type = apikeys.PrincipalType(spec["principal_type"])
    principal_id = (
        user_ids[spec["principal"]] if principal_type is apikeys.PrincipalType.USER else spec["principal"]
    )
    existing = apikeys.get(apikeys.key_id_for(apikeys.hash_key(spec["key"])))
    key = (
        existing
        or apikeys.create(
            principal_type=principal_type,
            principal_id=principal_id,
            kind=apikeys.KeyKind(spec["kind"]),
            scopes=tuple(spec["scopes"]) if "scopes" in spec else None,
            tier=spec["tier"],
            name=spec["name"],
            created_at=clock.iso(clock.now()),
            secret=spec["key"],
        )[1]
    )
    return {
        "name": spec["name"],
        "key": spec["key"],
        "principal": f"{principal_type.value}:{principal_id}",
        "kind": key.kind.value,
        "scopes": " ".join(key.scopes),
    }
