"""Handlers run in-process against moto, on a table created from template.yaml's own definition."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from craiverse import config, provisioning
from devkit.local.backend import create_from_template
from tests.conftest import DEMO_USER, OTHER_USER, ROOT, fake_aws


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from fake_aws(monkeypatch)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The template's table and queues under moto; handlers that send email get the email queue."""
    with mock_aws():
        resources = create_from_template(ROOT / "template.yaml")
        monkeypatch.setenv("EMAIL_QUEUE_URL", resources.queue_url("EmailQueue"))
        config.settings.cache_clear()
        yield


@pytest.fixture
def accounts(aws: None) -> tuple[str, str]:
    """The demo user of the sample events and another user, both with empty accounts."""
    provisioning.create_user(user_id=DEMO_USER, email="demo@example.test")
    provisioning.create_user(user_id=OTHER_USER, email="other@example.test")
    return DEMO_USER, OTHER_USER
