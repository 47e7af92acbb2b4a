"""Fixtures every test layer shares: sample events, handler loading and a clean AWS environment."""

import copy
import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from craiverse import config, db, notifications

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"

DEMO_USER = "11111111-1111-4111-8111-111111111111"
OTHER_USER = "22222222-2222-4222-8222-222222222222"

_events: dict[str, dict[str, Any]] = {}
_handlers: dict[str, ModuleType] = {}


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json, the same file `sam local invoke -e` takes."""
    if name not in _events:
        _events[name] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(_events[name])


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py, imported the way Lambda does (each handler file is app.py)."""
    if name not in _handlers:
        spec = importlib.util.spec_from_file_location(f"functions_{name}_app", FUNCTIONS / name / "app.py")
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _handlers[name] = module
    return _handlers[name]


FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": "craiverse-dev",
}


def use_fake_aws(monkeypatch: pytest.MonkeyPatch, endpoint_url: str | None = None) -> None:
    """No test may reach real AWS: fake credentials, no metadata lookups, only a local endpoint."""
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    if endpoint_url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    else:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    config.settings.cache_clear()
    db.client.cache_clear()
    notifications.client.cache_clear()


def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The body of an autouse fixture: a test in `use_fake_aws`, with no cached client left behind."""
    use_fake_aws(monkeypatch)
    yield
    config.settings.cache_clear()
    db.client.cache_clear()


Invoke = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any], dict[str, str]]]


def invoke_function(name: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Runs a handler on an event and returns (status, parsed body, headers)."""
    result = load_function(name).handler(event, None)
    return result["statusCode"], json.loads(result["body"]), result["headers"]
