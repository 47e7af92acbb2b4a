"""Transactions retry contention and throttling with backoff, and hand failed conditions back by position.

moto never answers TransactionConflict, so these use botocore's Stubber on the real client.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from craiverse import db
from craiverse.errors import ServiceUnavailable

ITEMS = [{"Put": {"TableName": "craiverse-dev", "Item": {"PK": {"S": "a"}, "SK": {"S": "b"}}}}]


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setattr(db, "_backoff", lambda attempt: None)
    with Stubber(db.client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def cancelled(*codes: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = [{"Code": code} for code in codes]
    if item is not None:
        reasons[0]["Item"] = item
    return {
        "service_error_code": "TransactionCanceledException",
        "service_message": "Transaction cancelled",
        "http_status_code": 400,
        "modeled_fields": {"Message": "Transaction cancelled", "CancellationReasons": reasons},
    }


def test_a_transaction_conflict_is_retried_until_it_commits(stubbed: Stubber) -> None:
    stubbed.add_client_error("transact_write_items", **cancelled("TransactionConflict", "None"))
    stubbed.add_client_error("transact_write_items", **cancelled("None", "TransactionConflict"))
    stubbed.add_response("transact_write_items", {})

    db.transact_write(ITEMS)


def test_throttling_is_retried(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "transact_write_items", service_error_code="ThrottlingException", http_status_code=400
    )
    stubbed.add_client_error(
        "transact_write_items",
        service_error_code="ProvisionedThroughputExceededException",
        http_status_code=400,
    )
    stubbed.add_response("transact_write_items", {})

    db.transact_write(ITEMS)


def test_endless_contention_gives_up_with_503(stubbed: Stubber) -> None:
    for _ in range(db.MAX_ATTEMPTS):
        stubbed.add_client_error("transact_write_items", **cancelled("TransactionConflict"))

    with pytest.raises(ServiceUnavailable):
        db.transact_write(ITEMS)


def test_a_failed_condition_is_not_retried_and_keeps_positions(stubbed: Stubber) -> None:
    old = {"PK": {"S": "a"}, "SK": {"S": "b"}, "balance": {"N": "7"}}
    stubbed.add_client_error("transact_write_items", **cancelled("ConditionalCheckFailed", "None", item=old))

    with pytest.raises(db.TransactionCancelled) as err:
        db.transact_write(ITEMS)

    first, second = err.value.reasons
    assert first.condition_failed
    assert first.item == {"PK": "a", "SK": "b", "balance": 7}
    assert not second.condition_failed
    assert second.item is None


def test_a_conflict_beside_a_failed_condition_is_an_answer_not_a_retry(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "transact_write_items", **cancelled("ConditionalCheckFailed", "TransactionConflict")
    )

    with pytest.raises(db.TransactionCancelled):
        db.transact_write(ITEMS)


def test_an_unreachable_or_slow_table_is_a_503_saying_the_outcome_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ReadTimeoutError

    def timeout(**kwargs: Any) -> None:
        raise ReadTimeoutError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(db.client(), "transact_write_items", timeout)

    with pytest.raises(ServiceUnavailable) as err:
        db.transact_write(ITEMS)

    assert err.value.details == {"reason": "storage unreachable", "outcome": "unknown"}


def test_a_position_without_a_reason_reads_as_none(stubbed: Stubber) -> None:
    stubbed.add_client_error("transact_write_items", **cancelled("ValidationError"))

    with pytest.raises(db.TransactionCancelled) as err:
        db.transact_write(ITEMS)

    assert err.value.reason(0) == db.Reason("ValidationError", None)
    assert err.value.reason(3) == db.Reason("None", None)
    assert not err.value.reason(3).condition_failed
