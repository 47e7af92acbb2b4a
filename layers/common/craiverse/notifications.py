"""Transactional email, queued for the email worker: one SQS message `{template, user_id, data}`.

The worker (a later capability) resolves the address from `user_id`, so no address ever travels in a
message or a log. Mail is queued after the change it announces has committed; a failure to queue is
logged and does not undo that change.

NOTE: a message lost between the commit and SendMessage is not retried. A transactional outbox (an item
written in the same DynamoDB transaction and relayed by a stream consumer) would remove that window.
"""

import json
from enum import StrEnum
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from craiverse.config import ConfigurationError, settings
from craiverse.log import logger


class Template(StrEnum):
    WELCOME = "welcome"
    SUBSCRIPTION_CONFIRMED = "subscription_confirmed"
    PAYMENT_FAILED = "payment_failed"
    LOW_CREDITS = "low_credits"
    RENEWAL_REMINDER = "renewal_reminder"
    TICKET_CREATED = "ticket_created"


@cache
def client() -> Any:
    """Created on first use only, so functions that never send mail never build an SQS client."""
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("sqs", config=config)


def queue_url() -> str:
    """The email queue; call it before writing anything that will announce itself by mail."""
    url = settings().email_queue_url
    if url is None:
        raise ConfigurationError("environment variable EMAIL_QUEUE_URL is required to queue email")
    return url


def message(template: Template, user_id: str, data: dict[str, Any]) -> str:
    return json.dumps({"template": template.value, "user_id": user_id, "data": data}, separators=(",", ":"))


def queue_email(template: Template, user_id: str, data: dict[str, Any]) -> bool:
    """Queues one email; answers whether it was queued (a failure is logged, never raised)."""
    try:
        client().send_message(QueueUrl=queue_url(), MessageBody=message(template, user_id, data))
    except (ClientError, BotoCoreError) as err:
        logger.error(
            "email not queued",
            extra={"template": template.value, "user_id": user_id, "error": type(err).__name__},
        )
        return False
    logger.info("email queued", extra={"template": template.value, "user_id": user_id})
    return True
