"""The AWS side of the local runner: resources from template.yaml and an embedded moto server.

`create_resources` creates the template's DynamoDB tables, SQS queues and SES identities through ordinary
boto3 clients, so it works against the embedded server and in-process under `moto.mock_aws` alike.
`EmbeddedAws` runs moto's server on 127.0.0.1 in a thread and serialises every request with one lock.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import boto3
from botocore.exceptions import ClientError
from moto.core.model_instances import reset_model_data

from devkit.template import (
    EMAIL_IDENTITY_TYPE,
    QUEUE_TYPE,
    REGION,
    TABLE_TYPE,
    PhysicalResource,
    ResourceDef,
    SamTemplate,
    TemplateError,
    queue_name,
    queue_physical,
)

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

# CloudFormation queue properties that map one to one onto SQS queue attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
_QUEUE_JSON_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")

# How often a long poll re-asks moto while it waits outside the lock.
_LONG_POLL_INTERVAL_SECONDS = 0.05


@dataclass(frozen=True)
class QueueInfo:
    logical_id: str
    name: str
    url: str
    arn: str


@dataclass
class LocalResources:
    """Physical names of what `create_resources` made, keyed by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    email_identities: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def table_name(self, logical_id: str) -> str:
        return self.tables[logical_id]

    def queue_url(self, logical_id: str) -> str:
        return self.queues[logical_id].url


@dataclass(frozen=True)
class AwsClients:
    dynamodb: Any
    sqs: Any
    ses: Any

    @classmethod
    def from_session(cls, session: boto3.session.Session | None = None) -> AwsClients:
        """Clients from the environment (AWS_ENDPOINT_URL, credentials); region defaults to us-east-1."""
        session = session or boto3.session.Session()
        region = session.region_name or REGION
        return cls(
            dynamodb=session.client("dynamodb", region_name=region),
            sqs=session.client("sqs", region_name=region),
            ses=session.client("ses", region_name=region),
        )


def create_resources(
    template: SamTemplate,
    clients: AwsClients | None = None,
    session: boto3.session.Session | None = None,
) -> LocalResources:
    """Create the template's tables, queues and SES identities; bind their physical ids in the resolver.

    Resources are created in dependency order (a dead-letter queue before the queue that redrives to it).
    """
    clients = clients or AwsClients.from_session(session)
    resources = LocalResources()
    creatable = {resource.logical_id: resource for resource in _creatable(template)}

    for logical_id in _dependency_order(creatable):
        resource = creatable[logical_id]
        physical = _CREATORS[resource.type](clients, resource, template)
        template.resolver.bind(logical_id, physical)
        _record(resources, resource, physical)

    resources.environment = template.environment()
    return resources


def create_from_template(
    path: str | Path = "template.yaml", parameters: Mapping[str, str] | None = None
) -> LocalResources:
    """Load a template and create its resources with clients built from the current environment."""
    return create_resources(SamTemplate.load(path, parameters))


def _creatable(template: SamTemplate) -> list[ResourceDef]:
    return template.resources_of_type(TABLE_TYPE, QUEUE_TYPE, EMAIL_IDENTITY_TYPE)


