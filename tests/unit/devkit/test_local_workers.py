"""devkit.local.workers: which messages stay on the queue after an invocation, as Lambda decides."""

from typing import Any

import pytest

from devkit.local.workers import failed_message_ids

IDS = ["m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, {"m2"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, set(IDS)),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, set(IDS)),
        ({"batchItemFailures": [{"wrongKey": "m1"}]}, set(IDS)),
        ({"batchItemFailures": "m1"}, set(IDS)),
        ("not an object", set(IDS)),
    ],
)
def test_reported_batch_item_failures(response: Any, failed: set[str]) -> None:
    assert failed_message_ids(IDS, response, raised=False, report_batch_item_failures=True) == failed


@pytest.mark.parametrize("report", [True, False])
def test_an_exception_keeps_the_whole_batch(report: bool) -> None:
    assert failed_message_ids(IDS, None, raised=True, report_batch_item_failures=report) == set(IDS)


def test_without_reporting_the_response_is_ignored() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "m1"}]}

    assert failed_message_ids(IDS, response, raised=False, report_batch_item_failures=False) == set()
