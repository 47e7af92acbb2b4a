"""Run the whole API locally, without Docker: ``python -m devkit.local`` (``make run``).

Reads template.yaml, starts an embedded AWS backend (moto) on 127.0.0.1, creates the template's tables,
queues and email identities, seeds demo data, serves the API's routes with its authorizer and gateway
responses, and drains the SQS queues into their worker functions. Stop it with Ctrl-C or SIGTERM.

Settings (environment variables):

    PORT                port of the API (default 3000)
    API_HOST            interface the API binds to (default 127.0.0.1; HOST is often set by shells)
    CRAIVERSE_TEMPLATE  SAM template to serve (default template.yaml)
    CRAIVERSE_SEED      demo data fixture to seed; empty to skip seeding (default devkit/fixtures/demo.json)
    MOTO_PORT           port of the embedded AWS endpoint; 0 picks a free port (default 0)
    LOG_LEVEL           log level of the runner: DEBUG, INFO, WARNING, ERROR (default INFO)

The API answers on http://API_HOST:PORT/v1/... (the stage prefix is optional locally). Handlers run with
AWS_ENDPOINT_URL pointing at the embedded backend, fake credentials and the functions' environment
variables from the template.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.local import LocalApi, start_local_api
from devkit.local.gateway import GatewayConfigError
from devkit.local.runtime import RuntimeLoadError
from devkit.template import TemplateError

logger = logging.getLogger("devkit.local")

_KEY_COLUMNS = ("name", "principal", "kind", "scopes", "key")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    template: Path
    seed: Path | None
    moto_port: int
    log_level: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        seed = environ.get("CRAIVERSE_SEED", "devkit/fixtures/demo.json")
        return cls(
            host=environ.get("API_HOST", "127.0.0.1"),
            port=int(environ.get("PORT", "3000")),
            template=Path(environ.get("CRAIVERSE_TEMPLATE", "template.yaml")),
            seed=Path(seed) if seed else None,
            moto_port=int(environ.get("MOTO_PORT", "0")),
            log_level=environ.get("LOG_LEVEL", "INFO").upper(),
        )


def banner(api: LocalApi) -> str:
    """What the runner shows on start: where the API and the AWS endpoint are, and the demo keys."""
    lines = [
        "CRAIverse API running locally",
        f"  API          {api.url}/{api.gateway.stage}",
        f"  AWS endpoint {api.aws_endpoint}",
        "",
    ]
    if api.seeded:
        lines += ["Demo keys:", *_table(api.seeded, _KEY_COLUMNS), ""]
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(row[index]) for row in cells)) for index, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return (
            "  " + "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()
        )

    return [line(columns), line(["-" * width for width in widths]), *(line(row) for row in cells)]


def main() -> int:
    settings = Settings.from_environment()
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # botocore reports where it found credentials and endpoints on every client at INFO.
    logging.getLogger("botocore").setLevel(max(logging.getLevelName(settings.log_level), logging.WARNING))

    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())

    try:
        api = start_local_api(
            settings.template, settings.host, settings.port, settings.seed, aws_port=settings.moto_port
        )
    except (TemplateError, RuntimeLoadError, GatewayConfigError, OSError) as error:
        logger.error("local api failed to start reason=%s", error)
        return 1

    sys.stdout.write(banner(api))
    sys.stdout.flush()
    try:
        stopping.wait()
    finally:
        logger.info("local api stopping")
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
