"""The local runner's tests serve and call HTTP on loopback: two fixtures of tests/unit are narrowed here."""

import pytest
from pytest_socket import socket_allow_hosts

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(autouse=True)
def _no_network() -> None:
    """Replaces the unit tests' socket ban: loopback only (the runner's servers), other hosts blocked."""
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials only: the environment a running local API set (AWS_ENDPOINT_URL, TABLE_NAME) stays."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
