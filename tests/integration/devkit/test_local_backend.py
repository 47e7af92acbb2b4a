"""devkit.local.backend: resources from template.yaml, and the embedded moto server's request lock."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devkit.local.backend import EmbeddedAws, LocalResources, create_from_template

ROOT = Path(__file__).resolve().parents[3]
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


@pytest.fixture
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def created(fake_aws_environment: None) -> Iterator[LocalResources]:
    with mock_aws():
        yield create_from_template(ROOT / "template.yaml")


def test_table_has_its_keys_gsi_and_ttl(created: LocalResources) -> None:
    dynamodb = boto3.client("dynamodb")

    table = dynamodb.describe_table(TableName=created.table_name("DataTable"))["Table"]
    ttl = dynamodb.describe_time_to_live(TableName="craiverse-dev")["TimeToLiveDescription"]

    assert created.table_name("DataTable") == "craiverse-dev"
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["PK", "SK"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl == {"AttributeName": "expires_at", "TimeToLiveStatus": "ENABLED"}


@pytest.mark.parametrize(
    ("queue", "dead_letter_queue"),
    [("EmailQueue", "EmailDeadLetterQueue"), ("WebhookQueue", "WebhookDeadLetterQueue")],
)
def test_queues_redrive_to_their_dead_letter_queues(
    created: LocalResources, queue: str, dead_letter_queue: str
) -> None:
    sqs = boto3.client("sqs")

    attributes = sqs.get_queue_attributes(QueueUrl=created.queue_url(queue), AttributeNames=["All"])[
        "Attributes"
    ]

    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": created.queues[dead_letter_queue].arn,
        "maxReceiveCount": 5,
    }
    assert attributes["VisibilityTimeout"] == "60"


def test_ses_identity_is_verified(created: LocalResources) -> None:
    identities = boto3.client("ses").list_identities()["Identities"]

    assert created.email_identities == {"SenderIdentity": "noreply@craudiovizai.com"}
    assert "noreply@craudiovizai.com" in identities


def test_environment_is_resolved_against_the_created_resources(created: LocalResources) -> None:
    assert created.environment["TABLE_NAME"] == "craiverse-dev"
    assert created.environment["CORS_ALLOW_ORIGIN"] == "*"


@pytest.fixture
def embedded() -> Iterator[EmbeddedAws]:
    aws = EmbeddedAws().start()
    yield aws
    aws.stop()


def client(aws: EmbeddedAws, service: str) -> Any:
    return boto3.client(service, endpoint_url=aws.endpoint_url, **FAKE_CREDENTIALS)


def test_embedded_aws_listens_on_loopback(embedded: EmbeddedAws) -> None:
    assert embedded.endpoint_url.startswith("http://127.0.0.1:")
    assert client(embedded, "dynamodb").list_tables()["TableNames"] == []


def test_a_long_poll_does_not_hold_the_lock_for_other_requests(embedded: EmbeddedAws) -> None:
    sqs = client(embedded, "sqs")
    url = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    received: list[Any] = []
    poller = threading.Thread(
        target=lambda: received.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages"))
    )

    poller.start()
    time.sleep(0.3)
    started = time.monotonic()
    client(embedded, "dynamodb").list_tables()
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poller.join(timeout=5)

    assert time.monotonic() - started < 1.5
    assert received[0][0]["Body"] == "wake up"


def test_each_embedded_backend_starts_empty(embedded: EmbeddedAws) -> None:
    client(embedded, "sqs").create_queue(QueueName="left-over")

    with EmbeddedAws() as fresh:
        assert client(fresh, "sqs").list_queues().get("QueueUrls", []) == []
