"""SQS event sources: poll each queue, invoke its function with a batch, delete what succeeded.

moto does not invoke Lambda from SQS, so the runner does what Lambda's poller does. A message that is
not deleted becomes visible again after the queue's visibility timeout; after maxReceiveCount receives
moto's redrive moves it to the dead-letter queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from devkit.local.backend import QueueInfo
from devkit.local.events import sqs_event
from devkit.local.runtime import LoadedFunction
from devkit.template import SqsEventSourceDef

logger = logging.getLogger(__name__)

MAX_BATCH_SIZE = 10
_ERROR_BACKOFF_SECONDS = 1.0


def failed_message_ids(
    message_ids: Sequence[str], response: Any, *, raised: bool, report_batch_item_failures: bool
) -> set[str]:
    """The messages Lambda would leave on the queue after an invocation.

    With ReportBatchItemFailures, an empty or missing batchItemFailures means success and anything
    malformed (or naming an unknown message) fails the whole batch.
    """
    everything = set(message_ids)
    if raised:
        return everything
    if not report_batch_item_failures or response is None:
        return set()
    if not isinstance(response, dict):
        return everything

    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything

    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if not all(isinstance(identifier, str) and identifier in everything for identifier in identifiers):
        return everything
    return {str(identifier) for identifier in identifiers}


class QueueWorker:
    """One daemon thread that drains one queue into one function."""

    def __init__(
        self,
        source: SqsEventSourceDef,
        function: LoadedFunction,
        queue: QueueInfo,
        sqs: Any,
        wait_seconds: int = 1,
    ) -> None:
        self.source = source
        self.function = function
        self.queue = queue
        self._sqs = sqs
        self._wait_seconds = wait_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"worker-{function.name}", daemon=True)

    def start(self) -> QueueWorker:
        self._thread.start()
        logger.info("worker started function=%s queue=%s", self.function.name, self.queue.name)
        return self

    def request_stop(self) -> None:
        self._stopping.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def poll_once(self) -> int:
        """Receive one batch, invoke the function, delete the successes; returns the batch size."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(self.source.batch_size, MAX_BATCH_SIZE),
            WaitTimeSeconds=self._wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0

        failed = self._invoke(messages)
        self._delete([message for message in messages if message["MessageId"] not in failed])
        return len(messages)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("worker poll failed function=%s", self.function.name)
                self._stopping.wait(_ERROR_BACKOFF_SECONDS)

    def _invoke(self, messages: Sequence[Mapping[str, Any]]) -> set[str]:
        response, raised = None, False
        try:
            response = self.function.invoke(sqs_event(messages, self.queue.arn))
        except Exception:
            logger.exception("worker handler failed function=%s", self.function.name)
            raised = True

        failed = failed_message_ids(
            [message["MessageId"] for message in messages],
            response,
            raised=raised,
            report_batch_item_failures=self.source.report_batch_item_failures,
        )
        logger.info(
            "worker batch done function=%s received=%d failed=%d",
            self.function.name,
            len(messages),
            len(failed),
        )
        return failed

    def _delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_BATCH_SIZE):
            batch = messages[start : start + MAX_BATCH_SIZE]
            entries = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(batch)
            ]
            result = self._sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)
            for failure in result.get("Failed", []):
                logger.warning(
                    "worker delete failed function=%s code=%s", self.function.name, failure.get("Code")
                )


def start_workers(
    sources: Sequence[SqsEventSourceDef],
    functions: Mapping[str, LoadedFunction],
    queues: Mapping[str, QueueInfo],
    sqs: Any,
    wait_seconds: int = 1,
) -> list[QueueWorker]:
    """Start a worker for every enabled event source whose queue exists locally."""
    workers = []
    for source in sources:
        if not source.enabled:
            continue
        if source.queue not in queues:
            logger.warning("worker skipped, queue not created locally function=%s", source.function)
            continue
        worker = QueueWorker(source, functions[source.function], queues[source.queue], sqs, wait_seconds)
        workers.append(worker.start())
    return workers


def stop_workers(workers: Sequence[QueueWorker]) -> None:
    for worker in workers:
        worker.request_stop()
    for worker in workers:
        worker.stop()