def _dependency_order(resources: Mapping[str, ResourceDef]) -> list[str]:
    depends = {
        logical_id: _references(resource.properties) & set(resources) - {logical_id}
        for logical_id, resource in resources.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(resources):
        ready = [name for name in resources if name not in ordered and depends[name] <= set(ordered)]
        if not ready:
            raise TemplateError(f"circular references between {sorted(set(resources) - set(ordered))}")
        ordered.extend(ready)
    return ordered


def _references(value: Any) -> set[str]:
    """Logical ids that value refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()

    found: set[str] = set()
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            found.add(item.partition(".")[0])
        elif key == "Fn::GetAtt":
            found.add(item.partition(".")[0] if isinstance(item, str) else str(item[0]))
        elif key == "Fn::Sub":
            text = item if isinstance(item, str) else item[0]
            found |= {name.partition(".")[0] for name in _sub_names(str(text))}
        found |= _references(item)
    return found


def _sub_names(text: str) -> list[str]:
    names = []
    for part in text.split("${")[1:]:
        name = part.partition("}")[0]
        if name and not name.startswith("!"):
            names.append(name)
    return names


def _record(resources: LocalResources, resource: ResourceDef, physical: PhysicalResource) -> None:
    if resource.type == TABLE_TYPE:
        resources.tables[resource.logical_id] = physical.ref
    elif resource.type == QUEUE_TYPE:
        attributes = physical.attributes
        resources.queues[resource.logical_id] = QueueInfo(
            resource.logical_id, attributes["QueueName"], physical.ref, attributes["Arn"]
        )
    else:
        resources.email_identities[resource.logical_id] = physical.ref


# ---------------------------------------------------------------------------------------------- tables


def _create_table(clients: AwsClients, resource: ResourceDef, template: SamTemplate) -> PhysicalResource:
    properties = template.resolver.resolve(dict(resource.properties))
    name = template.resolver.physical(resource.logical_id).ref

    try:
        clients.dynamodb.create_table(**_table_request(name, properties))
        logger.info("table created table=%s", name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        logger.info("table exists table=%s", name)

    _configure_table(clients.dynamodb, name, properties)

    description = clients.dynamodb.describe_table(TableName=name)["Table"]
    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return PhysicalResource(ref=name, attributes=attributes)


def _table_request(name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    billing_mode = properties.get("BillingMode", "PAY_PER_REQUEST")
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]

    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(key):
            request[key] = [_index_request(index, billing_mode) for index in properties[key]]

    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return request


def _index_request(index: Mapping[str, Any], billing_mode: str) -> dict[str, Any]:
    request = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
    if billing_mode == "PROVISIONED" and "ProvisionedThroughput" in index:
        request["ProvisionedThroughput"] = index["ProvisionedThroughput"]
    return request


def _configure_table(client: Any, name: str, properties: Mapping[str, Any]) -> None:
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and _enabled(ttl.get("Enabled")):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )

    recovery = properties.get("PointInTimeRecoverySpecification")
    if recovery and _enabled(recovery.get("PointInTimeRecoveryEnabled")):
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def _enabled(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# ---------------------------------------------------------------------------------------------- queues


def _create_queue(clients: AwsClients, resource: ResourceDef, template: SamTemplate) -> PhysicalResource:
    properties = template.resolver.resolve(dict(resource.properties))
    name = queue_name(resource.logical_id, resource.properties, template.resolver)

    url = clients.sqs.create_queue(QueueName=name, Attributes=_queue_attributes(properties))["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    logger.info("queue created queue=%s", name)
    return queue_physical(name, url, arn)


def _queue_attributes(properties: Mapping[str, Any]) -> dict[str, str]:
    attributes = {key: _attribute_str(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties}
    for key in _QUEUE_JSON_ATTRIBUTES:
        if key in properties:
            value = properties[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    return attributes


def _attribute_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------- email


def _create_email_identity(
    clients: AwsClients, resource: ResourceDef, template: SamTemplate
) -> PhysicalResource:
    identity = template.resolver.resolve_str(resource.properties["EmailIdentity"])

    if "@" in identity:
        clients.ses.verify_email_identity(EmailAddress=identity)
    else:
        clients.ses.verify_domain_identity(Domain=identity)

    logger.info("email identity verified identity=%s", identity)
    return PhysicalResource(ref=identity)


_CREATORS: Mapping[str, Callable[[AwsClients, ResourceDef, SamTemplate], PhysicalResource]] = {
    TABLE_TYPE: _create_table,
    QUEUE_TYPE: _create_queue,
    EMAIL_IDENTITY_TYPE: _create_email_identity,
}


# ---------------------------------------------------------------------------------------------- moto server

_Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class _WsgiResponse:
    status: str
    headers: _Headers
    body: bytes


class SerializedWsgiApp:
    """Runs one request at a time through a WSGI app (moto is not safe under concurrent transactions).

    An SQS long poll would hold the lock for its whole wait, so it is replayed as short polls, each under
    the lock, until messages arrive or the wait is over.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        long_poll = _long_poll(environ)
        response = self._run(environ) if long_poll is None else self._poll(environ, *long_poll)

        start_response(response.status, response.headers)
        return [response.body]

    def _run(self, environ: dict[str, Any]) -> _WsgiResponse:
        started: list[tuple[str, _Headers]] = []
        written: list[bytes] = []

        def capture(status: str, headers: _Headers, exc_info: Any = None) -> Callable[[bytes], None]:
            started.append((status, headers))
            return written.append

        with self._lock:
            chunks = self._app(environ, capture)
            try:
                written.extend(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
                # NOTE: moto keeps every model object it ever made for its dashboard, including the table
                # copy behind each transaction (moto 5.2); forgetting them keeps memory flat. The
                # runner does not serve moto's dashboard.
                reset_model_data()

        status, headers = started[-1]
        return _WsgiResponse(status, headers, b"".join(written))

    def _poll(self, environ: dict[str, Any], body: bytes, wait_seconds: float) -> _WsgiResponse:
        deadline = time.monotonic() + wait_seconds
        while True:
            response = self._run(_with_body(environ, body))
            if not response.status.startswith("200") or _has_messages(response.body):
                return response
            if time.monotonic() >= deadline:
                return response
            time.sleep(_LONG_POLL_INTERVAL_SECONDS)


def _long_poll(environ: dict[str, Any]) -> tuple[bytes, float] | None:
    """(short-poll body, seconds to wait) when environ is an SQS ReceiveMessage; its body is re-wrapped."""
    content_type = environ.get("CONTENT_TYPE", "")
    is_json_receive = environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage"
    if not is_json_receive and not content_type.startswith("application/x-www-form-urlencoded"):
        return None

    body = _read_body(environ)
    environ.update(_with_body(environ, body))
    if is_json_receive:
        return _json_short_poll(body)
    return _query_short_poll(body)


def _json_short_poll(body: bytes) -> tuple[bytes, float] | None:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    wait_seconds = float(request.get("WaitTimeSeconds") or 0)
    request["WaitTimeSeconds"] = 0
    return json.dumps(request).encode(), wait_seconds


def _query_short_poll(body: bytes) -> tuple[bytes, float] | None:
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if ("Action", "ReceiveMessage") not in pairs:
        return None
    wait_seconds = float(dict(pairs).get("WaitTimeSeconds") or 0)
    pairs = [(key, value) for key, value in pairs if key != "WaitTimeSeconds"] + [("WaitTimeSeconds", "0")]
    return urlencode(pairs).encode(), wait_seconds


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


def _has_messages(body: bytes) -> bool:
    if body.lstrip().startswith(b"<"):
        return b"<Message>" in body
    try:
        return bool(json.loads(body).get("Messages"))
    except (ValueError, AttributeError):
        return False


class EmbeddedAws:
    """moto's server on 127.0.0.1 in a daemon thread; port 0 picks a free port.

    moto keeps its state in process-wide backends (shared with `moto.mock_aws`); `start` resets them so
    every embedded backend begins empty. Do not run one while a `mock_aws` context is active.
    """

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("EmbeddedAws is not started")
        return f"http://{LOOPBACK}:{self._server.server_port}"

    def start(self) -> EmbeddedAws:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = SerializedWsgiApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            LOOPBACK, self._port, app, threaded=True, request_handler=_request_handler()
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()

        self.reset()
        logger.info("embedded aws started endpoint=%s", self.endpoint_url)
        return self

    def reset(self) -> None:
        """Drop every resource and item in moto's backends (moto's own reset API)."""
        connection = http.client.HTTPConnection(LOOPBACK, self._server.server_port, timeout=10)
        try:
            connection.request("POST", "/moto-api/reset")
            status = connection.getresponse().status
        finally:
            connection.close()
        if status != 200:
            raise RuntimeError(f"moto reset answered {status}")

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        logger.info("embedded aws stopped")

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _request_handler() -> type[Any]:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        """moto's request handler without a log line per request, and without Nagle's delay."""

        # werkzeug writes headers and body separately; with Nagle each answer waits for a delayed ACK.
        disable_nagle_algorithm = True

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            logger.debug("aws request line=%s status=%s", self.requestline, code)

    return QuietRequestHandler
