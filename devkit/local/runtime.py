"""Load the template's handlers into this process the way the Lambda Python runtime would.

The process environment gets the union of the functions' environment variables plus settings that point
every AWS SDK call at the embedded backend; layers go on `sys.path` (Lambda's /opt/python); each handler
module is imported from its file under a unique module name, since every handler file is `app.py`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from devkit.local.events import lambda_context
from devkit.template import REGION, FunctionDef, SamTemplate

logger = logging.getLogger(__name__)

# Variables that could send SDK calls somewhere other than the embedded backend.
_REMOVED_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


class RuntimeLoadError(Exception):
    """A handler cannot be loaded."""


class ResultMarshalError(Exception):
    """A handler returned something that is not JSON (Lambda answers Runtime.MarshalError)."""


@dataclass(frozen=True)
class LoadedFunction:
    definition: FunctionDef
    module: ModuleType
    handler: Callable[[dict[str, Any], Any], Any]

    @property
    def name(self) -> str:
        return self.definition.logical_id

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> Any:
        """Call the handler with event and a fresh context; return its result after a JSON round trip."""
        result = self.handler(event, lambda_context(self.definition, request_id))
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:
            raise ResultMarshalError(f"{self.name} returned a result that is not JSON: {error}") from error


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Settings that make every AWS SDK call in this process go to the local endpoint."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def apply_environment(variables: Mapping[str, str]) -> dict[str, str | None]:
    """Set variables in os.environ; returns the previous values for `restore_environment`."""
    names = [*variables, *_REMOVED_AWS_VARIABLES]
    previous = {name: os.environ.get(name) for name in names}

    for name in _REMOVED_AWS_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(variables)
    return previous


def restore_environment(previous: Mapping[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def add_layer_paths(template: SamTemplate) -> list[str]:
    """Put every layer directory used by a function on sys.path; returns the entries added."""
    added = []
    for function in template.functions().values():
        for layer in function.layers:
            entry = str(layer)
            if entry not in sys.path:
                sys.path.insert(0, entry)
                added.append(entry)
    return added


def load_functions(template: SamTemplate) -> dict[str, LoadedFunction]:
    """Import every function's handler module from its CodeUri."""
    return {logical_id: load_function(function) for logical_id, function in template.functions().items()}


def load_function(function: FunctionDef) -> LoadedFunction:
    source = function.source_file
    if not source.is_file():
        raise RuntimeLoadError(f"handler file of {function.logical_id} not found: {source}")

    module = _import_file(_module_name(function), source)
    handler = getattr(module, function.attribute, None)
    if not callable(handler):
        raise RuntimeLoadError(f"{function.logical_id}: {function.handler} is not a callable in {source}")

    logger.debug("function loaded function=%s handler=%s", function.logical_id, function.handler)
    return LoadedFunction(function, module, handler)


def _module_name(function: FunctionDef) -> str:
    safe = re.sub(r"\W", "_", f"{function.logical_id}_{function.module_name}")
    return f"craiverse_local_{safe}"


def _import_file(name: str, path: Any) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeLoadError(f"cannot import {path}")

    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
