"""Unit tests run with every socket blocked, loopback included."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.conftest import fake_aws


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from fake_aws(monkeypatch)
