"""Read a SAM template the way the local runner needs it.

`load_template` parses the YAML (CloudFormation short tags become their long form), `Resolver` evaluates
intrinsic functions against parameter values, pseudo parameters and local physical ids, and `SamTemplate`
offers typed views of what the runner uses: functions, API routes, the authorizer, gateway responses,
SQS event sources and the definitions of tables, queues and email identities.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "craiverse-local"
LOCAL_API_ID = "local0api1"

PSEUDO_PARAMETERS: Mapping[str, str] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
EMAIL_IDENTITY_TYPE = "AWS::SES::EmailIdentity"
FUNCTION_TYPES = ("AWS::Serverless::Function",)
API_TYPES = ("AWS::Serverless::Api",)
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")

# API Gateway caches an authorizer decision for 300 s unless the template says otherwise.
DEFAULT_REAUTHORIZE_SECONDS = 300
DEFAULT_SQS_BATCH_SIZE = 10

_SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!FindInMap": "Fn::FindInMap",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Base64": "Fn::Base64",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Cidr": "Fn::Cidr",
}

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The template cannot be read or uses something the local runner does not support."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# ---------------------------------------------------------------------------------------------- loading


class _TemplateLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(f"!{tag_suffix}")
    if name is None:
        raise TemplateError(f"unsupported YAML tag !{tag_suffix}")

    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = _split_get_att(str(value))
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]

    return {name: value}


def _construct_plain_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation reads unquoted dates (e.g. a policy's Version) as strings.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


yaml.add_multi_constructor("!", _construct_tag, Loader=_TemplateLoader)
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain_string)


def parse_template(text: str) -> dict[str, Any]:
    """Parse template text (YAML or JSON) into plain dicts with long-form intrinsics."""
    try:
        data = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise TemplateError(f"template is not valid YAML: {error}") from error

    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError("template has no Resources section")
    return data


def _split_get_att(value: str) -> list[str]:
    logical_id, _, attribute = value.partition(".")
    if not attribute:
        raise TemplateError(f"GetAtt needs Resource.Attribute, got {value!r}")
    return [logical_id, attribute]


# ---------------------------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class PhysicalResource:
    """What `Ref` and `Fn::GetAtt` answer for one resource locally."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo parameters and local physical ids."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> None:
        self._template = template
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        self.parameters = _parameter_values(template.get("Parameters") or {}, parameters or {})
        self._bound: dict[str, PhysicalResource] = {}
        self._conditions: dict[str, bool] = {}
        self._intrinsics: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Condition": self.condition,
            "Fn::Sub": self._sub,
            "Fn::GetAtt": self._get_att,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Or": self._or,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": self._get_azs,
        }

    def bind(self, logical_id: str, physical: PhysicalResource) -> None:
        """Record the real physical id and attributes of a resource created locally."""
        self._bound[logical_id] = physical

    def physical(self, logical_id: str) -> PhysicalResource:
        if logical_id in self._bound:
            return self._bound[logical_id]

        resource = self._resources.get(logical_id)
        if not isinstance(resource, dict):
            raise TemplateError(f"unknown resource {logical_id}")
        return _default_physical(logical_id, resource, self)

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function inside value; AWS::NoValue entries are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                (name, argument), *_ = value.items()
                if name in self._intrinsics and not (name == "Condition" and isinstance(argument, dict)):
                    return self._intrinsics[name](argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}

        if isinstance(value, list):
            return [item for item in (self.resolve(element) for element in value) if item is not NO_VALUE]

        return value

    def resolve_str(self, value: Any) -> str:
        """Resolve value to the string CloudFormation would pass on (booleans lower case)."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, str | int | float):
            return str(resolved)
        raise TemplateError(f"expected a string, got {resolved!r}")

    def condition(self, name: Any) -> bool:
        if name not in self._conditions:
            conditions = self._template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = _as_bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def _ref(self, name: Any) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._resources:
            return self.physical(name).ref

        # SAM property references such as Api.Stage or Function.Alias.
        logical_id, _, attribute = str(name).partition(".")
        if attribute and logical_id in self._resources:
            return self._attribute(logical_id, attribute)
        raise TemplateError(f"Ref to unknown name {name}")

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = _split_get_att(argument) if isinstance(argument, str) else argument
        return self._attribute(str(logical_id), self.resolve_str(attribute))

    def _attribute(self, logical_id: str, attribute: str) -> str:
        attributes = self.physical(logical_id).attributes
        if attribute not in attributes:
            raise TemplateError(f"attribute {logical_id}.{attribute} is not available locally")
        return attributes[attribute]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve_str(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return values[name]
            if name in self.parameters or name in PSEUDO_PARAMETERS or name in self._resources:
                return self.resolve_str({"Ref": name})
            return self.resolve_str({"Fn::GetAtt": _split_get_att(name)})

        return _SUB_PLACEHOLDER.sub(replace, str(text))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return bool(_normalised(left) == _normalised(right))

    def _not(self, argument: Any) -> bool:
        (value,) = argument
        return not _as_bool(self.resolve(value))

    def _and(self, argument: Any) -> bool:
        return all(_as_bool(self.resolve(value)) for value in argument)

    def _or(self, argument: Any) -> bool:
        return any(_as_bool(self.resolve(value)) for value in argument)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve(item) for item in argument[:3])
        mapping = (self._template.get("Mappings") or {}).get(map_name, {})
        try:
            return mapping[top_key][second_key]
        except (KeyError, TypeError) as error:
            if len(argument) > 3 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
                return self.resolve(argument[3]["DefaultValue"])
            raise TemplateError(f"FindInMap {map_name}/{top_key}/{second_key} not found") from error

    def _join(self, argument: Any) -> str:
        delimiter, values = argument
        return str(delimiter).join(self.resolve_str(value) for value in self.resolve(values))

    def _select(self, argument: Any) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return self.resolve_str(text).split(str(delimiter))

    def _base64(self, argument: Any) -> str:
        return base64.b64encode(self.resolve_str(argument).encode()).decode()

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.resolve_str(argument) or REGION
        return [f"{region}{suffix}" for suffix in "abc"]


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown template parameters: {', '.join(unknown)}")

    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = overrides.get(name, spec.get("Default"))
        if value is None:
            raise TemplateError(f"template parameter {name} has no value and no default")
        values[name] = _parameter_value(name, spec, _scalar_str(value))
    return values


def _parameter_value(name: str, spec: Mapping[str, Any], value: str) -> Any:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_scalar_str(item) for item in allowed]:
        raise TemplateError(f"template parameter {name}={value!r} is not one of {allowed}")

    kind = str(spec.get("Type", "String"))
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return [item.strip() for item in value.split(",")]
    return value


def _default_physical(logical_id: str, resource: Mapping[str, Any], resolver: Resolver) -> PhysicalResource:
    kind = resource.get("Type", "")
    properties = resource.get("Properties") or {}
    builder = _PHYSICAL_BUILDERS.get(kind)
    if builder is not None:
        return builder(logical_id, properties, resolver)
    return PhysicalResource(ref=f"{logical_id}-local")


def _table_physical(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> PhysicalResource:
    name = _name_property(properties, "TableName", logical_id, resolver)
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    return PhysicalResource(ref=name, attributes={"Arn": arn, "StreamArn": f"{arn}/stream/local"})


def queue_physical(name: str, url: str | None = None, arn: str | None = None) -> PhysicalResource:
    """Ref of a queue is its URL; Arn and QueueName are attributes."""
    url = url or f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
    arn = arn or f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    return PhysicalResource(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


def queue_name(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> str:
    name = _name_property(properties, "QueueName", logical_id, resolver)
    fifo = _as_bool(resolver.resolve(properties.get("FifoQueue", False)))
    return f"{name}.fifo" if fifo and not name.endswith(".fifo") else name


def _queue_physical(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> PhysicalResource:
    return queue_physical(queue_name(logical_id, properties, resolver))


def _function_physical(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver
) -> PhysicalResource:
    name = _name_property(properties, "FunctionName", logical_id, resolver)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    return PhysicalResource(ref=name, attributes={"Arn": arn, "Alias": f"{arn}:live", "Version": f"{arn}:1"})


def _layer_physical(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> PhysicalResource:
    name = _name_property(properties, "LayerName", logical_id, resolver)
    return PhysicalResource(ref=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{name}:1")


def _api_physical(logical_id: str, properties: Mapping[str, Any], resolver: Resolver) -> PhysicalResource:
    stage = resolver.resolve_str(properties.get("StageName", "Prod"))
    attributes = {"RootResourceId": "localroot0", "Stage": stage, "Deployment": "localdeploy"}
    return PhysicalResource(ref=LOCAL_API_ID, attributes=attributes)


def _email_identity_physical(
    logical_id: str, properties: Mapping[str, Any], resolver: Resolver
) -> PhysicalResource:
    return PhysicalResource(ref=resolver.resolve_str(properties.get("EmailIdentity", logical_id)))


def _name_property(properties: Mapping[str, Any], key: str, logical_id: str, resolver: Resolver) -> str:
    if key in properties:
        return resolver.resolve_str(properties[key])
    return f"{STACK_NAME}-{logical_id}"


_PHYSICAL_BUILDERS: Mapping[str, Callable[[str, Mapping[str, Any], Resolver], PhysicalResource]] = {
    TABLE_TYPE: _table_physical,
    QUEUE_TYPE: _queue_physical,
    EMAIL_IDENTITY_TYPE: _email_identity_physical,
    "AWS::Serverless::Function": _function_physical,
    "AWS::Lambda::Function": _function_physical,
    "AWS::Serverless::LayerVersion": _layer_physical,
    "AWS::Lambda::LayerVersion": _layer_physical,
    "AWS::Serverless::Api": _api_physical,
    "AWS::ApiGateway::RestApi": _api_physical,
}


def _scalar_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _normalised(value: Any) -> Any:
    return _scalar_str(value) if isinstance(value, bool | int | float | str) else value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def unquote_static(value: str) -> str | None:
    """'text' -> text; None for values that are not single-quoted static strings."""
    if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
        return value[1:-1]
    return None


# ---------------------------------------------------------------------------------------------- typed views


@dataclass(frozen=True)
class FunctionDef:
    """A function as the local runner invokes it (Globals merged, environment resolved)."""

    logical_id: str
    code_uri: Path
    handler: str
    environment: Mapping[str, str]
    layers: tuple[Path, ...]
    timeout: int
    memory_size: int
    function_name: str
    arn: str

    @property
    def module_name(self) -> str:
        return self.handler.rpartition(".")[0]

    @property
    def attribute(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def source_file(self) -> Path:
        return self.code_uri / (self.module_name.replace(".", "/") + ".py")


@dataclass(frozen=True)
class ApiRoute:
    """One `Type: Api` event: method and path template served by a function."""

    function: str
    path: str
    method: str
    authorizer: str | None
    api_key_required: bool

    @property
    def auth_none(self) -> bool:
        return self.authorizer is None


@dataclass(frozen=True)
class AuthorizerDef:
    name: str
    function: str
    header: str
    validation_expression: str | None
    reauthorize_every: int
    is_default: bool
    payload_type: str


@dataclass(frozen=True)
class CorsConfig:
    allow_origin: str
    allow_headers: str | None
    allow_methods: str | None
    max_age: str | None
    allow_credentials: bool


@dataclass(frozen=True)
class ApiDef:
    logical_id: str
    api_id: str
    stage_name: str
    cors: CorsConfig | None
    authorizers: Mapping[str, AuthorizerDef]
    default_authorizer: str | None
    api_key_required: bool
    api_key_source: str
    authorizer_on_preflight: bool
    api_key_on_preflight: bool

    @property
    def authorizer(self) -> AuthorizerDef | None:
        """The default authorizer, or the only one declared."""
        if self.default_authorizer is not None:
            return self.authorizers[self.default_authorizer]
        if len(self.authorizers) == 1:
            return next(iter(self.authorizers.values()))
        return None


@dataclass(frozen=True)
class GatewayResponseDef:
    response_type: str
    status_code: int | None
    headers: Mapping[str, str]
    template: str | None


@dataclass(frozen=True)
class SqsEventSourceDef:
    function: str
    queue: str
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class ResourceDef:
    """A resource as written in the template (properties unresolved)."""

    logical_id: str
    type: str
    properties: Mapping[str, Any]


class SamTemplate:
    """A parsed SAM template with typed views resolved against local physical ids."""

    def __init__(self, data: Mapping[str, Any], root: Path, parameters: Mapping[str, str] | None = None):
        self.data = data
        self.root = root
        self.resolver = Resolver(data, parameters)

    @classmethod
    def load(cls, path: str | Path, parameters: Mapping[str, str] | None = None) -> SamTemplate:
        template_path = Path(path)
        try:
            text = template_path.read_text(encoding="utf-8")
        except OSError as error:
            raise TemplateError(f"cannot read template {template_path}: {error}") from error
        return cls(parse_template(text), template_path.resolve().parent, parameters)

    @property
    def resources(self) -> dict[str, ResourceDef]:
        # A resource whose Condition is false does not exist in the stack.
        return {
            logical_id: ResourceDef(logical_id, resource.get("Type", ""), resource.get("Properties") or {})
            for logical_id, resource in self.data["Resources"].items()
            if "Condition" not in resource or self.resolver.condition(resource["Condition"])
        }

    def resources_of_type(self, *types: str) -> list[ResourceDef]:
        return [resource for resource in self.resources.values() if resource.type in types]

    def tables(self) -> list[ResourceDef]:
        return self.resources_of_type(TABLE_TYPE)

    def queues(self) -> list[ResourceDef]:
        return self.resources_of_type(QUEUE_TYPE)

    def email_identities(self) -> list[ResourceDef]:
        return self.resources_of_type(EMAIL_IDENTITY_TYPE)

    def functions(self) -> dict[str, FunctionDef]:
        return {
            resource.logical_id: self._function(resource)
            for resource in self.resources_of_type(*FUNCTION_TYPES)
        }

    def function(self, logical_id: str) -> FunctionDef:
        functions = self.functions()
        if logical_id not in functions:
            raise TemplateError(f"unknown function {logical_id}")
        return functions[logical_id]

    def environment(self) -> dict[str, str]:
        """Union of every function's environment; a variable defined twice must agree."""
        merged: dict[str, str] = {}
        owners: dict[str, str] = {}
        for function in self.functions().values():
            for name, value in function.environment.items():
                if name in merged and merged[name] != value:
                    raise TemplateError(
                        f"functions {owners[name]} and {function.logical_id} set environment variable "
                        f"{name} to different values; the local runner shares one process environment"
                    )
                merged[name] = value
                owners.setdefault(name, function.logical_id)
        return merged

    def api(self) -> ApiDef | None:
        apis = self.resources_of_type(*API_TYPES)
        if len(apis) > 1:
            raise TemplateError("the local runner supports one AWS::Serverless::Api")
        return self._api(apis[0]) if apis else None

    def authorizer(self) -> AuthorizerDef | None:
        api = self.api()
        return api.authorizer if api else None

    def routes(self) -> list[ApiRoute]:
        api = self.api()
        routes = []
        for function_id, event in self._events("Api"):
            routes.append(_route(function_id, event, api))
        return routes

    def gateway_responses(self) -> dict[str, GatewayResponseDef]:
        responses = {}
        for resource in self.resources_of_type("AWS::ApiGateway::GatewayResponse"):
            response = self._gateway_response(resource.properties)
            responses[response.response_type] = response
        return responses

    def sqs_event_sources(self) -> list[SqsEventSourceDef]:
        return [self._sqs_source(function_id, event) for function_id, event in self._events("SQS")]

    def api_keys(self) -> dict[str, str]:
        """Enabled API key values -> their local key id."""
        keys = {}
        for resource in self.resources_of_type("AWS::ApiGateway::ApiKey"):
            resolved = self.resolver.resolve(dict(resource.properties))
            if "Value" in resolved and _as_bool(resolved.get("Enabled", True)):
                keys[str(resolved["Value"])] = self.resolver.physical(resource.logical_id).ref
        return keys

    def path(self, relative: str) -> Path:
        return (self.root / relative).resolve()

    def _events(self, event_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for resource in self.resources_of_type(*FUNCTION_TYPES):
            for event in (resource.properties.get("Events") or {}).values():
                if event.get("Type") == event_type:
                    yield resource.logical_id, event.get("Properties") or {}

    def _function_properties(self, resource: ResourceDef) -> dict[str, Any]:
        globals_ = (self.data.get("Globals") or {}).get("Function") or {}
        return _merge_globals(globals_, resource.properties)

    def _function(self, resource: ResourceDef) -> FunctionDef:
        properties = self._function_properties(resource)
        if "CodeUri" not in properties or "Handler" not in properties:
            raise TemplateError(f"function {resource.logical_id} needs a local CodeUri and a Handler")

        physical = self.resolver.physical(resource.logical_id)
        variables = self.resolver.resolve((properties.get("Environment") or {}).get("Variables") or {})
        return FunctionDef(
            logical_id=resource.logical_id,
            code_uri=self.path(self.resolver.resolve_str(properties["CodeUri"])),
            handler=self.resolver.resolve_str(properties["Handler"]),
            environment={name: self.resolver.resolve_str(value) for name, value in variables.items()},
            layers=self._layer_dirs(properties.get("Layers") or []),
            timeout=int(self.resolver.resolve_str(properties.get("Timeout", 3))),
            memory_size=int(self.resolver.resolve_str(properties.get("MemorySize", 128))),
            function_name=physical.ref,
            arn=physical.attributes["Arn"],
        )

    def _layer_dirs(self, layers: list[Any]) -> tuple[Path, ...]:
        directories = []
        for layer in layers:
            logical_id = layer.get("Ref") if isinstance(layer, dict) else None
            resource = self.resources.get(str(logical_id))
            if resource is None or resource.type not in LAYER_TYPES:
                logger.warning("layer skipped, not a local layer resource layer=%s", layer)
                continue
            content_uri = resource.properties.get("ContentUri")
            if not isinstance(content_uri, str):
                raise TemplateError(f"layer {logical_id} needs a local ContentUri directory")
            directories.append(self.path(content_uri))
        return tuple(directories)

    def _api(self, resource: ResourceDef) -> ApiDef:
        properties = resource.properties
        auth = properties.get("Auth") or {}
        default = auth.get("DefaultAuthorizer")
        return ApiDef(
            logical_id=resource.logical_id,
            api_id=self.resolver.physical(resource.logical_id).ref,
            stage_name=self.resolver.resolve_str(properties.get("StageName", "Prod")),
            cors=self._cors(properties.get("Cors")),
            authorizers={
                name: self._authorizer(name, spec, is_default=name == default)
                for name, spec in (auth.get("Authorizers") or {}).items()
            },
            default_authorizer=None if default in (None, "NONE") else str(default),
            api_key_required=_as_bool(self.resolver.resolve(auth.get("ApiKeyRequired", False))),
            api_key_source=self.resolver.resolve_str(properties.get("ApiKeySourceType", "HEADER")),
            authorizer_on_preflight=_as_bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True)),
            api_key_on_preflight=_as_bool(auth.get("AddApiKeyRequiredToCorsPreflight", True)),
        )

    def _authorizer(self, name: str, spec: Mapping[str, Any], *, is_default: bool) -> AuthorizerDef:
        function_arn = spec.get("FunctionArn")
        if not (isinstance(function_arn, dict) and "Fn::GetAtt" in function_arn):
            raise TemplateError(f"authorizer {name} must use !GetAtt <Function>.Arn as FunctionArn")
        target = function_arn["Fn::GetAtt"]
        function_id = _split_get_att(target)[0] if isinstance(target, str) else str(target[0])

        identity = spec.get("Identity") or {}
        expression = identity.get("ValidationExpression")
        return AuthorizerDef(
            name=name,
            function=function_id,
            header=self.resolver.resolve_str(identity.get("Header", "Authorization")),
            validation_expression=None if expression is None else self.resolver.resolve_str(expression),
            reauthorize_every=int(
                self.resolver.resolve_str(identity.get("ReauthorizeEvery", DEFAULT_REAUTHORIZE_SECONDS))
            ),
            is_default=is_default,
            payload_type=str(spec.get("FunctionPayloadType", "TOKEN")),
        )

    def _cors(self, cors: Any) -> CorsConfig | None:
        if cors is None:
            return None

        spec = {"AllowOrigin": cors} if not isinstance(cors, dict) else cors
        values = {key: self._static_value(f"Cors.{key}", value) for key, value in spec.items()}
        if values.get("AllowOrigin") is None:
            raise TemplateError("Cors needs a single-quoted AllowOrigin")
        return CorsConfig(
            allow_origin=str(values["AllowOrigin"]),
            allow_headers=values.get("AllowHeaders"),
            allow_methods=values.get("AllowMethods"),
            max_age=values.get("MaxAge"),
            allow_credentials=_as_bool(spec.get("AllowCredentials", False)),
        )

    def _static_value(self, where: str, value: Any) -> str | None:
        if isinstance(value, bool):
            return None
        text = self.resolver.resolve_str(value)
        static = unquote_static(text)
        if static is None:
            logger.warning("value ignored, not a single-quoted static string where=%s", where)
        return static

    def _gateway_response(self, properties: Mapping[str, Any]) -> GatewayResponseDef:
        headers = {}
        for key, value in (properties.get("ResponseParameters") or {}).items():
            prefix, _, header = str(key).partition("gatewayresponse.header.")
            if header and not prefix and value == "context.requestId":
                headers[header] = "$context.requestId"
                continue
            static = self._static_value(str(key), value) if header and not prefix else None
            if static is not None:
                headers[header] = static

        status = properties.get("StatusCode")
        template = (properties.get("ResponseTemplates") or {}).get("application/json")
        return GatewayResponseDef(
            response_type=self.resolver.resolve_str(properties["ResponseType"]),
            status_code=None if status is None else int(self.resolver.resolve_str(status)),
            headers=headers,
            template=None if template is None else self.resolver.resolve_str(template),
        )

    def _sqs_source(self, function_id: str, event: Mapping[str, Any]) -> SqsEventSourceDef:
        queue = event.get("Queue")
        target = queue.get("Fn::GetAtt") if isinstance(queue, dict) else None
        if target is None:
            raise TemplateError(f"SQS event of {function_id} must use !GetAtt <Queue>.Arn")

        response_types = event.get("FunctionResponseTypes") or []
        return SqsEventSourceDef(
            function=function_id,
            queue=_split_get_att(target)[0] if isinstance(target, str) else str(target[0]),
            batch_size=int(self.resolver.resolve_str(event.get("BatchSize", DEFAULT_SQS_BATCH_SIZE))),
            report_batch_item_failures="ReportBatchItemFailures" in response_types,
            enabled=_as_bool(self.resolver.resolve(event.get("Enabled", True))),
        )


def _route(function_id: str, event: Mapping[str, Any], api: ApiDef | None) -> ApiRoute:
    auth = event.get("Auth") or {}
    authorizer = auth.get("Authorizer", api.default_authorizer if api else None)
    api_key_required = auth.get("ApiKeyRequired", api.api_key_required if api else False)
    return ApiRoute(
        function=function_id,
        path=str(event["Path"]),
        method=str(event["Method"]).upper(),
        authorizer=None if authorizer in (None, "NONE") else str(authorizer),
        api_key_required=_as_bool(api_key_required),
    )


def _merge_globals(globals_: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """SAM Globals: maps merge, lists add up (globals first), scalars are overridden."""
    merged = dict(globals_)
    for key, value in local.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = _merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = [*current, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in {"Ref", "Condition", *_SHORT_TAGS.values()}


def load_template(
    path: str | Path = "template.yaml", parameters: Mapping[str, str] | None = None
) -> SamTemplate:
    """Load a SAM template; parameters override the template's defaults."""
    return SamTemplate.load(path, parameters)
