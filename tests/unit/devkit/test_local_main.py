"""devkit.local.__main__: settings from the environment and the startup banner."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from devkit.local.__main__ import Settings, banner


def test_settings_have_documented_defaults() -> None:
    settings = Settings.from_environment({})

    assert settings == Settings(
        host="127.0.0.1",
        port=3000,
        template=Path("template.yaml"),
        seed=Path("devkit/fixtures/demo.json"),
        moto_port=0,
        log_level="INFO",
    )


def test_settings_are_overridden_by_the_environment() -> None:
    environ = {
        "PORT": "4000",
        "API_HOST": "127.0.0.2",
        "CRAIVERSE_SEED": "",
        "MOTO_PORT": "5005",
        "LOG_LEVEL": "debug",
    }

    settings = Settings.from_environment(environ)

    assert (settings.port, settings.host, settings.seed, settings.moto_port) == (
        4000,
        "127.0.0.2",
        None,
        5005,
    )
    assert settings.log_level == "DEBUG"


def test_banner_lists_the_urls_and_the_seeded_keys() -> None:
    seeded = [
        {"name": "demo-user", "key": "crv_sk_x", "principal": "user:1", "kind": "secret", "scopes": "a b"}
    ]
    api: Any = SimpleNamespace(
        url="http://127.0.0.1:3000",
        aws_endpoint="http://127.0.0.1:5000",
        gateway=SimpleNamespace(stage="v1"),
        seeded=seeded,
    )

    text = banner(api)

    assert "http://127.0.0.1:3000/v1" in text
    assert "http://127.0.0.1:5000" in text
    assert "name       principal  kind    scopes  key" in text
    assert "demo-user  user:1     secret  a b     crv_sk_x" in text
