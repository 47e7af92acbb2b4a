"""Docker-free local runner: the template's API and workers in this process against an embedded moto.

`start_local_api` starts everything and returns a `LocalApi` to stop it again; `python -m devkit.local`
runs it from the command line (see `devkit.local.__main__` for its settings).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.local.backend import AwsClients, EmbeddedAws, LocalResources, create_resources
from devkit.local.gateway import LocalGateway
from devkit.local.runtime import (
    LoadedFunction,
    add_layer_paths,
    apply_environment,
    aws_environment,
    load_functions,
    restore_environment,
)
from devkit.local.workers import QueueWorker, start_workers, stop_workers
from devkit.template import SamTemplate

__all__ = ["LocalApi", "start_local_api"]

logger = logging.getLogger(__name__)


@dataclass
class LocalApi:
    """A running local API: its URL, the embedded AWS endpoint, the created resources and seeded keys."""

    url: str
    aws_endpoint: str
    resources: LocalResources
    seeded: list[dict[str, Any]]
    template: SamTemplate
    functions: Mapping[str, LoadedFunction]
    gateway: LocalGateway
    workers: list[QueueWorker]
    _cleanup: ExitStack = field(repr=False)

    def stop(self) -> None:
        """Stop workers, gateway and backend; restore the environment and sys.path. Idempotent."""
        self._cleanup.close()

    def __enter__(self) -> LocalApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_local_api(
    template_path: str | Path = "template.yaml",
    host: str = "127.0.0.1",
    port: int = 0,
    seed_fixture: str | Path | None = None,
    *,
    aws_port: int = 0,
    parameters: Mapping[str, str] | None = None,
    worker_wait_seconds: int = 1,
) -> LocalApi:
    """Start the embedded AWS backend, create and seed the template's resources, then serve the API.

    The process environment (AWS_ENDPOINT_URL, fake credentials, the functions' variables) is set before
    any handler module is imported; `LocalApi.stop` restores it.
    """
    cleanup = ExitStack()
    try:
        return _start(
            cleanup,
            SamTemplate.load(template_path, parameters),
            host,
            port,
            seed_fixture,
            aws_port,
            worker_wait_seconds,
        )
    except BaseException:
        cleanup.close()
        raise


def _start(
    cleanup: ExitStack,
    template: SamTemplate,
    host: str,
    port: int,
    seed_fixture: str | Path | None,
    aws_port: int,
    worker_wait_seconds: int,
) -> LocalApi:
    aws = EmbeddedAws(aws_port).start()
    cleanup.callback(aws.stop)

    endpoint = aws_environment(aws.endpoint_url)
    cleanup.callback(restore_environment, apply_environment(endpoint))
    clients = AwsClients.from_session()
    resources = create_resources(template, clients)
    cleanup.callback(restore_environment, apply_environment({**resources.environment, **endpoint}))

    cleanup.callback(_remove_paths, add_layer_paths(template))
    seeded = _seed(seed_fixture)
    functions = load_functions(template)
    cleanup.callback(_unload, functions)

    gateway = LocalGateway(template, functions, host, port).start()
    cleanup.callback(gateway.stop)
    workers = start_workers(
        template.sqs_event_sources(), functions, resources.queues, clients.sqs, worker_wait_seconds
    )
    cleanup.callback(stop_workers, workers)

    return LocalApi(
        url=gateway.url,
        aws_endpoint=aws.endpoint_url,
        resources=resources,
        seeded=seeded,
        template=template,
        functions=functions,
        gateway=gateway,
        workers=workers,
        _cleanup=cleanup,
    )


def _seed(fixture: str | Path | None) -> list[dict[str, Any]]:
    if fixture is None:
        return []
    # Imported here: seeding needs the environment and the layer on sys.path, both set just before.
    seed = importlib.import_module("devkit.seed")
    seeded = list(seed.seed_demo(fixture))
    logger.info("demo data seeded keys=%d", len(seeded))
    return seeded


def _remove_paths(entries: list[str]) -> None:
    for entry in entries:
        if entry in sys.path:
            sys.path.remove(entry)


def _unload(functions: Mapping[str, LoadedFunction]) -> None:
    for function in functions.values():
        sys.modules.pop(function.module.__name__, None)
