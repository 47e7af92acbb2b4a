"""End-to-end: the local runner, started once per session on a free loopback port, called over HTTP."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from craiverse import apikeys, clock, config, db, provisioning
from devkit.local import start_local_api
from devkit.seed import DEFAULT_FIXTURE
from tests.conftest import ROOT, use_fake_aws

DEMO_KEYS = {key["name"]: key["key"] for key in json.loads(DEFAULT_FIXTURE.read_text())["keys"]}


@dataclass
class Api:
    url: str
    session: requests.Session

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {key}"} if key else {}
        all_headers.update(headers or {})
        return self.session.request(method, self.url + path, headers=all_headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def local_api() -> Iterator[Api]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_fake_aws(monkeypatch)
        api = start_local_api(template_path=ROOT / "template.yaml", port=0, seed_fixture=DEFAULT_FIXTURE)
        try:
            assert api.aws_endpoint.startswith("http://127.0.0.1:")
            session = requests.Session()
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))
            yield Api(api.url, session)
        finally:
            api.stop()
            config.settings.cache_clear()
            db.client.cache_clear()


@pytest.fixture
def api(local_api: Api) -> Api:
    return local_api


@pytest.fixture
def new_user(local_api: Api) -> Iterator[tuple[str, str]]:
    """A fresh user with an empty account and its own secret key (on the roomiest tier, so that load
    tests are not rate limited): (user_id, key)."""
    user, _ = provisioning.create_user(email=f"{clock.new_uuid()}@example.test")
    secret, _ = apikeys.create(
        principal_type=apikeys.PrincipalType.USER,
        principal_id=user.user_id,
        tier="platform",
        created_at=clock.iso(clock.now()),
    )
    return user.user_id, secret
