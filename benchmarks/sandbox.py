"""Where the benchmarks run: only on loopback, against servers this process starts, with fake AWS settings.

`fake_aws_environment` is the environment every benchmark process gets (throwaway credentials, no
instance metadata, no profiles, the SDK endpoint on loopback). `local_api` starts the product's own
Docker-free runner (`devkit.local`) with its embedded moto backend; `Http` talks to it over keep-alive
connections; `new_account` opens a user with credits and a key of the roomiest tier.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LOOPBACK = "127.0.0.1"
REGION = "us-east-1"

# Variables through which an SDK could find real credentials or another endpoint.
_UNSAFE_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


class UnsafeEndpoint(RuntimeError):
    """Something would have sent a request off this machine."""


def fake_aws_environment(endpoint_url: str, config_dir: Path) -> dict[str, str]:
    """Throwaway credentials, no metadata service, no shared config, every AWS call to `endpoint_url`."""
    require_loopback(endpoint_url)
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": str(config_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "credentials"),
    }


def require_loopback(url: str) -> None:
    if urlsplit(url).hostname != LOOPBACK:
        raise UnsafeEndpoint(f"benchmarks talk to {LOOPBACK} only, not {url}")


def apply_environment(variables: Mapping[str, str]) -> None:
    """For a benchmark child process: drop what could reach real AWS, then set `variables`."""
    for name in _UNSAFE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(variables)


@contextmanager
def idle_endpoint() -> Iterator[str]:
    """A loopback socket of our own for SDK settings that must name an endpoint before the embedded
    backend exists. Creating a client sends nothing; should anything try, it reaches only this socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}"


@contextmanager
def local_api(parameters: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The product's local runner on free loopback ports, seeded with the demo fixture."""
    # Imported here: the runner sets the environment the layer reads before the layer is imported.
    from devkit.local import start_local_api
    from devkit.seed import DEFAULT_FIXTURE

    api = start_local_api(TEMPLATE, LOOPBACK, 0, DEFAULT_FIXTURE, parameters=parameters)
    try:
        require_loopback(api.url)
        require_loopback(api.aws_endpoint)
        from craiverse import db

        require_loopback(db.client().meta.endpoint_url)
        yield api
    finally:
        api.stop()


def demo_keys() -> dict[str, str]:
    from devkit.seed import DEFAULT_FIXTURE

    return {key["name"]: key["key"] for key in json.loads(DEFAULT_FIXTURE.read_text())["keys"]}


def new_account(
    credits: int = 0, *, grant_key: str | None = None, api: Http | None = None
) -> tuple[str, str]:
    """A fresh user with its own secret key on the platform tier (so load is not rate limited):
    (user_id, key). With `credits`, they are granted through POST /credits/add."""
    from craiverse import apikeys, clock, provisioning

    user, _ = provisioning.create_user(email=f"{uuid.uuid4().hex}@bench.example")
    secret, _ = apikeys.create(
        principal_type=apikeys.PrincipalType.USER,
        principal_id=user.user_id,
        tier="platform",
        created_at=clock.iso(clock.now()),
    )
    if credits:
        if api is None or grant_key is None:
            raise ValueError("granting credits needs the API and a key with credits:grant")
        grant = {
            "user_id": user.user_id,
            "amount": credits,
            "source": "bench",
            "source_reference": secret[-12:],
        }
        status, body = api.call("POST", "/credits/add", grant_key, body=grant)
        if status != 200:
            raise RuntimeError(f"granting credits answered {status}: {body}")
    return user.user_id, secret


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class Http:
    """A minimal HTTP/1.1 client with one keep-alive connection per thread (little client overhead)."""

    def __init__(self, base_url: str) -> None:
        require_loopback(base_url)
        parts = urlsplit(base_url)
        self._host = parts.hostname or LOOPBACK
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._local = threading.local()

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        all_headers = {"Authorization": f"Bearer {key}"} if key else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        connection = self._connection()
        try:
            connection.request(method, self._prefix + path, body=payload, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        except (ConnectionError, http.client.HTTPException):
            self._local.connection = None
            connection.close()
            raise
        return response.status, json.loads(data) if data else {}

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
            self._local.connection = connection
        return connection
