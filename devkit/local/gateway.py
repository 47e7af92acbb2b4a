"""An HTTP server that answers like the template's API Gateway REST API and runs handlers in-process.

Per request: size limit, route match (with or without the stage prefix), CORS preflight, authorizer,
API key, then the Lambda proxy integration. Every answer API Gateway would produce itself goes through
the template's gateway responses; no client input can leave a request unanswered.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from devkit.local.authorizer import AuthDecision, TokenAuthorizer
from devkit.local.events import ProxyRequest, method_arn, proxy_event
from devkit.local.responses import (
    GatewayResponses,
    HttpResponse,
    MalformedProxyResult,
    preflight,
    proxy_response,
)
from devkit.local.runtime import LoadedFunction
from devkit.template import ApiDef, ApiRoute, SamTemplate

logger = logging.getLogger(__name__)

# API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024
# An oversized body is read and dropped up to this size so that the client sees the 413; beyond it the
# connection is closed.
_DRAIN_LIMIT_BYTES = 4 * MAX_BODY_BYTES
_READ_CHUNK_BYTES = 64 * 1024
_IDLE_CONNECTION_SECONDS = 120


class GatewayConfigError(Exception):
    """The template asks for API Gateway behaviour the local gateway does not emulate."""


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    too_large: bool = False
    malformed: bool = False


@dataclass(frozen=True)
class RouteMatch:
    route: ApiRoute
    resource: str
    path_parameters: dict[str, str]


# ---------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _PathTemplate:
    path: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    specificity: tuple[int, ...]


def _compile_path(path: str) -> _PathTemplate:
    parts, names, ranks = [], [], []
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append("(.+)")
            names.append(segment[1:-2])
            ranks.append(2)
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append("([^/]+)")
            names.append(segment[1:-1])
            ranks.append(1)
        else:
            parts.append(re.escape(segment))
            ranks.append(0)
    return _PathTemplate(path, re.compile("/" + "/".join(parts)), tuple(names), tuple(ranks))


class RouteTable:
    """Matches method + path the way API Gateway picks a resource, then a method on it."""

    def __init__(self, routes: Sequence[ApiRoute]) -> None:
        self._routes = routes
        self._templates = sorted({_compile_path(route.path) for route in routes}, key=lambda t: t.specificity)

    def resource(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The most specific path template matching path, with its decoded parameters."""
        normalised = path.rstrip("/") or "/"
        for template in self._templates:
            match = template.pattern.fullmatch(normalised)
            if match:
                return template.path, {
                    name: unquote(value) for name, value in zip(template.names, match.groups(), strict=True)
                }
        return None

    def methods(self, resource: str) -> list[str]:
        return sorted({route.method for route in self._routes if route.path == resource})

    def route(self, resource: str, method: str) -> ApiRoute | None:
        candidates = [route for route in self._routes if route.path == resource]
        exact = [route for route in candidates if route.method == method]
        fallback = [route for route in candidates if route.method == "ANY"]
        chosen = exact or fallback
        return chosen[0] if chosen else None


# ---------------------------------------------------------------------------------------------- gateway


