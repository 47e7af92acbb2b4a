"""devkit.template: short tags, intrinsic resolution and the typed views of template.yaml."""

from pathlib import Path

import pytest

from devkit.template import (
    ACCOUNT_ID,
    LOCAL_API_ID,
    PhysicalResource,
    Resolver,
    SamTemplate,
    TemplateError,
    load_template,
    parse_template,
)

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"

SHORT_TAGS = """
Resources:
  Thing:
    Type: Custom::Thing
    Properties:
      Ref: !Ref Name
      Sub: !Sub "${AWS::Region}-x"
      SubList: !Sub ["${A}-y", {A: !Ref Name}]
      GetAttString: !GetAtt Queue.Arn
      GetAttList: !GetAtt [Queue, QueueName]
      If: !If [IsProd, 1, 2]
      Equals: !Equals [a, b]
      Map: !FindInMap [M, top, second]
      Join: !Join [",", [a, b]]
      Select: !Select [0, [a, b]]
      Split: !Split [",", "a,b"]
      Logic: !And [!Not [!Equals [a, b]], !Or [!Condition IsProd, true]]
      Date: 2012-10-17
"""


@pytest.fixture(scope="module")
def template() -> SamTemplate:
    return load_template(ROOT / "template.yaml")


def test_short_tags_become_long_form_intrinsics() -> None:
    properties = parse_template(SHORT_TAGS)["Resources"]["Thing"]["Properties"]

    assert properties["Ref"] == {"Ref": "Name"}
    assert properties["Sub"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert properties["SubList"] == {"Fn::Sub": ["${A}-y", {"A": {"Ref": "Name"}}]}
    assert properties["GetAttString"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert properties["GetAttList"] == {"Fn::GetAtt": ["Queue", "QueueName"]}
    assert properties["If"] == {"Fn::If": ["IsProd", 1, 2]}
    assert properties["Map"] == {"Fn::FindInMap": ["M", "top", "second"]}
    assert properties["Split"] == {"Fn::Split": [",", "a,b"]}
    assert properties["Logic"] == {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
            {"Fn::Or": [{"Condition": "IsProd"}, True]},
        ]
    }
    assert properties["Date"] == "2012-10-17"


def test_a_template_without_resources_is_rejected() -> None:
    with pytest.raises(TemplateError, match="Resources"):
        parse_template("Parameters: {}")


def test_resolver_evaluates_intrinsics_with_parameters_and_pseudo_parameters() -> None:
    data = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "Size": {"Type": "Number", "Default": 5},
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Mappings": {"Tier": {"free": {"Rate": 10}}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}},
    }
    resolver = Resolver(data, {"Stage": "prod"})

    assert resolver.resolve({"Fn::Sub": "${Stage}-${AWS::AccountId}-${Size}"}) == f"prod-{ACCOUNT_ID}-5"
    assert resolver.resolve({"Fn::Sub": ["${X}/${!Literal}", {"X": {"Ref": "Stage"}}]}) == "prod/${Literal}"
    assert resolver.resolve({"Fn::If": ["IsProd", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::FindInMap": ["Tier", "free", "Rate"]}) == 10
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-prod"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "QueueName"]}) == "q"
    assert resolver.resolve({"Fn::Sub": "${Queue.Arn}"}) == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:q"


def test_no_value_drops_the_key_or_list_item() -> None:
    resolver = Resolver({"Resources": {}})

    resolved = resolver.resolve(
        {"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}, "List": [1, {"Ref": "AWS::NoValue"}]}
    )

    assert resolved == {"Keep": 1, "List": [1]}


def test_bound_physical_ids_replace_the_defaults() -> None:
    resolver = Resolver({"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}})

    resolver.bind("Queue", PhysicalResource("http://127.0.0.1:1/q", {"Arn": "arn:q"}))

    assert resolver.resolve({"Ref": "Queue"}) == "http://127.0.0.1:1/q"
    assert resolver.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:q"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"Nope": "x"}, "unknown template parameters"), ({"Stage": "qa"}, "is not one of")],
)
def test_bad_parameter_overrides_fail_loudly(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_template(ROOT / "template.yaml", parameters)


def test_real_template_routes_all_use_the_key_authorizer(template: SamTemplate) -> None:
    routes = {(route.method, route.path): route for route in template.routes()}

    assert routes[("GET", "/credits/balance")].function == "CreditsBalanceFunction"
    assert routes[("POST", "/credits/deduct")].function == "CreditsDeductFunction"
    assert all(route.authorizer == "KeyAuthorizer" and route.api_key_required for route in routes.values())


def test_real_template_authorizer_and_api(template: SamTemplate) -> None:
    api = template.api()
    authorizer = template.authorizer()

    assert api is not None
    assert authorizer is not None
    assert (api.api_id, api.stage_name, api.api_key_source) == (LOCAL_API_ID, "v1", "AUTHORIZER")
    assert api.cors is not None
    assert api.cors.allow_origin == "*"
    assert api.cors.allow_headers == "Authorization,Content-Type,Idempotency-Key"
    assert not api.authorizer_on_preflight
    assert authorizer.function == "AuthorizerFunction"
    assert authorizer.header == "Authorization"
    assert authorizer.validation_expression == "^Bearer crv_(sk|pk)_[A-Za-z0-9_-]{43}$"
    assert authorizer.reauthorize_every == 300
    assert authorizer.is_default


def test_real_template_gateway_responses(template: SamTemplate) -> None:
    responses = template.gateway_responses()

    assert responses["UNAUTHORIZED"].status_code == 401
    assert responses["UNAUTHORIZED"].headers == {
        "Access-Control-Allow-Origin": "*",
        "WWW-Authenticate": "Bearer",
        "X-Request-Id": "$context.requestId",
    }
    assert responses["REQUEST_TOO_LARGE"].status_code == 413
    assert responses["MISSING_AUTHENTICATION_TOKEN"].status_code == 404
    assert responses["DEFAULT_4XX"].status_code is None
    assert "$context.error.messageString" in str(responses["DEFAULT_4XX"].template)


def test_real_template_function_environment_is_resolved(template: SamTemplate) -> None:
    function = template.function("AuthorizerFunction")

    assert function.environment["TABLE_NAME"] == "craiverse-dev"
    assert function.environment["USAGE_KEY_FREE"] == f"craiverse-dev-tier-free-{ACCOUNT_ID}"
    assert function.environment["LOG_LEVEL"] == "INFO"
    assert function.layers == (ROOT / "layers" / "common",)
    assert function.source_file == ROOT / "functions" / "authorizer" / "app.py"
    assert (function.timeout, function.memory_size) == (10, 512)


def test_real_template_api_keys_and_resources(template: SamTemplate) -> None:
    assert f"craiverse-dev-tier-pro-{ACCOUNT_ID}" in template.api_keys()
    assert [table.logical_id for table in template.tables()] == ["DataTable"]
    assert {queue.logical_id for queue in template.queues()} >= {"EmailQueue", "EmailDeadLetterQueue"}
    assert [identity.logical_id for identity in template.email_identities()] == ["SenderIdentity"]


def test_parameters_change_resolved_values() -> None:
    template = load_template(ROOT / "template.yaml", {"Stage": "prod"})

    assert template.function("CreditsAddFunction").environment["TABLE_NAME"] == "craiverse-prod"
    assert template.resolver.resolve(
        template.data["Resources"]["DataTable"]["Properties"]["DeletionProtectionEnabled"]
    )


def test_fixture_sqs_event_source() -> None:
    template = load_template(FIXTURES / "template_min.yaml")

    (source,) = template.sqs_event_sources()

    assert (source.function, source.queue, source.batch_size) == ("WorkerFunction", "WorkQueue", 5)
    assert source.report_batch_item_failures


def test_conflicting_environment_variables_are_refused() -> None:
    text = (FIXTURES / "template_min.yaml").read_text()
    data = parse_template(text)
    data["Resources"]["BrokenFunction"]["Properties"]["Environment"] = {"Variables": {"STAGE": "elsewhere"}}

    with pytest.raises(TemplateError, match="STAGE"):
        SamTemplate(data, FIXTURES).environment()
