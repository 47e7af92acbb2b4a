"""The email hook: one JSON message per email on the email queue, a client built only when mail is sent."""

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from craiverse import config, notifications
from craiverse.config import ConfigurationError
from craiverse.notifications import Template

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/craiverse-dev-email"
USER = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("EMAIL_QUEUE_URL", QUEUE)
    config.settings.cache_clear()
    sqs = boto3.client("sqs", region_name="us-east-1")
    monkeypatch.setattr(notifications, "client", lambda: sqs)
    with Stubber(sqs) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_an_email_is_one_json_message_with_template_user_and_data(queue: Stubber) -> None:
    body = f'{{"template":"ticket_created","user_id":"{USER}","data":{{"ticket_number":"TKT-7K3F9Q2M"}}}}'
    queue.add_response("send_message", {"MessageId": "m-1"}, {"QueueUrl": QUEUE, "MessageBody": body})

    queued = notifications.queue_email(Template.TICKET_CREATED, USER, {"ticket_number": "TKT-7K3F9Q2M"})

    assert queued is True


def test_a_refused_send_is_reported_not_raised(queue: Stubber) -> None:
    queue.add_client_error("send_message", service_error_code="AWS.SimpleQueueService.NonExistentQueue")

    assert notifications.queue_email(Template.WELCOME, USER, {}) is False


def test_without_a_queue_url_sending_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMAIL_QUEUE_URL", raising=False)
    config.settings.cache_clear()

    with pytest.raises(ConfigurationError, match="EMAIL_QUEUE_URL"):
        notifications.queue_url()


def test_the_templates_are_the_contracts() -> None:
    assert [t.value for t in Template] == [
        "welcome",
        "subscription_confirmed",
        "payment_failed",
        "low_credits",
        "renewal_reminder",
        "ticket_created",
    ]