class LocalGateway:
    """The API's routes served over HTTP on host:port (port 0 picks a free one)."""

    def __init__(
        self,
        template: SamTemplate,
        functions: Mapping[str, LoadedFunction],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api = template.api()
        self.stage = self.api.stage_name if self.api else "Prod"
        self.api_id = self.api.api_id if self.api else "local"
        self.routes = RouteTable(template.routes())
        self.responses = GatewayResponses(template.gateway_responses())
        self.authorizers = _authorizers(self.api, functions)
        self.api_keys = template.api_keys()
        self.functions = functions
        _check_routes(template.routes(), self.authorizers, functions)

        self._server = _Server((host, port), _handler_class(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalGateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()
        logger.info("gateway started url=%s", self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        logger.info("gateway stopped")

    def handle(self, incoming: IncomingRequest) -> HttpResponse:
        """Answer one request; never raises."""
        request_id = str(uuid.uuid4())
        try:
            return self._handle(incoming, request_id)
        except Exception:
            logger.exception("gateway failed method=%s", incoming.method)
            return self.responses.render("DEFAULT_5XX", request_id)

    def _handle(self, incoming: IncomingRequest, request_id: str) -> HttpResponse:
        if incoming.malformed:
            return self.responses.render("DEFAULT_4XX", request_id, status=400, message="Bad Request")
        if incoming.too_large:
            return self.responses.render("REQUEST_TOO_LARGE", request_id)

        split = urlsplit(incoming.target)
        path = split.path or "/"
        match = self._match(incoming.method, path)
        if match is None:
            return self.responses.render("MISSING_AUTHENTICATION_TOKEN", request_id)

        denied, decision, api_key = self._admit(match.route, incoming, path, request_id)
        if denied is not None:
            return denied
        if match.route.method == "OPTIONS" and not match.route.function:
            return self._preflight(match.resource, request_id)

        request = ProxyRequest(
            method=incoming.method,
            path=self._stage_less(path),
            resource=match.resource,
            headers=incoming.headers,
            query=split.query,
            body=incoming.body,
            path_parameters=match.path_parameters,
            stage=self.stage,
            api_id=self.api_id,
            source_ip=incoming.source_ip,
            request_id=request_id,
            authorizer=decision.authorizer_context if decision else None,
            api_key=api_key,
            api_key_id=self.api_keys.get(api_key) if api_key else None,
        )
        return self._integrate(match.route, request)

    def _match(self, method: str, path: str) -> RouteMatch | None:
        for candidate in dict.fromkeys((self._stage_less(path), path)):
            found = self.routes.resource(candidate)
            if found is None:
                continue
            resource, parameters = found
            route = self.routes.route(resource, method) or self._preflight_route(resource, method)
            return RouteMatch(route, resource, parameters) if route else None
        return None

    def _stage_less(self, path: str) -> str:
        prefix = f"/{self.stage}"
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
        return path

    def _preflight_route(self, resource: str, method: str) -> ApiRoute | None:
        """SAM adds an OPTIONS method to every path when Cors is set (function "" marks it)."""
        if method != "OPTIONS" or self.api is None or self.api.cors is None:
            return None
        authorizer = self.api.default_authorizer if self.api.authorizer_on_preflight else None
        api_key_required = self.api.api_key_required and self.api.api_key_on_preflight
        return ApiRoute("", resource, "OPTIONS", authorizer, api_key_required)

    def _preflight(self, resource: str, request_id: str) -> HttpResponse:
        cors = self.api.cors if self.api else None
        if cors is None:
            return self.responses.render("MISSING_AUTHENTICATION_TOKEN", request_id)
        methods = ",".join(sorted({*self.routes.methods(resource), "OPTIONS"}))
        return preflight(cors, methods, request_id)

    def _admit(
        self, route: ApiRoute, incoming: IncomingRequest, path: str, request_id: str
    ) -> tuple[HttpResponse | None, AuthDecision | None, str | None]:
        """(denial, authorizer decision, API key) for a request on route."""
        decision = None
        if route.authorizer is not None:
            arn = method_arn(self.api_id, self.stage, incoming.method, self._stage_less(path))
            decision = self.authorizers[route.authorizer].authorize(incoming.headers, arn, request_id)
            if not decision.allowed:
                denial = self.responses.render(
                    str(decision.response_type), request_id, message=decision.message
                )
                return denial, decision, None

        api_key = self._api_key(incoming.headers, decision)
        if route.api_key_required and api_key not in self.api_keys:
            return self.responses.render("INVALID_API_KEY", request_id), decision, None
        return None, decision, api_key

    def _api_key(self, headers: Sequence[tuple[str, str]], decision: AuthDecision | None) -> str | None:
        if self.api is not None and self.api.api_key_source == "AUTHORIZER":
            return decision.usage_identifier_key if decision else None
        values = [value for name, value in headers if name.lower() == "x-api-key"]
        return values[-1] if values else None

    def _integrate(self, route: ApiRoute, request: ProxyRequest) -> HttpResponse:
        function = self.functions[route.function]
        try:
            return proxy_response(
                function.invoke(proxy_event(request), request.request_id), request.request_id
            )
        except MalformedProxyResult as error:
            logger.error("malformed lambda proxy response function=%s reason=%s", function.name, error)
        except Exception:
            logger.exception("handler failed function=%s", function.name)
        # API Gateway answers a failed or malformed integration with 502 "Internal server error".
        return self.responses.render("DEFAULT_5XX", request.request_id, status=502)


def _authorizers(api: ApiDef | None, functions: Mapping[str, LoadedFunction]) -> dict[str, TokenAuthorizer]:
    authorizers = {}
    for name, definition in (api.authorizers if api else {}).items():
        if definition.payload_type != "TOKEN":
            raise GatewayConfigError(f"authorizer {name}: only TOKEN authorizers are emulated")
        if definition.function not in functions:
            raise GatewayConfigError(f"authorizer {name}: function {definition.function} is not loaded")
        authorizers[name] = TokenAuthorizer(definition, functions[definition.function])
    return authorizers


def _check_routes(
    routes: Sequence[ApiRoute],
    authorizers: Mapping[str, TokenAuthorizer],
    functions: Mapping[str, LoadedFunction],
) -> None:
    for route in routes:
        if route.authorizer is not None and route.authorizer not in authorizers:
            raise GatewayConfigError(f"{route.method} {route.path}: unknown authorizer {route.authorizer}")
        if route.function not in functions:
            raise GatewayConfigError(f"{route.method} {route.path}: function {route.function} is not loaded")


# ---------------------------------------------------------------------------------------------- http


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 resets connections as soon as a few dozen clients arrive at once.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error client=%s", client_address, exc_info=True)


def _handler_class(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(_GatewayRequestHandler):
        pass

    Handler.gateway = gateway
    return Handler


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "craiverse-local"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    timeout = _IDLE_CONNECTION_SECONDS
    # Headers and body leave in separate writes; without TCP_NODELAY each answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    gateway: LocalGateway

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every HTTP method reaches the gateway (API Gateway answers unknown ones with its 403/404).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.monotonic()
        incoming = self._incoming()
        response = self.gateway.handle(incoming)
        self._write(response, close=incoming.malformed or self.close_connection)
        logger.info(
            "request method=%s path=%s status=%d duration_ms=%d",
            self.command,
            urlsplit(self.path).path,
            response.status,
            int((time.monotonic() - started) * 1000),
        )

    def _incoming(self) -> IncomingRequest:
        body, too_large, malformed = self._body()
        return IncomingRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=str(self.client_address[0]),
            too_large=too_large,
            malformed=malformed,
        )

    def _body(self) -> tuple[bytes, bool, bool]:
        """(body, too large, malformed); an unreadable body closes the connection after the answer."""
        lengths = set(self.headers.get_all("Content-Length") or [])
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        # Ambiguous framing (two lengths, or a length beside chunking) is how requests get smuggled.
        if len(lengths) > 1 or (lengths and chunked) or len(self.headers.get_all("Authorization") or []) > 1:
            self.close_connection = True
            return b"", False, True
        if chunked:
            return self._chunked_body()

        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return b"", False, True
        if length > MAX_BODY_BYTES:
            self._discard(length)
            return b"", True, False
        return self.rfile.read(length), False, False

    def _chunked_body(self) -> tuple[bytes, bool, bool]:
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                return b"", False, True
            if size == 0 or total + size > _DRAIN_LIMIT_BYTES:
                break
            total += size
            data = self.rfile.read(size)
            if total <= MAX_BODY_BYTES:
                chunks.append(data)
            self.rfile.readline(8)

        self._skip_trailers(complete=size == 0)
        return b"".join(chunks), total > MAX_BODY_BYTES, False

    def _skip_trailers(self, *, complete: bool) -> None:
        if not complete:
            self.close_connection = True
            return
        while self.rfile.readline(8192).strip():
            pass

    def _discard(self, length: int) -> None:
        if length > _DRAIN_LIMIT_BYTES:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            data = self.rfile.read(min(remaining, _READ_CHUNK_BYTES))
            if not data:
                break
            remaining -= len(data)

    def _write(self, response: HttpResponse, *, close: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the HTTP layer finds itself (bad request line, URI or headers too long) answer in the
        API's envelope, like API Gateway's DEFAULT_4XX/5XX, never as an HTML page."""
        response_type = "DEFAULT_5XX" if code >= 500 else "DEFAULT_4XX"
        response = self.gateway.responses.render(
            response_type, str(uuid.uuid4()), status=code, message=message
        )
        self.close_connection = True
        if not hasattr(self, "command") or self.command is None:
            self.command = "GET"
        if not self.request_version or self.request_version == "HTTP/0.9":
            self.request_version = self.protocol_version
        self._write(response, close=True)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http server message=%s", format % args)
