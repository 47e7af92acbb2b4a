"""POST and GET /customer/tickets: field rules, unique numbers, the ticket_created email, and a listing
that pages newest first without duplicates or gaps."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from craiverse import db, notifications, tickets, users
from tests.conftest import DEMO_USER, OTHER_USER, invoke_function, load_event
from tests.integration.handlers import SERVICE, STRANGER, USER, call, context, queued_emails

REQUIRED = {"subject": "Issue with payment", "description": "Charged twice."}


def open_ticket(
    user_id: str = DEMO_USER, caller: dict[str, str] = USER, **fields: Any
) -> tuple[int, dict[str, Any]]:
    body = {"user_id": user_id, **REQUIRED, **fields}
    status, answer, _ = call("customer_tickets_create", body=body, caller=caller)
    return status, answer


def list_tickets(caller: dict[str, str] = USER, **query: str) -> tuple[int, dict[str, Any]]:
    status, body, _ = call("customer_tickets_list", query={"user_id": DEMO_USER, **query}, caller=caller)
    return status, body


def all_pages(limit: int, **query: str) -> Iterator[list[dict[str, Any]]]:
    cursor: dict[str, str] = {}
    while True:
        status, body = list_tickets(limit=str(limit), **query, **cursor)
        assert status == 200, body
        yield body["tickets"]
        if body["next_cursor"] is None:
            return
        cursor = {"cursor": body["next_cursor"]}


def close(ticket: dict[str, Any]) -> None:
    db.update(
        users.pk(ticket["user_id"]),
        tickets.ticket_sk(ticket["ticket_id"]),
        "SET #status = :closed",
        {":closed": "closed"},
        names={"#status": "status"},
    )


def test_a_new_ticket_is_201_open_numbered_with_defaults_and_queues_its_email(
    accounts: tuple[str, str],
) -> None:
    status, body = open_ticket(subject="  Issue with payment ")

    assert status == 201
    assert tickets.NUMBER_PATTERN.fullmatch(body["ticket_number"])
    assert body == {
        "ticket_id": body["ticket_id"],
        "ticket_number": body["ticket_number"],
        "user_id": DEMO_USER,
        "subject": "Issue with payment",
        "description": "Charged twice.",
        "priority": "medium",
        "category": "general",
        "status": "open",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert queued_emails() == [
        {
            "template": "ticket_created",
            "user_id": DEMO_USER,
            "data": {
                "ticket_number": body["ticket_number"],
                "subject": "Issue with payment",
                "priority": "medium",
            },
        }
    ]


def test_the_sample_event_opens_a_high_priority_billing_ticket(accounts: tuple[str, str]) -> None:
    status, body, _ = call("customer_tickets_create")

    assert status == 201
    assert (body["priority"], body["category"], body["subject"]) == ("high", "billing", "Issue with payment")


def test_every_priority_and_category_is_accepted(accounts: tuple[str, str]) -> None:
    priorities = ["low", "medium", "high", "urgent", "urgent", "low"]
    categories = ["billing", "technical", "account", "feature_request", "bug_report", "general"]

    for priority, category in zip(priorities, categories, strict=True):
        status, body = open_ticket(priority=priority, category=category)
        assert status == 201
        assert (body["priority"], body["category"]) == (priority, category)


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "abc"},
        {"subject": "s" * 200},
        {"description": "d"},
        {"description": "d" * 10_000},
        {"description": "Steps:\n\t1. pay\r\n\t2. see it twice"},
    ],
)
def test_subjects_of_3_to_200_and_descriptions_of_1_to_10000_characters_are_accepted(
    accounts: tuple[str, str], fields: dict[str, str]
) -> None:
    status, body = open_ticket(**fields)

    assert status == 201
    for name, value in fields.items():
        assert body[name] == value


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": "ab"}, "subject"),
        ({"subject": "  ab  "}, "subject"),
        ({"subject": "s" * 201}, "subject"),
        ({"subject": "Line\nbreak"}, "subject"),
        ({"subject": 123}, "subject"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "d" * 10_001}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"description": None}, "description"),
        ({"priority": "critical"}, "priority"),
        ({"priority": "HIGH"}, "priority"),
        ({"priority": None}, "priority"),
        ({"category": "sales"}, "category"),
        ({"category": ""}, "category"),
        ({"status": "closed"}, "status"),
        ({"ticket_number": "TKT-00000000"}, "ticket_number"),
    ],
)
def test_bad_ticket_fields_are_400_and_write_nothing(
    accounts: tuple[str, str], fields: dict[str, Any], field: str
) -> None:
    status, body = open_ticket(**fields)

    assert status == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in body["details"]["fields"]] == [field]
    assert list_tickets()[1]["tickets"] == []
    assert queued_emails() == []


def test_missing_subject_and_description_are_both_named(accounts: tuple[str, str]) -> None:
    status, body, _ = call("customer_tickets_create", body={"user_id": DEMO_USER})

    assert status == 400
    assert [f["field"] for f in body["details"]["fields"]] == ["subject", "description"]


def test_ticket_numbers_are_unique_and_a_taken_number_is_drawn_again(
    accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["TKT-AAAAAAAA", "TKT-AAAAAAAA", "TKT-BBBBBBBB"])
    monkeypatch.setattr(tickets, "new_number", lambda: next(draws))

    _, first = open_ticket()
    status, second = open_ticket(OTHER_USER, caller=SERVICE)

    assert (first["ticket_number"], second["ticket_number"]) == ("TKT-AAAAAAAA", "TKT-BBBBBBBB")
    assert status == 201
    assert [t["ticket_number"] for t in list_tickets(SERVICE, user_id=OTHER_USER)[1]["tickets"]] == [
        "TKT-BBBBBBBB"
    ]


def test_a_ticket_for_an_unknown_user_is_404_and_claims_no_number(
    accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tickets, "new_number", lambda: "TKT-CCCCCCCC")

    status, body = open_ticket(STRANGER, caller=SERVICE)

    assert status == 404
    assert body["details"] == {"user_id": STRANGER}
    assert db.get(tickets.number_pk("TKT-CCCCCCCC"), tickets.NUMBER_SK) is None
    assert open_ticket()[1]["ticket_number"] == "TKT-CCCCCCCC"


def test_a_user_key_cannot_open_or_list_another_users_tickets(accounts: tuple[str, str]) -> None:
    status, body = open_ticket(OTHER_USER)
    assert status == 403
    assert body["details"] == {"field": "user_id"}

    assert list_tickets(user_id=OTHER_USER)[0] == 403


def test_scopes_separate_reading_from_opening_tickets(accounts: tuple[str, str]) -> None:
    reader = context("service", "helpdesk", "tickets:read")

    status, body = open_ticket(caller=reader)
    assert status == 403
    assert body["details"] == {"required_scope": "tickets:write"}
    assert list_tickets(reader)[0] == 200


def test_tickets_are_listed_newest_first_with_a_default_page_of_20(accounts: tuple[str, str]) -> None:
    numbers = [open_ticket(subject=f"Ticket number {i}")[1]["ticket_number"] for i in range(22)]

    status, body = list_tickets()

    assert status == 200
    assert [t["ticket_number"] for t in body["tickets"]] == numbers[::-1][:20]
    assert body["next_cursor"]
    _, rest = list_tickets(cursor=body["next_cursor"])
    assert [t["ticket_number"] for t in rest["tickets"]] == numbers[1::-1]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("limit", [1, 3, 4, 7, 100])
def test_paging_through_every_ticket_has_no_duplicates_or_gaps(accounts: tuple[str, str], limit: int) -> None:
    numbers = [open_ticket(subject=f"Ticket number {i}")[1]["ticket_number"] for i in range(7)]

    pages = list(all_pages(limit))

    assert [t["ticket_number"] for page in pages for t in page] == numbers[::-1]
    assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= limit


def test_the_status_filter_pages_through_only_matching_tickets(accounts: tuple[str, str]) -> None:
    opened = [open_ticket(subject=f"Ticket number {i}")[1] for i in range(10)]
    for ticket in opened[::3]:
        close(ticket)
    still_open = [t["ticket_number"] for t in opened if t not in opened[::3]][::-1]

    pages = list(all_pages(2, status="open"))
    closed = [t["ticket_number"] for page in all_pages(2, status="closed") for t in page]

    assert [t["ticket_number"] for page in pages for t in page] == still_open
    assert {t["status"] for page in pages for t in page} == {"open"}
    assert closed == [t["ticket_number"] for t in opened[::3]][::-1]
    assert list_tickets(status="resolved")[1] == {"tickets": [], "next_cursor": None}


def test_a_user_without_tickets_gets_an_empty_page(accounts: tuple[str, str]) -> None:
    assert list_tickets() == (200, {"tickets": [], "next_cursor": None})


def test_listing_an_unknown_users_tickets_is_404(accounts: tuple[str, str]) -> None:
    status, body = list_tickets(SERVICE, user_id=STRANGER)

    assert status == 404
    assert body["details"] == {"user_id": STRANGER}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "ten", "1e2", " 5", "+5", "\u0665"])
def test_a_limit_outside_1_to_100_or_not_a_whole_number_is_400(accounts: tuple[str, str], limit: str) -> None:
    status, body = list_tickets(limit=limit)

    assert status == 400
    assert [f["field"] for f in body["details"]["fields"]] == ["limit"]


def test_an_unknown_status_filter_or_parameter_is_400(accounts: tuple[str, str]) -> None:
    assert [f["field"] for f in list_tickets(status="pending")[1]["details"]["fields"]] == ["status"]
    assert [f["field"] for f in list_tickets(sort="asc")[1]["details"]["fields"]] == ["sort"]


def cursor_after_first_page(caller: dict[str, str] = USER, **query: str) -> str:
    _, body = list_tickets(caller, limit="1", **query)
    cursor: str = body["next_cursor"]
    assert cursor
    return cursor


def test_a_tampered_cursor_is_400(accounts: tuple[str, str]) -> None:
    for _ in range(2):
        open_ticket()
    cursor = cursor_after_first_page()
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]

    for bad in [
        flipped,
        cursor + "x",
        cursor.split(".")[0],
        "not-a-cursor",
        "e30.e30",
        cursor.replace(".", "!"),
    ]:
        status, body = list_tickets(cursor=bad)
        assert status == 400, bad
        assert body["details"]["fields"][0]["field"] == "cursor"


def test_a_cursor_from_another_users_listing_or_another_filter_is_400(accounts: tuple[str, str]) -> None:
    for user_id in (DEMO_USER, OTHER_USER, DEMO_USER, OTHER_USER):
        open_ticket(user_id, caller=SERVICE)
    others = cursor_after_first_page(SERVICE, user_id=OTHER_USER)
    open_only = cursor_after_first_page(status="open")

    assert list_tickets(SERVICE, cursor=others)[0] == 400
    assert list_tickets(cursor=open_only)[0] == 400
    assert list_tickets(status="open", cursor=open_only)[0] == 200


def test_only_handlers_that_send_email_build_an_sqs_client(accounts: tuple[str, str]) -> None:
    notifications.client.cache_clear()
    call("user_profile_get")
    call("customer_dashboard")
    call("customer_tickets_list")
    assert notifications.client.cache_info().currsize == 0

    open_ticket()

    assert notifications.client.cache_info().currsize == 1


def open_with_key(key: str, **fields: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    event = load_event("customer_tickets_create")
    event["body"] = json.dumps({"user_id": DEMO_USER, **REQUIRED, **fields})
    event["requestContext"]["authorizer"] = USER
    event["multiValueHeaders"]["Idempotency-Key"] = [key]
    return invoke_function("customer_tickets_create", event)


def test_a_retry_with_its_idempotency_key_answers_the_first_ticket_and_opens_no_other(
    accounts: tuple[str, str],
) -> None:
    status, first, _ = open_with_key("ticket-retry-1")
    queued_emails()

    again_status, again, headers = open_with_key("ticket-retry-1")

    assert (status, again_status) == (201, 201)
    assert again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert [t["ticket_id"] for t in list_tickets()[1]["tickets"]] == [first["ticket_id"]]
    assert queued_emails() == []


def test_an_idempotency_key_reused_for_another_ticket_conflicts_and_opens_nothing(
    accounts: tuple[str, str],
) -> None:
    open_with_key("ticket-retry-2")

    status, body, _ = open_with_key("ticket-retry-2", subject="Another problem")

    assert status == 409
    assert body["code"] == "CONFLICT"
    assert len(list_tickets()[1]["tickets"]) == 1
